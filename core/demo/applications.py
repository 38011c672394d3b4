"""Applications in every state, each driven through the HTTP API like a person would."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from core.demo.client import DemoApi, SeedError, User
from core.demo.world import ANSWERS, RAJ, RITA, applicant

JSON = dict[str, Any]


@dataclass
class Case:
    """One demo application: its story's name (the keys' prefix), applicant and id."""

    api: DemoApi
    story: str
    applicant: User
    template: str
    id: str = ""

    def key(self, step: str) -> str:
        return f"application:{self.story}:{step}"

    def status(self) -> str:
        return str(self.api.get(f"/v1/applications/{self.id}", self.applicant)["status"])

    def draft(self, answers: JSON) -> bool:
        """Create (or find again) the draft and answer it; False when a run took it further."""
        created = self.api.post(
            "/v1/applications", self.applicant, self.key("draft"), {"template_code": self.template}
        )
        self.id = str(created["id"])
        if self.status() != "DRAFT":
            return False
        for element, value in answers.items():
            self.answer(element, value, "answer")
        return True

    def answer(self, element: str, value: Any, round_: str) -> None:
        path = f"/v1/applications/{self.id}/responses/{element}"
        self.api.put(path, self.applicant, self.key(f"{round_}:{element}"), {"value": value})

    def submit(self, round_: str = "submit") -> None:
        self.api.post(f"/v1/applications/{self.id}/submit", self.applicant, self.key(round_))

    def take_and_start(self, reviewer: User, stage: str = "assessment") -> str:
        """The reviewer self-assigns their row at `stage` and starts its review: its id."""
        rows = self.api.get(f"/v1/applications/{self.id}/assignments", reviewer)["items"]
        mine = [r for r in rows if r["reviewer_id"] == reviewer.sub and r["stage"] == stage]
        if not mine:
            raise SeedError(f"{self.story}: no assignment row for {reviewer.sub} at {stage}")
        row = str(mine[0]["id"])
        self.api.post(f"/v1/assignments/{row}/self-assign", reviewer, self.key(f"{stage}:take"))
        started = self.api.post(
            f"/v1/assignments/{row}/reviews", reviewer, self.key(f"{stage}:start")
        )
        return str(started["review_id"])

    def decide(self, review: str, reviewer: User, decisions: dict[str, JSON]) -> None:
        """Record each element's decision (elements not named are approved)."""
        shown = self.api.get(f"/v1/reviews/{review}", reviewer)
        for response in shown["responses"]:
            if response["decision"] is not None:
                continue
            element = response["element_code"]
            body = decisions.get(element, {"decision": "APPROVE"})
            path = f"/v1/reviews/{review}/responses/{response['target_id']}"
            self.api.put(path, reviewer, self.key(f"{review}:{element}"), body)

    def submit_review(self, review: str, reviewer: User, decision: str) -> None:
        path = f"/v1/reviews/{review}/submit"
        self.api.post(path, reviewer, self.key(f"{review}:submit"), {"decision": decision})


DECLINE_NAME = {
    "decision": "DECLINE",
    "failure_reason": "id_mismatch",
    "comment": "Please give your name exactly as on your passport.",
}
DECLINE_DEGREE = {
    "decision": "DECLINE",
    "failure_reason": "no_degree",
    "comment": "The certificate shows a foundation degree.",
}


def _in_review(case: Case) -> None:
    review = case.take_and_start(RITA)
    shown = case.api.get(f"/v1/reviews/{review}", RITA)
    first = shown["responses"][0]
    path = f"/v1/reviews/{review}/responses/{first['target_id']}"
    case.api.put(path, RITA, case.key("first-decision"), {"decision": "APPROVE"})


def _loq(case: Case) -> str:
    review = case.take_and_start(RITA)
    case.decide(review, RITA, {"full_name": DECLINE_NAME})
    case.submit_review(review, RITA, "LIST_OF_QUESTIONS")
    return review


def _resubmitted(case: Case) -> None:
    _loq(case)
    case.answer("full_name", "Erin Margaret Jones", "loq-answer")
    case.submit("resubmit")


def _approved(case: Case) -> None:
    review = case.take_and_start(RITA)
    case.decide(review, RITA, {})
    case.submit_review(review, RITA, "CONFORM")


def _rejected(case: Case) -> None:
    review = case.take_and_start(RITA)
    case.decide(review, RITA, {"degree": DECLINE_DEGREE})
    case.submit_review(review, RITA, "NON_CONFORM")


def _withdrawn(case: Case) -> None:
    path = f"/v1/applications/{case.id}/withdraw"
    case.api.post(path, case.applicant, case.key("withdraw"))


def _final_stage(case: Case) -> None:
    _approved(case)
    case.api.wait_for(
        "npq's final-stage row",
        lambda: case.api.get(f"/v1/applications/{case.id}/assignments", RAJ) or None,
    )


Step = Callable[[Case], object]
# (story, applicant, template, what happens after the submit, the state it ends in)
STORIES: list[tuple[str, str, str, Step | None, str]] = [
    ("awaiting-reviewer", "bob", "qts", None, "SUBMITTED, a row available to Rita"),
    ("in-review", "dev", "qts", _in_review, "SUBMITTED, Rita's review under way"),
    ("open-loq", "alice", "qts", _loq, "CHANGES_REQUIRED, an open list of questions"),
    ("resubmitted", "erin", "qts", _resubmitted, "SUBMITTED again after the LOQ"),
    ("approved", "farah", "qts", _approved, "COMPLETED, APPROVED"),
    ("rejected", "george", "qts", _rejected, "COMPLETED, REJECTED"),
    ("withdrawn", "hana", "qts", _withdrawn, "WITHDRAWN"),
    ("final-stage", "ivan", "npq", _final_stage, "SUBMITTED, at the final-decision stage"),
    ("no-reviewer", "jo", "eyts", None, "SUBMITTED, nobody granted to review it"),
]


def seed(api: DemoApi, say: Callable[[str], None]) -> None:
    """A draft, then one application per story, each taken as far as its story says."""
    draft = Case(api, "draft", applicant("carol"), "qts")
    draft.draft({"full_name": "Carol King", "birth_date": "1992-05-14"})
    say(f"application {draft.id} (carol): DRAFT, half answered")
    for story, sub, template, after, shown in STORIES:
        case = Case(api, story, applicant(sub), template)
        if case.draft(ANSWERS[template]):
            case.submit()
            if after is not None:
                after(case)
        say(f"application {case.id} ({sub}, {template}): {shown}")
