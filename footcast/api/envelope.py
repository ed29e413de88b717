"""The one JSON shape of every response, ``{"data", "error", "meta"}``, and the stable error codes."""

from enum import StrEnum
from typing import Any

import orjson
from starlette.responses import Response


class ErrorCode(StrEnum):
    not_found = "not_found"
    unknown_team = "unknown_team"
    unknown_league = "unknown_league"
    invalid_parameter = "invalid_parameter"
    unauthorized = "unauthorized"
    method_not_allowed = "method_not_allowed"
    uri_too_long = "uri_too_long"
    not_published = "not_published"
    redis_unavailable = "redis_unavailable"
    internal_error = "internal_error"


ERROR_CODES = tuple(code.value for code in ErrorCode)


class ApiError(Exception):
    def __init__(self, status: int, code: ErrorCode, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers


def json_response(
    data: Any, meta: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    body = orjson.dumps({"data": data, "error": None, "meta": meta})
    return Response(body, status_code=status, media_type="application/json", headers=headers)


def error_response(
    status: int, code: ErrorCode, message: str, headers: dict[str, str] | None = None
) -> Response:
    body = orjson.dumps({"data": None, "error": {"code": code.value, "message": message}, "meta": {}})
    return Response(body, status_code=status, media_type="application/json", headers=headers)
