"""A real state store with something happening meanwhile: the moment a run has read the tenant's
state and not yet written it, when another run or a person acts (an overlapping timer run, an
acknowledgement)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from azure.data.tables import TableServiceClient

from shared.store.rows import RowKind, Select
from shared.store.state import StateStore


class ActsAfterFirstRead(StateStore):
    """The real store (over ``service``); right after its first partition read that selects
    ``kind``, ``meanwhile()`` runs, once."""

    def __init__(
        self, service: TableServiceClient, kind: RowKind[Any], meanwhile: Callable[[], None]
    ) -> None:
        super().__init__(service)
        self._kind, self._meanwhile, self._acted = kind, meanwhile, False

    def read(self, tenant_id: str, selects: Sequence[Select]) -> dict[RowKind[Any], list[tuple[Any, str]]]:
        seen = super().read(tenant_id, selects)
        if not self._acted and any(s.kind is self._kind for s in selects):
            self._acted = True
            self._meanwhile()
        return seen
