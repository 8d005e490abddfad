-- INSERT INTO ... VALUES and INSERT INTO ... SELECT.

INSERT INTO pageviews (viewtime, userid, pageid) VALUES (1561232201000, 'User_1', 'Page_10');
INSERT INTO pageviews VALUES (1561232201000, 'User_2', 'Page_11');
INSERT INTO orders (ROWTIME, order_id, item, quantity, price) VALUES (1000, 1, 'widget', 5, 9.99);
INSERT INTO orders (order_id, item, price) VALUES (2, 'it''s quoted', -12.50);
INSERT INTO `MixedCase` (`Id`, `key`) VALUES (7, NULL);

-- Values may be any expression.
INSERT INTO all_types (b, i, l, d, s, arr, m, st) VALUES (
  TRUE,
  1 + 2,
  CAST(42 AS BIGINT),
  1.5E3,
  CONCAT('a', 'b'),
  ARRAY[1, 2, 3],
  MAP('one' := 1.0, 'two' := 2.0),
  STRUCT(street := 'Main St', `Number` := 12, tags := ARRAY['x'])
);

-- Persistent queries appending to an existing stream.
INSERT INTO orders SELECT * FROM orders_rekeyed;
INSERT INTO orders WITH (QUERY_ID = 'copy_orders') SELECT order_id, item, quantity, price, placed_at FROM orders_rekeyed EMIT CHANGES;
INSERT INTO pageviews
  SELECT viewtime, userid, pageid
  FROM pageviews_female
  WHERE viewtime > 0
  PARTITION BY userid
  EMIT CHANGES;
