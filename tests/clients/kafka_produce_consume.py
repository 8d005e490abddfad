"""Kafka clients against Brook's Kafka listener (tests/it/kafka_clients.rs runs this).

confluent-kafka (librdkafka) creates, describes and deletes topics, describes the cluster, produces keyed records with headers in
every compression codec with idempotence on, and reads them back by partition; a persistent query and a push query
of Brook's see the produced records, and kafka-python reads the query's output topic as a
ksqlDB user's consumer would. ListOffsets by timestamp must be exact. Any failure exits non-zero.
"""

import json
import os
import sys
import time

import httpx
import kafka
from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, ConfigResource, NewTopic, ResourceType

BOOT = os.environ["KAFKA_BOOTSTRAP"]
KSQL = os.environ["KSQL_URL"]
CODECS = ["none", "gzip", "snappy", "lz4", "zstd"]
PER_CODEC = 40


def check(condition, message):
    if not condition:
        print("FAILED: " + message, file=sys.stderr)
        sys.exit(1)


def ksql(statement):
    body = {"ksql": statement, "streamsProperties": {"auto.offset.reset": "earliest"}}
    response = httpx.post(KSQL + "/ksql", json=body, timeout=30)
    check(response.status_code == 200, f"{statement}: {response.status_code} {response.text}")
    return response.json()


def create_topics(admin, *topics):
    futures = admin.create_topics(list(topics))
    for name, future in futures.items():
        future.result(30)


def produce_every_codec():
    delivered = []

    def on_delivery(error, message):
        check(error is None, f"delivery failed: {error}")
        delivered.append((message.partition(), message.offset()))

    n = 0
    for codec in CODECS:
        producer = Producer(
            {
                "bootstrap.servers": BOOT,
                "compression.type": codec,
                "linger.ms": 20,
                "enable.idempotence": True,
            }
        )
        for _ in range(PER_CODEC):
            producer.produce(
                "ck_orders",
                key=f"o{n}",
                value=json.dumps({"AMOUNT": float(n)}),
                headers=[("codec", codec.encode())],
                on_delivery=on_delivery,
            )
            n += 1
        check(producer.flush(30) == 0, f"{codec}: records left unflushed")
    check(len(delivered) == n, f"{len(delivered)} of {n} delivery reports")
    check(len(set(delivered)) == n, "two records got the same partition and offset")
    return n


def read_all(consumer, expected, what):
    records = []
    deadline = time.time() + 60
    while len(records) < expected and time.time() < deadline:
        message = consumer.poll(1.0)
        if message is None:
            continue
        check(message.error() is None, f"{what}: {message.error()}")
        records.append(message)
    check(len(records) == expected, f"{what}: read {len(records)} of {expected}")
    return records


