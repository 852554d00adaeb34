"""The one way MTD Guard talks to Microsoft Graph: msgraph-sdk request builders and its middleware.

Requests are built by the SDK's request builders and sent through the SDK's request adapter with its
default middleware (authentication, retry honouring ``Retry-After`` for 429/503/504, redirects,
telemetry). Response bodies are taken as bytes and mapped to our own dataclasses instead of the
SDK's generated models: the first model parse imports ~1,240 generated modules (about 1.4 s and
35 MB on every cold start), the fields we need are a handful, and the SDK's parse raises on one
unreadable timestamp, failing the whole list, where we must judge that one connector "unknown".
Tests prove the Graph simulator's payloads parse into the SDK models, so the two views of the
schema cannot drift apart unnoticed.

Public methods are synchronous, so Functions' sync handlers (run on worker threads) can call them
directly. Each gateway builds ONE request adapter (httpx client, SDK middleware, connection pool,
TLS context) on first use and keeps it for the life of the process; every call runs as a coroutine
on one event loop of the process (``_GraphLoop``) that outlives the call.

Time: each public call is bounded in TOTAL (every page, retry and byte of the body; httpx's own
timeouts are per read) by ``CALL_SECONDS`` or what is left of the invocation's budget
(shared/deadline.py), whichever ends first; past it the call is a transient ``Timeout``. The SDK's
retry handler sleeps for a ``Retry-After`` only when the wait and a new attempt fit in that time;
otherwise the throttled answer itself ends the call (a transient GraphError with ``retry_after``).
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import json
import logging
import threading
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar
from urllib.parse import urlsplit

import httpx

from shared import deadline
from shared.graph.app_protection_policies import (
    AppProtectionPolicy,
    MalformedAppProtectionPolicy,
    app_protection_from_graph,
)
from shared.graph.compliance_policies import (
    CompliancePolicy,
    MalformedCompliancePolicy,
    compliance_policy_from_graph,
)
from shared.graph.conditional_access_policies import CaPolicy, MalformedPolicy, policy_from_graph
from shared.graph.connectors import ConnectorReading, MalformedConnector, reading_from_graph
from shared.graph.directory_audits import AuditEvent, MalformedAuditEvent, event_from_graph
from shared.graph.entries import collapse, shown
from shared.graph.errors import GraphError
from shared.graph.intune_audit_events import (
    IntuneAuditEvent,
    MalformedIntuneAuditEvent,
    intune_event_from_graph,
)
from shared.retry_after import retry_after_seconds

if TYPE_CHECKING:
    from azure.core.credentials import TokenCredential
    from kiota_abstractions.request_adapter import RequestAdapter
    from kiota_abstractions.request_information import RequestInformation
    from kiota_http.middleware.middleware import BaseMiddleware

log = logging.getLogger(__name__)
T = TypeVar("T")

API_VERSIONS = ("v1.0", "beta")
_TIMEOUT = httpx.Timeout(30.0, connect=10.0)  # per connect / read; the whole call: CALL_SECONDS
CALL_SECONDS = 120.0  # one public call at most, all pages and retries included
# How long ``begin_list_connectors`` waits for its request to leave: long enough for kiota to build
# it (a few ms warm), short enough that a token fetch or a cold adapter delays the caller little.
LEAVING_WAIT_SECONDS = 0.02
_MAX_PAGES = 1000  # last resort: repeated links and pages stop paging long before this


class GraphSettings(Protocol):
    """What the gateway reads of the app's settings (shared.settings.Settings has these), named
    structurally so the adapter does not import the settings registry."""

    @property
    def graph_endpoint(self) -> str:
        """Graph's root without version, e.g. https://graph.microsoft.com."""

    @property
    def graph_api_version(self) -> str:
        """One of API_VERSIONS."""

    @property
    def graph_is_loopback(self) -> bool:
        """The endpoint is a local simulator: no token is sent at all."""


