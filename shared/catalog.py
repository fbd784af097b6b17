"""The category catalogue routing publishes on the compacted `jurisdiction.catalog` topic (v1):
categories with their attributes and deadlines, and the agencies that handle them."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, Field


class CategoryAttributeV1(BaseModel):
    """An extra field a resident fills in; maps 1:1 to an Open311 service-definition attribute."""

    code: str
    datatype: Literal["string", "number", "datetime", "text", "singlevaluelist", "multivaluelist"]
    required: bool = False
    variable: bool = True
    description: dict[str, str] = Field(description="Prompt by language: {'vi': ..., 'en': ...}")
    order: int = 1
    values: list[dict[str, Any]] = Field(
        default_factory=list,
        description="For list types: [{'key': ..., 'name': {'vi':..,'en':..}}]",
    )


class DeadlineV1(BaseModel):
    """How long the handling agency has: calendar hours, or working time on the agency's clock
    (its office hours and time zone, Vietnam's public holidays, the admin's closure days)."""

    amount: int = Field(ge=1)
    unit: Literal["hours", "working_hours", "working_days"]


class CategoryV1(BaseModel):
    code: str
    name: dict[str, str] = Field(description="{'vi': ..., 'en': ...}")
    description: dict[str, str] = Field(default_factory=dict)
    group: str
    keywords: list[str] = Field(default_factory=list)
    priority: Literal["low", "normal", "high", "urgent"] = "normal"
    deadline_hours: int = Field(ge=1, description="Calendar hours; used when `deadline` is absent")
    deadline: DeadlineV1 | None = None
    attributes: list[CategoryAttributeV1] = Field(default_factory=list)
    active: bool = True


class AgencyRefV1(BaseModel):
    id: str
    name: dict[str, str]
    kind: str
    contacts: dict[str, str] = Field(
        default_factory=dict, description="Public contact points: email, webhook_url, sms"
    )


class CatalogV1(BaseModel):
    """The whole category catalogue, published on a compacted topic under one key."""

    version: int = Field(ge=1, description="Increases with every change")
    published_at: AwareDatetime
    categories: list[CategoryV1]
    agencies: list[AgencyRefV1] = Field(default_factory=list)


CATALOG_KEY = "catalog"
