-- Lexical structure: keywords in any case, quoted and unquoted identifiers, comments,
-- statement splitting.

/* A block comment
   spanning lines; a ; inside a comment does not end a statement. */
select * from pageviews emit changes;
SeLeCt UserId FrOm PageViews EmIt ChAnGeS;

-- Unquoted identifiers: letters (any alphabet), digits, _, $ and @.
CREATE STREAM _underscore (_a INT, b$1 INT, c@d INT, café STRING, 名前 STRING)
  WITH (kafka_topic = '_underscore', value_format = 'JSON');

-- Backtick- and double-quoted identifiers keep their case; a doubled quote escapes itself.
CREATE STREAM `my stream` (`col with spaces` INT, `back``tick` STRING, "dq""quote" STRING, `SELECT` INT)
  WITH (kafka_topic = 'my-stream', value_format = 'JSON');
SELECT `col with spaces`, `back``tick`, "dq""quote", `SELECT` FROM `my stream` EMIT CHANGES;

-- Comments anywhere between tokens.
SELECT /* inline */ userid -- to the end of the line
  FROM pageviews /* before the clause */ WHERE userid <> 'x;y' -- a ; in a comment: -- ;
  EMIT CHANGES;

-- Semicolons inside strings and quoted identifiers do not split statements.
INSERT INTO `my stream` (`back``tick`) VALUES ('a;b');
CREATE STREAM `semi;colon` (x INT) WITH (kafka_topic = 'semi;colon');

-- Several statements on one line; empty statements are skipped.
SHOW STREAMS; SHOW TABLES; ;
-- The last statement of a script may omit its semicolon.
SHOW TOPICS
