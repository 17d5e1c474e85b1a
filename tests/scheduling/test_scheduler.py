"""Scheduler jobs from outlet specs, and the crawl subprocess runner's time limit."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from crawler.outlets import get_outlet
from crawler.scheduling.runner import CrawlRunner
from crawler.scheduling.scheduler import build_scheduler, describe


class SleepyRunner(CrawlRunner):
    """A 'crawl' that never ends, to check the time limit (the command is all that differs)."""

    def command(self, outlet: str, log_path: Path, stats_path: Path) -> list[str]:
        return [sys.executable, "-c", "import time; time.sleep(60)"]


def test_jobs_follow_specs_with_one_instance_and_coalescing(tmp_path):
    runner = CrawlRunner(env={"NEWSDESK_DATA_DIR": str(tmp_path)})
    spec = get_outlet("joongdo")
    scheduler = build_scheduler([spec], runner)
    scheduler.start(paused=True)
    try:
        (job,) = scheduler.get_jobs()
        assert job.id == "crawl:joongdo"
        assert job.max_instances == 1 and job.coalesce is True
        assert job.trigger.interval.total_seconds() == spec.every_minutes * 60
        assert 0 < job.trigger.jitter <= spec.every_minutes * 15
        assert job.misfire_grace_time >= 60
        assert job.args == ("joongdo",)
    finally:
        scheduler.shutdown(wait=False)


def test_time_limit_stops_a_hanging_crawl(tmp_path):
    runner = SleepyRunner(time_limit=1.0, grace=2.0, env={"NEWSDESK_DATA_DIR": str(tmp_path)})
    started = time.monotonic()
    result = runner.run("joongdo")
    assert result.timed_out and not result.ok
    assert time.monotonic() - started < 30
    assert result.log_path.parent == tmp_path / "logs" / "joongdo"
    assert "timed out" in describe(result)


def test_stop_all_refuses_new_crawls(tmp_path):
    runner = CrawlRunner(env={"NEWSDESK_DATA_DIR": str(tmp_path)})
    runner.stop_all()
    try:
        runner.run("joongdo")
    except RuntimeError as exc:
        assert "shutting down" in str(exc)
    else:
        raise AssertionError("a stopped runner started a crawl")
