"""`make run`: the whole system on one machine, in the foreground; Ctrl-C stops everything.

Starts the embedded broker and database unless KAFKA_BOOTSTRAP_SERVERS / MONGODB_URI point at
real ones, creates the topics, then runs the four services as child processes, restarting any
that exits, and prints the URLs and the demo staff logins.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from devstack.servers import create_topics, start_kafka, start_mongo, stop, wait_port

ROOT = Path(__file__).resolve().parent.parent
WORKDIR = Path(os.environ.get("DEVSTACK_DIR", ROOT / ".devstack"))


@dataclass
class Service:
    name: str
    port: int
    proc: subprocess.Popen[bytes] | None = None
    restarts: list[float] = field(default_factory=list)


SERVICES = [
    Service("intake", 8001),
    Service("routing", 8002),
    Service("notify", 8003),
    Service("analytics", 8004),
]


def spawn(svc: Service, env: dict[str, str]) -> None:
    log = (WORKDIR / "logs" / f"{svc.name}.log").open("ab")
    svc.proc = subprocess.Popen(
        [sys.executable, "-m", f"services.{svc.name}"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def print_banner() -> None:
    print("\nField reports platform is up (development). Logs: .devstack/logs/\n")
    for svc in SERVICES:
        print(f"  {svc.name:<10} http://127.0.0.1:{svc.port}/docs   metrics: /metrics")
    print("  dashboard  http://127.0.0.1:8004/")
    print("  open311    http://127.0.0.1:8001/open311/v2/discovery.json")
    try:
        with urllib.request.urlopen("http://127.0.0.1:8002/api/v1/agencies", timeout=5) as r:
            agencies = json.load(r)
        items = agencies.get("items", agencies) if isinstance(agencies, dict) else agencies
        print(
            "\nDemo staff logins (POST http://127.0.0.1:8002/api/v1/auth/token, password 'demo'):"
        )
        for a in items:
            print(
                f"  {a['id']:<28} {a['name'].get('en', '') if isinstance(a['name'], dict) else a['name']}"
            )
        print("  operator / demo, admin / demo")
    except Exception as exc:  # the banner must not take the stack down
        print(f"\n(could not list demo agencies yet: {exc})")
    print("\nCtrl-C stops everything.\n", flush=True)


def main() -> int:
    WORKDIR.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "ENVIRONMENT": os.environ.get("ENVIRONMENT", "development")}
    infra: list[subprocess.Popen[bytes]] = []

    def on_signal(signum: int, _frame: object) -> None:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # one clean shutdown, whatever is pressed
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        if "KAFKA_BOOTSTRAP_SERVERS" not in os.environ:
            print("starting embedded Kafka-compatible broker (Tansu) on 127.0.0.1:9092", flush=True)
            infra.append(start_kafka(9092, WORKDIR))
            env["KAFKA_BOOTSTRAP_SERVERS"] = "127.0.0.1:9092"
        if "MONGODB_URI" not in os.environ:
            print(
                "starting embedded MongoDB-compatible server (SecantusDB) on 127.0.0.1:27017",
                flush=True,
            )
            infra.append(start_mongo(27017, WORKDIR))
            env["MONGODB_URI"] = "mongodb://127.0.0.1:27017/?directConnection=true"
        create_topics(env["KAFKA_BOOTSTRAP_SERVERS"])
        for svc in SERVICES:
            spawn(svc, env)
        for svc in SERVICES:
            wait_port(svc.port, svc.proc, timeout=60)
        print_banner()
        while True:
            for svc in SERVICES:
                if svc.proc is not None and svc.proc.poll() is not None:
                    svc.restarts = [t for t in svc.restarts if time.monotonic() - t < 60]
                    delay = min(2 ** len(svc.restarts), 30)
                    print(
                        f"{svc.name} exited with {svc.proc.returncode}; restarting in {delay}s",
                        flush=True,
                    )
                    svc.restarts.append(time.monotonic())
                    time.sleep(delay)
                    spawn(svc, env)
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        print("\nstopping ...", flush=True)
        for svc in SERVICES:
            if svc.proc is not None:
                stop(svc.proc, timeout=15)
        for proc in reversed(infra):
            stop(proc)
        print("stopped.", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
