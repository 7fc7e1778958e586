"""Usage-limit messages, read the way the worker reads them, at fixed moments in fixed zones."""
from __future__ import annotations

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
