-- args: --clock 2026-11-01T00:00:00-07:00 --format csv --continue-on-error
CREATE TABLE t (id INT, name STRING, score FLOAT);
INSERT INTO t VALUES (1, 'ann', 1.5), (2, 'bob, jr.', NULL), (3, '007', 2);
SELECT 1/3 AS third, 10/4 AS ratio;
SELECT * FROM missing_table;
SELECT id, name, score FROM t ORDER BY id;
UPDATE t SET score = score * 2 WHERE id < 3;
DELETE FROM t WHERE id = 3;
SELECT 1/0;
SELECT count(*) AS n FROM t;
