"""Logs you can query (issue 14): a job's log lines carry tenant, job, connector, health, finding
kind, channel and delivery as record attributes, which the Azure Monitor exporter sends to
Application Insights as custom dimensions (docs/operations.md has the KQL)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest

from graphsim import GraphSimulator
from shared import logs
from tests.conftest import LOOKOUT, ZIMPERIUM, Host
from tests.support.scenarios import connector, load

CLOSED_PORT = "http://127.0.0.1:9/hook"  # discard: nothing listens, every delivery fails


def _app_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name.startswith(("shared.", "functions."))]


def test_every_line_of_a_sweep_carries_tenant_and_job_and_its_connector_lines_their_fields(
    host: Host,
    env: Callable[..., None],
    graph: GraphSimulator,
    tenant_id: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    env(ALERT_WEBHOOK_URL=CLOSED_PORT, ALERT_MAX_ATTEMPTS="1")
    load(graph, tenant_id, connector(LOOKOUT, "now-9d"), connector(ZIMPERIUM, "now-1h", threshold=3))
    caplog.set_level(logging.INFO)
    host.timer("heartbeat_monitor")

    sweep_lines = [r for r in _app_records(caplog) if r.name == "shared.heartbeat.sweep"]
    assert sweep_lines and all(
        (getattr(r, "tenant", None), getattr(r, "job", None)) == (tenant_id, "heartbeatSweep")
        for r in sweep_lines
    )
    per_connector = {
        r.__dict__["connector"]: (r.__dict__["health"], r.__dict__["findingKind"])
        for r in sweep_lines
        if r.levelno == logging.INFO and "connector" in r.__dict__
    }
    assert per_connector == {LOOKOUT: ("unresponsive", "heartbeat"), ZIMPERIUM: ("healthy", "heartbeat")}
    (alert,) = [r for r in sweep_lines if r.getMessage().startswith("alert ")]
    assert (alert.__dict__["connector"], alert.__dict__["health"], alert.__dict__["findingKind"]) == (
        LOOKOUT,
        "unresponsive",
        "heartbeat",
    )
    # The delivery after the sweep is the outbox's work: its failure says which channel and how.
    (dead,) = [r for r in _app_records(caplog) if "dead on webhook" in r.getMessage()]
    assert {k: dead.__dict__.get(k) for k in ("tenant", "job", "channel", "delivery", "findingKind")} == {
        "tenant": tenant_id,
        "job": "alertOutbox",
        "channel": "webhook",
        "delivery": "dead",
        "findingKind": "heartbeat",
    }


def test_lines_outside_a_job_carry_no_job_fields(caplog: pytest.LogCaptureFixture) -> None:
    logs.quiet()
    caplog.set_level(logging.INFO)
    logging.getLogger("shared.test").info("not in a job")
    with logs.run_fields(tenant="t1", job="caDrift"):
        logging.getLogger("shared.test").info("in a job", extra=logs.fields(finding_kind="caCoverage"))
    outside, inside = caplog.records[-2:]
    assert not hasattr(outside, "tenant") and not hasattr(outside, "job")
    assert (inside.__dict__["tenant"], inside.__dict__["job"], inside.__dict__["findingKind"]) == (
        "t1",
        "caDrift",
        "caCoverage",
    )


def test_export_needs_a_connection_string_and_loads_the_exporter_only_then() -> None:
    assert logs.export_to_application_insights({}) is False
    assert not any(getattr(h, "mtd_guard_export", False) for h in logging.getLogger("shared").handlers)
    installed: list[Any] = []
    built: Any = None
    connection = (
        "InstrumentationKey=00000000-0000-0000-0000-000000000000;IngestionEndpoint=http://127.0.0.1:9/"
    )
    try:
        assert logs.export_to_application_insights({"APPLICATIONINSIGHTS_CONNECTION_STRING": connection})
        assert logs.export_to_application_insights({"APPLICATIONINSIGHTS_CONNECTION_STRING": connection})
        installed = [
            h
            for name in logs.APP_LOGGERS
            for h in logging.getLogger(name).handlers
            if getattr(h, "mtd_guard_export", False)
        ]
        assert len(installed) == len(logs.APP_LOGGERS) and len({id(h) for h in installed}) == 1  # once each
        assert installed[0].level == logging.INFO
        assert installed[0].target is None  # the exporter is built on the first record, not before
        assert installed[0]._build is not None
        built = installed[0]._build()  # what the first record builds (no record: nothing is sent)
        from opentelemetry.sdk._logs import LoggingHandler

        assert isinstance(built, LoggingHandler) and built.level == logging.INFO
    finally:
        for name in logs.APP_LOGGERS:
            for h in list(logging.getLogger(name).handlers):
                if getattr(h, "mtd_guard_export", False):
                    logging.getLogger(name).removeHandler(h)
        if built is not None:
            provider: Any = built._logger_provider  # the SDK's LoggerProvider, which has shutdown()
            provider.shutdown()


class _Kept(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def _logger(handler: logging.Handler) -> logging.Logger:
    """A logger of its own (no propagation) whose only handler is ``handler``, at every level."""
    logger = logging.getLogger(f"tests.export.{id(handler)}")
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    logger.addHandler(handler)
    return logger


def test_the_exporting_handler_is_built_on_the_first_record_and_then_gets_every_record() -> None:
    """A cold start that logs nothing at INFO never imports the exporter; once one record is
    logged, that record and every later one are exported (none is lost to the deferral)."""
    kept = _Kept()
    builds: list[int] = []

    def build() -> logging.Handler:
        builds.append(1)
        return kept

    handler = logs.ExportOnFirstRecord(build)
    logger = _logger(handler)
    logger.debug("below INFO")
    assert builds == [] and handler.target is None
    for level, message in ((logging.INFO, "first"), (logging.WARNING, "second"), (logging.INFO, "third")):
        logger.log(level, message)
    assert builds == [1]
    assert [r.getMessage() for r in kept.records] == ["first", "second", "third"]


def test_an_exporter_that_cannot_be_built_is_reported_once_and_never_stops_the_app(
    capsys: pytest.CaptureFixture[str],
) -> None:
    builds: list[int] = []

    def build() -> logging.Handler:
        builds.append(1)
        raise ValueError("Invalid instrumentation key")

    logger = _logger(logs.ExportOnFirstRecord(build))
    for message in ("first", "second"):
        logger.error(message)  # never raises into the caller
    assert builds == [1]  # not tried again for every record
    assert capsys.readouterr().err.count("--- Logging error ---") == 1


def test_ingestion_signs_in_with_the_managed_identity_the_authentication_string_names() -> None:
    from azure.identity import ManagedIdentityCredential

    identity = "ClientId=5a4b3c2d-0000-4000-8000-000000000001;Authorization=AAD"
    aad = logs._ingestion_credential({"APPLICATIONINSIGHTS_AUTHENTICATION_STRING": identity})
    assert isinstance(aad, ManagedIdentityCredential)
    assert logs._ingestion_credential({}) is None  # keys allowed: the connection string is enough
