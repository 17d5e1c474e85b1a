"""The newest N documents of a time range, paged with a keyset cursor, never with skip.

SecantusDB (the embedded default) answers a read from an index only when it is bounded by an
indexed equality or range, and scans the collection for anything else; within a range its cost
follows the documents in the range. So "the newest N" is never one sort over a wide window
here: `newest()` reads backwards from the upper end in slices of the indexed time field that
double in width (1 h, 1 h, 2 h, 4 h, ...) and stops as soon as it has N, so a page costs about
the documents it shows, however wide the window the caller allows. The next page starts at a
`Cursor`: the last shown document's (time, _id), ties broken by _id.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from bson import ObjectId
from pymongo import DESCENDING
from pymongo.collection import Collection

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
FIRST_WINDOW = timedelta(hours=1)  # about a page of articles for a busy day; an empty slice is cheap


class CursorError(ValueError):
    """A `before` cursor that this dashboard did not write."""


@dataclass(frozen=True)
class Cursor:
    """Where the previous page ended: its last item's time and _id (ties broken by _id)."""

    at: datetime
    id: Any

    def encode(self) -> str:
        return f"{(self.at - EPOCH) // timedelta(milliseconds=1)}.{self.id}"

    @classmethod
    def decode(cls, text: str, *, object_id: bool) -> "Cursor":
        millis, _, ident = text.partition(".")
        if not millis.isdigit() or not ident or len(millis) > 15:
            raise CursorError(f"before {text!r}: expected the `next` value of a previous page")
        at = EPOCH + timedelta(milliseconds=int(millis))  # exact: BSON dates are whole milliseconds
        if object_id:
            if not ObjectId.is_valid(ident):
                raise CursorError(f"before {text!r}: expected the `next` value of a previous page")
            return cls(at, ObjectId(ident))
        return cls(at, ident)


def newest(
    collection: Collection[Any],
    field: str,
    *,
    floor: datetime,
    ceiling: datetime,
    limit: int,
    query: Mapping[str, Any] | None = None,
    projection: Mapping[str, Any] | None = None,
    cursor: Cursor | None = None,
) -> tuple[list[dict[str, Any]], Cursor | None]:
    """Up to `limit` documents with floor <= `field` < ceiling (and `query`), newest first,
    and the cursor of the next page (None when there is none).

    Reads backwards from the ceiling (or the cursor) in slices that double in width, each a
    range on the indexed `field`, so the cost follows what is shown rather than the window.
    `query` keys come first in the filter: an equality on an index prefix (outlet) is what
    SecantusDB should ride.
    """
    query = dict(query or {})
    want = limit + 1  # one more than shown tells whether a next page exists
    found: list[dict[str, Any]] = []
    high = ceiling
    if cursor is not None:
        at = cursor.at
        if floor <= at < ceiling:
            ties = collection.find({**query, field: at, "_id": {"$lt": cursor.id}}, projection)
            found.extend(sorted(ties, key=lambda d: d["_id"], reverse=True)[:want])
        high = min(ceiling, at)
    window = FIRST_WINDOW
    while len(found) < want and high > floor:
        low = max(floor, high - window)
        slice_query = {**query, field: {"$gte": low, "$lt": high}}
        cursor_ = collection.find(slice_query, projection).sort([(field, DESCENDING), ("_id", DESCENDING)])
        found.extend(cursor_.limit(want - len(found)))
        high = low
        window *= 2
    more = len(found) > limit
    found = found[:limit]
    if not more or not found:
        return found, None
    last = found[-1]
    return found, Cursor(last[field], last["_id"])
