"""What every service's pages share: the vendored browser libraries at `/vendor/...`, the pages'
Content-Security-Policy and the CORS allow-list for the endpoints the pages call across origins.

Files are served from an allow-list built once from the folder (no path from the request ever
reaches the file system), so `..` or an unknown name is a plain 404.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from urllib.parse import urlsplit

from fastapi import APIRouter, FastAPI, HTTPException
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse

from shared.edge import content_security_policy

VENDOR = Path(__file__).resolve().parent / "vendor"

MEDIA_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".geojson": "application/geo+json",
    ".map": "application/json",
    ".png": "image/png",
    ".svg": "image/svg+xml",
    ".html": "text/html; charset=utf-8",
}

# Request headers the pages send across origins (token, idempotency, client id, SSE resume).
CORS_HEADERS = [
    "Authorization",
    "Content-Type",
    "Accept-Language",
    "Idempotency-Key",
    "X-Client-Id",
    "X-Tracking-Token",
    "Last-Event-ID",
]


def static_files(folder: Path, skip: Iterable[str] = ("README.md",)) -> dict[str, Path]:
    """Relative name -> file, for every file under `folder` with a known type."""
    skipped = set(skip)
    return {
        p.relative_to(folder).as_posix(): p
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.suffix in MEDIA_TYPES and p.name not in skipped
    }


def static_router(prefix: str, folder: Path, cache_control: str) -> APIRouter:
    """GET `<prefix>/<name>` for the files of `folder` (allow-listed at start)."""
    files = static_files(folder)
    router = APIRouter(include_in_schema=False)

    @router.get(prefix + "/{name:path}")
    async def static_file(name: str) -> FileResponse:
        path = files.get(name)
        if path is None:
            raise HTTPException(status_code=404)
        return FileResponse(
            path,
            media_type=MEDIA_TYPES[path.suffix],
            headers={"Cache-Control": cache_control, "X-Content-Type-Options": "nosniff"},
        )

    return router


def vendor_router() -> APIRouter:
    """`/vendor/leaflet/leaflet.js` etc. (see vendor/README.md for versions and licences)."""
    return static_router("/vendor", VENDOR, "public, max-age=86400")


def mount_vendor(app: FastAPI) -> None:
    """Serves the vendored libraries at `/vendor` (once per app)."""
    if not any(getattr(r, "path", "") == "/vendor/{name:path}" for r in app.router.routes):
        app.include_router(vendor_router())


def origin_of(url: str) -> str:
    """`scheme://host[:port]` of a URL (a `{s}` tile sub-domain becomes `*`), or "" if none."""
    parts = urlsplit(url.replace("{s}", "*"))
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


def page_csp(connect: Iterable[str] = (), images: Iterable[str] = ()) -> str:
    """The Content-Security-Policy of a service's pages (`shared.edge`'s policy): API calls to
    this origin and the origins of `connect` (other services), images from this origin,
    data/blob (photo previews) and the origins of `images` (tile server, another service's
    photos). Give it to `create_app(..., csp=page_csp(...))`: the security-headers middleware
    puts that one policy on every response (a second CSP header would only narrow it)."""
    return content_security_policy(
        connect=sorted({o for o in map(origin_of, connect) if o}),
        images=sorted({o for o in map(origin_of, images) if o}),
    )


def page_headers(connect: Iterable[str] = (), images: Iterable[str] = ()) -> Mapping[str, str]:
    """Headers of an HTML page besides the security ones that `create_app`'s middleware adds to
    every response (CSP included: use `page_csp` for the origins a page calls). The arguments
    are kept for the callers' clarity; the policy itself is the middleware's."""
    del connect, images
    return {"Cache-Control": "no-cache"}


def allow_origins(app: FastAPI, origins: Iterable[str]) -> None:
    """Explicit CORS allow-list (never `*`): the origins of the other services' pages that call
    this service's API in `make run`, where each service has its own port. Behind the ingress
    every page is same-origin and the list may stay empty."""
    allowed = sorted({o for o in map(origin_of, origins) if o})
    if not allowed:
        return
    app.add_middleware(
        CORSMiddleware,
        allow_origins=allowed,
        allow_methods=["GET", "POST", "PUT", "DELETE"],
        allow_headers=CORS_HEADERS,
        expose_headers=["Retry-After", "Idempotent-Replayed"],
        allow_credentials=False,
        max_age=600,
    )
