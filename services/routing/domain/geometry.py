"""Checks of GeoJSON polygons that a 2dsphere index would refuse: plain geometry, no I/O.

Edges are treated as straight lines in the [lon, lat] plane. For the areas of one city this is
what the index's great-circle edges amount to; an edge spanning a large part of the globe could
in principle be judged differently by the database, which is why the store also turns its
refusal of a geometry into the same 422 (see `AreaRefused`).
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

Point = tuple[float, float]
Edge = tuple[Point, Point]


def geometry_errors(geometry: dict[str, Any]) -> list[str]:
    """Every problem of a `Polygon` / `MultiPolygon` (empty when a 2dsphere index accepts it)."""
    kind = geometry.get("type")
    coords = geometry.get("coordinates")
    if kind == "Polygon":
        polygons = [coords]
    elif kind == "MultiPolygon" and isinstance(coords, list):
        polygons = coords
    else:
        return [f"geometry type must be Polygon or MultiPolygon, not {kind!r}"]
    errors: list[str] = []
    for n, polygon in enumerate(polygons):
        where = f"polygon {n + 1}: " if kind == "MultiPolygon" else ""
        errors += [where + e for e in polygon_errors(polygon)]
    return errors


def polygon_errors(polygon: Any) -> list[str]:
    """A polygon: an exterior ring, then holes inside it; no ring crosses itself or another."""
    if not isinstance(polygon, list) or not polygon:
        return ["polygon needs at least one ring"]
    errors: list[str] = []
    rings: list[list[Point]] = []
    for n, ring in enumerate(polygon):
        label = "ring" if len(polygon) == 1 else f"ring {n + 1}"
        problems = ring_errors(ring)
        errors += [f"{label}: {p}" if len(polygon) > 1 else p for p in problems]
        if not problems:
            rings.append(_vertices(ring))
    if errors:
        return errors
    shell, holes = rings[0], rings[1:]
    for h, hole in enumerate(holes, start=2):
        if _rings_touch(shell, hole):
            errors.append(f"ring {h} (a hole) crosses or touches the exterior ring")
        elif not point_in_ring(hole[0], shell):
            errors.append(f"ring {h} (a hole) is not inside the exterior ring")
    for i, a in enumerate(holes, start=2):
        for j, b in enumerate(holes[i - 1 :], start=i + 1):
            if _rings_touch(a, b):
                errors.append(f"rings {i} and {j} (holes) cross or touch")
    return errors


def ring_errors(ring: Any) -> list[str]:
    """A linear ring: >= 4 positions, `[lon, lat]` in range, closed, not crossing itself."""
    if not isinstance(ring, list) or len(ring) < 4:
        return ["a ring needs at least 4 positions"]
    for pos in ring:
        if not (
            isinstance(pos, list | tuple)
            and len(pos) >= 2
            and all(isinstance(v, int | float) and not isinstance(v, bool) for v in pos[:2])
        ):
            return [f"invalid position {pos!r}"]
        lon, lat = pos[0], pos[1]
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            return [f"position out of range {pos!r} (expected [lon, lat])"]
    if list(ring[0][:2]) != list(ring[-1][:2]):
        return ["ring is not closed (first position must equal the last)"]
    if len({(p[0], p[1]) for p in ring[:-1]}) < 3:
        return ["ring needs at least 3 distinct positions"]
    crossing = self_intersection(_vertices(ring))
    if crossing is not None:
        i, j = crossing
        return [f"ring intersects itself (edges {i + 1} and {j + 1} cross, touch or overlap)"]
    return []


def _vertices(ring: list[Any]) -> list[Point]:
    """The closed ring's positions without repeated consecutive ones (the index drops those)."""
    out: list[Point] = []
    for pos in ring:
        p = (float(pos[0]), float(pos[1]))
        if not out or out[-1] != p:
            out.append(p)
    return out


def _edges(closed: list[Point]) -> list[Edge]:
    return [(closed[i], closed[i + 1]) for i in range(len(closed) - 1)]


# Shewchuk's bound on the rounding error of the orientation determinant computed in floats.
_ORIENT_ERROR = (3.0 + 16.0 * 2.0**-53) * 2.0**-53


