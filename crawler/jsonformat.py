"""One JSON convention for everything newsdesk writes: UTF-8 text, ISO 8601 datetimes."""

from __future__ import annotations

import base64
import json
from datetime import date, datetime
from typing import Any


BYTES_PREFIX = "base64:"


def json_default(value: Any) -> Any:
    """datetimes and dates as ISO 8601, bytes as `base64:...` (read back by decode_bytes);
    anything else (ObjectId, Path) as its string."""
    if isinstance(value, (datetime, date)):
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
