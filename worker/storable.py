"""Making what an agent printed storable in PostgreSQL: the one place that does it.

PostgreSQL refuses two things an agent can print: the NUL character (a `text` value cannot hold
byte 0x00, and `jsonb` refuses the escape `\\u0000`) and unpaired UTF-16 surrogates (`\\ud800`
in a JSON string, which Python's json module reads into a str that cannot even be encoded as
UTF-8). Either made a report fail and the attempt's outcome (result, cost, tokens, tail, log
path) was lost. Every text and jsonb value that comes from an agent goes through `storable`
before it is sent:

- NUL becomes U+2400 SYMBOL FOR NUL (`␀`): visible, one character, so offsets barely move;
- an unpaired surrogate becomes U+FFFD REPLACEMENT CHARACTER (`�`), as a UTF-8 decoder would.

Dictionary keys are cleaned like values. The log file on disk keeps the agent's bytes as printed.

Error text (and a pause reason) also loses ANSI escape sequences (`plain_text`): colours and cursor
moves an agent printed for a terminal are noise in `pgswarm show` and the dashboard.
"""
from __future__ import annotations

import re
from typing import TypeVar

NUL_STAND_IN = "\u2400"
SURROGATE_STAND_IN = "\ufffd"
_SURROGATE = re.compile("[\ud800-\udfff]")
# CSI (ESC [ ... final byte), OSC (ESC ] ... BEL or ESC \), and two-byte escapes.
_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]|\x9b[0-?]*[ -/]*[@-~]")

T = TypeVar("T")


def storable_text(text: str) -> str:
    """The text with NUL and unpaired surrogates replaced (see the module's docstring)."""
    if "\x00" in text:
        text = text.replace("\x00", NUL_STAND_IN)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        # Paired surrogates (from json.loads of "\\ud83d\\ude00") join into one character first.
        text = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
        text = _SURROGATE.sub(SURROGATE_STAND_IN, text)
    return text


def plain_text(text: str) -> str:
    """Storable text without ANSI escape sequences (for error text and reasons)."""
    return _ANSI.sub("", storable_text(text))


def storable(value: T) -> T:
    """A str, or a JSON-like value (dicts, lists, strings, numbers), made storable throughout."""
    if isinstance(value, str):
        return storable_text(value)  # type: ignore[return-value]
    if isinstance(value, dict):
        return {storable(k) if isinstance(k, str) else k: storable(v) for k, v in value.items()}  # type: ignore
    if isinstance(value, (list, tuple)):
        return [storable(v) for v in value]  # type: ignore[return-value]
    return value
