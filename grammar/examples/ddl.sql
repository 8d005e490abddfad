-- DDL: CREATE STREAM / TABLE (with columns, constraints and properties), CREATE ... AS SELECT,
-- CREATE TYPE, DROP. Every statement here parses (tests/it/grammar.rs).

-- Plain stream over a topic, with a key column and common properties.
CREATE STREAM pageviews (
  viewtime BIGINT,
  userid VARCHAR KEY,
  pageid VARCHAR
) WITH (KAFKA_TOPIC = 'pageviews', VALUE_FORMAT = 'JSON', PARTITIONS = 1);

-- Table with a primary key; property names are case-insensitive.
CREATE TABLE users (
  id STRING PRIMARY KEY,
  registertime BIGINT,
  gender STRING,
  regionid STRING
) WITH (kafka_topic = 'users', value_format = 'AVRO', key_format = 'KAFKA');

-- OR REPLACE, IF NOT EXISTS, numeric and boolean properties.
CREATE OR REPLACE STREAM IF NOT EXISTS orders (
  order_id INT KEY,
  item STRING,
  quantity INT,
  price DECIMAL(10, 2),
  placed_at TIMESTAMP
) WITH (
  KAFKA_TOPIC = 'orders',
  VALUE_FORMAT = 'JSON',
  PARTITIONS = 3,
  REPLICAS = 1,
  TIMESTAMP = 'placed_at',
  WRAP_SINGLE_VALUE = false
);

-- Read-only source stream and source table.
CREATE SOURCE STREAM audit_log (ts BIGINT, entry STRING) WITH (kafka_topic = 'audit', value_format = 'DELIMITED');
CREATE SOURCE TABLE regions (region_id INT PRIMARY KEY, name STRING) WITH (kafka_topic = 'regions', format = 'JSON');
CREATE OR REPLACE SOURCE TABLE IF NOT EXISTS countries (code STRING PRIMARY KEY, name STRING) WITH (kafka_topic = 'countries', value_format = 'JSON');

-- Headers: all of them, or one by key.
CREATE STREAM traced (
  id BIGINT KEY,
  payload BYTES,
  all_headers ARRAY<STRUCT<key STRING, value BYTES>> HEADERS,
  trace_id BYTES HEADER('trace-id')
) WITH (kafka_topic = 'traced', value_format = 'KAFKA');

-- No column list (the schema would come from the format), and no WITH clause at all.
CREATE STREAM inferred WITH (kafka_topic = 'inferred', value_format = 'AVRO');
CREATE STREAM bare (x INT);

-- Quoted names keep their case; keywords are fine as column names.
CREATE STREAM `MixedCase` (`Id` INT KEY, `key` STRING, `timestamp` BIGINT, value STRING, "Quoted" INT)
  WITH (kafka_topic = 'mixed', value_format = 'JSON');

-- Property names may be written as strings; negative numbers.
CREATE TABLE settings (name STRING PRIMARY KEY, v DOUBLE)
  WITH ('kafka_topic' = 'settings', 'value_format' = 'JSON', partitions = 2, retention_ms = -1);

-- Every built-in type.
CREATE STREAM all_types (
  b BOOLEAN,
  i INT,
  i2 INTEGER,
  l BIGINT,
  d DOUBLE,
  v VARCHAR,
  s STRING,
  bs BYTES,
  ts TIMESTAMP,
  dt DATE,
  tm TIME,
  dec DECIMAL(38, 0),
  arr ARRAY<INT>,
  nested ARRAY<ARRAY<STRING>>,
  m MAP<STRING, DOUBLE>,
  deep MAP<STRING, ARRAY<STRUCT<a INT, b DECIMAL(4, 2)>>>,
  st STRUCT<street STRING, `Number` INT, tags ARRAY<STRING>>,
  empty STRUCT< >
) WITH (kafka_topic = 'all_types', value_format = 'JSON');

-- Custom types, used in later statements (also inside other types).
CREATE TYPE address AS STRUCT<number INTEGER, street VARCHAR, city VARCHAR>;
CREATE TYPE IF NOT EXISTS person AS STRUCT<name VARCHAR, home ADDRESS, others ARRAY<address>>;
CREATE TYPE money AS DECIMAL(12, 2);
CREATE TYPE tag_list AS ARRAY<STRING>;
CREATE STREAM customers (id INT KEY, who PERSON, balance MONEY, tags TAG_LIST, billing address)
  WITH (kafka_topic = 'customers', value_format = 'JSON');

-- CREATE ... AS SELECT: persistent queries.
CREATE STREAM pageviews_female AS
  SELECT userid, pageid, viewtime FROM pageviews WHERE pageid LIKE '%female%' EMIT CHANGES;

CREATE STREAM big_orders WITH (kafka_topic = 'big_orders', value_format = 'AVRO', partitions = 6) AS
  SELECT order_id, item, quantity * price AS total
  FROM orders
  WHERE quantity > 10
  PARTITION BY item
  EMIT CHANGES;

CREATE OR REPLACE STREAM IF NOT EXISTS orders_rekeyed AS
  SELECT * FROM orders PARTITION BY item;

-- Tables from aggregations.
CREATE TABLE pageviews_per_region AS
  SELECT regionid, COUNT(*) AS numusers
  FROM pageviews
  WINDOW TUMBLING (SIZE 30 SECONDS)
  GROUP BY regionid
  HAVING COUNT(*) > 1
  EMIT CHANGES;

CREATE TABLE order_totals WITH (kafka_topic = 'order_totals', key_format = 'JSON') AS
  SELECT item, SUM(quantity) AS units, LATEST_BY_OFFSET(price) AS last_price
  FROM orders
  GROUP BY item
  EMIT CHANGES;

-- DROP.
DROP STREAM pageviews_female;
DROP STREAM IF EXISTS big_orders DELETE TOPIC;
DROP TABLE order_totals;
DROP TABLE IF EXISTS pageviews_per_region DELETE TOPIC;
DROP TYPE tag_list;
DROP TYPE IF EXISTS no_such_type;
