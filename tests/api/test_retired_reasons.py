"""A failure reason a check-list sync retired explains old declines but cannot be chosen."""

import httpx
from sqlalchemy import Engine
from sqlmodel import Session, select

from models.assessment import AssessmentSection
from tests.api.review_flows import decide, submitted_case, take_and_start, targets
from tests.support.tokens import bearer

ALICE = bearer("alice", "applicant")


async def test_a_retired_reason_is_refused_for_new_declines(
    api: httpx.AsyncClient, db: Engine
) -> None:
    application_id = await submitted_case(api, ALICE)
    _, review_id = await take_and_start(api, application_id)
    with Session(db) as session, session.begin():
        section = session.exec(
            select(AssessmentSection).where(AssessmentSection.code == "personal")
        ).one()
        section.failure_reasons = [
            {**reason, "retired": True} if reason["code"] == "id_mismatch" else reason
            for reason in section.failure_reasons
        ]
        session.add(section)

    target = (await targets(api, review_id))["full_name"]
    retired = await decide(api, review_id, target, decision="DECLINE", failure_reason="id_mismatch")
    current = await decide(api, review_id, target, decision="DECLINE", failure_reason="fraud")

    assert retired.status_code == 422
    assert "fraud" in retired.json()["detail"]
    assert current.status_code == 200
