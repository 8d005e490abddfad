-- The enrichment pipeline of the classic Kafka guides: orders joined with their customers,
-- the large orders of non-premium customers, and the orders and revenue of each hour.
-- `examples/orders_generator.rs` feeds both sources (`scripts/start` runs it with Brook).

-- The queries below read what is already in the topics when they are first created (on a
-- restart they resume from their committed offsets); the shell keeps ksqlDB's default.
SET 'auto.offset.reset'='earliest';

CREATE STREAM orders_stream (order_id VARCHAR KEY, customer_id VARCHAR, product_id VARCHAR,
                             quantity INT, price DOUBLE)
  WITH (KAFKA_TOPIC='orders', VALUE_FORMAT='JSON', PARTITIONS=1);

CREATE TABLE customers_table (customer_id VARCHAR PRIMARY KEY, name VARCHAR, tier VARCHAR)
  WITH (KAFKA_TOPIC='customers', VALUE_FORMAT='JSON', PARTITIONS=1);

-- Each order with its customer's name and tier (a stream-table join, re-keyed by customer_id).
CREATE STREAM enriched_orders AS
  SELECT o.order_id, o.customer_id, c.name AS customer_name, c.tier AS customer_tier,
         o.product_id, o.quantity, o.price, o.quantity * o.price AS total_amount
  FROM orders_stream o INNER JOIN customers_table c ON o.customer_id = c.customer_id
  EMIT CHANGES;

CREATE STREAM high_value_orders AS
  SELECT * FROM enriched_orders
  WHERE total_amount > 1000 AND customer_tier != 'PREMIUM'
  EMIT CHANGES;

-- One row per hour, keyed by the window alone (Brook only: see docs/sql.md, "Beyond ksqlDB").
CREATE TABLE orders_per_hour AS
  SELECT WINDOWSTART AS window_start, WINDOWEND AS window_end,
         COUNT(*) AS order_count, SUM(quantity * price) AS total_revenue
  FROM orders_stream
  WINDOW TUMBLING (SIZE 1 HOUR)
  GROUP BY WINDOWSTART, WINDOWEND
  EMIT CHANGES;

UNSET 'auto.offset.reset';
