"""The grid of the nearby and duplicate lookups (no I/O): a lookup's cells hold every point
within its radius, and stay few."""

from __future__ import annotations

import math
import random

import pytest

from services.intake.domain.cells import CELL_M, cell_of, cells_within, ring_radii
from services.intake.domain.rules import distance_m


def _point_at(lat: float, lon: float, dist_m: float, bearing: float) -> tuple[float, float]:
    """The point `dist_m` away on `bearing` (radians), on the sphere `distance_m` uses."""
    r = 6_371_008.8
    p1, l1, d = math.radians(lat), math.radians(lon), dist_m / r
    p2 = math.asin(math.sin(p1) * math.cos(d) + math.cos(p1) * math.sin(d) * math.cos(bearing))
    l2 = l1 + math.atan2(
        math.sin(bearing) * math.sin(d) * math.cos(p1), math.cos(d) - math.sin(p1) * math.sin(p2)
    )
    return math.degrees(p2), (math.degrees(l2) + 540) % 360 - 180


@pytest.mark.parametrize(
    ("lat", "lon", "radius_m"),
    [
        (16.4637, 107.5909, 150),  # Huế, the duplicate radius
        (16.4637, 107.5909, 5000),  # the nearby cap
        (-33.9, 18.4, 700),
        (0.0001, -0.0001, 300),  # the equator and the prime meridian
        (51.5, 179.999, 400),  # across the antimeridian
        (69.7, -179.9, 2500),  # far north, across the antimeridian
    ],
)
def test_every_point_within_the_radius_is_in_one_of_the_lookups_cells(
    lat: float, lon: float, radius_m: float
) -> None:
    rng = random.Random(f"{lat},{lon},{radius_m}")
    asked = set(cells_within(lat, lon, radius_m))
    for _ in range(2000):
        p = _point_at(lat, lon, rng.uniform(0, radius_m), rng.uniform(0, 2 * math.pi))
        assert distance_m(lat, lon, *p) <= radius_m + 1e-6
        assert cell_of(*p) in asked, p


def test_a_duplicate_lookup_asks_for_nine_cells_at_most() -> None:
    rng = random.Random(7)
    for _ in range(500):
        lat, lon = rng.uniform(-60, 60), rng.uniform(-180, 180)
        assert len(set(cells_within(lat, lon, CELL_M / 2))) <= 9


def test_a_point_is_in_one_cell_and_nearby_points_share_it() -> None:
    here = cell_of(16.4637, 107.5909)
    assert cell_of(16.4637, 107.5909) == here
    assert cell_of(16.4637 + 0.01, 107.5909) != here  # ~1.1 km north


def test_a_widening_lookup_starts_with_the_duplicate_sized_circle_and_ends_at_its_radius() -> None:
    assert ring_radii(150) == [150]
    assert ring_radii(5000) == [150, 300, 600, 1200, 2400, 4800, 5000]
