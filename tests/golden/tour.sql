-- args: --clock 2026-11-01T00:00:00-07:00
-- The README's tour: a table, a task, a run, its history.
CREATE TABLE readings (sensor INT, celsius FLOAT);
INSERT INTO readings VALUES (1, 21.5), (2, 19.7);
CREATE TABLE hourly (taken_at TIMESTAMP, average FLOAT);

CREATE TASK summarize
  SCHEDULE = '60 MINUTE'
  AS INSERT INTO hourly SELECT CURRENT_TIMESTAMP, AVG(celsius) FROM readings;

SELECT SYSTEM$WAIT(90);
EXECUTE TASK summarize;
SELECT * FROM hourly;
SELECT name, state, scheduled_from, scheduled_time
  FROM TABLE(INFORMATION_SCHEMA.TASK_HISTORY(TASK_NAME => 'summarize'));
SELECT name, schedule, state FROM system.tasks;
