"""The contract in /openapi.json: what every operation can answer, beyond what FastAPI sees.

FastAPI documents a route's own success answer. The rest of the boundary (the token check,
idempotency, validation, refusals, the catch-all and the 503 while a dependency is down) is
added here, from the shape of each operation, so route files need no per-route `responses`:

- 401 and 403 where a token is needed; 404 where the path, a query parameter or a body
  field names a record (`{id}`, `*_id`, `*_code`); 409 and 422 on every unsafe operation
  (a refused transition, an `Idempotency-Key` in flight or reused); 422 wherever there is
  input; 500 and 503 everywhere. All as one `Problem` schema in `application/problem+json`,
  replacing FastAPI's `HTTPValidationError`;
- `X-Request-ID` as a request header and on every answer, `Idempotency-Key` on POST, PUT,
  PATCH and DELETE, the bearer scheme on every protected operation;
- an example on the main request bodies (`api/openapi_examples.py`).
"""

import copy
from typing import Any

from fastapi import FastAPI

from api import docs
from api.boundary import PUBLIC_PATHS
from api.errors import PROBLEM_JSON
from api.idempotency import MAX_KEY_LENGTH
from api.openapi_examples import REQUEST_BODIES

Json = dict[str, Any]

UNSAFE_METHODS = frozenset({"post", "put", "patch", "delete"})
METHODS = UNSAFE_METHODS | {"get", "head", "options", "trace"}
BEARER = "bearer"
IDEMPOTENCY_KEY_MAX_LENGTH = MAX_KEY_LENGTH
# A query parameter or body field so named refers to a record that may not exist (404).
RECORD_NAME_ENDINGS = ("_id", "_code")

PROBLEM_SCHEMA: Json = {
    "title": "Problem",
    "description": "RFC 9457 problem details; `status` repeats the HTTP status.",
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string", "description": "the kind of problem, a URI reference"},
        "title": {"type": "string", "description": "the kind of problem, for people"},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": {"type": "string", "description": "what went wrong this time"},
        "errors": {
            "type": "array",
            "description": "one entry per field that is not valid",
            "items": {
                "type": "object",
                "required": ["field", "message"],
                "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
            },
        },
        "allowed": {
            "type": "array",
            "description": "what this case allows now, when a transition is refused",
            "items": {"type": "string"},
        },
        "request_id": {"type": "string", "description": "quote it when you report a 500"},
    },
}

# status: (component name, title, description, example detail)
PROBLEMS: dict[int, tuple[str, str, str, str]] = {
    401: (
        "Unauthorized",
        "Unauthorized",
        "No bearer token, or one that is not valid.",
        "the token has expired",
    ),
    403: (
        "Forbidden",
        "Forbidden",
        "The token's roles do not allow this.",
        "your roles do not allow that",
    ),
    404: ("NotFound", "Not found", "Absent, or not yours to see.", "no such application"),
    409: (
        "Conflict",
        "Conflict",
        "Refused in this state (the reason and what is allowed now), or an "
        "`Idempotency-Key` whose first request is still running.",
        "this application is SUBMITTED; allowed: withdraw",
    ),
    422: (
        "UnprocessableContent",
        "Unprocessable content",
        "The input is not valid (each field named in `errors`), or an `Idempotency-Key` "
        "used before for a different request. Nothing was written.",
        "the request is not valid: template_code",
    ),
    500: (
        "InternalError",
        "Internal server error",
        "An unexpected error; nothing was written half-way. Quote `request_id`.",
        "an unexpected error; quote request id 4f9c0e1d2b3a",
    ),
    503: (
        "ServiceUnavailable",
        "Service unavailable",
        "PostgreSQL or Temporal is not answering; retry after `Retry-After` seconds.",
        "Temporal is not answering; retry shortly",
    ),
}
_EXTRA_HEADERS: dict[int, Json] = {
    401: {"WWW-Authenticate": {"description": "`Bearer`", "schema": {"type": "string"}}},
    503: {"Retry-After": {"description": "seconds", "schema": {"type": "integer"}}},
}

REQUEST_ID_HEADER: Json = {
    "description": "The request's id: the caller's `X-Request-ID` when it is 1 to 128 of "
    "`A-Z a-z 0-9 . _ : @ / + = -`, else a fresh one.",
    "required": True,
    "schema": {"type": "string", "minLength": 1, "maxLength": 128},
}
_REQUEST_ID_REF: Json = {"$ref": "#/components/headers/RequestId"}
PARAMETERS: Json = {
    "RequestId": {
        "name": "X-Request-ID",
        "in": "header",
        "required": False,
        "description": "An id to trace this request by; echoed on the answer.",
        "schema": {"type": "string", "maxLength": 128, "pattern": r"^[A-Za-z0-9._:@/+=-]{1,128}$"},
    },
    "IdempotencyKey": {
        "name": "Idempotency-Key",
        "in": "header",
        "required": False,
        "description": "Retry safely: a repeat with the same key (same caller and route) gets "
        "the first answer back for 24 h; nothing is done twice.",
        "schema": {"type": "string", "minLength": 1, "maxLength": IDEMPOTENCY_KEY_MAX_LENGTH},
    },
}


