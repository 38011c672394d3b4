"""Fill a running stack with the demo world: templates, reviewers, applications in every
state, outcomes, SLAs and inductions, all through the HTTP API."""

from collections.abc import Callable
from typing import Any

from core.demo import applications, outcomes
from core.demo.client import DemoApi, SeedError, Unreachable, User
from core.demo.world import ADMIN, ASHA, REVIEWERS, STAFF, TEMPLATES

JSON = dict[str, Any]


def _templates(api: DemoApi, say: Callable[[str], None]) -> None:
    for template in TEMPLATES:
        published = api.post("/v1/templates", ADMIN, f"template:{template['code']}", template)
        say(f"template {published['code']} version {published['version']}: {template['name']}")


def _users(api: DemoApi, say: Callable[[str], None]) -> None:
    """Reviewers with their grants and an assigner (a user made by an earlier run is kept)."""
    for user, grants in [*REVIEWERS, (ASHA, [])]:
        body = {
            "id": user.sub,
            "name": user.name,
            "roles": list(user.roles),
            "review_grants": grants,
        }
        api.write("POST", "/v1/users", ADMIN, f"user:{user.sub}", body, ok=(201, 409))
        say(f"user {user.sub}: {', '.join(user.roles)}")


def _school(org: str) -> User:
    return User(f"{org}-office", ("school",), org=org)


def _body(org: str) -> User:
    return User(f"{org}-clerk", ("appropriate_body",), org=org)


INDUCTIONS = [
    # (trn, school, the AB the school names, the AB that claims, its programme type)
    ("2000001", "oakfield-primary", "ab-north", "ab-south", "provider_led"),
    ("2000002", "riverside-academy", "ab-north", "ab-north", "school_led"),
]


def _inductions(api: DemoApi, say: Callable[[str], None]) -> None:
    """One teacher the school and the claiming AB disagree about, one they agree about."""
    for trn, school, named, claimant, programme in INDUCTIONS:
        report = {
            "school_id": school,
            "appropriate_body_id": named,
            "programme_type": "school_led",
            "start_date": "2025-09-01",
        }
        base = f"/v1/inductions/{trn}"
        api.post(f"{base}/school-reports", _school(school), f"induction:{trn}:school", report)
        claim = {
            "appropriate_body_id": claimant,
            "programme_type": programme,
            "started_on": "2025-09-01",
        }
        api.post(f"{base}/ab-claims", _body(claimant), f"induction:{trn}:claim", claim)
        shown = api.get(base, ADMIN)
        open_ = [d["field"] for d in shown["discrepancies"] if d.get("resolved_at") is None]
        say(f"induction {trn} ({school}, claimed by {claimant}): discrepancies {open_ or 'none'}")


def _breach(api: DemoApi, wait_s: float, say: Callable[[str], None]) -> None:
    def breached() -> JSON | None:
        items: list[JSON] = api.get("/v1/slas?breached=true", STAFF)["items"]
        return items[0] if items else None

    if wait_s > 0:
        sla = api.wait_for("a breached SLA", breached, timeout_s=wait_s, every_s=1)
        say(f"SLA {sla['definition']} of {sla['subject']}: BREACHED at {sla['breached_at']}")


def run(
    base_url: str, secret: str, *, wait_s: float = 60, say: Callable[[str], None] = print
) -> int:
    """Seed the stack at `base_url`: 0 when done, 1 when a step was refused (it says which),
    3 when the API did not answer (the CLI's code for an unreachable dependency)."""
    api = DemoApi(base_url, secret)
    try:
        for part in (_templates, _users, applications.seed, outcomes.seed, _inductions):
            part(api, say)
        _breach(api, wait_s, say)
    except SeedError as error:
        say(f"seed-demo stopped: {error}")
        return 3 if isinstance(error, Unreachable) else 1
    say("demo world ready; running it again changes nothing")
    return 0
