"""/openapi.json declares the boundary: problem answers, headers, security and examples."""

from typing import Any

import httpx
import jsonschema_rs
import pytest

from api.boundary import PUBLIC_PATHS
from api.openapi import IDEMPOTENCY_KEY_MAX_LENGTH, UNSAFE_METHODS

Json = dict[str, Any]
EXAMPLE_BODIES = {
    "ApplicationCreate",
    "ResponseWrite",
    "ReviewResponseWrite",
    "ReviewSubmitBody",
    "TemplateCreate",
    "ResultCreate",
    "CertificationCreate",
    "ReleaseRequest",
    "ReleaseChange",
    "CandidateCreate",
    "CandidateUpdate",
    "SchoolReportCreate",
    "AbClaimCreate",
}


def each_operation(schema: Json) -> list[tuple[str, str, Json]]:
    return [
        (path, method, operation)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
    ]


def resolve(schema: Json, node: Json) -> Json:
    while "$ref" in node:
        *_, kind, name = node["$ref"].split("/")
        node = schema["components"][kind][name]
    return node


def parameter_names(schema: Json, operation: Json) -> dict[str, Json]:
    resolved = (resolve(schema, p) for p in operation.get("parameters", []))
    return {p["name"]: p for p in resolved}


def fill(schema: Json, path: str, operation: Json) -> str:
    """The path with a value its schema accepts in every `{parameter}`."""
    for name, parameter in parameter_names(schema, operation).items():
        if parameter["in"] != "path":
            continue
        declared = resolve(schema, parameter["schema"])
        value = declared["enum"][0] if "enum" in declared else "1"
        path = path.replace(f"{{{name}}}", str(value))
    return path


@pytest.fixture
async def schema(api: httpx.AsyncClient) -> Json:
    answer = await api.get("/openapi.json")
    assert answer.status_code == 200
    document: Json = answer.json()
    return document


async def test_one_problem_schema_replaces_the_validation_error(schema: Json) -> None:
    schemas = schema["components"]["schemas"]
    assert "HTTPValidationError" not in schemas
    assert "ValidationError" not in schemas
    problem = schemas["Problem"]
    assert set(problem["required"]) == {"type", "title", "status", "detail"}
    assert set(problem["properties"]) == {
        "type",
        "title",
        "status",
        "detail",
        "errors",
        "allowed",
        "request_id",
    }
    assert set(problem["properties"]["errors"]["items"]["required"]) == {"field", "message"}
    for answer in schema["components"]["responses"].values():
        assert list(answer["content"]) == ["application/problem+json"]
        assert answer["content"]["application/problem+json"]["schema"] == {
            "$ref": "#/components/schemas/Problem"
        }


async def test_every_operation_declares_the_problems_it_can_give(schema: Json) -> None:
    for path, method, operation in each_operation(schema):
        codes = {int(code) for code in operation["responses"] if code.startswith(("4", "5"))}
        expected = {500, 503}
        if path not in PUBLIC_PATHS:
            expected |= {401, 403}
        if "{" in path:
            expected.add(404)
        if method in UNSAFE_METHODS:
            expected |= {409, 422}
        assert expected <= codes, f"{method} {path}: {sorted(codes)}"
        for code in codes:
            answer = resolve(schema, operation["responses"][str(code)])
            assert "application/problem+json" in answer["content"], f"{method} {path} {code}"
        inputs = {n for n, p in parameter_names(schema, operation).items() if p["in"] != "header"}
        if inputs or "requestBody" in operation:
            assert 422 in codes, f"{method} {path}"


async def test_every_answer_carries_the_request_id(schema: Json) -> None:
    for path, method, operation in each_operation(schema):
        assert parameter_names(schema, operation)["X-Request-ID"]["in"] == "header"
        for code, answer in operation["responses"].items():
            header = resolve(schema, resolve(schema, answer)["headers"]["X-Request-ID"])
            assert header["required"] is True, f"{method} {path} {code}"


async def test_unsafe_operations_take_an_idempotency_key(schema: Json) -> None:
    for path, method, operation in each_operation(schema):
        key = parameter_names(schema, operation).get("Idempotency-Key")
        if method in UNSAFE_METHODS:
            assert key is not None, f"{method} {path}"
            assert key["in"] == "header"
            assert key["schema"]["maxLength"] == IDEMPOTENCY_KEY_MAX_LENGTH
        else:
            assert key is None, f"{method} {path}"


async def test_protected_operations_declare_the_bearer_scheme_and_refuse_without_it(
    schema: Json, api: httpx.AsyncClient
) -> None:
    assert schema["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    for path, method, operation in each_operation(schema):
        answer = await api.request(method, fill(schema, path, operation))
        if path in PUBLIC_PATHS:
            assert "security" not in operation, f"{method} {path}"
            assert answer.status_code != 401, f"{method} {path}"
        else:
            assert operation["security"] == [{"bearer": []}], f"{method} {path}"
            assert answer.status_code == 401, f"{method} {path}"


async def test_the_main_request_bodies_have_examples_that_fit_their_schema(schema: Json) -> None:
    seen: set[str] = set()
    for path, method, operation in each_operation(schema):
        media = operation.get("requestBody", {}).get("content", {}).get("application/json")
        if media is None or "example" not in media:
            continue
        body_schema = {**media["schema"], "components": schema["components"]}
        validator = jsonschema_rs.Draft202012Validator(body_schema, validate_formats=True)
        errors = [error.message for error in validator.iter_errors(media["example"])]
        assert not errors, f"{method} {path}: {errors}"
        refs = [media["schema"], *media["schema"].get("anyOf", [])]
        seen |= {ref["$ref"].rsplit("/", 1)[-1] for ref in refs if "$ref" in ref}
    assert seen >= EXAMPLE_BODIES
