"""`newsdesk backfill` against the simulator: the window, stopping at --since, stored articles
skipped, a kill -9 midway and the resume, the lease, the NDSoft id walk.

Each backfill is the real command in a subprocess (`python -m crawler.cli backfill`), so a kill
is a real SIGKILL of the process holding the lease, the run and the checkpoint. The simulator
counts every page it answers: what a resumed backfill fetches again is measured, not assumed.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from crawler.crawl.backfill_state import Window
from crawler.runners.backfill import backfill_owner
from crawler.runners.crawl_job import CrawlService
from crawler.devtools.simulator import Fault, NewsConfig, Simulator
from crawler.store.leases import LeaseStore, lease_name
from crawler.text.dates import KST

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
OUTLET = "jnilbo"


def cli_env(mongo_uri: str, db_name: str, tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ, MONGO_URI=mongo_uri, NEWSDESK_DB=db_name, NEWSDESK_ENV="test",
               NEWSDESK_DATA_DIR=str(tmp_path / "data"), SCRAPY_SETTINGS_MODULE="settings", NEWSDESK_PROGRESS="0", COLUMNS="200")
    env.pop("NEWSDESK_PARENT_PID", None)
    return env


def backfill_cmd(base_url: str, since: date, until: date | None = None, *extra: str) -> list[str]:
    cmd = [sys.executable, "-m", "crawler.cli", "backfill", OUTLET, "--since", since.isoformat(),
           "--base-url", base_url, "--set", "NEWSDESK_BACKFILL_PROGRESS_SECONDS=1", *extra]
    return cmd + (["--until", until.isoformat()] if until else [])


def expected_urls(sim: Simulator, window: Window) -> set[str]:
    site = sim.sites[OUTLET]
    return {site.article_url(i) for i in range(sim.news.config.articles)
            if window.contains(sim.news.article(OUTLET, i).published)}


def stored_urls(db) -> list[str]:
    return [d["canonical_url"] for d in db.articles.find({"outlet": OUTLET}, {"canonical_url": 1})]


def list_fetches(server) -> dict[str, int]:
    return {path: n for path, n in server.requests.items() if "articleList" in path}


def test_killed_backfill_resumes_and_stores_exactly_its_window(mongo_uri, mongo_client, tmp_path):
    """400 articles half an hour apart (8 days); the window is the five days before yesterday.
    The backfill is killed with SIGKILL a third of the way through, then run again."""
    db_name = f"test_backfill_{uuid.uuid4().hex[:10]}"
    env = cli_env(mongo_uri, db_name, tmp_path)
    today = datetime.now(KST).date()
    window = Window(today - timedelta(days=6), today - timedelta(days=2))
    # every article answers a little slowly, so the kill lands in the middle of the backfill
    faults = {OUTLET: [Fault("slow", rate=1.0, delay=0.05)]}
    config = NewsConfig(articles=400, spacing_minutes=30, syndicated=0.0, corrected=0.0)
    try:
        with Simulator([OUTLET], config, faults=faults) as sim:
            server = sim.servers[OUTLET]
            expected = expected_urls(sim, window)
            assert 150 < len(expected) < 250
            cmd = backfill_cmd(server.base_url, window.since, window.until)
            first = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            deadline = time.monotonic() + 120
            while sum(server.article_fetches().values()) < len(expected) // 3 and first.poll() is None:
                assert time.monotonic() < deadline, "the backfill did not get going"
                time.sleep(0.05)
            assert first.poll() is None, "the backfill ended before it could be killed: " + first.communicate()[0].decode()
            first.send_signal(signal.SIGKILL)
            first.wait(timeout=30)
            first.stdout.close()
            assert server.wait_idle()
            db = mongo_client[db_name]
            at_kill = set(stored_urls(db))
            fetched_at_kill = server.article_fetches()
            lists_at_kill = list_fetches(server)
            assert 0 < len(at_kill) < len(expected)
            folders = list((tmp_path / "data" / "jobs" / "backfill").iterdir())
            assert [f.name for f in folders] == [f"{OUTLET}-{window.key}"], "the killed backfill left no checkpoint"

            resumed = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True, timeout=300)
            assert resumed.returncode == 0, resumed.stdout + resumed.stderr
            assert "complete" in resumed.stdout
            assert "reached" in resumed.stderr  # the progress line

            stored = stored_urls(db)
            assert len(stored) == len(set(stored)), "an article was stored twice"
            assert set(stored) == expected, (
                f"missing {len(expected - set(stored))}, outside the window {len(set(stored) - expected)}")
            # after the resume: nothing stored before the kill was fetched again, and only the
            # articles the kill caught between download and store were: at most the requests in
            # flight (4 in the test settings), the answers waiting to be parsed (~1 MB of
            # pages), the items in the pipelines (8) and the store's batches (4 x 4)
            after = server.article_fetches()
            site = sim.sites[OUTLET]
            again = {site.article_url(i) for i, n in after.items() if n > fetched_at_kill.get(i, 0) and fetched_at_kill.get(i, 0)}
            assert not again & at_kill, "a stored article was fetched again after the resume"
            assert len(again) <= 40, f"{len(again)} articles fetched again"
            assert max(after.values()) <= 2
            lists_after = list_fetches(server)
            assert sum(1 for path, n in lists_after.items() if n > lists_at_kill.get(path, 0) and lists_at_kill.get(path)) <= 1
            # the list walk stopped at --since: at most one page past the window's start was read
            # (newest first, so the pages before it hold the articles newer than the window: as
            # many as the days after --until and the time of day make)
            newer = sum(1 for i in range(config.articles) if sim.news.article(OUTLET, i).published >= window.end)
            last_in_window = -(-(newer + len(expected)) // site.page_size)
            oldest_page = max(int(dict(p.split("=") for p in path.split("?")[1].split("&")).get("page", 1))
                              for path in lists_after)
            assert oldest_page <= last_in_window + 1, (oldest_page, last_in_window)
            assert not (tmp_path / "data" / "jobs" / "backfill" / f"{OUTLET}-{window.key}").exists()

            runs = sorted(db.runs.find({"outlet": OUTLET}), key=lambda r: r["started"])
            assert [r["trigger"] for r in runs] == ["backfill", "backfill"]
            assert [r["status"] for r in runs] == ["abandoned", "finished"]
            assert runs[1]["stats"]["newsdesk/backfill/skipped_stored"] >= len(at_kill) - 40

            # run again: every article of the window is stored and none is fetched; only those
            # listed just after --until (within NEWSDESK_BACKFILL_LIST_DATE_MARGIN_HOURS) are read
            # again to be judged by their own date
            before = server.article_fetches()
            again_run = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True, timeout=300)
            assert again_run.returncode == 0, again_run.stdout + again_run.stderr
            fetched = {site.article_url(i) for i, n in server.article_fetches().items() if n > before.get(i, 0)}
            assert not fetched & expected
            published = {site.article_url(i): sim.news.article(OUTLET, i).published for i in range(config.articles)}
            assert all(window.end <= published[url] < window.end + timedelta(days=1) for url in fetched)
    finally:
        mongo_client.drop_database(db_name)


def test_undated_short_lists_fall_back_to_articles_and_ids(mongo_uri, mongo_client, tmp_path):
    """Lists that print no dates and show three pages only: the lists are judged by their
    articles' dates, and the NDSoft ids below the lowest listed one are walked down to the
    window's start."""
    db_name = f"test_backfill_{uuid.uuid4().hex[:10]}"
    env = cli_env(mongo_uri, db_name, tmp_path)
    today = datetime.now(KST).date()
    window = Window(today - timedelta(days=4), today)
    config = NewsConfig(articles=240, spacing_minutes=60, syndicated=0.0, corrected=0.0)
    try:
        with Simulator([OUTLET], config, page_size=20, list_depth=3, list_dates=False) as sim:
            server = sim.servers[OUTLET]
            expected = expected_urls(sim, window)
            assert len(expected) > 80  # more than the three list pages show
            done = subprocess.run(backfill_cmd(server.base_url, window.since), env=env, cwd=ROOT,
                                  capture_output=True, text=True, timeout=300)
            assert done.returncode == 0, done.stdout + done.stderr
            db = mongo_client[db_name]
            stored = stored_urls(db)
            assert len(stored) == len(set(stored)) and set(stored) == expected
            run = db.runs.find_one({"outlet": OUTLET, "trigger": "backfill"})
            stats = run["stats"]
            assert stats["newsdesk/backfill/id_walk/requested"] > 0
            # the walk stopped within a batch or two past the window's start
            fetched_old = sum(1 for i in server.article_fetches() if not window.contains(sim.news.article(OUTLET, i).published))
            assert fetched_old <= 40
            assert stats["newsdesk/backfill/outside_window"] == fetched_old

            # --restart drops the progress, not the articles: nothing of the window is fetched again
            before = server.article_fetches()
            restarted = subprocess.run(backfill_cmd(server.base_url, window.since, None, "--restart"), env=env, cwd=ROOT,
                                       capture_output=True, text=True, timeout=300)
            assert restarted.returncode == 0, restarted.stdout + restarted.stderr
            again = [i for i, n in server.article_fetches().items() if n > before.get(i, 0)]
            assert again and not any(window.contains(sim.news.article(OUTLET, i).published) for i in again)
            assert len(stored_urls(db)) == len(expected)
    finally:
        mongo_client.drop_database(db_name)


