"""Dead letters: articles the database refused, kept as JSONL until they can be written.

The store pipeline writes them (one file per failed batch, fsynced); `newsdesk deadletter
replay` reads them back, restores datetimes, upserts them (idempotent: a replay twice, or of
articles stored meanwhile, doubles nothing) and moves each fully written file to replayed/.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from crawler.jsonformat import decode_bytes
from crawler.store.articles import ArticleStore
from crawler.text.dates import parse_iso_datetime

DATETIME_FIELDS = ("published", "modified", "deadlettered_at")


@dataclass
class ReplayResult:
    files: int = 0
    articles: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    failed_files: int = 0
    superseded: int = 0  # fetched again after they were dead-lettered: the newer copy stays


def pending_files(folder: Path) -> list[Path]:
    return sorted(path for path in folder.glob("*.jsonl") if path.is_file()) if folder.is_dir() else []


def load(path: Path) -> list[dict[str, Any]]:
    """Documents of one dead-letter file, datetimes restored; ValueError names a bad line."""
    docs = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            doc = json.loads(line)
        except ValueError as exc:
            raise ValueError(f"{path}:{number}: not JSON ({exc})") from exc
        for name in DATETIME_FIELDS:
            if isinstance(doc.get(name), str):
                doc[name] = parse_iso_datetime(doc[name])
        for name, value in list(doc.items()):
            doc[name] = decode_bytes(value)
        doc.pop("first_seen", None)
        doc.pop("last_seen", None)
        docs.append(doc)
    return docs


def _not_superseded(docs: list[dict[str, Any]], store: ArticleStore) -> tuple[list[dict[str, Any]], int]:
    """Drop documents whose article was stored again after they were dead-lettered."""
    states = store.known_states([d["canonical_url"] for d in docs if d.get("canonical_url")])
    keep: list[dict[str, Any]] = []
    for doc in docs:
        when = doc.pop("deadlettered_at", None)
        seen = (states.get(doc.get("canonical_url")) or {}).get("last_seen")
        if when is not None and seen is not None and seen > when:
            continue
        keep.append(doc)
    return keep, len(docs) - len(keep)


def replay(folder: Path, store: ArticleStore) -> ReplayResult:
    result = ReplayResult()
    done = folder / "replayed"
    for path in pending_files(folder):
        try:
            docs = load(path)
            docs, superseded = _not_superseded(docs, store)
            result.superseded += superseded
            written = store.upsert_many(docs) if docs else None
        except ValueError:
            result.failed_files += 1
            continue
        if written is not None and written.errors:
            result.failed_files += 1
            continue
        result.files += 1
        result.articles += len(docs)
        if written is not None:
            result.new += written.new
            result.updated += written.updated
            result.unchanged += written.unchanged
        done.mkdir(exist_ok=True)
        path.rename(done / path.name)
    return result
