"""Every Temporal server feature the code uses is enabled by the shipped dynamic config.

The code's use of the SDK is found by reading the source: each Client / handle method and
each workflow API it calls, and each start option it passes, must be in FEATURES, which
names the dynamic-config keys that feature needs. A new SDK call fails here until it is
classified, and a needed key missing from deploy/temporal/dynamicconfig.yaml fails too.
"""

import inspect
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import temporalio.client as client_api
import temporalio.workflow as workflow_api
import yaml

from core.temporal import SEARCH_ATTRIBUTES
from tests.support.dynamic_config import shipped

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ["api", "core", "workflows", "activities", "cli.py", "worker.py"]


@dataclass(frozen=True)
class Feature:
    """A server feature: the SDK names that use it and the dynamic config it needs."""

    name: str
    uses: frozenset[str]
    needs: dict[str, Any] = field(default_factory=dict)
    # A switch the server dropped at (major, minor) because it is always on from then.
    built_in_since: dict[str, tuple[int, int]] = field(default_factory=dict)


FEATURES = [
    Feature(
        "update-with-start (submit, claim, outcome)",
        frozenset({"execute_update_with_start_workflow", "start_update_with_start_workflow"}),
        {
            "frontend.enableUpdateWorkflowExecution": True,
            "history.enableUpdateWithStartRetryOnClosedWorkflowAbort": True,
            "history.enableUpdateWithStartRetryableErrorOnClosedWorkflowAbort": True,
        },
        # false by default on 1.25 (the old compose file's server): every submit refused
        {"frontend.enableExecuteMultiOperation": (1, 30)},
    ),
    Feature(
        "workflow updates",
        frozenset({"execute_update", "start_update", "get_update_handle", "update"}),
        {
            "frontend.enableUpdateWorkflowExecution": True,
            "frontend.enableUpdateWorkflowExecutionAsyncAccepted": True,
        },
    ),
    Feature(
        "schedules",
        frozenset({"create_schedule", "get_schedule_handle", "list_schedules"}),
        {"frontend.enableSchedules": True, "worker.enableScheduler": True},
    ),
    Feature(
        "user metadata (summary, details)",
        frozenset({"static_summary", "static_details", "set_current_details"}),
        {"limit.userMetadataSummarySize": 400, "limit.userMetadataDetailsSize": 20000},
    ),
    Feature(
        "workflow ids in PostgreSQL columns",
        frozenset({"id", "get_workflow_handle", "get_workflow_handle_for"}),
        {"limit.maxIDLength": 255},
    ),
    # Always on in every server line this service supports: no switch to set.
    Feature(
        "core workflow service",
        frozenset(
            {
                *("connect", "start_workflow", "signal", "query", "result", "describe"),
                *("cancel", "terminate", "fetch_history_events", "delete"),
                *("task_queue", "retry_policy", "rpc_timeout", "result_type"),
                *("id_conflict_policy", "id_reuse_policy", "start_signal"),
            }
        ),
    ),
    Feature("visibility queries", frozenset({"list_workflows", "count_workflows"})),
    Feature(
        "custom search attributes (see the slot test)",
        frozenset({"search_attributes", "upsert_search_attributes"}),
    ),
    Feature(
        "workflow APIs run by the worker",
        frozenset(
            {
                *("defn", "run", "init", "signal", "query", "info", "now", "uuid4"),
                *("execute_activity", "sleep", "wait_condition", "patched", "continue_as_new"),
                *("all_handlers_finished", "cancellation_reason"),
            }
        ),
    ),
]

# Custom search attributes a PostgreSQL visibility store holds per type (the columns of
# schema/postgresql/v12/visibility of the pinned server; Elasticsearch has no such limit).
POSTGRES_VISIBILITY_SLOTS = {
    "BOOL": 3,
    "DATETIME": 3,
    "FLOAT": 3,
    "INT": 3,
    "KEYWORD": 10,
    "KEYWORD_LIST": 3,
    "TEXT": 3,
}


def _source() -> str:
    files: list[Path] = []
    for name in SOURCES:
        path = ROOT / name
        files += sorted(path.rglob("*.py")) if path.is_dir() else [path]
    return "\n".join(path.read_text() for path in files)


def _sdk_names_used() -> set[str]:
    """SDK methods, workflow functions and start options the source calls or passes."""
    methods = {
        name
        for cls in (
            client_api.Client,
            client_api.WorkflowHandle,
            client_api.ScheduleHandle,
            client_api.WorkflowUpdateHandle,
        )
        for name, _ in inspect.getmembers(cls, callable)
        if not name.startswith("_")
    }
    functions = {
        name for name, _ in inspect.getmembers(workflow_api, inspect.isfunction) if name[0] != "_"
    }
    options = set(inspect.signature(client_api.Client.start_workflow).parameters)
    options |= set(inspect.signature(client_api.WithStartWorkflowOperation.__init__).parameters)
    source = _source()
    used = {m[1] for m in re.finditer(r"(?<!workflow)\.(\w+)\(", source)} & methods
    used |= {m[1] for m in re.finditer(r"\bworkflow\.(\w+)\b", source)} & functions
    used |= {m[1] for m in re.finditer(r"\b(\w+)=", source)} & (options - {"self"})
    return used


def _pinned_server() -> tuple[int, int]:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    tag = re.search(r":-([\d.]+)\}", compose["services"]["temporal"]["image"])
    assert tag
    major, minor = tag[1].split(".")[:2]
    return int(major), int(minor)


def test_every_temporal_feature_the_code_uses_is_classified() -> None:
    classified = set().union(*(feature.uses for feature in FEATURES))

    assert _sdk_names_used() - classified == set()


def test_the_feature_table_is_not_stale() -> None:
    used = _sdk_names_used()

    for feature in FEATURES:
        if feature.needs:
            assert feature.uses & used, f"{feature.name}: no longer used, drop its row"


@pytest.mark.parametrize("feature", [f for f in FEATURES if f.needs], ids=lambda f: f.name)
def test_a_feature_the_code_uses_is_enabled_in_the_shipped_config(feature: Feature) -> None:
    config = shipped()

    for key, wanted in feature.needs.items():
        assert key in config, f"{feature.name} needs {key}"
        if isinstance(wanted, bool):
            assert config[key] is wanted, f"{feature.name} needs {key}: {wanted}"
        else:
            assert config[key] >= wanted, f"{feature.name} needs {key} >= {wanted}"


@pytest.mark.parametrize("feature", [f for f in FEATURES if f.built_in_since], ids=lambda f: f.name)
def test_a_switch_older_servers_need_is_set_or_built_into_the_pinned_one(feature: Feature) -> None:
    config = shipped()

    for key, since in feature.built_in_since.items():
        assert _pinned_server() >= since or config.get(key) is True, f"{feature.name}: {key}"
        if _pinned_server() >= since:
            assert key not in config, f"{key} is gone from the pinned server: it would warn"


def test_the_search_attributes_fit_the_postgresql_visibility_store() -> None:
    per_type: dict[str, int] = {}
    for key in SEARCH_ATTRIBUTES:
        per_type[key.indexed_value_type.name] = per_type.get(key.indexed_value_type.name, 0) + 1

    for kind, count in per_type.items():
        assert count <= POSTGRES_VISIBILITY_SLOTS[kind], f"{count} {kind} attributes"
