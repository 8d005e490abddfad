-- Orders, and the high-value ones filtered into their own stream (ksqlDB quickstart).
CREATE STREAM orders (order_id VARCHAR KEY, customer_id VARCHAR, item VARCHAR, quantity INT, price DOUBLE)
  WITH (KAFKA_TOPIC='orders', VALUE_FORMAT='JSON', PARTITIONS=1);

CREATE STREAM high_value_orders WITH (KAFKA_TOPIC='high_value_orders') AS
  SELECT order_id, customer_id, item, quantity * price AS total
  FROM orders
  WHERE quantity * price > 100
  EMIT CHANGES;
