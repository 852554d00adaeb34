"""The simulator's in-memory tenant: entities per collection, safe across handler threads.

``ThreadingHTTPServer`` answers each connection on its own thread, so every read and
write goes through one lock, and callers only ever receive copies: a test holding a dict
must not see (or cause) a change behind the server's back.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Iterable, Mapping
from typing import Any

Entity = dict[str, Any]


class Store:
    """Entities keyed by collection path, then by id, in insertion order.

    Ids are compared case-insensitively, as Graph does for GUID keys, while the id is
    returned with the casing it was stored with.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._collections: dict[str, dict[str, Entity]] = {}

    def replace_all(self, contents: Mapping[str, Iterable[Entity]]) -> None:
        """Swap in a whole new tenant atomically (scenario load)."""
        fresh = {
            path: {str(e["id"]).lower(): copy.deepcopy(e) for e in entities}
            for path, entities in contents.items()
        }
        with self._lock:
            self._collections = fresh

    def list_all(self, path: str) -> list[Entity]:
        with self._lock:
            return copy.deepcopy(list(self._collections.get(path, {}).values()))

    def get(self, path: str, entity_id: str) -> Entity | None:
        with self._lock:
            found = self._collections.get(path, {}).get(entity_id.lower())
            return copy.deepcopy(found) if found is not None else None

    def insert(self, path: str, entity: Entity) -> bool:
        """Add ``entity``; False (and no change) when its id is taken."""
        key = str(entity["id"]).lower()
        with self._lock:
            collection = self._collections.setdefault(path, {})
            if key in collection:
                return False
            collection[key] = copy.deepcopy(entity)
            return True

    def put(self, path: str, entity: Entity) -> None:
        """Insert or replace (test helper: change the tenant between two sweeps)."""
        with self._lock:
            self._collections.setdefault(path, {})[str(entity["id"]).lower()] = copy.deepcopy(entity)

    def merge(self, path: str, entity_id: str, values: Entity) -> Entity | None:
        """PATCH semantics: set only the given properties; None when the id is unknown."""
        with self._lock:
            found = self._collections.get(path, {}).get(entity_id.lower())
            if found is None:
                return None
            found.update(copy.deepcopy(values))
            return copy.deepcopy(found)

    def delete(self, path: str, entity_id: str) -> bool:
        with self._lock:
            return self._collections.get(path, {}).pop(entity_id.lower(), None) is not None
