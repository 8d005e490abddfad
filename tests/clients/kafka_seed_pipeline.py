"""The seeds' pattern end to end over Brook's Kafka listener (tests/it/kafka_clients.rs):
the demo's queries (queries/01-orders.sql) created over /ksql, customers and orders produced
by confluent-kafka keyed by their ids, and a consumer group reading `enriched_orders` as a
ksqlDB user's consumer would (JSON values with ksqlDB's upper-case column names, the record
key the join key)."""

import json
import os
import pathlib
import sys
import time

import httpx
from confluent_kafka import Consumer, Producer

BOOT = os.environ["KAFKA_BOOTSTRAP"]
KSQL = os.environ["KSQL_URL"]
QUERIES = pathlib.Path(__file__).resolve().parents[2] / "queries" / "01-orders.sql"


def check(condition, message):
    if not condition:
        print("FAILED: " + message, file=sys.stderr)
        sys.exit(1)


response = httpx.post(KSQL + "/ksql", json={"ksql": QUERIES.read_text()}, timeout=60)
check(response.status_code == 200, f"{QUERIES.name}: {response.status_code} {response.text}")

producer = Producer({"bootstrap.servers": BOOT})
customers = {"c1": ("Alice", "PREMIUM"), "c2": ("Bob", "STANDARD")}
for cid, (name, tier) in customers.items():
    producer.produce("customers", key=cid, value=json.dumps({"NAME": name, "TIER": tier}))
check(producer.flush(30) == 0, "customers unflushed")
time.sleep(0.05)
orders = [("o1", "c1", 2, 600.0), ("o2", "c2", 3, 500.0), ("o3", "c2", 1, 20.0)]
for oid, cid, quantity, price in orders:
    value = {"CUSTOMER_ID": cid, "PRODUCT_ID": "p", "QUANTITY": quantity, "PRICE": price}
    producer.produce("orders", key=oid, value=json.dumps(value))
check(producer.flush(30) == 0, "orders unflushed")

consumer = Consumer(
    {"bootstrap.servers": BOOT, "group.id": "enriched-readers", "auto.offset.reset": "earliest"}
)
consumer.subscribe(["ENRICHED_ORDERS"])
seen = {}
deadline = time.time() + 60
while len(seen) < len(orders) and time.time() < deadline:
    message = consumer.poll(0.5)
    if message is None or message.error() is not None:
        continue
    value = json.loads(message.value())
    seen[value["ORDER_ID"]] = (message.key().decode(), value)
check(len(seen) == len(orders), f"enriched_orders read by the group: {seen}")
for oid, cid, quantity, price in orders:
    key, value = seen[oid]
    name, tier = customers[cid]
    check(key == cid, f"{oid}'s key {key}")
    check(value["CUSTOMER_NAME"] == name and value["CUSTOMER_TIER"] == tier, f"{oid}: {value}")
    check(value["TOTAL_AMOUNT"] == quantity * price, f"{oid}'s total: {value}")
consumer.commit(asynchronous=False)
consumer.close()
print("ok")
