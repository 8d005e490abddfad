-- Expressions: literals, operators and their precedence, predicates, CASE, CAST, subscripts,
-- struct access, function calls, lambdas and constructors.

-- Literals: integers, decimals, doubles with exponents, strings with '' escapes, booleans, NULL.
SELECT 0, 42, 12345678901234, 1.5, 0.25, .5, 10., 1e3, 1E-3, 2.5e+10, .5e2,
       'text', 'it''s', '', 'multi
line', TRUE, FALSE, NULL
  FROM all_types EMIT CHANGES;

-- Arithmetic, unary minus/plus, string concatenation.
SELECT i + 1, i - 1, i * 2, i / 2, i % 2, -i, +i, - -i, -(i + 1),
       1 + 2 * 3 - 4 / 5 % 6, (1 + 2) * 3,
       s || '!', 'a' || 'b' || 'c', ('x' || s) || 'y'
  FROM all_types EMIT CHANGES;

-- Comparisons.
SELECT i = 1, i <> 1, i != 1, i < 1, i <= 1, i > 1, i >= 1, s = 'x'
  FROM all_types EMIT CHANGES;

-- Logical operators; NOT binds tighter than AND, AND tighter than OR.
SELECT * FROM all_types WHERE b AND NOT b OR i > 0 AND (s = 'a' OR s = 'b') EMIT CHANGES;
SELECT * FROM all_types WHERE NOT (i > 0 AND i < 10) EMIT CHANGES;

-- BETWEEN, IN, LIKE (with ESCAPE), IS NULL, IS DISTINCT FROM.
SELECT * FROM all_types
  WHERE i BETWEEN 1 AND 10
    AND l NOT BETWEEN -5 AND 5
    AND s IN ('a', 'b', 'c')
    AND i NOT IN (1, 2)
    AND s LIKE 'a%'
    AND v NOT LIKE '%\_x' ESCAPE '\'
    AND s LIKE '50!%' ESCAPE '!'
    AND d IS NOT NULL
    AND dec IS NULL
    AND (i IS DISTINCT FROM l)
    AND (s IS NOT DISTINCT FROM v)
  EMIT CHANGES;

-- CASE: searched and simple.
SELECT CASE WHEN i < 0 THEN 'negative' WHEN i = 0 THEN 'zero' ELSE 'positive' END AS sign,
       CASE s WHEN 'a' THEN 1 WHEN 'b' THEN 2 END,
       CASE WHEN b THEN CASE WHEN i > 1 THEN 'x' ELSE 'y' END END
  FROM all_types EMIT CHANGES;

-- CAST to every kind of type.
SELECT CAST(i AS BIGINT), CAST(i AS STRING), CAST(s AS INTEGER), CAST(d AS DECIMAL(10, 2)),
       CAST(s AS DOUBLE), CAST(l AS VARCHAR), CAST(NULL AS BOOLEAN), CAST(ts AS DATE),
       CAST(arr AS ARRAY<STRING>), CAST(m AS MAP<STRING, STRING>),
       CAST(st AS STRUCT<street STRING, `Number` BIGINT, tags ARRAY<STRING>>),
       CAST(nested AS ARRAY<ARRAY<VARCHAR>>)
  FROM all_types EMIT CHANGES;

-- Subscripts, struct field access (->), qualified names, and their combinations.
SELECT arr[1], arr[-1], nested[1][2], m['key'], m[s], deep['k'][1]->a, deep['k'][1]->b,
       st->street, t.st->`Number`, t.arr[i + 1], ARRAY[i, i + 1][2], ABS(d)
  FROM all_types AS t EMIT CHANGES;
-- Subscripts after ->, with or without parentheses.
SELECT st->tags[1], (st->tags)[1], who->home->city, who->others[1]->street
  FROM all_types JOIN customers ON i = id EMIT CHANGES;

-- Function calls: case-insensitive names, COUNT(*), nested calls, bare time units.
SELECT UCASE(s), lcase(s), Len(s), CONCAT(s, '-', v), CONCAT_WS(', ', s, v),
       SUBSTRING(s, 1, 3), TRIM(s), REPLACE(s, 'a', 'b'), SPLIT(s, ','),
       ABS(d), CEIL(d), FLOOR(d), ROUND(d, 2), IFNULL(s, 'default'), COALESCE(s, v, 'x'),
       AS_VALUE(i), EXTRACTJSONFIELD(s, '$.a.b'),
       FORMAT_TIMESTAMP(FROM_UNIXTIME(l), 'yyyy-MM-dd HH:mm:ss', 'UTC'),
       DATEADD(DAYS, 1, dt), TIMESTAMPADD(SECONDS, 10, ts), TIMESTAMPSUB(HOURS, 2, ts)
  FROM all_types EMIT CHANGES;
SELECT s, COUNT(*), SUM(i), AVG(d), MIN(l), MAX(l), LATEST_BY_OFFSET(s), TOPK(i, 3)
  FROM all_types GROUP BY s EMIT CHANGES;
SELECT EXPLODE(arr) AS element FROM all_types EMIT CHANGES;

-- Lambdas: one parameter, several parameters, nested.
SELECT TRANSFORM(arr, x => x + 1),
       TRANSFORM(arr, (x) => x * 2),
       FILTER(arr, x => x > 0 AND x < 10),
       REDUCE(arr, 0, (acc, x) => acc + x),
       TRANSFORM(m, (k, v) => UCASE(k), (k, v) => v * 2),
       FILTER(m, (k, v) => k LIKE 'a%' OR v IS NULL),
       TRANSFORM(nested, row => TRANSFORM(row, cell => CONCAT(cell, '!')))
  FROM all_types EMIT CHANGES;

-- Constructors: ARRAY[...], MAP(k := v), STRUCT(f := v), nested.
SELECT ARRAY[1, 2, 3], ARRAY['a'], ARRAY[ARRAY[1], ARRAY[2, 3]], ARRAY[i, i + 1][2],
       MAP('a' := 1, 'b' := 2), MAP(s := i), MAP('k' := ARRAY[1.5]),
       STRUCT(a := 1, b := 'two', `Mixed` := TRUE),
       STRUCT(inner := STRUCT(x := i), list := ARRAY[s]),
       STRUCT(a := 1)->a
  FROM all_types EMIT CHANGES;
