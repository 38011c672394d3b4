"""Each delivery checks the addresses again (DNS rebinding) and connects to the one checked."""

import dataclasses
import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine
from temporalio.testing import ActivityEnvironment

from activities.webhook import WebhookActivities
from operator_cli.webhook_receiver import Receiver
from tests.support.webhook import receiving, subscribe
from workflows.payloads.webhook import DeliverWebhookInput, WebhookEvent

REBOUND = [
    "127.0.0.1",
    "::1",
    "10.9.8.7",
    "fd00::5",
    "169.254.3.3",
    "fe80::2",
    "169.254.169.254",
    "0.0.0.0",
    "239.1.1.1",
]


def _deliver(activities: WebhookActivities, subscription_id: str) -> tuple[int | None, str | None]:
    event = WebhookEvent(position=1, event_id=str(uuid.uuid4()), body='{"id": "x"}')
    command = DeliverWebhookInput(
        subscription_id=subscription_id, events=[event], attempt=1, round=0, at=datetime.now(UTC)
    )
    result = ActivityEnvironment().run(activities.deliver_webhooks, command)
    if result.failure is None:
        return 204, None
    return result.failure.status_code, result.failure.error


@pytest.mark.parametrize("address", REBOUND)
def test_a_name_that_now_resolves_to_a_forbidden_address_is_refused_at_delivery(
    db: Engine, address: str
) -> None:
    receiver = Receiver()
    with receiving(receiver) as url:
        port = url.split(":")[2].split("/")[0]
        sub = str(uuid.uuid4())
        # Created while the name was public; it resolves elsewhere now.
        subscribe(db, f"https://hooks.example.com:{port}/hook", subscription_id=sub)
        activities = WebhookActivities(db, allow_private=False, resolver=lambda h, p: [address])
        status, error = _deliver(activities, sub)
    assert status is None
    assert error is not None
    assert error.startswith("refused: the host resolves to a")
    assert address in error
    assert receiver.received == []


def test_the_request_goes_to_the_checked_address_with_the_urls_host(db: Engine) -> None:
    receiver = Receiver()
    with receiving(receiver) as url:
        port = url.split(":")[2].split("/")[0]
        sub = str(uuid.uuid4())
        receiver.secret = subscribe(db, f"http://receiver.invalid:{port}/hook", subscription_id=sub)
        activities = WebhookActivities(db, allow_private=True, resolver=lambda h, p: ["127.0.0.1"])
        status, error = _deliver(activities, sub)
    assert (status, error) == (204, None)
    assert receiver.received[0]["valid"] is True


def test_a_run_stops_at_the_first_failure_and_a_retry_resumes_after_the_heartbeat(
    db: Engine,
) -> None:
    receiver = Receiver(script=[204, 503])
    with receiving(receiver) as url:
        sub = str(uuid.uuid4())
        receiver.secret = subscribe(db, url, subscription_id=sub)
        activities = WebhookActivities(db, allow_private=True)
        events = [
            WebhookEvent(position=n, event_id=str(uuid.uuid4()), body=f'{{"id": "{n}"}}')
            for n in (1, 2, 3)
        ]
        command = DeliverWebhookInput(
            subscription_id=sub, events=events, attempt=1, round=0, at=datetime.now(UTC)
        )
        env = ActivityEnvironment()
        beats: list[object] = []
        env.on_heartbeat = lambda *details: beats.extend(details)
        first = env.run(activities.deliver_webhooks, command)
        assert first.delivered == 1
        assert first.failure is not None
        assert first.failure.status_code == 503
        assert beats == [1]
        retried = ActivityEnvironment()
        retried.info = dataclasses.replace(retried.info, heartbeat_details=[1])
        second = retried.run(activities.deliver_webhooks, command.model_copy(update={"attempt": 2}))
    assert second.delivered == 3
    assert second.failure is None
    assert [entry["event_id"] for entry in receiver.received] == ["1", "2", "2", "3"]
