-- SELECT: push queries (EMIT CHANGES), pull queries (no EMIT), and every clause.

-- Push queries.
SELECT * FROM pageviews EMIT CHANGES;
SELECT * FROM pageviews EMIT CHANGES LIMIT 5;
SELECT pageid, userid AS who, viewtime time_of_view FROM pageviews WHERE userid = 'User_1' EMIT CHANGES;
SELECT p.*, p.pageid FROM pageviews AS p EMIT CHANGES;
SELECT pv.userid FROM pageviews pv WHERE pv.viewtime > 100 EMIT CHANGES;
SELECT ROWTIME, ROWPARTITION, ROWOFFSET, userid FROM pageviews EMIT CHANGES;

-- Pull queries.
SELECT * FROM users WHERE id = 'User_1';
SELECT name FROM regions WHERE region_id IN (1, 2, 3) LIMIT 10;

-- PARTITION BY one or more expressions.
SELECT * FROM orders PARTITION BY item EMIT CHANGES;
SELECT order_id, item FROM orders PARTITION BY item, order_id EMIT CHANGES;
SELECT UCASE(item) AS item_upper, quantity FROM orders PARTITION BY UCASE(item) EMIT CHANGES;

-- Windowed aggregations (EMIT CHANGES: every update; EMIT FINAL: each window once, when it closes).
SELECT regionid, COUNT(*) FROM pageviews
  WINDOW TUMBLING (SIZE 1 HOUR, RETENTION 7 DAYS, GRACE PERIOD 10 MINUTES)
  GROUP BY regionid EMIT CHANGES;
SELECT regionid, COUNT(*), WINDOWSTART, WINDOWEND FROM pageviews
  WINDOW HOPPING (SIZE 30 SECONDS, ADVANCE BY 10 SECONDS)
  GROUP BY regionid EMIT FINAL;
SELECT regionid, COUNT(*) FROM pageviews
  WINDOW HOPPING (SIZE 1 MINUTE, ADVANCE BY 500 MILLISECONDS, RETENTION 2 HOURS, GRACE PERIOD 1 SECOND)
  GROUP BY regionid EMIT CHANGES;
SELECT userid, COUNT(*) FROM pageviews WINDOW SESSION (60 SECONDS) GROUP BY userid EMIT CHANGES;
SELECT userid, COUNT(*) FROM pageviews WINDOW SESSION (5 MINUTES, RETENTION 1 DAY, GRACE PERIOD 30 SECONDS) GROUP BY userid EMIT CHANGES;
SELECT userid, COUNT(*) FROM pageviews WINDOW TUMBLING (SIZE 1 MILLISECOND) GROUP BY userid EMIT CHANGES;
SELECT userid, COUNT(*) FROM pageviews WINDOW per_minute TUMBLING (SIZE 1 MINUTE) GROUP BY userid EMIT CHANGES;
SELECT WINDOWSTART AS window_start, COUNT(*) AS views FROM pageviews
  WINDOW TUMBLING (SIZE 1 HOUR) GROUP BY WINDOWSTART, WINDOWEND EMIT CHANGES;

-- GROUP BY several expressions, HAVING.
SELECT item, quantity / 10 AS size_band, SUM(price) AS revenue, COLLECT_LIST(order_id) AS ids
  FROM orders
  GROUP BY item, quantity / 10
  HAVING SUM(price) > 100.0 AND COUNT(*) >= 2
  EMIT CHANGES;

-- Joins.
SELECT pv.pageid, u.gender FROM pageviews pv JOIN users u ON pv.userid = u.id EMIT CHANGES;
SELECT pv.pageid, u.gender FROM pageviews pv INNER JOIN users u ON pv.userid = u.id EMIT CHANGES;
SELECT * FROM pageviews pv LEFT JOIN users u ON pv.userid = u.id EMIT CHANGES;
SELECT * FROM pageviews pv LEFT OUTER JOIN users AS u ON pv.userid = u.id EMIT CHANGES;
SELECT * FROM users u RIGHT JOIN regions r ON u.regionid = r.name EMIT CHANGES;
SELECT * FROM users u FULL OUTER JOIN regions r ON u.regionid = r.name EMIT CHANGES;
SELECT o.order_id, a.entry
  FROM orders o
  JOIN audit_log a WITHIN 1 HOUR ON CAST(o.order_id AS STRING) = a.entry
  EMIT CHANGES;
SELECT o.order_id, a.entry
  FROM orders o
  LEFT JOIN audit_log a WITHIN (10 SECONDS, 2 MINUTES) GRACE PERIOD 5 SECONDS ON CAST(o.order_id AS STRING) = a.entry
  EMIT CHANGES;
-- Temporal stream-table join (Brook's): the table row valid at each order's ROWTIME.
SELECT o.id, c.tier FROM orders o JOIN customers FOR SYSTEM_TIME AS OF o.ROWTIME AS c ON o.customer_id = c.id EMIT CHANGES;
SELECT o.id, c.tier FROM orders o LEFT JOIN customers c FOR SYSTEM_TIME AS OF o.ROWTIME WITHIN 7 DAYS ON o.customer_id = c.id EMIT CHANGES;
-- Multi-way join.
SELECT o.order_id, a.entry, u.gender
  FROM orders o
  JOIN audit_log a WITHIN 1 DAY ON CAST(o.order_id AS STRING) = a.entry
  LEFT JOIN users u ON a.entry = u.id
  WHERE u.gender IS NOT NULL
  EMIT CHANGES;

-- Every clause, in order.
SELECT o.item, COUNT(*) AS n
  FROM orders o
  JOIN audit_log a WITHIN 30 MINUTES ON o.item = a.entry
  WINDOW TUMBLING (SIZE 1 DAY)
  WHERE o.quantity > 0
  GROUP BY o.item
  HAVING COUNT(*) > 0
  EMIT FINAL
  LIMIT 100;
