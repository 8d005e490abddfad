"""Run after kafka_groups.py and a restart of Brook: group g1's committed offsets survived, so a
new member reads only what was produced after them."""

import os
import sys
import time

from confluent_kafka import Consumer, Producer, TopicPartition

BOOT = os.environ["KAFKA_BOOTSTRAP"]


def check(condition, message):
    if not condition:
        print("FAILED: " + message, file=sys.stderr)
        sys.exit(1)


consumer = Consumer(
    {"bootstrap.servers": BOOT, "group.id": "g1", "auto.offset.reset": "earliest",
     "enable.auto.commit": False}
)
committed = consumer.committed([TopicPartition("grp", p) for p in range(4)], timeout=10)
check(sum(tp.offset for tp in committed) == 500, f"committed after the restart: {committed}")
producer = Producer({"bootstrap.servers": BOOT})
for n in range(500, 520):
    producer.produce("grp", key=f"k{n}", value=f"v{n}")
check(producer.flush(30) == 0, "unflushed")
consumer.subscribe(["grp"])
values = []
deadline = time.time() + 60
while len(values) < 20 and time.time() < deadline:
    message = consumer.poll(0.5)
    if message is not None and message.error() is None:
        values.append(message.value().decode())
check(sorted(values) == sorted(f"v{n}" for n in range(500, 520)), f"read after the restart: {values}")
consumer.close()
print("ok")