@dataclass(frozen=True)
class ConnectorList:
    """Every MTD connector Graph listed, and the entries that could not be read as one."""

    readings: list[ConnectorReading]
    problems: list[str] = field(default_factory=list)  # every oddity below, and repeated entries
    unjudgeable: list[str] = field(default_factory=list)  # entries that were not connectors at all
    anomaly: str | None = None  # paging stopped early: the list may be incomplete


@dataclass(frozen=True)
class AuditList:
    """The directory audit events of a time window, and the entries that could not be read."""

    events: list[AuditEvent]
    problems: list[str] = field(default_factory=list)  # every oddity below, and repeated entries
    unjudgeable: list[str] = field(default_factory=list)  # entries that were not usable events
    anomaly: str | None = None  # paging stopped early: the window may be incomplete


@dataclass(frozen=True)
class IntuneAuditList:
    """Intune's audit events of a time window, and the entries that could not be read."""

    events: list[IntuneAuditEvent]
    problems: list[str] = field(default_factory=list)
    unjudgeable: list[str] = field(default_factory=list)
    anomaly: str | None = None


@dataclass(frozen=True)
class PolicyList:
    """Every modern Conditional Access policy, and the entries that were not policies."""

    policies: list[CaPolicy]
    problems: list[str] = field(default_factory=list)  # every oddity below, and repeated entries
    unjudgeable: list[str] = field(default_factory=list)  # entries that were not policies
    anomaly: str | None = None  # paging stopped early: the list may be incomplete


@dataclass(frozen=True)
class ComplianceList:
    """Every device compliance policy, and the entries that were not policies."""

    policies: list[CompliancePolicy]
    problems: list[str] = field(default_factory=list)
    unjudgeable: list[str] = field(default_factory=list)
    anomaly: str | None = None


@dataclass
class AppProtectionList:
    """Every iOS/iPadOS and Android app protection policy, and the entries that were not."""

    policies: list[AppProtectionPolicy]
    problems: list[str] = field(default_factory=list)
    unjudgeable: list[str] = field(default_factory=list)
    anomaly: str | None = None


