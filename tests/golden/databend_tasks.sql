-- args: --clock 2026-11-01T00:00:00Z --dialect databend --format tsv
-- Databend's task lifecycle (task_ddl_test): create, resume, alter, execute.
CREATE TASK mytask WAREHOUSE = 'default' SCHEDULE = USING CRON '0 0 0 1 1 ? 2100' AS SELECT 1;
SELECT name, state, schedule FROM system.tasks;
ALTER TASK mytask RESUME;
SELECT name, state, next_schedule_time FROM system.tasks;
ALTER TASK mytask SUSPEND;
ALTER TASK mytask MODIFY AS SELECT 2023;
ALTER TASK mytask SET SCHEDULE = 100 MINUTE;
ALTER TASK mytask SET SUSPEND_TASK_AFTER_NUM_FAILURES = 199 COMMENT = 'yearly';
SELECT name, schedule, suspend_task_after_num_failures, comment FROM system.tasks;
EXECUTE TASK mytask;
SELECT name, state, definition, scheduled_time FROM system.task_history;
CREATE TASK bad SCHEDULE = 499 MILLISECOND AS SELECT 1;
