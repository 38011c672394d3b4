"""Payloads of WebhookDeliveryWorkflow and its activities."""

from datetime import datetime

from domain.webhook import WebhookStatus
from workflows.payloads.common import Payload, signature


class WebhookState(Payload):
    """A subscription's delivery state, as the workflow holds it and saves it.

    `position`: the feed position delivered through; `attempt`: failed attempts on the
    event after it; `round`: bumped by each replay; `version`: orders the saves.
    """

    subscription_id: str
    status: WebhookStatus = WebhookStatus.ACTIVE
    position: int = 0
    attempt: int = 0
    round: int = 0
    failing_since: datetime | None = None
    last_error: str | None = None
    retry_at: datetime | None = None
    version: int = 0
    first_retry_s: float = 5.0  # WEBHOOK_FIRST_RETRY_S when the subscription was created


# A run continues as new past this many history events (or when the server suggests it).
MAX_HISTORY = 5000


class StartWebhookInput(Payload):
    """Deliver the feed to one subscription from `state` (a continue-as-new carries it, and
    `max_history`: a test lowers it to reach the continue-as-new in a few pages)."""

    state: WebhookState
    max_history: int = MAX_HISTORY


class ReplayWebhookInput(Payload):
    """Update input: deliver again every event after feed position `after`."""

    after: int


class ReadWebhookEventsInput(Payload):
    """Activity input: the subscription's next events after `after`, at most `limit`."""

    subscription_id: str
    after: int
    limit: int


class WebhookEvent(Payload):
    """One feed event for a subscription: its position, id and the body as sent."""

    position: int
    event_id: str
    body: str


class WebhookEventPage(Payload):
    """The wanted events of a page, and the position read through (others are skipped)."""

    exists: bool
    events: list[WebhookEvent]
    through: int


class DeliverWebhookInput(Payload):
    """Activity input: deliver `events` in order, each only after the one before it
    succeeded, stopping at the first failure; the first is attempt `attempt`, the others
    attempt 1 (round `round`), stamped `at`."""

    subscription_id: str
    events: list[WebhookEvent]
    attempt: int
    round: int
    at: datetime
    first_retry_s: float = 5.0


class DeliveryResult(Payload):
    """What the receiver answered (`status_code` None: no answer, or refused before sending)."""

    status_code: int | None
    error: str | None
    latency_ms: int | None


class DeliveriesResult(Payload):
    """How many of the events were delivered, and the failed attempt that stopped the run
    (None: all of them, or the activity's time budget ran out first)."""

    delivered: int
    failure: DeliveryResult | None
    attempt: int = 0  # the failed attempt's number


class SaveWebhookStateInput(Payload):
    """Activity input: store `state` unless a later version is stored; `gave_up`: the retry
    window is over (an action for the admins)."""

    state: WebhookState
    at: datetime
    gave_up: bool = False


def webhook_workflow_id(subscription_id: str) -> str:
    """The business key of a subscription's delivery workflow."""
    return f"webhook-{subscription_id}"


# Activity signatures (see `signature`): saved histories hold these names.
read_webhook_events = signature("read_webhook_events", ReadWebhookEventsInput, WebhookEventPage)
deliver_webhooks = signature("deliver_webhooks", DeliverWebhookInput, DeliveriesResult)
save_webhook_state = signature("save_webhook_state", SaveWebhookStateInput, type(None))
