"""The alert outbox: its timer (retries, digests), GET /api/alerts and redelivery of dead alerts."""

from __future__ import annotations

import logging
import re
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import azure.functions as func

from functions.http import Problem, endpoint, json_response
from functions.http.endpoint import trusted_principal
from functions.http.query import Choice, Count, Moment, QuerySpec, Text, Token
from functions.jobs import configured_services, succeeded, timer_job
from shared.alerting.alerts import DeliveryStatus
from shared.clock import now_utc
from shared.context import services
from shared.findings.model import Severity
from shared.job_runs import Job
from shared.principal import Role
from shared.store.errors import StoreError

if TYPE_CHECKING:
    from shared.alerting.alerts import Alert

bp = func.Blueprint()
log = logging.getLogger(__name__)
_ALERT_ID = re.compile(r"[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")


@bp.function_name("alerts_outbox")
@bp.timer_trigger(arg_name="timer", schedule="%ALERT_OUTBOX_SCHEDULE%", run_on_startup=False)
@timer_job
def alerts_outbox(timer: func.TimerRequest) -> None:
    """Timer (ALERT_OUTBOX_SCHEDULE): deliver this tenant's pending alerts (retries after backoff,
    held alerts after quiet hours, digests) and log the counts; skipped when misconfigured.
    """
    from shared.alerting.outbox import deliver_pending

    s = configured_services()
    if s is None:
        return
    try:
        report = deliver_pending(s.store, s.channels, now_utc(), tenant_id=s.settings.tenant_id)
    except StoreError as exc:  # one clear line, no traceback: the next run tries again
        log.error("alert outbox: %s", exc)
        return
    succeeded(s, Job.OUTBOX)  # the run went through; each delivery's own outcome is on its alert
    if report.delivered or report.failed or report.digests:
        log.info(
            "alert outbox: %d delivered, %d failed (%d dead), %d skipped, %d held, %d digest(s)",
            report.delivered,
            report.failed,
            report.dead,
            report.skipped,
            report.held,
            report.digests,
        )
    for error in report.errors:
        log.warning("alert outbox: %s", error)


# -- GET /api/alerts ----------------------------------------------------------------------------

EARLIEST = datetime(1601, 1, 1, tzinfo=UTC)  # Table Storage's earliest time: every alert is later


def _position(raw: Any) -> tuple[str, str]:
    moment, alert_id = raw
    return (str(moment), str(alert_id))


LIST_QUERY = QuerySpec(
    "alerts_list",
    (
        Choice("status", "comma-separated delivery statuses", enum=DeliveryStatus, many=True),
        Text("channel", "webhook, teams, servicenow or jira"),
        Text(
            "kind",
            "finding kind, e.g. heartbeat",
            pattern=re.compile(r"[A-Za-z][A-Za-z0-9]{0,63}"),
            example="heartbeat",
        ),
        Choice("severity", "comma-separated severities", enum=Severity, many=True),
        Text(
            "findingId",
            pattern=re.compile(r"[A-Za-z0-9][A-Za-z0-9._:@-]{0,255}"),
            example="heartbeat.2c7790de-8b02-4814-85cf-e0c59380dee8",
        ),
        Moment("since", "detected at or after"),
        Count("limit", low=1, high=200, fallback=50),
        Token(position=_position),
    ),
)


def _order(alert: Alert) -> tuple[str, str]:
    return (alert.detected_at.astimezone(UTC).isoformat(), alert.alert_id)


def _matches(alert: Alert, channel: str | None, statuses: frozenset[DeliveryStatus] | None) -> bool:
    deliveries = [d for n, d in alert.deliveries.items() if channel is None or n == channel]
    if channel is not None and not deliveries:
        return False
    return not statuses or any(d.status in statuses for d in deliveries)