def test_backfill_refuses_while_the_outlet_is_being_crawled(mongo_uri, mongo_client, tmp_path):
    db_name = f"test_backfill_{uuid.uuid4().hex[:10]}"
    env = cli_env(mongo_uri, db_name, tmp_path)
    leases = LeaseStore(mongo_client[db_name])
    try:
        assert leases.acquire(lease_name(OUTLET), "scheduler@elsewhere:1:abc", info={"trigger": "schedule"})
        with Simulator([OUTLET], NewsConfig(articles=20)) as sim:
            server = sim.servers[OUTLET]
            done = subprocess.run(backfill_cmd(server.base_url, date.today() - timedelta(days=1)), env=env, cwd=ROOT,
                                  capture_output=True, text=True, timeout=120)
            assert done.returncode == 1
            message = done.stderr.strip().splitlines()[-1]
            assert "scheduler@elsewhere:1:abc" in message and "schedule" in message and "--wait" in message
            assert sum(server.article_fetches().values()) == 0
        assert mongo_client[db_name].runs.count_documents({}) == 0
        assert not list((tmp_path / "data" / "jobs" / "backfill").glob(f"{OUTLET}-*")), "nothing to resume was left"
        assert leases.holder(lease_name(OUTLET))["owner"] == "scheduler@elsewhere:1:abc"
    finally:
        mongo_client.drop_database(db_name)


