"""Staff routes (operators may use them too): the queue, one assignment, its workflow."""

from typing import Annotated

from fastapi import APIRouter, Query, Request

from services.routing.api.deps import Limits, Present, Staff, StaffDep, StaffQueriesDep
from services.routing.api.schemas import (
    AssignmentDetail,
    AssignmentOut,
    Items,
    NoteIn,
    ReasonIn,
    TransferIn,
)
from services.routing.api.uploads import OPENAPI_BODY, read_resolution
from services.routing.domain.queue import QueueFilter

router = APIRouter(tags=["staff"])
ONE = "/assignments/{assignment_id}"


@router.get("/assignments", response_model=Items[AssignmentOut])
async def queue(
    p: Staff,
    staff: StaffQueriesDep,
    present: Present,
    status: Annotated[list[str] | None, Query(description="Repeat or comma-separate")] = None,
    category: str | None = None,
    overdue: bool | None = None,
    report_id: str | None = None,
    agency_id: Annotated[str | None, Query(description="Operators only")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 100,
) -> Items[AssignmentOut]:
    """The caller's agency's assignments (operators: any agency), overdue first, by due time."""
    statuses = [s for v in status or [] for s in v.split(",") if s] or None
    f = QueueFilter(agency_id, statuses, category, report_id, overdue, limit)
    return present.queue(await staff.queue(p, f))


@router.get(ONE, response_model=AssignmentDetail)
async def one(
    assignment_id: str, p: Staff, staff: StaffQueriesDep, present: Present
) -> AssignmentDetail:
    return present.detail(await staff.get(p, assignment_id))


@router.post(f"{ONE}/accept", response_model=AssignmentDetail)
async def accept(
    assignment_id: str, p: Staff, staff: StaffDep, present: Present, body: NoteIn | None = None
) -> AssignmentDetail:
    """Acknowledge: `report.accepted` (the public status stays `assigned`)."""
    return present.detail(await staff.accept(p, assignment_id, body.note if body else None))


@router.post(f"{ONE}/start", response_model=AssignmentDetail)
async def start(
    assignment_id: str, p: Staff, staff: StaffDep, present: Present, body: NoteIn | None = None
) -> AssignmentDetail:
    """Work started: `report.in_progress`."""
    return present.detail(await staff.start(p, assignment_id, body.note if body else None))


@router.post(f"{ONE}/reject", response_model=AssignmentDetail)
async def reject(
    assignment_id: str, p: Staff, staff: StaffDep, present: Present, body: ReasonIn
) -> AssignmentDetail:
    """Not ours: re-routed to the next agency by the rules that has not rejected it, else
    to IOC triage. The response shows where it went (staff may no longer see it after)."""
    return present.detail(await staff.reject(p, assignment_id, body.reason))


@router.post(f"{ONE}/transfer", response_model=AssignmentDetail)
async def transfer(
    assignment_id: str, p: Staff, staff: StaffDep, present: Present, body: TransferIn
) -> AssignmentDetail:
    """To another agency: `report.assigned` with reason `transfer`."""
    return present.detail(await staff.transfer(p, assignment_id, body.agency_id, body.note))


@router.post(f"{ONE}/resolve", response_model=AssignmentDetail, openapi_extra=OPENAPI_BODY)
async def resolve(
    assignment_id: str,
    p: Staff,
    queries: StaffQueriesDep,
    staff: StaffDep,
    present: Present,
    limits: Limits,
    request: Request,
) -> AssignmentDetail:
    """Resolve with a note (JSON), or a note and photos (multipart: `note`, `photos`)."""
    await queries.get(p, assignment_id)  # 404 before reading any photo
    note, photos = await read_resolution(request, limits)
    return present.detail(await staff.resolve(p, assignment_id, note, photos))
