"""The composition root: settings and the I/O modules built from them, once per process."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from shared import settings as settings_module
from shared.graph_gateway import GraphGateway
from shared.notifier import Channel, channels_from_settings
from shared.settings import Settings
from shared.store import StateStore


@dataclass(frozen=True)
class Services:
    settings: Settings
    graph: GraphGateway
    store: StateStore
    channels: list[Channel]


@functools.cache
def services() -> Services:
    """Raises settings.SettingsError, listing every problem, when the app is misconfigured."""
    settings = settings_module.load()
    return Services(
        settings=settings,
        graph=GraphGateway.from_settings(settings),
        store=StateStore.from_settings(settings),
        channels=channels_from_settings(settings),
    )


def reset() -> None:
    """Forget the built services (tests and the demo change settings between runs)."""
    services.cache_clear()
