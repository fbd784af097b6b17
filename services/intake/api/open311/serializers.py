"""Open311 GeoReport v2 documents, and their JSON / XML renderings (UTF-8, dates with zone)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from xml.etree import ElementTree as ET

from fastapi.responses import Response

from services.intake.domain.catalog import localized
from services.intake.domain.report import Report
from services.intake.domain.text import xml_safe
from services.intake.domain.updates import Update
from shared.catalog import CategoryV1

JSON_TYPE = "application/json; charset=utf-8"
XML_TYPE = "text/xml; charset=utf-8"
SPEC_URL = "http://wiki.open311.org/GeoReport_v2"

# Element name of one item inside a list, for XML.
ITEM_TAGS = {
    "services": "service",
    "service_requests": "request",
    "errors": "error",
    "attributes": "attribute",
    "values": "value",
    "endpoints": "endpoint",
    "formats": "format",
    "service_request_updates": "request_update",
}


def iso(value: datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") if value else None


def service(category: CategoryV1, lang: str) -> dict[str, Any]:
    return {
        "service_code": category.code,
        "service_name": localized(category.name, lang),
        "description": localized(category.description, lang) if category.description else "",
        "metadata": bool(category.attributes),
        "type": "realtime",
        "keywords": ",".join(category.keywords),
        "group": category.group,
    }


def definition(category: CategoryV1, lang: str) -> dict[str, Any]:
    return {
        "service_code": category.code,
        "attributes": [
            {
                "variable": a.variable,
                "code": a.code,
                "datatype": a.datatype,
                "required": a.required,
                "datatype_description": "",
                "order": a.order,
                "description": localized(a.description, lang),
                "values": [
                    {"key": str(v.get("key")), "name": localized(v.get("name") or {}, lang)}
                    for v in a.values
                ],
            }
            for a in sorted(category.attributes, key=lambda a: a.order)
        ],
    }


def service_request(report: Report, lang: str, photo_url: str | None) -> dict[str, Any]:
    """One request; never the reporter's contact (the spec's fields hold none of it anyway)."""
    return {
        "service_request_id": report.id,
        "status": report.status.open311,
        "status_notes": report.status_notes or "",
        "service_name": localized(report.category_name, lang) or report.category,
        "service_code": report.category,
        "description": report.description,
        "agency_responsible": report.agency_name or "",
        "service_notice": "",
        "requested_datetime": iso(report.created_at),
        "updated_datetime": iso(report.updated_at),
        "expected_datetime": iso(report.expected_at),
        "address": report.address or "",
        "address_id": "",
        "zipcode": "",
        "lat": report.lat,
        "long": report.lon,
        "media_url": photo_url or report.media_url or "",
    }


def request_update(update: Update) -> dict[str, Any]:
    """One update: no reporter identity or contact (the update holds none of it)."""
    return {
        "update_id": update.update_id,
        "service_request_id": update.service_request_id,
        "status": update.status,
        "updated_datetime": iso(update.updated_at),
        "description": update.description,
        "media_url": update.media_url,
        "external_status_code": update.external_status_code,
    }


def render(fmt: str, root: str, data: Any, status: int = 200) -> Response:
    """`data` is a list (rendered as a JSON array / XML list under `root`) or a dict."""
    if fmt == "xml":
        return Response(to_xml(root, data), status_code=status, media_type=XML_TYPE)
    body = json.dumps(data, ensure_ascii=False)
    return Response(body.encode(), status_code=status, media_type=JSON_TYPE)


def errors(fmt: str, status: int, description: str) -> Response:
    return render(fmt, "errors", [{"code": status, "description": description}], status)


def to_xml(root: str, data: Any) -> bytes:
    element = ET.Element(root)
    _fill(element, root, data)
    body = bytes(ET.tostring(element, encoding="utf-8", xml_declaration=False))
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + body


def _fill(element: ET.Element, name: str, value: Any) -> None:
    if isinstance(value, Mapping):
        for key, child in value.items():
            _fill(ET.SubElement(element, key), key, child)
    elif isinstance(value, Sequence) and not isinstance(value, str | bytes):
        tag = ITEM_TAGS.get(name, "item")
        for item in value:
            _fill(ET.SubElement(element, tag), tag, item)
    elif isinstance(value, bool):
        element.text = "true" if value else "false"
    elif value is not None:  # stored text may predate the edge's refusal of control characters
        element.text = xml_safe(str(value))
