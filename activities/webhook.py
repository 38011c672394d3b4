"""Webhook deliveries: read a subscription's next events, attempt one, store the state.

Every attempt resolves the host again and refuses a forbidden address (DNS rebinding),
then connects to the address it checked (the URL's host still names the TLS certificate
and the `Host` header), follows no redirect, reads at most a few KiB of the answer and
gives up after 10 s.
"""

import ssl
import time
import uuid
from datetime import UTC, datetime, timedelta

import certifi
import httpx
from sqlalchemy import Engine, Update, func, update
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import Session, col, select
from standardwebhooks import Webhook
from temporalio import activity

from activities.base import EngineActivities, transaction_activity
from core.dns import Resolver, resolve
from core.settings import get_settings
from domain.errors import Invalid
from domain.webhook import (
    ATTEMPT_TIMEOUT_S,
    BATCH_BUDGET_S,
    INLINE_RETRY_S,
    MAX_ANSWER_BYTES,
    Verdict,
    WebhookStatus,
    parse_url,
    refused_addresses,
    retry_delay,
    verdict,
    wants,
)
from models.action import Action, ActionStatus, open_action, set_action_status
from models.event_feed import read_feed
from models.webhook import WebhookDelivery, WebhookSubscription
from workflows.payloads.webhook import (
    DeliveriesResult,
    DeliverWebhookInput,
    DeliveryResult,
    ReadWebhookEventsInput,
    SaveWebhookStateInput,
    WebhookEvent,
    WebhookEventPage,
)


def signing_secrets(subscription: WebhookSubscription, at: datetime) -> list[str]:
    """The secrets an attempt at `at` is signed with: the current one, and the previous one
    during its grace period after a rotation."""
    until = subscription.previous_secret_until
    if subscription.previous_secret and until is not None and at < until:
        return [subscription.secret, subscription.previous_secret]
    return [subscription.secret]


def signed_headers(
    event_id: str, body: str, secrets: list[str], sent_at: datetime
) -> dict[str, str]:
    """The Standard Webhooks headers (one `v1,` signature per secret)."""
    signatures = [Webhook(secret).sign(event_id, sent_at, body) for secret in secrets]
    return {
        "content-type": "application/json",
        "webhook-id": event_id,
        "webhook-timestamp": str(int(sent_at.timestamp())),
        "webhook-signature": " ".join(signatures),
    }


