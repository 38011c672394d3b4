"""The shipped Temporal dynamic config (deploy/temporal/dynamicconfig.yaml), read as the
server reads it, and turned into `temporal server start-dev --dynamic-config-value` flags."""

import json
from pathlib import Path
from typing import Any

import yaml

DYNAMIC_CONFIG = Path(__file__).resolve().parents[2] / "deploy/temporal/dynamicconfig.yaml"

# What `temporal server start-dev` changes from a production server's defaults (the CLI's
# devserver: internal/temporalcli/commands.server.go and internal/devserver/server.go), set
# back to the production values so the dev server behaves as the pinned server does.
PRODUCTION_DEFAULTS: dict[str, Any] = {
    "system.forceSearchAttributesCacheRefreshOnRead": False,
    "system.forceNexusEndpointRefreshOnRead": False,
    "frontend.persistenceMaxQPS": 2000,
    "history.persistenceMaxQPS": 9000,
    "frontend.namespaceRPS.visibility": 10,
}


def shipped() -> dict[str, Any]:
    """Each key's value; a key must hold one unconstrained value (true for every namespace)."""
    values: dict[str, Any] = {}
    for key, entries in yaml.safe_load(DYNAMIC_CONFIG.read_text()).items():
        assert isinstance(entries, list), f"{key}: a list of values"
        assert len(entries) == 1, f"{key}: one value for every namespace"
        assert not entries[0].get("constraints"), f"{key}: constrained"
        values[key] = entries[0]["value"]
    return values


def dev_server_flags() -> list[str]:
    """`--dynamic-config-value KEY=JSON` for the shipped values and the production defaults."""
    flags: list[str] = []
    for key, value in {**PRODUCTION_DEFAULTS, **shipped()}.items():
        flags += ["--dynamic-config-value", f"{key}={json.dumps(value)}"]
    return flags
