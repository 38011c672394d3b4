"""A worker process SIGKILLed in the middle of a check-list sync: a new one finishes it, once."""

import asyncio
import signal
import sys
import uuid
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from api.services import checklist_sync as syncs
from core.db import make_engine
from core.temporal import dev_server_flags
from domain.application import AssessmentStatus
from domain.checklist_sync import SyncStatus
from tests.activities.test_checklist_sync_activities import V1, V2, publish, seed_assessment
from tests.e2e.conftest import spawn, stop
from tests.support.infra import TEMPORAL_CLI, free_port, truncate_all
from workflows.payloads.checklist_sync import StartChecklistSyncInput

pytestmark = pytest.mark.e2e


async def test_a_killed_worker_mid_sync_is_replaced_and_every_assessment_is_synced_once(
    database_url: str, python_env: dict[str, str], tmp_path: Path
) -> None:
    engine = make_engine(database_url)
    truncate_all(engine)
    publish(engine, 1, V1)
    publish(engine, 2, V2)
    ids = sorted(seed_assessment(engine, AssessmentStatus.NOT_STARTED) for _ in range(6))
    port = free_port()
    server = spawn(
        [
            str(TEMPORAL_CLI),
            "server",
            "start-dev",
            "--ip",
            "127.0.0.1",
            "--port",
            str(port),
            "--headless",
            "--log-level",
            "error",
            *dev_server_flags(),
        ],
        python_env,
        tmp_path / "temporal.log",
    )
    env = {
        **python_env,
        "DATABASE_URL": database_url,
        "TEMPORAL_ADDRESS": f"127.0.0.1:{port}",
        "AUTH_SECRET": "x" * 40,
    }
    worker = spawn([sys.executable, "worker.py"], env, tmp_path / "worker.log")
    blocker = engine.connect()
    try:
        client = await _connect(port)
        # Hold the fourth assessment's row: the sync stops inside its second page.
        transaction = blocker.begin()
        blocker.execute(
            text("SELECT 1 FROM assessments WHERE application_id = :id FOR UPDATE"), {"id": ids[3]}
        )
        start = StartChecklistSyncInput(sync_id=uuid.uuid4().hex, page_size=3, actor="test")
        handle = await syncs.start(client, start, task_queue="casework")
        await _until_waiting_on_a_lock(engine)

        stop(worker, signal.SIGKILL)  # mid-page, its transaction open
        transaction.rollback()
        worker = spawn([sys.executable, "worker.py"], env, tmp_path / "worker2.log")
        result = await asyncio.wait_for(handle.result(), timeout=120)

        assert result.status == SyncStatus.COMPLETED
        assert (result.found, result.synced, result.unchanged, result.skipped, result.failed) == (
            6,
            6,
            0,
            0,
            0,
        )
        with engine.connect() as conn:
            audits = conn.execute(
                text("SELECT count(*) FROM audit_log WHERE action LIKE 'checklist%'")
            ).scalar()
        assert audits == 6  # one audit row per changed assessment: nothing written twice
    finally:
        blocker.close()
        for process in (worker, server):
            stop(process)
        engine.dispose()


async def _connect(port: int) -> Client:
    for _ in range(100):
        try:
            return await Client.connect(f"127.0.0.1:{port}", data_converter=pydantic_data_converter)
        except RuntimeError:
            await asyncio.sleep(0.2)
    raise AssertionError("the dev server did not start")


async def _until_waiting_on_a_lock(engine: Engine) -> None:
    for _ in range(600):
        with engine.connect() as conn:
            waiting = conn.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE wait_event_type = 'Lock' AND datname = current_database()"
                )
            ).scalar()
        if waiting:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the sync never reached the locked assessment")
