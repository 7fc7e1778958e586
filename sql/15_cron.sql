-- Cron: parse a five-field cron expression and compute when it next fires, in a time zone.
--
-- Syntax (Vixie cron / cronie): minute (0-59), hour (0-23), day of month (1-31), month (1-12 or
-- JAN-DEC), day of week (0-7, 0 and 7 are Sunday, or SUN-SAT); each field a list of `*`, `N`,
-- `N-M`, with an optional step `/S` (`*/15`, `1-30/2`, and `N/S` for `N-max/S`); names in any
-- case. `@yearly` (`@annually`), `@monthly`, `@weekly`, `@daily` (`@midnight`) and `@hourly`
-- stand for their five fields. When both the day of month and the day of week are restricted
-- (neither field starts with `*`) a day matches either; otherwise it must match both (cron's rule:
-- `0 0 1-7 * MON` fires on days 1 to 7 and on every Monday).
--
-- Time zones and DST. Slots are wall-clock times of the schedule's time zone. A slot that does not
-- exist (a spring-forward gap: 02:30 in New York on 2024-03-10) fires once, at the first instant
-- after the gap (03:00 EDT; several slots in one gap fire once, together); a slot that happens
-- twice (a fall-back overlap: 01:30 on 2024-11-03) fires once, at its first occurrence (01:30
-- EDT). Schedules that fire in every hour of the day (hour field `*`: `* * * * *`,
-- `*/15 * * * *`, `@hourly`) follow the clock instead: they fire at every instant whose wall-clock
-- time matches, so they skip the wall times of a gap and fire in both passes of an overlap, and
-- their rhythm in real time goes on unbroken. (croniter's rules, except that croniter fires a
-- repeated time twice even for a schedule that names its hours, where cronie and pgswarm fire once.)
-- Everything here works on timestamps without time zone and on `interval '24 hours'`, never
-- on `interval '1 day'` added to a timestamptz, so the session's TimeZone changes nothing.

-- swarm._cron_invalid: raise SW005 for a cron expression, naming it and what is wrong.
create or replace function swarm._cron_invalid(cron text, problem text) returns void
language plpgsql immutable
as $$
begin
  raise exception using errcode = 'SW005',
    message = format('cron %L: %s', _cron_invalid.cron, _cron_invalid.problem),
    detail = 'five fields: minute (0-59) hour (0-23) day-of-month (1-31) month (1-12, JAN-DEC) '
             'day-of-week (0-7, SUN-SAT); each a list of *, N, N-M, with an optional /STEP',
    hint = 'for example ''*/15 9-17 * * MON-FRI'', ''30 2 1 * *'', or @hourly, @daily, @weekly, @monthly, @yearly';
end
$$;

-- swarm._cron_field: the sorted values one field of a cron expression stands for.
--   names: the names of the values from low upwards (JAN = 1, SUN = 0), or null.
--   raises: SW005 naming the field and the part that is wrong.
create or replace function swarm._cron_field(cron text, field text, label text, low int, high int, names text[])
returns int[]
language plpgsql immutable
as $$
declare
  v_part text;
  v_range text;
  v_step int;
  v_from int;
  v_to int;
  v_bounds text[];
  v_values int[] := '{}';
begin
  foreach v_part in array string_to_array(_cron_field.field, ',') loop
    if v_part = '' then
      perform swarm._cron_invalid(_cron_field.cron, format('%s field %L has an empty list element', label, field));
    end if;
    v_range := split_part(v_part, '/', 1);
    v_step := null;
    if v_part like '%/%' then
      if split_part(v_part, '/', 2) ~ '^[0-9]{1,4}$' and v_part not like '%/%/%' then
        v_step := split_part(v_part, '/', 2)::int;
      end if;
      if coalesce(v_step, 0) = 0 then
        perform swarm._cron_invalid(_cron_field.cron, format('%s step %L must be a whole number of at least 1',
                                                             label, substr(v_part, strpos(v_part, '/') + 1)));
      end if;
    end if;
    if v_range = '*' then
      v_from := low;
      v_to := high;
    else
      v_bounds := string_to_array(v_range, '-');
      if cardinality(v_bounds) > 2 then
        perform swarm._cron_invalid(_cron_field.cron, format('%s range %L has more than one -', label, v_range));
      end if;
      v_from := swarm._cron_value(_cron_field.cron, v_bounds[1], label, low, high, names);
      if cardinality(v_bounds) = 2 then
        v_to := swarm._cron_value(_cron_field.cron, v_bounds[2], label, low, high, names);
        if v_to < v_from then
          perform swarm._cron_invalid(_cron_field.cron,
            format('%s range %L runs backwards (%s > %s)', label, v_range, v_from, v_to));
        end if;
      elsif v_step is not null then
        v_to := high;  -- N/S: from N to the end of the field, every S (cronie, croniter)
      else
        v_to := v_from;
      end if;
    end if;
    v_values := v_values || array(select generate_series(v_from, v_to, coalesce(v_step, 1)));
  end loop;
  return array(select distinct v from unnest(v_values) as v order by v);
