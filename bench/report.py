"""The figures of a run next to issue 11's targets and to the same run's database limits."""

from __future__ import annotations

import json
import math
import os
import platform
import statistics
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


def pct(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..1); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


@dataclass(frozen=True)
class Figure:
    key: str
    label: str
    value: float | None
    unit: str
    target: str = ""
    ok: bool | None = None  # None: no target
    vs_db: str = ""


def _fmt(v: float | None, unit: str) -> str:
    if v is None:
        return "n/a"
    if unit in ("ms", "s", "MB", "x"):
        return (
            f"{v:,.0f} {unit}"
            if abs(v) >= 100
            else f"{v:,.2f} {unit}"
            if abs(v) < 10
            else f"{v:,.1f} {unit}"
        )
    if unit == "%":
        return f"{v:.1f} %"
    return f"{v:,.1f} {unit}".strip()


def _le(v: float | None, limit: float) -> bool | None:
    return None if v is None else v <= limit


SERVICES = ("intake", "routing", "notify", "analytics")


def split(out: list[Figure], key: str, tag: str, by: dict[str, float | None] | None) -> None:
    """One row per service under an ops-per-report figure (`top` counts of its database)."""
    for svc in (*SERVICES, "other"):
        if by and by.get(svc) is not None:
            what = svc if svc != "other" else "other (commits, sessions, heartbeats)"
            out.append(Figure(f"{key}_{svc}", f"{tag}   of which {what}", by[svc], "ops"))


def figures(res: dict[str, Any]) -> list[Figure]:
    lim = res.get("limits", {})
    ins_ms = lim.get("db_insert_latency_ms")
    ins_rate = lim.get("db_single_insert_per_s")
    txn_rate = lim.get("db_txn_per_s")
    out: list[Figure] = []

    def lat(
        key: str, label: str, v: float | None, target: str = "", ok: bool | None = None
    ) -> None:
        vs = f"{v / ins_ms:,.0f}x one DB insert" if v is not None and ins_ms else ""
        out.append(Figure(key, label, v, "ms", target, ok, vs))

    def ops(key: str, label: str, v: float | None, limit: float) -> None:
        vs = f"DB-bound at {ins_rate / v:,.0f} reports/s" if v and ins_rate and v > 0 else ""
        out.append(Figure(key, label, v, "ops", f"<= {limit:g}", _le(v, limit), vs))

    for name in ("empty", "history"):
        ph = res.get("phases", {}).get(name)
        if not ph or not all(k in ph for k in ("idle", "lone", "one_client", "burst")):
            continue
        tag = f"[{name}{'' if name == 'empty' else ' ' + format(ph.get('stored_reports', 0), ',')}]"
        idle = ph["idle"]
        v = idle.get("ops_per_s")
        out.append(
            Figure(
                f"{name}.idle_ops_per_s",
                f"{tag} idle DB ops/s",
                v,
                "ops/s",
                "<= 2",
                _le(v, 2),
                f"{v / ins_rate * 100:.2f} % of DB insert rate"
                if v is not None and ins_rate
                else "",
            )
        )
        v = idle.get("cpu", {}).get("database")
        out.append(
            Figure(
                f"{name}.idle_db_cpu",
                f"{tag} idle DB CPU (share of a core)",
                None if v is None else v * 100,
                "%",
                "< 5 %",
                None if v is None else v < 0.05,
            )
        )
        ops(
            f"{name}.ops_lone",
            f"{tag} DB ops per report, lone",
            ph["lone"].get("ops_per_report"),
            30,
        )
        split(out, f"{name}.ops_lone", tag, ph["lone"].get("by_service"))
        ops(
            f"{name}.ops_burst",
            f"{tag} DB ops per report, burst (amortised)",
            ph["burst"].get("ops_per_report"),
            15,
        )
        split(out, f"{name}.ops_burst", tag, ph["burst"].get("by_service"))
        pc = ph.get("profile_check")
        if pc:
            order = [s for s in SERVICES if s in pc["profiler"]]
            prof = "/".join(str(pc["profiler"][s]) for s in order)
            top = "/".join(str(pc["top_without_getmore"][s]) for s in order)
            out.append(
                Figure(
                    f"{name}.profile_check_ops",
                    f"{tag} profiler on, one report: profiler {prof}, top w/o getMore {top}",
                    pc.get("ops_profiled_window"),
                    "ops",
                    "",
                    None,
                    "same window, i/r/n/a",
                )
            )
        one = ph["one_client"]
        lat(f"{name}.post_p50", f"{tag} POST, one client, median", one.get("p50_ms"))
        lat(f"{name}.post_p99", f"{tag} POST, one client, p99", one.get("p99_ms"))
        lat(
            f"{name}.post_photo_p50",
            f"{tag} POST with photo, one client, median",
            one.get("photo_p50_ms"),
        )
        for load in ph.get("open_loop", []):
            kind = "photo" if load["photo"] else "json"
            lat(
                f"{name}.open_{load['rate']:g}_{kind}_p99",
                f"{tag} POST p99 at {load['rate']:g}/s offered ({kind}), achieved {load['achieved_per_s']:.1f}/s",
                load.get("p99_ms"),
            )
        s = ph.get("sustained", {})
        if s:
            lbl = f"{tag} {s['rate']:g}/s for {s['duration']:g}s:"
            lat(
                f"{name}.sustained_post_p99",
                f"{lbl} POST p99",
                s.get("post_p99_ms"),
                "< 300 ms",
                None if s.get("post_p99_ms") is None else s["post_p99_ms"] < 300,
            )
            v = s.get("assigned_p99_ms")
            miss = s.get("not_assigned", 0)
            lat(
                f"{name}.sustained_assigned_p99",
                f"{lbl} POST -> assigned p99 ({miss} never)",
                v,
                "< 1,000 ms",
                None if v is None else (v < 1000 and miss == 0),
            )
            lat(
                f"{name}.sustained_assigned_p50",
                f"{lbl} POST -> assigned median",
                s.get("assigned_p50_ms"),
            )
        b = ph["burst"]
        post_s = b.get("post_s")
        rate = b["n"] / post_s if post_s else None
        out.append(
            Figure(
                f"{name}.burst_post_rate",
                f"{tag} burst: {b['n']} POSTs by {b['clients']} clients",
                rate,
                "reports/s",
                "",
                None,
                f"{rate / txn_rate * 100:.0f} % of DB txn/s" if rate and txn_rate else "",
            )
        )
        for stage in ("assigned", "notified", "projected"):
            v = b.get("drain_s", {}).get(stage)
            limit = 2 * post_s if post_s else None
            done = b.get("done", {}).get(stage, 0)
            label = f"{tag} burst: all {stage}" + (
                "" if done == b["n"] else f" (only {done}/{b['n']})"
            )
            out.append(
                Figure(
                    f"{name}.burst_{stage}_s",
                    label,
                    v,
                    "s",
                    f"<= {limit:.0f} s (2x POSTs)" if limit else "",
                    None if v is None or limit is None else v <= limit,
                )
            )
        for svc, mb in sorted(b.get("rss_mb_end", {}).items()):
            idle_mb = ph["idle"].get("rss_mb", {}).get(svc)
            out.append(
                Figure(
                    f"{name}.rss_{svc}",
                    f"{tag} RSS {svc} after burst (idle {idle_mb or 0:.0f} MB)",
                    mb,
                    "MB",
                    "< 150 MB",
                    None if mb is None else mb < 150,
                )
            )
    sd = res.get("seed")
    if sd:
        out.append(
            Figure(
                "seed.total_s",
                f"history seeded ({sd.get('seed_mode')}): {sd.get('history', 0):,} reports, "
                f"{sd.get('docs_total', 0):,} documents ({sd.get('docs_per_report')} a report)",
                sd.get("seed_total_s"),
                "s",
                "a few minutes",
                None,
                f"{sd.get('docs_per_s') or 0:,} docs/s inserted, indexes {sd.get('index_build_s', 0)} s",
            )
        )
    e, h = res.get("phases", {}).get("empty"), res.get("phases", {}).get("history")
    if e and h:
        for key, label, part, field in (
            ("post_p50", "POST one client median", "one_client", "p50_ms"),
            ("post_p99", "POST one client p99", "one_client", "p99_ms"),
            ("ops_lone", "ops per lone report", "lone", "ops_per_report"),
            ("ops_burst", "ops per report, burst", "burst", "ops_per_report"),
        ):
            a, b2 = e[part].get(field), h[part].get(field)
            r = b2 / a if a and b2 is not None else None
            out.append(
                Figure(f"flat.{key}", f"history / empty: {label}", r, "x", "<= 1.5", _le(r, 1.5))
            )
    return out


