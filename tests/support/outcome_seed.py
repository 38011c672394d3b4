"""Outcome records written straight to PostgreSQL for workflow, activity and bench runs."""

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine
from sqlmodel import Session

from domain.outcome import CandidateStatus, Grade, OutcomeKind, OutcomeStatus
from models.candidate import Candidate, Element, Employer, Provider
from models.outcome import Outcome
from tests.support.seed import T0


@dataclass(frozen=True)
class Records:
    """One provider, employer, candidate and element."""

    provider_id: str
    employer_id: str
    candidate_id: str
    element_id: str


def seed_records(
    engine: Engine,
    *,
    auto_release: bool = True,
    status: CandidateStatus = CandidateStatus.IN_ASSESSMENT,
    at: datetime = T0,
) -> Records:
    """A provider (auto-releasing or not) with one active candidate and one element."""
    ids = Records(*(str(uuid.uuid4()) for _ in range(4)))
    with Session(engine) as session, session.begin():
        session.add(
            Provider(
                id=ids.provider_id,
                name="Provider",
                auto_release_outcomes=auto_release,
                created_at=at,
                updated_at=at,
            )
        )
        session.add(Employer(id=ids.employer_id, name="Employer", created_at=at))
        session.flush()
        session.add(
            Candidate(
                id=ids.candidate_id,
                name="Ada Apprentice",
                uln="1234567890",
                provider_id=ids.provider_id,
                employer_id=ids.employer_id,
                standard="ST0001",
                cohort="2026",
                status=status,
                created_at=at,
                updated_at=at,
            )
        )
        session.flush()
        session.add(
            Element(
                id=ids.element_id,
                candidate_id=ids.candidate_id,
                component="practical",
                scheduled_at=at,
                created_at=at,
            )
        )
    return ids


def seed_pending_results(db: Engine, candidate_id: str, element_id: str, count: int) -> list[str]:
    """Pending results written straight to the table (no workflow: a batch needs none)."""
    at = T0
    ids = [str(uuid.uuid4()) for _ in range(count)]
    with Session(db) as session, session.begin():
        for outcome_id in ids:
            session.add(
                Outcome(
                    id=outcome_id,
                    kind=OutcomeKind.RESULT,
                    candidate_id=candidate_id,
                    element_id=element_id,
                    grade=Grade.PASS,
                    status=OutcomeStatus.PENDING_RELEASE,
                    submitted_by="seed",
                    submitted_at=at,
                    completed_at=at,
                    created_at=at,
                    updated_at=at,
                )
            )
    return ids
