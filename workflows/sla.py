"""SlaWorkflow: one timed service level that pauses, warns, breaches and stops."""

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

from domain.sla import SlaEvent, SlaEventKind, accepts, next_due, status
from workflows.payloads.sla import (
    APPEND_SLA_EVENT,
    OPEN_SLA,
    RECORD_SLA_DUE,
    AppendSlaEventInput,
    OpenSlaInput,
    RecordSlaDueInput,
    SlaLogRow,
    SlaState,
    StartSlaInput,
    sla_workflow_id,
)
from workflows.resumption import record_resumption

with workflow.unsafe.imports_passed_through():
    from core import temporal as keys

TIMEOUT = timedelta(seconds=30)
RETRY = RetryPolicy(maximum_interval=timedelta(seconds=10))


@workflow.defn
class SlaWorkflow:
    """An SLA instance (id `sla-{definition}-{subject}`).

    Signals: `pause`, `resume`, `stop`. Query: `state`.
    Timer: the next warning or the breach, for the remaining running time; a pause
    cancels it and a resume re-arms it (no burst of stale timers).
    Activities: open_sla (which reloads the log: a run restarted by reconcile times the
    remaining goal from it), append_sla_event, record_sla_due, record_resumption.
    """

    def __init__(self) -> None:
        self._pending: list[SlaEventKind] = []
        self._state: SlaState | None = None

    @workflow.run
    async def run(self, start: StartSlaInput) -> SlaState:
        """Open the instance, then time it until it stops."""
        self._state = await workflow.execute_activity(
            OPEN_SLA,
            OpenSlaInput(
                instance_id=sla_workflow_id(start.definition, start.subject),
                definition=start.definition,
                subject=start.subject,
                candidate_id=start.candidate_id,
                at=workflow.now(),
            ),
            result_type=SlaState,
            start_to_close_timeout=TIMEOUT,
            retry_policy=RETRY,
        )
        if start.resumed is not None:
            await record_resumption(start.resumed, subject_kind="sla", subject_id=start.subject)
        if start.start_paused:
            self._pending.insert(0, SlaEventKind.PAUSE)
        while True:
            await self._apply_pending()
            if self._log()[-1].kind == SlaEventKind.STOP:
                return self._publish()
            if workflow.info().is_continue_as_new_suggested():
                workflow.continue_as_new(
                    start.model_copy(update={"start_paused": False, "resumed": None})
                )
            await self._wait_for_next()

    @workflow.signal
    def pause(self) -> None:
        """The subject's candidate became inactive."""
        self._pending.append(SlaEventKind.PAUSE)

    @workflow.signal
    def resume(self) -> None:
        """The subject's candidate is active again."""
        self._pending.append(SlaEventKind.RESUME)

    @workflow.signal
    def stop(self) -> None:
        """The stop event happened (e.g. the outcome was released)."""
        self._pending.append(SlaEventKind.STOP)

    @workflow.query
    def state(self) -> SlaState | None:
        """The instance with its log."""
        return self._state

    async def _wait_for_next(self) -> None:
        state = self._require()
        passed = [*state.warned, *([1.0] if state.breached_at else [])]
        found = next_due(
            self._log(),
            workflow.now(),
            timedelta(seconds=state.goal_s),
            state.warning_fractions,
            passed,
        )
        if found is None:
            await workflow.wait_condition(lambda: bool(self._pending))
            return
        due, moment = found
        remaining = moment - workflow.now()
        if remaining > timedelta():
            try:
                await workflow.wait_condition(lambda: bool(self._pending), timeout=remaining)
                return  # a pause, resume or stop came first: the timer is cancelled
            except TimeoutError:
                pass
        await self._call(
            RECORD_SLA_DUE,
            RecordSlaDueInput(
                instance_id=state.instance_id, fraction=due.fraction, at=workflow.now()
            ),
        )
        if due.is_breach:
            self._state = state.model_copy(update={"breached_at": workflow.now()})
        else:
            self._state = state.model_copy(update={"warned": [*state.warned, due.fraction]})
        self._publish()

    async def _apply_pending(self) -> None:
        while self._pending:
            kind = self._pending.pop(0)
            state = self._require()
            if not accepts(self._log(), kind):
                continue  # a pause while paused, or anything after the stop: nothing to record
            row = SlaLogRow(kind=kind, at=workflow.now())
            await self._call(
                APPEND_SLA_EVENT,
                AppendSlaEventInput(
                    instance_id=state.instance_id, seq=len(state.log), kind=kind, at=row.at
                ),
            )
            self._state = state.model_copy(update={"log": [*state.log, row]})
            self._publish()

    def _log(self) -> list[SlaEvent]:
        return [SlaEvent(row.kind, row.at) for row in self._require().log]

    def _require(self) -> SlaState:
        assert self._state is not None
        return self._state

    def _publish(self) -> SlaState:
        state = self._require()
        current = status(self._log(), breached=state.breached_at is not None)
        self._state = state = state.model_copy(update={"status": current})
        workflow.upsert_search_attributes(
            [
                keys.CASE_KIND.value_set("sla"),
                keys.SLA_DEFINITION.value_set(state.definition),
                keys.CASE_STATUS.value_set([current.value]),
            ]
        )
        return state

    async def _call(self, name: str, arg: object) -> None:
        await workflow.execute_activity(
            name, arg, start_to_close_timeout=TIMEOUT, retry_policy=RETRY
        )
