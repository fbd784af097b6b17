"""A fixed grid over the globe, for lookups of open reports near a point whose cost is bounded
by the reports in a few cells, however many reports are stored.

Rows are `CELL_M` tall; each row is cut into whole columns about `CELL_M` wide at its own
latitude (so the columns wrap exactly at the antimeridian). A report is keyed by its cell;
a lookup asks for every cell that meets the square around the circle it searches, then keeps
the reports really within the radius.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

CELL_M = 300.0  # at least the default duplicate radius: a 150 m lookup meets at most 3 x 3 cells
_M_PER_DEG = 111_320.0
_ROW_DEG = CELL_M / _M_PER_DEG
_ROWS = math.ceil(180 / _ROW_DEG)


@dataclass(frozen=True, order=True)
class Cell:
    row: int
    col: int

    @property
    def key(self) -> str:
        return f"{self.row}:{self.col}"


def _row_of(lat: float) -> int:
    return min(max(int((lat + 90) // _ROW_DEG), 0), _ROWS - 1)


def _columns(row: int) -> int:
    """How many columns row `row` has: about `CELL_M` wide at its latitude nearest the equator."""
    south = -90 + row * _ROW_DEG
    nearest = min(abs(south), abs(south + _ROW_DEG)) if south * (south + _ROW_DEG) > 0 else 0.0
    width_m = 360 * _M_PER_DEG * math.cos(math.radians(min(nearest, 89.999)))
    return max(1, int(width_m // CELL_M))


def _col_of(row: int, lon: float) -> int:
    cols = _columns(row)
    return int(((lon + 180) % 360) / (360 / cols)) % cols


def cell_of(lat: float, lon: float) -> Cell:
    row = _row_of(lat)
    return Cell(row, _col_of(row, lon))


def cells_within(lat: float, lon: float, radius_m: float) -> list[Cell]:
    """Every cell that may hold a point within `radius_m` of (lat, lon), nearest rows first."""
    dlat = radius_m / _M_PER_DEG
    lo, hi = _row_of(lat - dlat), _row_of(lat + dlat)
    here = _row_of(lat)
    rows = sorted(range(lo, hi + 1), key=lambda r: abs(r - here))
    return [cell for row in rows for cell in _row_cells(row, lat, lon, radius_m)]


def _row_cells(row: int, lat: float, lon: float, radius_m: float) -> Iterator[Cell]:
    cols = _columns(row)
    # the widest the circle gets in degrees of longitude, at its latitude farthest from the
    # equator (near a pole the whole row)
    far = min(abs(lat) + radius_m / _M_PER_DEG, 90.0)
    cos = math.cos(math.radians(far))
    if cos < 1e-6:
        yield from (Cell(row, c) for c in range(cols))
        return
    dlon = radius_m / (_M_PER_DEG * cos)
    if dlon >= 180:
        yield from (Cell(row, c) for c in range(cols))
        return
    width = 360 / cols
    first = math.floor(((lon - dlon + 180) % 360) / width)
    count = min(cols, math.floor((2 * dlon) / width) + 2)
    seen: set[int] = set()
    for i in range(count):
        c = (first + i) % cols
        if c not in seen:
            seen.add(c)
            yield Cell(row, c)


def ring_radii(radius_m: float) -> list[float]:
    """The radii a nearest-first lookup widens through up to `radius_m`: the duplicate-sized
    circle first, then doubling (each step asks only for the cells it adds)."""
    radii: list[float] = []
    r = CELL_M / 2
    while r < radius_m:
        radii.append(r)
        r *= 2
    radii.append(radius_m)
    return radii
