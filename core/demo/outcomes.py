"""Results and certifications pending, scheduled, in QA, released; SLAs running, paused and
breached. A breach needs a short goal: the seed publishes one, starts one SLA on it, and
publishes the real goal again, so later SLAs are timed as usual."""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from core.demo.client import DemoApi
from core.demo.world import ADMIN, ASSESSOR, RELEASER, STAFF

JSON = dict[str, Any]
RELEASE_SLA = "result_complete_to_release"
SHORT_GOAL_S = 20
USUAL_GOAL_S = 14 * 86400  # migration 0007's goal


class Outcomes:
    """One provider (releasing by hand), its employer, and a candidate per story."""

    def __init__(self, api: DemoApi):
        self.api = api
        self.provider = str(
            api.post(
                "/v1/providers",
                ADMIN,
                "provider:northfield",
                {"name": "Northfield Training", "auto_release_outcomes": False},
            )["id"]
        )
        self.employer = str(
            api.post("/v1/employers", ADMIN, "employer:widgets", {"name": "Widgets Ltd"})["id"]
        )

    def candidate(self, name: str, uln: str) -> str:
        body = {
            "name": name,
            "uln": uln,
            "provider_id": self.provider,
            "employer_id": self.employer,
            "standard": "ST0116",
            "cohort": "2026",
            "status": "IN_ASSESSMENT",
        }
        return str(self.api.post("/v1/candidates", ADMIN, f"candidate:{uln}", body)["id"])

    def result(self, candidate: str, grade: str, *, sampled: bool = False) -> str:
        """An element (its SLA starts) and the assessor's result for it."""
        element = self.api.post(
            "/v1/elements",
            ADMIN,
            f"element:{candidate}",
            {
                "candidate_id": candidate,
                "component": "practical",
                "scheduled_at": "2026-11-02T09:00:00Z",
            },
        )
        body = {"element_id": element["id"], "grade": grade, "sampled_for_qa": sampled}
        return str(self.api.post("/v1/results", ASSESSOR, f"result:{candidate}", body)["id"])

    def read(self, kind: str, outcome: str) -> JSON:
        return self.api.get(f"/v1/{kind}s/{outcome}", STAFF)

    def sla_goal(self, subject: str) -> JSON | None:
        """The release SLA of `subject` once its workflow has recorded it, else None."""
        path = f"/v1/slas?definition={RELEASE_SLA}&subject={subject}"
        items: list[JSON] = self.api.get(path, STAFF)["items"]
        return items[0] if items else None


def _breached(world: Outcomes, say: Callable[[str], None]) -> None:
    api = world.api
    short = {"goal_s": SHORT_GOAL_S, "warning_fractions": [0.5, 0.75]}
    api.post(f"/v1/sla-definitions/{RELEASE_SLA}", ADMIN, "sla:short-goal", short)
    result = world.result(world.candidate("Eve Okafor", "9000000005"), "PASS")
    sla = api.wait_for(f"the SLA of result {result}", lambda: world.sla_goal(result))
    usual = {"goal_s": USUAL_GOAL_S, "warning_fractions": [0.5, 0.75]}
    api.post(f"/v1/sla-definitions/{RELEASE_SLA}", ADMIN, "sla:usual-goal", usual)
    say(f"result {result} (Eve): pending; its SLA's goal is {sla['goal_s']} s, so it breaches")


def _pending(world: Outcomes, say: Callable[[str], None]) -> None:
    ada = world.candidate("Ada Apprentice", "9000000001")
    result = world.result(ada, "PASS")
    body = {"candidate_id": ada, "grade": "PASS", "sampled_for_qa": False}
    cert = world.api.post("/v1/certifications", ASSESSOR, f"certification:{ada}", body)["id"]
    gateway = {"gateway_approved_at": "2026-10-01T09:00:00Z"}
    world.api.write("PATCH", f"/v1/candidates/{ada}", ADMIN, f"gateway:{ada}", gateway)
    say(f"result {result} and certification {cert} (Ada): pending release; time in EPA running")


def _scheduled(world: Outcomes, say: Callable[[str], None]) -> None:
    result = world.result(world.candidate("Ben Carter", "9000000002"), "MERIT")
    shown = world.read("result", result)
    if shown["status"] != "RELEASED" and not shown.get("scheduled_release_at"):
        tomorrow = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(days=1)
        body = {
            "outcomes": [{"kind": "result", "id": result}],
            "mode": "scheduled",
            "release_at": tomorrow.isoformat(),
        }
        world.api.post("/v1/outcome-releases", RELEASER, f"schedule:{result}", body)
        shown = world.read("result", result)
    say(f"result {result} (Ben): release scheduled at {shown['scheduled_release_at']}")


def _in_qa(world: Outcomes, say: Callable[[str], None]) -> None:
    result = world.result(
        world.candidate("Cleo Dimitriou", "9000000003"), "DISTINCTION", sampled=True
    )
    say(f"result {result} (Cleo): sampled for QA, waiting for sign-off")


def _released(world: Outcomes, say: Callable[[str], None]) -> None:
    result = world.result(world.candidate("Dan Evans", "9000000004"), "PASS")
    if world.read("result", result)["status"] != "RELEASED":
        path = f"/v1/outcome-releases/result/{result}"
        world.api.write("PATCH", path, RELEASER, f"release:{result}", {"mode": "now"})
    say(f"result {result} (Dan): released by hand; its SLAs met")


def _paused(world: Outcomes, say: Callable[[str], None]) -> None:
    finn = world.candidate("Finn Gallagher", "9000000006")
    result = world.result(finn, "PASS")
    world.api.wait_for(f"the SLA of result {result}", lambda: world.sla_goal(result))
    back = {"status": "BACK_INTO_LEARNING"}
    world.api.write("PATCH", f"/v1/candidates/{finn}", ADMIN, f"status:{finn}", back)
    say(f"result {result} (Finn): pending; back into learning, so its SLAs are paused")


def seed(api: DemoApi, say: Callable[[str], None]) -> None:
    """The breached SLA first (it falls due while the rest is made), then the others."""
    world = Outcomes(api)
    for story in (_breached, _pending, _scheduled, _in_qa, _released, _paused):
        story(world, say)
