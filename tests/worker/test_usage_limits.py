"""Usage-limit messages, read the way the worker reads them, at fixed moments in fixed zones."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from pgswarm.worker.usage_limits import detect_usage_limit, pause_window

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)  # 13:00 in Berlin, 07:00 in New York


def resets(text: str, now: datetime = NOW) -> datetime | None:
    limit = detect_usage_limit(text, now)
    assert limit is not None and limit.kind == "usage_limit", text
    return limit.resets_at


def test_epoch_form() -> None:
    assert resets("Claude AI usage limit reached|1795435200") == datetime.fromtimestamp(1795435200, timezone.utc)


@pytest.mark.parametrize("text, local", [
    ("You've hit your limit · resets 3:45pm (Europe/Berlin)", datetime(2026, 11, 23, 15, 45)),
    ("You've hit your session limit · resets 3pm (Europe/Berlin)", datetime(2026, 11, 23, 15, 0)),
    ("You've hit your weekly limit · resets Nov 25, 3pm (Europe/Berlin)", datetime(2026, 11, 25, 15, 0)),
    ("You've hit your Opus limit · resets 9am (Europe/Berlin)", datetime(2026, 11, 24, 9, 0)),  # past today: tomorrow
])
def test_resets_form_in_berlin(text: str, local: datetime) -> None:
    assert resets(text) == local.replace(tzinfo=ZoneInfo("Europe/Berlin"))


def test_will_reset_at_form_in_new_york() -> None:
    at = resets("Claude usage limit reached. Your limit will reset at 3pm (America/New_York).")
    assert at == datetime(2026, 11, 23, 15, 0, tzinfo=ZoneInfo("America/New_York"))


def test_codex_forms() -> None:
    assert resets("You've hit your usage limit. Upgrade to Pro or try again in 1 day 2 hours 5 minutes.") == \
        NOW + timedelta(days=1, hours=2, minutes=5)
    at = resets("You've hit your usage limit. Visit chatgpt.com/codex/settings/usage or try again at 12:16 PM.")
    assert at == datetime(2026, 11, 23, 12, 16, tzinfo=timezone.utc)


def test_throttles_are_not_limits() -> None:
    for text in ("API Error: 529 Overloaded", "Rate limited (this is not your usage limit), retrying"):
        limit = detect_usage_limit(text, NOW)
        assert limit is not None and limit.kind == "throttle"


def test_ordinary_text_is_nothing() -> None:
    assert detect_usage_limit("All 42 tests pass; the limit of the loop is 10.", NOW) is None


def test_pause_window_adds_a_margin_and_clamps() -> None:
    soon = detect_usage_limit("Claude AI usage limit reached|%d" % (NOW.timestamp() + 3600), NOW)
    assert pause_window(soon, NOW) == NOW + timedelta(hours=1, minutes=2)
    past = detect_usage_limit("Claude AI usage limit reached|%d" % (NOW.timestamp() - 3600), NOW)
    assert pause_window(past, NOW) == NOW + timedelta(minutes=1)
    far = detect_usage_limit("Claude AI usage limit reached|4102444800", NOW)
    assert pause_window(far, NOW) == NOW + timedelta(days=8)
    unknown = detect_usage_limit("RESOURCE_EXHAUSTED", NOW)
    assert pause_window(unknown, NOW) == NOW + timedelta(hours=1)


@pytest.mark.parametrize("text, local, zone", [
    ("You've hit your limit · resets Apr 23 at 4pm (America/Recife)", datetime(2027, 4, 23, 16, 0), "America/Recife"),
    ("You've hit your weekly limit · resets Nov 25, 2027, 3pm (Europe/Berlin)", datetime(2027, 11, 25, 15, 0),
     "Europe/Berlin"),
    ("You've hit your limit · resets 1:30am (Asia/Dhaka)", datetime(2026, 11, 24, 1, 30), "Asia/Dhaka"),  # 18:00 there
    ("⎿  You've hit your Sonnet limit · resets Jan 2, 9am (Europe/Berlin)", datetime(2027, 1, 2, 9, 0), "Europe/Berlin"),
])
def test_reset_dates_in_other_shapes(text: str, local: datetime, zone: str) -> None:
    assert resets(text) == local.replace(tzinfo=ZoneInfo(zone))


def test_codex_clock_time_is_read_in_the_zone_of_now() -> None:
    los_angeles = NOW.astimezone(ZoneInfo("America/Los_Angeles"))  # 04:00 there
    at = resets("You've hit your usage limit. Upgrade to Plus or try again at 12:16 PM.", los_angeles)
    assert at == datetime(2026, 11, 23, 12, 16, tzinfo=ZoneInfo("America/Los_Angeles"))
    dated = resets("You've hit your usage limit. Upgrade to Plus to continue using Codex, or try again at "
                   "Dec 5th, 2026 8:19 PM.")
    assert dated == datetime(2026, 12, 5, 20, 19, tzinfo=timezone.utc)


def test_limit_without_a_reset_is_still_a_limit_paused_for_an_hour() -> None:
    limit = detect_usage_limit("■ You've hit your usage limit. Try again later.", NOW)
    assert limit is not None and limit.kind == "usage_limit" and limit.resets_at is None
    assert pause_window(limit, NOW) == NOW + timedelta(hours=1)


def test_limit_inside_a_json_error_event_is_read_like_the_message() -> None:
    line = json.dumps({"type": "turn.failed", "error": {"message": "You've hit your usage limit. "
                                                                   "Upgrade to Pro or try again in 3 hours 30 minutes."}})
    assert resets(line) == NOW + timedelta(hours=3, minutes=30)


def test_epoch_in_milliseconds() -> None:
    assert resets("Claude AI usage limit reached|1795435200000") == datetime.fromtimestamp(1795435200, timezone.utc)


def test_rate_limit_event_rejected_and_the_latest_event_wins() -> None:
    rejected = json.dumps({"type": "rate_limit_event", "rate_limit_info": {
        "status": "rejected", "resetsAt": 1795435200, "rateLimitType": "seven_day"}})
    limit = detect_usage_limit(rejected, NOW)
    assert limit is not None and limit.resets_at == datetime.fromtimestamp(1795435200, timezone.utc)
    assert "seven_day" in limit.reason
    allowed = json.dumps({"type": "rate_limit_event", "rate_limit_info": {"status": "allowed"}})
    assert detect_usage_limit(rejected + "\n" + allowed, NOW) is None


@pytest.mark.parametrize("text, wait", [
    ("You have exhausted your daily quota on this model.",
     datetime(2026, 11, 24, 0, 0, tzinfo=ZoneInfo("America/Los_Angeles")) - NOW),
    ('{"error": {"code": 429, "message": "Quota exceeded for quota metric \'Requests\'. Please retry in 43.5s.", '
     '"status": "RESOURCE_EXHAUSTED"}}', timedelta(seconds=43.5)),
])
def test_gemini_quota_resets(text: str, wait: timedelta) -> None:
    assert resets(text) == NOW + wait


@pytest.mark.parametrize("text", [
    "API Error: Repeated 529 Overloaded errors",
    'API Error: 529 {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}',
    "API Error: Server is temporarily limiting requests (not your usage limit) · Rate limited",
    "No capacity available for model gemini-2.5-pro: MODEL_CAPACITY_EXHAUSTED (RESOURCE_EXHAUSTED)",
])
def test_throttle_forms(text: str) -> None:
    limit = detect_usage_limit(text, NOW)
    assert limit is not None and limit.kind == "throttle", text


@pytest.mark.parametrize("text", [
    "error: build failed at parser.c:529: expected ';'",
    "The queue was overloaded yesterday, so I added a retry.",
    "Fixed the handler for 'usage limit reached' banners in the UI.",
])
def test_work_that_mentions_numbers_or_limits_is_nothing(text: str) -> None:
    assert detect_usage_limit(text, NOW) is None
