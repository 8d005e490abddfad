-- Clickstream: keep the fields the dashboards use, and the failed requests (ksqlDB clickstream demo).
CREATE STREAM clickstream (ip VARCHAR, userid INT, remote_user VARCHAR, time VARCHAR, request VARCHAR,
                           status INT, bytes BIGINT, referrer VARCHAR, agent VARCHAR)
  WITH (KAFKA_TOPIC='clickstream', VALUE_FORMAT='JSON', PARTITIONS=1);

CREATE STREAM clickstream_requests AS
  SELECT userid, UCASE(SPLIT(request, ' ')[1]) AS method, SPLIT(request, ' ')[2] AS path, status, bytes
  FROM clickstream
  EMIT CHANGES;

CREATE STREAM clickstream_errors AS
  SELECT userid, request, status FROM clickstream WHERE status >= 400 EMIT CHANGES;
