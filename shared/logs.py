"""What MTD Guard logs, and what it never logs: third-party loggers kept quiet, credentials in URLs
redacted from every record and every answer.

Alert channel URLs are credentials: a Teams Workflows URL carries its signature in ``sig=``, a
generic webhook URL may carry ``user:password@`` and ``?token=``. httpx logs every request's full
URL at INFO, urllib3 the path and query at DEBUG, and the Azure SDK's HTTP logging policy every
request at INFO, so ``quiet()`` (called once by function_app.py at start) does two things:

- sets those libraries' loggers to WARNING, so a request is no longer a log line;
- installs a log record factory that redacts user info and query values in every record's message,
  so an operator who turns a library back to DEBUG still sees no credential.

Stdlib only: shared/setting_spec.py uses ``redact_url`` in its problems without loading a library.

Fields you can query. Every record logged during a job run carries ``tenant`` and ``job`` (set by
``job_run`` around the run's entry point), and the lines about one connector, health or finding add
``connector``, ``health`` and ``findingKind`` with ``extra=fields(...)``. With
APPLICATIONINSIGHTS_CONNECTION_STRING set, ``export_to_application_insights`` sends these records
through OpenTelemetry's logging handler and the Azure Monitor exporter, which turns a record's extra
attributes into ``customDimensions`` (docs/operations.md has the KQL). The exporter is imported only
then, and only when the app logs its first record at INFO or above (about 0.3 s, measured by
``make bench``): function_app.py sets the export up at import, and an invocation that logs nothing
(most reads) never pays for it.
"""

from __future__ import annotations

import functools
import logging
import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, ParamSpec, TypeVar
from urllib.parse import SplitResult, urlsplit

# The libraries that log requests (URLs, sometimes headers) at INFO or DEBUG.
NOISY_LOGGERS = (
    "httpx",
    "httpcore",
    "hpack",
    "urllib3",
    "msal",
    "azure",
    "azure.core.pipeline.policies.http_logging_policy",
    "azure.identity",
    "kiota_http",
)
QUIET_LEVEL = logging.WARNING
MASK = "***"

# ``scheme://user:password@`` and ``?name=value&name=value``: what a credential looks like in text.
_USER_INFO = re.compile(r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.-]*://)[^\s/?#@'\"<>]*@")
_QUERY_VALUE = re.compile(r"(?P<name>[?&][^=\s&#'\"<>]+=)[^&\s#'\"<>]+")


def redact(text: str) -> str:
    """``text`` with every URL user info (``user:password@``) and every query value replaced by
    ``***``; the scheme, host, path and query parameter names stay, so a line is still useful."""
    if "@" not in text and "=" not in text:
        return text  # the common case: nothing a credential could hide in
    text = _USER_INFO.sub(lambda m: m["scheme"] + MASK + "@", text)
    return _QUERY_VALUE.sub(lambda m: m["name"] + MASK, text)