def install(app: FastAPI) -> None:
    """Serve the documented contract at /openapi.json, and the docs pages that read it."""
    docs.install(app)
    generate = app.openapi

    def openapi() -> Json:
        if app.openapi_schema is None:
            app.openapi_schema = document(generate())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def document(generated: Json) -> Json:
    """The generated schema with the boundary's answers, headers, security and examples."""
    schema = copy.deepcopy(generated)
    components = schema.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    schemas["Problem"] = copy.deepcopy(PROBLEM_SCHEMA)
    components["headers"] = {"RequestId": copy.deepcopy(REQUEST_ID_HEADER)}
    components["parameters"] = copy.deepcopy(PARAMETERS)
    components["responses"] = {
        name: _problem_response(status) for status, (name, *_) in PROBLEMS.items()
    }
    components["securitySchemes"] = {
        BEARER: {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": "HS256 JWT minted by `python cli.py token`",
        }
    }
    for path, item in schema.get("paths", {}).items():
        for method, operation in item.items():
            if method in METHODS:
                _document_operation(path, method, operation, schemas)
    return schema


def problem_statuses(path: str, method: str, operation: Json, schemas: Json) -> set[int]:
    """The problem answers an operation can give, from its shape."""
    statuses = {500, 503}
    if path not in PUBLIC_PATHS:
        statuses |= {401, 403}
    if "{" in path or _names_a_record(operation, schemas):
        statuses.add(404)
    if method in UNSAFE_METHODS:
        statuses |= {409, 422}
    if operation.get("parameters") or "requestBody" in operation:
        statuses.add(422)
    return statuses


def _names_a_record(operation: Json, schemas: Json) -> bool:
    """Whether a query parameter or a body field names a record (`*_id`, `*_code`)."""
    names = [p.get("name", "") for p in operation.get("parameters", []) if p.get("in") == "query"]
    media = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
    body = schemas.get(_body_schema_name(media.get("schema", {})) or "", {})
    names += list(body.get("properties", {}))
    return any(name.endswith(RECORD_NAME_ENDINGS) for name in names)


def _document_operation(path: str, method: str, operation: Json, schemas: Json) -> None:
    statuses = problem_statuses(path, method, operation, schemas)
    responses: Json = operation.get("responses", {})
    for answer in responses.values():
        answer.setdefault("headers", {})["X-Request-ID"] = dict(_REQUEST_ID_REF)
    for status in statuses:
        responses[str(status)] = {"$ref": f"#/components/responses/{PROBLEMS[status][0]}"}
    operation["responses"] = dict(sorted(responses.items()))
    parameters: list[Json] = operation.setdefault("parameters", [])
    parameters.append({"$ref": "#/components/parameters/RequestId"})
    if method in UNSAFE_METHODS:
        parameters.append({"$ref": "#/components/parameters/IdempotencyKey"})
    if path in PUBLIC_PATHS:
        operation.pop("security", None)
    else:
        operation["security"] = [{BEARER: []}]
    _add_example(operation)


def _problem_response(status: int) -> Json:
    _, title, description, detail = PROBLEMS[status]
    example: Json = {
        "type": f"/problems/{title.lower().replace(' ', '-')}",
        "title": title,
        "status": status,
        "detail": detail,
        "request_id": "4f9c0e1d2b3a",
    }
    if status == 422:
        example["errors"] = [{"field": "template_code", "message": "Field required"}]
    headers: Json = {"X-Request-ID": dict(_REQUEST_ID_REF)}
    headers.update(_EXTRA_HEADERS.get(status, {}))
    return {
        "description": description,
        "headers": headers,
        "content": {
            PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}, "example": example}
        },
    }


def _add_example(operation: Json) -> None:
    content = operation.get("requestBody", {}).get("content", {})
    media = content.get("application/json")
    if media is None:
        return
    name = _body_schema_name(media.get("schema", {}))
    if name in REQUEST_BODIES:
        media["example"] = REQUEST_BODIES[name]


def _body_schema_name(schema: Json) -> str | None:
    """`X` for a body schema `$ref X`, or `X | null` (an optional body)."""
    refs = [schema, *schema.get("anyOf", [])]
    for ref in refs:
        if "$ref" in ref:
            return str(ref["$ref"]).rsplit("/", 1)[-1]
    return None