def _orient(a: Point, b: Point, c: Point) -> int:
    """Which side of a->b `c` lies on (1 left, -1 right, 0 on the line), decided exactly:
    in floats when the result is clear, else in rationals (floats are exact rationals)."""
    left = (b[0] - a[0]) * (c[1] - a[1])
    right = (b[1] - a[1]) * (c[0] - a[0])
    det, bound = left - right, _ORIENT_ERROR * (abs(left) + abs(right))
    if det > bound or -det > bound:
        return 1 if det > 0 else -1
    fa, fb, fc = [(Fraction(p[0]), Fraction(p[1])) for p in (a, b, c)]
    exact = (fb[0] - fa[0]) * (fc[1] - fa[1]) - (fb[1] - fa[1]) * (fc[0] - fa[0])
    return (exact > 0) - (exact < 0)


def _within(a: Point, b: Point, c: Point) -> bool:
    """`c`, collinear with `a`-`b`, lies on that segment."""
    return min(a[0], b[0]) <= c[0] <= max(a[0], b[0]) and min(a[1], b[1]) <= c[1] <= max(a[1], b[1])


def segments_touch(p: Edge, q: Edge) -> bool:
    """Whether two closed segments share at least one point (crossing, touching, overlapping)."""
    (p1, p2), (q1, q2) = p, q
    o1, o2 = _orient(p1, p2, q1), _orient(p1, p2, q2)
    o3, o4 = _orient(q1, q2, p1), _orient(q1, q2, p2)
    if o1 != o2 and o3 != o4 and 0 not in (o1, o2, o3, o4):
        return True
    return (
        (o1 == 0 and _within(p1, p2, q1))
        or (o2 == 0 and _within(p1, p2, q2))
        or (o3 == 0 and _within(q1, q2, p1))
        or (o4 == 0 and _within(q1, q2, p2))
    )


def _adjacent_overlap(p: Edge, q: Edge) -> bool:
    """Consecutive edges a-b, b-c fold back onto each other (a spike)."""
    a, b = p
    c = q[1]
    return _orient(a, b, c) == 0 and (_within(a, b, c) or _within(b, c, a))


def self_intersection(closed: list[Point]) -> tuple[int, int] | None:
    """The first pair of edges (indices) of a closed ring that meet other than at their shared
    vertex, or None. Edges are swept by their west end, so typical rings take ~n log n."""
    edges = _edges(closed)
    n = len(edges)
    if n < 3:
        return None
    order = sorted(range(n), key=lambda k: min(edges[k][0][0], edges[k][1][0]))
    for pos, i in enumerate(order):
        east = max(edges[i][0][0], edges[i][1][0])
        for j in order[pos + 1 :]:
            if min(edges[j][0][0], edges[j][1][0]) > east:
                break
            a, b = (i, j) if i < j else (j, i)
            if b == a + 1:
                if _adjacent_overlap(edges[a], edges[b]):
                    return a, b
            elif a == 0 and b == n - 1:
                if _adjacent_overlap(edges[b], edges[a]):
                    return a, b
            elif segments_touch(edges[a], edges[b]):
                return a, b
    return None


def _rings_touch(r1: list[Point], r2: list[Point]) -> bool:
    return any(segments_touch(e, f) for e in _edges(r1) for f in _edges(r2))


def point_in_ring(p: Point, closed: list[Point]) -> bool:
    """Even-odd rule with exact side tests (a point on the boundary may go either way: see
    `point_on_ring`)."""
    inside = False
    for a, b in _edges(closed):
        if (a[1] > p[1]) != (b[1] > p[1]):
            side = _orient(a, b, p)  # left of an upward edge, right of a downward one: crossed
            if side != 0 and (side > 0) == (b[1] > a[1]):
                inside = not inside
    return inside


def point_on_ring(p: Point, closed: list[Point]) -> bool:
    """`p` lies on an edge (or a vertex) of the closed ring."""
    return any(_orient(a, b, p) == 0 and _within(a, b, p) for a, b in _edges(closed))


def rings_of(polygon: list[Any]) -> list[list[Point]]:
    """A GeoJSON polygon's rings (exterior first, then holes) as closed vertex lists."""
    return [_vertices(ring) for ring in polygon]


def polygon_covers(p: Point, rings: list[list[Point]]) -> bool:
    """`p` is inside the polygon or on its boundary (what `$geoIntersects` answers for a point):
    inside or on the exterior ring, and not strictly inside a hole."""
    shell, holes = rings[0], rings[1:]
    if point_on_ring(p, shell):
        return True
    if not point_in_ring(p, shell):
        return False
    return not any(point_in_ring(p, h) and not point_on_ring(p, h) for h in holes)
