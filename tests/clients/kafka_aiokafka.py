"""aiokafka against Brook's Kafka listener (tests/it/kafka_clients.rs runs this).

The admin client creates four topics; idempotent producers (InitProducerId, sequence numbers,
acks=all) send keyed records with headers, plainly and gzip-compressed, and a consumer reads
them back by assignment (keys, values, headers, partitions and offsets as delivered: each
record written once); two consumers in one group split a four-partition topic, the one left
behind is given all four when the other stops, and the offsets it commits are what both the
consumer and the admin client read back. Then a consume-transform-produce loop: a
read_committed consumer in a group reads an input topic, and a transactional producer writes
each batch upper-cased and commits the batch's input offsets in the same transaction
(send_offsets_to_transaction); one transaction is aborted after its records were flushed to the
broker, and its input read again from the committed offsets. A read_committed consumer sees
every output exactly once, a read_uncommitted one the aborted records too, and the group's
committed offsets are the input's end offsets. Any failure exits non-zero with
"FAILED: <step>: <what differed>"; success prints "ok".
"""

import asyncio
import os
import sys
import time

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

BOOT = os.environ["KAFKA_BOOTSTRAP"]
RECORDS, GROUP_TOPIC, GROUP = "aio_records", "aio_grp", "aio_g1"
TXN_IN, TXN_OUT, TXN_GROUP, TXN_ID, INPUTS = "aio_txn_in", "aio_txn_out", "aio_txn_app", "aio-app-1", 100
TOPIC_ALREADY_EXISTS = 36
step = "starting"


def check(condition, message):
    if not condition:
        print(f"FAILED: {step}: {message}", file=sys.stderr)
        sys.exit(1)


def producer(**config):
    # Idempotent: aiokafka sends InitProducerId, then per-partition sequence numbers with
    # acks=all; the callers check that every record is written once.
    return AIOKafkaProducer(bootstrap_servers=BOOT, enable_idempotence=True, **config)


def check_idempotent(p):
    # aiokafka 0.14 keeps the producer id InitProducerId gave in its transaction manager.
    pid = p._txn_manager.producer_id if p._txn_manager is not None else None
    check(pid is not None and pid >= 0, f"the producer has no producer id ({pid}): not idempotent")


async def create_topics():
    admin = AIOKafkaAdminClient(bootstrap_servers=BOOT)
    await admin.start()
    try:
        response = await admin.create_topics(
            [NewTopic(RECORDS, num_partitions=3, replication_factor=1),
             NewTopic(GROUP_TOPIC, num_partitions=4, replication_factor=1),
             NewTopic(TXN_IN, num_partitions=2, replication_factor=1),
             NewTopic(TXN_OUT, num_partitions=2, replication_factor=1)]
        )
        errors = {e[0]: e[1] for e in response.topic_errors}
        expected = {RECORDS: 0, GROUP_TOPIC: 0, TXN_IN: 0, TXN_OUT: 0}
        check(errors == expected, f"CreateTopics errors: {response.topic_errors}")
        again = await admin.create_topics([NewTopic(RECORDS, num_partitions=3, replication_factor=1)])
        check(
            [e[1] for e in again.topic_errors] == [TOPIC_ALREADY_EXISTS],
            f"creating {RECORDS} twice: {again.topic_errors}",
        )
        topics = {t["topic"]: t for t in await admin.describe_topics(list(expected))}
        partitions = {name: len(t["partitions"]) for name, t in topics.items()}
        check(
            partitions == {RECORDS: 3, GROUP_TOPIC: 4, TXN_IN: 2, TXN_OUT: 2},
            f"described partitions: {partitions}",
        )
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
            check_idempotent(p)
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


async def poll_until(members, done, seconds=30):
    deadline = time.time() + seconds
    while time.time() < deadline:
        await asyncio.gather(*(m.poll() for m in members))
        if done():
            return
    check(
        False,
        ", ".join(f"{m.name} has {sorted(m.assigned)} and {len(m.values)} values" for m in members),
    )


async def produce_plain(first, count):
    p = producer()
    await p.start()
    try:
        futures = [await p.send(GROUP_TOPIC, key=f"k{n}".encode(), value=f"v{n}".encode())
                   for n in range(first, first + count)]
        metas = await asyncio.gather(*futures)
        check_idempotent(p)
        at = {(m.partition, m.offset) for m in metas}
        check(len(at) == count, f"{count} records acknowledged at {len(at)} distinct offsets")
    finally:
        await p.stop()


async def group():
    global step
    a, b = Member("a"), Member("b")
    await a.start()
    await b.start()
    step = "two members splitting four partitions"
    await poll_until([a, b], lambda: len(a.assigned) == 2 and len(b.assigned) == 2)
    check(a.assigned.isdisjoint(b.assigned), f"both were given a partition: {a.assigned} {b.assigned}")
    await produce_plain(0, 400)
    step = "the group reading 400 records"
    await poll_until([a, b], lambda: len(a.values) + len(b.values) >= 400)
    check(sorted(a.values + b.values) == sorted(f"v{n}" for n in range(400)), "records lost or read twice")
    check(len(a.values) > 0 and len(b.values) > 0, f"a read {len(a.values)}, b {len(b.values)}")
    await a.consumer.commit()
    await b.consumer.commit()

    step = "b stopping"
    await b.consumer.stop()
    step = "a given all four partitions"
    await poll_until([a], lambda: len(a.assigned) == 4)
    before = len(a.values)
    await produce_plain(400, 100)
    step = "a reading the 100 new records"
    await poll_until([a], lambda: len(a.values) >= before + 100)
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


