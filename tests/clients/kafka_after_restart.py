"""Run by tests/it/kafka_clients.rs after kafka_produce_consume.py and a restart of Brook:
the topics and records produced before are there, and new records get the next offsets."""

import os
import sys

from confluent_kafka import Consumer, Producer, TopicPartition

BOOT = os.environ["KAFKA_BOOTSTRAP"]


def check(condition, message):
    if not condition:
        print("FAILED: " + message, file=sys.stderr)
        sys.exit(1)


consumer = Consumer({"bootstrap.servers": BOOT, "group.id": "after-restart"})
ends = [consumer.get_watermark_offsets(TopicPartition("ck_orders", p), timeout=10) for p in range(3)]
check(sum(high - low for low, high in ends) == 200, f"ck_orders after the restart: {ends}")
delivered = []
producer = Producer({"bootstrap.servers": BOOT})
producer.produce("ck_late", value=b"after", on_delivery=lambda e, m: delivered.append((e, m.offset())))
check(producer.flush(30) == 0, "unflushed")
check(delivered == [(None, 1)], f"the next offset of ck_late: {delivered}")
consumer.close()
print("ok")