class WebhookActivities(EngineActivities):
    """The delivery workflow's activities (`allow_private`: WEBHOOK_ALLOW_PRIVATE)."""

    def __init__(
        self, engine: Engine, *, allow_private: bool | None = None, resolver: Resolver = resolve
    ) -> None:
        super().__init__(engine)
        if allow_private is None:
            allow_private = get_settings().webhook_allow_private
        self.allow_private = allow_private
        self.resolver = resolver
        # One TLS context for every delivery (building one per request is slow).
        self.tls = ssl.create_default_context(cafile=certifi.where())

    @transaction_activity
    def read_webhook_events(
        self, session: Session, command: ReadWebhookEventsInput
    ) -> WebhookEventPage:
        """The subscription's wanted events of the next page of the feed."""
        subscription = session.get(WebhookSubscription, uuid.UUID(command.subscription_id))
        if subscription is None:
            return WebhookEventPage(exists=False, events=[], through=command.after)
        rows, through = read_feed(session, command.after, command.limit)
        events = [
            WebhookEvent(
                position=row.position, event_id=row.event.id, body=row.event.model_dump_json()
            )
            for row in rows
            if wants(subscription.event_types, row.event.type)
        ]
        return WebhookEventPage(exists=True, events=events, through=through)

    @activity.defn
    def deliver_webhooks(self, command: DeliverWebhookInput) -> DeliveriesResult:
        """Deliver the events in order, each after the one before succeeded, recording every
        attempt; stop at the first failure or after the time budget. A retried call (the
        worker died) resumes after the last success it heartbeated."""
        details = activity.info().heartbeat_details
        done = int(details[0]) if details else 0
        started = time.monotonic()
        with Session(self.engine) as session:
            subscription = session.get(WebhookSubscription, uuid.UUID(command.subscription_id))
            if subscription is None:
                gone = DeliveryResult(status_code=None, error="deleted", latency_ms=None)
                return DeliveriesResult(delivered=done, failure=gone)
            session.expunge(subscription)
        with httpx.Client(
            timeout=ATTEMPT_TIMEOUT_S, follow_redirects=False, verify=self.tls
        ) as client:
            for index in range(done, len(command.events)):
                if time.monotonic() - started > BATCH_BUDGET_S:
                    break
                attempt = command.attempt if index == 0 else 1
                while True:  # retries due within INLINE_RETRY_S wait here, not on a timer
                    result = self._attempt(client, subscription, command.events[index], command.at)
                    self._record(subscription.id, command, index, attempt, result)
                    outcome = verdict(result.status_code)
                    delay = retry_delay(attempt, timedelta(seconds=command.first_retry_s))
                    if outcome != Verdict.RETRY or delay.total_seconds() > INLINE_RETRY_S:
                        break
                    activity.heartbeat(index)
                    time.sleep(delay.total_seconds())
                    attempt += 1
                if outcome != Verdict.DELIVERED:
                    return DeliveriesResult(delivered=index, failure=result, attempt=attempt)
                activity.heartbeat(index + 1)
                done = index + 1
        return DeliveriesResult(delivered=done, failure=None, attempt=0)

    def _record(
        self,
        subscription_id: uuid.UUID,
        command: DeliverWebhookInput,
        index: int,
        attempt: int,
        result: DeliveryResult,
    ) -> None:
        """One attempt's row, and what it says of the subscription (a retry writes it once)."""
        event = command.events[index]
        with Session(self.engine) as session, session.begin():
            session.execute(
                insert(WebhookDelivery)
                .values(
                    subscription_id=subscription_id,
                    position=event.position,
                    round=command.round,
                    event_id=event.event_id,
                    attempt=_logged_attempt(session, subscription_id, command, index, attempt),
                    status_code=result.status_code,
                    latency_ms=result.latency_ms,
                    error=result.error,
                    at=command.at,
                )
                .on_conflict_do_nothing()
            )
            if index == 0 or verdict(result.status_code) != Verdict.DELIVERED:
                session.execute(_failing(subscription_id, result, command.at))

    def _attempt(
        self,
        client: httpx.Client,
        subscription: WebhookSubscription,
        event: WebhookEvent,
        at: datetime,
    ) -> DeliveryResult:
        """POST the event to the checked address; the answer, or why there was none."""
        try:
            target = parse_url(subscription.url, allow_private=self.allow_private)
        except Invalid as refusal:
            return DeliveryResult(
                status_code=None, error=f"refused: {refusal.detail}", latency_ms=None
            )
        addresses = self.resolver(target.host, target.port)
        refused = refused_addresses(addresses, allow_private=self.allow_private)
        if refused is not None:
            return DeliveryResult(status_code=None, error=f"refused: {refused}", latency_ms=None)
        host, address = target.host, addresses[0]
        sent_at = datetime.now(UTC)  # the signature's timestamp: when it is sent
        headers = signed_headers(
            event.event_id, event.body, signing_secrets(subscription, at), sent_at
        )
        url = httpx.URL(subscription.url)
        headers["host"] = url.netloc.decode("ascii")
        pinned = url.copy_with(host=address)
        started = time.monotonic()
        try:
            with client.stream(
                "POST",
                pinned,
                content=event.body.encode(),
                headers=headers,
                extensions={"sni_hostname": host},
            ) as answer:
                body = _read_at_most(answer, MAX_ANSWER_BYTES)
        except httpx.HTTPError as failure:
            latency = int((time.monotonic() - started) * 1000)
            return DeliveryResult(
                status_code=None,
                error=_short(f"{type(failure).__name__}: {failure}"),
                latency_ms=latency,
            )
        latency = int((time.monotonic() - started) * 1000)
        ok = 200 <= answer.status_code < 300
        error = None if ok else _short(f"HTTP {answer.status_code}: {body}")
        return DeliveryResult(status_code=answer.status_code, error=error, latency_ms=latency)

    @transaction_activity
    def save_webhook_state(self, session: Session, command: SaveWebhookStateInput) -> None:
        """Store the workflow's state unless a later version is stored; open the admins'
        action on a give-up or a 410, close it on a resume."""
        state = command.state
        subscription_id = uuid.UUID(state.subscription_id)
        session.execute(
            update(WebhookSubscription)
            .where(
                col(WebhookSubscription.id) == subscription_id,
                col(WebhookSubscription.state_version) < state.version,
            )
            .values(
                status=state.status,
                position=state.position,
                failing_since=state.failing_since,
                last_error=state.last_error,
                state_version=state.version,
                updated_at=command.at,
            )
        )
        key = f"webhook-{state.subscription_id}-{state.failing_since or command.at}"
        if command.gave_up or state.status == WebhookStatus.DISABLED:
            why = (
                "gave up after 24 h of failures"
                if command.gave_up
                else "the receiver answered 410 Gone"
            )
            open_action(
                session,
                key=key,
                kind="webhook_stopped",
                subject_kind="webhook",
                subject_id=state.subscription_id,
                role="admin",
                title=f"Webhook {state.subscription_id} stopped: {why}; resume or fix it",
                at=command.at,
                detail={"status": state.status.value, "last_error": state.last_error},
            )
        elif state.status == WebhookStatus.ACTIVE and state.attempt == 0:
            _close_actions(session, state.subscription_id, command.at)


