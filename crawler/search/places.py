"""Places of stored articles: tagging one document, and the backfill behind `newsdesk places`.

The tagging is crawler.text.places over the article's dateline, title and lead, with the
outlet's home region (crawler.outlets) as the marked fallback; the places pipeline stores it
for every new article. Articles stored before, or by an older table or rules
(`places_version` below crawler.text.places.VERSION), get theirs from reindex_places: a walk
over `articles` in `_id` order in batches, each written in one bulk write. It is idempotent
(an article already at VERSION is left alone unless forced) and so resumable: an interrupted
walk started again skips what it finished.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from crawler.outlets import registry
from crawler.store import Database
from crawler.store.articles import ArticleStore
from crawler.text.places import VERSION, fields, tag

SOURCE_FIELDS = ("title", "subtitle", "body", "region", "outlet", "places_version")
BATCH = 500


def home_region(outlet: str | None) -> str | None:
    """The outlet's home region as its spec writes it (대전, 충북); None for an unknown outlet."""
    spec = registry().get(outlet or "")
    return spec.region if spec is not None else None


def places_for(doc: Any) -> dict[str, Any]:
    """`places`, `sido`, `sigungu` and `places_version` for an article (a mapping of its fields)."""
    found = tag(doc.get("title") or "", doc.get("body") or "", subtitle=doc.get("subtitle"),
                region=doc.get("region"), home=home_region(doc.get("outlet")))
    return fields(found)


@dataclass
class ReindexResult:
    seen: int = 0
    tagged: int = 0  # written in this run
    skipped: int = 0  # already at VERSION


def reindex_places(db: Database[Any], *, force: bool = False, batch: int = BATCH,
                   progress: Callable[[int], None] | None = None) -> ReindexResult:
    """Give every stored article its places (see the module docstring); `progress(n)` after
    each batch of n articles read."""
    store = ArticleStore(db, search=False)
    result = ReindexResult()
    after = None
    while True:
        docs = store.scan(after, batch, SOURCE_FIELDS)
        if not docs:
            break
        after = docs[-1]["_id"]
        updates = []
        for doc in docs:
            if not force and doc.get("places_version") == VERSION:
                result.skipped += 1
                continue
            updates.append((doc["_id"], places_for(doc)))
        result.tagged += store.set_fields(updates)
        result.seen += len(docs)
        if progress is not None:
            progress(len(docs))
    return result
