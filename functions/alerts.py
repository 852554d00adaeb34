"""The alert outbox: its timer (retries, digests), GET /api/alerts and redelivery of dead alerts."""

from __future__ import annotations

import base64
import binascii
import json
import logging
import re
from dataclasses import replace
from datetime import UTC, datetime

import azure.functions as func

from functions import views
from functions.http import Problem, endpoint, json_response, query_int
from functions.jobs import configured_services
from shared import principal
from shared.alerting import stored
from shared.alerting.alerts import Alert, DeliveryStatus
from shared.alerting.outbox import deliver_pending
from shared.clock import now_utc
from shared.context import services
from shared.findings.model import Severity
from shared.principal import Role

bp = func.Blueprint()
log = logging.getLogger(__name__)
TOKEN_PARAM = "continuationToken"  # noqa: S105 - a query parameter name, not a secret
_KIND = re.compile(r"[A-Za-z][A-Za-z0-9]{0,63}")
_FINDING_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:@-]{0,255}")
_ALERT_ID = re.compile(r"[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")


@bp.function_name("alerts_outbox")
@bp.timer_trigger(arg_name="timer", schedule="%ALERT_OUTBOX_SCHEDULE%", run_on_startup=False)
def alerts_outbox(timer: func.TimerRequest) -> None:
    s = configured_services()
    if s is None:
        return
    report = deliver_pending(s.store, s.channels, now_utc(), tenant_id=s.settings.tenant_id)
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


def _present(req: func.HttpRequest, names: tuple[str, ...]) -> None:
    """A parameter given empty is a mistake (a template variable left blank), not 'no filter'."""
    for name in names:
        if name in req.params and not req.params[name]:
            raise Problem(400, "Invalid query parameter", f"{name} is empty: leave it out or give a value")


def _choice(req: func.HttpRequest, name: str, values: list[str]) -> str | None:
    raw: str | None = req.params.get(name)
    if not raw:
        return None
    if raw not in values:
        raise Problem(
            400, "Invalid query parameter", f"{name} must be one of {', '.join(values)}, got {raw!r}"
        )
    return raw


def _since(req: func.HttpRequest) -> datetime | None:
    raw = req.params.get("since")
    if not raw:
        return None
    try:
        parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise Problem(
            400, "Invalid query parameter", "since must be an ISO 8601 time such as 2026-01-31T08:00:00Z"
        ) from None
    moment = (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)
    return None if moment.year < 1601 else moment  # Table Storage's earliest time: all alerts are later


def _pattern(req: func.HttpRequest, name: str, pattern: re.Pattern[str], example: str) -> str | None:
    raw: str | None = req.params.get(name)
    if not raw:
        return None
    if not pattern.fullmatch(raw):
        raise Problem(400, "Invalid query parameter", f"{name} {raw[:100]!r} is not like {example}")
    return raw


def _order(alert: Alert) -> tuple[str, str]:
    return (alert.detected_at.astimezone(UTC).isoformat(), alert.alert_id)


def _token(alert: Alert) -> str:
    moment, alert_id = _order(alert)
    raw = json.dumps({"t": moment, "id": alert_id}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _after_token(req: func.HttpRequest) -> tuple[str, str] | None:
    raw = req.params.get(TOKEN_PARAM)
    if not raw:
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
        return (str(data["t"]), str(data["id"]))
    except (binascii.Error, ValueError, KeyError, TypeError):
        raise Problem(400, "Invalid query parameter", f"{TOKEN_PARAM} is not one this API returned") from None


def _matches(alert: Alert, channel: str | None, status: str | None) -> bool:
    deliveries = [d for n, d in alert.deliveries.items() if channel is None or n == channel]
    if channel is not None and not deliveries:
        return False
    return status is None or any(d.status == status for d in deliveries)


@bp.function_name("alerts_list")
@bp.route(route="alerts", methods=["GET"])
@endpoint(Role.READER)
def alerts_list(req: func.HttpRequest) -> func.HttpResponse:
    _present(req, ("status", "severity", "since", "limit", TOKEN_PARAM, "channel", "kind", "findingId"))
    s = services()
    tenant = s.settings.tenant_id
    status = _choice(req, "status", [d.value for d in DeliveryStatus])
    severity = _choice(req, "severity", [v.value for v in Severity])
    channel = req.params.get("channel") or None
    limit = query_int(req, "limit", default=50, low=1, high=200)
    after = _after_token(req)
    found = stored.query_alerts(
        s.store,
        tenant,
        kind=_pattern(req, "kind", _KIND, "heartbeat"),
        severity=severity,
        finding_id=_pattern(req, "findingId", _FINDING_ID, "heartbeat.2c7790de-8b02-4814-85cf-e0c59380dee8"),
        since=_since(req),
    )
    counts: dict[str, dict[str, int]] = {}
    for alert in found:
        for name, delivery in alert.deliveries.items():
            per = counts.setdefault(name, {})
            per[delivery.status.value] = per.get(delivery.status.value, 0) + 1
    chosen = sorted((a for a in found if _matches(a, channel, status)), key=_order, reverse=True)
    if after is not None:
        chosen = [a for a in chosen if _order(a) < after]
    page = chosen[:limit]
    token = _token(page[-1]) if len(chosen) > limit else None
    return json_response(views.alert_page(tenant, s.channels, counts, page, token))


# -- POST /api/alerts/{alertId}/redeliver -------------------------------------------------------


@bp.function_name("alert_redeliver")
@bp.route(route="alerts/{alertId}/redeliver", methods=["POST"])
@endpoint(Role.OPERATOR)
def alert_redeliver(req: func.HttpRequest) -> func.HttpResponse:
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
    channel = req.params.get("channel") or None
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
    caller = principal.from_headers(req.headers)
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