def consume_with_confluent_kafka(count):
    consumer = Consumer(
        {
            "bootstrap.servers": BOOT,
            "group.id": "ck-reader",
            "enable.auto.commit": False,
            "auto.offset.reset": "earliest",
        }
    )
    consumer.assign([TopicPartition("ck_orders", p, 0) for p in range(3)])
    records = read_all(consumer, count, "confluent-kafka")
    by_key = {m.key().decode(): m for m in records}
    check(len(by_key) == count, "keys lost or duplicated")
    for n in range(count):
        message = by_key[f"o{n}"]
        check(json.loads(message.value()) == {"AMOUNT": float(n)}, f"value of o{n}")
        codec = CODECS[n // PER_CODEC]
        check(message.headers() == [("codec", codec.encode())], f"headers of o{n}")
    low, high = consumer.get_watermark_offsets(TopicPartition("ck_orders", 0), timeout=10)
    check(low == 0 and high > 0, f"watermarks of partition 0: {low} {high}")
    consumer.close()


def consume_query_output_with_kafka_python(count):
    expected = sum(1 for n in range(count) if n > 50)
    consumer = kafka.KafkaConsumer(
        bootstrap_servers=BOOT, group_id=None, enable_auto_commit=False,
        auto_offset_reset="earliest", consumer_timeout_ms=60000,
    )
    partitions = consumer.partitions_for_topic("BIG_ORDERS")
    check(partitions, f"the query's output topic BIG_ORDERS is not listed: {partitions}")
    consumer.assign([kafka.TopicPartition("BIG_ORDERS", p) for p in partitions])
    seen = {}
    deadline = time.time() + 60
    while len(seen) < expected and time.time() < deadline:
        for records in consumer.poll(timeout_ms=1000).values():
            for record in records:
                seen[record.key.decode()] = json.loads(record.value)
    check(len(seen) == expected, f"kafka-python read {len(seen)} of {expected} query outputs")
    check(seen["o60"] == {"AMOUNT": 60.0}, f"o60 is {seen.get('o60')}")
    consumer.close()


def produce_with_kafka_python_and_long_poll():
    """A consumer waiting in a long poll gets a record produced while it waits."""
    consumer = kafka.KafkaConsumer(
        bootstrap_servers=BOOT, group_id=None, enable_auto_commit=False, fetch_max_wait_ms=5000
    )
    tp = kafka.TopicPartition("ck_late", 0)
    consumer.assign([tp])
    consumer.seek_to_end(tp)
    check(consumer.position(tp) == 0, "ck_late is empty")
    # kafka-python's producers are idempotent by default (InitProducerId, sequences).
    producer = kafka.KafkaProducer(bootstrap_servers=BOOT, compression_type="gzip")
    producer.send("ck_late", key=b"k", value=b"late").get(timeout=30)
    producer.close()
    got = []
    deadline = time.time() + 30
    while not got and time.time() < deadline:
        for records in consumer.poll(timeout_ms=1000).values():
            got.extend(records)
    check([(r.key, r.value) for r in got] == [(b"k", b"late")], f"long poll got {got}")
    consumer.close()


def offsets_by_time():
    producer = Producer({"bootstrap.servers": BOOT})
    for ts in [1000, 2000, 2000, 3000]:
        producer.produce("ck_times", value=b"x", partition=0, timestamp=ts)
    check(producer.flush(30) == 0, "timestamped records unflushed")
    consumer = Consumer({"bootstrap.servers": BOOT, "group.id": "ck-times"})
    # One timestamp per call: librdkafka keeps one request entry per partition.
    offsets = []
    for ts in [500, 2000, 2500, 4000]:
        found = consumer.offsets_for_times([TopicPartition("ck_times", 0, ts)], timeout=10)
        check(found[0].error is None, f"offsets for {ts}: {found[0].error}")
        offsets.append(found[0].offset)
    check(offsets == [0, 1, 3, -1], f"offsets for times: {offsets}")
    consumer.close()


def push_query_sees_produced_records():
    body = {
        "sql": "SELECT ID, AMOUNT FROM CK_ORDERS WHERE AMOUNT < 3 EMIT CHANGES LIMIT 3;",
        "properties": {"auto.offset.reset": "earliest"},
    }
    response = httpx.post(KSQL + "/query-stream", json=body, timeout=60)
    check(response.status_code == 200, f"push query: {response.status_code} {response.text}")
    rows = [json.loads(line) for line in response.text.splitlines() if line.strip()]
    check(len(rows) == 4, f"push query rows: {rows}")


def main():
    admin = AdminClient({"bootstrap.servers": BOOT})
    create_topics(
        admin,
        NewTopic("ck_orders", num_partitions=3, replication_factor=1),
        NewTopic("ck_late", num_partitions=1, replication_factor=1),
        NewTopic("ck_times", num_partitions=1, replication_factor=1),
        NewTopic("ck_temp", num_partitions=2, replication_factor=1),
    )
    try:
        create_topics(admin, NewTopic("ck_orders", num_partitions=3, replication_factor=1))
        check(False, "creating ck_orders twice succeeded")
    except KafkaException as e:
        check("TOPIC_ALREADY_EXISTS" in str(e), f"second create: {e}")
    topics = admin.list_topics(timeout=10).topics
    check(len(topics["ck_orders"].partitions) == 3, f"ck_orders: {topics['ck_orders']}")
    resource = ConfigResource(ResourceType.TOPIC, "ck_orders")
    configs = admin.describe_configs([resource])[resource].result(30)
    check(configs["cleanup.policy"].value == "delete", f"ck_orders' configs: {configs}")
    check(configs["retention.ms"].value == "604800000", f"retention.ms: {configs['retention.ms']}")
    cluster = admin.describe_cluster().result(30)
    check(len(cluster.nodes) == 1 and cluster.cluster_id, f"the cluster: {cluster}")
    admin.delete_topics(["ck_temp"])["ck_temp"].result(30)
    check("ck_temp" not in admin.list_topics(timeout=10).topics, "ck_temp still listed")

    ksql("CREATE STREAM ck_orders (id VARCHAR KEY, amount DOUBLE) "
         "WITH (kafka_topic='ck_orders', value_format='JSON');")
    ksql("CREATE STREAM big_orders AS SELECT id, amount FROM ck_orders WHERE amount > 50;")
    count = produce_every_codec()
    consume_with_confluent_kafka(count)
    consume_query_output_with_kafka_python(count)
    push_query_sees_produced_records()
    produce_with_kafka_python_and_long_poll()
    offsets_by_time()
    print("ok")


main()
