"""The DSN resolution rule's environment part, and password redaction for messages.

The rule (SPEC §2): `--dsn`, else PGSWARM_DSN, else DATABASE_URL, else the embedded default.
The embedded server is started by `pgswarm.client.dsn`; the worker package only knows the first
three steps, so it never imports the client or the CLI.
"""
from __future__ import annotations

import os
import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

ENV_VARS = ("PGSWARM_DSN", "DATABASE_URL")


def dsn_from_environment(flag: str | None = None) -> str | None:
    """The DSN from the flag, PGSWARM_DSN or DATABASE_URL (first non-empty), or None."""
    if flag:
        return flag
    for name in ENV_VARS:
        value = os.environ.get(name, "").strip()
        if value:
            return value
    return None


_KEYWORD_PASSWORD = re.compile(r"(\bpassword\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)", re.I)


def redact_dsn(dsn: str) -> str:
    """The DSN with its password replaced by ***, in URL or key=value form."""
    if "://" not in dsn:
        return _KEYWORD_PASSWORD.sub(r"\1***", dsn)
    try:
        parts = urlsplit(dsn)
    except ValueError:
        return re.sub(r"//([^:/@]*):[^@]*@", r"//\1:***@", dsn)
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, hosts = netloc.rsplit("@", 1)
        user, _, password = userinfo.partition(":")
        netloc = f"{user}:***@{hosts}" if password else f"{user}@{hosts}"
    query = parts.query
    if query and re.search(r"(^|&)password=", query, re.I):
        pairs = [(k, "***" if k.lower() == "password" else v) for k, v in parse_qsl(query, keep_blank_values=True)]
        query = urlencode(pairs, safe="/*:,")
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))
