"""Kafka transactions on Brook's Kafka listener (tests/it/kafka_clients.rs runs this).

A consume-transform-produce loop with confluent-kafka (librdkafka): each batch is produced and
its input offsets committed in one transaction (send_offsets_to_transaction); one transaction
is aborted and its batch redone. A read_committed consumer sees every output exactly once and
nothing aborted; a read_uncommitted one sees the aborted records too. A second producer with
the same transactional.id fences the first, whose open transaction is aborted; a transaction
left open past transaction.timeout.ms is aborted by Brook. kafka-python commits and aborts
transactions too, read by its read_committed consumer.
"""

import os
import sys
import time

import kafka
from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

BOOT = os.environ["KAFKA_BOOTSTRAP"]
INPUTS = 100


def check(condition, message):
    if not condition:
        print("FAILED: " + message, file=sys.stderr)
        sys.exit(1)


def read_all(topic, isolation, expected_at_least, seconds=20):
    consumer = Consumer(
        {
            "bootstrap.servers": BOOT,
            "group.id": f"reader-{topic}-{isolation}-{time.time()}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
            "isolation.level": isolation,
        }
    )
    partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
    consumer.assign([TopicPartition(topic, p, 0) for p in partitions])
    values = []
    deadline = time.time() + seconds
    while time.time() < deadline:
        message = consumer.poll(0.3)
        if message is not None and message.error() is None:
            values.append(message.value().decode())
        elif message is None and len(values) >= expected_at_least:
            break
    consumer.close()
    return values


def transactional_producer(tid, **extra):
    config = {"bootstrap.servers": BOOT, "transactional.id": tid}
    config.update(extra)
    producer = Producer(config)
    producer.init_transactions(30)
    return producer


def consume_transform_produce():
    producer = Producer({"bootstrap.servers": BOOT})
    for n in range(INPUTS):
        producer.produce("txn_in", key=f"k{n}", value=f"v{n}")
    check(producer.flush(30) == 0, "inputs unflushed")

    consumer = Consumer(
        {
            "bootstrap.servers": BOOT,
            "group.id": "txn-app",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
            "isolation.level": "read_committed",
        }
    )
    consumer.subscribe(["txn_in"])
    app = transactional_producer("app-1")
    done, aborted_once = 0, False
    deadline = time.time() + 60
    while done < INPUTS and time.time() < deadline:
        messages = consumer.consume(num_messages=20, timeout=1.0)
        messages = [m for m in messages if m.error() is None]
        if not messages:
            continue
        app.begin_transaction()
        for m in messages:
            app.produce("txn_out", key=m.key(), value=m.value().decode().upper())
        if not aborted_once and done >= 40:
            # A failure after the batch was written: abort, and read the batch again from the
            # committed offsets.
            check(app.flush(30) == 0, "the batch to abort unflushed")
            app.abort_transaction(30)
            aborted_once = True
            committed = consumer.committed(consumer.assignment(), timeout=10)
            for tp in committed:
                consumer.seek(TopicPartition(tp.topic, tp.partition, tp.offset if tp.offset >= 0 else 0))
            continue
        positions = consumer.position(consumer.assignment())
        app.send_offsets_to_transaction(positions, consumer.consumer_group_metadata(), 30)
        app.commit_transaction(30)
        done += len(messages)
    check(done == INPUTS, f"transformed {done} of {INPUTS}")
    check(aborted_once, "no transaction was aborted")
    consumer.close()

    committed = read_all("txn_out", "read_committed", INPUTS)
    check(
        sorted(committed) == sorted(f"V{n}" for n in range(INPUTS)),
        f"read_committed saw {len(committed)} outputs, {len(set(committed))} distinct",
    )
    everything = read_all("txn_out", "read_uncommitted", INPUTS + 1)
    check(len(everything) > INPUTS, f"read_uncommitted saw {len(everything)}: the aborted batch is missing")

    probe = Consumer({"bootstrap.servers": BOOT, "group.id": "txn-app"})
    offsets = probe.committed([TopicPartition("txn_in", p) for p in range(2)], timeout=10)
    ends = [probe.get_watermark_offsets(TopicPartition("txn_in", p), timeout=10)[1] for p in range(2)]
    check([tp.offset for tp in offsets] == ends, f"txn-app committed {offsets}, ends {ends}")
    probe.close()


def zombie_is_fenced():
    zombie = transactional_producer("fenced-app")
    zombie.begin_transaction()
    zombie.produce("txn_fence", value="zombie")
    check(zombie.flush(30) == 0, "zombie unflushed")
    successor = transactional_producer("fenced-app")
    try:
        zombie.commit_transaction(10)
        check(False, "the fenced producer committed")
    except KafkaException as e:
        check(e.args[0].fatal() or e.args[0].txn_requires_abort(), f"zombie's commit: {e}")
    successor.begin_transaction()
    successor.produce("txn_fence", value="successor")
    successor.commit_transaction(30)
    values = read_all("txn_fence", "read_committed", 1)
    check(values == ["successor"], f"after fencing, read_committed saw {values}")


def timed_out_transaction_is_aborted():
    slow = transactional_producer("slow-app", **{"transaction.timeout.ms": 2000})
    slow.begin_transaction()
    slow.produce("txn_slow", value="never")
    check(slow.flush(30) == 0, "slow unflushed")
    time.sleep(3.5)
    plain = Producer({"bootstrap.servers": BOOT})
    plain.produce("txn_slow", value="after")
    check(plain.flush(30) == 0, "plain unflushed")
    # Blocked until the open transaction ends: only Brook's timeout ends it.
    values = read_all("txn_slow", "read_committed", 1)
    check(values == ["after"], f"after the timeout, read_committed saw {values}")
    try:
        slow.commit_transaction(10)
        check(False, "a transaction aborted by its timeout committed")
    except KafkaException:
        pass


def kafka_python_transactions():
    producer = kafka.KafkaProducer(bootstrap_servers=BOOT, transactional_id="kp-app")
    producer.init_transactions()
    producer.begin_transaction()
    producer.send("txn_kp", value=b"kept")
    producer.commit_transaction()
    producer.begin_transaction()
    producer.send("txn_kp", value=b"dropped")
    producer.flush()
    producer.abort_transaction()
    producer.close()
    consumer = kafka.KafkaConsumer(
        "txn_kp", bootstrap_servers=BOOT, group_id=None, auto_offset_reset="earliest",
        isolation_level="read_committed", consumer_timeout_ms=5000,
    )
    values = [r.value for r in consumer]
    consumer.close()
    check(values == [b"kept"], f"kafka-python read_committed saw {values}")


def main():
    admin = AdminClient({"bootstrap.servers": BOOT})
    topics = [NewTopic("txn_in", 2, 1), NewTopic("txn_out", 2, 1)]
    topics += [NewTopic(name, 1, 1) for name in ["txn_fence", "txn_slow", "txn_kp"]]
    for future in admin.create_topics(topics).values():
        future.result(30)
    consume_transform_produce()
    zombie_is_fenced()
    timed_out_transaction_is_aborted()
    kafka_python_transactions()
    print("ok")


main()
