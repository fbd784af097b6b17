"""Where a consumer group stands on a topic, asked of the broker (not of the service)."""

from __future__ import annotations

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient


async def committed_to_end(kafka: str, group: str, topic: str) -> bool:
    """Whether `group`'s committed offset is at the end of every partition of `topic`."""
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka)
    consumer = AIOKafkaConsumer(bootstrap_servers=kafka)
    await admin.start()
    await consumer.start()
    try:
        await consumer.topics()  # refreshes the metadata partitions_for_topic reads
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        ends = await consumer.end_offsets(partitions)
        committed = await admin.list_consumer_group_offsets(group, partitions=partitions)
    finally:
        await consumer.stop()
        await admin.close()
    done = {tp: (committed[tp].offset if tp in committed else -1) for tp in partitions}
    return bool(partitions) and all(ends[tp] == 0 or done[tp] >= ends[tp] for tp in partitions)
