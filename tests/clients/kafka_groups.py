"""Consumer groups on Brook's Kafka listener (tests/it/kafka_clients.rs runs this, then
restarts Brook and runs kafka_groups_after_restart.py).

Two confluent-kafka consumers in one group split a topic's four partitions; when one leaves,
the other is given all four; committed offsets are what OffsetFetch returns to kafka-python's
consumer in the same group; the admin client lists, describes and deletes groups.
"""

import os
import sys
import time

import kafka
from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

BOOT = os.environ["KAFKA_BOOTSTRAP"]


def check(condition, message):
    if not condition:
        print("FAILED: " + message, file=sys.stderr)
        sys.exit(1)


def produce(first, count):
    producer = Producer({"bootstrap.servers": BOOT})
    for n in range(first, first + count):
        producer.produce("grp", key=f"k{n}", value=f"v{n}")
    check(producer.flush(30) == 0, "unflushed")


class Member:
    def __init__(self, name):
        self.name = name
        self.assigned = set()
        self.values = []
        self.consumer = Consumer(
            {
                "bootstrap.servers": BOOT,
                "group.id": "g1",
                "client.id": name,
                "auto.offset.reset": "earliest",
                "enable.auto.commit": False,
                "heartbeat.interval.ms": 500,
                "session.timeout.ms": 6000,
            }
        )
        self.consumer.subscribe(["grp"], on_assign=self.on_assign, on_revoke=self.on_revoke)

    def on_assign(self, consumer, partitions):
        self.assigned = {p.partition for p in partitions}

    def on_revoke(self, consumer, partitions):
        self.assigned = set()

    def poll(self):
        message = self.consumer.poll(0.2)
        if message is not None and message.error() is None:
            self.values.append(message.value().decode())


def poll_until(members, done, what, seconds=60):
    deadline = time.time() + seconds
    while time.time() < deadline:
        for member in members:
            member.poll()
        if done():
            return
    check(False, f"{what}: " + ", ".join(f"{m.name} has {sorted(m.assigned)} and {len(m.values)} values" for m in members))


def main():
    admin = AdminClient({"bootstrap.servers": BOOT})
    admin.create_topics([NewTopic("grp", num_partitions=4, replication_factor=1)])["grp"].result(30)
    a, b = Member("a"), Member("b")
    poll_until(
        [a, b], lambda: len(a.assigned) == 2 and len(b.assigned) == 2, "two partitions each"
    )
    produce(0, 400)
    poll_until([a, b], lambda: len(a.values) + len(b.values) >= 400, "all 400 records")
    check(a.assigned.isdisjoint(b.assigned), f"both were given a partition: {a.assigned} {b.assigned}")
    check(sorted(a.values + b.values) == sorted(f"v{n}" for n in range(400)), "records lost or read twice")
    a.consumer.commit(asynchronous=False)
    b.consumer.commit(asynchronous=False)

    b.consumer.close()
    poll_until([a], lambda: len(a.assigned) == 4, "the member left behind takes all four partitions")
    produce(400, 100)
    poll_until([a], lambda: len(a.values) >= 300, "the new records", 30)
    a.consumer.commit(asynchronous=False)
    committed = a.consumer.committed([TopicPartition("grp", p) for p in range(4)], timeout=10)
    ends = [a.consumer.get_watermark_offsets(TopicPartition("grp", p), timeout=10)[1] for p in range(4)]
    check([tp.offset for tp in committed] == ends, f"committed {committed} ends {ends}")

    groups = admin.list_consumer_groups().result(30)
    check("g1" in [g.group_id for g in groups.valid], f"listed groups: {groups.valid}")
    described = admin.describe_consumer_groups(["g1"])["g1"].result(30)
    check(len(described.members) == 1, f"g1's members: {described.members}")
    check(described.members[0].client_id == "a", f"g1's member: {described.members[0]}")
    try:
        admin.delete_consumer_groups(["g1"])["g1"].result(30)
        check(False, "a group with a member was deleted")
    except KafkaException as e:
        check("NON_EMPTY_GROUP" in str(e), f"deleting g1 with a member: {e}")
    a.consumer.close()

    # A group with offsets and no members is deleted with its offsets.
    temp = Consumer({"bootstrap.servers": BOOT, "group.id": "g-temp"})
    temp.commit(offsets=[TopicPartition("grp", 0, 3)], asynchronous=False)
    temp.close()
    admin.delete_consumer_groups(["g-temp"])["g-temp"].result(30)
    groups = [g.group_id for g in admin.list_consumer_groups().result(30).valid]
    check("g-temp" not in groups and "g1" in groups, f"groups after deleting g-temp: {groups}")

    # kafka-python, in the same group, starts from the committed offsets: nothing left.
    reader = kafka.KafkaConsumer(
        "grp", bootstrap_servers=BOOT, group_id="g1", enable_auto_commit=False,
        auto_offset_reset="earliest", consumer_timeout_ms=8000,
    )
    left = [r for r in reader]
    check(left == [], f"kafka-python read {len(left)} records past the committed offsets")
    positions = {tp.partition: reader.position(tp) for tp in reader.assignment()}
    check(sorted(positions.values()) == sorted(ends), f"kafka-python positions {positions}")
    reader.close()
    print("ok")


main()
