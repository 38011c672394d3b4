"""History of SlaWorkflow: a pause cancels the warning timer, a resume re-arms it, the
first warning fires, and a stop before the goal ends it MET."""

from datetime import timedelta

from sqlalchemy import Engine
from sqlmodel import Session

from domain.outcome import CandidateStatus
from domain.sla import SlaEventKind, SlaStatus
from models.candidate import Candidate
from models.sla import SlaDefinition
from tests.replay.recording import history_json, recording
from tests.support.outcome_seed import seed_records
from tests.support.seed import T0
from tests.support.sla_calendar import (
    LONDON,
    next_friday_afternoon,
    seed_calendar,
    seed_definition,
    skip_to,
)
from workflows.payloads.sla import StartSlaInput, sla_workflow_id
from workflows.sla import SlaWorkflow

DAY = timedelta(days=1)
DEFINITION = "replay_ten_days"
CALENDARED = "replay_office_hours"


def _define(engine: Engine) -> None:
    with Session(engine) as session, session.begin():
        session.add(
            SlaDefinition(
                code=DEFINITION,
                version=1,
                name="Ten days (replay)",
                start_event="a",
                stop_event="b",
                pause_rule="candidate_inactive",
                goal_s=int((10 * DAY).total_seconds()),
                warning_fractions=[0.5, 0.75],
                published_at=T0,
            )
        )


async def record_sla_pause_resume_warning_met(database_url: str) -> str:
    """Ten days, warnings at 50% and 75%: 3 days running, paused 20, resumed, the 50%
    warning fires at 5 days running, then stopped (MET)."""
    async with recording(database_url) as rec:
        _define(rec.engine)
        handle = await rec.client.start_workflow(
            SlaWorkflow.run,
            StartSlaInput(definition=DEFINITION, subject="result-replay"),
            id=sla_workflow_id(DEFINITION, "result-replay"),
            task_queue=rec.queue,
        )
        await rec.env.sleep(DAY * 3)
        await handle.signal(SlaWorkflow.pause)  # cancels the 50% timer
        await rec.env.sleep(DAY * 20)
        await handle.signal(SlaWorkflow.resume)  # re-arms it for the 2 days left
        await rec.env.sleep(DAY * 2 + timedelta(hours=1))  # the 50% warning fires
        await handle.signal(SlaWorkflow.stop)  # cancels the 75% timer
        result = await handle.result()
        assert result.status == SlaStatus.MET, result
        kinds = [row.kind for row in result.log]
        assert kinds == [
            SlaEventKind.START,
            SlaEventKind.PAUSE,
            SlaEventKind.RESUME,
            SlaEventKind.STOP,
        ], kinds
        assert result.warned == [0.5], result
        return await history_json(handle)


def _set_candidate(engine: Engine, candidate_id: str, status: CandidateStatus) -> None:
    with Session(engine) as session, session.begin():
        candidate = session.get(Candidate, candidate_id)
        assert candidate is not None
        candidate.status = status


async def record_sla_candidate_catch_up(database_url: str) -> str:
    """`candidate_changed` signals: one with nothing to do, the candidate into retake
    review (paused, sent twice), back in assessment (resumed), the 50% warning, stopped."""
    async with recording(database_url) as rec:
        _define(rec.engine)
        candidate_id = seed_records(rec.engine).candidate_id
        handle = await rec.client.start_workflow(
            SlaWorkflow.run,
            StartSlaInput(
                definition=DEFINITION, subject="element-replay", candidate_id=candidate_id
            ),
            id=sla_workflow_id(DEFINITION, "element-replay"),
            task_queue=rec.queue,
        )
        await handle.signal(SlaWorkflow.candidate_changed)
        await rec.env.sleep(DAY * 3)
        _set_candidate(rec.engine, candidate_id, CandidateStatus.RETAKE_REVIEW)
        await handle.signal(SlaWorkflow.candidate_changed)
        await handle.signal(SlaWorkflow.candidate_changed)
        await rec.env.sleep(DAY * 20)
        _set_candidate(rec.engine, candidate_id, CandidateStatus.IN_ASSESSMENT)
        await handle.signal(SlaWorkflow.candidate_changed)
        await rec.env.sleep(DAY * 2 + timedelta(hours=1))
        await handle.signal(SlaWorkflow.stop)
        result = await handle.result()
        kinds = [row.kind for row in result.log]
        assert kinds == [
            SlaEventKind.START,
            SlaEventKind.PAUSE,
            SlaEventKind.RESUME,
            SlaEventKind.STOP,
        ], kinds
        assert result.warned == [0.5], result
        return await history_json(handle)


async def record_sla_calendar_breach(database_url: str) -> str:
    """On calendar `office` (09:00-17:00 Monday to Friday, London, the Monday a holiday):
    16 working hours from Friday 15:00, paused an hour on Tuesday, resumed (the timers
    re-armed for the wall instant), the 50% warning, then the breach on Wednesday 16:00."""
    async with recording(database_url) as rec:
        friday = next_friday_afternoon(await rec.env.get_current_time(), october=False)
        seed_calendar(rec.engine, [friday.date() + timedelta(days=3)])
        seed_definition(rec.engine, timedelta(hours=16), [0.5], code=CALENDARED)
        await skip_to(rec.env, friday)
        handle = await rec.client.start_workflow(
            SlaWorkflow.run,
            StartSlaInput(definition=CALENDARED, subject="result-replay"),
            id=sla_workflow_id(CALENDARED, "result-replay"),
            task_queue=rec.queue,
        )
        tuesday = friday + timedelta(days=4)
        await skip_to(rec.env, tuesday.replace(hour=10))
        await handle.signal(SlaWorkflow.pause)  # cancels the breach timer
        await skip_to(rec.env, tuesday.replace(hour=11))
        await handle.signal(SlaWorkflow.resume)  # re-arms it: Wednesday 16:00
        await skip_to(rec.env, tuesday.replace(hour=16, minute=30) + timedelta(days=1))
        await handle.signal(SlaWorkflow.stop)
        result = await handle.result()
        assert result.status == SlaStatus.BREACHED, result
        assert result.warned == [0.5], result
        assert result.breached_at is not None
        breached = result.breached_at.astimezone(LONDON)
        assert (breached.weekday(), breached.hour) == (2, 16), breached
        return await history_json(handle)
