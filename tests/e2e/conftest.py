"""The whole system as `make run` starts it (`python -m devstack`), on the session's test servers."""

from __future__ import annotations

import contextlib
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from devstack.servers import free_port
from tests.conftest import Infra

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Stack:
    proc: subprocess.Popen[bytes]
    workdir: Path
    base: int
    output: Path

    def url(self, service: str) -> str:
        offset = {"intake": 1, "routing": 2, "notify": 3, "analytics": 4}[service]
        return f"http://127.0.0.1:{self.base + offset}"


def _free_base() -> int:
    """A base port whose next four ports can be bound, below the range the system takes client
    ports from (32768 and up on Linux): a port picked there could be taken by any outgoing
    connection before the service binds it (a notify failed to start so)."""
    rng = random.Random()
    for _ in range(200):
        base = rng.randrange(20000, 32000)
        if all(_is_free(base + i) for i in range(1, 5)):
            return base
    raise RuntimeError("no free port range")


def _is_free(port: int) -> bool:
    import socket

    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def _wait_all_ready(stack: Stack, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    pending = ["intake", "routing", "notify", "analytics"]
    while pending and time.monotonic() < deadline:
        if stack.proc.poll() is not None:
            raise RuntimeError(f"devstack exited: {stack.output.read_text()[-3000:]}")
        for name in list(pending):
            try:
                if httpx.get(stack.url(name) + "/health/ready", timeout=2).status_code == 200:
                    pending.remove(name)
            except httpx.HTTPError:
                pass
        time.sleep(0.5)
    if pending:
        logs = {p: (stack.workdir / "logs" / f"{p}.log") for p in pending}
        tails = {p: f.read_text()[-2000:] if f.exists() else "" for p, f in logs.items()}
        raise TimeoutError(f"not ready after {timeout}s: {pending}\n{tails}")


@contextlib.contextmanager
def running_devstack(
    infra: Infra, workdir: Path, base: int, settings: dict[str, str]
) -> Iterator[Stack]:
    """`python -m devstack` on the session's test servers with `settings` added to the
    environment, until every service is ready; stopped (SIGINT, then killed) on exit."""
    env = {
        **os.environ,
        "DEVSTACK_DIR": str(workdir),
        "DEVSTACK_PORT_BASE": str(base),
        "DEVSTACK_SMTP_PORT": str(free_port()),
        "KAFKA_BOOTSTRAP_SERVERS": infra.kafka,
        "MONGODB_URI": infra.mongodb_uri,
        **settings,
    }
    env.pop("SMTP_HOST", None)  # devstack's own mail sink receives notify's emails
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
        yield stack
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()


@pytest.fixture(scope="module")
def stack(infra: Infra, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    base = _free_base()
    settings = {"KAFKA_TOPIC_PREFIX": f"e2e{os.getpid()}{base}.", "OUTBOX_POLL_INTERVAL_S": "0.2"}
    with running_devstack(infra, tmp_path_factory.mktemp("devstack"), base, settings) as stack:
        yield stack
