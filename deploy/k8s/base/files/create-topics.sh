#!/bin/sh
# Creates the platform's topics on real Kafka, once; safe to run again (--if-not-exists).
# Mirrors shared/kafka.py:all_topics (tests/deploy checks that the lists agree).
#
# Environment:
#   BOOTSTRAP_SERVERS   kafka:9092
#   TOPIC_PREFIX        prepended to every name (KAFKA_TOPIC_PREFIX of the services), default none
#   PARTITIONS          partitions of each report topic and DLQ (default 6): the most replicas
#                       of one consumer service that can share the work
#   REPLICATION_FACTOR  1 for a single broker, 3 in production
#   MIN_INSYNC_REPLICAS 1 for a single broker, 2 in production (with acks=all)
#   RETENTION_MS        report topics (default 7 days); DLQ_RETENTION_MS for DLQs (default 30 days)
#   KAFKA_BIN           directory of kafka-topics.sh (default /opt/kafka/bin)
set -eu

BOOTSTRAP_SERVERS="${BOOTSTRAP_SERVERS:-kafka:9092}"
TOPIC_PREFIX="${TOPIC_PREFIX:-}"
PARTITIONS="${PARTITIONS:-6}"
REPLICATION_FACTOR="${REPLICATION_FACTOR:-1}"
MIN_INSYNC_REPLICAS="${MIN_INSYNC_REPLICAS:-1}"
RETENTION_MS="${RETENTION_MS:-604800000}"
DLQ_RETENTION_MS="${DLQ_RETENTION_MS:-2592000000}"
KAFKA_BIN="${KAFKA_BIN:-/opt/kafka/bin}"

REPORT_TOPICS="
report.created
report.assigned
report.accepted
report.in_progress
report.resolved
report.closed
report.rejected
report.duplicate
report.escalated
report.rated
report.reopened
report.supported
report.recategorized
"
CATALOG_TOPIC="jurisdiction.catalog"
ACCOUNT_TOPIC="auth.account_changed"

create() {
  name="$1"
  shift
  "$KAFKA_BIN/kafka-topics.sh" --bootstrap-server "$BOOTSTRAP_SERVERS" --create --if-not-exists \
    --topic "$TOPIC_PREFIX$name" --replication-factor "$REPLICATION_FACTOR" \
    --config "min.insync.replicas=$MIN_INSYNC_REPLICAS" "$@"
  echo "topic $TOPIC_PREFIX$name ready"
}

for topic in $REPORT_TOPICS; do
  create "$topic" --partitions "$PARTITIONS" --config "retention.ms=$RETENTION_MS"
  create "$topic.dlq" --partitions "$PARTITIONS" --config "retention.ms=$DLQ_RETENTION_MS"
done
# The catalogue is a compacted log: only its latest version (key "catalog") is kept for ever.
create "$CATALOG_TOPIC" --partitions 1 --config cleanup.policy=compact --config retention.ms=-1
# Staff logins' token versions (key: username), compacted too: a service started late replays
# the latest change of every login and refuses the tokens it revoked.
create "$ACCOUNT_TOPIC" --partitions 1 --config cleanup.policy=compact --config retention.ms=-1

"$KAFKA_BIN/kafka-topics.sh" --bootstrap-server "$BOOTSTRAP_SERVERS" --list
