"""Audit rows about the subject a command names (refused cancels, restarts)."""

from typing import Any

from sqlmodel import Session

from models.event import write_audit
from workflows.payloads.cancellation import RecordRefusedCancelInput
from workflows.payloads.resumption import RecordResumptionInput

# Commands that name their subject (kind and id), who acted, and when.
AboutSubject = RecordRefusedCancelInput | RecordResumptionInput
_WHO_WHEN_WHAT = {"subject_kind", "subject_id", "actor", "at"}


def audit_subject(
    session: Session, command: AboutSubject, action: str, key: str, detail: dict[str, Any]
) -> None:
    """One audit row on the command's subject, by its actor at its time (once per `key`)."""
    write_audit(
        session, **command.model_dump(include=_WHO_WHEN_WHAT), action=action, key=key, detail=detail
    )
