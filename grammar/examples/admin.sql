-- Metadata and administration: SHOW/LIST, DESCRIBE, EXPLAIN, PRINT, TERMINATE, SET/UNSET,
-- DEFINE/UNDEFINE, RUN SCRIPT.

SHOW STREAMS;
LIST STREAMS;
SHOW STREAMS EXTENDED;
SHOW TABLES;
LIST TABLES EXTENDED;
SHOW QUERIES;
SHOW QUERIES EXTENDED;
SHOW TOPICS;
SHOW ALL TOPICS;
LIST ALL TOPICS EXTENDED;
SHOW PROPERTIES;
SHOW FUNCTIONS;
LIST FUNCTIONS;
SHOW TYPES;
SHOW VARIABLES;

DESCRIBE pageviews;
DESCRIBE EXTENDED pageviews;
DESCRIBE pageviews EXTENDED;
DESCRIBE `MixedCase`;
DESCRIBE STREAMS;
DESCRIBE STREAMS EXTENDED;
DESCRIBE TABLES;
DESCRIBE EXTENDED TABLES;
DESCRIBE FUNCTION UCASE;
DESCRIBE FUNCTION substring;

-- EXPLAIN a running query by ID, or a statement.
EXPLAIN CSAS_PAGEVIEWS_FEMALE_0;
EXPLAIN SELECT * FROM pageviews EMIT CHANGES;
EXPLAIN CREATE STREAM explained AS SELECT * FROM pageviews EMIT CHANGES;
EXPLAIN INSERT INTO pageviews SELECT * FROM pageviews_female;

PRINT 'pageviews';
PRINT pageviews FROM BEGINNING;
PRINT 'orders' FROM BEGINNING LIMIT 10;
PRINT `my-topic` INTERVAL 5;
PRINT 'orders' FROM BEGINNING SAMPLE 2 LIMIT 3;

TERMINATE CSAS_PAGEVIEWS_FEMALE_0;
TERMINATE `transient_PAGEVIEWS_123`;
TERMINATE ALL;

SET 'auto.offset.reset' = 'earliest';
SET 'ksql.streams.cache.max.bytes.buffering' = '0';
UNSET 'auto.offset.reset';

-- Variables: DEFINE, then ${name} anywhere in later statements (substituted before parsing).
DEFINE topic = 'orders_v2';
DEFINE format = 'JSON';
DEFINE source_name = 'orders_copy';
DEFINE min_quantity = '10';
CREATE STREAM ${source_name} (id INT KEY, quantity INT)
  WITH (kafka_topic = '${topic}', value_format = '${format}');
SELECT * FROM ${source_name} WHERE quantity >= ${min_quantity} EMIT CHANGES;
UNDEFINE min_quantity;
SHOW VARIABLES;

RUN SCRIPT '/opt/brook/scripts/setup.sql';

ALTER STREAM pageviews ADD COLUMN referrer STRING;
ALTER TABLE users ADD COLUMN email STRING, ADD score DOUBLE;
ASSERT TOPIC pageviews_topic;
ASSERT NOT EXISTS TOPIC 'old-topic' TIMEOUT 5 SECONDS;
ASSERT TOPIC orders WITH (PARTITIONS=3) TIMEOUT 500 MILLISECONDS;
ASSERT SCHEMA SUBJECT 'orders-value' ID 3;
