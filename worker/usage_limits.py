"""Recognising an agent's usage limit (pause the agent until it resets) and short throttles.

Only the text a profile passes in is searched: the final result or error and the last lines of
output, so an agent whose work merely mentions limits is not paused. Known forms:

- claude stream-json `rate_limit_event` with status "rejected" and `resetsAt` (epoch seconds)
- `Claude AI usage limit reached|1767225600`
- `You've hit your limit · resets 3:45pm (Europe/Berlin)` (also session / weekly / Opus / Sonnet
  limit; `resets 3pm`, `resets Nov 25, 3pm`, `resets Nov 25, 2027, 3pm`, `resets Apr 23 at 4pm`)
- `Claude usage limit reached. Your limit will reset at 3pm (America/New_York).`
- codex: `You've hit your usage limit ... try again at 12:16 PM` (also `at Jul 5th, 2026 8:19 PM`)
  and `... try again in 2 days 3 hours 4 minutes`
- gemini quota exhausted: RESOURCE_EXHAUSTED, TerminalQuotaError, "Quota exceeded for quota
  metric", "You have exhausted your daily quota" (a daily quota resets at midnight Pacific time;
  "Please retry in 43s" / "Suggested retry after 3600s" give the wait)
- claude `API Error: Rate limit reached` (a limit without a reset time: the latest
  `rate_limit_event`'s resetsAt when there is one, else RATE_LIMIT_PAUSE)
- codex's 429 body `{"error": {"type": "usage_limit_reached", "resets_in_seconds": N}}` (or
  `resets_at`), and its structured `rate_limits` windows (`resets_at`, `used_percent` 100)
- throttles, a short backoff rather than a pause: "(not your usage limit)", 529 / overloaded_error
  / "Repeated 529 Overloaded errors", "Request rejected (429)", gemini's exhausted model capacity.

A clock time without a zone ("try again at 12:16 PM": codex prints the machine's local time) is
read in the zone of `now`, so profiles pass a local, zone-aware `now`.
"""
from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone, tzinfo
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

MARGIN = timedelta(minutes=2)
SHORTEST_PAUSE = timedelta(minutes=1)
LONGEST_PAUSE = timedelta(days=8)
UNKNOWN_RESET_PAUSE = timedelta(hours=1)
RATE_LIMIT_PAUSE = timedelta(minutes=5)  # "Rate limit reached" without a reset time
REASON_CHARS = 300
THROTTLE_BACKOFF_SECONDS = 60
# Google's daily API quotas reset at midnight Pacific time.
GOOGLE_QUOTA_ZONE = "America/Los_Angeles"


@dataclass(frozen=True)
class UsageLimit:
    kind: Literal["usage_limit", "throttle"]
    reason: str  # the agent's own words (one line, at most 300 characters)
    resets_at: datetime | None = None


_EPOCH = re.compile(r"Claude AI usage limit reached\|(\d{9,13})")
_RATE_LIMIT_REACHED = re.compile(r"API Error:\s*(?:429\b[^\n]{0,40})?Rate limit reached", re.I)
_CODEX_429 = re.compile(r"usage_limit_reached", re.I)
_RESETS_AT_FIELD = re.compile(r'"resets_at"\s*:\s*(\d{9,13})')
_RESETS_IN_FIELD = re.compile(r'"resets_in_seconds"\s*:\s*(\d+)')
# What the result text of a run that exited 0 starts with when it is really a limit message
# (claude bug #79500: `is_error: false`, exit 0). Only the start is read: an answer that merely
# mentions limits is an answer.
_SUCCESS_LOOKALIKE = re.compile(r"\s*(?:Claude AI usage limit reached\||API Error:\s*(?:429\b|Rate limit reached)"
                                r"|You(?:'|’)ve hit your [^\n]{0,40}?limit|Claude usage limit reached)", re.I)
_LIMIT = re.compile(r"You(?:'|’)ve hit your [^\n]{0,40}?limit|You have hit your [^\n]{0,40}?limit"
                    r"|Claude usage limit reached|5-hour limit reached", re.I)
