-- args: --clock 2026-11-01T00:00:00-07:00 --format markdown --echo
CREATE TABLE t (id INT, label STRING);
INSERT INTO t VALUES (1, 'a|b'), (2, 'plain');
SELECT * FROM t ORDER BY id;
