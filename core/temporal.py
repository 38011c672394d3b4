"""Temporal client, data converter, task queue and every custom search attribute."""

import asyncio
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import (
    AddSearchAttributesRequest,
    ListSearchAttributesRequest,
)
from temporalio.client import Client, Interceptor
from temporalio.common import SearchAttributeKey
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.runtime import Runtime
from temporalio.service import RPCError, RPCStatusCode, TLSConfig

from core.settings import TASK_QUEUE, Settings

__all__ = [
    "SEARCH_ATTRIBUTES",
    "TASK_QUEUE",
    "connect",
    "register_search_attributes",
    "tls_config",
]

CASE_KIND = SearchAttributeKey.for_keyword("CaseKind")
# Both the application status and the assessment status, so either can be searched.
CASE_STATUS = SearchAttributeKey.for_keyword_list("CaseStatus")
TEMPLATE_CODE = SearchAttributeKey.for_keyword("TemplateCode")
STAGE = SearchAttributeKey.for_keyword("Stage")
REVIEW_LEVEL = SearchAttributeKey.for_int("ReviewLevel")
APPLICANT_ID = SearchAttributeKey.for_keyword("ApplicantId")
PROVIDER_ID = SearchAttributeKey.for_keyword("ProviderId")
CANDIDATE_ID = SearchAttributeKey.for_keyword("CandidateId")
RELEASE_AT = SearchAttributeKey.for_datetime("ReleaseAt")
SLA_DEFINITION = SearchAttributeKey.for_keyword("SlaDefinition")
# Who must act next (domain/console.py WaitingOn), since when, and the next deadline.
WAITING_ON = SearchAttributeKey.for_keyword("WaitingOn")
WAITING_SINCE = SearchAttributeKey.for_datetime("WaitingSince")
DUE_AT = SearchAttributeKey.for_datetime("DueAt")
SLA_STATUS = SearchAttributeKey.for_keyword("SlaStatus")
BREACHED = SearchAttributeKey.for_bool("Breached")

SEARCH_ATTRIBUTES: tuple[SearchAttributeKey[Any], ...] = (
    CASE_KIND,
    CASE_STATUS,
    TEMPLATE_CODE,
    STAGE,
    REVIEW_LEVEL,
    APPLICANT_ID,
    PROVIDER_ID,
    CANDIDATE_ID,
    RELEASE_AT,
    SLA_DEFINITION,
    WAITING_ON,
    WAITING_SINCE,
    DUE_AT,
    SLA_STATUS,
    BREACHED,
)


def dev_server_flags() -> list[str]:
    """`--search-attribute KEY=TYPE` flags for `temporal server start-dev`."""
    flags: list[str] = []
    for key in SEARCH_ATTRIBUTES:
        kind = "".join(part.title() for part in key.indexed_value_type.name.split("_"))
        flags += ["--search-attribute", f"{key.name}={kind}"]
    return flags


def tls_config(settings: Settings) -> TLSConfig | bool:
    """TLS for the client: mTLS from the PEM files, plain TLS for an API key, else none."""
    cert, key, ca = settings.temporal_tls_cert, settings.temporal_tls_key, settings.temporal_tls_ca
    if (cert is None) != (key is None):
        raise ValueError("TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY go together: set both or neither")
    if cert is None and ca is None and settings.temporal_tls_server_name is None:
        return settings.temporal_tls or bool(settings.temporal_api_key)
    return TLSConfig(
        server_root_ca_cert=_read_pem(ca, "TEMPORAL_TLS_CA"),
        client_cert=_read_pem(cert, "TEMPORAL_TLS_CERT"),
        client_private_key=_read_pem(key, "TEMPORAL_TLS_KEY"),
        domain=settings.temporal_tls_server_name,
    )


def _read_pem(path: Path | None, name: str) -> bytes | None:
    if path is None:
        return None
    try:
        return path.read_bytes()
    except OSError as error:
        raise ValueError(f"{name}: cannot read {path}: {error.strerror}") from error


async def connect(
    settings: Settings,
    *,
    target: str | None = None,
    lazy: bool = False,
    runtime: Runtime | None = None,
    interceptors: Sequence[Interceptor] = (),
) -> Client:
    """A client that speaks pydantic payloads over the configured TLS / API key (`lazy`: dial
    on first use, so a process can start while Temporal is still coming up and report it
    through /readyz; `runtime`: the one that exports SDK metrics)."""
    return await Client.connect(
        target or settings.temporal_target(),
        namespace=settings.temporal_namespace,
        api_key=settings.temporal_api_key or None,
        tls=tls_config(settings),
        data_converter=pydantic_data_converter,
        interceptors=interceptors,
        lazy=lazy,
        runtime=runtime,
    )


async def connect_patiently(
    settings: Settings,
    *,
    wait_s: float = 120,
    runtime: Runtime | None = None,
    interceptors: Sequence[Interceptor] = (),
) -> Client:
    """Connect, retrying while Temporal is not answering yet (workers start before it)."""
    deadline = asyncio.get_running_loop().time() + wait_s
    while True:
        try:
            return await connect(settings, runtime=runtime, interceptors=interceptors)
        except RuntimeError:
            if asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(1)


async def register_search_attributes(client: Client) -> list[str]:
    """Add every custom search attribute the namespace lacks; return the names added."""
    namespace = client.namespace
    try:
        existing = await client.operator_service.list_search_attributes(
            ListSearchAttributesRequest(namespace=namespace)
        )
        known = set(existing.custom_attributes)
    except RPCError as error:
        if error.status != RPCStatusCode.UNIMPLEMENTED:  # the time-skipping test server
            raise
        known = set()
    missing = {
        key.name: IndexedValueType.ValueType(key.indexed_value_type.value)
        for key in SEARCH_ATTRIBUTES
        if key.name not in known
    }
    if missing:
        await client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(namespace=namespace, search_attributes=missing)
        )
    return sorted(missing)


# The statuses of a Temporal that did not answer (down, restarting, overloaded). A call whose
# connection dropped mid-flight comes back from the SDK's bridge as UNKNOWN with the message
# "transport error" (seen when the server is killed during a call): it is unreachable too.
UNREACHABLE = frozenset(
    {RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED, RPCStatusCode.RESOURCE_EXHAUSTED}
)


def unreachable(error: BaseException) -> bool:
    """Whether `error` says Temporal could not be reached (answer 503 / exit "unreachable")."""
    if isinstance(error, RPCError):
        if error.status in UNREACHABLE:
            return True
        return error.status == RPCStatusCode.UNKNOWN and "transport error" in error.message
    return isinstance(error, RuntimeError) and "client connect" in str(error).lower()
