"""Distributed mode: workers on Redis share one queue, lose nothing, and stop when idle.

Needs Redis on 127.0.0.1:6379 (these machines run one; .ci/run starts one where it is
absent). Each test uses its own key prefix in Redis database 15 and removes its keys.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

import pytest

from crawler.devtools.fixturesite import DEFAULT_FIXTURES, FixtureSite, SiteSpec

redis = pytest.importorskip("redis")

ROOT = Path(__file__).resolve().parents[2]
SITE = DEFAULT_FIXTURES / "joongdo"
EXPECTED_ARTICLES = sum(1 for p in SITE.glob("*.json") if p.name != "site.json")
REDIS_URL = os.environ.get("NEWSDESK_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def _redis_or_skip() -> "redis.Redis":
    server = redis.Redis.from_url(REDIS_URL)
    try:
        server.ping()
    except redis.exceptions.ConnectionError:
        pytest.skip(f"needs Redis at {REDIS_URL} (.ci/run starts one)")
    return server


@pytest.fixture
def dist_env(mongo_uri, mongo_client, tmp_path, monkeypatch):
    server = _redis_or_skip()
    prefix = f"ndtest{uuid.uuid4().hex[:8]}"
    db_name = f"test_dist_{uuid.uuid4().hex[:10]}"
    env = dict(
        os.environ,
        MONGO_URI=mongo_uri,
        NEWSDESK_DB=db_name,
        NEWSDESK_ENV="test",
        NEWSDESK_DISTRIBUTED="1",
        REDIS_URL=REDIS_URL,
        NEWSDESK_REDIS_PREFIX=prefix,
        NEWSDESK_DATA_DIR=str(tmp_path / "data"),
        NEWSDESK_WORKER_MAX_IDLE_SECONDS="4",
        NEWSDESK_WORKER_HEARTBEAT_SECONDS="1",
        SCRAPY_SETTINGS_MODULE="settings",
    )
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    yield env, mongo_client[db_name], server, prefix
    for key in server.scan_iter(f"{prefix}:*"):
        server.delete(key)
    mongo_client.drop_database(db_name)


def _settings():
    """This process's settings with distributed mode for this test's prefix.

    The settings modules were imported earlier in the test session with another
    environment; distributed.py reads its prefix from the environment at import, so it is
    loaded again for this test.
    """
    import importlib

    from crawler.config import project_settings

    settings = project_settings()
    settings.setmodule(importlib.reload(importlib.import_module("settings.distributed")), priority="project")
    return settings


def start_worker(env: dict[str, str], base_url: str, log: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "crawler.cli", "worker", "joongdo", "--base-url", base_url, *args],
        env=env, cwd=ROOT, stdout=log.open("wb"), stderr=subprocess.STDOUT,
    )


def article_fetches(site: FixtureSite) -> Counter:
    return Counter(path for path in site.requests if "view.php" in path)


def test_settings_switch_to_scrapy_redis(dist_env):
    settings = _settings()
    assert settings.get("SCHEDULER") == "crawler.distributed.scheduler.RoundScheduler"
    assert settings.get("SCHEDULER_QUEUE_CLASS") == "crawler.distributed.queue.ReliablePriorityQueue"
    assert settings.getfloat("NEWSDESK_STORE_FLUSH_SECONDS") <= 1
    assert settings.get("SCHEDULER_QUEUE_KEY").startswith(dist_env[3] + ":")


def test_the_queue_parks_requests_until_acked_and_rescues_orphans(dist_env):
    from crawler.distributed.queue import ReliablePriorityQueue
    from crawler.distributed.seed import start_requests

    _env, _db, server, prefix = dist_env
    spider, requests = start_requests("joongdo", _settings())
    queue = ReliablePriorityQueue(server, spider, f"{prefix}:joongdo:requests")
    for request in requests:
        queue.push(request)
    assert len(queue) == len(requests) == 3
    first = queue.pop()
    assert first is not None and len(queue) == 2 and queue.in_processing() == 1
    assert first.callback == spider.parse_list  # callbacks survive the round trip through Redis
    (token,) = queue.inflight
    queue.ack(token)
    assert queue.in_processing() == 0 and not queue.inflight

    # a worker that took a request and died: no heartbeat key, so its request goes back
    queue.pop()
    assert queue.in_processing() == 1
    assert queue.requeue_orphans() == 1
    assert len(queue) == 2 and queue.in_processing() == 0
    # a live worker's requests stay where they are
    server.set(queue.heartbeat_prefix + __import__("crawler.distributed.queue", fromlist=["x"]).worker_id(), 1, ex=30)
    queue.pop()
    assert queue.requeue_orphans() == 0 and queue.in_processing() == 1


def test_a_worker_dying_while_it_queues_a_request_leaves_no_fingerprint_of_it(dist_env):
    """scrapy-redis records a request's fingerprint in the round's dupefilter, then pushes the
    request: a worker killed between the two left a fingerprint whose request was nowhere. The
    page that found it was parked, so another worker parsed it again, and dropped the request as
    a duplicate: the article was never fetched (the kill test below lost one of six so, about one
    run in ten under load). RoundScheduler records and pushes in one script: a worker that dies
    before Redis ran it (here: its connection fails right then) leaves neither behind."""
    import redis as redis_module
    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.spiderloader import SpiderLoader

    from crawler.distributed.scheduler import RoundScheduler

    _env, _db, server, prefix = dist_env
    settings = _settings()
    spidercls = SpiderLoader.from_settings(settings).load("joongdo")
    spider = spidercls.from_crawler(Crawler(spidercls, settings))
    article = Request("http://127.0.0.1:1/web/view.php?key=20240905010002281", callback=spider.parse_article)

    dying = RoundScheduler.from_settings(settings)
    dying.open(spider)

    def connection_lost(*args, **kwargs):
        raise redis_module.exceptions.ConnectionError("the worker died here")

    dying.queue._push_unseen = connection_lost
    with pytest.raises(redis_module.exceptions.ConnectionError):
        dying.enqueue_request(article)
    fingerprint = dying.df.request_fingerprint(article)
    assert not server.sismember(f"{prefix}:joongdo:dupefilter", fingerprint)
    assert server.zcard(f"{prefix}:joongdo:requests") == 0

    survivor = RoundScheduler.from_settings(settings)  # parses the rescued list page again
    survivor.open(spider)
    assert survivor.enqueue_request(article.replace()) is True
    assert survivor.enqueue_request(article.replace()) is False  # still one fetch per round
    assert server.zcard(f"{prefix}:joongdo:requests") == 1
    assert server.sismember(f"{prefix}:joongdo:dupefilter", fingerprint)
    assert survivor.next_request().url == article.url


def test_three_workers_fetch_every_article_once_and_exit_when_idle(dist_env, tmp_path):
    from crawler.runners.redis import RedisDispatcher
    from crawler.runners.crawl_job import CrawlService
    from crawler.store.leases import LeaseStore
    from crawler.store.runs import RunStore

    env, db, server, prefix = dist_env
    with FixtureSite(SiteSpec.load(SITE), delay=0.2) as site:
        settings = _settings()
        service = CrawlService(
            db, RedisDispatcher(settings, spider_args={"base_url": site.base_url}, time_limit=120, settle=2, server=server),
            owner="test-scheduler", leases=LeaseStore(db),
        )
        result: dict = {}
        round_thread = threading.Thread(target=lambda: result.update(run=service.crawl("joongdo", "schedule")))
        round_thread.start()
        workers = [start_worker(env, site.base_url, tmp_path / f"worker{i}.log") for i in range(3)]
        for proc in workers:
            proc.wait(timeout=180)
        round_thread.join(timeout=60)
        fetches = article_fetches(site)

    logs = "\n".join(p.read_text(errors="replace")[-2000:] for p in tmp_path.glob("worker*.log"))
    assert all(proc.returncode == 0 for proc in workers), logs
    assert len(fetches) == EXPECTED_ARTICLES and set(fetches.values()) == {1}, fetches
    assert db.articles.count_documents({"outlet": "joongdo"}) == EXPECTED_ARTICLES
    assert server.zcard(f"{prefix}:joongdo:requests") == 0 and server.hlen(f"{prefix}:joongdo:processing") == 0
    run = RunStore(db).get(result["run"]["_id"])
    assert run["status"] == "finished" and run["dispatcher"] == "redis" and run["seeded"] == 3
    assert len(run["workers"]) == 3 and run["articles"]["new"] == EXPECTED_ARTICLES  # summed over workers


def kill_scenario(env: dict[str, str], server, prefix: str, folder: Path, worker_args: tuple[str, ...] = (),
                  kill_delay: float = 0.0) -> dict:
    """Seed joongdo's round, start a worker, SIGKILL it once it holds an article request (and
    `kill_delay` seconds more), then let a second worker finish the round. What happened, for
    the test and bench/distributed_kill_stress.py."""
    from crawler.distributed.seed import seed_outlet

    owners = f"{prefix}:joongdo:processing:owner"
    with FixtureSite(SiteSpec.load(SITE), delay=1.5) as site:  # slow: requests stay in flight
        seed_outlet("joongdo", _settings(), run_id="round-1", server=server, spider_args={"base_url": site.base_url})
        victim = start_worker(env, site.base_url, folder / "victim.log", *worker_args)
        deadline = time.monotonic() + 120
        while not any(b"view.php" in value for value in server.hvals(f"{prefix}:joongdo:processing")):
            assert time.monotonic() < deadline, (folder / "victim.log").read_text(errors="replace")
            time.sleep(0.1)
        held = {value.decode().split("|")[0] for value in server.hvals(owners)}
        time.sleep(kill_delay)
        victim.send_signal(signal.SIGKILL)
        victim.wait()
        survivor = start_worker(env, site.base_url, folder / "survivor.log", *worker_args)
        survivor.wait(timeout=180)
        fetches = article_fetches(site)
    return {
        "victim": victim, "survivor": survivor, "held": held, "fetches": fetches,
        "queued": server.zcard(f"{prefix}:joongdo:requests"), "parked": server.hlen(owners),
    }


def test_a_worker_killed_mid_crawl_loses_nothing(dist_env, tmp_path):
    env, db, server, prefix = dist_env
    outcome = kill_scenario(env, server, prefix, tmp_path)
    held = outcome["held"]
    assert len(held) == 1 and held.pop().split(":")[1] == str(outcome["victim"].pid)
    assert outcome["survivor"].returncode == 0, (tmp_path / "survivor.log").read_text(errors="replace")
    assert db.articles.count_documents({"outlet": "joongdo"}) == EXPECTED_ARTICLES
    assert outcome["queued"] == 0 and outcome["parked"] == 0


@pytest.mark.parametrize(
    ("extra_env", "args", "message"),
    [
        ({"NEWSDESK_DISTRIBUTED": ""}, [], "needs distributed mode"),
        ({"REDIS_URL": "redis://:secret@127.0.0.1:1/0"}, [], "Redis at redis://:***@127.0.0.1:1/0 does not answer"),
        ({}, ["--set", "concurrent=3"], "--set 'concurrent=3': expected NAME=VALUE"),
        ({}, ["nosuchoutlet"], "unknown outlet 'nosuchoutlet'"),
    ],
)
def test_worker_bad_input_is_one_line_and_exit_2(dist_env, extra_env, args, message):
    env = dict(dist_env[0], **extra_env)
    proc = subprocess.run([sys.executable, "-m", "crawler.cli", "worker", *args], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert message in proc.stderr and "Traceback" not in proc.stderr and "secret" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
