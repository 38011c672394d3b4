"""Saved histories replay against today's workflow code (determinism and compatibility)."""

from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from worker import WORKFLOWS

HISTORIES = sorted((Path(__file__).parent / "histories").glob("*.json"))
TEXTS = {path: path.read_text() for path in HISTORIES}


def test_there_are_histories_to_replay() -> None:
    assert HISTORIES, "record some with `python -m tests.replay.recorder`"


@pytest.mark.parametrize("path", HISTORIES, ids=[p.stem for p in HISTORIES])
async def test_history_replays(path: Path) -> None:
    history = WorkflowHistory.from_json(path.stem, TEXTS[path])
    replayer = Replayer(workflows=WORKFLOWS, data_converter=pydantic_data_converter)

    await replayer.replay_workflow(history)
