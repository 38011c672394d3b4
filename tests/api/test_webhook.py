"""Webhook subscriptions over HTTP: admin only, the secret once, rotation, pause/resume,
replay, deliveries, and the SSRF guard at create."""

import httpx
import pytest
from sqlalchemy import Engine
from temporalio.testing import WorkflowEnvironment

from operator_cli.webhook_receiver import Receiver
from tests.api.test_bad_input import assert_problem
from tests.support.tokens import bearer
from tests.support.webhook import publish_events, receiving

ADMIN = bearer("admin-1", "admin")
FORBIDDEN_URLS = [
    ("https://127.0.0.1/hook", "loopback"),
    ("https://[::1]/hook", "loopback"),
    ("https://localhost/hook", "loopback"),
    ("https://10.1.2.3/hook", "private"),
    ("https://192.168.0.10/hook", "private"),
    ("https://[fd00::1]/hook", "private"),
    ("https://169.254.10.10/hook", "link-local"),
    ("https://[fe80::1]/hook", "link-local"),
    ("https://169.254.169.254/latest/meta-data", "metadata"),
    ("https://0.0.0.0/hook", "unspecified"),
    ("https://224.0.0.5/hook", "multicast"),
    ("https://[::ffff:10.0.0.1]/hook", "private"),
]


# The API and worker of a local run: loopback (and http) allowed (without it, `api` is the
# API as deployed: private addresses refused).
LOCAL_RUN = pytest.mark.settings(webhook_allow_private=True)


async def _eventually(api: httpx.AsyncClient, path: str, done: object) -> httpx.Response:
    import asyncio

    for _ in range(200):
        answer = await api.get(path, headers=ADMIN)
        if callable(done) and done(answer.json()):
            return answer
        await asyncio.sleep(0.05)
    raise AssertionError(f"{path} never got there: {answer.json()}")


@pytest.mark.parametrize(("url", "kind"), FORBIDDEN_URLS)
async def test_each_forbidden_address_class_is_refused_at_create(
    api: httpx.AsyncClient, url: str, kind: str
) -> None:
    answer = await api.post("/v1/webhooks", json={"url": url, "event_types": ["*"]}, headers=ADMIN)
    assert_problem(answer, "url")
    assert kind in answer.json()["errors"][0]["message"]


async def test_plain_http_and_odd_urls_are_refused(api: httpx.AsyncClient) -> None:
    for url in [
        "http://example.com/hook",
        "ftp://example.com/",
        "https://user:pw@example.com/",
        "//x",
    ]:
        answer = await api.post(
            "/v1/webhooks", json={"url": url, "event_types": ["*"]}, headers=ADMIN
        )
        assert_problem(answer, "url")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"event_types": ["*"]}, "url"),
        ({"url": "https://example.com/", "event_types": []}, "event_types"),
        ({"url": "https://example.com/", "event_types": ["Not A Type"]}, "event_types"),
        ({"url": "https://example.com/", "event_types": ["*"], "colour": "red"}, "colour"),
        ({"url": "x" * 3000, "event_types": ["*"]}, "url"),
    ],
)
async def test_bad_input_is_a_422_naming_the_field(
    api: httpx.AsyncClient, body: dict[str, object], field: str
) -> None:
    assert_problem(await api.post("/v1/webhooks", json=body, headers=ADMIN), field)


@pytest.mark.parametrize("role", ["integration", "reviewer", "releaser", "applicant"])
async def test_only_admins_manage_webhooks(api: httpx.AsyncClient, role: str) -> None:
    caller = bearer("someone", role)
    body = {"url": "https://example.com/", "event_types": ["*"]}
    assert (await api.post("/v1/webhooks", json=body, headers=caller)).status_code == 403
    assert (await api.get("/v1/webhooks", headers=caller)).status_code == 403
    assert (await api.get("/v1/webhooks/x/deliveries", headers=caller)).status_code == 403