end
$$;

-- swarm._cron_value: one number or name of a cron field, checked against the field's range.
create or replace function swarm._cron_value(cron text, token text, label text, low int, high int, names text[])
returns int
language plpgsql immutable
as $$
declare
  v_value int;
begin
  if token ~ '^[0-9]{1,4}$' then
    v_value := token::int;
  elsif names is not null and array_position(names, token) is not null then
    v_value := array_position(names, token) - 1 + low;
  else
    perform swarm._cron_invalid(cron, format('%s %L is not a number%s%s', label, token,
      case when names is not null then format(' or a name (%s-%s)', upper(names[1]), upper(names[cardinality(names)]))
           else '' end,
      case when token ~ '^(l|lw|[0-9]+[lw]|.*[#?].*)$' then ' (L, W, # and ? are not supported)' else '' end));
  end if;
  if v_value not between low and high then
    perform swarm._cron_invalid(cron, format('%s %s is out of range %s-%s', label, v_value, low, high));
  end if;
  return v_value;
end
$$;

-- swarm._cron_parse: the values each field of a cron expression stands for.
--   day_or:        both day fields restricted: a day matches either (else both).
--   follows_clock: it fires in every hour of the day (see the DST rule above).
--   raises:        SW005 naming the expression and what is wrong, also for one that never fires.
create or replace function swarm._cron_parse(cron text,
  out minutes int[], out hours int[], out days int[], out months int[], out weekdays int[],
  out day_or boolean, out follows_clock boolean)
