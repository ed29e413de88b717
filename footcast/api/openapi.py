"""The OpenAPI 3.1 document: parameters, bodies and error bodies come from the same pydantic
models the server validates with and answers in."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema
from starlette.requests import Request
from starlette.responses import Response

from footcast.api.responses import ErrorEnvelope

API_VERSION = "1"
SCHEMA_REF = "#/components/schemas/{model}"

ERROR_DESCRIPTIONS = {
    401: "no or wrong API key (only when FOOTCAST_API_KEYS is set)",
    404: "not found",
    414: "URL too long",
    422: "invalid parameters",
    503: "Redis unreachable, or nothing published yet",
}


@dataclass(frozen=True)
class Endpoint:
    """One GET route: its handler, and what the OpenAPI document says about it."""

    path: str
    handler: Callable[[Request], Awaitable[Response]]
    summary: str
    tag: str
    response: type[BaseModel] | None  # the 200 body; None: Prometheus text
    errors: tuple[int, ...]
    query: type[BaseModel] | None = None
    path_parameters: type[BaseModel] | None = None
    needs_key: bool = True


def _parameters(model: type[BaseModel], where: str) -> list[dict[str, Any]]:
    """OpenAPI parameters from a parameter model's JSON schema (an optional parameter is one a
    client leaves out, so its null alternative is dropped)."""
    described = model.model_json_schema(by_alias=True, ref_template=SCHEMA_REF)
    required = set(described.get("required", ()))
    parameters = []
    for name, property_schema in described["properties"].items():
        value = {k: v for k, v in property_schema.items() if k != "title"}
        description = value.pop("description", None)
        options = value.pop("anyOf", None)
        if options is not None:
            kept = [option for option in options if option != {"type": "null"}]
            value.update(kept[0] if len(kept) == 1 else {"anyOf": kept})
        if value.get("default", 0) is None:
            del value["default"]
        parameter = {
            "name": name,
            "in": where,
            "required": where == "path" or name in required,
            "schema": value,
        }
        if description:
            parameter["description"] = description
        parameters.append(parameter)
    return parameters


def openapi_document(endpoints: list[Endpoint], api_keys: bool) -> dict[str, Any]:
    """The OpenAPI 3.1 document of ``endpoints``: parameters, bodies and error bodies come from
    the same pydantic models the server validates with and answers in."""
    models = [ErrorEnvelope, *(e.response for e in endpoints if e.response is not None)]
    _, definitions = models_json_schema([(m, "serialization") for m in models], ref_template=SCHEMA_REF)
    paths: dict[str, Any] = {}
    for endpoint in endpoints:
        if endpoint.response is None:
            ok = {
                "description": "Prometheus text format",
                "content": {"text/plain": {"schema": {"type": "string"}}},
            }
        else:
            ok = {
                "description": "OK",
                "content": {
                    "application/json": {
                        "schema": {"$ref": SCHEMA_REF.format(model=endpoint.response.__name__)}
                    }
                },
            }
        errors = {
            str(status): {
                "description": ERROR_DESCRIPTIONS[status],
                "content": {
                    "application/json": {"schema": {"$ref": SCHEMA_REF.format(model="ErrorEnvelope")}}
                },
            }
            for status in endpoint.errors
        }
        operation: dict[str, Any] = {
            "summary": endpoint.summary,
            "tags": [endpoint.tag],
            "operationId": endpoint.handler.__name__,
            "parameters": [
                *(_parameters(endpoint.path_parameters, "path") if endpoint.path_parameters else []),
                *(_parameters(endpoint.query, "query") if endpoint.query else []),
            ],
            "responses": {"200": ok, **errors},
        }
        if api_keys and endpoint.needs_key:
            operation["security"] = [{"APIKeyHeader": []}, {"BearerAuth": []}]
        paths[endpoint.path] = {"get": operation}
    components: dict[str, Any] = {"schemas": definitions.get("$defs", {})}
    if api_keys:
        components["securitySchemes"] = {
            "APIKeyHeader": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
            "BearerAuth": {"type": "http", "scheme": "bearer"},
        }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "footcast predictions API",
            "version": API_VERSION,
            "description": (
                "Read-only API over the football match predictions published to Redis. Every JSON "
                'response is `{"data", "error", "meta"}`; errors carry a stable `code`.'
            ),
        },
        "paths": paths,
        "components": components,
    }
