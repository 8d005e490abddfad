"""The seed pipeline of the classic Kafka guides (queries/01-orders.sql) over Brook's HTTP API
with ksqlDB's `ksqldb` client (KSQLdbClient): the sources and the three queries created over
/ksql, customers and orders inserted over /inserts-stream (h2c), enriched_orders and
high_value_orders read by push queries over /query-stream, orders_per_hour by pull queries.
Checks the joined names and tiers, the totals, the filter, and each hour's count and revenue.
Exits non-zero on a mismatch. URL from KSQL_URL."""

import asyncio
import os
import sys
import time

from ksqldb import KSQLdbClient

client = KSQLdbClient(os.environ["KSQL_URL"])
EARLIEST = {"auto.offset.reset": "earliest"}
HOUR = 3_600_000
T0 = 1_699_999_200_000  # the start of an hour


def check(cond, what):
    if not cond:
        print(f"FAILED: {what}", file=sys.stderr)
        sys.exit(1)


STATEMENTS = [
    "CREATE STREAM orders_stream (order_id VARCHAR KEY, customer_id VARCHAR, product_id VARCHAR, "
    "quantity INT, price DOUBLE) WITH (KAFKA_TOPIC='orders', VALUE_FORMAT='JSON', PARTITIONS=1);",
    "CREATE TABLE customers_table (customer_id VARCHAR PRIMARY KEY, name VARCHAR, tier VARCHAR) "
    "WITH (KAFKA_TOPIC='customers', VALUE_FORMAT='JSON', PARTITIONS=1);",
    "CREATE STREAM enriched_orders AS SELECT o.order_id, o.customer_id, c.name AS customer_name, "
    "c.tier AS customer_tier, o.product_id, o.quantity, o.price, o.quantity * o.price AS total_amount "
    "FROM orders_stream o INNER JOIN customers_table c ON o.customer_id = c.customer_id EMIT CHANGES;",
    "CREATE STREAM high_value_orders AS SELECT * FROM enriched_orders "
    "WHERE total_amount > 1000 AND customer_tier != 'PREMIUM' EMIT CHANGES;",
    "CREATE TABLE orders_per_hour AS SELECT WINDOWSTART AS window_start, WINDOWEND AS window_end, "
    "COUNT(*) AS order_count, SUM(quantity * price) AS total_revenue FROM orders_stream "
    "WINDOW TUMBLING (SIZE 1 HOUR) GROUP BY WINDOWSTART, WINDOWEND EMIT CHANGES;",
]
for statement in STATEMENTS:
    out = client.ksql(statement, stream_properties=EARLIEST)
    check(out[0]["commandStatus"]["status"] == "SUCCESS", f"{statement}: {out}")
queries = client.ksql("SHOW QUERIES;")[0]["queries"]
check(
    sorted(q["id"] for q in queries)
    == ["CSAS_ENRICHED_ORDERS_0", "CSAS_HIGH_VALUE_ORDERS_1", "CTAS_ORDERS_PER_HOUR_2"],
    f"SHOW QUERIES: {queries}",
)

CUSTOMERS = {
    "c1": ("Alice", "PREMIUM"),
    "c2": ("Bob", "STANDARD"),
    "c3": ("Carol", "BASIC"),
}
# (order, customer, quantity, price, ROWTIME): c9 is no customer, so the INNER JOIN drops o4,
# which orders_per_hour still counts.
ORDERS = [
    ("o1", "c1", 2, 600.0, T0 + 1_000),
    ("o2", "c2", 3, 500.0, T0 + 2_000),
    ("o3", "c3", 1, 20.0, T0 + 3_000),
    ("o4", "c9", 5, 300.0, T0 + 4_000),
    ("o5", "c2", 10, 150.0, T0 + HOUR + 1_000),
    ("o6", "c3", 4, 250.5, T0 + HOUR + 2_000),
]
JOINED = [o for o in ORDERS if o[1] in CUSTOMERS]
HIGH = [o for o in JOINED if o[2] * o[3] > 1000 and CUSTOMERS[o[1]][1] != "PREMIUM"]
check([o[0] for o in HIGH] == ["o2", "o5", "o6"], f"the test's own data: {HIGH}")


async def push(sql):
    """The header and `n` rows of a push query, as dicts by column name."""
    items = []
    async for item in client.query_async(sql, stream_properties=EARLIEST, timeout=60):
        items.append(item)
    names = items[0]["columnNames"]
    return [dict(zip(names, row)) for row in items[1:]]


async def produce_and_read():
    enriched = asyncio.create_task(push("SELECT * FROM enriched_orders EMIT CHANGES LIMIT 5;"))
    high = asyncio.create_task(push("SELECT * FROM high_value_orders EMIT CHANGES LIMIT 3;"))
    await asyncio.sleep(1)
    acks = client.inserts_stream(
        "CUSTOMERS_TABLE",
        [{"CUSTOMER_ID": c, "NAME": n, "TIER": t, "ROWTIME": T0} for c, (n, t) in CUSTOMERS.items()],
    )
    check([a["status"] for a in acks] == ["ok"] * 3, f"customers acks: {acks}")
    rows = [
        {"ORDER_ID": o, "CUSTOMER_ID": c, "PRODUCT_ID": "p1", "QUANTITY": q, "PRICE": p, "ROWTIME": t}
        for o, c, q, p, t in ORDERS
    ]
    acks = client.inserts_stream("ORDERS_STREAM", rows)
    check([a["status"] for a in acks] == ["ok"] * len(ORDERS), f"orders acks: {acks}")
    return await asyncio.wait_for(enriched, 60), await asyncio.wait_for(high, 60)


enriched, high = asyncio.run(produce_and_read())


def expected_row(order):
    o, c, q, p, _ = order
    name, tier = CUSTOMERS[c]
    return {
        "O_CUSTOMER_ID": c,
        "ORDER_ID": o,
        "CUSTOMER_NAME": name,
        "CUSTOMER_TIER": tier,
        "PRODUCT_ID": "p1",
        "QUANTITY": q,
        "PRICE": p,
        "TOTAL_AMOUNT": q * p,
    }


check(enriched == [expected_row(o) for o in JOINED], f"enriched_orders: {enriched}")
check(high == [expected_row(o) for o in HIGH], f"high_value_orders: {high}")

# orders_per_hour: one row per hour, keyed by the window alone.
EXPECTED_HOURS = [
    [T0, T0 + HOUR, T0, T0 + HOUR, 4, 2 * 600.0 + 3 * 500.0 + 20.0 + 5 * 300.0],
    [T0 + HOUR, T0 + 2 * HOUR, T0 + HOUR, T0 + 2 * HOUR, 2, 10 * 150.0 + 4 * 250.5],
]
rows = []
for _ in range(100):
    rows = client.query_sync("SELECT * FROM orders_per_hour;")
    if rows[1:] == EXPECTED_HOURS:
        break
    time.sleep(0.2)
check(
    rows[0]["columnNames"]
    == ["WINDOWSTART", "WINDOWEND", "WINDOW_START", "WINDOW_END", "ORDER_COUNT", "TOTAL_REVENUE"],
    f"pull header: {rows[0]}",
)
check(rows[1:] == EXPECTED_HOURS, f"pull: {rows}")
one = client.query_sync(f"SELECT order_count, total_revenue FROM orders_per_hour WHERE WINDOWSTART = {T0 + HOUR};")
check(one[1:] == [[2, 2502.0]], f"pull of one window: {one}")
print("ok")
