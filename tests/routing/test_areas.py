"""The in-memory area lookup answers as the database's `$geoIntersects` on the 2dsphere index:
for many points of the demo jurisdiction (inside, outside, on shared edges and vertices) and of
areas with holes and several polygons, the same areas and so the same routing decision."""

from __future__ import annotations

import itertools
import json
import random
from collections.abc import AsyncIterator
from typing import Any

import pytest
from pymongo import AsyncMongoClient

from services.routing.domain.areas import AreaIndex
from services.routing.domain.jurisdiction import AreaHit, Jurisdiction, choose, parse
from services.routing.settings import DEMO_JURISDICTION
from services.routing.stores import INDEXES, JurisdictionStore
from shared.mongo import Document, ensure_indexes
from tests.conftest import Infra
from tests.support import unique

# A ward of two islands, the first with a pond (a hole), and a district with a courtyard.
ISLANDS = {
    "type": "MultiPolygon",
    "coordinates": [
        [
            [[107.70, 16.40], [107.76, 16.40], [107.76, 16.46], [107.70, 16.46], [107.70, 16.40]],
            [[107.72, 16.42], [107.74, 16.42], [107.73, 16.44], [107.72, 16.42]],
        ],
        [[[107.78, 16.40], [107.80, 16.43], [107.78, 16.46], [107.78, 16.40]]],
    ],
}
COURTYARD = {
    "type": "Polygon",
    "coordinates": [
        [[107.66, 16.38], [107.82, 16.38], [107.82, 16.48], [107.66, 16.48], [107.66, 16.38]],
        [[107.67, 16.39], [107.69, 16.39], [107.69, 16.41], [107.67, 16.41], [107.67, 16.39]],
    ],
}


def _jurisdiction() -> Jurisdiction:
    doc: dict[str, Any] = json.loads(DEMO_JURISDICTION.read_text(encoding="utf-8"))
    doc["areas"] += [
        {"id": "islands", "level": "ward", "parent": "courtyard", "name": {}, "geometry": ISLANDS},
        {"id": "courtyard", "level": "district", "name": {}, "geometry": COURTYARD},
    ]
    return parse(doc)


def _points(j: Jurisdiction) -> list[tuple[float, float]]:
    """A grid over the city, every vertex and edge midpoint, and random points."""
    points = [(107.48 + i * 0.01, 16.36 + k * 0.01) for i in range(36) for k in range(21)]
    for area in j.areas:
        coords = area.geometry["coordinates"]
        polygons = [coords] if area.geometry["type"] == "Polygon" else coords
        for ring in (ring for polygon in polygons for ring in polygon):
            for a, b in itertools.pairwise(ring):
                points += [(a[0], a[1]), ((a[0] + b[0]) / 2, (a[1] + b[1]) / 2)]
    rng = random.Random(11)
    points += [(rng.uniform(106.9, 108.3), rng.uniform(15.9, 16.8)) for _ in range(300)]
    return points


Answers = list[tuple[tuple[float, float], list[AreaHit]]]


@pytest.fixture(scope="module")
async def answers(infra: Infra) -> AsyncIterator[Answers]:
    """Each point with the areas the database's `$geoIntersects` finds for it."""
    client: AsyncMongoClient[Document] = AsyncMongoClient(infra.mongodb_uri, tz_aware=True)
    db = client[unique("routing_areas_")]
    await ensure_indexes(db, INDEXES)
    store = JurisdictionStore(db)
    j = _jurisdiction()
    await store.save(j)
    yield [((lon, lat), await store.areas_containing(lon, lat)) for lon, lat in _points(j)]
    await client.drop_database(db.name)
    await client.close()


def test_the_same_areas_as_geo_intersects_for_every_point(answers: Answers) -> None:
    index = AreaIndex(_jurisdiction().areas)
    differ, levels = [], set()
    for (lon, lat), by_db in answers:
        found = index.containing(lon, lat)
        levels.add(len(found))
        if {h.id for h in found} != {h.id for h in by_db}:
            differ.append(((lon, lat), sorted(h.id for h in by_db), sorted(h.id for h in found)))
    assert differ == []
    assert {0, 1, 2, 3, 4} <= levels  # outside, and inside one to four areas (shared edges)


def test_the_same_decision_for_every_category(answers: Answers) -> None:
    j = _jurisdiction()
    index = AreaIndex(j.areas)
    for (lon, lat), by_db in answers:
        mine = index.containing(lon, lat)
        for category in j.categories:
            assert choose(j, category.code, mine) == choose(j, category.code, by_db)


def test_holes_and_islands() -> None:
    index = AreaIndex(_jurisdiction().areas)

    def ids(lon: float, lat: float) -> set[str]:
        return {h.id for h in index.containing(lon, lat)} - {"hue-province"}

    assert ids(107.71, 16.45) == {"islands", "courtyard"}
    assert ids(107.73, 16.43) == {"courtyard"}  # in the pond
    assert ids(107.73, 16.42) == {"islands", "courtyard"}  # on the pond's shore
    assert ids(107.785, 16.43) == {"islands", "courtyard"}  # the second island
    assert ids(107.68, 16.40) == set()  # in the courtyard's hole
    assert ids(107.592, 16.459) == {"vinh-ninh", "phu-hoi", "thuan-hoa"}  # a shared edge
