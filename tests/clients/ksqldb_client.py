"""Drives Brook's HTTP API with the `ksqldb` client (KSQLdbClient): statements over /ksql,
rows over /inserts-stream (h2c), a push query over /query-stream (h2c) that receives rows
while they are produced, and a pull query. Exits non-zero on a mismatch. URL from KSQL_URL."""

import asyncio
import os
import sys
import time

from ksqldb import KSQLdbClient

client = KSQLdbClient(os.environ["KSQL_URL"])


def check(cond, what):
    if not cond:
        print(f"FAILED: {what}", file=sys.stderr)
        sys.exit(1)


out = client.ksql(
    "CREATE STREAM clicks (user_id VARCHAR KEY, page VARCHAR) "
    "WITH (kafka_topic='clicks', value_format='JSON', partitions=1);"
)
check(out[0]["commandStatus"]["status"] == "SUCCESS", f"create: {out}")
client.ksql(
    "CREATE TABLE clicks_per_user AS SELECT user_id, COUNT(*) AS n FROM clicks GROUP BY user_id;"
)


async def push_while_producing():
    items = []

    async def read():
        async for item in client.query_async(
            "SELECT user_id, page FROM clicks EMIT CHANGES LIMIT 2;", timeout=60
        ):
            items.append(item)

    task = asyncio.create_task(read())
    await asyncio.sleep(2)
    acks = client.inserts_stream("CLICKS", [{"USER_ID": "u1", "PAGE": "home"}, {"USER_ID": "u1", "PAGE": "cart"}])
    check([a["status"] for a in acks] == ["ok", "ok"], f"acks: {acks}")
    await asyncio.wait_for(task, 60)
    return items


items = asyncio.run(push_while_producing())
check(items[0]["columnNames"] == ["USER_ID", "PAGE"], f"header: {items}")
check(items[1:] == [["u1", "home"], ["u1", "cart"]], f"rows: {items}")

rows = []
for _ in range(50):
    rows = client.query_sync("SELECT * FROM clicks_per_user WHERE user_id = 'u1';")
    if len(rows) > 1 and rows[1] == ["u1", 2]:
        break
    time.sleep(0.2)
check(rows[1:] == [["u1", 2]], f"pull: {rows}")
print("ok")
