"""Drives Brook's HTTP API with the ksql-python-ng client (imports as `ksql`), as a user would:
create a stream, insert rows (INSERT VALUES over /ksql and /inserts-stream over h2c), receive
rows through push queries (h2c /query-stream and the older /query) while they are produced,
run a pull query on an aggregated table, and close a push query. Exits non-zero on a mismatch.
The server's URL comes from KSQL_URL."""

import os
import sys
import threading
import time
import warnings

warnings.filterwarnings("ignore", category=DeprecationWarning)
from ksql import KSQLAPI  # noqa: E402

URL = os.environ["KSQL_URL"]
client = KSQLAPI(URL, timeout=60)


def check(cond, what):
    if not cond:
        print(f"FAILED: {what}", file=sys.stderr)
        sys.exit(1)


created = client.ksql(
    "CREATE STREAM orders (id INT KEY, item VARCHAR, qty INT) "
    "WITH (kafka_topic='orders', value_format='JSON', partitions=1);"
)
check(created[0]["@type"] == "currentStatus", f"create: {created}")
check(created[0]["commandStatus"]["status"] == "SUCCESS", f"create status: {created}")
streams = client.ksql("SHOW STREAMS;")[0]["streams"]
check(any(s["name"] == "ORDERS" for s in streams), f"SHOW STREAMS: {streams}")

# A push query started before the rows exist receives them as they are produced.
received = []


def push():
    for row in client.query(
        "SELECT id, item, qty FROM orders EMIT CHANGES LIMIT 3;",
        use_http2=True,
        parse=True,
    ):
        received.append(row)


reader = threading.Thread(target=push)
reader.start()
time.sleep(2)
check(client.ksql("INSERT INTO orders (id, item, qty) VALUES (1, 'apple', 2);") == [], "insert")
acks = client.inserts_stream("ORDERS", [{"ID": 2, "ITEM": "pear", "QTY": 5}, {"ID": 3, "ITEM": "fig", "QTY": 1}])
check([a["status"] for a in acks] == ["ok", "ok"], f"inserts-stream acks: {acks}")
reader.join(60)
check(not reader.is_alive(), "the push query did not end at its LIMIT")
check(
    [(r["ID"], r["ITEM"], r["QTY"]) for r in received] == [(1, "apple", 2), (2, "pear", 5), (3, "fig", 1)],
    f"push rows: {received}",
)

# The older /query endpoint over HTTP/1.1.
chunks = [c.strip() for c in client.query(
    "SELECT * FROM orders EMIT CHANGES LIMIT 2;",
    stream_properties={"ksql.streams.auto.offset.reset": "earliest"},
)]
text = "".join(chunks)
check('"finalMessage":"Limit Reached"' in text, f"/query: {text}")
check('"columns":[1,"apple",2]' in text, f"/query rows: {text}")

# A pull query on an aggregated table.
client.ksql(
    "CREATE TABLE qty_per_item AS SELECT item, SUM(qty) AS total FROM orders GROUP BY item;",
    stream_properties={"ksql.streams.auto.offset.reset": "earliest"},
)
rows = []
for _ in range(50):
    rows = list(client.query("SELECT * FROM qty_per_item WHERE item = 'pear';", use_http2=True, parse=True))
    if rows:
        break
    time.sleep(0.2)
check(rows == [{"ITEM": "pear", "TOTAL": 5}], f"pull: {rows}")

# Closing a push query ends its stream.
header = {}


def endless():
    gen = client.query("SELECT * FROM orders EMIT CHANGES;", use_http2=True)
    for chunk in gen:
        if not header:
            import json
            header.update(json.loads(chunk))


closer = threading.Thread(target=endless)
closer.start()
for _ in range(100):
    if header:
        break
    time.sleep(0.1)
check("queryId" in header, f"push header: {header}")
check(client.close_query(header["queryId"]) is True, "close_query")
closer.join(30)
check(not closer.is_alive(), "the closed query's stream did not end")
check(client.close_query("no_such_query") is False, "closing an unknown query")
print("ok")