_GEMINI_QUOTA = re.compile(r"RESOURCE_EXHAUSTED|TerminalQuotaError|Quota exceeded|exhausted your (?:\w+ )?quota", re.I)
_THROTTLE = re.compile(
    r"not your usage limit|overloaded_error|Repeated 529|\b529\b[^\n]{0,40}overload|overload[^\n]{0,40}\b529\b"
    r"|API Error: (?:529|Overloaded)|^\W*Overloaded\b|Request rejected \(429\)|rate_limit_error"
    r"|temporarily limiting requests|MODEL_CAPACITY_EXHAUSTED|exhausted your capacity", re.I | re.M)

_MONTH = r"(?P<month>Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*\.?"
_WHEN = re.compile(
    rf"(?:{_MONTH}\s+(?P<day>\d{{1,2}})(?:st|nd|rd|th)?,?\s+(?:(?P<year>\d{{4}}),?\s+)?(?:at\s+)?)?"
    r"(?P<hour>\d{1,2})(?::(?P<minute>\d{2}))?\s*(?P<ampm>[ap])\.?\s?m\b\.?"
    r"(?:\s*\((?P<zone>[A-Za-z_]+(?:/[A-Za-z0-9_+-]+)*)\))?", re.I)
_RESET_AT = re.compile(r"(?:resets|reset at|reset on|try again at)\s+", re.I)
_RESET_IN = re.compile(r"try again in\s+(?P<span>[^.\n]+)", re.I)
_SPAN_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(days?|d\b|hours?|hrs?|h\b|minutes?|mins?|m\b|seconds?|secs?|s\b)", re.I)
_RETRY_DELAY = re.compile(r"(?:retry in|retry after|retryDelay\"?:\s*\"?)\s*(\d+(?:\.\d+)?)\s*(ms|s)\b", re.I)


def detect_usage_limit(text: str, now: datetime) -> UsageLimit | None:
    """The usage limit or throttle this final text reports, if any; `now` must be zone-aware."""
    event = _rate_limit_event(text)
    if event is not None:
        return event
    lines = _message_lines(text)
    for line in reversed(lines):
        if m := _EPOCH.search(line):
            return UsageLimit("usage_limit", _reason(line, m.start()), _from_epoch(int(m.group(1))))
    for line in reversed(lines):
        if m := _CODEX_429.search(line):
            resets = None
            if at := _RESETS_AT_FIELD.search(line):
                resets = _from_epoch(int(at.group(1)))
            elif after := _RESETS_IN_FIELD.search(line):
                resets = now + timedelta(seconds=int(after.group(1)))
            return UsageLimit("usage_limit", _reason(line, 0), resets or codex_rate_limit_reset(text))
    for line in reversed(lines):
        if m := _RATE_LIMIT_REACHED.search(line):
            return UsageLimit("usage_limit", _reason(line, m.start()), _latest_event_reset(text) or now + RATE_LIMIT_PAUSE)
    found: UsageLimit | None = None
    for line in reversed(lines):  # the latest message that says when; else the latest one
        if m := _LIMIT.search(line):
            limit = UsageLimit("usage_limit", _reason(line, m.start()), _reset_in_line(line[m.end():], now))
            if limit.resets_at is not None:
                return limit
            found = found or limit
    if found is not None:
        return found
    for line in reversed(lines):
        if m := _GEMINI_QUOTA.search(line):
            if re.search(r"capacity", line, re.I):  # the model is busy, the user's quota is fine
                return UsageLimit("throttle", _reason(line, 0), now + timedelta(seconds=THROTTLE_BACKOFF_SECONDS))
            return UsageLimit("usage_limit", _reason(line, m.start()), _google_reset("\n".join(lines), now))
    for line in reversed(lines):
        if m := _THROTTLE.search(line):
            return UsageLimit("throttle", _reason(line, 0), now + timedelta(seconds=THROTTLE_BACKOFF_SECONDS))
    return None


def limit_in_success(result_text: str, events_text: str, now: datetime) -> UsageLimit | None:
    """The usage limit behind a run that reported success (exit 0, not an error): a rejected
    claude `rate_limit_event` (the structured source, preferred), or a result text that *is* a
    limit message rather than an answer (it starts with one). `events_text` holds the run's
    rate-limit event lines."""
    event = _rate_limit_event(events_text)
    if event is not None and (not result_text.strip() or _SUCCESS_LOOKALIKE.match(result_text)):
        return event
    if _SUCCESS_LOOKALIKE.match(result_text):
        return detect_usage_limit(f"{events_text}\n{result_text.strip().splitlines()[0]}", now)
    return None


