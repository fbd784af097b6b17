"""The batched pipeline with every consumer service SIGKILLed once while reports flow (routing,
then notify, analytics and intake, each restarted at once): every report is assigned, notified
and projected, and nothing is done twice — the bench's invariant checker (bench/invariants.py)
holds. `python -m bench --faults` is the same with a 1,000-report burst on `make run`'s stack."""

from __future__ import annotations

import httpx
from pymongo import AsyncMongoClient

from bench import invariants
from bench.dbprobe import Observer, Progress
from tests.faults.harness import (
    Document,
    Launcher,
    Posted,
    ServiceProcess,
    catalogue_reached,
    post_reports,
)

N = 150
KILLED = ("routing", "notify", "analytics", "intake")
# What each group consumes, to wait until it has committed all of it before counting.
CONSUMES = {
    "routing": ("report.created",),
    "intake": ("report.assigned",),
    "notify": ("report.created", "report.assigned"),
    "analytics": ("report.created", "report.assigned"),
}
# A killed member's partitions go to its restarted successor within seconds, not half a minute.
GROUP = {
    "KAFKA_SESSION_TIMEOUT_MS": "3000",
    "KAFKA_HEARTBEAT_INTERVAL_MS": "500",
    "KAFKA_MAX_POLL_INTERVAL_MS": "10000",
}
# A killed sender's leased deliveries are taken again after seconds.
NOTIFY = {"DELIVERY_LEASE_S": "3", "DELIVERY_POLL_INTERVAL_S": "0.5"}


async def _left_for(name: str, observer: Observer, ids: list[str]) -> int:
    """Of these reports, how many the service had not finished (routing: assigned it; intake:
    shows the assignment; notify: delivered it; analytics: projected it)."""
    if name == "routing":
        return len(ids) - await observer.routed(ids)
    progress = Progress(ids)
    await observer.poll(progress)
    stage = {"intake": "assigned", "notify": "notified", "analytics": "projected"}[name]
    return len(ids) - progress.counts()[stage]


async def test_each_consumer_killed_mid_stream_loses_nothing_and_doubles_nothing(
    launcher: Launcher, http: httpx.AsyncClient, mongo: AsyncMongoClient[Document]
) -> None:
    svc: dict[str, ServiceProcess] = {
        name: launcher.service(name, **GROUP, **(NOTIFY if name == "notify" else {}))
        for name in ("routing", "intake", "notify", "analytics")
    }
    await launcher.start(http, *svc.values())
    await catalogue_reached(http, svc["intake"])
    dbs = {name: s.db for name, s in svc.items()}
    observer = Observer(mongo, dbs)

    # A segment of reports at a time, each service killed right after one was answered (its
    # events are on their way through the pipeline) and restarted at once.
    posted: list[Posted] = []
    in_flight: dict[str, int] = {}
    segment = N // (len(KILLED) + 1)
    for name in KILLED:
        posted += await post_reports(http, svc["intake"], segment, start=len(posted))
        in_flight[name] = await _left_for(name, observer, [p.id for p in posted])
        svc[name].kill()
        svc[name].start()
        await svc[name].wait_ready(http)
    posted += await post_reports(http, svc["intake"], N - len(posted), start=len(posted))

    ids = [p.id for p in posted]
    progress = Progress(ids)
    assert await observer.wait(progress, timeout=90), f"not done after 90 s: {progress.counts()}"
    for name, topics in CONSUMES.items():  # no redelivered copy still on its way
        for topic in topics:
            await launcher.caught_up(svc[name], topic)
    data = await invariants.gather(mongo, dbs, svc["analytics"].url, ids)
    verdicts = invariants.check(ids, **data)
    assert [v.line() for v in verdicts if not v.ok] == []
    assert {v.checked for v in verdicts if "per report" in v.name} == {N}
    assert all(left > 0 for left in in_flight.values()), f"killed with nothing to do: {in_flight}"
