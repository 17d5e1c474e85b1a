"""One JSON convention for everything newsdesk writes: UTF-8 text, ISO 8601 datetimes in Korea
time with their offset (2024-05-31T18:00:00+09:00), whatever the output: `--json` of every
command, exports, stats files, dead letters. Stored datetimes are UTC (a naive one is taken as
UTC); the instant is the same, only the offset people and scripts read differs. The dashboard's
API models (crawler.web.models.kst) follow the same convention."""

from __future__ import annotations

import base64
import json
from datetime import date, datetime, timezone
from typing import Any

from crawler.text.dates import KST


BYTES_PREFIX = "base64:"


def kst_iso(value: datetime) -> str:
    """A datetime as ISO 8601 in Korea time with its offset; a naive one is taken as UTC."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(KST).isoformat()


def json_default(value: Any) -> Any:
    """datetimes as ISO 8601 in Korea time (kst_iso), dates as ISO 8601, bytes as
    `base64:...` (read back by decode_bytes); anything else (ObjectId, Path) as its string."""
    if isinstance(value, datetime):
        return kst_iso(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (bytes, bytearray, memoryview)):
        return BYTES_PREFIX + base64.b64encode(bytes(value)).decode("ascii")
    return str(value)


def decode_bytes(value: Any) -> Any:
    """The bytes json_default wrote, or `value` unchanged."""
    if isinstance(value, str) and value.startswith(BYTES_PREFIX):
        return base64.b64decode(value[len(BYTES_PREFIX):])
    return value


def dumps(obj: Any, *, indent: int | None = None) -> str:
    return json.dumps(obj, ensure_ascii=False, indent=indent, default=json_default)


def dumps_line(obj: Any) -> str:
    """One JSONL line (with its newline)."""
    return json.dumps(obj, ensure_ascii=False, default=json_default) + "\n"
