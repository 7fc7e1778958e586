"""The cron parser and next-fire computation in PL/pgSQL (sql/15_cron.sql): every field form,
month ends, leap years, DST forward and back in two time zones, refusals; cross-checked with
croniter wherever its rules and the engine's agree."""
from __future__ import annotations

import os
import random
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import psycopg
import pytest
from croniter import croniter
from pytest_postgresql.janitor import DatabaseJanitor

from tests.pgserver import PgServer

UTC = timezone.utc
ALL_MINUTES = list(range(60))
ALL_HOURS = list(range(24))
ALL_DAYS = list(range(1, 32))
ALL_MONTHS = list(range(1, 13))
ALL_WEEKDAYS = list(range(7))


@pytest.fixture(scope="module")
def conn(pg_server: PgServer, swarm_template: str) -> Iterator[psycopg.Connection]:
    """One database for the module: these functions read nothing and write nothing."""
    name = f"cron_{os.getpid()}"
    janitor = DatabaseJanitor(user="postgres", host=pg_server.host, port=pg_server.port, dbname=name,
                              template_dbname=swarm_template)
    janitor.init()
    with psycopg.connect(pg_server.dsn(name), autocommit=True) as connection:
        yield connection
    janitor.drop()


def parse(conn: psycopg.Connection, cron: str) -> dict:
    row = conn.execute("select minutes, hours, days, months, weekdays, day_or, follows_clock "
                       "from swarm._cron_parse(%s)", (cron,)).fetchone()
    return dict(zip(("minutes", "hours", "days", "months", "weekdays", "day_or", "follows_clock"), row))


def next_fires(conn: psycopg.Connection, cron: str, after: datetime | str, tz: str = "UTC", count: int = 1) -> list[datetime]:
    """The next `count` slots after `after`, each computed from the one before by swarm.cron_next."""
    rows = conn.execute("""
        with recursive slot (n, at) as (
          select 1, swarm.cron_next(%(cron)s, %(after)s::timestamptz, %(tz)s)
          union all
          select n + 1, swarm.cron_next(%(cron)s, at, %(tz)s) from slot where n < %(count)s)
        select at from slot order by n""", {"cron": cron, "after": after, "tz": tz, "count": count}).fetchall()
    return [at for (at,) in rows]


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# -- the parser: every field form -----------------------------------------------------------------

FIELD_FORMS = [
    # (expression, the fields it must expand to; unnamed fields are "all")
    ("* * * * *", {}),
    ("0 0 1 1 0", {"minutes": [0], "hours": [0], "days": [1], "months": [1], "weekdays": [0]}),
    ("5,10,15 * * * *", {"minutes": [5, 10, 15]}),
    ("10-13 * * * *", {"minutes": [10, 11, 12, 13]}),
    ("*/15 * * * *", {"minutes": [0, 15, 30, 45]}),
    ("5-59/20 * * * *", {"minutes": [5, 25, 45]}),
    ("10/25 * * * *", {"minutes": [10, 35]}),  # N/S: from N to the end, every S
    ("0 */5 * * *", {"minutes": [0], "hours": [0, 5, 10, 15, 20]}),
    ("0 1-3,20-23/2 * * *", {"minutes": [0], "hours": [1, 2, 3, 20, 22]}),
    ("0 0 1,15,31 * *", {"minutes": [0], "hours": [0], "days": [1, 15, 31]}),
    ("0 0 */10 * *", {"minutes": [0], "hours": [0], "days": [1, 11, 21, 31]}),
    ("0 0 * JAN *", {"minutes": [0], "hours": [0], "months": [1]}),
    ("0 0 * jan-Mar,Oct *", {"minutes": [0], "hours": [0], "months": [1, 2, 3, 10]}),
    ("0 0 * */3 *", {"minutes": [0], "hours": [0], "months": [1, 4, 7, 10]}),
    ("0 9 * * MON-FRI", {"minutes": [0], "hours": [9], "weekdays": [1, 2, 3, 4, 5]}),
    ("0 9 * * sat,SUN", {"minutes": [0], "hours": [9], "weekdays": [0, 6]}),
    ("0 9 * * 7", {"minutes": [0], "hours": [9], "weekdays": [0]}),  # 7 is Sunday too
    ("0 9 * * 5-7", {"minutes": [0], "hours": [9], "weekdays": [0, 5, 6]}),
    ("0 9 * * */2", {"minutes": [0], "hours": [9], "weekdays": [0, 2, 4, 6]}),
    ("  0   9  *  *  1  ", {"minutes": [0], "hours": [9], "weekdays": [1]}),
    ("@yearly", {"minutes": [0], "hours": [0], "days": [1], "months": [1]}),
    ("@annually", {"minutes": [0], "hours": [0], "days": [1], "months": [1]}),
    ("@monthly", {"minutes": [0], "hours": [0], "days": [1]}),
    ("@weekly", {"minutes": [0], "hours": [0], "weekdays": [0]}),
    ("@daily", {"minutes": [0], "hours": [0]}),
    ("@midnight", {"minutes": [0], "hours": [0]}),
    ("@HOURLY", {"minutes": [0]}),
]


@pytest.mark.parametrize("cron, fields", FIELD_FORMS, ids=[c for c, _ in FIELD_FORMS])
def test_each_field_form_expands_to_its_values(conn, cron: str, fields: dict) -> None:
    expected = {"minutes": ALL_MINUTES, "hours": ALL_HOURS, "days": ALL_DAYS, "months": ALL_MONTHS,
                "weekdays": ALL_WEEKDAYS, **fields}
    parsed = parse(conn, cron)
    assert {k: parsed[k] for k in expected} == expected


def test_day_fields_combine_as_in_cron(conn) -> None:
    """Both day fields restricted: either matches. One of them starting with *: both must."""
    assert parse(conn, "0 0 1-7 * MON")["day_or"] is True
    assert parse(conn, "0 0 * * MON")["day_or"] is False
    assert parse(conn, "0 0 */2 * MON")["day_or"] is False  # Vixie cron: the field starts with *
    assert parse(conn, "0 0 13 * *")["day_or"] is False
    # 2024-10: Mondays are the 7th, 14th, 21st, 28th.
    assert [d.day for d in next_fires(conn, "0 0 1-7 * 1", "2024-10-01 12:00Z", count=6)] == [2, 3, 4, 5, 6, 7]
    assert [d.day for d in next_fires(conn, "0 0 10-11 * 1", "2024-10-01Z", count=4)] == [7, 10, 11, 14]
    # Odd days that are Mondays (and 2024-10-07, -21 are; -14 and -28 are even).
    assert [d.date().isoformat() for d in next_fires(conn, "0 0 */2 * 1", "2024-10-01Z", count=3)] == [
        "2024-10-07", "2024-10-21", "2024-11-11"]


def test_only_the_hour_field_decides_whether_a_schedule_follows_the_clock(conn) -> None:
    assert [parse(conn, c)["follows_clock"] for c in ("* * * * *", "30 * * * *", "@hourly", "0 0-23 * * *",
                                                      "0 */1 * * *")] == [True] * 5
    assert [parse(conn, c)["follows_clock"] for c in ("30 2 * * *", "* 2 * * *", "0 */2 * * *", "@daily")] == \
        [False] * 4


# -- refusals -------------------------------------------------------------------------------------

INVALID = [
    ("", "empty"),
    ("   ", "empty"),
    ("* * * *", "has 4 fields, not 5"),
    ("* * * * * *", "has 6 fields, not 5"),
    ("60 * * * *", "minute 60 is out of range 0-59"),
    ("* 24 * * *", "hour 24 is out of range 0-23"),
    ("* * 0 * *", "day of month 0 is out of range 1-31"),
    ("* * 32 * *", "day of month 32 is out of range 1-31"),
    ("* * * 13 *", "month 13 is out of range 1-12"),
    ("* * * 0 *", "month 0 is out of range 1-12"),
    ("* * * * 8", "day of week 8 is out of range 0-7"),
    ("*/0 * * * *", "minute step '0' must be a whole number of at least 1"),
    ("*/x * * * *", "minute step 'x'"),
    ("1/2/3 * * * *", "minute step '2/3' must be"),
    ("5-1 * * * *", "minute range '5-1' runs backwards (5 > 1)"),
    ("1-2-3 * * * *", "minute range '1-2-3' has more than one -"),
    ("1,,2 * * * *", "minute field '1,,2' has an empty list element"),
    ("* * * foo *", "month 'foo' is not a number or a name (JAN-DEC)"),
    ("* * * * funday", "day of week 'funday' is not a number or a name (SUN-SAT)"),
    ("* * L * *", "(L, W, # and ? are not supported)"),
    ("0 0 * * 5#3", "(L, W, # and ? are not supported)"),
    ("0 0 ? * *", "(L, W, # and ? are not supported)"),
    ("99999 * * * *", "minute '99999' is not a number"),
    ("-1 * * * *", "minute"),
    ("@reboot", "unknown shorthand"),
    ("@every 5m", "unknown shorthand"),
    ("0 0 30 2 *", "never fires: no month in 2 has day 30"),
    ("0 0 31 4,6,9,11 *", "never fires"),
]


