"""The same run's ceilings: what the database and the broker do on their own, with no service code.

Database (a scratch database, dropped after): single-document inserts from many concurrent
clients, one insert's latency from one client, bulk inserts of 1,000 report-sized documents, and
single-document transactions (a report's creation is one). Broker (a scratch topic): produce and
consume rates of 1 KiB messages.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import statistics
import time
import uuid
from typing import Any

from bench.dbprobe import connect

DOC_PAYLOAD = "x" * 900  # about the size of a report document


def _doc() -> dict[str, Any]:
    return {
        "_id": uuid.uuid4().hex,
        "status": "received",
        "category": "garbage",
        "location": {"type": "Point", "coordinates": [107.59, 16.46]},
        "created_at": time.time(),
        "payload": DOC_PAYLOAD,
    }


async def database_limits(uri: str, seconds: float, clients: int = 16) -> dict[str, float]:
    client = connect(uri)
    name = f"bench_scratch_{uuid.uuid4().hex[:8]}"
    col = client[name]["docs"]
    out: dict[str, float] = {}
    try:
        await col.insert_one(_doc())  # creates the collection outside the timed part
        # one client, one insert at a time: the floor of any request that writes
        lat = []
        end = time.monotonic() + seconds / 2
        while time.monotonic() < end:
            t = time.perf_counter()
            await col.insert_one(_doc())
            lat.append(time.perf_counter() - t)
        out["db_insert_latency_ms"] = statistics.median(lat) * 1000

        n = 0
        end = time.monotonic() + seconds

        async def writer() -> None:
            nonlocal n
            while time.monotonic() < end:
                await col.insert_one(_doc())
                n += 1

        t0 = time.perf_counter()
        await asyncio.gather(*(writer() for _ in range(clients)))
        out["db_single_insert_per_s"] = n / (time.perf_counter() - t0)

        n = 0
        t0 = time.perf_counter()
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            await col.insert_many([_doc() for _ in range(1000)], ordered=False)
            n += 1000
        out["db_bulk_insert_per_s"] = n / (time.perf_counter() - t0)

        n = 0
        end = time.monotonic() + seconds

        async def txn_writer() -> None:
            nonlocal n
            async with client.start_session() as s:
                while time.monotonic() < end:
                    async with await s.start_transaction():
                        await col.insert_one(_doc(), session=s)
                    n += 1

        t0 = time.perf_counter()
        await asyncio.gather(*(txn_writer() for _ in range(clients)))
        out["db_txn_per_s"] = n / (time.perf_counter() - t0)
    finally:
        await client.drop_database(name)
        await client.close()
    return out


async def broker_limits(bootstrap: str, messages: int) -> dict[str, float]:
    from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic

    topic = f"bench.scratch.{uuid.uuid4().hex[:8]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    out: dict[str, float] = {}
    try:
        await admin.create_topics([NewTopic(topic, num_partitions=6, replication_factor=1)])
        value = os.urandom(512).hex().encode()  # 1 KiB
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks=1, linger_ms=5)
        await producer.start()
        try:
            await producer.send_and_wait(topic, value, key=b"warm")
            t0 = time.perf_counter()
            futures = [
                await producer.send(topic, value, key=str(i % 997).encode())
                for i in range(messages)
            ]
            await asyncio.gather(*futures)
            out["broker_produce_per_s"] = messages / (time.perf_counter() - t0)
        finally:
            await producer.stop()
        consumer = AIOKafkaConsumer(
            topic,
            bootstrap_servers=bootstrap,
            group_id=None,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
        )
        await consumer.start()
        try:
            got = 0
            t0 = time.perf_counter()
            deadline = time.monotonic() + 120
            while got < messages + 1 and time.monotonic() < deadline:
                batch = await consumer.getmany(timeout_ms=1000, max_records=5000)
                got += sum(len(v) for v in batch.values())
            out["broker_consume_per_s"] = got / (time.perf_counter() - t0)
        finally:
            await consumer.stop()
    finally:
        # the embedded broker may not delete topics; it keeps nothing anyway
        with contextlib.suppress(Exception):
            await admin.delete_topics([topic])
        await admin.close()
    return out
