"""Delivering recorded alerts: every open delivery of every pending alert, in order, once each.

Alerts are recorded (with the change that caused them) before any delivery is tried. Here, per
tenant and oldest alert first:

1. Held info alerts whose quiet hours are over become one digest alert per channel, in ONE batch
   with the members marked ``digested``: a digest is never lost half-made, nor made twice.
2. Each open delivery is routed (``shared.alerting.routing.decide``): skipped with the reason, held for
   the digest, or sent. Sending first *claims* the delivery by an ETag-conditional write that counts
   the attempt and sets its next attempt to the claim's expiry (``ChannelRules.send_bound`` after
   ``now``, the longest one delivery may take), then sends, then saves the outcome (and the
   channel's ``Thread``: the ticket it went to) in one batch, guarded by the claim's ETag. A run that
   read the alert before the claim loses the ETag race; one that reads it after sees a next attempt
   still to come and skips it: overlapping runs never send the same alert twice. A run that dies
   after its claim leaves the delivery to the first run after the claim expires.
3. A failure is retried with exponential backoff across runs; after the channel's maximum
   attempts the delivery is dead, which opens (or updates) an ``alertDelivery`` finding for the
   channel and alerts the other channels. The channel's next success resolves that finding.

Alerts on the same finding reach a channel in the order they were raised: while one is still
pending there (failed, waiting for its retry), the later ones wait too, so a ticket is never
resolved before it was opened. A channel that is down only delays itself: the other channels, and
other findings on the same channel, go on.

Time: the channels are delivered at the same time, one thread per channel, each going through the
alerts in order, so a slow receiver delays only its own channel. One delivery (every request of
it) must end ``CLAIM_MARGIN`` before its claim expires, and within the invocation's budget
(shared/deadline.py); a channel whose budget is spent stops claiming, and what it left waits for
the next run.
"""

from __future__ import annotations

import contextvars
import functools
import logging
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, fields, replace
from datetime import datetime, timedelta

from shared import deadline, logs
from shared.alerting import routing, stored
from shared.alerting.alerts import (
    DIGEST_KIND,
    Alert,
    Delivery,
    DeliveryStatus,
    Thread,
    finding_alert,
)
from shared.alerting.channels import Channel, DeliveryError, Ticket
from shared.clock import now_utc
from shared.findings.model import Finding, FindingKind, Severity, observe, resolve
from shared.findings.stored import stored_findings
from shared.job_runs import Job
from shared.store.state import StateStore, StoreError

log = logging.getLogger(__name__)

# Writes of one delivery tried on a fresh row while other runs (and this run's other channels,
# delivered at the same time) change the alert's other deliveries.
_REBASES = 10
CLAIM_MARGIN = timedelta(seconds=10)  # a delivery ends this long before its claim expires
MIN_SEND = timedelta(seconds=5)  # a claim leaving less time than this for the delivery is not made

REMEDIATION = (
    "Check the {channel} channel's settings (docs/alerts.md) and the receiving system, then send the "
    "dead alerts again: GET /api/alerts?status=dead&channel={channel} lists them, "
    "POST /api/alerts/{{alertId}}/redeliver?channel={channel} queues one."
)


@dataclass
class DeliveryReport:
    """What one outbox run did, in counts of deliveries (the ``delivery`` of check answers, job
    logs); ``errors`` holds each failure's safe message (host only, no secrets)."""

    delivered: int = 0
    failed: int = 0  # attempts that failed this run (dead ones included)
    dead: int = 0
    skipped: int = 0
    held: int = 0
    digests: int = 0
    errors: list[str] = field(default_factory=list)


@dataclass
class _Entry:
    alert: Alert
    etag: str


def deliver_after_run(
    store: StateStore,
    channels: list[Channel],
    now: datetime,
    *,
    tenant_id: str,
    problems: list[str],
    pending: bool = True,
) -> DeliveryReport:
    """Deliver ``tenant_id``'s pending alerts at the end of a job's run, whether or not the run
    succeeded (earlier alerts may still be waiting). A storage failure here is appended to the
    run's ``problems`` ("alerts not delivered this run: ...") and reports nothing delivered: the
    alerts stay pending for the next run or the outbox timer. ``pending`` False: the run knows
    none is (it read the tenant's pending alerts and found none, and raised none itself), so
    nothing is queried at all (an alert raised meanwhile by another run is that run's to send)."""
    if not pending:
        return DeliveryReport()
    try:
        return deliver_pending(store, channels, now, tenant_id=tenant_id)
    except StoreError as exc:
        problems.append(f"alerts not delivered this run: {exc}")
        return DeliveryReport()


