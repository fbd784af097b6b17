"""`make bench`: load a running system (`make run` in another shell) and print its figures.

Posts N reports from C concurrent clients to intake, then waits until routing has assigned each
one (polling the public view). Prints medians and 95th percentiles of the POST latency and of the
time from post to `assigned`, throughput, and the same-run baseline: the latency of intake's
`GET /health/live` (the HTTP stack with no work), as a ratio. Figures on a shared two-core
machine are noisy: compare ratios, not absolute numbers, and run it more than once.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import time

import httpx


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def baseline(client: httpx.AsyncClient, url: str, n: int) -> list[float]:
    out = []
    for _ in range(n):
        start = time.perf_counter()
        (await client.get(url + "/health/live")).raise_for_status()
        out.append(time.perf_counter() - start)
    return out


async def post_and_track(
    client: httpx.AsyncClient, url: str, category: str, timeout: float
) -> tuple[float, float | None]:
    body = {
        "category": category,
        "lat": 16.46 + random.uniform(-0.02, 0.02),
        "lon": 107.59 + random.uniform(-0.02, 0.02),
        "description": "benchmark report",
    }
    start = time.perf_counter()
    response = await client.post(url + "/api/v1/reports", json=body)
    if response.status_code == 429:
        raise SystemExit(
            "intake rate-limited the benchmark: run the stack with RATE_LIMIT_CREATE_BURST=0"
        )
    response.raise_for_status()
    posted = time.perf_counter() - start
    report_id = response.json()["id"]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        view = (await client.get(f"{url}/api/v1/reports/{report_id}")).json()
        if view["status"] != "received":
            return posted, time.perf_counter() - start
        await asyncio.sleep(0.05)
    return posted, None


async def run(url: str, n: int, concurrency: int, timeout: float) -> None:
    limits = httpx.Limits(max_connections=concurrency * 2)
    async with httpx.AsyncClient(timeout=30, limits=limits) as client:
        cats = (await client.get(url + "/api/v1/categories")).json()
        items = cats["items"] if isinstance(cats, dict) else cats
        category = next(
            c["code"] for c in items if not any(a["required"] for a in c.get("attributes", []))
        )
        base = await baseline(client, url, 50)
        sem = asyncio.Semaphore(concurrency)

        async def one() -> tuple[float, float | None]:
            async with sem:
                return await post_and_track(client, url, category, timeout)

        start = time.perf_counter()
        results = await asyncio.gather(*(one() for _ in range(n)))
        wall = time.perf_counter() - start
    posts = [p for p, _ in results]
    assigned = [a for _, a in results if a is not None]
    b50 = statistics.median(base)
    print(
        f"reports: {n}, concurrency: {concurrency}, wall: {wall:.1f}s, "
        f"throughput: {n / wall:.1f} reports/s"
    )
    print(f"baseline GET /health/live   median {b50 * 1000:7.1f} ms")
    print(
        f"POST /api/v1/reports        median {statistics.median(posts) * 1000:7.1f} ms  "
        f"p95 {pct(posts, 0.95) * 1000:7.1f} ms  ratio to baseline "
        f"{statistics.median(posts) / b50:5.1f}x"
    )
    if assigned:
        print(
            f"post -> assigned            median {statistics.median(assigned) * 1000:7.1f} ms  "
            f"p95 {pct(assigned, 0.95) * 1000:7.1f} ms  ({len(assigned)}/{n} within {timeout}s)"
        )
    else:
        print(f"post -> assigned            none within {timeout}s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8001", help="intake base URL")
    parser.add_argument("-n", type=int, default=200, help="reports to post")
    parser.add_argument("-c", type=int, default=10, help="concurrent clients")
    parser.add_argument("--timeout", type=float, default=60, help="seconds to wait for assignment")
    args = parser.parse_args()
    asyncio.run(run(args.url.rstrip("/"), args.n, args.c, args.timeout))


if __name__ == "__main__":
    main()
