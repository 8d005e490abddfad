"""aiokafka against Brook's Kafka listener (tests/it/kafka_clients.rs runs this).

The admin client creates two topics; a producer sends keyed records with headers, plainly and
gzip-compressed, and a consumer reads them back by assignment (keys, values, headers,
partitions and offsets as delivered); two consumers in one group split a four-partition topic,
the one left behind is given all four when the other stops, and the offsets it commits are what
both the consumer and the admin client read back. Any failure exits non-zero saying what
differed; success prints "ok".
"""

import asyncio
import os
import sys
import time

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

BOOT = os.environ["KAFKA_BOOTSTRAP"]
RECORDS, GROUP_TOPIC, GROUP = "aio_records", "aio_grp", "aio_g1"
TOPIC_ALREADY_EXISTS = 36
step = "starting"


def check(condition, message):
    if not condition:
        print("FAILED: " + message, file=sys.stderr)
        sys.exit(1)


def producer(**config):
    # TODO(idempotence): Brook does not serve InitProducerId yet, so these producers are plain.
    # Once it does, switch to enable_idempotence=True (aiokafka then sends InitProducerId and
    # per-partition sequence numbers, with acks=all) and keep the checks that every record is
    # written once.
    return AIOKafkaProducer(bootstrap_servers=BOOT, enable_idempotence=False, **config)


async def create_topics():
    admin = AIOKafkaAdminClient(bootstrap_servers=BOOT)
    await admin.start()
    try:
        response = await admin.create_topics(
            [NewTopic(RECORDS, num_partitions=3, replication_factor=1),
             NewTopic(GROUP_TOPIC, num_partitions=4, replication_factor=1)]
        )
        errors = {e[0]: e[1] for e in response.topic_errors}
        check(errors == {RECORDS: 0, GROUP_TOPIC: 0}, f"CreateTopics errors: {response.topic_errors}")
        again = await admin.create_topics([NewTopic(RECORDS, num_partitions=3, replication_factor=1)])
        check(
            [e[1] for e in again.topic_errors] == [TOPIC_ALREADY_EXISTS],
            f"creating {RECORDS} twice: {again.topic_errors}",
        )
        topics = {t["topic"]: t for t in await admin.describe_topics([RECORDS, GROUP_TOPIC])}
        partitions = {name: len(t["partitions"]) for name, t in topics.items()}
        check(partitions == {RECORDS: 3, GROUP_TOPIC: 4}, f"described partitions: {partitions}")
    finally:
        await admin.close()


async def produce_keyed():
    """Sends 30 plain and 30 gzip records, keyed and with headers; returns what was delivered
    as {(partition, offset): (key, value, headers)}."""
    delivered = {}
    n = 0
    for codec in (None, "gzip"):
        p = producer(compression_type=codec, linger_ms=20)
        await p.start()
        try:
            futures = []
            for _ in range(30):
                key, value = f"k{n % 7}".encode(), f"v{n}".encode()
                headers = [("codec", (codec or "none").encode()), ("n", str(n).encode())]
                future = await p.send(RECORDS, value=value, key=key, headers=headers)
                futures.append((future, (key, value, headers)))
                n += 1
            for future, record in futures:
                meta = await future
                check((meta.partition, meta.offset) not in delivered, f"two records at {meta}")
                delivered[(meta.partition, meta.offset)] = record
        finally:
            await p.stop()
    partition_of = {}
    for (partition, _), (key, _, _) in delivered.items():
        check(
            partition_of.setdefault(key, partition) == partition,
            f"key {key} went to partitions {partition_of[key]} and {partition}",
        )
    check(len(delivered) == 60, f"{len(delivered)} of 60 records delivered")
    return delivered


async def read_by_assignment(delivered):
    consumer = AIOKafkaConsumer(bootstrap_servers=BOOT, enable_auto_commit=False)
    await consumer.start()
    try:
        tps = [TopicPartition(RECORDS, p) for p in range(3)]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        read = {}
        deadline = time.time() + 20
        while len(read) < len(delivered) and time.time() < deadline:
            batches = await consumer.getmany(timeout_ms=500)
            for tp, records in batches.items():
                for r in records:
                    read[(tp.partition, r.offset)] = (r.key, r.value, list(r.headers))
        check(len(read) == len(delivered), f"read {len(read)} of {len(delivered)} records")
        for at, record in delivered.items():
            check(read.get(at) == record, f"at partition/offset {at}: read {read.get(at)}, sent {record}")
        ends = await consumer.end_offsets(tps)
        expected = {tp: 1 + max([o for (p, o) in delivered if p == tp.partition], default=-1) for tp in tps}
        check(ends == expected, f"end offsets {ends}, expected {expected}")
    finally:
        await consumer.stop()


