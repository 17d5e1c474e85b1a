"""Story merges: when two story ids turn out to be one story, the record of it and its effect.

Each crawl process assigns story ids from its own story index, so copies of one story crawled
at the same moment by different processes (scheduled subprocesses, scrapyd, Redis workers)
can get different ids. The processes reconcile what they learn of each other's articles
(crawler/dedup/index.py, StoryIndex.reconcile) and record a merge here for each pair of ids
that are one story. A merge is `{_id: the id that goes, into: the id that stays, at, reason,
similarity, url, closest_url, by}`:

- Its direction is fixed, the larger id (as a string) into the smaller, so two processes
  that find the same pair at once record the same merge, and chains of merges always end
  (`resolve` follows them).
- The record is written before the articles are updated, so a process killed in between
  leaves a merge that the next `apply_since` (every crawl's end, the scheduler's upkeep)
  carries out. Applying is idempotent: it only sets `story_id` on the copies that still have
  the old one; each copy's `story_similarity` and `story_closest` stay as they were.
- `newsdesk story OLD_ID`, the API and the dashboard resolve an old id to the one it went into.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Iterable, Iterator

from pymongo import ASCENDING, IndexModel
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

MERGES = "story_merges"
MAX_CHAIN = 64  # merges followed from one id at most (a chain only ever goes to smaller ids)


def merge_direction(a: str, b: str) -> tuple[str, str]:
    """(the id that goes, the id that stays) for two ids of one story: every process agrees."""
    return (a, b) if a > b else (b, a)


@dataclass(frozen=True)
class StoryMerge:
    """Two story ids found to be one story: `gone` is merged into `into`."""

    gone: str
    into: str
    reason: str
    similarity: float | None = None
    url: str | None = None  # the copy whose comparison found it
    closest_url: str | None = None  # the copy it was found to match

    def document(self, at: datetime, by: str) -> dict[str, Any]:
        return {"_id": self.gone, "into": self.into, "at": at, "reason": self.reason,
                "similarity": self.similarity, "url": self.url, "closest_url": self.closest_url, "by": by}


@dataclass
class MergeOutcome:
    recorded: int = 0  # merges this call recorded (others may have recorded the same before)
    articles: int = 0  # articles whose story_id changed


class StoryMergeStore:
    """The `story_merges` collection and the merges' effect on `articles`."""

    def __init__(self, db: Database[Any], *, owner: str | None = None) -> None:
        self.db = db
        self.merges = db[MERGES]
        self.articles = db["articles"]
        self.owner = owner or f"{socket.gethostname()}"

    def ensure_indexes(self) -> list[str]:
        return self.merges.create_indexes([IndexModel([("at", ASCENDING)]), IndexModel([("into", ASCENDING)])])

    # -- reads ------------------------------------------------------------------------------

    def resolve(self, story_id: str) -> str:
        """The id `story_id` ended up as (itself when it was never merged)."""
        current = story_id
        for _ in range(MAX_CHAIN):
            doc = self.merges.find_one({"_id": current}, {"into": 1})
            if doc is None or not doc.get("into") or doc["into"] >= current:
                return current
            current = doc["into"]
        return current

    def merged_into_it(self, story_id: str) -> list[dict[str, Any]]:
        """The merges that went into `story_id` (directly), oldest first."""
        return sorted(self.merges.find({"into": story_id}), key=lambda d: (d.get("at") or datetime.min, d["_id"]))

    def merged_ids(self, story_id: str) -> list[str]:
        """Every id that went into `story_id`, directly or through other merges, oldest first."""
        found: list[str] = []
        queue = [story_id]
        while queue and len(found) < 1000:
            for doc in self.merged_into_it(queue.pop(0)):
                found.append(doc["_id"])
                queue.append(doc["_id"])
        return found

    def merge_of(self, story_id: str) -> dict[str, Any] | None:
        """The merge that took `story_id` away, if any."""
        return self.merges.find_one({"_id": story_id})

    def since(self, when: datetime) -> list[dict[str, Any]]:
        """Merges recorded at or after `when` (indexed on `at`), oldest first."""
        return sorted(self.merges.find({"at": {"$gte": when}}), key=lambda d: (d.get("at") or when, d["_id"]))

    # -- writes -----------------------------------------------------------------------------

    def record(self, merges: Iterable[StoryMerge], *, now: datetime | None = None) -> MergeOutcome:
        """Record each merge, then move every copy of its old id to the surviving id.

        A merge already recorded by another process with another target means three ids are
        one story: the two targets are merged too, in the same fixed direction."""
        outcome = MergeOutcome()
        now = now or datetime.now(timezone.utc)
        pending = list(merges)
        while pending:
            merge = pending.pop(0)
            gone, into = self.resolve(merge.gone), self.resolve(merge.into)
            if gone == into:
                continue
            gone, into = merge_direction(gone, into)
            doc = StoryMerge(gone, into, merge.reason, merge.similarity, merge.url, merge.closest_url)
            try:
                self.merges.insert_one(doc.document(now, self.owner))
                outcome.recorded += 1
            except DuplicateKeyError:  # recorded meanwhile by another process: follow its target
                pending.append(StoryMerge(self.resolve(gone), into, merge.reason, merge.similarity, merge.url,
                                          merge.closest_url))
                continue
            outcome.articles += self.apply(gone)
        return outcome

    def apply(self, gone: str) -> int:
        """Move the copies still under `gone` to the id it resolves to; returns how many."""
        into = self.resolve(gone)
        if into == gone:
            return 0
        return self.articles.update_many({"story_id": gone}, {"$set": {"story_id": into}}).modified_count

    def apply_since(self, when: datetime) -> int:
        """Carry out again every merge recorded since `when`: copies written under an old id
        after its merge (a batch in flight), or a merge whose process died before applying it."""
        return sum(self.apply(doc["_id"]) for doc in self.since(when))

    def iter_all(self) -> Iterator[dict[str, Any]]:
        yield from self.merges.find({})