def test_backfill_waits_for_a_running_crawl_and_the_scheduler_skips_it(mongo_uri, mongo_client, tmp_path):
    """--wait: the backfill starts once the crawl holding the lease gives it back; while the
    backfill holds it, a scheduled crawl of the outlet is skipped."""
    db_name = f"test_backfill_{uuid.uuid4().hex[:10]}"
    env = cli_env(mongo_uri, db_name, tmp_path)
    env["NEWSDESK_LEASE_TTL_SECONDS"] = "6"  # the backfill looks again every 2 s
    db = mongo_client[db_name]
    leases = LeaseStore(db)
    today = datetime.now(KST).date()
    window = Window(today - timedelta(days=1), today)
    try:
        assert leases.acquire(lease_name(OUTLET), "scheduler@elsewhere:1:abc", info={"trigger": "schedule"})
        with Simulator([OUTLET], NewsConfig(articles=60, spacing_minutes=60),
                       faults={OUTLET: [Fault("slow", rate=1.0, delay=0.2)]}) as sim:
            server = sim.servers[OUTLET]
            proc = subprocess.Popen(backfill_cmd(server.base_url, window.since, None, "--wait"), env=env, cwd=ROOT,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            try:
                line = proc.stderr.readline()
                while "waiting" not in line:
                    assert line, "the backfill ended without waiting: " + proc.stdout.read()
                    line = proc.stderr.readline()
                assert "scheduler@elsewhere:1:abc" in line
                assert sum(server.article_fetches().values()) == 0
                leases.release(lease_name(OUTLET), "scheduler@elsewhere:1:abc")
                deadline = time.monotonic() + 60
                while (leases.holder(lease_name(OUTLET)) or {}).get("owner") != backfill_owner(OUTLET, window):
                    assert time.monotonic() < deadline and proc.poll() is None, "the backfill never took the lease"
                    time.sleep(0.1)

                class Dispatcher:
                    dispatcher = "local"

                    def paths(self, outlet):
                        raise AssertionError("a skipped crawl asks for no log path")

                    def run(self, outlet, **kwargs):
                        raise AssertionError("the scheduler crawled an outlet a backfill holds")

                service = CrawlService(db, Dispatcher(), owner="scheduler@here:2:def", leases=leases)
                assert service.crawl(OUTLET, "schedule") is None
                stdout, stderr = proc.communicate(timeout=120)
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
            assert proc.returncode == 0, stdout + stderr
        assert [r["trigger"] for r in db.runs.find({"outlet": OUTLET})] == ["backfill"]
        assert leases.holder(lease_name(OUTLET)) is None
    finally:
        mongo_client.drop_database(db_name)


def test_articles_the_site_failed_are_owed_and_fetched_by_the_next_run(mongo_uri, mongo_client, tmp_path):
    """A 5xx that outlasts the retries leaves its article owed: the run says so (exit 1) and
    keeps its checkpoint; the same command then fetches exactly those and completes."""
    db_name = f"test_backfill_{uuid.uuid4().hex[:10]}"
    env = cli_env(mongo_uri, db_name, tmp_path)
    today = datetime.now(KST).date()
    window = Window(today - timedelta(days=1), today)
    # a fifth of the articles answer 5xx twice: the test settings retry once, so they fail once
    faults = {OUTLET: [Fault("5xx", rate=0.2, times=2)]}
    try:
        with Simulator([OUTLET], NewsConfig(articles=60, spacing_minutes=60, syndicated=0.0, corrected=0.0),
                       faults=faults) as sim:
            server, site = sim.servers[OUTLET], sim.sites[OUTLET]
            expected = expected_urls(sim, window)
            cmd = backfill_cmd(server.base_url, window.since)
            first = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True, timeout=300)
            assert first.returncode == 1, first.stdout + first.stderr
            assert "not fetched (the site failed them)" in first.stdout
            db = mongo_client[db_name]
            stored_first = set(stored_urls(db))
            owed = expected - stored_first
            assert owed and stored_first < expected
            before = server.article_fetches()
            second = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True, timeout=300)
            assert second.returncode == 0, second.stdout + second.stderr
            fetched = {site.article_url(i) for i, n in server.article_fetches().items() if n > before.get(i, 0)}
            assert fetched == owed
            stored = stored_urls(db)
            assert len(stored) == len(set(stored)) and set(stored) == expected
    finally:
        mongo_client.drop_database(db_name)
