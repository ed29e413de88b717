"""API keys: when FOOTCAST_API_KEYS is set, every endpoint but /health needs one, as
``X-API-Key: KEY`` or ``Authorization: Bearer KEY``."""

import hmac
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response

from footcast.api.envelope import ApiError, ErrorCode


def key_check(keys: tuple[str, ...]) -> Callable[[Request], None]:
    """A check that a request carries one of ``keys``, raising a 401 if not."""
    encoded = [key.encode() for key in keys]

    def check(request: Request) -> None:
        given = request.headers.get("x-api-key")
        if given is None:
            scheme, _, token = request.headers.get("authorization", "").partition(" ")
            given = token.strip() if scheme.lower() == "bearer" else None
        # Compare with every key in constant time: the reply does not tell how close a guess was.
        if not given or not any(hmac.compare_digest(given.encode(), key) for key in encoded):
            raise ApiError(
                401,
                ErrorCode.unauthorized,
                "an API key is needed: X-API-Key: KEY or Authorization: Bearer KEY",
                {"WWW-Authenticate": "Bearer"},
            )

    return check


def require_key(
    handler: Callable[[Request], Awaitable[Response]], check_key: Callable[[Request], None] | None
) -> Callable[[Request], Awaitable[Response]]:
    """``handler`` run only after ``check_key`` passed (``handler`` itself when keys are off)."""
    if check_key is None:
        return handler

    async def guarded(request: Request) -> Response:
        check_key(request)
        return await handler(request)

    return guarded
