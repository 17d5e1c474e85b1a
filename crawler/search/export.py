"""Export articles as JSONL, CSV or Parquet: streamed, so memory stays flat at any size.

Rows come from one cursor in batches and are written as they arrive (Parquet in row
groups of ROW_GROUP rows). Datetimes are Asia/Seoul: ISO 8601 with +09:00 in JSONL and
CSV, timezone-aware timestamps in Parquet. `print_edition` (where the article ran in the paper,
{date, page}) is an object in JSONL, a struct in Parquet and two columns in CSV
(print_edition_date, print_edition_page). CSV can start with a UTF-8 byte-order mark,
which is what makes Excel read Korean text as UTF-8 instead of the local code page.
The cursor is opened here (the search filters' query, sorted by `published`) rather than in
crawler.store because its batching is the export's streaming; the database type and sort
order come from crawler.store, not the driver.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Protocol

from crawler.jsonformat import dumps_line
from crawler.search.engine import iter_matches, search
from crawler.search.filters import Filters
from crawler.store import ASCENDING, Database
from crawler.text.dates import KST

FORMATS = ("jsonl", "csv", "parquet")
FIELDS = ("canonical_url", "url", "outlet", "title", "subtitle", "sections", "published", "modified", "first_seen",
          "last_seen", "authors", "region", "sido", "sigungu", "wire", "print_edition", "story_id", "revision", "body")
DATE_FIELDS = frozenset({"published", "modified", "first_seen", "last_seen"})
LIST_FIELDS = frozenset({"sections", "authors", "sido", "sigungu"})
CSV_COLUMNS = tuple(c for name in FIELDS for c in (
    ("print_edition_date", "print_edition_page") if name == "print_edition" else (name,)))
ROW_GROUP = 5000
BATCH = 500


class _Writer(Protocol):
    def write(self, row: dict[str, Any]) -> None: ...
    def close(self) -> None: ...


def iter_articles(db: Database[Any], filters: Filters, query: str | None = None) -> Iterator[dict[str, Any]]:
    """Matching articles, oldest published first, with FIELDS only (datetimes in KST). With
    `query`, the articles a search for it finds (crawler.search.engine.iter_matches)."""
    if query:
        docs: Iterator[dict[str, Any]] = iter_matches(db, query, filters, fields=FIELDS, oldest_first=True)
    else:
        projection = {"_id": 0, **{name: 1 for name in FIELDS}}
        docs = db.articles.find(filters.resolved(db).mongo(), projection, batch_size=BATCH).sort("published", ASCENDING)
    for doc in docs:
        row = {name: _kst(doc.get(name)) if name in DATE_FIELDS else doc.get(name) for name in FIELDS}
        row["print_edition"] = _print_edition(row["print_edition"])
        yield row


def _print_edition(value: Any) -> dict[str, Any] | None:
    """{date: "YYYY-MM-DD" or None, page: int or None} as stored, or None when it did not run in print."""
    if not isinstance(value, dict) or not (value.get("date") or value.get("page") is not None):
        return None
    day, page = value.get("date"), value.get("page")
    day = day.isoformat()[:10] if isinstance(day, datetime) else (str(day) if day else None)
    return {"date": day, "page": page if isinstance(page, int) and not isinstance(page, bool) else None}


def _kst(value: Any) -> datetime | None:
    if not isinstance(value, datetime):
        return None
    if value.tzinfo is None:  # BSON dates are UTC; a client without tz_aware gives them naive
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(KST)


class JsonlWriter:
    def __init__(self, path: Path) -> None:
        self.file = path.open("w", encoding="utf-8", newline="\n")

    def write(self, row: dict[str, Any]) -> None:
        self.file.write(dumps_line(row))

    def close(self) -> None:
        self.file.close()


class CsvWriter:
    """One row per article; lists joined with "; ", newlines inside fields kept (quoted);
    print_edition as two columns, print_edition_date and print_edition_page."""

    def __init__(self, path: Path, *, bom: bool) -> None:
        self.file = path.open("w", encoding="utf-8-sig" if bom else "utf-8", newline="")
        self.csv = csv.writer(self.file)
        self.csv.writerow(CSV_COLUMNS)

    def write(self, row: dict[str, Any]) -> None:
        printed = row.get("print_edition") or {}
        cells = {**row, "print_edition_date": printed.get("date"), "print_edition_page": printed.get("page")}
        self.csv.writerow([_cell(cells[name]) for name in CSV_COLUMNS])

    def close(self) -> None:
        self.file.close()


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return "; ".join(str(v) for v in value)
    return str(value)


class ParquetWriter:
    """Buffers ROW_GROUP rows, writes them as one row group: bounded memory, columnar file."""

    def __init__(self, path: Path) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        self.pa = pa
        text, texts, when = pa.string(), pa.list_(pa.string()), pa.timestamp("us", tz="Asia/Seoul")
        types = {name: (when if name in DATE_FIELDS else texts if name in LIST_FIELDS else text) for name in FIELDS}
        types["revision"] = pa.int64()
        types["print_edition"] = pa.struct([("date", pa.string()), ("page", pa.int64())])
        self.schema = pa.schema([(name, types[name]) for name in FIELDS])
        self.writer = pq.ParquetWriter(str(path), self.schema, compression="zstd")
        self.rows: list[dict[str, Any]] = []

    def write(self, row: dict[str, Any]) -> None:
        if row.get("revision") is not None:
            row["revision"] = int(row["revision"])
        self.rows.append(row)
        if len(self.rows) >= ROW_GROUP:
            self._flush()

    def _flush(self) -> None:
        if self.rows:
            self.writer.write_table(self.pa.Table.from_pylist(self.rows, schema=self.schema))
            self.rows = []

    def close(self) -> None:
        self._flush()
        self.writer.close()


def open_writer(fmt: str, path: Path, *, bom: bool = False) -> _Writer:
    """A writer for `fmt` (one of FORMATS) at `path`; ValueError for an unknown format."""
    if fmt == "jsonl":
        return JsonlWriter(path)
    if fmt == "csv":
        return CsvWriter(path, bom=bom)
    if fmt == "parquet":
        return ParquetWriter(path)
    raise ValueError(f"unknown export format {fmt!r}: expected one of {', '.join(FORMATS)}")


def export_articles(
    db: Database[Any],
    filters: Filters,
    fmt: str,
    path: Path,
    *,
    bom: bool = False,
    progress: Callable[[int], None] | None = None,
    query: str | None = None,
) -> int:
    """Write the matching articles (of `query` too, when given) to `path` in `fmt`; the number
    of rows written.

    The file is written under a temporary name and renamed at the end, so an interrupted
    export never leaves a truncated file that looks complete.
    """
    return export_limited(db, filters, fmt, path, bom=bom, progress=progress, query=query)[0]


def export_limited(
    db: Database[Any],
    filters: Filters,
    fmt: str,
    path: Path,
    *,
    bom: bool = False,
    progress: Callable[[int], None] | None = None,
    query: str | None = None,
    limit: int | None = None,
) -> tuple[int, bool]:
    """export_articles writing at most `limit` rows: (rows written, whether more matched)."""
    partial = path.with_name(path.name + ".partial")
    writer = open_writer(fmt, partial, bom=bom)
    rows = 0
    more = False
    try:
        for row in iter_articles(db, filters, query):
            if limit is not None and rows >= limit:
                more = True
                break
            writer.write(row)
            rows += 1
            if progress and rows % BATCH == 0:
                progress(rows)
    except BaseException:
        writer.close()
        partial.unlink(missing_ok=True)
        raise
    writer.close()
    partial.replace(path)
    if progress:
        progress(rows)
    return rows, more


def count_articles(db: Database[Any], filters: Filters, query: str | None = None) -> int:
    """How many articles an export will write (for the progress bar's total; for a `query`,
    the search's total, an estimate when it says so)."""
    if query:
        return search(db, query, filters, per_page=1, sort="newest").total
    query = filters.resolved(db).mongo()
    return db.articles.estimated_document_count() if not query else db.articles.count_documents(query)

