"""A worker interceptor that logs every transition: each activity's start and end, each
workflow's start and end, each update and signal (with workflow id, run id and activity).

One interceptor instead of a log call in every workflow and activity module: the lines
read alike everywhere and no transition can forget its line. Workflow lines go through
`workflow.logger`, so a replay does not repeat them.
"""

import asyncio
import time
from typing import Any

from temporalio import activity, workflow
from temporalio.exceptions import ApplicationError
from temporalio.worker import (
    ActivityInboundInterceptor,
    ExecuteActivityInput,
    ExecuteWorkflowInput,
    HandleSignalInput,
    HandleUpdateInput,
    Interceptor,
    WorkflowInboundInterceptor,
    WorkflowInterceptorClassInput,
)


class TransitionLogInterceptor(Interceptor):
    """Logs activities and workflow messages as they run (install it on the worker)."""

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _ActivityLog(next)

    def workflow_interceptor_class(
        self, input: WorkflowInterceptorClassInput
    ) -> type[WorkflowInboundInterceptor]:
        return _WorkflowLog


def _failure(error: BaseException) -> str:
    if isinstance(error, ApplicationError) and error.type:
        return f"{error.type}: {error.message}"
    return f"{type(error).__name__}: {error}"


class _ActivityLog(ActivityInboundInterceptor):
    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        info = activity.info()
        activity.logger.debug("activity started (attempt %s)", info.attempt)
        began = time.perf_counter()
        try:
            result = await super().execute_activity(input)
        except (Exception, asyncio.CancelledError) as error:
            activity.logger.warning(
                "activity failed (attempt %s): %s",
                info.attempt,
                _failure(error),
                extra={"attempt": info.attempt, "outcome": "failed"},
            )
            raise
        elapsed_ms = round((time.perf_counter() - began) * 1000, 1)
        activity.logger.info(
            "activity completed in %s ms",
            elapsed_ms,
            extra={"attempt": info.attempt, "outcome": "completed", "duration_ms": elapsed_ms},
        )
        return result


class _WorkflowLog(WorkflowInboundInterceptor):
    async def execute_workflow(self, input: ExecuteWorkflowInput) -> Any:
        workflow.logger.info("workflow %s started", workflow.info().workflow_type)
        try:
            result = await self.next.execute_workflow(input)
        except workflow.ContinueAsNewError:
            workflow.logger.info("workflow continued as new")
            raise
        except Exception as error:  # not BaseException: an evicted run closes with GeneratorExit
            workflow.logger.warning("workflow ended without a result: %s", _failure(error))
            raise
        workflow.logger.info("workflow %s completed", workflow.info().workflow_type)
        return result

    async def handle_signal(self, input: HandleSignalInput) -> None:
        workflow.logger.info("signal %s", input.signal, extra={"signal": input.signal})
        await self.next.handle_signal(input)

    async def handle_update_handler(self, input: HandleUpdateInput) -> Any:
        extra = {"update": input.update, "update_id": input.id}
        workflow.logger.info("update %s accepted", input.update, extra=extra)
        try:
            result = await self.next.handle_update_handler(input)
        except Exception as error:
            workflow.logger.info(
                "update %s refused: %s", input.update, _failure(error), extra=extra
            )
            raise
        workflow.logger.info("update %s completed", input.update, extra=extra)
        return result
