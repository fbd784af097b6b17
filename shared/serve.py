"""Runs one service process: JSON logging, uvicorn, graceful shutdown on SIGINT/SIGTERM."""

from __future__ import annotations

import uvicorn
from fastapi import FastAPI

from shared.logging import configure_logging
from shared.settings import ServiceSettings


def serve(app: FastAPI, settings: ServiceSettings) -> None:
    configure_logging(settings.service_name, settings.log_level)
    uvicorn.run(
        app,
        host=settings.http_host,
        port=settings.http_port,
        log_config=None,
        timeout_graceful_shutdown=10,
        access_log=False,
        # Forwarded headers only from the proxies the deployment names; nobody else can pick
        # the client address that rate limits and logs see.
        proxy_headers=bool(settings.trusted_proxies),
        forwarded_allow_ips=settings.trusted_proxies or None,
        server_header=False,
    )