def _logged_attempt(
    session: Session,
    subscription_id: uuid.UUID,
    command: DeliverWebhookInput,
    index: int,
    attempt: int,
) -> int:
    """The attempt's number in the deliveries log: the event's tries this round in earlier
    calls, then this call's. It is the workflow's `attempt` until a resume opens a fresh
    retry window (counting from 1 again): the log goes on counting, so no try after a resume
    shares a number with one before it (and is lost to the retry guard). A retried call
    counts the same earlier tries, so it writes each row once."""
    event = command.events[index]
    earlier = session.exec(
        select(func.count())
        .select_from(WebhookDelivery)
        .where(
            col(WebhookDelivery.subscription_id) == subscription_id,
            col(WebhookDelivery.position) == event.position,
            col(WebhookDelivery.round) == command.round,
            col(WebhookDelivery.at) < command.at,
        )
    ).one()
    first = command.attempt if index == 0 else 1
    return earlier + attempt - first + 1


def _failing(subscription_id: uuid.UUID, result: DeliveryResult, at: datetime) -> Update:
    """What an attempt says of the subscription: failing since the first failure, with
    this error; or no longer failing (the workflow saves the rest of its state)."""
    ok = result.status_code is not None and 200 <= result.status_code < 300
    row = update(WebhookSubscription).where(col(WebhookSubscription.id) == subscription_id)
    if ok:
        return row.values(failing_since=None, last_error=None)
    since = func.coalesce(col(WebhookSubscription.failing_since), at)
    return row.values(failing_since=since, last_error=result.error)


def _close_actions(session: Session, subscription_id: str, at: datetime) -> None:
    """Close the open actions about this subscription (it delivers again)."""
    open_keys = session.exec(
        select(Action.key).where(
            col(Action.subject_kind) == "webhook",
            col(Action.subject_id) == subscription_id,
            col(Action.status) == ActionStatus.OPEN,
        )
    ).all()
    for key in open_keys:
        set_action_status(session, key, ActionStatus.DONE, at)


def _read_at_most(answer: httpx.Response, limit: int) -> str:
    """At most `limit` bytes of an answer's body, as text (the rest is never read)."""
    kept = b""
    for chunk in answer.iter_raw():
        kept += chunk
        if len(kept) >= limit:
            break
    return kept[:limit].decode("utf-8", errors="replace")


def _short(text: str) -> str:
    return text if len(text) <= 1000 else text[:997] + "..."
