"""@transaction_activity: one transaction per call, the session hidden from the activity's
signature, a refusal final."""

import inspect
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select
from temporalio import activity
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.base import EngineActivities, transaction_activity
from domain.errors import Conflict
from models.event import AuditEntry, write_audit
from workflows.payloads.cancellation import RecordRefusedCancelInput

AT = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


class _Writes(EngineActivities):
    """One audit row per call, then (when the command asks) a refusal or a crash."""

    @transaction_activity
    def write_then(self, session: Session, command: RecordRefusedCancelInput) -> str:
        write_audit(
            session,
            subject_kind=command.subject_kind,
            subject_id=command.subject_id,
            at=command.at,
            actor=command.actor,
            action="probe",
            key=f"probe:{command.subject_id}",
        )
        if command.why == "refuse":
            raise Conflict("no")
        if command.why == "crash":
            raise RuntimeError("boom")
        return command.subject_id


def _command(subject_id: str, why: str) -> RecordRefusedCancelInput:
    return RecordRefusedCancelInput(
        subject_kind="probe", subject_id=subject_id, actor="tester", note=None, why=why, at=AT
    )


def _keys(engine: Engine) -> list[str]:
    with Session(engine) as session:
        return sorted(session.exec(select(AuditEntry.dedupe_key)).all())


def test_the_activity_is_named_and_typed_without_the_session() -> None:
    definition = activity._Definition.from_callable(_Writes.write_then)

    assert definition is not None
    assert definition.name == "write_then"
    assert list(inspect.signature(_Writes.write_then).parameters) == ["self", "command"]
    assert definition.arg_types == [RecordRefusedCancelInput]
    assert definition.ret_type is str


def test_a_call_commits_its_writes(db: Engine) -> None:
    result = ActivityEnvironment().run(_Writes(db).write_then, _command("a", "ok"))

    assert result == "a"
    assert _keys(db) == ["probe:a"]


def test_a_refusal_rolls_back_and_is_not_retried(db: Engine) -> None:
    with pytest.raises(ApplicationError) as failure:
        ActivityEnvironment().run(_Writes(db).write_then, _command("b", "refuse"))

    assert failure.value.non_retryable
    assert failure.value.type == "Conflict"
    assert _keys(db) == []


def test_a_crash_rolls_back_and_stays_retryable(db: Engine) -> None:
    with pytest.raises(RuntimeError):
        ActivityEnvironment().run(_Writes(db).write_then, _command("c", "crash"))

    assert _keys(db) == []
