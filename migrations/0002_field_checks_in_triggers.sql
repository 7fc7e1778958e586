-- 0002_field_checks_in_triggers: the one-column CHECK constraints of swarm.agent_tasks give way
-- to swarm._check_task_fields (sql/10_tasks.sql), run by the insert trigger and by a trigger on
-- UPDATE OF exactly those columns. PostgreSQL re-reads and re-plans every CHECK of a table on
-- each UPDATE statement, whatever columns it sets, so each claim and each report paid for nine
-- checks of columns it never touches (measured: about 12 µs of a claim_task call and 13 µs of a
-- complete_task call). The status check is the guard trigger's job (its legal edges name every
-- status). The two checks that span columns the API sets stay.
alter table swarm.agent_tasks
  drop constraint agent_tasks_queue_not_empty,
  drop constraint agent_tasks_args_is_object,
  drop constraint agent_tasks_priority_in_range,
  drop constraint agent_tasks_status_known,
  drop constraint agent_tasks_on_dependency_failure_known,
  drop constraint agent_tasks_max_attempts_at_least_one,
  drop constraint agent_tasks_timeout_positive;
