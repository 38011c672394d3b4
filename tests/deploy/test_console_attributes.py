"""The search attributes the runbook documents are the ones every deployment registers
(`cli.py setup`, the dev server's flags) with the documented types."""

import re
from pathlib import Path

from core.temporal import SEARCH_ATTRIBUTES, dev_server_flags

RUNBOOK = (Path(__file__).resolve().parents[2] / "docs" / "operations.md").read_text()
SECTION = RUNBOOK.split("### Finding a case", 1)[1].split("### Saved views", 1)[0]
# Table rows: | `Name`[, `Name`...] | Type | ...
ROW = re.compile(r"^\| (`\w+`(?:, `\w+`)*) \|\s*(\w*)\s*\|", re.M)


def test_every_documented_attribute_is_registered_with_its_type() -> None:
    registered = dict(value.split("=") for value in dev_server_flags()[1::2])
    documented: dict[str, str] = {}
    for names, kind in ROW.findall(SECTION):
        for name in re.findall(r"`(\w+)`", names):
            documented[name] = kind

    assert set(documented) == {key.name for key in SEARCH_ATTRIBUTES}
    assert {name: kind for name, kind in documented.items() if kind} == {
        name: registered[name] for name, kind in documented.items() if kind
    }
    assert registered["WaitingOn"] == "Keyword"
    assert registered["DueAt"] == registered["WaitingSince"] == "Datetime"
    assert registered["Breached"] == "Bool"


def test_every_saved_view_names_only_registered_or_builtin_attributes() -> None:
    builtin = {"ExecutionStatus", "WorkflowId", "WorkflowType", "StartTime", "CloseTime"}
    views = re.findall(r"<!-- saved-view: [\w-]+ -->\n```text\n(.+?)\n```", RUNBOOK, re.S)
    named = {word for view in views for word in re.findall(r"\b([A-Z]\w+) (?:=|<|>|BETWEEN)", view)}

    assert views
    assert named - builtin <= {key.name for key in SEARCH_ATTRIBUTES}
