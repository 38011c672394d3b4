"""What a candidate's status change does to the work waiting on them (SLAs, release to-dos)."""

from enum import StrEnum

from domain.outcome import CandidateStatus, is_active


class WorkChange(StrEnum):
    """What happens to the candidate's running SLAs and open release to-dos."""

    PAUSE = "PAUSE"
    RESUME = "RESUME"


def work_change(before: CandidateStatus, after: CandidateStatus) -> WorkChange | None:
    """Leaving the active statuses pauses the work; coming back resumes it; a move within
    the active (or the inactive) statuses leaves it as it is."""
    if is_active(before) == is_active(after):
        return None
    return WorkChange.RESUME if is_active(after) else WorkChange.PAUSE
