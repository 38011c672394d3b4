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
SOURCES = ["api", "core", "workflows", "activities", "operator_cli", "cli.py", "worker.py"]


@dataclass(frozen=True)
class Feature:
    """A server feature: the SDK names that use it and the dynamic config it needs."""

    name: str
    uses: frozenset[str]
    needs: dict[str, Any] = field(default_factory=dict)
    # A switch the server dropped at (major, minor) because it is always on from then.
    built_in_since: dict[str, tuple[int, int]] = field(default_factory=dict)


def _client(*names: str) -> frozenset[str]:
    """Methods of the Client and of its workflow, schedule and update handles."""
    return frozenset(f"client.{name}" for name in names)


def _workflow(*names: str) -> frozenset[str]:
    """Functions of temporalio.workflow (run by the worker)."""
    return frozenset(f"workflow.{name}" for name in names)


def _option(*names: str) -> frozenset[str]:
    """Options of a workflow start (Client.start_workflow, WithStartWorkflowOperation)."""
    return frozenset(f"start.{name}" for name in names)


FEATURES = [
    Feature(
        "update-with-start (submit, claim, outcome)",
        _client("execute_update_with_start_workflow", "start_update_with_start_workflow"),
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
        _client("execute_update", "start_update", "get_update_handle", "get_update_handle_for")
        | _workflow("update", "current_update_info", "set_update_handler"),
        {
            "frontend.enableUpdateWorkflowExecution": True,
            "frontend.enableUpdateWorkflowExecutionAsyncAccepted": True,
        },
    ),
    Feature(
        "schedules",
        _client("create_schedule", "get_schedule_handle", "list_schedules", "update"),
        {"frontend.enableSchedules": True, "worker.enableScheduler": True},
    ),
    Feature(
        "user metadata (summary, details)",
        _option("static_summary", "static_details")
        | _workflow("set_current_details", "get_current_details"),
        {"limit.userMetadataSummarySize": 400, "limit.userMetadataDetailsSize": 20000},
    ),
    Feature(
        "workflow ids in PostgreSQL columns",
        _option("id") | _client("get_workflow_handle", "get_workflow_handle_for"),
        {"limit.maxIDLength": 255},
    ),
    # Always on in every server line this service supports: no switch to set.
    Feature(
        "core workflow service",
        _client("connect", "start_workflow", "signal", "query", "result", "describe")
        | _client("cancel", "terminate", "fetch_history_events", "delete")
        | _client("config")  # a worker's (or client's) own options, read locally
        | _option("task_queue", "retry_policy", "rpc_timeout", "result_type", "args", "arg")
        | _option("id_conflict_policy", "id_reuse_policy", "start_signal", "start_signal_args")
        | _option("execution_timeout", "run_timeout", "task_timeout", "memo", "rpc_metadata"),
    ),
    Feature("visibility queries", _client("list_workflows", "count_workflows")),
    Feature(
        "custom search attributes (see the slot test)",
        _option("search_attributes") | _workflow("upsert_search_attributes"),
    ),
    # Worker-side: timers, activities, children, handlers, memos. Not classified on
    # purpose: Nexus (create_nexus_client: endpoints), signal_with_start_workflow,
    # dynamic_config (worker versioning), so a first use of them stops here; likewise the
    # Client's standalone activities (client.start_activity, client.execute_activity).
    Feature(
        "workflow APIs run by the worker",
        _workflow("defn", "run", "init", "signal", "query", "info", "instance", "now", "time")
        | _workflow("time_ns", "uuid4", "uuid7", "random", "new_random", "random_seed")
        | _workflow("register_random_seed_callback", "sleep", "wait_condition", "wait")
        | _workflow("as_completed", "patched", "deprecate_patch", "continue_as_new")
        | _workflow("all_handlers_finished", "cancellation_reason", "execute_activity")
        | _workflow("execute_activity_class", "execute_activity_method", "start_activity")
        | _workflow("start_activity_class", "start_activity_method", "execute_local_activity")
        | _workflow("execute_local_activity_class", "execute_local_activity_method")
        | _workflow("start_local_activity", "start_local_activity_class")
        | _workflow("start_local_activity_method", "execute_child_workflow")
        | _workflow("start_child_workflow", "get_external_workflow_handle")
        | _workflow("get_external_workflow_handle_for", "memo", "memo_value", "upsert_memo")
        | _workflow("get_last_completion_result", "get_last_failure")
        | _workflow("has_last_completion_result", "is_failure_exception", "in_workflow")
        | _workflow("payload_converter", "metric_meter", "extern_functions")
        | _workflow("create_event_group", "get_query_handler", "get_signal_handler")
        | _workflow("get_update_handler", "get_dynamic_query_handler")
        | _workflow("get_dynamic_signal_handler", "get_dynamic_update_handler")
        | _workflow("set_query_handler", "set_signal_handler", "set_dynamic_query_handler")
        | _workflow("set_dynamic_signal_handler", "set_dynamic_update_handler"),
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


def _sdk_names_used(source: str | None = None) -> set[str]:
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
    source = _source() if source is None else source
    # An interceptor passes a call on by the SDK's name (`self.next.execute_workflow(...)`,
    # `super().execute_activity(...)`): that is no use of a client feature.
    calls = r"(?<!workflow)(?<!self\.next)(?<!super\(\))\.(\w+)\("
    called = {m[1] for m in re.finditer(calls, source)} & methods
    run = {m[1] for m in re.finditer(r"\bworkflow\.(\w+)\b", source)} & functions
    passed = {m[1] for m in re.finditer(r"\b(\w+)=", source)} & (options - {"self"})
    return set(_client(*called) | _workflow(*run) | _option(*passed))


def _pinned_server() -> tuple[int, int]:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    tag = re.search(r":-([\d.]+)\}", compose["services"]["temporal"]["image"])
    assert tag
    major, minor = tag[1].split(".")[:2]
    return int(major), int(minor)


def test_every_temporal_feature_the_code_uses_is_classified() -> None:
    classified = set().union(*(feature.uses for feature in FEATURES))

    assert _sdk_names_used() - classified == set()


def test_a_first_use_of_an_unclassified_feature_is_caught() -> None:
    classified = set().union(*(feature.uses for feature in FEATURES))
    new_code = (
        "await client.execute_activity(check, id='x', task_queue=q)\n"
        "nexus = workflow.create_nexus_client(endpoint='e', service=S)\n"
        "await client.start_workflow(W.run, id='y', versioning_override=pinned)\n"
    )

    assert _sdk_names_used(new_code) - classified == {
        "client.execute_activity",
        "workflow.create_nexus_client",
        "start.versioning_override",
    }


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
