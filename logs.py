"""structlog JSON lines for the worker and the dev stack; each event carries the case id it concerns.
PDW_LOG_FORMAT=console (or a terminal, by default) prints them for a person instead.

Every line is masked before it is written (``mask_secrets``): resident identity numbers, unified
social credit codes, mainland mobile numbers and e-mail addresses keep only enough to tell them
apart (3303**********6782, 139****9999, z***@example.com). The standard library's records (Temporal's
SDK, uvicorn, alembic) are masked the same way by the handler ``configure_logging`` installs."""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import MutableMapping
from datetime import UTC, datetime
from typing import Any

import structlog

from models.identity import USCC_ALPHABET, uscc_check

# Lookarounds, not \b: Chinese characters count as word characters, so "身份证330324…" has no \b.
_EDGE_L, _EDGE_R = r"(?<![0-9A-Za-z])", r"(?![0-9A-Za-z])"
# GB 11643: region, a plausible birth date, sequence, check digit. The check digit is not verified,
# so that a mistyped number is masked too.
_RESIDENT_ID = re.compile(
    _EDGE_L + r"[1-9][0-9]{5}(?:18|19|20)[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])[0-9]{3}[0-9Xx]" + _EDGE_R)
# GB 32100: only codes whose check character holds, so that other 18-character tokens stay readable.
_USCC = re.compile(_EDGE_L + r"[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}" + _EDGE_R, re.IGNORECASE)
_MOBILE = re.compile(_EDGE_L + r"(?:\+?86[- ]?)?1[3-9][0-9]{9}" + _EDGE_R)
# ASCII local parts only: "邮箱zhang@example.com" must still match from the "z".
_EMAIL = re.compile(r"(?<![A-Za-z0-9._%+-])([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)")


def _keep_ends(text: str) -> str:
    return text[:4] + "*" * (len(text) - 8) + text[-4:]


def _uscc(match: re.Match[str]) -> str:
    code = match.group(0)
    upper = code.upper()
    valid = all(c in USCC_ALPHABET for c in upper) and uscc_check(upper[:17]) == upper[17]
    return _keep_ends(code) if valid else code


def _mobile(match: re.Match[str]) -> str:
    number = match.group(0)
    return number[:-8] + "****" + number[-4:]


def mask_text(text: str) -> str:
    """``text`` with every identity number, credit code, mobile number and e-mail address masked."""
    if not any(c.isdigit() or c == "@" for c in text):  # the common case: nothing to look for
        return text
    text = _RESIDENT_ID.sub(lambda m: _keep_ends(m.group(0)), text)
    text = _USCC.sub(_uscc, text)
    text = _MOBILE.sub(_mobile, text)
    return _EMAIL.sub(lambda m: f"{m.group(1)}***@{m.group(2)}", text)


def mask_value(value: Any) -> Any:
    """A log field with its strings masked, however deeply nested in dicts, lists, tuples and sets."""
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, dict):
        return {mask_value(k): mask_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [mask_value(v) for v in value]
    if value is None or isinstance(value, bool | float):
        return value
    if isinstance(value, int):  # a phone or identity number kept as a number
        masked_int = mask_text(str(value))
        return masked_int if masked_int != str(value) else value
    # Anything else (an exception, a model) is rendered by its repr: mask that when it holds data.
    shown = repr(value)
    masked = mask_text(shown)
    return masked if masked != shown else value


def mask_secrets(_logger: Any, _method: str, event_dict: MutableMapping[str, Any]) -> dict[str, Any]:
    """The structlog processor: every field of the event, masked (mask_value)."""
    return {key: mask_value(value) for key, value in event_dict.items()}


class MaskingFormatter(logging.Formatter):
    """A stdlib formatter whose whole output (message, arguments, traceback) is masked; ``inner``,
    when given, is the formatter it wraps (a handler someone else installed keeps its format)."""

    def __init__(self, fmt: str = "%(message)s", inner: logging.Formatter | None = None) -> None:
        super().__init__(fmt)
        self.inner = inner

    def format(self, record: logging.LogRecord) -> str:
        return mask_text(self.inner.format(record) if self.inner else super().format(record))


class JsonLineFormatter(logging.Formatter):
    """A standard library record (Temporal's SDK, uvicorn) as one JSON line shaped like structlog's:
    the collector parses every line of the process the same way."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {"event": record.getMessage(), "logger": record.name,
                                "level": record.levelname.lower(),
                                "timestamp": datetime.fromtimestamp(record.created, UTC).isoformat()}
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def json_logs(fmt: str = "auto") -> bool:
    """PDW_LOG_FORMAT: JSON lines for a collector, or a person's console when stderr is a terminal."""
    return fmt == "json" or (fmt == "auto" and not sys.stderr.isatty())


def configure_logging(level: str = "INFO", fmt: str = "auto") -> None:
    as_json = json_logs(fmt)
    root = logging.getLogger()
    if not root.handlers:  # as logging.basicConfig: a host that set up logging keeps its handlers
        stream = logging.StreamHandler(sys.stderr)
        stream.setFormatter(MaskingFormatter(inner=JsonLineFormatter() if as_json else None))
        root.addHandler(stream)
    else:  # ... but what they write is masked all the same
        for handler in root.handlers:
            if not isinstance(handler.formatter, MaskingFormatter):
                handler.setFormatter(MaskingFormatter(inner=handler.formatter))
    root.setLevel(level.upper())
    logging.getLogger("alembic").setLevel(logging.WARNING)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            mask_secrets,  # last before rendering: context variables are masked too
            structlog.processors.JSONRenderer(ensure_ascii=False) if as_json else structlog.dev.ConsoleRenderer(),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )
