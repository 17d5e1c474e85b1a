"""Real `newsdesk run` processes on one database, crawling the saved 중도일보 site.

What operators rely on, checked from the run history the processes leave: two schedulers
never crawl one outlet at once; a scheduler killed with SIGKILL leaves a lease that the other
takes over after it expires (and the killed scheduler's crawl closes itself); `newsdesk
schedule ...` typed while a scheduler runs reaches it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any, Callable

import pytest

from crawler.devtools.fixturesite import DEFAULT_FIXTURES, FixtureSite, SiteSpec
from crawler.store.runs import RunStore
from crawler.store.schedules import ScheduleStore

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
SITE = DEFAULT_FIXTURES / "joongdo"
EXPECTED_ARTICLES = sum(1 for p in SITE.glob("*.json") if p.name != "site.json")


@pytest.fixture
def run_env(mongo_uri, mongo_client, tmp_path):
    db_name = f"test_sched_{uuid.uuid4().hex[:12]}"
    env = dict(os.environ)
    env.update(
        MONGO_URI=mongo_uri,
        NEWSDESK_DB=db_name,
        NEWSDESK_ENV="test",
        NEWSDESK_DATA_DIR=str(tmp_path / "data"),
        SCRAPY_SETTINGS_MODULE="settings",
        NEWSDESK_SCHEDULE_SYNC_SECONDS="1",
        NEWSDESK_LEASE_TTL_SECONDS="4",
        NEWSDESK_CRAWL_TIME_LIMIT="120",
    )
    yield env, mongo_client[db_name]
    mongo_client.drop_database(db_name)


class Schedulers:
    """Starts `newsdesk run` processes and makes sure none outlives the test."""

    def __init__(self, env: dict[str, str], tmp: Path) -> None:
        self.env = env
        self.tmp = tmp
        self.procs: list[subprocess.Popen] = []

    def start(self, base_url: str) -> subprocess.Popen:
        log = (self.tmp / f"scheduler-{len(self.procs)}.log").open("wb")
        proc = subprocess.Popen(
            [sys.executable, "-m", "crawler.cli", "run", "joongdo", "--base-url", base_url],
            env=self.env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
        )
        self.procs.append(proc)
        return proc

    def logs(self) -> str:
        return "\n".join(p.read_text(errors="replace")[-3000:] for p in sorted(self.tmp.glob("scheduler-*.log")))

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@pytest.fixture
def schedulers(run_env, tmp_path):
    group = Schedulers(run_env[0], tmp_path)
    yield group
    group.stop()


def wait_for(condition: Callable[[], Any], timeout: float, what: str, logs: Callable[[], str]) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what}\n{logs()}")


def cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, "-m", "crawler.cli", *args], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, f"newsdesk {' '.join(args)}: {proc.stdout}\n{proc.stderr}"
    return proc


def crawled_runs(db) -> list[dict]:
    return [r for r in RunStore(db).find(outlet="joongdo", limit=1000) if r["status"] != "skipped"]


def test_two_schedulers_never_overlap_and_obey_the_cli(run_env, schedulers):
    env, db = run_env
    ScheduleStore(db).set_interval("joongdo", 2, by="test")  # the CLI's floor is 1m; tests go faster
    with FixtureSite(SiteSpec.load(SITE), delay=0.05) as site:
        schedulers.start(site.base_url)
        schedulers.start(site.base_url)
        wait_for(lambda: sum(r["status"] == "finished" for r in crawled_runs(db)) >= 3, 150,
                 "three finished crawls", schedulers.logs)

        # the CLI, against the running schedulers
        cli(env, "schedule", "pause", "joongdo")
        listing = wait_for(
            lambda: next((o for o in json.loads(cli(env, "schedule", "list", "--json").stdout)["outlets"]
                          if o["outlet"] == "joongdo" and o["state"] == "paused"), None),
            30, "joongdo to show as paused", schedulers.logs,
        )
        assert listing["source"] == "operator"
        # paused in the job store too, by a running scheduler (a job without a next run time)
        wait_for(lambda: db["scheduler_jobs"].find_one({"_id": "crawl:joongdo"})["next_run_time"] is None,
                 30, "the job to be paused", schedulers.logs)
        cli(env, "schedule", "run-now", "joongdo")
        manual = wait_for(lambda: [r for r in RunStore(db).find(outlet="joongdo", limit=1000)
                                   if r["trigger"] == "manual" and r["status"] != "running"],
                          90, "the run-now crawl", schedulers.logs)
        assert len(manual) == 1, manual  # exactly one scheduler claimed the request
        schedulers.stop()

    runs = sorted(crawled_runs(db), key=lambda r: r["started"])
    assert len(runs) >= 3
    for earlier, later in zip(runs, runs[1:]):
        assert later["started"] >= earlier["ended"], f"overlapping crawls: {earlier['_id']} and {later['_id']}"
    finished = [r for r in runs if r["status"] == "finished"]
    assert finished[0]["articles"]["new"] == EXPECTED_ARTICLES
    assert db.articles.count_documents({"outlet": "joongdo"}) == EXPECTED_ARTICLES
    assert all(r.get("log_path") and r["pages"] >= 1 for r in finished)
    out = cli(env, "runs", "--outlet", "joongdo", "--json").stdout.splitlines()
    assert len(out) == len(RunStore(db).find(outlet="joongdo", limit=1000))


def test_a_killed_schedulers_lease_is_taken_over(run_env, schedulers):
    env, db = run_env
    ScheduleStore(db).set_interval("joongdo", 2, by="test")
    with FixtureSite(SiteSpec.load(SITE), delay=1.0) as site:  # slow site: crawls last a while
        first = schedulers.start(site.base_url)
        victim = wait_for(lambda: next(iter(RunStore(db).find(outlet="joongdo")), None), 90,
                          "the first crawl to start", schedulers.logs)
        assert victim["status"] == "running"
        time.sleep(1.0)  # well into the crawl
        first.send_signal(signal.SIGKILL)
        first.wait()
        schedulers.start(site.base_url)

        def taken_over() -> bool:
            runs = RunStore(db).find(outlet="joongdo", limit=100)
            return any(r["owner"] != victim["owner"] and r["status"] == "finished" for r in runs)

        wait_for(taken_over, 150, "the second scheduler to crawl", schedulers.logs)
        # the killed scheduler's crawl noticed and closed itself, recording why
        wait_for(lambda: RunStore(db).get(victim["_id"]).get("finish_reason") == "parent_gone", 60,
                 "the orphaned crawl to close itself", schedulers.logs)
        schedulers.stop()

    dead = RunStore(db).get(victim["_id"])
    assert dead["status"] == "abandoned"
    successor = min((r for r in crawled_runs(db) if r["owner"] != victim["owner"]), key=lambda r: r["started"])
    # no overlap: the successor started only after the dead owner's lease ran out
    assert successor["started"] > victim["started"]
    assert db.articles.count_documents({"outlet": "joongdo"}) == EXPECTED_ARTICLES


def test_a_one_shot_crawl_is_a_run_and_respects_a_held_lease(run_env):
    from crawler.store.leases import LeaseStore

    env, db = run_env
    with FixtureSite(SiteSpec.load(SITE)) as site:
        cli(env, "crawl", "joongdo", "--base-url", site.base_url)
        LeaseStore(db).acquire("crawl:joongdo", "scheduler@elsewhere")
        held = subprocess.run([sys.executable, "-m", "crawler.cli", "crawl", "joongdo", "--base-url", site.base_url],
                              env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert held.returncode == 1 and "scheduler@elsewhere" in held.stdout
    (run,) = RunStore(db).find(outlet="joongdo")
    assert run["trigger"] == "manual" and run["status"] == "finished" and run["dispatcher"] == "in-process"
    assert run["articles"]["new"] == EXPECTED_ARTICLES and run["log_path"]
