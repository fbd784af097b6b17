"""HTTP: the delivery log for operators, channel status, unsubscribe, and the live status stream."""

from fastapi import APIRouter

from services.notify.api import operators, residents, stream


def router() -> APIRouter:
    """Every route of notify under `/api/v1`."""
    api = APIRouter(prefix="/api/v1")
    for module in (operators, residents, stream):
        api.include_router(module.router)
    return api