class Abort(Exception):
    """Raised inside a transaction to abort it."""


async def read_topic(topic, partitions, isolation_level, seconds=15):
    """Every value of `topic` from the beginning, read by assignment up to the end offsets this
    isolation level sees (for read_committed, the last stable offset)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=BOOT, enable_auto_commit=False, isolation_level=isolation_level)
    await consumer.start()
    try:
        tps = [TopicPartition(topic, p) for p in range(partitions)]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        ends = await consumer.end_offsets(tps)
        values = []
        deadline = time.time() + seconds
        while time.time() < deadline:
            positions = {tp: await consumer.position(tp) for tp in tps}
            if positions == ends:
                return values
            for records in (await consumer.getmany(timeout_ms=300)).values():
                values.extend(r.value.decode() for r in records)
        check(False, f"{isolation_level} read {len(values)} values, reaching {positions}, not the end offsets {ends}")
    finally:
        await consumer.stop()


async def transactions():
    """The consume-transform-produce loop, then what read_committed and read_uncommitted
    consumers see of its output and the offsets it committed."""
    global step
    step = "producing the transactions' input"
    p = producer()
    await p.start()
    try:
        futures = [await p.send(TXN_IN, key=f"k{n}".encode(), value=f"v{n}".encode()) for n in range(INPUTS)]
        await asyncio.gather(*futures)
    finally:
        await p.stop()

    step = "the consume-transform-produce loop"
    consumer = AIOKafkaConsumer(
        TXN_IN,
        bootstrap_servers=BOOT,
        group_id=TXN_GROUP,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        isolation_level="read_committed",
    )
    app = AIOKafkaProducer(bootstrap_servers=BOOT, transactional_id=TXN_ID, enable_idempotence=True)
    await consumer.start()
    await app.start()
    done, aborted = 0, []
    try:
        deadline = time.time() + 25
        while done < INPUTS and time.time() < deadline:
            batches = await consumer.getmany(timeout_ms=500, max_records=20)
            records = [r for rs in batches.values() for r in rs]
            if not records:
                continue
            outputs = [(r.key, r.value.decode().upper()) for r in records]
            try:
                async with app.transaction():
                    for key, value in outputs:
                        await app.send(TXN_OUT, key=key, value=value.encode())
                    if not aborted and done >= 40:
                        # A failure after the batch was written: abort, then read the batch
                        # again from the committed offsets.
                        await app.flush()
                        aborted = [value for _, value in outputs]
                        raise Abort()
                    offsets = {tp: rs[-1].offset + 1 for tp, rs in batches.items()}
                    await app.send_offsets_to_transaction(offsets, TXN_GROUP)
            except Abort:
                for tp in consumer.assignment():
                    committed = await consumer.committed(tp)
                    if committed is None:
                        await consumer.seek_to_beginning(tp)
                    else:
                        consumer.seek(tp, committed)
                continue
            done += len(records)
        check(done == INPUTS, f"transformed {done} of {INPUTS} inputs in committed transactions")
        check(aborted, "no transaction was aborted")
    finally:
        await app.stop()
        await consumer.stop()

    step = "a read_committed consumer reading the output"
    committed = await read_topic(TXN_OUT, 2, "read_committed")
    check(
        sorted(committed) == sorted(f"V{n}" for n in range(INPUTS)),
        f"read {len(committed)} outputs, {len(set(committed))} distinct, not V0 to V{INPUTS - 1} once each",
    )
    step = "a read_uncommitted consumer reading the output"
    everything = await read_topic(TXN_OUT, 2, "read_uncommitted")
    check(
        len(everything) > INPUTS and sorted(everything) == sorted(committed + aborted),
        f"read {len(everything)} records, not the {INPUTS} committed and the {len(aborted)} aborted",
    )

    step = "the transactions' committed offsets"
    admin = AIOKafkaAdminClient(bootstrap_servers=BOOT)
    await admin.start()
    ends_reader = AIOKafkaConsumer(bootstrap_servers=BOOT)
    await ends_reader.start()
    try:
        offsets = await admin.list_consumer_group_offsets(TXN_GROUP)
        seen = {tp: meta.offset for tp, meta in offsets.items()}
        ends = await ends_reader.end_offsets([TopicPartition(TXN_IN, p) for p in range(2)])
        check(seen == ends, f"{TXN_GROUP} committed {seen}, the input's end offsets are {ends}")
        check(sum(ends.values()) == INPUTS, f"the input's end offsets {ends} do not add up to {INPUTS}")
    finally:
        await ends_reader.stop()
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
    await transactions()


try:
    asyncio.run(asyncio.wait_for(main(), 60))
except asyncio.TimeoutError:
    check(False, "timed out after 60 s")
except Exception as e:  # noqa: BLE001 - any client error fails the step it happened in
    check(False, f"{type(e).__name__}: {e}")
print("ok")
