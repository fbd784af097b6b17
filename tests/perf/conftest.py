"""The whole system (`python -m devstack`) with the profiler on in every service's database and
its background loops on short intervals, so their queries are recorded too."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from pymongo import MongoClient

from shared.mongo import Document
from tests.conftest import Infra
from tests.e2e.conftest import Stack, _free_base, running_devstack

SERVICES = ("intake", "routing", "notify", "analytics")
# Every loop runs within the test's few seconds (the defaults are minutes: safety nets).
FAST_LOOPS = {
    "OUTBOX_POLL_INTERVAL_S": "1",
    "RECONCILE_INTERVAL_S": "1",
    "DEADLINE_CHECK_INTERVAL_S": "1",
    "DELIVERY_POLL_INTERVAL_S": "1",
    "GAUGES_INTERVAL_S": "1",
    "RETENTION_INTERVAL_S": "1",
    "TRIAGE_REFRESH_S": "1",
}


@pytest.fixture(scope="module")
def profiled(
    infra: Infra, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Stack, dict[str, str]]]:
    """The running stack and each service's database name."""
    workdir = tmp_path_factory.mktemp("perf")
    base = _free_base()
    tag = f"perf{os.getpid()}{base}"
    dbs = {svc: f"{tag}_{svc}" for svc in SERVICES}
    client: MongoClient[Document] = MongoClient(infra.mongodb_uri)
    for db in dbs.values():
        client[db].command("profile", 2)
    settings = {**FAST_LOOPS, "KAFKA_TOPIC_PREFIX": f"{tag}.", "DEVSTACK_DB_PREFIX": f"{tag}_"}
    try:
        with running_devstack(infra, workdir, base, settings) as stack:
            yield stack, dbs
    finally:
        for db in dbs.values():
            client[db].command("profile", 0)
        client.close()
