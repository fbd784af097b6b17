"""Which areas of the jurisdiction contain a point, answered in memory (no I/O).

The same answer as the database's `$geoIntersects` on the `areas` 2dsphere index: a point on an
area's boundary (an edge or a vertex) is in it, a point strictly inside a hole is not, a
`MultiPolygon` contains what any of its polygons contains. Edges are straight lines in the
[lon, lat] plane (see `geometry.py`: for the areas of one city this is what the index's
great-circle edges amount to). Each area's bounding box is checked first, so a point costs a
few comparisons per area plus the edges of the areas whose box holds it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from services.routing.domain.geometry import Point, polygon_covers, rings_of
from services.routing.domain.jurisdiction import Area, AreaHit

Box = tuple[float, float, float, float]  # west, south, east, north


@dataclass(frozen=True)
class _Shape:
    hit: AreaHit
    box: Box
    polygons: list[list[list[Point]]]  # per polygon: its exterior ring, then its holes

    def covers(self, p: Point) -> bool:
        west, south, east, north = self.box
        if not (west <= p[0] <= east and south <= p[1] <= north):
            return False
        return any(polygon_covers(p, rings) for rings in self.polygons)


def _polygons(geometry: dict[str, Any]) -> list[list[list[Point]]]:
    coords = geometry["coordinates"]
    polygons = [coords] if geometry["type"] == "Polygon" else coords
    return [rings_of(polygon) for polygon in polygons]


def _box(polygons: list[list[list[Point]]]) -> Box:
    points = [p for rings in polygons for p in rings[0]]
    lons, lats = [p[0] for p in points], [p[1] for p in points]
    return min(lons), min(lats), max(lons), max(lats)


class AreaIndex:
    """The areas of one jurisdiction version, for point lookups."""

    def __init__(self, areas: Iterable[Area]) -> None:
        self._shapes: list[_Shape] = []
        for area in areas:
            polygons = _polygons(area.geometry)
            self._shapes.append(_Shape(AreaHit(area.id, area.level), _box(polygons), polygons))

    def containing(self, lon: float, lat: float) -> list[AreaHit]:
        """The areas that contain the point, in the jurisdiction's order (the routing decision
        orders them itself: most specific level first, then by id)."""
        p = (float(lon), float(lat))
        return [shape.hit for shape in self._shapes if shape.covers(p)]