@LOCAL_RUN
async def test_a_subscription_delivers_shows_its_attempts_and_never_its_secret(
    api: httpx.AsyncClient, db: Engine
) -> None:
    receiver = Receiver()
    with receiving(receiver) as url:
        answer = await api.post(
            "/v1/webhooks", json={"url": url, "event_types": ["a.one"]}, headers=ADMIN
        )
        assert answer.status_code == 201, answer.text
        created = answer.json()
        receiver.secret = created["secret"]
        assert created["secret"].startswith("whsec_")
        assert created["status"] == "ACTIVE"
        path = f"/v1/webhooks/{created['id']}"
        publish_events(db, "a.one", "b.two", "a.one")
        await _eventually(api, f"{path}/deliveries", lambda items: len(items) == 2)
        end = (await api.get("/v1/events?limit=1000", headers=ADMIN)).json()["next_cursor"]
        shown = (await _eventually(api, path, lambda row: row["delivered_through"] == end)).json()
        listed = (await api.get("/v1/webhooks", headers=ADMIN)).json()
    assert "secret" not in shown
    assert all("secret" not in item for item in listed)
    attempts = (await api.get(f"{path}/deliveries", headers=ADMIN)).json()
    assert [(a["attempt"], a["status_code"]) for a in attempts] == [(1, 204), (1, 204)]
    assert [entry["type"] for entry in receiver.received] == ["a.one", "a.one"]
    assert all(entry["valid"] for entry in receiver.received)
    metrics = (await api.get("/metrics")).text
    label = f'{{subscription="{created["id"]}"}}'
    assert f"casework_webhook_attempts_total{label} 2.0" in metrics
    assert f"casework_webhook_failures_total{label} 0.0" in metrics
    assert f"casework_webhook_lag_events{label} 0.0" in metrics


@LOCAL_RUN
async def test_pause_resume_replay_and_rotation_through_the_api(
    api: httpx.AsyncClient, db: Engine
) -> None:
    receiver = Receiver()
    with receiving(receiver) as url:
        created = (
            await api.post("/v1/webhooks", json={"url": url, "event_types": ["*"]}, headers=ADMIN)
        ).json()
        receiver.secret = created["secret"]
        path = f"/v1/webhooks/{created['id']}"
        paused = await api.patch(path, json={"status": "PAUSED"}, headers=ADMIN)
        assert paused.json()["status"] == "PAUSED"
        publish_events(db, "a.one")
        assert receiver.received == []

        rotated = (await api.patch(path, json={"rotate_secret": True}, headers=ADMIN)).json()
        assert rotated["secret"] != created["secret"]
        receiver.secret = created["secret"]  # during the grace period the old one signs too
        resumed = await api.patch(path, json={"status": "ACTIVE"}, headers=ADMIN)
        assert resumed.json()["status"] == "ACTIVE"
        await _eventually(api, f"{path}/deliveries", lambda items: len(items) == 1)

        receiver.secret = rotated["secret"]  # and the new one
        replay = await api.post(f"{path}/replay", json={"after": None}, headers=ADMIN)
        assert replay.status_code == 200
        await _eventually(api, f"{path}/deliveries", lambda items: len(items) == 2)
        assert (
            await api.patch(path, json={"status": "DISABLED"}, headers=ADMIN)
        ).status_code == 422
        assert_problem(
            await api.post(f"{path}/replay", json={"after": "nope"}, headers=ADMIN), "after"
        )
        assert (await api.delete(path, headers=ADMIN)).status_code == 204
        assert (await api.get(path, headers=ADMIN)).status_code == 404
    ids = [entry["webhook_id"] for entry in receiver.received]
    assert len(ids) == 2
    assert ids[0] == ids[1]
    assert all(entry["valid"] for entry in receiver.received)


@LOCAL_RUN
async def test_a_keyed_create_that_died_after_its_commit_is_retried_into_the_first_answer(
    api: httpx.AsyncClient, dev_env: WorkflowEnvironment, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first attempt commits its row, then Temporal is unreachable (a 503, not stored as
    the key's answer); the retry with the same key answers 201 with that row and secret."""
    from temporalio.client import Client, WorkflowExecutionStatus
    from temporalio.service import RPCError, RPCStatusCode

    real_start = Client.start_workflow
    failures = [RPCError("down for the test", RPCStatusCode.UNAVAILABLE, b"")]

    async def start_once_unreachable(self: Client, *args: object, **kwargs: object) -> object:
        if failures:
            raise failures.pop()
        return await real_start(self, *args, **kwargs)  # type: ignore[call-overload]

    monkeypatch.setattr(Client, "start_workflow", start_once_unreachable)
    with receiving(Receiver()) as url:
        body = {"url": url, "event_types": ["a.one"]}
        keyed = {**ADMIN, "Idempotency-Key": "create-hook-after-crash"}
        first = await api.post("/v1/webhooks", json=body, headers=keyed)
        assert first.status_code == 503, first.text
        retried = await api.post("/v1/webhooks", json=body, headers=keyed)
        assert retried.status_code == 201, retried.text
        again = await api.post("/v1/webhooks", json=body, headers=keyed)
    created = retried.json()
    assert created["secret"].startswith("whsec_")
    assert again.json() == created  # the stored first answer, secret and all
    listed = (await api.get("/v1/webhooks", headers=ADMIN)).json()
    assert [item["id"] for item in listed].count(created["id"]) == 1
    workflow = dev_env.client.get_workflow_handle(f"webhook-{created['id']}")
    assert (await workflow.describe()).status == WorkflowExecutionStatus.RUNNING
