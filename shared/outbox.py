"""Delivering recorded alerts: every pending channel of every pending alert, once each.

Alerts are recorded (with the change that caused them) before any delivery is tried. Here each
pending delivery is first *claimed* by an ETag-conditional write that counts the attempt, then sent,
then its outcome saved. Two overlapping runs therefore never send the same alert twice, a run that
dies mid-delivery leaves the alert pending for the next one, and a channel that is down only delays
itself: the other channels and alerts go on.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from datetime import datetime

from shared.alerts import Alert, Delivery, DeliveryStatus
from shared.notifier import Channel, DeliveryError
from shared.store import StateStore, StoreError

log = logging.getLogger(__name__)


@dataclass
class DeliveryReport:
    delivered: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)


def _with(alert: Alert, channel: str, delivery: Delivery) -> Alert:
    return replace(alert, deliveries={**alert.deliveries, channel: delivery})


def deliver_pending(store: StateStore, channels: list[Channel], now: datetime) -> DeliveryReport:
    report = DeliveryReport()
    by_name = {c.name: c for c in channels}
    for alert, etag in store.pending_alerts():
        _deliver(store, alert=alert, etag=etag, channels=by_name, now=now, report=report)
    return report


def _deliver(
    store: StateStore,
    *,
    alert: Alert,
    etag: str,
    channels: dict[str, Channel],
    now: datetime,
    report: DeliveryReport,
) -> None:
    for name in alert.pending_channels:
        channel = channels.get(name)
        if channel is None:
            continue  # channel no longer configured: stays pending until it is again
        current = alert.deliveries[name]
        claimed = _with(alert, name, replace(current, attempts=current.attempts + 1))
        claimed_etag = store.save_alert(claimed, etag)
        if claimed_etag is None:
            log.info("alert %s is being delivered by another run", alert.alert_id)
            return
        try:
            channel.send(claimed)
        except DeliveryError as exc:
            report.failed += 1
            report.errors.append(f"alert {alert.alert_id}: {exc}")
            log.warning("alert %s not delivered to %s: %s", alert.alert_id, name, exc)
            outcome = replace(claimed.deliveries[name], last_error=str(exc))
        else:
            report.delivered += 1
            outcome = replace(
                claimed.deliveries[name], status=DeliveryStatus.DELIVERED, delivered_at=now, last_error=None
            )
        alert = _with(claimed, name, outcome)
        try:
            saved = store.save_alert(alert, claimed_etag)
        except StoreError as exc:
            report.errors.append(str(exc))
            return
        if saved is None:
            return
        etag = saved