def table(figs: list[Figure], res: dict[str, Any]) -> str:
    lim = res.get("limits", {})
    head = ["", "Limits of this run (no service code):"]
    for k, label, unit in (
        ("db_single_insert_per_s", "DB single inserts, 16 clients", "/s"),
        ("db_insert_latency_ms", "DB one insert, one client", " ms"),
        ("db_bulk_insert_per_s", "DB bulk insert (1,000 a batch)", " docs/s"),
        ("db_txn_per_s", "DB one-insert transactions, 16 clients", "/s"),
        ("broker_produce_per_s", "broker produce (1 KiB)", " msgs/s"),
        ("broker_consume_per_s", "broker consume (1 KiB)", " msgs/s"),
    ):
        if k in lim:
            head.append(f"  {label:<44} {lim[k]:>12,.1f}{unit}")
    w = max(len(f.label) for f in figs) if figs else 40
    rows = [
        "",
        f"{'figure':<{w}}  {'value':>14}  {'target':<20} {'':4}  vs DB limit",
        "-" * (w + 70),
    ]
    for f in figs:
        mark = {True: "ok", False: "MISS", None: ""}[f.ok]
        rows.append(
            f"{f.label:<{w}}  {_fmt(f.value, f.unit):>14}  {f.target:<20} {mark:4}  {f.vs_db}"
        )
    return "\n".join(head + rows)


def write_json(res: dict[str, Any], figs: list[Figure], paths: list[Path]) -> None:
    body = {
        **res,
        "figures": [asdict(f) for f in figs],
        "machine": {
            "platform": platform.platform(),
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
        },
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    for path in paths:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(body, indent=2, default=str))
