"""The whole system (`python -m devstack`) with the profiler on in every service's database and
its background loops on short intervals, so their queries are recorded too."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator

import pytest
from pymongo import MongoClient

from devstack.servers import free_port
from shared.mongo import Document
from tests.conftest import Infra
from tests.e2e.conftest import ROOT, Stack, _free_base, _wait_all_ready

SERVICES = ("intake", "routing", "notify", "analytics")
# Every loop runs within the test's few seconds (the defaults are minutes: safety nets).
FAST_LOOPS = {
    "OUTBOX_POLL_INTERVAL_S": "1",
    "RECONCILE_INTERVAL_S": "1",
    "DEADLINE_CHECK_INTERVAL_S": "1",
    "DELIVERY_POLL_INTERVAL_S": "1",
    "GAUGES_INTERVAL_S": "1",
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
    env = {
        **os.environ,
        **FAST_LOOPS,
        "DEVSTACK_DIR": str(workdir),
        "DEVSTACK_PORT_BASE": str(base),
        "DEVSTACK_SMTP_PORT": str(free_port()),
        "KAFKA_BOOTSTRAP_SERVERS": infra.kafka,
        "MONGODB_URI": infra.mongodb_uri,
        "KAFKA_TOPIC_PREFIX": f"{tag}.",
        "DEVSTACK_DB_PREFIX": f"{tag}_",
    }
    env.pop("SMTP_HOST", None)
    output = workdir / "devstack.out"
    proc = subprocess.Popen(
        [sys.executable, "-m", "devstack"],
        cwd=ROOT,
        env=env,
        stdout=output.open("wb"),
        stderr=subprocess.STDOUT,
    )
    stack = Stack(proc, workdir, base, output)
    try:
        _wait_all_ready(stack)
        yield stack, dbs
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
        for db in dbs.values():
            client[db].command("profile", 0)
        client.close()