class GraphGateway:
    """Microsoft Graph for MTD Guard: connectors, directory audits, Conditional Access policies,
    device compliance and app protection policies.

    Every method raises ``GraphError`` (status, Graph's code and message) when the call fails for
    good, after the SDK's retries; a malformed entry of a list is skipped and named in the list's
    ``problems`` instead. ``endpoint`` is the Graph root without version
    (``https://graph.microsoft.com`` or a simulator); ``credential`` None sends no token.
    Raises ValueError for an ``api_version`` not in API_VERSIONS.
    """

    def __init__(
        self,
        endpoint: str,
        *,
        api_version: str = "v1.0",
        credential: TokenCredential | None = None,
    ) -> None:
        if api_version not in API_VERSIONS:
            raise ValueError(f"api_version must be one of {API_VERSIONS}")
        self.endpoint = endpoint.rstrip("/")
        self.api_version = api_version
        self._credential = credential
        self._adapter: RequestAdapter | None = None  # built on first use, only ever on _GraphLoop

    @classmethod
    def from_settings(
        cls, settings: GraphSettings, credential: Callable[[], TokenCredential]
    ) -> GraphGateway:
        """The app's credential (managed identity in Azure); none at all for a loopback simulator."""
        token = None if settings.graph_is_loopback else credential()
        return cls(settings.graph_endpoint, api_version=settings.graph_api_version, credential=token)

    # -- connectors -------------------------------------------------------------------------

    def list_connectors(self) -> ConnectorList:
        """Every MTD connector, following @odata.nextLink to the end."""
        return self._run("read connectors", self._list_connectors)

    def begin_list_connectors(self) -> Future[ConnectorList]:
        """``list_connectors`` started on the Graph loop: returns once its first request is
        leaving (or the call ended, or ``LEAVING_WAIT_SECONDS`` passed), so the caller's own I/O,
        started next, does not hold it back. The future's ``result()`` is the list or raises
        GraphError, like ``list_connectors``."""
        return self._start("read connectors", self._list_connectors)

    async def _list_connectors(self, adapter: RequestAdapter) -> ConnectorList:
        builder = _connectors_builder(adapter)
        pages = await _all_pages(
            adapter,
            builder,
            builder.to_get_request_information(),
            "read connectors",
            parse=reading_from_graph,
            malformed=MalformedConnector,
            what="connector",
            key=lambda r: r.id,
        )
        return ConnectorList(pages.items, pages.problems, pages.unjudgeable, pages.anomaly)

    def get_connector(self, connector_id: str) -> dict[str, Any] | None:
        """One connector's JSON object as Graph sent it; None when it does not exist (404)."""
        try:
            return self._run("read the connector", functools.partial(self._get_connector, connector_id))
        except GraphError as exc:
            if exc.status == 404:
                return None
            raise

    async def _get_connector(self, connector_id: str, adapter: RequestAdapter) -> dict[str, Any]:
        info = _connector_builder(adapter, connector_id).to_get_request_information()
        return await _send_json(adapter, info, "read the connector")

    def create_connector(self, body: dict[str, Any]) -> dict[str, Any]:
        """POST a new connector (camelCase Graph properties, ``id`` included); Graph's answer."""
        return self._run("create the connector", functools.partial(self._create_connector, body))

    async def _create_connector(self, body: dict[str, Any], adapter: RequestAdapter) -> dict[str, Any]:
        from kiota_abstractions.method import Method

        info = _connectors_builder(adapter).to_get_request_information()
        _with_json_body(info, Method.POST, body)
        return await _send_json(adapter, info, "create the connector")

    def update_connector(self, connector_id: str, changes: dict[str, Any]) -> None:
        """PATCH only ``changes`` (Graph merges); 200-with-body and 204 both mean done."""
        self._run("update the connector", functools.partial(self._update_connector, connector_id, changes))

    async def _update_connector(
        self, connector_id: str, changes: dict[str, Any], adapter: RequestAdapter
    ) -> None:
        from kiota_abstractions.method import Method
        from msgraph.generated.models.o_data_errors.o_data_error import ODataError

        info = _connector_builder(adapter, connector_id).to_get_request_information()
        _with_json_body(info, Method.PATCH, changes)
        await adapter.send_no_response_content_async(info, {"XXX": ODataError})

    def delete_connector(self, connector_id: str) -> bool:
        """DELETE one connector; False when it did not exist (404), True when Graph deleted it."""
        try:
            self._run("delete the connector", functools.partial(self._delete_connector, connector_id))
        except GraphError as exc:
            if exc.status == 404:
                return False
            raise
        return True

    async def _delete_connector(self, connector_id: str, adapter: RequestAdapter) -> None:
        from kiota_abstractions.method import Method
        from msgraph.generated.models.o_data_errors.o_data_error import ODataError

        info = _connector_builder(adapter, connector_id).to_get_request_information()
        info.http_method = Method.DELETE
        await adapter.send_no_response_content_async(info, {"XXX": ODataError})

    # -- Conditional Access drift -------------------------------------------------------------

    def list_directory_audits(
        self, since: datetime, until: datetime, equals: Mapping[str, str] | None = None
    ) -> AuditList:
        """Directory audit events with ``since <= activityDateTime <= until`` (and each
        ``property eq 'value'`` of ``equals``), every page to the end, oldest first.
        Needs AuditLog.Read.All and Directory.Read.All (hints: errors.READ_DIRECTORY_AUDITS)."""
        flt = f"activityDateTime ge {_odata_time(since)} and activityDateTime le {_odata_time(until)}"
        for name, value in sorted((equals or {}).items()):
            quoted = value.replace("'", "''")
            flt += f" and {name} eq '{quoted}'"
        return self._run("read the directory audit log", functools.partial(self._list_audits, flt))

    async def _list_audits(self, flt: str, adapter: RequestAdapter) -> AuditList:
        from kiota_abstractions.base_request_configuration import RequestConfiguration
        from msgraph.generated.audit_logs.directory_audits import directory_audits_request_builder as m

        builder = m.DirectoryAuditsRequestBuilder(adapter, {})
        query = m.DirectoryAuditsRequestBuilder.DirectoryAuditsRequestBuilderGetQueryParameters(
            filter=flt, orderby=["activityDateTime asc"]
        )
        info = builder.to_get_request_information(RequestConfiguration(query_parameters=query))
        pages = await _all_pages(
            adapter,
            builder,
            info,
            "read the directory audit log",
            parse=event_from_graph,
            malformed=MalformedAuditEvent,
            what="audit event",
            key=lambda e: e.id,
        )
        return AuditList(pages.items, pages.problems, pages.unjudgeable, pages.anomaly)

    def list_intune_audit_events(self, since: datetime, until: datetime) -> IntuneAuditList:
        """Intune's audit events with ``since <= activityDateTime <= until``, every page, oldest
        first. Needs DeviceManagementApps.Read.All (hints: errors.READ_INTUNE_AUDIT_EVENTS)."""
        flt = f"activityDateTime ge {_odata_time(since)} and activityDateTime le {_odata_time(until)}"
        return self._run("read Intune's audit log", functools.partial(self._list_intune_audits, flt))

    async def _list_intune_audits(self, flt: str, adapter: RequestAdapter) -> IntuneAuditList:
        from kiota_abstractions.base_request_configuration import RequestConfiguration
        from msgraph.generated.device_management.audit_events import audit_events_request_builder as m

        builder = m.AuditEventsRequestBuilder(adapter, {})
        query = m.AuditEventsRequestBuilder.AuditEventsRequestBuilderGetQueryParameters(filter=flt)
        info = builder.to_get_request_information(RequestConfiguration(query_parameters=query))
        pages = await _all_pages(
            adapter,
            builder,
            info,
            "read Intune's audit log",
            parse=intune_event_from_graph,
            malformed=MalformedIntuneAuditEvent,
            what="Intune audit event",
            key=lambda e: e.id,
        )
        events = sorted(pages.items, key=lambda e: e.activity_at)
        return IntuneAuditList(events, pages.problems, pages.unjudgeable, pages.anomaly)

    def list_ca_policies(self) -> PolicyList:
        """Every modern Conditional Access policy, every page. Needs Policy.Read.All
        (hints: errors.READ_CA_POLICIES)."""
        return self._run("read Conditional Access policies", self._list_policies)

    async def _list_policies(self, adapter: RequestAdapter) -> PolicyList:
        from msgraph.generated.identity.conditional_access.policies import policies_request_builder as m

        builder = m.PoliciesRequestBuilder(adapter, {})
        pages = await _all_pages(
            adapter,
            builder,
            builder.to_get_request_information(),
            "read Conditional Access policies",
            parse=policy_from_graph,
            malformed=MalformedPolicy,
            what="policy",
            key=lambda p: p.id,
        )
        return PolicyList(pages.items, pages.problems, pages.unjudgeable, pages.anomaly)

    # -- the enforcement chain: compliance and app protection policies -----------------------

    def list_compliance_policies(self) -> ComplianceList:
        """Every device compliance policy with its assignments (``$expand=assignments``), every
        page. Needs DeviceManagementConfiguration.Read.All (hints: errors.READ_COMPLIANCE_POLICIES).
        What the rule looks like per type and version: shared/graph/compliance_policies.py."""
        return self._run("read device compliance policies", self._list_compliance)

    async def _list_compliance(self, adapter: RequestAdapter) -> ComplianceList:
        from kiota_abstractions.base_request_configuration import RequestConfiguration
        from msgraph.generated.device_management.device_compliance_policies import (
            device_compliance_policies_request_builder as m,
        )

        builder = m.DeviceCompliancePoliciesRequestBuilder(adapter, {})
        query = (
            m.DeviceCompliancePoliciesRequestBuilder.DeviceCompliancePoliciesRequestBuilderGetQueryParameters(
                expand=["assignments"]
            )
        )
        pages = await _all_pages(
            adapter,
            builder,
            builder.to_get_request_information(RequestConfiguration(query_parameters=query)),
            "read device compliance policies",
            parse=functools.partial(compliance_policy_from_graph, api_version=self.api_version),
            malformed=MalformedCompliancePolicy,
            what="compliance policy",
            key=lambda p: p.id,
        )
        return ComplianceList(pages.items, pages.problems, pages.unjudgeable, pages.anomaly)

    def list_app_protection_policies(self) -> AppProtectionList:
        """Every iOS/iPadOS and Android app protection policy with its assignments, every page.
        Needs DeviceManagementApps.Read.All (hints: errors.READ_APP_PROTECTION). Their MTD settings
        are in the beta schema only: callers read them only when ``api_version`` is beta."""
        return self._run("read app protection policies", self._list_app_protection)

    async def _list_app_protection(self, adapter: RequestAdapter) -> AppProtectionList:
        from kiota_abstractions.base_request_configuration import RequestConfiguration
        from msgraph.generated.device_app_management.android_managed_app_protections import (
            android_managed_app_protections_request_builder as android,
        )
        from msgraph.generated.device_app_management.ios_managed_app_protections import (
            ios_managed_app_protections_request_builder as ios,
        )

        found = AppProtectionList([])
        ios_builder = ios.IosManagedAppProtectionsRequestBuilder
        android_builder = android.AndroidManagedAppProtectionsRequestBuilder
        for platform, cls, params in (
            ("iOS", ios_builder, ios_builder.IosManagedAppProtectionsRequestBuilderGetQueryParameters),
            (
                "android",
                android_builder,
                android_builder.AndroidManagedAppProtectionsRequestBuilderGetQueryParameters,
            ),
        ):
            builder = cls(adapter, {})
            query: Any = params(expand=["assignments"])
            info = builder.to_get_request_information(RequestConfiguration(query_parameters=query))
            pages = await _all_pages(
                adapter,
                builder,
                info,
                "read app protection policies",
                parse=functools.partial(app_protection_from_graph, platform=platform),
                malformed=MalformedAppProtectionPolicy,
                what=f"{platform} app protection policy",
                key=lambda p: p.id,
            )
            found.policies.extend(pages.items)
            found.problems.extend(pages.problems)
            found.unjudgeable.extend(pages.unjudgeable)
            found.anomaly = found.anomaly or pages.anomaly
        return found

    # -- plumbing ---------------------------------------------------------------------------

    def _run(self, operation: str, call: Callable[[RequestAdapter], Awaitable[T]]) -> T:
        return self._start(operation, call).result()

    def _start(self, operation: str, call: Callable[[RequestAdapter], Awaitable[T]]) -> Future[T]:
        """``call`` started on the Graph loop, once its first request is leaving (at most
        ``LEAVING_WAIT_SECONDS``); a call with no budget left has failed already."""
        seconds = deadline.remaining(CALL_SECONDS)  # read here: the caller's context holds the budget
        if seconds <= 0:
            ended: Future[T] = Future()
            ended.set_exception(_out_of_time(operation))
            return ended
        last = _LastAnswer()
        started = _GraphLoop.start(self._with_adapter(operation, call, seconds, last))
        started.add_done_callback(lambda _: last.leaving.set())  # ended before sending: no wait
        last.leaving.wait(LEAVING_WAIT_SECONDS)
        return started

    async def _with_adapter(
        self,
        operation: str,
        call: Callable[[RequestAdapter], Awaitable[T]],
        seconds: float,
        last: _LastAnswer,
    ) -> T:
        _LAST_ANSWER.set(last)  # this call's task only: concurrent calls share the client
        adapter = self._request_adapter()
        try:
            # Set again inside the task: the retry middleware reads it, on whatever loop runs this.
            with deadline.within(seconds):
                async with asyncio.timeout(seconds):
                    return await call(adapter)
        except GraphError:
            raise
        except TimeoutError as exc:  # asyncio.timeout: the whole call, not one read, took too long
            raise _out_of_time(operation, seconds) from exc
        except Exception as exc:  # every transport/parse failure becomes a GraphError
            raise _as_graph_error(operation, exc, last) from exc

    def _request_adapter(self) -> RequestAdapter:
        """The gateway's one request adapter, built on first use (on the gateway's loop) and kept:
        a new httpx client per call re-read the CA bundle (about 17 ms of CPU) and opened a new
        connection (TLS handshake) every time."""
        if self._adapter is None:
            from kiota_abstractions.api_client_builder import register_default_deserializer
            from kiota_serialization_json.json_parse_node_factory import JsonParseNodeFactory
            from msgraph.graph_request_adapter import GraphRequestAdapter
            from msgraph_core import GraphClientFactory

            # GraphServiceClient registers this; without it Graph's OData error bodies (code, message)
            # cannot be read and every failure says only "the error body could not be parsed".
            register_default_deserializer(JsonParseNodeFactory)
            client = httpx.AsyncClient(timeout=_TIMEOUT, event_hooks={"response": [_remember_answer]})
            http = GraphClientFactory.create_with_custom_middleware(middleware(), client=client)
            adapter = GraphRequestAdapter(self._auth_provider(), client=http)
            # Set after construction and without a trailing slash (see the reference notes).
            adapter.base_url = f"{self.endpoint}/{self.api_version}"
            self._adapter = adapter
        return self._adapter

    def _auth_provider(self) -> Any:
        if self._credential is None:
            from kiota_abstractions.authentication import AnonymousAuthenticationProvider

            return AnonymousAuthenticationProvider()
        from kiota_authentication_azure.azure_identity_authentication_provider import (
            AzureIdentityAuthenticationProvider,
        )

        host = urlsplit(self.endpoint).hostname or "graph.microsoft.com"
        return AzureIdentityAuthenticationProvider(
            self._credential, scopes=[f"https://{host}/.default"], allowed_hosts=[host]
        )


