"""The composition root: settings and the I/O modules built from them, once per process.

Importing it loads only the settings registry: the adapters (msgraph-sdk, azure-data-tables,
httpx) are imported inside ``services()``, on the first trigger that needs them, so that
``import function_app`` (every trigger imports ``services``) stays free of them (issue 15)."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING

from shared import settings as settings_module

if TYPE_CHECKING:
    from azure.core.credentials import TokenCredential

    from shared.alerting.channels import Channel
    from shared.graph.gateway import GraphGateway
    from shared.settings import Settings
    from shared.store.state import StateStore


@dataclass(frozen=True)
class Services:
    """What every trigger works with, built once per process by ``services()`` from the settings:
    the Graph gateway, the state store and the configured alert channels."""

    settings: Settings
    graph: GraphGateway
    store: StateStore
    channels: list[Channel]


@functools.cache
def _azure_credential(client_id: str | None) -> TokenCredential:
    """One credential for Graph and storage, so one token cache and one probe of the chain.

    Built only when something needs it: azure-identity costs about 0.4 s to import, which a run
    against the simulator and Azurite never pays. AZURE_CLIENT_ID selects the user-assigned managed
    identity in Azure; locally environment credentials or `az login` work. Cached per process so
    tokens survive from one invocation to the next."""
    from azure.identity import DefaultAzureCredential

    return DefaultAzureCredential(managed_identity_client_id=client_id)


@functools.cache
def services() -> Services:
    """Raises settings.SettingsError, listing every problem, when the app is misconfigured."""
    from shared.alerting.channels import channels_from_settings
    from shared.graph.gateway import GraphGateway
    from shared.store.state import StateStore

    settings = settings_module.load()

    def credential() -> TokenCredential:
        return _azure_credential(settings.managed_identity_client_id)

    return Services(
        settings=settings,
        graph=GraphGateway.from_settings(settings, credential),
        store=StateStore.connect(
            connection_string=settings.storage_connection_string,
            endpoint=settings.table_service_uri,
            credential=credential,
        ),
        channels=channels_from_settings(settings),
    )


def reset() -> None:
    """Forget the built services (tests and the demo change settings between runs)."""
    services.cache_clear()
