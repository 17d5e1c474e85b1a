"""Backfill runs say nothing of an outlet's health now: health leaves them out."""

from __future__ import annotations

from typing import Any

from crawler.config import project_settings
from crawler.monitoring.conditions import outlet_health
from crawler.outlets import get_outlet
from crawler.store import RunStore


def _runs(db: Any, trigger: str, count: int, *, returncode: int, new: int = 0) -> None:
    store = RunStore(db)
    store.ensure_indexes()
    for _ in range(count):
        run = store.open("joongdo", trigger, owner="test@host")
        store.record_stats(run, {"finish_reason": "finished", "downloader/response_count": 10,
                                 "item_scraped_count": new, "newsdesk/articles/new": new})
        store.close(run, returncode=returncode, error=None if returncode == 0 else "stopped")


def test_failed_backfills_do_not_make_an_outlet_failing(mongo_db: Any) -> None:
    _runs(mongo_db, "schedule", 1, returncode=0, new=3)
    _runs(mongo_db, "backfill", 4, returncode=1)
    health = outlet_health(mongo_db, get_outlet("joongdo"), project_settings())
    assert not health.conditions["failing"].present
    assert health.last_run is not None and health.last_run["status"] == "finished"


def test_the_same_failures_by_schedule_do(mongo_db: Any) -> None:
    _runs(mongo_db, "schedule", 1, returncode=0, new=3)
    _runs(mongo_db, "schedule", 4, returncode=1)
    health = outlet_health(mongo_db, get_outlet("joongdo"), project_settings())
    assert health.conditions["failing"].present
