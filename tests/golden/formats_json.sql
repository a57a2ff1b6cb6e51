-- args: --clock 2026-11-01T00:00:00-07:00 --format json
CREATE TABLE t (id INT, name STRING, ok BOOLEAN);
INSERT INTO t VALUES (1, 'a', TRUE), (2, NULL, FALSE);
SELECT id, name, ok FROM t ORDER BY id;
SELECT id, IFF(ok, 'yes', 'no') AS answer FROM t WHERE name ILIKE 'A' ORDER BY id;
