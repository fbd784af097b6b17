"""The HTTP frame every service shares: health, metrics, trace context and one error shape.

Errors always look like `{"error": {"code": ..., "message": ..., "details": [...]}}`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse
from faststream.specification import AsyncAPI
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.edge import (
    BodyLimit,
    BodyLimitMiddleware,
    SecurityHeadersMiddleware,
    content_security_policy,
)
from shared.errors import DomainError, ErrorTable, Unauthorized, error_body, status_of
from shared.logging import bind, log_context
from shared.metrics import HttpMetricsMiddleware
from shared.runtime import Runtime
from shared.tracing import SpanKind, span, trace_id


def domain_error_response(exc: DomainError, status: int) -> JSONResponse:
    details = [{"field": exc.field, "message": exc.message}] if exc.field else None
    body = error_body(exc.code, exc.message, details)
    body["error"].update(exc.extra)
    headers: dict[str, str] = {}
    if isinstance(exc, Unauthorized):
        headers["WWW-Authenticate"] = "Bearer"
    if exc.retry_after_s is not None:
        headers["Retry-After"] = str(exc.retry_after_s)
    return JSONResponse(body, status_code=status, headers=headers or None)


class TraceMiddleware:
    """Adopts an incoming `traceparent` (or starts a trace) and echoes it on the response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope.get("headers") or []).get(b"traceparent", b"").decode() or None
        method = str(scope.get("method", "GET"))
        with span(f"HTTP {method}", incoming, kind=SpanKind.SERVER) as tp:
            token = bind(trace_id=trace_id(tp))

            async def send_wrapper(message: Message) -> None:
                if message["type"] == "http.response.start":
                    message.setdefault("headers", []).append((b"traceparent", tp.encode()))
                await send(message)

            try:
                await self.app(scope, receive, send_wrapper)
            finally:
                log_context.reset(token)


Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[None]]


def create_app(
    runtime: Runtime,
    *,
    title: str,
    description: str,
    lifespan: Lifespan | None = None,
    version: str = "1.0.0",
    errors: ErrorTable | None = None,
    body_limits: Sequence[BodyLimit] = (),
    csp: str | None = None,
) -> FastAPI:
    """A FastAPI app with the runtime started in its lifespan and the common endpoints.

    `errors` maps the service's domain errors to HTTP statuses (on top of `DEFAULT_STATUS`);
    `body_limits` raise the request-body cap (`HTTP_BODY_MAX_BYTES`) for the routes that take
    uploads; `csp` is the Content-Security-Policy of the pages the service serves.
    """

    @asynccontextmanager
    async def run(app: FastAPI) -> AsyncIterator[None]:
        await runtime.start()
        try:
            if lifespan is None:
                yield
            else:
                async with lifespan(app):
                    yield
        finally:
            await runtime.stop()

    app = FastAPI(title=title, description=description, version=version, lifespan=run)
    app.state.runtime = runtime
    app.add_middleware(HttpMetricsMiddleware, metrics=runtime.metrics)
    app.add_middleware(TraceMiddleware)
    # Added last, so outermost: before routing, parsing and authentication.
    app.add_middleware(
        BodyLimitMiddleware,
        default_max=runtime.settings.http_body_max_bytes,
        limits=body_limits,
    )
    app.add_middleware(SecurityHeadersMiddleware, csp=csp or content_security_policy())
    _add_error_handlers(app, errors or {})
    _add_common_endpoints(app, runtime, f"{title} events", version)
    return app


_HTTP_CODES = {
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    429: "rate_limited",
}


def _add_error_handlers(app: FastAPI, table: ErrorTable) -> None:
    @app.exception_handler(DomainError)
    async def domain_error(_: Request, exc: DomainError) -> JSONResponse:
        return domain_error_response(exc, status_of(exc, table))

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        details = [
            {"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"], "type": e["type"]}
            for e in exc.errors()
        ]
        return JSONResponse(error_body("validation_error", "request is invalid", details), 422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        """What the framework itself refuses (unknown path, method, ...)."""
        return JSONResponse(
            error_body(_HTTP_CODES.get(exc.status_code, "http_error"), str(exc.detail)),
            exc.status_code,
            headers=getattr(exc, "headers", None),
        )


def _add_common_endpoints(app: FastAPI, runtime: Runtime, events_title: str, version: str) -> None:
    @app.get("/health/live", tags=["health"])
    async def live() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/health/ready", tags=["health"])
    async def ready() -> JSONResponse:
        checks = await runtime.readiness()
        ok = all(checks.values())
        return JSONResponse(
            {"status": "ok" if ok else "not_ready", "checks": checks},
            status_code=200 if ok else 503,
        )

    @app.get("/asyncapi.json", tags=["health"], summary="AsyncAPI 3.0 document of the Kafka side")
    async def asyncapi() -> JSONResponse:
        spec = AsyncAPI(
            runtime.contract, title=events_title, version=version, schema_version="3.0.0"
        ).to_specification()
        return JSONResponse(spec.to_jsonable())

    @app.get("/metrics", tags=["health"], include_in_schema=False)
    async def metrics() -> PlainTextResponse:
        return PlainTextResponse(
            generate_latest(runtime.metrics.registry), media_type=CONTENT_TYPE_LATEST
        )
