-- Word count, first half: one record per word, lower-cased (EXPLODE over SPLIT).
-- The counting table (GROUP BY word) needs stateful processing, which arrives with aggregations.
CREATE STREAM lines (line VARCHAR) WITH (KAFKA_TOPIC='lines', VALUE_FORMAT='JSON', PARTITIONS=1);

CREATE STREAM words AS
  SELECT EXPLODE(SPLIT(LCASE(line), ' ')) AS word FROM lines EMIT CHANGES;
