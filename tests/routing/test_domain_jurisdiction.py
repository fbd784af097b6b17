"""Routing's jurisdiction validation (documents and area geometry), with no I/O."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from services.routing.domain.errors import InvalidJurisdiction
from services.routing.domain.jurisdiction import parse
from services.routing.settings import DEMO_JURISDICTION

DOC: dict[str, Any] = json.loads(DEMO_JURISDICTION.read_text(encoding="utf-8"))


def doc(**changes: Any) -> dict[str, Any]:
    d = copy.deepcopy(DOC)
    d.update(changes)
    return d


def _errors(document: dict[str, Any]) -> list[str]:
    with pytest.raises(InvalidJurisdiction) as info:
        parse(document)
    return info.value.errors


def test_duplicate_agency_id_refused() -> None:
    d = doc()
    d["agencies"].append(copy.deepcopy(d["agencies"][0]))
    assert "duplicate agency id: ioc" in _errors(d)


def test_rule_with_unknown_references_refused() -> None:
    d = doc(rules=[{"id": "x", "category": "nope", "area": "nowhere", "agency": "ghost"}])
    assert len(_errors(d)) == 3


def test_unclosed_polygon_refused() -> None:
    d = doc()
    d["areas"][0]["geometry"]["coordinates"][0][-1] = [107.1, 16.1]
    assert any("not closed" in e for e in _errors(d))


def test_zero_deadline_refused() -> None:
    d = doc()
    d["categories"][0]["deadline_hours"] = 0
    assert any("deadline_hours" in e for e in _errors(d))


def test_missing_fallback_agency_refused() -> None:
    assert any("fallback_agency" in e for e in _errors(doc(fallback_agency="nobody")))


def _with_ring(ring: list[list[Any]], *holes: list[list[Any]]) -> dict[str, Any]:
    d = doc()
    d["areas"][0]["geometry"] = {"type": "Polygon", "coordinates": [ring, *holes]}
    return d


SQUARE = [[107.0, 16.0], [108.0, 16.0], [108.0, 17.0], [107.0, 17.0], [107.0, 16.0]]


def test_self_intersecting_bow_tie_refused_naming_the_area() -> None:
    bow = [[107.0, 16.0], [108.0, 17.0], [108.0, 16.0], [107.0, 17.0], [107.0, 16.0]]
    errors = _errors(_with_ring(bow))
    assert errors == [
        f"area {DOC['areas'][0]['id']}: ring intersects itself (edges 1 and 3 cross, touch or overlap)"
    ]


def test_ring_touching_itself_at_a_vertex_refused() -> None:
    figure8 = [[0, 0], [2, 0], [1, 1], [2, 2], [0, 2], [1, 1], [0, 0]]
    assert any("intersects itself" in e for e in _errors(_with_ring(figure8)))


def test_spike_folding_back_on_an_edge_refused() -> None:
    spike = [[0, 0], [2, 0], [3, 0], [1, 0], [1, 1], [0, 0]]
    assert any("intersects itself" in e for e in _errors(_with_ring(spike)))


def test_repeated_consecutive_position_accepted() -> None:
    ring = [SQUARE[0], SQUARE[1], SQUARE[1], *SQUARE[2:]]
    parse(_with_ring(ring))


def test_concave_ring_accepted() -> None:
    arrow = [[0, 0], [4, 0], [2, 1], [4, 4], [0, 4], [0, 0]]
    parse(_with_ring(arrow))


def test_hole_inside_accepted_and_hole_outside_refused() -> None:
    inside = [[107.2, 16.2], [107.4, 16.2], [107.4, 16.4], [107.2, 16.2]]
    outside = [[109.2, 16.2], [109.4, 16.2], [109.4, 16.4], [109.2, 16.2]]
    parse(_with_ring(SQUARE, inside))
    assert any("not inside" in e for e in _errors(_with_ring(SQUARE, outside)))


def test_hole_crossing_the_exterior_refused() -> None:
    crossing = [[107.5, 16.5], [108.5, 16.5], [108.5, 16.7], [107.5, 16.5]]
    assert any("crosses" in e for e in _errors(_with_ring(SQUARE, crossing)))


def test_every_bad_area_listed() -> None:
    d = doc()
    bow = [[107.0, 16.0], [108.0, 17.0], [108.0, 16.0], [107.0, 17.0], [107.0, 16.0]]
    for area in d["areas"][:2]:
        area["geometry"] = {"type": "Polygon", "coordinates": [bow]}
    assert [e.split(":")[0] for e in _errors(d)] == [f"area {a['id']}" for a in d["areas"][:2]]