def codex_rate_limit_reset(text: str) -> datetime | None:
    """When codex's exhausted window resets, from the structured `rate_limits` it reports
    (`{"primary": {"used_percent": 100, "resets_at": EPOCH}, "secondary": ...}`, or
    `resets_in_seconds`): the latest reset among windows at 100 %, else None."""
    found: list[datetime] = []
    for line in text.splitlines():
        if "rate_limits" not in line:
            continue
        try:
            value = json.loads(line)
        except ValueError:
            continue
        for limits in _find_key(value, "rate_limits"):
            if not isinstance(limits, dict):
                continue
            for window in limits.values():
                if not isinstance(window, dict) or not _number(window.get("used_percent"), 0) >= 100:
                    continue
                if _number(window.get("resets_at"), 0) > 0:
                    found.append(_from_epoch(int(window["resets_at"])))
                elif _number(window.get("resets_in_seconds"), -1) >= 0:
                    found.append(datetime.now(timezone.utc) + timedelta(seconds=int(window["resets_in_seconds"])))
    return max(found) if found else None


def _find_key(value: Any, key: str, depth: int = 0) -> list[Any]:
    if depth > 6:
        return []
    if isinstance(value, dict):
        return ([value[key]] if key in value else []) + [
            x for v in value.values() if isinstance(v, (dict, list)) for x in _find_key(v, key, depth + 1)]
    if isinstance(value, list):
        return [x for v in value[:50] for x in _find_key(v, key, depth + 1)]
    return []


def _number(value: Any, default: float) -> float:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else default


def pause_window(limit: UsageLimit, now: datetime) -> datetime:
    """Pause until the reset plus a margin, clamped to [now + 1 min, now + 8 days]; an unknown
    reset pauses for an hour."""
    if limit.resets_at is None:
        return now + UNKNOWN_RESET_PAUSE
    until = limit.resets_at + MARGIN
    return min(max(until, now + SHORTEST_PAUSE), now + LONGEST_PAUSE)


def throttle_seconds(limit: UsageLimit, now: datetime) -> int:
    """The backoff of a throttle, 30 to 120 seconds."""
    wanted = (limit.resets_at - now).total_seconds() if limit.resets_at else THROTTLE_BACKOFF_SECONDS
    return int(min(max(wanted, 30), 120))


# -- reading the text ------------------------------------------------------------------------

def _message_lines(text: str) -> list[str]:
    """The text's lines; a JSON line stands for the strings it carries (message, result, error),
    so a limit inside a JSON error event is read like the plain message."""
    lines: list[str] = []
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("{") and stripped.endswith("}"):
            try:
                value = json.loads(stripped)
            except ValueError:
                value = None
            if isinstance(value, dict):
                for message in _strings(value):
                    lines.extend(message.splitlines())
                continue
        lines.append(line)
    return [line for line in lines if line.strip()]


def _strings(value: Any, depth: int = 0) -> list[str]:
    if depth > 4:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        out: list[str] = []
        for key in ("result", "message", "error", "status", "text", "msg"):
            if key in value:
                out += _strings(value[key], depth + 1)
        return out
    if isinstance(value, list):
        return [s for item in value[:20] for s in _strings(item, depth + 1)]
    return []


def _reason(line: str, start: int) -> str:
    """The agent's words from `start`, one line of at most REASON_CHARS. A JSON body in it (an
    API error's) is never cut in the middle: it gives way to the messages it carries."""
    text = line[start:].strip() if start < len(line) else line.strip()
    text = text or line.strip()
    if len(text) <= REASON_CHARS:
        return text
    brace = text.find("{")
    if 0 <= brace < REASON_CHARS:
        try:
            value, _ = json.JSONDecoder().raw_decode(text, brace)
        except ValueError:
            value = None
        words = " ".join(s for s in _strings(value) if s.strip()) if isinstance(value, dict) else ""
        text = f"{text[:brace].rstrip()} {words}".strip() if words else text[:brace].rstrip() or text
    if len(text) <= REASON_CHARS:
        return text
    cut = text[:REASON_CHARS - 1]
    brace = cut.find("{")
    if brace > 0:  # a JSON body that would not parse or fit: leave it out rather than cut it
        cut = cut[:brace].rstrip()
    return cut + "…"


