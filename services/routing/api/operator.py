"""Operator routes (scope `operator`): triage, manual assignment, recategorizing, duplicates,
dismissal."""

from typing import Annotated

from fastapi import APIRouter, Query

from services.routing.api.deps import Operator, OperatorDep, OperatorQueriesDep, Present
from services.routing.api.schemas import (
    AssignmentDetail,
    AssignmentOut,
    DismissIn,
    DuplicateIn,
    Items,
    RecategorizeIn,
    TransferIn,
)

router = APIRouter(tags=["operator"])
ONE = "/assignments/{assignment_id}"


@router.get("/triage", response_model=Items[AssignmentOut])
async def triage(
    p: Operator,
    operator: OperatorQueriesDep,
    present: Present,
    limit: Annotated[int, Query(ge=1, le=200)] = 100,
) -> Items[AssignmentOut]:
    """The IOC triage queue: open assignments of the fallback agency."""
    return present.queue(await operator.triage(limit))


@router.post(f"{ONE}/assign", response_model=AssignmentDetail)
async def assign(
    assignment_id: str, p: Operator, operator: OperatorDep, present: Present, body: TransferIn
) -> AssignmentDetail:
    """Assign by hand to any agency (from triage, or to override the rules)."""
    return present.detail(await operator.assign(p, assignment_id, body.agency_id, body.note))


@router.post(f"{ONE}/category", response_model=AssignmentDetail)
async def recategorize(
    assignment_id: str, p: Operator, operator: OperatorDep, present: Present, body: RecategorizeIn
) -> AssignmentDetail:
    """Change the category of an open report and re-route it by the new category's rules:
    `report.recategorized`, then `report.assigned` (reason `reroute`)."""
    return present.detail(await operator.recategorize(p, assignment_id, body.category, body.reason))


@router.post(f"{ONE}/duplicate", response_model=AssignmentDetail)
async def duplicate(
    assignment_id: str, p: Operator, operator: OperatorDep, present: Present, body: DuplicateIn
) -> AssignmentDetail:
    """Mark as duplicate of another report: resolving the original resolves this one."""
    return present.detail(await operator.mark_duplicate(p, assignment_id, body.duplicate_of))


@router.post(f"{ONE}/dismiss", response_model=AssignmentDetail)
async def dismiss(
    assignment_id: str, p: Operator, operator: OperatorDep, present: Present, body: DismissIn
) -> AssignmentDetail:
    """Reject as spam or not a public matter: `report.rejected`."""
    return present.detail(await operator.dismiss(p, assignment_id, body.full_reason()))
