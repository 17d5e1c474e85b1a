"""Monitoring: per-run checks, health across runs, alerts.

- checks.py  a spidermon suite run as each crawl closes; verdicts into the crawl's stats
- conditions.py  run history -> an outlet's state and named conditions (silent, drift, ...)
- alerts.py  conditions -> one alert when one starts, one recovery when it ends

`after_run` ties them together once a run is closed (CrawlService for scheduled crawls,
crawler.crawl.process for one-shot ones): the run's check summary is stored on it as `checks`,
the outlet's health is evaluated from its history, and alerts are sent for what changed.
"""

from __future__ import annotations

import logging
from datetime import datetime
from functools import cache
from typing import Any, Mapping

from crawler.config import project_settings
from crawler.monitoring.alerts import Notifier, sync
from crawler.monitoring.checks import run_summary
from crawler.monitoring.conditions import outlet_health
from crawler.outlets import registry
from crawler.store.runs import RunStore

log = logging.getLogger(__name__)


@cache
def _project_settings() -> Any:
    return project_settings()


def after_run(db: Any, run: Mapping[str, Any] | None, settings: Any = None, *, now: datetime | None = None,
              notifier: Any = None) -> Any:
    """Store the run's check summary, evaluate its outlet's health, send what changed.

    Never raises: a monitoring failure is logged, and the crawl and scheduler carry on.
    Returns the outlet's health (None when it could not be evaluated).
    """
    if not run:
        return None
    try:
        settings = settings if settings is not None else _project_settings()
        if not settings.getbool("NEWSDESK_HEALTH_ENABLED", True):
            return None
        stats = run.get("stats")
        if stats:
            RunStore(db).set_checks(run["_id"], run_summary(stats))
        spec = registry().get(run.get("outlet", ""))
        if spec is None:
            return None
        health = outlet_health(db, spec, settings, now=now)
        sync(db, [health], notifier or Notifier.from_settings(db, settings), now=now)
        return health
    except Exception:  # noqa: BLE001 - monitoring must never break a crawl or the scheduler
        log.exception("health check after run %s failed", run.get("_id"))
        return None
