"""Recognising an agent's usage limit (pause the agent until it resets) and short throttles.

Only the text a profile passes in is searched: the final result and the last lines of output,
so an agent whose work merely mentions limits is not paused. Known forms:

- claude stream-json `rate_limit_event` with status "rejected" and `resetsAt` (epoch seconds)
- `Claude AI usage limit reached|1767225600`
- `You've hit your limit · resets 3:45pm (Europe/Berlin)` (also session / weekly / Opus limit,
  `resets 3pm`, `resets Nov 25, 3pm`)
- `Claude usage limit reached. Your limit will reset at 3pm (America/New_York).`
- codex: `You've hit your usage limit ... try again at 12:16 PM` / `... try again in 2 days 3 hours 4 minutes`
- gemini: quota exhausted (RESOURCE_EXHAUSTED, "Quota exceeded", "exhausted your ... quota")
- throttles: "not your usage limit", HTTP 529 / overloaded, 429 rate limiting: a short backoff.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

MARGIN = timedelta(minutes=2)
SHORTEST_PAUSE = timedelta(minutes=1)
LONGEST_PAUSE = timedelta(days=8)
UNKNOWN_RESET_PAUSE = timedelta(hours=1)
THROTTLE_BACKOFF_SECONDS = 60


@dataclass(frozen=True)
class UsageLimit:
    kind: Literal["usage_limit", "throttle"]
    reason: str  # the agent's own words
    resets_at: datetime | None = None


_EPOCH_FORM = re.compile(r"Claude AI usage limit reached\|(\d{9,11})")
_RESETS_FORM = re.compile(
    r"(You've hit your (?:session |weekly |Opus |5-hour )?limit|Claude usage limit reached)[^\n]*?"
    r"(?:resets|reset at)\s+(?:(?P<date>[A-Z][a-z]{2} \d{1,2}),?\s+(?:at\s+)?)?"
    r"(?P<time>\d{1,2}(?::\d{2})?\s*[ap]m)\s*(?:\((?P<zone>[A-Za-z_]+(?:/[A-Za-z_+-]+)*)\))?", re.I)
_CODEX_AT = re.compile(r"(You've hit your usage limit[^\n]*?try again at\s+(?P<time>\d{1,2}:\d{2}\s*[AP]M))", re.I)
_CODEX_IN = re.compile(r"(You've hit your usage limit[^\n]*?try again in\s+(?P<span>[^.\n]+))", re.I)
_GEMINI_QUOTA = re.compile(r"(RESOURCE_EXHAUSTED|Quota exceeded[^\n]*|exhausted your [^\n]*quota[^\n]*)", re.I)
_THROTTLE = re.compile(r"(not your usage limit[^\n]*|\b529\b[^\n]*|overloaded_error[^\n]*|Overloaded[^\n]*)", re.I)
_SPAN_PART = re.compile(r"(\d+)\s*(day|hour|minute|min|second|sec)s?", re.I)


def detect_usage_limit(text: str, now: datetime) -> UsageLimit | None:
    """The usage limit or throttle this final text reports, if any."""
    found = _rate_limit_event(text)
    if found:
        return found
    if m := _EPOCH_FORM.search(text):
        return UsageLimit("usage_limit", m.group(0), datetime.fromtimestamp(int(m.group(1)), timezone.utc))
    if m := _RESETS_FORM.search(text):
        return UsageLimit("usage_limit", m.group(0).strip(),
                          _next_clock_time(m.group("time"), m.group("zone"), m.group("date"), now))
    if m := _CODEX_AT.search(text):
        return UsageLimit("usage_limit", m.group(0).strip(), _next_clock_time(m.group("time"), None, None, now))
    if m := _CODEX_IN.search(text):
        span = _span(m.group("span"))
        return UsageLimit("usage_limit", m.group(0).strip(), now + span if span else None)
    if m := _GEMINI_QUOTA.search(text):
        return UsageLimit("usage_limit", m.group(0).strip()[:300], None)
    if m := _THROTTLE.search(text):
        return UsageLimit("throttle", m.group(0).strip()[:300], None)
    return None


def pause_window(limit: UsageLimit, now: datetime) -> datetime:
    """Pause until the reset plus a margin, clamped to a sane window (unknown reset: an hour)."""
    if limit.resets_at is None:
        return now + UNKNOWN_RESET_PAUSE
    until = limit.resets_at + MARGIN
    return min(max(until, now + SHORTEST_PAUSE), now + LONGEST_PAUSE)


def _rate_limit_event(text: str) -> UsageLimit | None:
    """The last claude `rate_limit_event` whose status is rejected."""
    for line in reversed(text.splitlines()):
        if '"rate_limit_event"' not in line:
            continue
        try:
            event = json.loads(line)
        except ValueError:
            continue
        info = event.get("rate_limit_info") or event
        if str(info.get("status", "")).lower() != "rejected":
            return None  # the latest word on the limit says it is fine
        resets = info.get("resetsAt") or info.get("resets_at")
        at = datetime.fromtimestamp(int(resets), timezone.utc) if isinstance(resets, (int, float, str)) \
            and str(resets).isdigit() else None
        kind = info.get("rateLimitType") or info.get("type") or "usage"
        return UsageLimit("usage_limit", f"claude rate_limit_event rejected ({kind})", at)
    return None


def _next_clock_time(clock: str, zone: str | None, date: str | None, now: datetime) -> datetime | None:
    """The next moment the wall clock shows `clock` ("3pm", "3:45 PM") in the zone (default: UTC)."""
    try:
        tz = ZoneInfo(zone) if zone else timezone.utc
    except (ZoneInfoNotFoundError, ValueError):
        tz = timezone.utc
    m = re.fullmatch(r"(\d{1,2})(?::(\d{2}))?\s*([ap]m)", clock.strip(), re.I)
    if not m:
        return None
    hour = int(m.group(1)) % 12 + (12 if m.group(3).lower() == "pm" else 0)
    minute = int(m.group(2) or 0)
    local_now = now.astimezone(tz)
    if date:
        try:
            day = datetime.strptime(f"{date} {local_now.year}", "%b %d %Y")
        except ValueError:
            return None
        candidate = datetime(day.year, day.month, day.day, hour, minute, tzinfo=tz)
        if candidate < local_now - timedelta(days=180):  # "Jan 2" seen in late December
            candidate = candidate.replace(year=candidate.year + 1)
        return candidate.astimezone(timezone.utc)
    candidate = local_now.replace(hour=hour, minute=minute, second=0, microsecond=0)
    if candidate <= local_now:
        candidate += timedelta(days=1)
    return candidate.astimezone(timezone.utc)


def _span(text: str) -> timedelta | None:
    total = timedelta()
    for amount, unit in _SPAN_PART.findall(text):
        unit = unit.lower()
        key = {"day": "days", "hour": "hours", "minute": "minutes", "min": "minutes",
               "second": "seconds", "sec": "seconds"}[unit]
        total += timedelta(**{key: int(amount)})
    return total or None