def middleware() -> list[BaseMiddleware]:
    """The SDK's default middleware (what ``GraphClientFactory.create_with_default_middleware``
    installs, with msgraph's options), its retry handler replaced by one that keeps to the time
    budget (shared/graph/retry.py)."""
    from kiota_http.kiota_client_factory import KiotaClientFactory
    from kiota_http.middleware import RetryHandler
    from msgraph.graph_request_adapter import options
    from msgraph_core.middleware import GraphTelemetryHandler
    from msgraph_core.middleware.options import GraphTelemetryHandlerOption

    from shared.graph.retry import RetryWithinBudget

    chain = [
        RetryWithinBudget(m.options) if isinstance(m, RetryHandler) else m
        for m in KiotaClientFactory.get_default_middleware(options)
    ]
    telemetry = options[GraphTelemetryHandlerOption.get_key()]
    assert isinstance(telemetry, GraphTelemetryHandlerOption)
    from shared.graph.leaving import SignalWhenLeaving

    return [*chain, GraphTelemetryHandler(telemetry), SignalWhenLeaving(_leaving)]


def _leaving() -> None:
    last = _LAST_ANSWER.get()
    if last is not None:
        last.leaving.set()


def _out_of_time(operation: str, seconds: float | None = None) -> GraphError:
    """The transient error of a call that did not end within its bound (``seconds``) or got none."""
    if seconds is None:
        return GraphError(
            operation, None, "Timeout", "no time left in this run's budget to call Microsoft Graph"
        )
    return GraphError(
        operation, None, "Timeout", f"Microsoft Graph did not finish answering within {seconds:.0f} s"
    )


