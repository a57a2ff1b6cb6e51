-- args: --clock 2026-11-01T00:00:00-07:00
CREATE TABLE t (a INT);
INSERT INTO t VALUES (1);
CREATE TASK broken
  SCHEDULE = '5 MINUTE'
  WAREHOUSE == default
  AS SELECT 1;
SELECT 'never reached';
