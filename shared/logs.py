"""What MTD Guard logs, and what it never logs: third-party loggers kept quiet, credentials in URLs
redacted from every record and every answer.

Alert channel URLs are credentials: a Teams Workflows URL carries its signature in ``sig=``, a
generic webhook URL may carry ``user:password@`` and ``?token=``. httpx logs every request's full
URL at INFO, urllib3 the path and query at DEBUG, and the Azure SDK's HTTP logging policy every
request at INFO, so ``quiet()`` (called once by function_app.py at start) does two things:

- sets those libraries' loggers to WARNING, so a request is no longer a log line;
- installs a log record factory that redacts user info and query values in every record's message,
  so an operator who turns a library back to DEBUG still sees no credential.

Stdlib only: shared/setting_spec.py uses ``redact_url`` in its problems without loading a library.
"""

from __future__ import annotations

import logging
import re
from typing import Any
from urllib.parse import SplitResult, urlsplit

# The libraries that log requests (URLs, sometimes headers) at INFO or DEBUG.
NOISY_LOGGERS = (
    "httpx",
    "httpcore",
    "hpack",
    "urllib3",
    "msal",
    "azure",
    "azure.core.pipeline.policies.http_logging_policy",
    "azure.identity",
    "kiota_http",
)
QUIET_LEVEL = logging.WARNING
MASK = "***"

# ``scheme://user:password@`` and ``?name=value&name=value``: what a credential looks like in text.
_USER_INFO = re.compile(r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.-]*://)[^\s/?#@'\"<>]*@")
_QUERY_VALUE = re.compile(r"(?P<name>[?&][^=\s&#'\"<>]+=)[^&\s#'\"<>]+")


def redact(text: str) -> str:
    """``text`` with every URL user info (``user:password@``) and every query value replaced by
    ``***``; the scheme, host, path and query parameter names stay, so a line is still useful."""
    if "@" not in text and "=" not in text:
        return text  # the common case: nothing a credential could hide in
    text = _USER_INFO.sub(lambda m: m["scheme"] + MASK + "@", text)
    return _QUERY_VALUE.sub(lambda m: m["name"] + MASK, text)


def redact_url(url: str) -> str:
    """One URL as it may be shown: ``https://***@host/path?sig=***`` (user info and query values
    redacted, fragment dropped). Text that is not a URL with a host is shown with its query values
    redacted, or as ``***`` alone when it holds an ``@`` (``user:pw@host`` without ``//`` reads as
    a scheme and a path, and would show the password)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        host = f"[{host}]" if ":" in host else host  # IPv6
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        parts = None
    if parts is None or not parts.netloc:
        return MASK if "@" in url else redact(url)
    netloc = (MASK + "@" if "@" in parts.netloc else "") + host + port
    query = "&".join(
        f"{pair.split('=', 1)[0]}={MASK}" if "=" in pair else pair for pair in parts.query.split("&") if pair
    )
    return SplitResult(parts.scheme, netloc, parts.path, query, "").geturl()


def quiet(level: int = QUIET_LEVEL) -> None:
    """Set the request-logging libraries' loggers to ``level`` (WARNING) and redact credentials from
    every log record from now on. Idempotent: call it once at start (function_app.py)."""
    for name in NOISY_LOGGERS:
        logging.getLogger(name).setLevel(level)
    current = logging.getLogRecordFactory()
    if getattr(current, "redacts", False):
        return
    logging.setLogRecordFactory(_redacting(current))


def _redacting(make: Any) -> Any:
    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record: logging.LogRecord = make(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # a bad format string is the logging module's to report, not ours
            return record
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        return record

    factory.redacts = True  # type: ignore[attr-defined]
    return factory