@bp.function_name("alerts_list")
@bp.route(route="alerts", methods=["GET"])
@endpoint(Role.READER, LIST_QUERY)
def alerts_list(req: func.HttpRequest) -> func.HttpResponse:
    """GET /api/alerts (Reader): this tenant's alerts, newest first, with their delivery on each
    channel (AlertPage), ``limit`` per page (1-200, default 50).

    kind, severity, findingId and since (detected at or after; UTC) select alerts; status and
    channel select on their deliveries; ``counts`` ignores status and channel. 400 ``Invalid query
    parameter``, with a pointer per parameter, for a bad parameter or a continuationToken issued
    for another route or other filters.
    """
    from functions import views
    from shared.alerting import stored

    q = LIST_QUERY.parse(req)
    s = services()
    tenant = s.settings.tenant_id
    since: datetime | None = q["since"]
    severities: frozenset[Severity] = q["severity"] or frozenset()
    found = stored.query_alerts(  # one severity is filtered by the store, several here
        s.store,
        tenant,
        kind=q["kind"],
        severity=next(iter(severities)) if len(severities) == 1 else None,
        finding_id=q["findingId"],
        since=since if since is not None and since >= EARLIEST else None,
    )
    found = [a for a in found if not severities or a.severity in severities]
    counts: dict[str, dict[str, int]] = {}
    for alert in found:
        for name, delivery in alert.deliveries.items():
            per = counts.setdefault(name, {})
            per[delivery.status.value] = per.get(delivery.status.value, 0) + 1
    chosen = sorted((a for a in found if _matches(a, q["channel"], q["status"])), key=_order, reverse=True)
    if q.after is not None:
        chosen = [a for a in chosen if _order(a) < q.after]
    limit: int = q["limit"]
    page = chosen[:limit]
    token = q.next_token(list(_order(page[-1]))) if len(chosen) > limit else None
    return json_response(views.alert_page(tenant, s.channels, counts, page, token))


# -- POST /api/alerts/{alertId}/redeliver -------------------------------------------------------


REDELIVER_QUERY = QuerySpec(
    "alert_redeliver", (Text("channel", "only this channel, whatever its delivery ended as"),)
)


@bp.function_name("alert_redeliver")
@bp.route(route="alerts/{alertId}/redeliver", methods=["POST"])
@endpoint(Role.OPERATOR, REDELIVER_QUERY)
def alert_redeliver(req: func.HttpRequest) -> func.HttpResponse:
    """POST /api/alerts/{alertId}/redeliver (Operator): queue an alert again with attempts reset:
    every dead delivery, or with ``?channel=`` that channel's delivery unless it is still pending
    or held. Answers 202 AlertRedelivery; the outbox sends it on its next run.

    404 ``Alert not found`` (no such alert id in this tenant) or ``Channel not found`` (never
    routed there); 409 ``Nothing to redeliver`` or ``Alert is being delivered`` (another run saved
    it meanwhile); 400 for a bad query parameter.
    """
    from functions import views
    from shared.alerting import stored

    channel: str | None = REDELIVER_QUERY.parse(req)["channel"]
    s = services()
    tenant = s.settings.tenant_id
    alert_id = req.route_params.get("alertId", "")
    found = (
        stored.alert_with_etag(s.store, tenant, alert_id.lower()) if _ALERT_ID.fullmatch(alert_id) else None
    )
    if found is None:
        raise Problem(
            404, "Alert not found", f"No alert {alert_id!r} in tenant {tenant}; GET /api/alerts lists them."
        )
    alert, etag = found
    if channel is not None and channel not in alert.deliveries:
        raise Problem(
            404,
            "Channel not found",
            f"Alert {alert_id} was never routed to {channel!r}; its channels are "
            f"{', '.join(alert.deliveries) or 'none'}.",
        )
    # Without a channel: every dead delivery. With one: that delivery, whatever it ended as.
    chosen = [
        n
        for n, d in alert.deliveries.items()
        if (n == channel and not d.status.open) or (channel is None and d.status is DeliveryStatus.DEAD)
    ]
    if not chosen:
        raise Problem(
            409,
            "Nothing to redeliver",
            "No dead delivery on this alert (and a pending one is still being worked on); name a "
            "channel with ?channel= to send a delivered or skipped alert again.",
        )
    caller = trusted_principal(req)  # a name only App Service authentication vouches for
    note = f"redelivery requested by {caller.display if caller else 'the API'}"
    deliveries = dict(alert.deliveries)
    for name in chosen:
        deliveries[name] = replace(
            deliveries[name],
            status=DeliveryStatus.PENDING,
            attempts=0,
            next_attempt_at=None,
            last_error=None,
            note=note,
        )
    queued = replace(alert, deliveries=deliveries)
    if stored.save_alert(s.store, queued, etag) is None:
        raise Problem(
            409, "Alert is being delivered", "Another run is delivering this alert right now; try again."
        )
    return json_response(views.alert_redelivery(chosen, queued), status=202)