@pytest.mark.parametrize("cron, message", INVALID, ids=[c or "empty" for c, _ in INVALID])
def test_an_invalid_expression_is_refused_naming_it_and_the_problem(conn, cron: str, message: str) -> None:
    with pytest.raises(psycopg.Error) as info:
        conn.execute("select swarm.cron_next(%s)", (cron,))
    assert info.value.sqlstate == "SW005"
    assert info.value.diag.message_primary.startswith(f"cron '{cron}': ")
    assert message in info.value.diag.message_primary
    assert "@hourly" in info.value.diag.message_hint


def test_february_29_alone_is_allowed_and_the_day_fields_or_never_refuse(conn) -> None:
    assert next_fires(conn, "0 0 29 2 *", "2024-03-01Z") == [utc("2028-02-29 00:00")]
    assert next_fires(conn, "0 0 31 2 MON", "2024-03-01Z") == [utc("2025-02-03 00:00")]  # a Monday of February


@pytest.mark.parametrize("zone", ["Mars/Base", "+05", "UTC+3", "CET", "", "Europe/Berlin "])
def test_a_time_zone_must_be_a_named_zone(conn, zone: str) -> None:
    with pytest.raises(psycopg.Error) as info:
        conn.execute("select swarm.cron_next('* * * * *', now(), %s)", (zone,))
    assert info.value.sqlstate == "SW005"
    assert info.value.diag.message_primary == f"timezone '{zone}' is not the name of a time zone"


@pytest.mark.parametrize("zone", ["UTC", "utc", "Europe/Berlin", "america/new_york", "Etc/GMT-5", "EST5EDT",
                                  "America/Argentina/Buenos_Aires", "America/Port-au-Prince", "Japan"])
def test_named_zones_are_accepted(conn, zone: str) -> None:
    assert next_fires(conn, "0 12 * * *", "2024-06-01Z", zone)[0] is not None


# -- next fire times: a table ---------------------------------------------------------------------