def _rate_limit_infos(text: str) -> Iterator[dict[str, Any]]:
    """What each claude `rate_limit_event` line says of the limit (its rate_limit_info), the latest first."""
    for line in reversed(text.splitlines()):
        if "rate_limit_event" not in line:
            continue
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if isinstance(event, dict) and event.get("type") == "rate_limit_event":
            yield event["rate_limit_info"] if isinstance(event.get("rate_limit_info"), dict) else event


def _rate_limit_event(text: str) -> UsageLimit | None:
    """The last claude `rate_limit_event`, when its status is rejected."""
    info = next(_rate_limit_infos(text), None)
    if info is None or str(info.get("status", "")).lower() != "rejected":
        return None  # the latest word on the limit says it is fine
    resets = info.get("resetsAt", info.get("resets_at"))
    at = _from_epoch(int(resets)) if isinstance(resets, (int, float)) and not isinstance(resets, bool) else None
    kind = info.get("rateLimitType") or "usage"
    return UsageLimit("usage_limit", f"rate_limit_event rejected ({kind})", at)


def _latest_event_reset(text: str) -> datetime | None:
    """resetsAt of the latest claude `rate_limit_event`, whatever its status."""
    for info in _rate_limit_infos(text):
        resets = info.get("resetsAt", info.get("resets_at"))
        if isinstance(resets, (int, float)) and not isinstance(resets, bool) and resets > 0:
            return _from_epoch(int(resets))
    return None


def _from_epoch(value: int) -> datetime:
    return datetime.fromtimestamp(value / 1000 if value > 10**11 else value, timezone.utc)


def _reset_in_line(rest: str, now: datetime) -> datetime | None:
    """The reset moment named after a limit message: "resets 3pm (Zone)", "try again in 2 hours"."""
    if m := _RESET_AT.search(rest):
        return _moment(rest[m.end():], now)
    if m := _RESET_IN.search(rest):
        span = _span(m.group("span"))
        return now + span if span else None
    return None


def _moment(text: str, now: datetime) -> datetime | None:
    """The next moment a wall-clock phrase at the start of `text` names."""
    m = _WHEN.match(text)
    if not m:
        return None
    zone: tzinfo = now.tzinfo or timezone.utc
    if m.group("zone"):
        try:
            zone = ZoneInfo(m.group("zone"))
        except (ZoneInfoNotFoundError, ValueError):
            pass
    hour = int(m.group("hour"))
    minute = int(m.group("minute") or 0)
    if not 1 <= hour <= 12 or minute > 59:
        return None
    hour = hour % 12 + (12 if m.group("ampm").lower() == "p" else 0)
    local_now = now.astimezone(zone)
    if m.group("month"):
        month = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"].index(
            m.group("month")[:3].lower()) + 1
        year = int(m.group("year") or local_now.year)
        try:
            candidate = datetime(year, month, int(m.group("day")), hour, minute, tzinfo=zone)
        except ValueError:
            return None
        if not m.group("year") and candidate < local_now - timedelta(days=1):  # "Jan 2" read in late December
            candidate = candidate.replace(year=year + 1)
        return candidate.astimezone(timezone.utc)
    candidate = datetime(local_now.year, local_now.month, local_now.day, hour, minute, tzinfo=zone)
    if candidate <= local_now:  # a time already past today means tomorrow
        candidate = datetime.combine(candidate.date() + timedelta(days=1), candidate.timetz())
    return candidate.astimezone(timezone.utc)


def _span(text: str) -> timedelta | None:
    total = timedelta()
    for amount, unit in _SPAN_PART.findall(text):
        unit = unit.lower()
        key = ("days" if unit.startswith("d") else "hours" if unit.startswith("h")
               else "minutes" if unit.startswith("m") else "seconds")
        total += timedelta(**{key: float(amount)})
    return total or None


def _google_reset(text: str, now: datetime) -> datetime | None:
    """When a gemini quota frees up: the retry delay it names, else midnight Pacific for a daily
    quota, else unknown."""
    if m := _RETRY_DELAY.search(text):
        seconds = float(m.group(1)) / (1000 if m.group(2).lower() == "ms" else 1)
        return now + timedelta(seconds=seconds)
    if re.search(r"daily|per ?day|PerDay", text, re.I):
        pacific = now.astimezone(ZoneInfo(GOOGLE_QUOTA_ZONE))
        midnight = datetime.combine(pacific.date() + timedelta(days=1), datetime.min.time(), ZoneInfo(GOOGLE_QUOTA_ZONE))
        return midnight.astimezone(timezone.utc)
    return None