def _connectors_builder(adapter: RequestAdapter) -> Any:
    from msgraph.generated.device_management.mobile_threat_defense_connectors import (
        mobile_threat_defense_connectors_request_builder as m,
    )

    return m.MobileThreatDefenseConnectorsRequestBuilder(adapter, {})


def _connector_builder(adapter: RequestAdapter, connector_id: str) -> Any:
    return _connectors_builder(adapter).by_mobile_threat_defense_connector_id(connector_id)


def _with_json_body(info: RequestInformation, method: Any, body: dict[str, Any]) -> None:
    """Turn a builder's GET request into a write carrying ``body`` as Graph's camelCase JSON.

    Serialised here rather than through the SDK's models: building a model pulls in the generated
    model tree (the cold-start cost the module docstring describes) for a handful of properties.
    """
    info.http_method = method
    info.set_stream_content(json.dumps(body, separators=(",", ":")).encode(), "application/json")


class _GraphLoop:
    """The process's one event loop for Graph calls, on a daemon thread started on first use.

    Why a loop of its own rather than ``asyncio.run`` per call: an httpx AsyncClient (and so the
    SDK's middleware chain around it) belongs to the loop it first ran on, and ``asyncio.run``
    closes its loop at the end of every call, so a client kept across calls needs a loop that
    outlives them. Why a thread rather than reusing the caller's loop: callers are sync handlers on
    the Functions worker's threads (several at once), which have no loop of their own and must not
    share one by turns; one long-lived loop on its own thread serves them all, concurrent calls
    included (each is its own task), and the caller's thread simply waits for its result."""

    _loop: asyncio.AbstractEventLoop | None = None
    _lock = threading.Lock()

    @classmethod
    def start(cls, coroutine: Coroutine[Any, Any, T]) -> Future[T]:
        """Start ``coroutine`` on the process's Graph loop (in a copy of the caller's context:
        its deadline and log fields); its result (or exception) comes in the future."""
        return asyncio.run_coroutine_threadsafe(coroutine, cls._running())

    @classmethod
    def _running(cls) -> asyncio.AbstractEventLoop:
        with cls._lock:
            if cls._loop is None:
                loop = asyncio.new_event_loop()
                threading.Thread(target=loop.run_forever, name="graph-loop", daemon=True).start()
                cls._loop = loop
            return cls._loop


