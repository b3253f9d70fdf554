"""Logging set-up: one format, and no secret ever reaches a log line.

slack_sdk already redacts the Authorization header; `SecretFilter` is the second line of
defence for everything else (an exception message quoting a token, a URL with a token in it):
every known secret value, and anything shaped like a Slack token, becomes `[redacted]`.
"""

from __future__ import annotations

import logging
import re

TOKEN_RE = re.compile(r"\b(?:xox[abposr]|xapp)-[A-Za-z0-9-]+")
REDACTED = "[redacted]"


class SecretFilter(logging.Filter):
    def __init__(self, secrets: list[str] | None = None):
        super().__init__()
        self.secrets = [s for s in (secrets or []) if len(s) >= 6]

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        return TOKEN_RE.sub(REDACTED, text)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = self.redact(message)
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if cleaned != message or record.args:
            record.msg, record.args = cleaned, None
        return True


def install_secret_filter(secrets: list[str]) -> SecretFilter:
    """Attach the filter to every handler of the root logger (and future records through it)."""
    secret_filter = SecretFilter(secrets)
    root = logging.getLogger()
    for handler in root.handlers:
        handler.addFilter(secret_filter)
    return secret_filter
