"""Keeping a review's rows in step with its targets (one undecided row per new target)."""

import uuid
from collections.abc import Mapping
from datetime import datetime

from sqlmodel import Session

from models.application import Application
from models.review import Assignment, Review, ReviewResponse, current_responses
from models.review_targets import Target, current_targets


def blank(review: Review, target: Target, at: datetime) -> ReviewResponse:
    """An undecided response to `target` in the review's current round."""
    return ReviewResponse(
        id=str(uuid.uuid4()),
        review_id=review.id,
        target_id=target.id,
        element_code=target.element_code,
        section_code=target.section_code,
        round=review.round,
        created_at=at,
        updated_at=at,
    )


def fill_blanks(
    session: Session,
    application: Application,
    review: Review,
    assignment: Assignment,
    sections_of: Mapping[str, str],
    at: datetime,
) -> int:
    """Add an undecided row for each current target no row answers yet; return how many."""
    sections = assignment.assigned_sections
    current = {r.element_code: r for r in current_responses(session, review, sections)}
    added = 0
    for target in current_targets(session, application, review, sections, sections_of):
        row = current.get(target.element_code)
        if row is None or row.target_id != target.id:
            session.add(blank(review, target, at))
            added += 1
    session.flush()
    return added
