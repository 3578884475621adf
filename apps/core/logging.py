from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime
from typing import Any

from apps.core.context import current

_STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}

# --- the one scrubber ----------------------------------------------------------------------------
# Every log line passes it: the JSON lines on stdout (`JsonLineFormatter`), the rows of the log
# store (`apps.devtools.services`), and the servers' own lines (gunicorn's access and error logs
# through `redacting_filter`, see deploy/gunicorn.conf.py; Daphne's `django.channels.server` lines
# reach the root handlers). It redacts, in free text:
# - a JWT anywhere (three base64url segments starting `eyJ`);
# - `Bearer …` / `Basic …` credentials;
# - the value after a name that contains password, passwd, passphrase, token, secret,
#   authorization, api key, cookie, signature or credential (`newPassword=…`, `"password": "…"`,
#   `'refresh_token': '…'`, `Authorization: Basic …`, `signature=…`), or is exactly `pin`, with `=`
#   or `:` as separator;
# - the value of a query-string or form parameter named exactly key, code, access, refresh, otp or
#   sig (`?code=123456`, `&key=…`): only as a whole name (`barcode=…`, `postcode=…` stay) and only
#   with `=` (`"code": "VALIDATION_ERROR"` stays).
# In structured extras, the whole value of a key that is such a name (but not `code`) is redacted
# and strings are scrubbed at every depth. One precompiled pattern, one pass over each text.
REDACTED = "[REDACTED]"
_SECRET_WORDS = (
    r"password|passwd|passphrase|token|secret|authorization|api[_-]?key|cookie|signature|credential"
)
_WHOLE_PARAMS = r"key|code|access|refresh|otp|sig"
_SECRET_NAME = re.compile(rf"(?i)[\w-]*(?:{_SECRET_WORDS})[\w-]*|pin|key|access|refresh|otp|sig")
_SCRUB = re.compile(
    rf"""(?ix)
      (?P<jwt>\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*)
    | (?P<scheme>\b(?:bearer|basic)\s+)[A-Za-z0-9._~+/=-]{{8,}}
    | (?P<pair>(?<![\w-])["']?(?:[\w-]*(?:{_SECRET_WORDS})[\w-]*|pin)["']?\s*[:=]\s*)
      (?:"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'
        |(?:(?:bearer|basic|digest|token)\s+)?[^\s,;&"'<>()\[\]{{}}\#]+)
    | (?P<param>(?<![\w-])(?:{_WHOLE_PARAMS})=)[^\s,;&"'<>()\[\]{{}}\#]+
    """
)


# Every match contains one of these (lowercased): a line without any (most request lines) is
# returned after a few substring tests, without running the pattern.
_HINTS = (
    "eyj",
    "bearer",
    "basic",
    "pass",
    "token",
    "secret",
    "authori",
    "key",
    "cookie",
    "sig",
    "credential",
    "pin",
    "code",
    "access",
    "refresh",
    "otp",
)


def _replacement(match: re.Match[str]) -> str:
    kept = match.group("scheme") or match.group("pair") or match.group("param") or ""
    return kept + REDACTED


def text_redacted(text: str) -> str:
    """`text` with credential-looking values replaced by `[REDACTED]` (see above)."""
    if not text:
        return text
    lowered = text.lower()
    if not any(hint in lowered for hint in _HINTS):
        return text
    return _SCRUB.sub(_replacement, text)


def value_redacted(value: Any) -> Any:
    """`value` with its strings redacted at every depth, and the whole value of a dict key that
    names a secret (`Authorization`, `apiKey`, `pin`, …) replaced."""
    if isinstance(value, str):
        return text_redacted(value)
    if isinstance(value, dict):
        return {
            key: REDACTED if _SECRET_NAME.fullmatch(str(key)) else value_redacted(item)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [value_redacted(item) for item in value]
    return value


class RedactingFilter(logging.Filter):
    """Scrubs a record in place for handlers that format it themselves (gunicorn's): the message
    is formatted with its arguments, then redacted (`record.args` emptied), and the exception text
    is formatted and redacted into `record.exc_text`, which `logging.Formatter` prints as is."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        record.msg, record.args = text_redacted(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = text_redacted(record.exc_text)
        return True


redacting_filter = RedactingFilter()


class JsonLineFormatter(logging.Formatter):
    """One JSON object per line, carrying the request id, tenant and user of the current request;
    message, extras and exception text scrubbed (`text_redacted`)."""

    def format(self, record: logging.LogRecord) -> str:
        ctx = current()
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": text_redacted(record.getMessage()),
            "requestId": ctx.request_id or None,
            "tenant": ctx.tenant,
            "user": ctx.user_id,
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_") and key not in entry:
                if _SECRET_NAME.fullmatch(key):
                    entry[key] = REDACTED
                elif isinstance(value, str):
                    entry[key] = text_redacted(value)
                elif isinstance(value, (int, float, bool, type(None))):
                    entry[key] = value
                elif isinstance(value, dict | list | tuple):
                    entry[key] = str(value_redacted(value))
                else:
                    entry[key] = text_redacted(str(value))
        if record.exc_info:
            entry["exception"] = text_redacted(self.formatException(record.exc_info))
        return json.dumps(entry, default=str)