NY, BERLIN = "America/New_York", "Europe/Berlin"
NEXT_FIRE = [
    # (name, cron, zone, after, the next slots, UTC)
    ("every minute", "* * * * *", "UTC", "2024-01-01 00:00:30", ["2024-01-01 00:01", "2024-01-01 00:02"]),
    ("strictly after", "* * * * *", "UTC", "2024-01-01 00:01:00", ["2024-01-01 00:02"]),
    ("business hours over a weekend", "*/15 9-17 * * MON-FRI", "UTC", "2024-01-05 17:50",
     ["2024-01-08 09:00", "2024-01-08 09:15"]),
    ("year end", "59 23 31 12 *", "UTC", "2024-06-01", ["2024-12-31 23:59", "2025-12-31 23:59"]),
    ("the 31st skips short months", "0 0 31 * *", "UTC", "2024-01-31", [
        "2024-03-31", "2024-05-31", "2024-07-31", "2024-08-31", "2024-10-31", "2024-12-31", "2025-01-31"]),
    ("the 30th skips February", "0 12 30 * *", "UTC", "2024-01-30 12:00", ["2024-03-30 12:00", "2024-04-30 12:00"]),
    ("month end days", "0 0 28-31 2 *", "UTC", "2023-02-27", [
        "2023-02-28", "2024-02-28", "2024-02-29", "2025-02-28", "2026-02-28"]),
    ("leap day", "0 0 29 2 *", "UTC", "2024-02-29 00:00", ["2028-02-29", "2032-02-29"]),
    ("no leap day in 2100", "0 0 29 2 *", "UTC", "2096-03-01", ["2104-02-29"]),
    ("Feb 29 or a Monday of February", "0 0 29 2 MON", "UTC", "2023-03-01", [
        "2024-02-05", "2024-02-12", "2024-02-19", "2024-02-26", "2024-02-29", "2025-02-03"]),
    ("monthly in Berlin", "@monthly", BERLIN, "2024-01-15", ["2024-01-31 23:00", "2024-02-29 23:00",
                                                              "2024-03-31 22:00"]),
    ("weekly on Sunday", "@weekly", "UTC", "2024-01-01", ["2024-01-07", "2024-01-14"]),
    ("Sunday as 7", "0 0 * * 7", "UTC", "2024-01-01", ["2024-01-07", "2024-01-14"]),
    # New York, spring forward 2024-03-10 02:00 EST -> 03:00 EDT
    ("NY gap: a fixed time fires once at 03:00 EDT", "30 2 * * *", NY, "2024-03-09 12:00",
     ["2024-03-10 07:00", "2024-03-11 06:30", "2024-03-12 06:30"]),
    ("NY gap: four slots in the gap fire once", "0,15,30,45 2 * * *", NY, "2024-03-09 12:00",
     ["2024-03-10 07:00", "2024-03-11 06:00", "2024-03-11 06:15"]),
    ("NY gap: an hourly schedule skips 02:30", "30 * * * *", NY, "2024-03-10 05:00",
     ["2024-03-10 05:30", "2024-03-10 06:30", "2024-03-10 07:30", "2024-03-10 08:30"]),
    ("NY gap: every 20 minutes goes on in real time", "*/20 * * * *", NY, "2024-03-10 06:30",
     ["2024-03-10 06:40", "2024-03-10 07:00", "2024-03-10 07:20"]),
    # New York, fall back 2024-11-03 02:00 EDT -> 01:00 EST
    ("NY overlap: a fixed time fires once, at 01:30 EDT", "30 1 * * *", NY, "2024-11-02 12:00",
     ["2024-11-03 05:30", "2024-11-04 06:30"]),
    ("NY overlap: from inside the second pass", "30 1 * * *", NY, "2024-11-03 06:10", ["2024-11-04 06:30"]),
    ("NY overlap: an hourly schedule fires in both passes", "30 * * * *", NY, "2024-11-03 04:00",
     ["2024-11-03 04:30", "2024-11-03 05:30", "2024-11-03 06:30", "2024-11-03 07:30"]),
    ("NY overlap: every 20 minutes in both passes", "*/20 * * * *", NY, "2024-11-03 05:30",
     ["2024-11-03 05:40", "2024-11-03 06:00", "2024-11-03 06:20", "2024-11-03 06:40", "2024-11-03 07:00"]),
    ("NY overlap: from the last minute of the first pass", "*/20 * * * *", NY, "2024-11-03 05:59",
     ["2024-11-03 06:00"]),
    ("NY overlap: named hours fire once each", "*/20 1 * * *", NY, "2024-11-03 04:30",
     ["2024-11-03 05:00", "2024-11-03 05:20", "2024-11-03 05:40", "2024-11-04 06:00"]),
    # Berlin, spring forward 2024-03-31 02:00 CET -> 03:00 CEST
    ("Berlin gap: a fixed time fires once at 03:00 CEST", "30 2 * * *", BERLIN, "2024-03-30 12:00",
     ["2024-03-31 01:00", "2024-04-01 00:30"]),
    ("Berlin gap: hourly", "0 * * * *", BERLIN, "2024-03-30 23:30",
     ["2024-03-31 00:00", "2024-03-31 01:00", "2024-03-31 02:00"]),
    # Berlin, fall back 2024-10-27 03:00 CEST -> 02:00 CET
    ("Berlin overlap: a fixed time fires once", "30 2 * * *", BERLIN, "2024-10-26 12:00",
     ["2024-10-27 00:30", "2024-10-28 01:30"]),
    ("Berlin overlap: hourly in both passes", "0 * * * *", BERLIN, "2024-10-26 23:30",
     ["2024-10-27 00:00", "2024-10-27 01:00", "2024-10-27 02:00"]),
    ("Berlin overlap: from the second pass", "*/20 * * * *", BERLIN, "2024-10-27 00:50",
     ["2024-10-27 01:00", "2024-10-27 01:20"]),
    ("Berlin overlap: daily at 02:00 and 03:00", "0 2,3 * * *", BERLIN, "2024-10-26 12:00",
     ["2024-10-27 00:00", "2024-10-27 02:00", "2024-10-28 01:00"]),
    # Lord Howe Island moves by 30 minutes: 02:00 -> 02:30 on 2024-10-06
    ("Lord Howe: a half-hour gap", "15 2 * * *", "Australia/Lord_Howe", "2024-10-05 00:00",
     ["2024-10-05 15:30", "2024-10-06 15:15"]),
]


@pytest.mark.parametrize("name, cron, zone, after, expected", NEXT_FIRE, ids=[n for n, *_ in NEXT_FIRE])
def test_next_fire_times(conn, name: str, cron: str, zone: str, after: str, expected: list[str]) -> None:
    assert next_fires(conn, cron, utc(after), zone, len(expected)) == [utc(e) for e in expected]