language plpgsql immutable
as $$
declare
  v_expr text := lower(btrim(coalesce(_cron_parse.cron, '')));
  v_fields text[];
  v_month_days int[] := array[31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
begin
  if v_expr = '' then
    perform swarm._cron_invalid(_cron_parse.cron, 'empty');
  end if;
  if v_expr like '@%' then
    v_expr := case v_expr
      when '@yearly' then '0 0 1 1 *' when '@annually' then '0 0 1 1 *' when '@monthly' then '0 0 1 * *'
      when '@weekly' then '0 0 * * 0' when '@daily' then '0 0 * * *' when '@midnight' then '0 0 * * *'
      when '@hourly' then '0 * * * *' end;
    if v_expr is null then
      perform swarm._cron_invalid(_cron_parse.cron,
        'unknown shorthand (known: @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly)');
    end if;
  end if;
  v_fields := regexp_split_to_array(v_expr, '\s+');
  if cardinality(v_fields) <> 5 then
    perform swarm._cron_invalid(_cron_parse.cron, format('has %s fields, not 5', cardinality(v_fields)));
  end if;
  minutes := swarm._cron_field(_cron_parse.cron, v_fields[1], 'minute', 0, 59, null);
  hours := swarm._cron_field(_cron_parse.cron, v_fields[2], 'hour', 0, 23, null);
  days := swarm._cron_field(_cron_parse.cron, v_fields[3], 'day of month', 1, 31, null);
  months := swarm._cron_field(_cron_parse.cron, v_fields[4], 'month', 1, 12,
    array['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec']);
  weekdays := swarm._cron_field(_cron_parse.cron, v_fields[5], 'day of week', 0, 7,
    array['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat']);
  weekdays := array(select distinct d % 7 from unnest(weekdays) as d order by 1);  -- 7 is Sunday too
  -- Vixie cron's rule: a day field that starts with * leaves the choice to the other one.
  day_or := v_fields[3] not like '*%' and v_fields[5] not like '*%';
  follows_clock := cardinality(hours) = 24;
  if not day_or and not exists (select 1 from unnest(months) as m, unnest(days) as d
                                 where d <= v_month_days[m]) then
    perform swarm._cron_invalid(_cron_parse.cron,
      format('never fires: no month in %s has day %s', v_fields[4], v_fields[3]));
  end if;
end
$$;

-- swarm._cron_next_wall: the first wall-clock minute at or after `start` (whole minutes) that the
-- parsed fields match, searching day by day within the matching months (at most 50 years: a
-- day that exists comes round on every weekday within 28 years, 40 across a skipped leap day).
create or replace function swarm._cron_next_wall(minutes int[], hours int[], days int[], months int[],
                                                 weekdays int[], day_or boolean, start timestamp)
returns timestamp
language plpgsql immutable
as $$
declare
  v_year0 int := extract(year from start);
  v_month0 int := extract(month from start);
  v_day0 int := extract(day from start);
  v_hour0 int := extract(hour from start);
  v_minute0 int := extract(minute from start);
  v_year int;
  v_month int;
  v_day int;
  v_last int;
  v_dow int;
  v_hour int;
  v_minute int;
  v_first_day boolean;
begin
  for v_year in v_year0 .. v_year0 + 50 loop
    foreach v_month in array months loop
      continue when v_year = v_year0 and v_month < v_month0;
      v_last := extract(day from (make_date(v_year, v_month, 1) + interval '1 month' - interval '1 day'));
      v_day := case when v_year = v_year0 and v_month = v_month0 then v_day0 else 1 end;
      v_dow := extract(dow from make_date(v_year, v_month, v_day));
      while v_day <= v_last loop
        if (v_day = any(days) and v_dow = any(weekdays))
           or (day_or and (v_day = any(days) or v_dow = any(weekdays))) then
          v_first_day := v_year = v_year0 and v_month = v_month0 and v_day = v_day0;
          foreach v_hour in array hours loop
            continue when v_first_day and v_hour < v_hour0;
            foreach v_minute in array minutes loop
              continue when v_first_day and v_hour = v_hour0 and v_minute < v_minute0;
              return make_timestamp(v_year, v_month, v_day, v_hour, v_minute, 0);
            end loop;
          end loop;
        end if;
        v_day := v_day + 1;
        v_dow := (v_dow + 1) % 7;
      end loop;
    end loop;
  end loop;
  return null;
end
$$;

-- swarm._utc_offset: the UTC offset of a time zone at an instant (-05:00:00 in New York in winter).
create or replace function swarm._utc_offset(timezone text, at timestamptz) returns interval
language sql stable
as $$
  select timezone($1, $2) - timezone('UTC', $2)
$$;

-- swarm._cron_next_at: the first slot of the parsed expression strictly after `after`, in `timezone`,
-- by the DST rule at the top of this file.
--   how: wall-clock candidates in order from the wall time of `after` (from up to the length of
--        a fall-back overlap earlier when one comes within 3 hours, so a repeated wall time is
--        not missed); each becomes 0, 1 or 2 instants; the earliest instant after `after` wins.
--        A later candidate never maps to an earlier first instant, so the walk stops at the first
--        candidate whose first instant is after `after`.
create or replace function swarm._cron_next_at(minutes int[], hours int[], days int[], months int[],
                                               weekdays int[], day_or boolean, follows_clock boolean,
                                               timezone text, after timestamptz)
returns timestamptz
language plpgsql stable
as $$
declare
  v_zone text := _cron_next_at.timezone;
  v_shift interval := greatest(interval '0',
    swarm._utc_offset(v_zone, after) - swarm._utc_offset(v_zone, after + interval '3 hours'));
  v_wall timestamp := date_trunc('minute', timezone(v_zone, after) - v_shift);
  v_as_utc timestamptz;
  v_before interval;
  v_after interval;
  v_first timestamptz;
  v_second timestamptz;
  v_low bigint;
  v_high bigint;
  v_mid bigint;
  v_best timestamptz;
begin
  for v_step in 1 .. 10000 loop
    v_wall := swarm._cron_next_wall(minutes, hours, days, months, weekdays, day_or, v_wall);
    if v_wall is null then
      raise exception 'cron fields % % % % % have no slot within 50 years', minutes, hours, days, months, weekdays;
    end if;
    -- The instants whose wall-clock time is v_wall: at most one per offset in force a day around it.
    v_as_utc := timezone('UTC', v_wall);
    v_before := swarm._utc_offset(v_zone, v_as_utc - interval '24 hours');
    v_after := swarm._utc_offset(v_zone, v_as_utc + interval '24 hours');
    v_first := null;
    v_second := null;
    if timezone(v_zone, v_as_utc - v_before) = v_wall then
      v_first := v_as_utc - v_before;
    end if;
    if v_after <> v_before and timezone(v_zone, v_as_utc - v_after) = v_wall then
      if v_first is null then
        v_first := v_as_utc - v_after;
      else
        v_second := greatest(v_first, v_as_utc - v_after);  -- a repeated wall time: both passes
        v_first := least(v_first, v_as_utc - v_after);
      end if;
    end if;
    if v_first is null and not follows_clock then
      -- A wall time in a spring-forward gap: the first instant after the gap, the first second
      -- whose wall-clock time is past v_wall (between the two readings of v_wall; gaps are hours).
      v_low := floor(extract(epoch from v_as_utc - greatest(v_before, v_after)));
      v_high := ceil(extract(epoch from v_as_utc - least(v_before, v_after)));
      while v_high - v_low > 1 loop
        v_mid := (v_low + v_high) / 2;
        if timezone(v_zone, to_timestamp(v_mid)) > v_wall then
          v_high := v_mid;
        else
          v_low := v_mid;
        end if;
      end loop;
      v_first := to_timestamp(v_high);
    end if;
    if not follows_clock then
      v_second := null;  -- a fixed time fires once, at its first occurrence
    end if;
    if v_first > after then
      return least(v_best, v_first);
    end if;
    if v_second > after then
      v_best := least(v_best, v_second);
    end if;
    v_wall := v_wall + interval '1 minute';
  end loop;
  raise exception 'cron: no slot found after % (internal error)', after;
end
$$;

-- swarm._check_timezone: refuse what is not the name of a time zone PostgreSQL knows (SW005).
--   Names only (Europe/Berlin, UTC, Etc/GMT-5): PostgreSQL would also take a POSIX spec ('+05'
--   means UTC-5 there) or an abbreviation (it reads 'CET' as a fixed +01, never CEST), and
--   neither has DST rules. An Area/City name is checked by using it (microseconds); anything
--   else against pg_timezone_names and pg_timezone_abbrevs (15 ms: they read every zone file).
create or replace function swarm._check_timezone(timezone text) returns void
language plpgsql stable
as $$
declare
  v_known boolean;
begin
  if _check_timezone.timezone ~ '^[A-Za-z_]+(/[A-Za-z_-]+)+$' then
    begin
      perform pg_catalog.timezone(_check_timezone.timezone, now());
      v_known := true;
    exception when invalid_parameter_value then
      v_known := false;
    end;
  else
    v_known := upper(_check_timezone.timezone) = 'UTC'
      or (exists (select 1 from pg_catalog.pg_timezone_names as zone
                   where lower(zone.name) = lower(_check_timezone.timezone))
          and not exists (select 1 from pg_catalog.pg_timezone_abbrevs as abbreviation
                           where abbreviation.abbrev = upper(_check_timezone.timezone)));
  end if;
  if not coalesce(v_known, false) then
    raise exception using errcode = 'SW005',
      message = format('timezone %L is not the name of a time zone', _check_timezone.timezone),
      detail = 'slots are wall-clock times of a named (IANA) time zone, which carries its DST rules; '
               'offsets like ''+05'' and abbreviations like ''CET'' have none',
      hint = 'use a name from pg_timezone_names, e.g. ''UTC'', ''Europe/Berlin'', ''America/New_York''';
  end if;
end
$$;

-- swarm.cron_next: the first time a cron expression fires strictly after `after`, in `timezone`.
--   guarantees: the DST rule at the top of this file; the same answer in every session.
--   raises:     SW005 invalid cron expression or time zone.   notifies: nothing.
create or replace function swarm.cron_next(cron text, after timestamptz default swarm.now(),
                                           timezone text default 'UTC')
returns timestamptz
language plpgsql stable security definer set search_path = pg_catalog, swarm
as $$
declare
  v_spec record;
begin
  perform swarm._check_timezone(cron_next.timezone);
  if cron_next.after is null then
    perform swarm._invalid('after is null', 'give a time: swarm.cron_next(''@daily'', now())');
  end if;
  v_spec := swarm._cron_parse(cron_next.cron);
  return swarm._cron_next_at(v_spec.minutes, v_spec.hours, v_spec.days, v_spec.months, v_spec.weekdays,
                             v_spec.day_or, v_spec.follows_clock, cron_next.timezone, cron_next.after);
end
$$;
comment on function swarm.cron_next(text, timestamptz, text)
  is 'the first time a cron expression fires after a given time, in a time zone (DST rule: docs/sql-api.md)';
