"""`footcast serve`: a read-only HTTP API over the predictions published to Redis.

An ASGI app (Starlette) served by uvicorn (uvloop + httptools), one or more worker processes.
Requests read only from Redis, through the lookup scripts and key layout of
:mod:`footcast.adapters.redis.layout` (run here on a ``redis.asyncio`` client), so every
response comes from one complete published version, in one round trip for a match.

Every JSON response has the same shape: ``{"data": ..., "error": null | {"code", "message"},
"meta": {...}}``; error codes are stable (``ERROR_CODES``). 404: unknown match id, team,
league or path; 422: bad parameters; 503: Redis unreachable or nothing published; never a
500 with a traceback. Inputs are validated (charset, length) before they reach a Redis key.

Settings (environment, read by every worker): FOOTCAST_REDIS_URL, FOOTCAST_REDIS_PREFIX,
FOOTCAST_API_KEYS (comma-separated; when set every endpoint but /health needs one, as
``X-API-Key: KEY`` or ``Authorization: Bearer KEY``), FOOTCAST_CORS_ORIGINS (comma-separated;
CORS is off when unset), PROMETHEUS_MULTIPROC_DIR (set by :func:`footcast.api.runner.run`:
/metrics adds up the counts of all worker processes).

The modules, by concern (a new endpoint is a handler and an ``Endpoint`` in ``routes``, its
parameters in ``parameters`` and its body in ``responses``):

- ``envelope``: the one JSON shape, error codes, ``ApiError``;
- ``settings``: the environment a worker reads;
- ``reader``: the lookups of the current published version, pages and cursors;
- ``parameters``: the path and query parameters, validated with pydantic;
- ``responses``: the response bodies' models (the OpenAPI schema);
- ``openapi``: the OpenAPI document, from ``Endpoint`` descriptions and those models;
- ``auth``: API keys, compared in constant time;
- ``metrics``: Prometheus latency histograms, added up over the workers;
- ``routes``: the handlers and the table of endpoints;
- ``app``: ``create_app``, the ASGI app uvicorn builds in every worker: middleware, CORS,
  exception handlers;
- ``runner``: ``run``, the uvicorn worker processes behind `footcast serve`.
"""
