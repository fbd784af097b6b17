"""`python -m bench.faults` (also `python -m bench --faults`): issue 11's fault run on the batched
pipeline. Nothing lost, nothing doubled when each consumer service is SIGKILLed mid-burst.

It starts its own embedded stack (bench/stack.py: `python -m devstack`, which restarts a service
that exits), posts a burst of `-n` reports from `-c` clients and, while they flow, SIGKILLs
routing, then notify, then analytics, then intake (`--order`), each once `n/5`, `2n/5`, ...
reports are in and only after the one before is back. While intake is down the clients' POSTs
fail; each failed attempt is counted and the resident tries again with a new report (retrying
the same body could store it twice if its 201 was lost in the kill; a new body keeps one report
per address, and a report stored without its 201 reaching the client is checked too). Then it
waits until every report is assigned, notified and projected and every consumer group has
committed to the end of what it consumes, and runs the invariant checker (bench/invariants.py)
over every report intake stored. Prints PASS/FAIL per invariant; exit status 1 on a failure.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from bench import invariants, load
from bench.dbprobe import Observer, Progress, connect
from bench.stack import ROOT, SERVICES, Stack, StackError, remove_workdir

ORDER = ("routing", "notify", "analytics", "intake")
RESULTS = ROOT / "bench" / "results"


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


@dataclass
class Kill:
    service: str
    pid: int
    at_s: float  # since the burst started
    posted: int  # reports answered 201 when it was killed
    done: dict[str, int]  # of those, how many each stage had finished
    in_flight: int  # of those, how many the killed service had not finished
    back_after_s: float | None = None  # killed -> a new process ready


@dataclass
class Burst:
    posted: list[load.Posted] = field(default_factory=list)
    failed_attempts: list[str] = field(default_factory=list)
    finished: bool = False
    post_s: float = 0.0
    moved: asyncio.Event = field(default_factory=asyncio.Event)  # set on each answer and at the end

    async def reached(self, k: int) -> None:
        while len(self.posted) < k and not self.finished:
            self.moved.clear()
            await self.moved.wait()


async def burst(
    http: httpx.AsyncClient, intake: str, reports: load.Reports, n: int, clients: int, out: Burst
) -> None:
    """`clients` residents posting back to back until `n` reports are answered 201."""
    t0 = time.perf_counter()
    left = n

    async def resident() -> None:
        nonlocal left
        while left > 0:
            left -= 1
            try:
                out.posted.append(await load.post(http, intake, reports.body()))
                out.moved.set()
            except load.RateLimited:
                raise
            except (httpx.HTTPError, RuntimeError) as exc:
                left += 1  # not answered 201: this resident tries again, with a new report
                out.failed_attempts.append(f"{type(exc).__name__}: {str(exc)[:120]}")
                await asyncio.sleep(0.2)  # intake is down: shortly

    try:
        await asyncio.gather(*(resident() for _ in range(clients)))
    finally:
        out.post_s = time.perf_counter() - t0
        out.finished = True
        out.moved.set()


def _in_flight(service: str, posted: int, done: dict[str, int]) -> int:
    """Reports posted so far that the service had not finished: routing assigns, intake shows
    the assignment, notify notifies it, analytics projects it."""
    stage = {
        "routing": "routed",
        "intake": "assigned",
        "notify": "notified",
        "analytics": "projected",
    }[service]
    return posted - done.get(stage, 0)


async def snapshot(observer: Observer, ids: list[str]) -> dict[str, int]:
    progress = Progress(list(ids))
    await observer.poll(progress)
    return {**progress.counts(), "routed": await observer.routed(ids)}


async def killer(
    stack: Stack,
    observer: Observer,
    b: Burst,
    n: int,
    order: list[str],
    kills: list[Kill],
    t0: float,
    restart_timeout: float,
) -> None:
    for i, service in enumerate(order):
        threshold = n * (i + 1) // (len(order) + 1)
        await b.reached(threshold)
        ids = [p.id for p in b.posted]
        done = await snapshot(observer, ids)
        pid = stack.kill(service)
        kill = Kill(
            service,
            pid,
            round(time.monotonic() - t0, 1),
            len(ids),
            done,
            _in_flight(service, len(ids), done),
        )
        kills.append(kill)
        log(
            f"  SIGKILL {service} (pid {pid}) at {kill.at_s}s: {len(ids)} posted, done {done}, "
            f"{kill.in_flight} in flight for it"
        )
        try:
            kill.back_after_s = round(
                await asyncio.to_thread(stack.wait_replaced, service, pid, restart_timeout), 1
            )
            log(f"  {service} back (restarted by devstack, ready) after {kill.back_after_s}s")
        except StackError as exc:
            log(f"  {exc}")
            return


async def caught_up(kafka: str, groups: list[str]) -> dict[str, int]:
    """Per consumer group: messages not yet committed on the partitions it has committed on
    (every partition of a consumed topic, after a burst keyed over all of them)."""
    from aiokafka import AIOKafkaConsumer, TopicPartition
    from aiokafka.admin import AIOKafkaAdminClient

    admin = AIOKafkaAdminClient(bootstrap_servers=kafka)
    consumer = AIOKafkaConsumer(bootstrap_servers=kafka)
    await admin.start()
    await consumer.start()
    lag: dict[str, int] = {}
    try:
        # every partition of every topic, asked explicitly (the embedded broker does not answer
        # "all of a group's offsets"); a partition the group never committed on is not its own
        topics = [t for t in await consumer.topics() if not t.startswith("__")]
        parts = [
            TopicPartition(t, p) for t in topics for p in consumer.partitions_for_topic(t) or ()
        ]
        ends = await consumer.end_offsets(parts)
        for group in groups:
            committed = await admin.list_consumer_group_offsets(group, partitions=parts)
            lag[group] = sum(
                max(0, ends[tp] - meta.offset)
                for tp, meta in committed.items()
                if meta.offset >= 0 and tp in ends
            )
    finally:
        await consumer.stop()
        await admin.close()
    return lag


async def wait_caught_up(kafka: str, groups: list[str], timeout: float) -> dict[str, int]:
    deadline = time.monotonic() + timeout
    while True:
        lag = await caught_up(kafka, groups)
        if not any(lag.values()) or time.monotonic() >= deadline:
            return lag
        await asyncio.sleep(1)


def fault_verdicts(kills: list[Kill], order: list[str]) -> list[invariants.Verdict]:
    """The run did what it claims: each service killed with work in flight, and back."""
    missing = [s for s in order if s not in {k.service for k in kills}]
    idle = [f"{k.service} ({k.posted} posted)" for k in kills if k.in_flight <= 0]
    gone = [k.service for k in kills if k.back_after_s is None]
    return [
        invariants.Verdict(
            "each service SIGKILLed with work in flight",
            not missing and not idle,
            len(order),
            len(missing) + len(idle),
            "; ".join(
                ([f"not killed: {', '.join(missing)}"] if missing else [])
                + ([f"nothing in flight: {', '.join(idle)}"] if idle else [])
            ),
        ),
        invariants.Verdict(
            "each killed service restarted and ready again",
            not gone,
            len(kills),
            len(gone),
            f"not back: {', '.join(gone)}" if gone else "",
        ),
    ]


async def run(a: argparse.Namespace, stack: Stack) -> dict[str, Any]:
    http = httpx.AsyncClient(
        timeout=httpx.Timeout(60, connect=5),
        limits=httpx.Limits(max_connections=100, max_keepalive_connections=32),
    )
    mongo = connect(stack.mongodb_uri)
    observer = Observer(mongo, stack.db_names)
    intake = stack.url("intake")
    try:
        reports = load.Reports(await load.fetch_categories(http, intake))
        b = Burst()
        kills: list[Kill] = []
        t0 = time.monotonic()
        log(f"burst of {a.burst} reports from {a.clients} clients; kills: {', '.join(a.order)}")
        await asyncio.gather(
            burst(http, intake, reports, a.burst, a.clients, b),
            killer(stack, observer, b, a.burst, a.order, kills, t0, a.restart_timeout),
        )
        log(f"  {len(b.posted)} answered 201 in {b.post_s:.1f}s, {len(b.failed_attempts)} failed")
        stored = await invariants.stored_report_ids(mongo, stack.db_names)
        ids = list(dict.fromkeys([p.id for p in b.posted] + stored))
        log(f"  waiting for the drain of {len(ids)} reports (intake stored {len(stored)})")
        progress = Progress(ids)
        drained = await observer.wait(progress, a.drain_timeout, interval=0.5)
        drain = {k: round(max(v.values()) - t0, 1) for k, v in progress.stages().items() if v}
        log(f"  drained: {drained}, {progress.counts()}, last at {drain}")
        lag = await wait_caught_up(stack.kafka, list(SERVICES), a.drain_timeout / 4)
        log(f"  consumer groups' uncommitted messages: {lag}")
        data = await invariants.gather(mongo, stack.db_names, stack.url("analytics"), ids)
        mail = invariants.mail_ids(stack.maildir) if stack.maildir else {}
        sent = invariants.sent_email_per_address(data["deliveries"], b.posted)
        verdicts = fault_verdicts(kills, a.order) + invariants.check(
            ids,
            mail_per_address={k: sum(v.values()) for k, v in mail.items()},
            distinct_mail_per_address={k: len(v) for k, v in mail.items()},
            sent_email_per_address=sent,
            **data,
        )
        return {
            "args": {k: str(v) if isinstance(v, Path) else v for k, v in vars(a).items()},
            "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "posted": len(b.posted),
            "stored": len(stored),
            "accepted_without_answer": len(set(stored) - {p.id for p in b.posted}),
            "failed_attempts": len(b.failed_attempts),
            "failed_examples": b.failed_attempts[:5],
            "post_s": round(b.post_s, 1),
            "kills": [asdict(k) for k in kills],
            "drained": drained,
            "drain_s": drain,
            "consumer_lag": lag,
            "invariants": [v.__dict__ for v in verdicts],
            "verdict_lines": [v.line() for v in verdicts],
        }
    finally:
        await http.aclose()
        await mongo.close()


def parse(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.faults", description=__doc__.splitlines()[0])
    p.add_argument("-n", "--burst", type=int, default=1000, help="reports of the burst")
    p.add_argument("-c", "--clients", type=int, default=16, help="concurrent clients")
    p.add_argument(
        "--order",
        type=lambda s: [x.strip() for x in s.split(",") if x.strip()],
        default=list(ORDER),
        help="services to SIGKILL, in turn (default routing,notify,analytics,intake)",
    )
    p.add_argument("--drain-timeout", type=float, default=900, help="give up the drain after")
    p.add_argument(
        "--restart-timeout", type=float, default=180, help="give up on a killed service after"
    )
    p.add_argument("--stack-root", type=Path, default=None, help="run this checkout's services")
    p.add_argument("--json", type=Path, default=None, help="also write the results here")
    p.add_argument("--keep", action="store_true", help="keep the stack's directory (logs, data)")
    a = p.parse_args(argv)
    unknown = [s for s in a.order if s not in SERVICES]
    if unknown:
        p.error(f"unknown services in --order: {', '.join(unknown)}")
    return a


def main(argv: list[str] | None = None) -> int:
    from bench.__main__ import start_with_retry

    a = parse(sys.argv[1:] if argv is None else argv)
    log("starting an embedded stack of the bench's own (broker, database, four services)")
    try:
        stack = start_with_retry(a.stack_root)
    except StackError as exc:
        print(f"bench.faults: {exc}", file=sys.stderr)
        return 2
    log(f"  up: {stack.urls} (dir {stack.workdir})")
    try:
        res = asyncio.run(run(a, stack))
    except KeyboardInterrupt:
        print("bench.faults: interrupted", file=sys.stderr)
        return 130
    finally:
        log("stopping the bench's stack")
        stack.stop()
        if a.keep:
            log(f"  kept {stack.workdir}")
        else:
            remove_workdir(stack)
    print("\nKills:")
    for k in res["kills"]:
        print(
            f"  {k['service']:<10} at {k['at_s']:>6}s  {k['posted']:>5} posted  "
            f"{k['in_flight']:>5} in flight for it  back after {k['back_after_s']}s"
        )
    print(
        f"\n{res['posted']} reports answered 201 in {res['post_s']}s ({res['failed_attempts']} "
        f"attempts failed while intake was down; {res['accepted_without_answer']} stored without "
        f"their answer); drain: {res['drain_s']}"
    )
    print("\nInvariants:")
    for line in res["verdict_lines"]:
        print("  " + line)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    for path in [RESULTS / f"faults-{stamp}.json"] + ([a.json] if a.json else []):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(res, indent=2, default=str))
        print(f"results: {path}")
    return 0 if all(v["ok"] for v in res["invariants"]) else 1


if __name__ == "__main__":
    sys.exit(main())
