"""Operators' schedule changes, kept apart from the outlet specs and the scheduler's jobs.

The schedule of an outlet is its spec (outlets.toml) unless an operator changed it with
`newsdesk schedule pause|resume|set`; those changes live here, one document per outlet in
``schedule_overrides``, so a restart or an upgrade that syncs jobs from the specs never
overwrites them, and a scheduler running elsewhere picks them up at its next sync. `run-now`
requests wait here too until one scheduler claims them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from pymongo.collection import Collection
from pymongo.database import Database

OVERRIDES = "schedule_overrides"
# APScheduler's MongoDB job store (crawler.scheduling.scheduler writes it through APScheduler):
# one job per outlet, `_id` "crawl:<outlet>", `next_run_time` a Unix timestamp (None: paused).
JOBS_COLLECTION = "scheduler_jobs"
JOB_PREFIX = "crawl:"


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class Override:
    outlet: str
    paused: bool = False
    every_seconds: int | None = None
    cron: str | None = None
    updated: datetime | None = None
    updated_by: str | None = None

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> "Override":
        return cls(
            outlet=doc["_id"],
            paused=bool(doc.get("paused", False)),
            every_seconds=doc.get("every_seconds"),
            cron=doc.get("cron"),
            updated=doc.get("updated"),
            updated_by=doc.get("updated_by"),
        )


class ScheduleStore:
    def __init__(self, db: Database[Any]) -> None:
        self.collection: Collection[Any] = db[OVERRIDES]
        self.jobs: Collection[Any] = db[JOBS_COLLECTION]

    def ensure_indexes(self) -> None:
        self.collection.create_index("run_now")

    def _set(self, outlet: str, fields: dict[str, Any], by: str, unset: tuple[str, ...] = ()) -> None:
        update: dict[str, Any] = {"$set": {**fields, "updated": utcnow(), "updated_by": by}}
        if unset:
            update["$unset"] = {name: "" for name in unset}
        self.collection.update_one({"_id": outlet}, update, upsert=True)

    def pause(self, outlet: str, *, by: str) -> None:
        self._set(outlet, {"paused": True}, by)

    def resume(self, outlet: str, *, by: str) -> None:
        self._set(outlet, {"paused": False}, by)

    def set_interval(self, outlet: str, seconds: int, *, by: str) -> None:
        if seconds < 1:
            raise ValueError(f"interval must be at least 1 second, got {seconds}")
        self._set(outlet, {"every_seconds": int(seconds)}, by, unset=("cron",))

    def set_cron(self, outlet: str, cron: str, *, by: str) -> None:
        self._set(outlet, {"cron": cron}, by, unset=("every_seconds",))

    def reset(self, outlet: str, *, by: str) -> None:
        """Back to the outlet spec's schedule (the pause state is kept)."""
        self._set(outlet, {}, by, unset=("cron", "every_seconds"))

    def overrides(self) -> dict[str, Override]:
        return {doc["_id"]: Override.from_doc(doc) for doc in self.collection.find({})}

    def next_run_times(self) -> dict[str, float | None]:
        """Each scheduled outlet's next run (a Unix timestamp; None while paused), from the
        scheduler's job store: one small document per outlet, read whole."""
        return {
            str(doc["_id"]).removeprefix(JOB_PREFIX): doc.get("next_run_time")
            for doc in self.jobs.find({}, {"next_run_time": 1})
        }

    def request_run(self, outlet: str, *, by: str) -> None:
        self.collection.update_one(
            {"_id": outlet}, {"$set": {"run_now": utcnow(), "run_now_by": by}}, upsert=True
        )

    def pending_runs(self) -> list[dict[str, Any]]:
        return list(self.collection.find({"run_now": {"$ne": None}}, {"run_now": 1, "run_now_by": 1}))

    def claim_run(self, outlet: str, requested: datetime) -> bool:
        """Take a run-now request so exactly one scheduler acts on it."""
        result = self.collection.update_one(
            {"_id": outlet, "run_now": requested}, {"$set": {"run_now": None}}
        )
        return result.modified_count == 1
