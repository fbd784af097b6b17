"""Kafka side: FastStream broker factory, topic creation and a connect-until-up loop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError
from faststream.kafka import KafkaBroker
from faststream.kafka.prometheus import KafkaPrometheusMiddleware

from shared.events import COMPACTED_TOPICS, REPORT_TOPICS, dlq
from shared.metrics import ServiceMetrics
from shared.settings import ServiceSettings

log = logging.getLogger(__name__)


def make_broker(settings: ServiceSettings, metrics: ServiceMetrics) -> KafkaBroker:
    """Same code on real Kafka and the embedded broker: only acks/idempotence settings differ."""
    acks: int | str = (
        settings.kafka_acks if settings.kafka_acks == "all" else int(settings.kafka_acks)
    )
    return KafkaBroker(
        settings.kafka_bootstrap_servers,
        client_id=settings.service_name,
        acks=acks,
        enable_idempotence=settings.kafka_enable_idempotence,
        middlewares=[
            KafkaPrometheusMiddleware(registry=metrics.registry, app_name=settings.service_name)
        ],
        logger=logging.getLogger(f"faststream.{settings.service_name}"),
    )


async def connect_until_up(
    broker: KafkaBroker,
    connected: asyncio.Event,
    ready: asyncio.Event,
    *,
    first_delay: float = 0.5,
    max_delay: float = 10.0,
) -> None:
    """Connects the producer (`connected`: publishing works), then starts the subscribers
    (`ready`), retrying with backoff while Kafka is unreachable. Joining a consumer group can
    take many seconds (after a crash, until the dead member's session expires): the outbox
    does not wait for it."""
    delay = first_delay
    while True:
        try:
            await broker.connect()
            connected.set()
            await broker.start()
        except Exception as exc:
            connected.clear()
            log.warning("kafka not reachable, retrying in %.1fs: %s", delay, exc)
            try:
                await broker.stop()
            except Exception:  # a half-started broker may fail to stop; it is rebuilt on retry
                log.debug("broker stop after failed start raised", exc_info=True)
            await asyncio.sleep(delay)
            delay = min(delay * 2, max_delay)
            continue
        ready.set()
        return


def all_topics(prefix: str = "") -> list[str]:
    names = [str(t) for t in REPORT_TOPICS]
    names += [dlq(t) for t in names]
    names += [str(t) for t in COMPACTED_TOPICS]
    return [prefix + n for n in names]


async def ensure_topics(
    bootstrap: str, names: Iterable[str], *, partitions: int = 6, replication: int = 1
) -> None:
    """Creates missing topics; the catalogue and account topics are compacted (one partition, so
    a key's events keep their order). Existing ones are left as they are."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        new = []
        for name in names:
            if name in existing:
                continue
            compacted = any(name.endswith(str(t)) for t in COMPACTED_TOPICS)
            configs = {"cleanup.policy": "compact"} if compacted else {}
            parts = 1 if configs else partitions
            new.append(NewTopic(name, parts, replication, topic_configs=configs))
        if new:
            with contextlib.suppress(TopicAlreadyExistsError):  # a peer created them meanwhile
                await admin.create_topics(new)
    finally:
        await admin.close()
