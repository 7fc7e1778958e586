"""The DSN resolution rule's environment part, and password redaction for messages.

The rule (SPEC §2): `--dsn`, else PGSWARM_DSN, else DATABASE_URL, else the embedded default.
The embedded server is started by `pgswarm.client.dsn`; the worker package only knows the first
three steps, so it never imports the client or the CLI.
"""
from __future__ import annotations

import os
import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from .errors import UsageError

ENV_VARS = ("PGSWARM_DSN", "DATABASE_URL")


def dsn_from_environment(flag: str | None = None) -> str | None:
    """The DSN from the flag, PGSWARM_DSN or DATABASE_URL (first non-empty), or None."""
    if flag:
        return check_scheme(flag, "--dsn")
    for name in ENV_VARS:
        value = os.environ.get(name, "").strip()
        if value:
            return check_scheme(value, name)
    return None


_URL_SCHEME = re.compile(r"^\s*([A-Za-z][A-Za-z0-9+.-]*)://")


def check_scheme(dsn: str, source: str) -> str:
    """The DSN, unless it is a URL of another database (mysql://...): libpq would call that a
    missing "=" in a key=value string."""
    match = _URL_SCHEME.match(dsn)
    if match and match.group(1).lower() not in ("postgresql", "postgres"):
        raise UsageError(f"{source}: a {match.group(1)}:// URL is not a PostgreSQL DSN; "
                         "give postgresql://user@host/dbname or 'host=... dbname=...'")
    return dsn


# A password in key=value form (quoted, or up to a space or a quote that closes an enclosing string),
# and in a URL's user info. The one definition of both for every message and log pgswarm writes.
_KEYWORD_PASSWORD = re.compile(r"(\bpassword\s*=\s*)('(?:[^'\\]|\\.)*'|[^\s\"]+)", re.I)
_URL_PASSWORD = re.compile(r"(\w+://[^:/@\s\"']*):[^@\s\"']*@")


def redact_dsn(dsn: str) -> str:
    """The DSN with its password replaced by ***, in URL or key=value form."""
    if "://" not in dsn:
        return _KEYWORD_PASSWORD.sub(r"\1***", dsn)
    try:
        parts = urlsplit(dsn)
    except ValueError:
        return _URL_PASSWORD.sub(r"\1:***@", dsn)
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


def scrub_passwords(text: str, dsn: str | None = None) -> str:
    """`text` (an error message, a log line) with every password hidden, the DSN's first (libpq may
    quote the whole DSN)."""
    if dsn:
        text = text.replace(dsn, redact_dsn(dsn))
    return _KEYWORD_PASSWORD.sub(r"\1***", _URL_PASSWORD.sub(r"\1:***@", text))
