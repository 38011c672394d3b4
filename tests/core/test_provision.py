"""`cli.py setup` on a real server: the namespace is made once, the probe names every
search attribute and is refused while one of them is unknown."""

import uuid

import pytest
from temporalio.client import Client
from temporalio.common import SearchAttributeKey
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from core import provision
from core.provision import ensure_namespace, probe_query
from core.temporal import SEARCH_ATTRIBUTES


async def test_a_missing_namespace_is_registered_once(dev_env: WorkflowEnvironment) -> None:
    config = dev_env.client.config()
    config["namespace"] = f"casework-{uuid.uuid4().hex[:8]}"
    client = Client(**config)

    assert await ensure_namespace(client) is True
    assert await ensure_namespace(client) is False


async def test_an_existing_namespace_is_left_alone(dev_env: WorkflowEnvironment) -> None:
    assert await ensure_namespace(dev_env.client) is False


def test_the_probe_names_every_search_attribute() -> None:
    query = probe_query()

    for key in SEARCH_ATTRIBUTES:
        assert f"{key.name} = " in query


async def test_the_probe_is_accepted_once_every_attribute_is_known(
    dev_env: WorkflowEnvironment, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert (await dev_env.client.count_workflows(probe_query())).count >= 0

    unknown = SearchAttributeKey.for_keyword(f"NotRegistered{uuid.uuid4().hex[:6]}")
    monkeypatch.setattr(provision, "SEARCH_ATTRIBUTES", (*SEARCH_ATTRIBUTES, unknown))
    with pytest.raises(RPCError):
        await dev_env.client.count_workflows(probe_query())
