"""`make bench`: issue 11's figures for the whole pipeline, in one run, next to their targets.

By default it starts its own embedded stack (broker, database, the four services via
`python -m devstack`, the create rate limit off) on free ports and stops it at the end;
`--attach` measures a running one (`RATE_LIMIT_CREATE_BURST=0 RATE_LIMIT_READ_BURST=0 make run`) instead. It is a black
box: HTTP to the services, the Mongo wire protocol (read-only, but for seeding history and a
scratch database), Kafka for the broker's limits, /proc for CPU and memory.

One run: the database's and broker's own limits; then, with nothing stored and again with
`--history` reports stored: idle DB ops/s and CPU, DB ops per report (lone and over a burst),
POST latency (one client, open-loop offered loads, with and without a photo), POST -> assigned
at a sustained rate, a burst's drain per service, the services' RSS; at the end the invariant
checker. Prints a table, writes bench/results/<time>.json (and --json PATH).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from pymongo.errors import PyMongoError

from bench import invariants, limits, load, procfs, report, seed
from bench.assigned import AssignedTracker
from bench.dbprobe import (
    Counters,
    Observer,
    OpsSample,
    Progress,
    by_service,
    ops_between,
    profiled,
    set_profiling,
)
from bench.stack import ROOT, Stack, StackError, attach, remove_workdir, start_own

RESULTS = ROOT / "bench" / "results"


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def ms(v: float | None) -> float | None:
    return None if v is None else v * 1000


def _http_client() -> httpx.AsyncClient:
    return httpx.AsyncClient(
        timeout=httpx.Timeout(60, connect=10),
        limits=httpx.Limits(max_connections=300, max_keepalive_connections=64),
    )


def _rounded(d: dict[str, float | None]) -> dict[str, float | None]:
    return {k: None if v is None else round(v, 1) for k, v in d.items()}


class Bench:
    def __init__(self, args: argparse.Namespace, stack: Stack) -> None:
        self.a = args
        self.stack = stack
        self.intake = stack.url("intake")
        # one client for everything the bench reads, so its own commands are counted and taken out
        self.counters = Counters(stack.mongodb_uri)
        self.mongo = self.counters.client
        self.observer = Observer(self.mongo, stack.db_names)
        self.http = _http_client()
        self.posted: list[load.Posted] = []
        self.outstanding: list[str] = []
        self.db_pid: int | None = stack.infra_pids.get("database")
        self.reports: load.Reports
        self.template_ids: list[str] = []

    async def close(self) -> None:
        await self.http.aclose()
        await self.counters.close()

    def _keep(self, posted: list[load.Posted]) -> None:
        self.posted += posted
        self.outstanding += [p.id for p in posted]

    def cpu_pids(self) -> dict[str, int]:
        pids = dict(self.stack.service_pids())
        if self.db_pid:
            pids["database"] = self.db_pid
        if "broker" in self.stack.infra_pids:
            pids["broker"] = self.stack.infra_pids["broker"]
        return pids

    def rss(self) -> dict[str, float | None]:
        return {k: procfs.rss_mb(v) for k, v in self.stack.service_pids().items()}

    async def settle(self) -> dict[str, Any]:
        """Waits until every report posted so far is done by every service, then a quiet 2 s."""
        progress = Progress(self.outstanding)
        t0 = time.monotonic()
        ok = await self.observer.wait(progress, self.a.drain_timeout, interval=0.5)
        if not ok:
            log(
                f"  not settled after {self.a.drain_timeout:.0f}s: {progress.counts()} of {len(progress.ids)}"
            )
        self.outstanding = []
        await asyncio.sleep(2)
        return {"settled": ok, "waited_s": round(time.monotonic() - t0, 1)}

    # ------------------------------------------------------------------ measurements

    async def idle(self) -> dict[str, Any]:
        a = await self.counters.sample()
        self.db_pid = self.db_pid or a.pid
        window = procfs.CpuWindow(self.cpu_pids())
        await asyncio.sleep(self.a.idle)
        b = await self.counters.sample()
        cpu = window.shares()
        span = b.at - a.at
        return {
            "seconds": round(span, 1),
            "ops_per_s": ops_between(a, b) / span,
            "by_service_per_s": {
                k: v / span
                for k, v in by_service(a, b, self.stack.db_names, total=ops_between(a, b)).items()
            },
            "by_kind_per_s": {k: (b.by_kind[k] - a.by_kind[k]) / (b.at - a.at) for k in b.by_kind},
            "cpu": cpu,
            "rss_mb": self.rss(),
        }

    def _net_ops(self, a: OpsSample, b: OpsSample, idle_rate: float) -> float:
        return ops_between(a, b) - idle_rate * (b.at - a.at)

    def _split(
        self, a: OpsSample, b: OpsSample, idle: dict[str, Any], n: int = 1
    ) -> dict[str, float]:
        """A window's net operations by service (idle rates out), per report."""
        rates = idle.get("by_service_per_s") or {}
        net = self._net_ops(a, b, idle["ops_per_s"])
        split = by_service(a, b, self.stack.db_names, rates, total=net)
        return {k: v / n for k, v in split.items()}

    async def lone(self, idle: dict[str, Any]) -> dict[str, Any]:
        idle_rate = idle["ops_per_s"]
        per: list[float] = []
        split: list[dict[str, float]] = []
        took: list[float] = []
        for _ in range(self.a.lone):
            a = await self.counters.sample()
            p = await load.post(self.http, self.intake, self.reports.body())
            progress = Progress([p.id])
            done = await self.observer.wait(progress, self.a.drain_timeout, interval=0.25)
            await asyncio.sleep(1.0)  # trailing writes (sent marks, delivery results)
            b = await self.counters.sample()
            self._keep([p])
            if done:
                per.append(self._net_ops(a, b, idle_rate))
                split.append(self._split(a, b, idle))
                took.append(
                    max(progress.notified[p.id], progress.projected[p.id], progress.assigned[p.id])
                    - p.sent_at
                )
        return {
            "runs": self.a.lone,
            "completed": len(per),
            "ops_per_report": report.median(per),
            "ops_each": [round(x, 1) for x in per],
            "by_service": {
                k: report.median([x[k] for x in split if k in x])
                for k in (split[0] if split else {})
            },
            "done_after_s": [round(x, 2) for x in took],
        }

    async def profile_check(self, idle: dict[str, Any]) -> dict[str, Any]:
        """One more lone report with the profiler on in every service's database: what it
        records per service against the `top` counts of the same window (which add getMores,
        the profiler skips them), and the window's opcounters against the headline (the
        profiler's writes are not commands: they must not move it)."""
        dbs = self.stack.db_names
        own = self.counters.own
        await set_profiling(self.mongo, dbs.values(), 2)
        try:
            own0 = dict(own.profiled_by_db)
            a = await self.counters.sample()
            p = await load.post(self.http, self.intake, self.reports.body())
            done = await self.observer.wait(Progress([p.id]), self.a.drain_timeout, interval=0.25)
            await asyncio.sleep(1.0)
            b = await self.counters.sample()
            own1 = dict(own.profiled_by_db)
            counted = await profiled(self.mongo, dbs)
        finally:
            await set_profiling(self.mongo, dbs.values(), 0)
        self._keep([p])
        mine = {svc: own1.get(db, 0) - own0.get(db, 0) for svc, db in dbs.items()}
        top = by_service(a, b, dbs)
        getmores = {
            svc: b.getmore_by_db.get(db, 0) - a.getmore_by_db.get(db, 0) for svc, db in dbs.items()
        }
        return {
            "completed": done,
            "profiler": {svc: counted[svc] - mine[svc] for svc in dbs},
            "top_without_getmore": {svc: top.get(svc, 0) - getmores[svc] for svc in dbs},
            "getmore": getmores,
            "ops_profiled_window": self._net_ops(a, b, idle["ops_per_s"]),
        }

    async def one_client(self) -> dict[str, Any]:
        plain = await load.one_client(self.http, self.intake, self.reports, self.a.one_client)
        photo = await load.one_client(
            self.http, self.intake, self.reports, max(5, self.a.one_client // 3), photo=True
        )
        self._keep(plain.posted + photo.posted)
        return {
            "n": len(plain.posted),
            "p50_ms": ms(report.median(plain.latencies)),
            "p99_ms": ms(report.pct(plain.latencies, 0.99)),
            "photo_n": len(photo.posted),
            "photo_p50_ms": ms(report.median(photo.latencies)),
            "photo_p99_ms": ms(report.pct(photo.latencies, 0.99)),
            "errors": plain.errors + photo.errors,
        }

    async def open_loop(self) -> list[dict[str, Any]]:
        out = []
        for rate in self.a.rates:
            for photo in (False, True):
                r = await load.open_loop(
                    self.http, self.intake, self.reports, rate, self.a.load_duration, photo
                )
                self._keep(r.posted)
                out.append(
                    {
                        "rate": rate,
                        "photo": photo,
                        "sent": len(r.posted) + len(r.errors),
                        "achieved_per_s": len(r.posted) / r.wall if r.wall else 0.0,
                        "p50_ms": ms(report.median(r.latencies)),
                        "p99_ms": ms(report.pct(r.latencies, 0.99)),
                        "late_sends": r.late,
                        "errors": r.errors[:5],
                        "n_errors": len(r.errors),
                    }
                )
                log(
                    f"  open loop {rate:g}/s {'photo' if photo else 'json'}: p50 {out[-1]['p50_ms'] or 0:.0f} ms, "
                    f"p99 {out[-1]['p99_ms'] or 0:.0f} ms"
                )
            await self.settle()
        return out

    async def sustained(self) -> dict[str, Any]:
        tracker = AssignedTracker(self.http, self.intake, self.a.poll)
        posted_all = asyncio.Event()
        tracking = asyncio.create_task(tracker.run(posted_all, self.a.assign_timeout))

        async def track(p: load.Posted) -> None:
            tracker.add(p)

        r = await load.open_loop(
            self.http, self.intake, self.reports, self.a.rate, self.a.duration, on_posted=track
        )
        posted_all.set()
        await tracking
        self._keep(r.posted)
        got = list(tracker.took.values())
        return {
            "rate": self.a.rate,
            "duration": self.a.duration,
            "posted": len(r.posted),
            "achieved_per_s": len(r.posted) / r.wall if r.wall else 0.0,
            "post_p50_ms": ms(report.median(r.latencies)),
            "post_p99_ms": ms(report.pct(r.latencies, 0.99)),
            "assigned_p50_ms": ms(report.median(got)),
            "assigned_p99_ms": ms(report.pct(got, 0.99)),
            "not_assigned": len(tracker.waiting),
            "poll_interval_s": self.a.poll,
            "n_errors": len(r.errors),
            "late_sends": r.late,
        }

    async def burst(self, idle: dict[str, Any]) -> dict[str, Any]:
        idle_rate = idle["ops_per_s"]
        a = await self.counters.sample()
        window = procfs.CpuWindow(self.cpu_pids())
        t0 = time.monotonic()
        r = await load.closed_loop(
            self.http, self.intake, self.reports, self.a.burst, self.a.clients
        )
        progress = Progress([p.id for p in r.posted])
        await self.observer.wait(progress, self.a.drain_timeout, interval=0.5)
        end = {
            k: max(v.values()) - t0
            for k, v in progress.stages().items()
            if len(v) == len(progress.ids) and v
        }
        rss_end = self.rss()
        cpu = window.shares()
        await asyncio.sleep(1.0)
        b = await self.counters.sample()
        self._keep(r.posted)
        n = len(r.posted)
        return {
            "n": n,
            "clients": self.a.clients,
            "post_s": r.wall,
            "n_errors": len(r.errors),
            "post_p50_ms": ms(report.median(r.latencies)),
            "post_p99_ms": ms(report.pct(r.latencies, 0.99)),
            "drain_s": end,
            "done": progress.counts(),
            "ops_per_report": self._net_ops(a, b, idle_rate) / n if n and progress.done() else None,
            "by_service": self._split(a, b, idle, n) if n and progress.done() else {},
            "cpu_during": cpu,
            "rss_mb_end": rss_end,
        }

    async def phase(self, name: str) -> dict[str, Any]:
        log(f"phase '{name}': settling")
        out: dict[str, Any] = {"settle": await self.settle()}
        out["stored_reports"] = await self.mongo[self.stack.db_names["intake"]][
            "reports"
        ].estimated_document_count()
        log(f"  idle {self.a.idle:g}s")
        out["idle"] = await self.idle()
        idle_rate = out["idle"]["ops_per_s"]
        log(
            f"  idle: {idle_rate:.1f} ops/s, DB CPU {100 * (out['idle']['cpu'].get('database') or 0):.1f} %"
        )
        out["lone"] = await self.lone(out["idle"])
        log(
            f"  lone report: {out['lone']['ops_each']} ops, done after {out['lone']['done_after_s']} s, "
            f"by service {_rounded(out['lone']['by_service'])}"
        )
        if self.a.profile_check and self.counters.top_ok:
            out["profile_check"] = await self.profile_check(out["idle"])
            pc = out["profile_check"]
            log(
                f"  profiler check: profiler {pc['profiler']}, top without getMores "
                f"{_rounded(pc['top_without_getmore'])}, window {pc['ops_profiled_window']:.0f} ops"
            )
        out["one_client"] = await self.one_client()
        log(
            f"  one client: p50 {out['one_client']['p50_ms'] or 0:.0f} ms, p99 {out['one_client']['p99_ms'] or 0:.0f} ms"
        )
        await self.settle()
        out["open_loop"] = await self.open_loop()
        log(f"  sustained {self.a.rate:g}/s for {self.a.duration:g}s")
        out["sustained"] = await self.sustained()
        s = out["sustained"]
        log(
            f"  sustained: POST p99 {s['post_p99_ms'] or 0:.0f} ms, -> assigned p50 {s['assigned_p50_ms'] or 0:.0f} ms "
            f"p99 {s['assigned_p99_ms'] or 0:.0f} ms, {s['not_assigned']} never"
        )
        await self.settle()
        log(f"  burst {self.a.burst} from {self.a.clients} clients")
        out["burst"] = await self.burst(out["idle"])
        b = out["burst"]
        log(
            f"  burst: POSTs {b['post_s']:.1f}s, drain {b['drain_s']}, done {b['done']}, "
            f"ops/report {b['ops_per_report']}, by service {_rounded(b['by_service'])}"
        )
        return out

    async def history(self) -> dict[str, Any]:
        t0 = time.perf_counter()
        log(f"seeding {self.a.history:,} reports of history: templates first")
        templates, info = await seed.make_templates(
            self.http,
            self.mongo,
            self.stack.urls,
            self.stack.db_names,
            self.reports,
            self.a.templates,
            self.a.open_fraction,
        )
        log(f"  {info}")
        if not templates:
            raise RuntimeError("no template report got through the pipeline: cannot seed history")
        self.template_ids = [t.report_id for t in templates]  # reports answered 201 too
        mode = self.a.seed_mode if self.stack.own else "live"
        out: dict[str, Any] = {**info, "seed_mode": mode}
        ttls = seed.ttls_of(self.stack.db_names)
        if mode == "live":
            out |= await self._clone(templates, ttls)
            out |= await self._rollups()
        else:
            out |= await self._load_offline(templates, ttls, drop=mode == "offline")
        out["seed_total_s"] = round(time.perf_counter() - t0, 1)
        return out

    async def _clone(
        self, templates: list[seed.Template], ttls: dict[tuple[str, str], tuple[str, float]]
    ) -> dict[str, Any]:
        cloned = await seed.clone_history(
            self.mongo,
            templates,
            self.a.history,
            self.a.open_fraction,
            self.a.history_days,
            batch=self.a.seed_batch,
            writers=self.a.seed_writers,
            progress=log,
            ttls=ttls,
            rederive=seed.rederivations(self.stack.db_names),
        )
        log(
            f"  cloned: {cloned['docs_total']:,} documents ({cloned['docs_per_report']} a report) "
            f"in {cloned['clone_s']}s, {cloned['docs_per_s']:,} docs/s"
        )
        return cloned

    async def _load_offline(
        self,
        templates: list[seed.Template],
        ttls: dict[tuple[str, str], tuple[str, float]],
        drop: bool,
    ) -> dict[str, Any]:
        """Own stack: the services are stopped while the copies go in (`drop`: with only `_id`
        indexed, the services' other indexes built again after, as a restore does), then they
        start on the stored history (same databases, topics and committed offsets)."""
        log(
            "  stopping the services while history goes in"
            + (" without secondary indexes (built after)" if drop else "")
        )
        t0 = time.perf_counter()
        await asyncio.to_thread(self.stack.stop_services)
        specs: dict[tuple[str, str], list[dict[str, Any]]] = {}
        out: dict[str, Any] = {}
        try:
            if drop:
                await seed.drop_secondary_indexes(self.mongo, seed.collections_of(templates), specs)
            out = await self._clone(templates, ttls)
        finally:
            log(f"  building {sum(len(v) for v in specs.values())} indexes again")
            out["index_build_s"] = round(await seed.rebuild_indexes(self.mongo, specs), 1)
            log(f"  indexes built in {out['index_build_s']}s")
            out |= await self._rollups()
            log("  starting the services")
            t1 = time.perf_counter()
            await asyncio.to_thread(self.stack.start_services)
            out["restart_s"] = round(time.perf_counter() - t1, 1)
            # the services' old keep-alive connections are gone with them
            await self.http.aclose()
            self.http = _http_client()
        out["offline_s"] = round(time.perf_counter() - t0, 1)
        return out

    async def _rollups(self) -> dict[str, Any]:
        """Analytics' rollups rebuilt from its facts, the copies' included."""
        t0 = time.perf_counter()
        facts = await seed.rebuild_rollups(self.stack.mongodb_uri, self.stack.db_names["analytics"])
        took = round(time.perf_counter() - t0, 1)
        log(f"  analytics rollups rebuilt from {facts:,} facts in {took}s")
        return {"rollups_rebuilt_from_facts": facts, "rollups_rebuild_s": took}

    async def check(self) -> list[invariants.Verdict]:
        ids = [p.id for p in self.posted] + self.template_ids
        data = await invariants.gather(
            self.mongo, self.stack.db_names, self.stack.url("analytics"), ids
        )
        mail = sent = None
        if self.stack.maildir is not None:
            mail = invariants.mail_counts(self.stack.maildir)
            sent = invariants.sent_email_per_address(data["deliveries"], self.posted)
        return invariants.check(ids, mail_per_address=mail, sent_email_per_address=sent, **data)

    async def run(self) -> dict[str, Any]:
        res: dict[str, Any] = {
            "args": vars(self.a),
            "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "stack": "own embedded" if self.stack.own else "attached",
            "urls": self.stack.urls,
        }
        log("limits: database (scratch database) and broker (scratch topic)")
        res["limits"] = await limits.database_limits(self.stack.mongodb_uri, self.a.limit_seconds)
        res["limits"] |= await limits.broker_limits(self.stack.kafka, self.a.broker_messages)
        log("  " + ", ".join(f"{k} {v:,.1f}" for k, v in res["limits"].items()))
        self.reports = load.Reports(await load.fetch_categories(self.http, self.intake))
        res["phases"] = {}
        res["errors"] = []
        try:
            res["phases"]["empty"] = await self.phase("empty")
            if self.a.history:
                await self.settle()
                res["seed"] = await self.history()
                res["phases"]["history"] = await self.phase("history")
        except (PyMongoError, httpx.HTTPError, RuntimeError) as exc:
            # keep what was measured: the table and the JSON show how far the run got
            log(f"run stopped early: {type(exc).__name__}: {exc}")
            res["errors"].append(f"{type(exc).__name__}: {exc}")
        log("settling before the invariant checker")
        await self.settle()
        verdicts = await self.check()
        res["invariants"] = [v.__dict__ for v in verdicts]
        res["verdict_lines"] = [v.line() for v in verdicts]
        return res


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    p.add_argument(
        "--quick", action="store_true", help="a smoke run: small counts, short windows (~4 min)"
    )
    p.add_argument(
        "-n", "--burst", type=int, default=None, help="burst size (default 1000; quick 100)"
    )
    p.add_argument("-c", "--clients", type=int, default=16, help="concurrent clients of the burst")
    p.add_argument(
        "--rate", type=float, default=None, help="sustained reports/s (default 10; quick 5)"
    )
    p.add_argument(
        "--duration", type=float, default=None, help="sustained seconds (default 60; quick 10)"
    )
    p.add_argument(
        "--rates",
        type=float,
        nargs="+",
        default=None,
        help="open-loop offered loads (default 5 10)",
    )
    p.add_argument(
        "--load-duration", type=float, default=None, help="seconds per open-loop load (default 15)"
    )
    p.add_argument(
        "--history",
        type=int,
        default=None,
        help="reports stored for the second pass (default 50,000; quick 1,000; 0: none)",
    )
    p.add_argument(
        "--history-days", type=float, default=365, help="closed history spread over this many days"
    )
    p.add_argument(
        "--seed-mode",
        choices=("offline", "stopped", "live"),
        default="stopped",
        help="own stack: stop the services while history goes in, with their indexes kept "
        "(stopped, the default) or dropped and built after (offline: faster inserts, but on "
        "SecantusDB the rebuild over 50,000 reports' history did not finish in 23 minutes); or "
        "insert under the running services (live; always so with --attach)",
    )
    p.add_argument("--seed-batch", type=int, default=2000, help="documents per insert_many")
    p.add_argument("--seed-writers", type=int, default=4, help="concurrent insert_many calls")
    p.add_argument("--open-fraction", type=float, default=0.05, help="share of history still open")
    p.add_argument(
        "--templates",
        type=int,
        default=None,
        help="template reports cloned into history (default 40)",
    )
    p.add_argument(
        "--one-client",
        type=int,
        default=None,
        help="sequential POSTs of the one-client figure (default 60)",
    )
    p.add_argument(
        "--lone", type=int, default=3, help="lone reports measured one after another (median)"
    )
    p.add_argument(
        "--idle", type=float, default=None, help="idle window seconds (default 10; quick 5)"
    )
    p.add_argument(
        "--poll", type=float, default=0.1, help="public-view poll interval of POST -> assigned"
    )
    p.add_argument(
        "--assign-timeout", type=float, default=120, help="give up on one report's assignment after"
    )
    p.add_argument(
        "--drain-timeout",
        type=float,
        default=None,
        help="give up waiting for a drain after (default 300)",
    )
    p.add_argument(
        "--limit-seconds", type=float, default=None, help="seconds per DB limit (default 4)"
    )
    p.add_argument(
        "--broker-messages",
        type=int,
        default=None,
        help="messages of the broker limits (default 20000)",
    )
    p.add_argument(
        "--no-profile-check",
        dest="profile_check",
        action="store_false",
        help="skip the extra lone report with the profiler on (cross-checks the per-service split)",
    )
    p.add_argument(
        "--attach", action="store_true", help="measure a running stack instead of starting one"
    )
    p.add_argument(
        "--stack-root",
        type=Path,
        default=None,
        help="own stack: run devstack and the services of this checkout (e.g. a worktree)",
    )
    p.add_argument("--intake", default=os.environ.get("BENCH_INTAKE_URL", "http://127.0.0.1:8001"))
    p.add_argument(
        "--routing", default=os.environ.get("BENCH_ROUTING_URL", "http://127.0.0.1:8002")
    )
    p.add_argument("--notify", default=os.environ.get("BENCH_NOTIFY_URL", "http://127.0.0.1:8003"))
    p.add_argument(
        "--analytics", default=os.environ.get("BENCH_ANALYTICS_URL", "http://127.0.0.1:8004")
    )
    p.add_argument(
        "--mongodb-uri",
        default=os.environ.get(
            "BENCH_MONGODB_URI", "mongodb://127.0.0.1:27017/?directConnection=true"
        ),
    )
    p.add_argument("--kafka", default=os.environ.get("BENCH_KAFKA", "127.0.0.1:9092"))
    p.add_argument(
        "--db-prefix", default="fieldreports_", help="service databases are <prefix><service>"
    )
    p.add_argument("--json", type=Path, default=None, help="also write the results here")
    p.add_argument(
        "--keep", action="store_true", help="keep the own stack's directory (logs, data)"
    )
    a = p.parse_args(argv)
    quick = a.quick
    defaults = {
        "burst": (1000, 100),
        "rate": (10.0, 5.0),
        "duration": (60.0, 10.0),
        "rates": ([5.0, 10.0], [5.0]),
        "load_duration": (15.0, 5.0),
        "history": (50_000, 1000),
        "templates": (40, 12),
        "one_client": (60, 20),
        "idle": (10.0, 5.0),
        "drain_timeout": (300.0, 120.0),
        "limit_seconds": (4.0, 2.0),
        "broker_messages": (20_000, 5000),
    }
    for k, (full, small) in defaults.items():
        if getattr(a, k) is None:
            setattr(a, k, small if quick else full)
    return a


async def amain(a: argparse.Namespace, stack: Stack) -> int:
    bench = Bench(a, stack)
    try:
        res = await bench.run()
    finally:
        await bench.close()
    figs = report.figures(res)
    print(report.table(figs, res))
    print("\nInvariants:")
    for line in res["verdict_lines"]:
        print("  " + line)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    paths = [RESULTS / f"{stamp}.json"] + ([a.json] if a.json else [])
    report.write_json(res, figs, paths)
    print(f"\nresults: {', '.join(str(p) for p in paths)}")
    return 0 if all(v["ok"] for v in res["invariants"]) else 1


def start_with_retry(root: Path | None, extra_env: dict[str, str] | None = None) -> Stack:
    """Starts an own stack; once more on fresh ports if it did not come up (a port taken between
    choosing and binding it, on a busy machine)."""
    try:
        return start_own(extra_env=extra_env, root=root)
    except StackError as exc:
        log(f"  the stack did not come up, once more on other ports: {str(exc)[:300]}")
        return start_own(extra_env=extra_env, root=root)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if "--faults" in argv:
        from bench import faults

        return faults.main([x for x in argv if x != "--faults"])
    a = parse(argv)
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    try:
        if a.attach:
            urls = {
                "intake": a.intake,
                "routing": a.routing,
                "notify": a.notify,
                "analytics": a.analytics,
            }
            stack = attach(
                {k: v.rstrip("/") for k, v in urls.items()}, a.mongodb_uri, a.kafka, a.db_prefix
            )
        else:
            log("starting an embedded stack of the bench's own (broker, database, four services)")
            stack = start_with_retry(a.stack_root)
            log(f"  up: {stack.urls} (dir {stack.workdir})")
    except StackError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 2
    try:
        return asyncio.run(amain(a, stack))
    except load.RateLimited as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("bench: interrupted", file=sys.stderr)
        return 130
    finally:
        if stack.own:
            log("stopping the bench's stack")
            stack.stop()
            if not a.keep:
                remove_workdir(stack)
            else:
                log(f"  kept {stack.workdir}")


if __name__ == "__main__":
    sys.exit(main())
