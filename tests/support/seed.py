"""Rows written straight to PostgreSQL for workflow and activity tests."""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session

from models.application import Application, ApplicationResponse
from models.sla import SlaDefinition
from models.template import Template
from tests.support.builders import complete_answers, make_template

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def seed_template(engine: Engine, code: str = "qts", **overrides: Any) -> None:
    """Publish version 1 of `make_template(code, **overrides)`."""
    body = make_template(code, **overrides)
    with Session(engine) as session, session.begin():
        session.add(
            Template(
                code=code,
                version=1,
                name=body.pop("name"),
                definition={k: v for k, v in body.items() if k != "code"},
                published_at=T0,
                published_by="admin",
            )
        )


def seed_draft(
    engine: Engine, *, applicant: str = "alice", code: str = "qts", complete: bool = True
) -> str:
    """A draft (answered in full unless `complete` is False); returns its id."""
    application_id = str(uuid.uuid4())
    answers = complete_answers() if complete else {"full_name": "Ada"}
    with Session(engine) as session, session.begin():
        session.add(
            Application(
                id=application_id,
                template_code=code,
                template_version=1,
                applicant_id=applicant,
                created_at=T0,
                updated_at=T0,
            )
        )
        session.flush()
        for element, value in answers.items():
            session.add(
                ApplicationResponse(
                    id=str(uuid.uuid4()),
                    application_id=application_id,
                    element_code=element,
                    value=value,
                    created_at=T0,
                    updated_at=T0,
                )
            )
    return application_id


def seed_reviewer(
    engine: Engine,
    user_id: str,
    *,
    code: str = "qts",
    stage: str = "assessment",
    level: int = 1,
    sections: list[str] | None = None,
) -> None:
    """A reviewer granted (code, stage, level)."""
    from models.user import User

    grant = {"template_code": code, "stage": stage, "level": level, "sections": sections}
    with Session(engine) as session, session.begin():
        session.add(
            User(
                id=user_id,
                name=user_id,
                roles=["reviewer"],
                review_grants=[grant],
                created_at=T0,
                updated_at=T0,
            )
        )


def seed_ten_day_sla(engine: Engine) -> None:
    """The `ten_days` SLA definition the workflow tests time: warnings at 50% and 75%."""
    with Session(engine) as session, session.begin():
        session.add(
            SlaDefinition(
                code="ten_days",
                version=1,
                name="Ten days",
                start_event="a",
                stop_event="b",
                pause_rule="candidate_inactive",
                goal_s=int(timedelta(days=10).total_seconds()),
                warning_fractions=[0.5, 0.75],
                published_at=T0,
            )
        )
