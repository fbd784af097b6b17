"""The system under test: an embedded stack of the bench's own (the default), or a running one.

Own stack: the embedded broker (Tansu) and database (SecantusDB) on free ports, started with
devstack's own code (`devstack.servers`), then `python -m devstack` pointed at them (it creates
the topics, starts the mail sink and the four services, restarts any that exits, and writes
their pids to pids.json) with the create rate limit off. Everything is stopped at the end.

Attached (`--attach`): the services, database and broker of a running `make run` (or any
deployment) at the given URLs; nothing is started or stopped.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bench import procfs

ROOT = Path(__file__).resolve().parent.parent
SERVICES = ("intake", "routing", "notify", "analytics")

# What the bench changes from a plain `make run`: only intake's per-client limits (the bench posts
# and polls from one address far faster than a resident may). Every other setting stays at its
# default: that is what is measured.
BENCH_ENV = {
    "RATE_LIMIT_CREATE_BURST": "0",
    "RATE_LIMIT_READ_BURST": "0",
    "RATE_LIMIT_ACT_BURST": "0",
    "ENVIRONMENT": "development",
}


# The own stack's database cache. With SecantusDB's default 1 GB, building the indexes over
# 50,000 reports' history (about 950,000 documents) did not finish in 29 minutes: a build
# that outgrows the cache slows down far faster than linearly (320,000 small documents, three
# indexes: 72 s with 1 GB, over 6 minutes with 64 MB). Sized as one would size a production
# database for its data; memory is only taken as the data grows.
DB_CACHE = "8G"


class StackError(RuntimeError):
    """The system under test is not there or did not come up."""


@dataclass
class Stack:
    urls: dict[str, str]
    mongodb_uri: str
    kafka: str
    db_names: dict[str, str]
    workdir: Path | None = None  # own stack only: data, logs, mail, pids.json
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)
    infra_pids: dict[str, int] = field(default_factory=dict)
    own: bool = False
    # own stack: how `python -m devstack` was started, to stop and start the services again
    devstack_env: dict[str, str] = field(default_factory=dict)
    root: Path = ROOT

    def url(self, service: str) -> str:
        return self.urls[service]

    @property
    def maildir(self) -> Path | None:
        return self.workdir / "mail" if self.workdir else None

    def service_pids(self) -> dict[str, int]:
        """Pids of the four service processes (from devstack's pids.json, else by port)."""
        pids_file = (self.workdir or ROOT / ".devstack") / "pids.json"
        found: dict[str, int] = {}
        if pids_file.exists():
            try:
                found = {k: int(v) for k, v in json.loads(pids_file.read_text()).items()}
            except (ValueError, OSError):
                found = {}
        for name in SERVICES:
            if name not in found or not procfs.alive(found[name]):
                port = httpx.URL(self.urls[name]).port
                pid = procfs.pid_listening(port) if port else None
                if pid is not None:
                    found[name] = pid
        return {k: v for k, v in found.items() if k in SERVICES}

    def log_tail(self, service: str, chars: int = 3000) -> str:
        if self.workdir is None:
            return ""
        path = self.workdir / "logs" / f"{service}.log"
        return path.read_text(errors="replace")[-chars:] if path.exists() else ""

    @property
    def devstack(self) -> subprocess.Popen[bytes] | None:
        return self.procs[2] if self.own and len(self.procs) > 2 else None

    def stop_services(self, timeout: float = 60) -> None:
        """Own stack: stops devstack and with it the four services (broker and database stay)."""
        proc = self.devstack
        if proc is None or proc.poll() is not None:
            return
        try:
            os.killpg(proc.pid, signal.SIGINT)
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
        except ProcessLookupError:
            pass

    def start_services(self, timeout: float = 180) -> None:
        """Own stack: starts devstack again (same ports, databases and topics)."""
        if not self.own or self.workdir is None or len(self.procs) < 2:
            raise StackError("only the bench's own stack can be restarted")
        proc = _spawn_devstack(self)
        if len(self.procs) > 2:
            self.procs[2] = proc
        else:
            self.procs.append(proc)
        wait_ready(self, timeout=timeout)

    def kill(self, service: str) -> int:
        """SIGKILLs one service process (devstack restarts it); returns the pid killed."""
        pid = self.service_pids()[service]
        os.kill(pid, signal.SIGKILL)
        return pid

    def wait_replaced(self, service: str, old_pid: int, timeout: float = 120) -> float:
        """Waits until another process than `old_pid` serves `service` and is ready; seconds."""
        t0 = time.monotonic()
        deadline = t0 + timeout
        while time.monotonic() < deadline:
            pid = self.service_pids().get(service)
            if pid is not None and pid != old_pid and procfs.alive(pid):
                try:
                    r = httpx.get(self.urls[service] + "/health/ready", timeout=3)
                    if r.status_code == 200:
                        return time.monotonic() - t0
                except httpx.HTTPError:
                    pass
            time.sleep(0.2)
        raise StackError(f"{service} not back {timeout:.0f}s after it was killed")

    def stop(self) -> None:
        """Stops what the bench started, in reverse order (devstack stops its services)."""
        for proc in reversed(self.procs):
            if proc.poll() is not None:
                continue
            try:
                os.killpg(proc.pid, signal.SIGINT if proc is self.procs[-1] else signal.SIGTERM)
                proc.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(10)
            except ProcessLookupError:
                pass
        self.procs.clear()


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


def _free_base() -> int:
    from devstack.servers import free_port

    for _ in range(100):
        base = free_port()
        if base < 60000 and all(_port_free(base + i) for i in range(1, 5)):
            return base
    raise StackError("no four free consecutive ports for the services")


def start_own(
    keep_dir: Path | None = None,
    extra_env: dict[str, str] | None = None,
    root: Path | None = None,
) -> Stack:
    """Starts broker, database and `python -m devstack` on free ports; waits until all are ready.

    `root`: the checkout whose devstack and services run (default: this one; e.g. a worktree of
    another commit, with this checkout's bench measuring it)."""
    from devstack.servers import free_port, start_kafka, start_mongo

    workdir = keep_dir or Path(tempfile.mkdtemp(prefix="fieldreports-bench-"))
    (workdir / "logs").mkdir(parents=True, exist_ok=True)
    kafka_port, mongo_port = free_port(), free_port()
    stack = Stack(
        urls={},
        mongodb_uri=f"mongodb://127.0.0.1:{mongo_port}/?directConnection=true",
        kafka=f"127.0.0.1:{kafka_port}",
        db_names={s: f"fieldreports_{s}" for s in SERVICES},
        workdir=workdir,
        own=True,
        root=root or ROOT,
    )
    try:
        kafka = start_kafka(kafka_port, workdir)
        stack.procs.append(kafka)
        mongo = start_mongo(mongo_port, workdir, cache_size=DB_CACHE)
        stack.procs.append(mongo)
        stack.infra_pids = {"broker": kafka.pid, "database": mongo.pid}
        base = _free_base()
        stack.urls = {s: f"http://127.0.0.1:{base + i}" for i, s in enumerate(SERVICES, 1)}
        stack.devstack_env = {
            **os.environ,
            **BENCH_ENV,
            **(extra_env or {}),
            "KAFKA_BOOTSTRAP_SERVERS": stack.kafka,
            "MONGODB_URI": stack.mongodb_uri,
            "DEVSTACK_DIR": str(workdir),
            "DEVSTACK_PORT_BASE": str(base),
            "DEVSTACK_SMTP_PORT": str(free_port()),
            # links in messages point at this stack's intake
            "REPORT_URL_TEMPLATE": stack.urls["intake"] + "/api/v1/reports/{report_id}",
        }
        for name in ("SMTP_HOST", "KAFKA_TOPIC_PREFIX", "MONGODB_DB", "KAFKA_GROUP_ID"):
            stack.devstack_env.pop(name, None)
        stack.procs.append(_spawn_devstack(stack))
        wait_ready(stack, timeout=180)
    except BaseException:
        stack.stop()
        raise
    return stack


def _spawn_devstack(stack: Stack) -> subprocess.Popen[bytes]:
    assert stack.workdir is not None
    out = (stack.workdir / "devstack.out").open("ab")
    try:
        return subprocess.Popen(
            [sys.executable, "-m", "devstack"],
            cwd=stack.root,
            env=stack.devstack_env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    finally:
        out.close()


def attach(urls: dict[str, str], mongodb_uri: str, kafka: str, db_prefix: str) -> Stack:
    stack = Stack(
        urls=urls,
        mongodb_uri=mongodb_uri,
        kafka=kafka,
        db_names={s: f"{db_prefix}{s}" for s in SERVICES},
    )
    wait_ready(stack, timeout=5)
    return stack


def wait_ready(stack: Stack, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    pending = list(SERVICES)
    last: dict[str, str] = {}
    while pending and time.monotonic() < deadline:
        if stack.own and stack.procs and stack.procs[-1].poll() is not None:
            out = (stack.workdir / "devstack.out") if stack.workdir else None
            text = out.read_text(errors="replace")[-3000:] if out and out.exists() else ""
            raise StackError(f"devstack exited with {stack.procs[-1].returncode}:\n{text}")
        for name in list(pending):
            try:
                r = httpx.get(stack.urls[name] + "/health/ready", timeout=3)
                if r.status_code == 200:
                    pending.remove(name)
                else:
                    last[name] = f"HTTP {r.status_code} {r.text[:200]}"
            except httpx.HTTPError as exc:
                last[name] = f"{type(exc).__name__}: {exc}"
        if pending:
            time.sleep(0.5)
    if pending:
        lines = [f"  {n} at {stack.urls[n]}: {last.get(n, 'no answer')}" for n in pending]
        hint = (
            "\n".join(f"--- {n} log ---\n{stack.log_tail(n)}" for n in pending)
            if stack.own
            else "start it with `RATE_LIMIT_CREATE_BURST=0 RATE_LIMIT_READ_BURST=0 make run`, or drop --attach to let "
            "the bench start its own stack"
        )
        raise StackError(f"not ready after {timeout:.0f}s:\n" + "\n".join(lines) + "\n" + hint)


def remove_workdir(stack: Stack) -> None:
    if stack.own and stack.workdir is not None:
        shutil.rmtree(stack.workdir, ignore_errors=True)
