"""Outcome records written straight to PostgreSQL for workflow, activity and bench runs."""

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine
from sqlmodel import Session

from domain.outcome import CandidateStatus
from models.candidate import Candidate, Element, Employer, Provider
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