@logs.job_run(Job.OUTBOX)
def deliver_pending(
    store: StateStore, channels: list[Channel], now: datetime, tenant_id: str | None = None
) -> DeliveryReport:
    """Deliver the open deliveries of ``tenant_id``'s alerts (None: of every tenant in the table).

    Pass the deployment's tenant: its channels are the ones configured for that tenant, and a
    storage account shared by several deployments must not send one tenant's alerts to another's.
    """
    report = DeliveryReport()
    by_tenant: dict[str, list[_Entry]] = defaultdict(list)
    for alert, etag in stored.pending_alerts(store, tenant_id):
        by_tenant[alert.tenant_id].append(_Entry(alert, etag))
    by_name = {c.name: c for c in channels}
    for tenant, entries in by_tenant.items():
        try:
            _TenantRun(store, tenant, by_name, now, report).run(entries)
        except StoreError as exc:
            report.errors.append(str(exc))
            log.error("alert delivery for tenant %s stopped: %s", tenant, exc)
    return report


def _with(alert: Alert, channel: str, delivery: Delivery) -> Alert:
    return replace(alert, deliveries={**alert.deliveries, channel: delivery})


class _TenantRun:
    def __init__(
        self,
        store: StateStore,
        tenant: str,
        channels: dict[str, Channel],
        now: datetime,
        report: DeliveryReport,
    ) -> None:
        self.store = store
        self.tenant = tenant
        self.channels = channels
        self.now = now
        self.report = report
        self.blocked: set[tuple[str, str]] = set()  # (finding, channel) whose older alert is still pending
        self._findings: dict[str, Finding] | None = None

    def run(self, entries: list[_Entry]) -> None:
        """Deliver ``entries``, oldest first, on every channel at once (one thread per channel);
        alerts raised on the way (dead letters, recoveries) go out in a further round."""
        queue = sorted(entries, key=lambda e: (e.alert.detected_at, e.alert.alert_id))
        queue += self._release_digests(queue)
        # One worker per channel for the whole run: it keeps its channel's blocked findings.
        workers = {
            name: _TenantRun(self.store, self.tenant, self.channels, self.now, DeliveryReport())
            for name in self.channels
        }
        done = 0
        try:
            while done < len(queue):
                batch, done = queue[done:], len(queue)
                _at_once([functools.partial(w._deliver_all, n, batch, queue) for n, w in workers.items()])
        finally:
            for worker in workers.values():
                _add(self.report, worker.report)

    def _deliver_all(self, name: str, batch: list[_Entry], queue: list[_Entry]) -> None:
        """Channel ``name``'s deliveries of ``batch``, in order, each on this worker's own copy of
        the alert row (the other channels' workers write the same rows: ETags keep them apart)."""
        for shared in batch:
            if deadline.remaining() <= 0:
                log.warning("alert delivery to %s stopped: this run's time budget is spent", name)
                return
            entry = _Entry(shared.alert, shared.etag)
            if name in entry.alert.pending_channels:
                self._deliver(entry, name, queue)

    # -- digests after quiet hours --

    def _release_digests(self, queue: list[_Entry]) -> list[_Entry]:
        made: list[_Entry] = []
        for name in self.channels:
            due = [
                e
                for e in queue
                if (d := e.alert.deliveries.get(name)) is not None
                and d.status is DeliveryStatus.HELD
                and (d.next_attempt_at is None or d.next_attempt_at <= self.now)
            ]
            if len(due) == 1:  # a digest of one is just the alert
                entry = due[0]
                released = replace(
                    entry.alert.deliveries[name], status=DeliveryStatus.PENDING, next_attempt_at=None
                )
                self._save(entry, name, delivery=released)
                continue
            for start in range(0, len(due), routing.DIGEST_LIMIT):
                if digest := self._make_digest(name, due[start : start + routing.DIGEST_LIMIT]):
                    made.append(digest)
        return made

    def _make_digest(self, name: str, members: list[_Entry]) -> _Entry | None:
        digest = routing.digest(name, self.tenant, [m.alert for m in members], self.now)
        updated: list[tuple[Alert, str]] = []
        threads: dict[str, Thread | None] = {}  # finding -> the channel's thread after its members
        for m in members:
            done = replace(
                m.alert.deliveries[name],
                status=DeliveryStatus.DIGESTED,
                digest_id=digest.alert_id,
                next_attempt_at=None,
                note=None,
            )
            updated.append((_with(m.alert, name, done), m.etag))
            finding = m.alert.finding_id
            current = (
                threads[finding]
                if finding in threads
                else stored.thread(self.store, self.tenant, name, finding)
            )
            threads[finding] = self._next_thread(m.alert, name, current, None) or current
        changed = [t for t in threads.values() if t is not None]
        etags = self.store.transact(self.tenant, changed, replace=updated, create=[digest])
        if etags is None:
            log.info("digest for %s is being made by another run", name)
            return None
        for m, (alert, _) in zip(members, updated, strict=True):
            m.alert, m.etag = alert, etags[alert.alert_id]
        self.report.digests += 1
        return _Entry(digest, etags[digest.alert_id])

    # -- one delivery --

    def _save(
        self,
        entry: _Entry,
        name: str,
        *,
        delivery: Delivery,
        upsert: list[Finding | Thread] | None = None,
        create: list[Alert] | None = None,
        queue: list[_Entry] | None = None,
    ) -> bool:
        """Write the delivery (and what goes with it) unless another run changed *this delivery*
        first; alerts created here join ``queue`` so they go out in this run.

        The write is guarded by the alert row's ETag. When another run changed only the alert's
        other channels meanwhile, the write is made again on the fresh row: each run owns one
        delivery, not the whole row, so a claim or an outcome is never lost to a neighbour's."""
        base = entry.alert.deliveries[name]
        for _ in range(_REBASES):
            alert = _with(entry.alert, name, delivery)
            etags = self.store.transact(
                self.tenant, upsert or [], replace=[(alert, entry.etag)], create=create or []
            )
            if etags is not None:
                break
            fresh = stored.alert_with_etag(self.store, self.tenant, entry.alert.alert_id)
            if fresh is None or fresh[0].deliveries.get(name) != base:
                break
            entry.alert, entry.etag = fresh
        if etags is None:
            log.info("alert %s on %s is being delivered by another run", entry.alert.alert_id, name)
            self.blocked.add((entry.alert.finding_id, name))
            return False
        entry.alert, entry.etag = alert, etags[alert.alert_id]
        for obj in upsert or []:
            if isinstance(obj, Finding):
                self._findings_now()[obj.id] = obj
        for created in create or []:
            if queue is not None:
                queue.append(_Entry(created, etags[created.alert_id]))
        return True

    def _deliver(self, entry: _Entry, name: str, queue: list[_Entry]) -> None:
        alert = entry.alert
        key = (alert.finding_id, name)
        delivery = alert.deliveries[name]
        channel = self.channels.get(name)
        if key in self.blocked or not delivery.status.open:
            return  # an older alert waits there; or another run finished it since this one read it
        if channel is None:  # no longer configured: stays pending until it is again
            self.blocked.add(key)
            return
        if delivery.status is DeliveryStatus.HELD:
            return  # waits for its digest; later alerts need not wait for it
        if delivery.next_attempt_at is not None and delivery.next_attempt_at > self.now:
            self.blocked.add(key)  # backing off
            return
        thread = (
            None
            if alert.kind == DIGEST_KIND
            else stored.thread(self.store, self.tenant, name, alert.finding_id)
        )
        decision = routing.decide(alert, name, channel.rules, thread, self.now)
        if decision.action is routing.Action.SKIP:
            if self._save(
                entry, name, delivery=replace(delivery, status=DeliveryStatus.SKIPPED, note=decision.note)
            ):
                self.report.skipped += 1
            return
        if decision.action is routing.Action.HOLD:
            held = replace(
                delivery, status=DeliveryStatus.HELD, note=decision.note, next_attempt_at=decision.until
            )
            if self._save(entry, name, delivery=held):
                self.report.held += 1
            return
        self._send(entry, name, channel, thread, queue)

    def _send(
        self, entry: _Entry, name: str, channel: Channel, thread: Thread | None, queue: list[_Entry]
    ) -> None:
        """Claim the delivery, send it, record the outcome.

        The claim counts the attempt and sets the next one to when the claim expires, so every other
        run skips the delivery until then (a run that died holding it is taken over after). It
        expires ``send_bound`` after the run's clock; the delivery must end, in real time,
        CLAIM_MARGIN before that, or another run could take it over while it still sends."""
        alert, delivery = entry.alert, entry.alert.deliveries[name]
        bound = channel.rules.send_bound
        left = bound - CLAIM_MARGIN - max(timedelta(0), now_utc() - self.now)
        if left < MIN_SEND:
            log.info("alert %s on %s waits for the next run: too late to claim", alert.alert_id, name)
            self.blocked.add((alert.finding_id, name))
            return
        claimed = replace(delivery, attempts=delivery.attempts + 1, next_attempt_at=self.now + bound)
        if not self._save(entry, name, delivery=claimed):
            return
        try:
            with deadline.within(left.total_seconds()):
                ticket = channel.send(self._enrich(alert), thread)
        except DeliveryError as exc:
            self._failed(
                entry, name, claimed=claimed, error=str(exc), retry_after=exc.retry_after, queue=queue
            )
        except Exception as exc:  # a bug in one channel must not stop the others
            log.exception("alert %s: channel %s failed unexpectedly", alert.alert_id, name)
            error = f"{name}: unexpected {type(exc).__name__}"
            self._failed(entry, name, claimed=claimed, error=error, retry_after=None, queue=queue)
        else:
            self._succeeded(entry, name, claimed=claimed, thread=thread, ticket=ticket, queue=queue)

    def _succeeded(
        self,
        entry: _Entry,
        name: str,
        *,
        claimed: Delivery,
        thread: Thread | None,
        ticket: Ticket | None,
        queue: list[_Entry],
    ) -> None:
        self.report.delivered += 1
        done = replace(
            claimed,
            status=DeliveryStatus.DELIVERED,
            delivered_at=self.now,
            last_error=None,
            next_attempt_at=None,
            note=None,
            ticket=ticket.key if ticket else claimed.ticket,
        )
        upsert: list[Finding | Thread] = []
        if (next_thread := self._next_thread(entry.alert, name, thread, ticket)) is not None:
            upsert.append(next_thread)
        create: list[Alert] = []
        failing = self._delivery_finding(name)
        if failing is not None and failing.is_active:
            closed = resolve(failing, message=f"Alerts reach {name} again.", now=self.now)
            upsert.append(closed)
            create.append(self._delivery_alert(closed, f"Alerts to {name} are delivered again", name))
        self._save(entry, name, delivery=done, upsert=upsert, create=create, queue=queue)
        if ticket:
            log.info("alert %s delivered to %s (%s)", entry.alert.alert_id, name, ticket.key)

    def _failed(
        self,
        entry: _Entry,
        name: str,
        *,
        claimed: Delivery,
        error: str,
        retry_after: float | None,
        queue: list[_Entry],
    ) -> None:
        alert = entry.alert
        self.report.failed += 1
        self.report.errors.append(f"alert {alert.alert_id}: {error}")
        self.blocked.add((alert.finding_id, name))
        retry = self.channels[name].rules.retry
        if claimed.attempts < retry.max_attempts:
            log.warning(
                "alert %s not delivered to %s (attempt %d): %s",
                alert.alert_id,
                name,
                claimed.attempts,
                error,
                extra=logs.fields(channel=name, delivery=DeliveryStatus.PENDING, finding_kind=alert.kind),
            )
            later = retry.next_attempt(self.now, claimed.attempts, retry_after)
            self._save(entry, name, delivery=replace(claimed, last_error=error, next_attempt_at=later))
            return
        log.error(
            "alert %s dead on %s after %d attempts: %s",
            alert.alert_id,
            name,
            claimed.attempts,
            error,
            extra=logs.fields(channel=name, delivery=DeliveryStatus.DEAD, finding_kind=alert.kind),
        )
        self.report.dead += 1
        dead = replace(claimed, status=DeliveryStatus.DEAD, last_error=error, next_attempt_at=None)
        before = self._delivery_finding(name)
        severity = Severity.HIGH if alert.severity is Severity.HIGH else Severity.WARNING
        rank = routing.SEVERITY_RANK
        if before is not None and before.is_active and rank[before.severity] > rank[severity]:
            severity = before.severity
        finding = observe(
            before,
            tenant_id=self.tenant,
            kind=FindingKind.ALERT_DELIVERY,
            resource_id=name,
            resource_name=f"{name} alert channel",
            severity=severity,
            message=(
                f"Alert {alert.alert_id} ({alert.title}) was not delivered to {name} after "
                f"{claimed.attempts} attempts: {error}"
            ),
            remediation=REMEDIATION.format(channel=name),
            now=self.now,
        )
        create: list[Alert] = []
        if before is None or not before.is_active:
            create.append(self._delivery_alert(finding, f"Alerts to {name} are failing", name, alert))
        self._save(entry, name, delivery=dead, upsert=[finding], create=create, queue=queue)

    # -- helpers --

    def _findings_now(self) -> dict[str, Finding]:
        if self._findings is None:
            self._findings = stored_findings(self.store, self.tenant)
        return self._findings

    def _delivery_finding(self, name: str) -> Finding | None:
        return self._findings_now().get(f"{FindingKind.ALERT_DELIVERY}.{name}")

    def _delivery_alert(self, finding: Finding, title: str, name: str, dead: Alert | None = None) -> Alert:
        details: dict[str, object] = {"channel": name}
        if dead is not None:
            details |= {"deadAlertId": dead.alert_id, "deadAlertTitle": dead.title}
        return finding_alert(finding, title, self.now, list(self.channels), details=details)

    def _enrich(self, alert: Alert) -> Alert:
        """The finding's remediation on alerts that do not carry their own."""
        if alert.remediation or alert.resolves_finding or alert.kind == DIGEST_KIND:
            return alert
        finding = self._findings_now().get(alert.finding_id)
        return replace(alert, remediation=finding.remediation) if finding and finding.remediation else alert

    def _next_thread(
        self, alert: Alert, name: str, thread: Thread | None, ticket: Ticket | None
    ) -> Thread | None:
        """What ``name`` knows about the finding once ``alert`` reached it."""
        if alert.kind == DIGEST_KIND:
            return None
        if alert.resolves_finding:
            if thread is None:
                return None
            return replace(thread, open=False, updated_at=self.now, last_alert_id=alert.alert_id)
        fresh = thread is None or not thread.open or (ticket is not None and ticket.id != thread.ticket_id)
        base = (
            Thread(self.tenant, name, alert.finding_id, True, self.now, self.now, alert.alert_id)
            if fresh or thread is None
            else thread
        )
        return replace(
            base,
            open=True,
            updated_at=self.now,
            last_alert_id=alert.alert_id,
            ticket_id=ticket.id if ticket else base.ticket_id,
            ticket_key=ticket.key if ticket else base.ticket_key,
            ticket_url=ticket.url if ticket else base.ticket_url,
        )


def _at_once(calls: list[Callable[[], None]]) -> None:
    """Run ``calls`` in threads at the same time, each in a copy of this context (the time
    budget); wait for all, then raise the first failure (a StoreError stops the tenant's run)."""
    if not calls:
        return
    with ThreadPoolExecutor(max_workers=len(calls), thread_name_prefix="outbox") as pool:
        futures = [pool.submit(contextvars.copy_context().run, call) for call in calls]
    for future in futures:
        future.result()


def _add(total: DeliveryReport, part: DeliveryReport) -> None:
    """Add one channel worker's counts and errors to the run's report."""
    for f in fields(DeliveryReport):
        setattr(total, f.name, getattr(total, f.name) + getattr(part, f.name))