class Member(ConsumerRebalanceListener):
    def __init__(self, name):
        self.name = name
        self.assigned = set()
        self.values = []
        self.consumer = AIOKafkaConsumer(
            bootstrap_servers=BOOT,
            group_id=GROUP,
            client_id=name,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
            heartbeat_interval_ms=300,
            session_timeout_ms=6000,
        )

    async def start(self):
        await self.consumer.start()
        self.consumer.subscribe([GROUP_TOPIC], listener=self)

    async def on_partitions_revoked(self, revoked):
        self.assigned = set()

    async def on_partitions_assigned(self, assigned):
        self.assigned = {tp.partition for tp in assigned}

    async def poll(self):
        batches = await self.consumer.getmany(timeout_ms=200)
        for records in batches.values():
            self.values.extend(r.value.decode() for r in records)


async def poll_until(members, done, what, seconds=30):
    deadline = time.time() + seconds
    while time.time() < deadline:
        await asyncio.gather(*(m.poll() for m in members))
        if done():
            return
    check(
        False,
        f"{what}: " + ", ".join(f"{m.name} has {sorted(m.assigned)} and {len(m.values)} values" for m in members),
    )


async def produce_plain(first, count):
    p = producer()
    await p.start()
    try:
        futures = [await p.send(GROUP_TOPIC, key=f"k{n}".encode(), value=f"v{n}".encode())
                   for n in range(first, first + count)]
        await asyncio.gather(*futures)
    finally:
        await p.stop()


async def group():
    global step
    a, b = Member("a"), Member("b")
    await a.start()
    await b.start()
    step = "two members splitting four partitions"
    await poll_until([a, b], lambda: len(a.assigned) == 2 and len(b.assigned) == 2, step)
    check(a.assigned.isdisjoint(b.assigned), f"both were given a partition: {a.assigned} {b.assigned}")
    await produce_plain(0, 400)
    step = "the group reading 400 records"
    await poll_until([a, b], lambda: len(a.values) + len(b.values) >= 400, step)
    check(sorted(a.values + b.values) == sorted(f"v{n}" for n in range(400)), "records lost or read twice")
    check(len(a.values) > 0 and len(b.values) > 0, f"a read {len(a.values)}, b {len(b.values)}")
    await a.consumer.commit()
    await b.consumer.commit()

    step = "b stopping"
    await b.consumer.stop()
    step = "a given all four partitions"
    await poll_until([a], lambda: len(a.assigned) == 4, step)
    before = len(a.values)
    await produce_plain(400, 100)
    step = "a reading the 100 new records"
    await poll_until([a], lambda: len(a.values) >= before + 100, step)
    check(
        sorted(a.values[before:]) == sorted(f"v{n}" for n in range(400, 500)),
        f"after the rebalance a read {len(a.values) - before} records, not v400 to v499 once each",
    )
    await a.consumer.commit()
    tps = [TopicPartition(GROUP_TOPIC, p) for p in range(4)]
    committed = {tp: await a.consumer.committed(tp) for tp in tps}
    ends = await a.consumer.end_offsets(tps)
    check(committed == ends, f"committed {committed}, end offsets {ends}")
    check(sum(ends.values()) == 500, f"end offsets {ends} do not add up to 500")
    await a.consumer.stop()

    step = "the admin client reading the group's offsets"
    admin = AIOKafkaAdminClient(bootstrap_servers=BOOT)
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(GROUP)
        seen = {tp: meta.offset for tp, meta in offsets.items()}
        check(seen == ends, f"the admin client read offsets {seen}, committed {ends}")
    finally:
        await admin.close()


async def main():
    global step
    step = "creating topics"
    await create_topics()
    step = "producing keyed records"
    delivered = await produce_keyed()
    step = "reading by assignment"
    await read_by_assignment(delivered)
    await group()


try:
    asyncio.run(asyncio.wait_for(main(), 60))
except asyncio.TimeoutError:
    check(False, f"timed out after 60 s while {step}")
print("ok")
