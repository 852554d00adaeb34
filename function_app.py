"""MTD Guard: the Functions app. Registers the trigger blueprints; the logic lives in shared/."""

from __future__ import annotations

import logging

import azure.functions as func

from functions import (
    alerts,
    audit,
    ca_drift,
    configure,
    connectors,
    findings,
    health,
    heartbeat,
    hooks,
    openapi,
    posture,
    prune,
    status,
)
from shared import logs, settings

# Before anything sends a request: request-logging libraries quiet, credentials redacted from every
# log record (a Teams Workflows URL's sig=, a webhook's ?token=).
logs.quiet()
# With APPLICATIONINSIGHTS_CONNECTION_STRING set (Azure), log records also go to Application Insights
# with their fields (tenant, job, connector, health, ...) as custom dimensions (issue 14).
logs.export_to_application_insights()

app = func.FunctionApp(http_auth_level=func.AuthLevel.FUNCTION)
for blueprint in (heartbeat.bp, connectors.bp, health.bp, prune.bp):
    app.register_functions(blueprint)
# Configure API, ticketing webhooks, audit trail and the OpenAPI document (issue 3).
for blueprint in (configure.bp, hooks.bp, audit.bp, openapi.bp):
    app.register_functions(blueprint)
# Alert outbox timer, GET /api/alerts, redelivery (issue 6).
app.register_functions(alerts.bp)
# Conditional Access drift, GET /api/findings and acknowledgement (issue 4).
for blueprint in (ca_drift.bp, findings.bp):
    app.register_functions(blueprint)
# The status page (issue 14).
app.register_functions(status.bp)
# The enforcement chain per platform (issue 13).
app.register_functions(posture.bp)


def log_settings_problems() -> None:
    """One clear log line per settings problem, never a traceback; no setting value that may be a
    credential (URLs are shown redacted, secrets not at all)."""
    found = settings.problems()
    if auth := settings.authentication_problem():
        found.append(auth)
    for problem in found:
        logging.getLogger("mtd_guard").error("MTD Guard is misconfigured: %s", problem)


# Validate settings once at start. The app still loads so /api/health can say "misconfigured" and
# the other routes answer problem+json.
log_settings_problems()
