"""History of SlaWorkflow: a pause cancels the warning timer, a resume re-arms it, the
first warning fires, and a stop before the goal ends it MET."""

from datetime import timedelta

from sqlmodel import Session

from domain.sla import SlaEventKind, SlaStatus
from models.sla import SlaDefinition
from tests.replay.recording import history_json, recording
from tests.support.seed import T0
from workflows.payloads.sla import StartSlaInput, sla_workflow_id
from workflows.sla import SlaWorkflow

DAY = timedelta(days=1)
DEFINITION = "replay_ten_days"


async def record_sla_pause_resume_warning_met(database_url: str) -> str:
    """Ten days, warnings at 50% and 75%: 3 days running, paused 20, resumed, the 50%
    warning fires at 5 days running, then stopped (MET)."""
    async with recording(database_url) as rec:
        with Session(rec.engine) as session, session.begin():
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
