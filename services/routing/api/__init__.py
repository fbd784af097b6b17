"""Routing's HTTP API under `/api/v1`: login, public catalogue, staff, operator and admin."""

from fastapi import APIRouter

from services.routing.api import admin, auth, catalogue, operator, staff

router = APIRouter(prefix="/api/v1")
for part in (auth, catalogue, staff, operator, admin):
    router.include_router(part.router)
