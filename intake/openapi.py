"""The OpenAPI 3.1 document, built from the same wire models the routes validate with."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from pydantic.json_schema import models_json_schema

from workflows.messages.heartbeat import SOURCE_PATTERN

if TYPE_CHECKING:
    from intake.routes import Route

_PROBLEM = {
    "type": "object",
    "properties": {
        "status": {"type": "string"},
        "error": {"type": "string"},
        "problems": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"field": {"type": "string"}, "problem": {"type": "string"}},
            },
        },
    },
}


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _PROBLEM}}}


def openapi_document(routes: Sequence[Route]) -> dict[str, Any]:
    models = list({route.model: None for route in routes})
    refs, definitions = models_json_schema(
        [(model, "validation") for model in models], ref_template="#/components/schemas/{model}"
    )
    paths: dict[str, Any] = {}
    for route in routes:
        security: list[dict[str, list[str]]] = (
            [{}] if not route.needs_token else [{"bearer": []}, {"basic": []}]
        )
        paths[route.path] = {
            "post": {
                "operationId": route.name,
                "summary": route.summary,
                "security": security,
                **_path_parameters(route.path),
                "requestBody": {
                    "required": "{" not in route.path,
                    "content": {"application/json": {"schema": refs[(route.model, "validation")]}},
                },
                "responses": {
                    "200": {"description": "handled without an incident (SNS subscription confirmation)"},
                    "202": {"description": "handed to Temporal (or a resolve for no open incident)"},
                    "400": _error("malformed body"),
                    "401": _error("no credentials"),
                    "403": _error("wrong credentials or sender proof"),
                    "413": _error("body too large"),
                    "422": _error("a field is missing or has the wrong type"),
                    "503": _error("Temporal unreachable; retry after Retry-After seconds"),
                },
            }
        }
    paths["/healthz"] = {
        "get": {"operationId": "healthz", "security": [], "responses": {"200": {"description": "up"}}}
    }
    paths["/metrics"] = {
        "get": {
            "operationId": "metrics",
            "security": [],
            "responses": {"200": {"description": "the intake's series, Prometheus text format"}},
        }
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "warroom intake", "version": "1"},
        "paths": paths,
        "components": {
            "schemas": definitions.get("$defs", {}),
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "basic": {"type": "http", "scheme": "basic"},
            },
        },
    }


def _path_parameters(path: str) -> dict[str, Any]:
    """`/heartbeat/{source}`: each `{name}` in a path is a required string parameter."""
    names = re.findall(r"{(\w+)}", path)
    if not names:
        return {}
    schema = {"type": "string", "pattern": SOURCE_PATTERN}
    return {"parameters": [{"name": n, "in": "path", "required": True, "schema": schema} for n in names]}
