"""One JSON convention for everything newsdesk writes: UTF-8 text, ISO 8601 datetimes."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any


def json_default(value: Any) -> Any:
    """datetimes and dates as ISO 8601; anything else (ObjectId, Path) as its string."""
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return str(value)


def dumps(obj: Any, *, indent: int | None = None) -> str:
    return json.dumps(obj, ensure_ascii=False, indent=indent, default=json_default)


def dumps_line(obj: Any) -> str:
    """One JSONL line (with its newline)."""
    return json.dumps(obj, ensure_ascii=False, default=json_default) + "\n"
