"""The worker's sizing for a burst (decision 0101): its sticky cache, and the release's
workflow modules shared by every run instead of re-imported per run."""

from pathlib import Path

import pytest
from sqlalchemy import Engine
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer
from temporalio.worker.workflow_sandbox import _importer

from core.settings import get_settings
from worker import SANDBOX, WORKFLOWS, build_worker

HISTORIES = Path(__file__).parent.parent / "replay" / "histories"


async def test_each_polled_queue_keeps_the_configured_number_of_workflows(
    ts_env: WorkflowEnvironment, db: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    chosen = build_worker(ts_env.client, db, task_queue="sizing", threads=1, cached_workflows=7)
    assert [w.config()["max_cached_workflows"] for w in chosen.workers] == [7, 7]

    monkeypatch.setenv("WORKER_CACHED_WORKFLOWS", "1234")
    get_settings.cache_clear()
    try:
        default = build_worker(ts_env.client, db, task_queue="sizing-default", threads=1)
    finally:
        get_settings.cache_clear()
    assert [w.config()["max_cached_workflows"] for w in default.workers] == [1234, 1234]


@pytest.mark.parametrize(
    ("history", "module"),
    [
        ("outcome_release_by_batch_local_slas.json", "workflows.outcome"),
        ("sla_pause_resume_warning_met_local.json", "workflows.sla"),
        ("outcome_batch_scheduled.json", "workflows.outcome_batch"),
    ],
)
async def test_a_new_run_of_a_release_workflow_does_not_re_import_its_module(
    history: str, module: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    reloaded: list[str] = []
    passthrough = _importer.Importer._maybe_passthrough_module

    def spy(self: _importer.Importer, name: str) -> object:
        found = passthrough(self, name)
        if found is None:
            reloaded.append(name)  # imported afresh inside this run's sandbox
        return found

    monkeypatch.setattr(_importer.Importer, "_maybe_passthrough_module", spy)
    replayer = Replayer(
        workflows=WORKFLOWS, workflow_runner=SANDBOX, data_converter=pydantic_data_converter
    )
    text = (HISTORIES / history).read_text()
    await replayer.replay_workflow(WorkflowHistory.from_json("sizing", text))
    await replayer.replay_workflow(WorkflowHistory.from_json("sizing", text))

    assert module not in reloaded, reloaded
    assert "workflows.application" in reloaded  # the others still get a module per run