def redact_url(url: str) -> str:
    """One URL as it may be shown: ``https://***@host/path?sig=***`` (user info and query values
    redacted, fragment dropped). Text that is not a URL with a host is shown with its query values
    redacted, or as ``***`` alone when it holds an ``@`` (``user:pw@host`` without ``//`` reads as
    a scheme and a path, and would show the password)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        host = f"[{host}]" if ":" in host else host  # IPv6
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        parts = None
    if parts is None or not parts.netloc:
        return MASK if "@" in url else redact(url)
    netloc = (MASK + "@" if "@" in parts.netloc else "") + host + port
    query = "&".join(
        f"{pair.split('=', 1)[0]}={MASK}" if "=" in pair else pair for pair in parts.query.split("&") if pair
    )
    return SplitResult(parts.scheme, netloc, parts.path, query, "").geturl()


def quiet(level: int = QUIET_LEVEL) -> None:
    """Set the request-logging libraries' loggers to ``level`` (WARNING) and redact credentials from
    every log record from now on (the same record factory adds a job run's ``tenant`` and ``job``).
    Idempotent: call it once at start (function_app.py)."""
    for name in NOISY_LOGGERS:
        logging.getLogger(name).setLevel(level)
    current = logging.getLogRecordFactory()
    if getattr(current, "redacts", False):
        return
    logging.setLogRecordFactory(_redacting(current))


# -- fields you can query (custom dimensions) ------------------------------------------------------

TENANT, JOB, CONNECTOR, HEALTH, FINDING_KIND = "tenant", "job", "connector", "health", "findingKind"
CHANNEL, DELIVERY = "channel", "delivery"  # an alert channel's name; a failed delivery's status
# Loggers whose records are exported: the app's own (module names under shared/ and functions/).
APP_LOGGERS = ("shared", "functions", "mtd_guard")
_run_fields: ContextVar[dict[str, str]] = ContextVar("mtd_guard_run_fields", default={})  # noqa: B039
P = ParamSpec("P")
R = TypeVar("R")


def fields(
    *,
    connector: str | None = None,
    health: str | None = None,
    finding_kind: str | None = None,
    channel: str | None = None,
    delivery: str | None = None,
) -> dict[str, str]:
    """``extra=`` for a line about one connector (its id), health, finding kind, or an alert
    channel and a delivery's status (``pending`` to retry, ``dead``); None is left out."""
    given = {
        CONNECTOR: connector,
        HEALTH: health,
        FINDING_KIND: finding_kind,
        CHANNEL: channel,
        DELIVERY: delivery,
    }
    return {name: str(value) for name, value in given.items() if value is not None}


@contextmanager
def run_fields(*, tenant: str, job: str) -> Iterator[None]:
    """Every record logged inside (this thread, and the event loops it starts) carries ``tenant``
    and ``job``."""
    token = _run_fields.set({TENANT: tenant, JOB: job})
    try:
        yield
    finally:
        _run_fields.reset(token)


def job_run(job: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Decorate a job's entry point (which takes ``tenant_id=`` by keyword): its log lines carry
    ``tenant`` and ``job``; the record factory installed by ``quiet`` adds them."""

    def decorate(entry: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(entry)
        def wrapped(*args: P.args, **kwargs: P.kwargs) -> R:
            tenant = kwargs.get("tenant_id")
            with run_fields(tenant=str(tenant) if tenant else "*", job=job):  # "*": every tenant
                return entry(*args, **kwargs)

        return wrapped

    return decorate


def _with_run_fields(record: logging.LogRecord) -> None:
    for name, value in _run_fields.get().items():
        record.__dict__.setdefault(name, value)


def _ingestion_credential(env: dict[str, str] | None) -> Any:
    """The Entra credential for Application Insights ingestion when the deployment disabled its
    keys (infra/modules/monitoring.bicep): APPLICATIONINSIGHTS_AUTHENTICATION_STRING is
    ``ClientId=<managed identity>;Authorization=AAD``, as the Functions host reads it. None otherwise."""
    raw = (os.environ if env is None else env).get("APPLICATIONINSIGHTS_AUTHENTICATION_STRING", "")
    parts = dict(p.split("=", 1) for p in raw.split(";") if "=" in p)
    if parts.get("Authorization", "").upper() != "AAD":
        return None
    from azure.identity import ManagedIdentityCredential

    return ManagedIdentityCredential(client_id=parts.get("ClientId") or None)


class ExportOnFirstRecord(logging.Handler):
    """Stands in for the exporting handler until the first record at INFO or above: ``build()``
    then makes it (importing what it needs) and it handles that record and every later one.

    A build that fails is reported once through ``handleError`` (standard error, which the host
    keeps) and not tried again: records are then not exported, and the app keeps running."""

    mtd_guard_export = True  # the marker export_to_application_insights looks for (idempotent)

    def __init__(self, build: Callable[[], logging.Handler]) -> None:
        super().__init__(level=logging.INFO)
        self._build: Callable[[], logging.Handler] | None = build
        self.target: logging.Handler | None = None  # built on the first record

    def emit(self, record: logging.LogRecord) -> None:
        """Hand ``record`` to the exporting handler, built now if this is the first record."""
        if self.target is None:
            build, self._build = self._build, None  # under the handler's lock: built at most once
            if build is None:
                return  # the build failed earlier
            try:
                self.target = build()
            except Exception:
                self.handleError(record)
                return
        self.target.handle(record)


def export_to_application_insights(env: dict[str, str] | None = None) -> bool:
    """When APPLICATIONINSIGHTS_CONNECTION_STRING is set, send the app's log records (INFO and
    above) to Application Insights with their fields as custom dimensions; returns whether it did.

    The records still reach the Functions host as before (its own traces, without the fields): the
    exported ones are those with ``customDimensions.job``. Signs in with the managed identity that
    APPLICATIONINSIGHTS_AUTHENTICATION_STRING names, when it says ``Authorization=AAD``. Idempotent.
    The exporter is built (and imported) on the first record: ``ExportOnFirstRecord``."""
    connection = (os.environ if env is None else env).get("APPLICATIONINSIGHTS_CONNECTION_STRING", "")
    if not connection.strip():
        return False
    if any(getattr(h, "mtd_guard_export", False) for h in logging.getLogger(APP_LOGGERS[0]).handlers):
        return True

    def build() -> logging.Handler:
        # Heavy (about 0.3 s): loaded only with a connection string, on the first record.
        from azure.monitor.opentelemetry.exporter import AzureMonitorLogExporter
        from opentelemetry.sdk._logs import LoggerProvider, LoggingHandler
        from opentelemetry.sdk._logs.export import BatchLogRecordProcessor

        credential = _ingestion_credential(env)
        exporter = AzureMonitorLogExporter(connection_string=connection, credential=credential)
        provider = LoggerProvider()
        provider.add_log_record_processor(BatchLogRecordProcessor(exporter))
        return LoggingHandler(level=logging.INFO, logger_provider=provider)

    handler = ExportOnFirstRecord(build)
    for name in APP_LOGGERS:
        logging.getLogger(name).addHandler(handler)
    return True


def _redacting(make: Any) -> Any:
    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record: logging.LogRecord = make(*args, **kwargs)
        _with_run_fields(record)
        try:
            message = record.getMessage()
        except Exception:  # a bad format string is the logging module's to report, not ours
            return record
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        return record

    factory.redacts = True  # type: ignore[attr-defined]
    return factory