@dataclass
class _LastAnswer:
    """What the retry middleware did with the last request: it retries 429/503/504 inside the
    transport, so only the final answer reaches the client; its request carries the count. And
    whether a request of the call has gone to the transport yet (``leaving``)."""

    attempts: int = 1
    retry_after: bool = False
    retry_after_seconds: float | None = None
    leaving: threading.Event = field(default_factory=threading.Event)  # a request went to the wire


# The answer record of the call running in the current task: the client (and its response hook)
# is shared by every call of the gateway, each call's task sets its own record.
_LAST_ANSWER: contextvars.ContextVar[_LastAnswer | None] = contextvars.ContextVar(
    "graph_last_answer", default=None
)


async def _remember_answer(response: httpx.Response) -> None:
    last = _LAST_ANSWER.get()
    if last is None:
        return
    retried = response.request.headers.get("retry-attempt", "0")
    last.attempts = int(retried) + 1 if retried.isdigit() else 1
    last.retry_after = "retry-after" in response.headers
    last.retry_after_seconds = retry_after_seconds(response.headers.get("retry-after"))


@dataclass
class _Pages(Generic[T]):
    """A collection as read: entries judged once each, and what was odd about the rest."""

    items: list[T] = field(default_factory=list)
    unjudgeable: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    anomaly: str | None = None

    @property
    def problems(self) -> list[str]:
        return [*self.unjudgeable, *self.duplicates, *([self.anomaly] if self.anomaly else [])]


