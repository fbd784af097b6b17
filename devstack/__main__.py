"""`make run`: the whole system on one machine, in the foreground; Ctrl-C stops everything.

Starts the embedded broker and database unless KAFKA_BOOTSTRAP_SERVERS / MONGODB_URI point at
real ones, creates the topics, then runs the four services as child processes, restarting any
that exits, and prints the URLs and the demo staff logins.

Unless SMTP_HOST is set, a local SMTP sink (aiosmtpd) files notify's emails into the Maildir
.devstack/mail, so the resident's emails can be read without sending anything.

Environment: DEVSTACK_PORT_BASE (default 8000: services on base+1 .. base+4), DEVSTACK_DIR
(default .devstack: data, logs, pids, mail), DEVSTACK_SMTP_PORT (default 1025),
DEVSTACK_DB_PREFIX (each service's database becomes `<prefix><service>`), and every
service setting (passed through).
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

from devstack.servers import (
    create_topics,
    start_kafka,
    start_mail_sink,
    start_mongo,
    stop,
    wait_port,
)

ROOT = Path(__file__).resolve().parent.parent
WORKDIR = Path(os.environ.get("DEVSTACK_DIR", ROOT / ".devstack"))
PORT_BASE = int(os.environ.get("DEVSTACK_PORT_BASE", "8000"))


@dataclass
class Service:
    name: str
    port: int
    proc: subprocess.Popen[bytes] | None = None
    restarts: list[float] = field(default_factory=list)


SERVICES = [
    Service(name, PORT_BASE + i)
    for i, name in enumerate(("intake", "routing", "notify", "analytics"), start=1)
]


def web_urls() -> dict[str, str]:
    """Where the pages of one service find the others on this machine (each its own origin)."""
    base = "http://127.0.0.1:"
    return {
        "WEB_ROUTING_URL": f"{base}{PORT_BASE + 2}",
        "WEB_NOTIFY_URL": f"{base}{PORT_BASE + 3}",
        "WEB_ANALYTICS_URL": f"{base}{PORT_BASE + 4}",
        "WEB_ALLOWED_ORIGINS": ",".join(f"{base}{PORT_BASE + i}" for i in range(1, 5)),
        "CONSOLE_INTAKE_URL": f"{base}{PORT_BASE + 1}",
        "AREAS_URL": f"{base}{PORT_BASE + 2}/console/areas.json",
    }


def _database_of(svc: Service, env: dict[str, str]) -> dict[str, str]:
    """DEVSTACK_DB_PREFIX gives each service the database `<prefix><service>` (tests)."""
    prefix = env.get("DEVSTACK_DB_PREFIX")
    return {"MONGODB_DB": f"{prefix}{svc.name}"} if prefix else {}


def spawn(svc: Service, env: dict[str, str]) -> None:
    log = (WORKDIR / "logs" / f"{svc.name}.log").open("ab")
    svc.proc = subprocess.Popen(
        [sys.executable, "-m", f"services.{svc.name}"],
        cwd=ROOT,
        env={**env, "HTTP_PORT": str(svc.port), **_database_of(svc, env)},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    pids = {s.name: s.proc.pid for s in SERVICES if s.proc is not None}
    (WORKDIR / "pids.json").write_text(json.dumps(pids))


def demo_logins() -> list[str]:
    url = f"http://127.0.0.1:{PORT_BASE + 2}/api/v1/agencies"
    with urllib.request.urlopen(url, timeout=5) as response:
        agencies = json.load(response)["items"]
    return [f"  {a['id']:<28} {a['name'].get('en', '')}" for a in agencies]


def print_banner() -> None:
    print("\nField reports platform is up (development). Logs: .devstack/logs/\n")
    for svc in SERVICES:
        print(f"  {svc.name:<10} http://127.0.0.1:{svc.port}/docs   (metrics: /metrics)")
    print(f"\n  residents  http://127.0.0.1:{PORT_BASE + 1}/   (report, track, public map)")
    print(f"  console    http://127.0.0.1:{PORT_BASE + 2}/   (staff, operators, admins)")
    print(f"  dashboard  http://127.0.0.1:{PORT_BASE + 4}/   (heat map: /map)")
    print(f"  open311    http://127.0.0.1:{PORT_BASE + 1}/open311/v2/discovery.json")
    token_url = f"http://127.0.0.1:{PORT_BASE + 2}/api/v1/auth/token"
    print(f"\nDemo staff logins: POST {token_url}, username below, password 'demo'")
    try:
        print("\n".join(demo_logins()))
    except Exception as exc:  # the banner must not take the stack down
        print(f"  (could not list the demo agencies: {exc})")
    print(
        "  operator                     IOC operator\n  admin                        administrator"
    )
    print("\nCtrl-C stops everything.\n", flush=True)


def supervise(env: dict[str, str]) -> None:
    """Restarts a crashed service, backing off when it keeps crashing."""
    while True:
        for svc in SERVICES:
            if svc.proc is not None and svc.proc.poll() is not None:
                svc.restarts = [t for t in svc.restarts if time.monotonic() - t < 60]
                delay = min(2 ** len(svc.restarts), 30)
                print(f"{svc.name} exited ({svc.proc.returncode}); restart in {delay}s", flush=True)
                svc.restarts.append(time.monotonic())
                time.sleep(delay)
                spawn(svc, env)
        time.sleep(0.5)


def on_signal(_signum: int, _frame: object) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # one clean shutdown, however often it is pressed
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise KeyboardInterrupt


def main() -> int:
    (WORKDIR / "logs").mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "ENVIRONMENT": os.environ.get("ENVIRONMENT", "development")}
    infra: list[subprocess.Popen[bytes]] = []
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        if "KAFKA_BOOTSTRAP_SERVERS" not in os.environ:
            print("embedded Kafka-compatible broker (Tansu) on 127.0.0.1:9092", flush=True)
            infra.append(start_kafka(9092, WORKDIR))
            env["KAFKA_BOOTSTRAP_SERVERS"] = "127.0.0.1:9092"
        if "MONGODB_URI" not in os.environ:
            print("embedded MongoDB-compatible server (SecantusDB) on 127.0.0.1:27017", flush=True)
            infra.append(start_mongo(27017, WORKDIR))
            env["MONGODB_URI"] = "mongodb://127.0.0.1:27017/?directConnection=true"
        if "SMTP_HOST" not in os.environ:
            smtp_port = int(os.environ.get("DEVSTACK_SMTP_PORT", "1025"))
            print(
                f"local mail sink on 127.0.0.1:{smtp_port}: emails go to {WORKDIR / 'mail'}",
                flush=True,
            )
            infra.append(start_mail_sink(smtp_port, WORKDIR))
            env.update(SMTP_HOST="127.0.0.1", SMTP_PORT=str(smtp_port))
        create_topics(env["KAFKA_BOOTSTRAP_SERVERS"], env.get("KAFKA_TOPIC_PREFIX", ""))
        for name, value in web_urls().items():
            env.setdefault(name, value)
        for svc in SERVICES:
            spawn(svc, env)
        for svc in SERVICES:
            wait_port(svc.port, svc.proc, timeout=60)
        print_banner()
        supervise(env)
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