def test_the_session_time_zone_changes_nothing(conn) -> None:
    expected = next_fires(conn, "30 2 * * *", utc("2024-03-09 12:00"), NY, 3)
    try:
        for session_zone in ("Asia/Kolkata", "America/New_York", "Pacific/Chatham"):
            conn.execute("select set_config('TimeZone', %s, false)", (session_zone,))
            assert next_fires(conn, "30 2 * * *", utc("2024-03-09 12:00"), NY, 3) == expected
            assert next_fires(conn, "0 0 1 * *", utc("2024-01-15"), "UTC", 2) == [utc("2024-02-01"), utc("2024-03-01")]
    finally:
        conn.execute("reset TimeZone")


# -- croniter agrees wherever the rules do --------------------------------------------------------

MINUTE = ["*", "*/5", "*/7", "0", "30", "0,30", "15-45/10", "5/20", "59", "1-3", "*/20"]
HOUR = ["*", "*/2", "1-23/2", "*/3", "0", "2", "1-3", "9-17", "22/1", "*/4", "1,2,3", "1", "3"]
# No `*/N` in a day field: Vixie cron (and the engine) read a day field starting with * as
# unrestricted when combining the two day fields; croniter does not.
DAY = ["*", "1", "15", "28-31", "31", "29", "1,15", "10-20/5", "30", "1-7"]
MONTH = ["*", "*/2", "2", "JAN-MAR", "2,3", "11-12", "feb", "mar,oct,nov", "3", "10"]
WEEKDAY = ["*", "0", "7", "MON-FRI", "sat,sun", "1", "5-7", "sun"]
# Around DST changes (UTC), where the rules are put to the test; UTC as the plain case.
TRANSITIONS = {
    "America/New_York": ["2024-03-10 07:00", "2024-11-03 06:00", "2025-03-09 07:00", "2025-11-02 06:00"],
    "Europe/Berlin": ["2024-03-31 01:00", "2024-10-27 01:00", "2025-03-30 01:00", "2025-10-26 01:00"],
    "Australia/Sydney": ["2024-04-06 16:00", "2024-10-05 16:00"],
    "Australia/Lord_Howe": ["2024-04-06 15:00", "2024-10-05 15:30"],
    "UTC": ["2024-02-28 12:00", "2024-12-31 12:00"],
}


def croniter_slots(cron: str, after: datetime, zone: str, count: int) -> list[datetime]:
    """croniter's next slots, less the second occurrences of a repeated wall-clock time for schedules
    that do not fire every hour: there croniter fires twice and the engine (as cronie) once."""
    tz = ZoneInfo(zone)
    every_hour = croniter(cron).expanded[1] == ["*"]
    slots: list[datetime] = []
    iterator = croniter(cron, after.astimezone(tz))
    while len(slots) < count:
        slot = iterator.get_next(datetime)
        first = slot.replace(tzinfo=None).replace(tzinfo=tz, fold=0)
        if not every_hour and first.astimezone(UTC) != slot.astimezone(UTC):
            continue
        slots.append(slot.astimezone(UTC))
    return slots


def test_croniter_agrees_on_a_thousand_expressions_around_dst_changes(conn) -> None:
    rng = random.Random(18)
    compared = 0
    for _ in range(1000):
        cron = " ".join(rng.choice(field) for field in (MINUTE, HOUR, DAY, MONTH, WEEKDAY))
        zone = rng.choice(sorted(TRANSITIONS))
        after = utc(rng.choice(TRANSITIONS[zone])) - timedelta(minutes=rng.randint(0, 30 * 60))
        try:
            ours = next_fires(conn, cron, after, zone, 12)
        except psycopg.Error as exc:
            assert exc.sqlstate == "SW005" and "never fires" in str(exc), (cron, exc)
            continue
        assert ours == croniter_slots(cron, after, zone, 12), (cron, zone, after)
        compared += 1
    assert compared > 950


@pytest.mark.parametrize("cron", ["@yearly", "@monthly", "@weekly", "@daily", "@hourly", "0 9 * * MON-FRI",
                                  "*/10 8-18 * * 1-5", "0 0 1,15 * *"])
def test_croniter_agrees_on_shorthands_and_common_schedules_over_two_years(conn, cron: str) -> None:
    for zone in ("UTC", NY, BERLIN):
        after = utc("2024-01-01 00:00")
        assert next_fires(conn, cron, after, zone, 60) == croniter_slots(cron, after, zone, 60)