async def _all_pages(
    adapter: RequestAdapter,
    builder: Any,
    info: RequestInformation,
    operation: str,
    *,
    parse: Callable[[Any], T],
    malformed: type[Exception],
    what: str,
    key: Callable[[T], str],
) -> _Pages[T]:
    """Every entry of a collection, following @odata.nextLink to the end.

    Isolation: an entry ``parse`` rejects (``malformed``) is skipped and named in ``unjudgeable``;
    entries with the same id (case-insensitively) are judged once, named in ``duplicates``. A
    nextLink already followed (the same link repeated, or pages cycling back) stops paging at once
    with what was read and names it in ``anomaly``, as does ``_MAX_PAGES`` as a last resort."""
    read = _Pages[T]()
    followed: set[str] = set()
    for number in range(1, _MAX_PAGES + 1):
        page = await _send_json(adapter, info, operation)
        values = page.get("value")
        if not isinstance(values, list):
            raise GraphError(operation, None, "MalformedResponse", "no 'value' array")
        for position, item in enumerate(values, start=1):
            try:
                read.items.append(parse(item))
            except malformed as exc:
                read.unjudgeable.append(f"{what} entry {position} of page {number}: {exc}: {shown(item)}")
                log.warning("skipped an unjudgeable %s entry on page %d: %s", what, number, exc)
        next_link = page.get("@odata.nextLink")
        if not isinstance(next_link, str) or not next_link:
            break
        if next_link in followed:
            read.anomaly = (
                f"Graph's paging of the {what} list repeated an @odata.nextLink already followed "
                f"(after page {number}); paging stopped there"
            )
            break
        followed.add(next_link)
        info = builder.with_url(next_link).to_get_request_information()
    else:
        read.anomaly = f"Graph's {what} list has more than {_MAX_PAGES} pages; paging stopped there"
    if read.anomaly:
        log.warning("%s", read.anomaly)
    read.items, read.duplicates = collapse(read.items, key, what)
    return read


