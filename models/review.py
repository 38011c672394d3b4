"""Assignments, held sections, reviews and review responses."""

from datetime import datetime

import pydantic
from pydantic import BaseModel, ConfigDict
from sqlalchemy import Index, UniqueConstraint
from sqlalchemy.dialects.postgresql import distinct_on
from sqlmodel import Field, Session, SQLModel, col, select
from sqlmodel.sql.expression import SelectOfScalar

from domain.application import ApplicationStatus
from domain.review import (
    AssignmentStatus,
    ResponseDecision,
    ReviewDecision,
    ReviewStatus,
)
from domain.template import MAX_PARTS
from domain.values import Code, Comment
from models.common import json_field, time_field
from models.enum_column import enum_field


class Assignment(SQLModel, table=True):
    """One granted user's row at one stage level of an application."""

    __tablename__ = "assignments"
    __table_args__ = (UniqueConstraint("application_id", "stage", "level", "reviewer_id"),)

    id: str = Field(primary_key=True, max_length=64)
    application_id: str = Field(foreign_key="applications.id", index=True, max_length=64)
    stage: str = Field(max_length=64)
    level: int
    reviewer_id: str = Field(max_length=128, index=True)
    assigner_id: str | None = Field(default=None, max_length=128)
    status: AssignmentStatus = enum_field(
        AssignmentStatus, max_length=16, default=AssignmentStatus.AVAILABLE
    )
    allowed_sections: list[str] | None = json_field(nullable=True)
    assigned_sections: list[str] = json_field(default=list)
    is_self_assignable: bool = True
    is_last_level: bool = False
    is_last_stage: bool = False
    is_final_decision: bool = False
    created_at: datetime = time_field()
    updated_at: datetime = time_field()
    closed_at: datetime | None = time_field(nullable=True)
    # The reviewer's clock (decision 0095): set while it runs; `overdue_at` once marked.
    due_at: datetime | None = time_field(nullable=True, index=True)
    overdue_at: datetime | None = time_field(nullable=True)


class HeldSection(SQLModel, table=True):
    """A section held by one reviewer at one level: the unique key settles races."""

    __tablename__ = "held_sections"
    __table_args__ = (UniqueConstraint("application_id", "stage", "level", "section"),)

    id: int | None = Field(default=None, primary_key=True)
    application_id: str = Field(foreign_key="applications.id", max_length=64)
    stage: str = Field(max_length=64)
    level: int
    section: str = Field(max_length=64)
    assignment_id: str = Field(foreign_key="assignments.id", index=True, max_length=64)


class Review(SQLModel, table=True):
    """A reviewer's review on an assignment; it keeps its id for life."""

    __tablename__ = "reviews"

    id: str = Field(primary_key=True, max_length=64)
    assignment_id: str = Field(foreign_key="assignments.id", unique=True, max_length=64)
    application_id: str = Field(foreign_key="applications.id", index=True, max_length=64)
    stage: str = Field(max_length=64)
    level: int
    reviewer_id: str = Field(max_length=128, index=True)
    status: ReviewStatus = enum_field(ReviewStatus, max_length=32, default=ReviewStatus.DRAFT)
    round: int = 1
    decision: ReviewDecision | None = enum_field(ReviewDecision, max_length=32, nullable=True)
    comment: str | None = None
    time_started: datetime = time_field()
    time_submitted: datetime | None = time_field(nullable=True)
    updated_at: datetime = time_field()


class ReviewResponse(SQLModel, table=True):
    """A decision on one target; a change after submission is a new row (round)."""

    __tablename__ = "review_responses"
    __table_args__ = (
        UniqueConstraint("review_id", "target_id", "round"),
        Index("ix_review_responses_review_element", "review_id", "element_code", "round"),
    )

    id: str = Field(primary_key=True, max_length=64)
    review_id: str = Field(foreign_key="reviews.id", max_length=64)
    target_id: str = Field(max_length=64, index=True)
    element_code: str = Field(max_length=64)
    section_code: str = Field(max_length=64)
    round: int
    decision: ResponseDecision | None = enum_field(ResponseDecision, max_length=16, nullable=True)
    comment: str | None = None
    failure_reason: str | None = Field(default=None, max_length=64)
    recommended_applicant_visibility: bool = True
    is_visible_to_applicant: bool = False
    loq_round: int | None = None
    created_at: datetime = time_field()
    updated_at: datetime = time_field()
    submitted_at: datetime | None = time_field(nullable=True)


def overdue_application_ids(now: datetime) -> SelectOfScalar[str]:
    """Ids of the applications holding an open assignment whose reviewer clock is overdue."""
    return (
        select(Assignment.application_id)
        .where(
            col(Assignment.closed_at).is_(None),
            col(Assignment.due_at).is_not(None),
            col(Assignment.due_at) <= now,
        )
        .distinct()
    )


def current_responses(
    session: Session, review: Review, sections: list[str]
) -> list[ReviewResponse]:
    """The newest response per element of `sections` (the review's current view)."""
    query = (
        select(ReviewResponse)
        .where(
            ReviewResponse.review_id == review.id, col(ReviewResponse.section_code).in_(sections)
        )
        .ext(distinct_on(col(ReviewResponse.element_code)))
        .order_by(
            col(ReviewResponse.element_code),
            col(ReviewResponse.round).desc(),
            col(ReviewResponse.created_at).desc(),
        )
    )
    return list(session.exec(query).all())


class AssignmentPublic(BaseModel):
    """An assignment row as the API shows it."""

    id: str
    application_id: str
    stage: str
    level: int
    reviewer_id: str
    assigner_id: str | None
    status: AssignmentStatus
    allowed_sections: list[str] | None
    available_sections: list[str]
    assigned_sections: list[str]
    is_self_assignable: bool
    is_last_level: bool
    is_last_stage: bool
    is_final_decision: bool
    review_id: str | None = None
    review_status: ReviewStatus | None = None


class ClaimBody(BaseModel):
    """Body of assign (sections required) and self-assign (omitted = all available)."""

    model_config = ConfigDict(extra="forbid")

    sections: list[Code] | None = pydantic.Field(default=None, min_length=1, max_length=MAX_PARTS)


class ReviewStartedPublic(BaseModel):
    """Answer to starting or restarting a review."""

    review_id: str
    status: ReviewStatus


class ReviewResponseWrite(BaseModel):
    """Body of PUT /v1/reviews/{id}/responses/{target_id} (a draft write)."""

    model_config = ConfigDict(extra="forbid")

    decision: ResponseDecision
    comment: Comment | None = None
    failure_reason: Code | None = None
    recommended_applicant_visibility: bool | None = None


class ReviewResponsePublic(BaseModel):
    """One decision of a review."""

    id: str
    target_id: str
    element_code: str
    section_code: str
    decision: ResponseDecision | None
    comment: str | None
    failure_reason: str | None
    recommended_applicant_visibility: bool
    is_visible_to_applicant: bool


class ReviewPublic(BaseModel):
    """A review with what it may decide and what it still misses."""

    id: str
    status: ReviewStatus
    level: int
    stage: str
    application_id: str
    reviewer_id: str
    assignment_id: str
    decision: ReviewDecision | None
    comment: str | None
    round: int
    is_last_level: bool
    is_last_stage: bool
    is_final_decision: bool
    time_started: datetime
    time_submitted: datetime | None
    due_at: datetime | None = pydantic.Field(
        default=None,
        description="When the review is due (set while its reviewer's clock runs: from "
        "taking sections until the review is submitted, restarted or given back).",
    )
    overdue: bool = pydantic.Field(
        default=False, description="The due date has passed and the clock still runs."
    )
    responses: list[ReviewResponsePublic]
    allowed_decisions: list[ReviewDecision]
    can_submit: bool
    missing: list[str] = pydantic.Field(
        description="What stands between the review and its submission: the undecided "
        "targets' ids, then the codes of the sections a consolidation still waits for."
    )
    missing_sections: list[str] = pydantic.Field(
        default_factory=list,
        description="Sections a consolidation still waits for: the level below has not "
        "submitted a review holding them yet (also at the end of `missing`).",
    )


class ReviewSubmitBody(BaseModel):
    """Body of POST /v1/reviews/{id}/submit."""

    model_config = ConfigDict(extra="forbid")

    decision: ReviewDecision | None = None
    comment: Comment | None = None


class ReviewSubmitResult(BaseModel):
    """Answer to a review submission: where the review and the application now stand."""

    review_id: str
    status: ReviewStatus
    review_status: ReviewStatus
    decision: ReviewDecision | None
    application_status: ApplicationStatus
    stage: str | None
    level: int