def _odata_time(moment: datetime) -> str:
    """An OData DateTimeOffset literal, UTC, whole seconds: 2026-11-20T08:00:00Z."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


async def _send_json(adapter: RequestAdapter, info: RequestInformation, operation: str) -> dict[str, Any]:
    from msgraph.generated.models.o_data_errors.o_data_error import ODataError

    # Graph's evolvable enums: ask for members newer than the client's schema by name.
    info.headers.try_add("Prefer", "include-unknown-enum-members")
    raw: Any = await adapter.send_primitive_async(info, "bytes", {"XXX": ODataError})
    try:
        body = json.loads(raw or b"{}")
    except ValueError as exc:
        raise GraphError(operation, 200, "MalformedResponse", "the response is not JSON") from exc
    if not isinstance(body, dict):
        raise GraphError(operation, 200, "MalformedResponse", "the response is not a JSON object")
    return body


def _as_graph_error(operation: str, exc: Exception, last: _LastAnswer) -> GraphError:
    from kiota_abstractions.api_error import APIError

    if isinstance(exc, APIError):
        error = getattr(exc, "error", None)
        code = getattr(error, "code", None)
        message = getattr(error, "message", None) or exc.message or ""
        return GraphError(
            operation,
            exc.response_status_code,
            code,
            str(message),
            attempts=last.attempts,
            retry_after=last.retry_after,
            retry_after_seconds=last.retry_after_seconds,
        )
    if isinstance(exc, httpx.TimeoutException):
        return GraphError(operation, None, "Timeout", "Microsoft Graph did not answer in time")
    if isinstance(exc, httpx.TransportError):
        return GraphError(operation, None, "ConnectionFailed", f"{type(exc).__name__}: {exc}")
    return GraphError(operation, None, type(exc).__name__, str(exc))
