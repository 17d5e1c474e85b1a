"""A scheduled crawl killed with SIGKILL resumes from its JOBDIR without fetching again the
pages it had finished; what the kill interrupted is fetched by the next crawl; nothing is
lost and nothing is stored twice."""

from __future__ import annotations

import os
import signal
import threading
import time
import uuid
from pathlib import Path

import pytest

from crawler.runners.local import CrawlRunner
from crawler.devtools.simulator import Fault, NewsConfig, Simulator

pytestmark = pytest.mark.e2e
ARTICLES = 60


def test_sigkilled_crawl_resumes_without_refetching(mongo_uri, mongo_client, tmp_path):
    db_name = f"test_resume_{uuid.uuid4().hex[:10]}"
    env = dict(os.environ, MONGO_URI=mongo_uri, NEWSDESK_DB=db_name, NEWSDESK_ENV="test",
               NEWSDESK_DATA_DIR=str(tmp_path / "data"), SCRAPY_SETTINGS_MODULE="settings")
    # every article answers slowly and two at a time, so the kill lands mid-crawl
    faults = {"jnilbo": [Fault("slow", rate=1.0, delay=0.15)]}
    settings = {"CONCURRENT_REQUESTS_PER_DOMAIN": "2", "NEWSDESK_STORE_BATCH_SIZE": "4", "LOG_LEVEL": "INFO"}
    try:
        with Simulator(["jnilbo"], NewsConfig(articles=ARTICLES), faults=faults) as sim:
            server = sim.servers["jnilbo"]
            runner = CrawlRunner(time_limit=120, grace=10, env=env, extra_args=["-a", f"base_url={server.base_url}"])
            jobdir = runner.jobdir("jnilbo")
            results: list = []
            first = threading.Thread(target=lambda: results.append(runner.run("jnilbo", settings=settings)))
            first.start()
            deadline = time.monotonic() + 60
            while sum(server.article_fetches().values()) < ARTICLES // 3 and time.monotonic() < deadline:
                time.sleep(0.05)
            children = list(runner._children)
            assert children, "the crawl ended before it could be killed"
            os.kill(children[0], signal.SIGKILL)
            first.join(timeout=60)
            killed = results[0]
            assert killed.returncode == -signal.SIGKILL
            # answers that were in flight at the kill finish (and count) after it: wait for them,
            # so they are counted as the killed crawl's fetches and not the resumed one's
            assert server.wait_idle(), "the simulator kept answering a killed crawler"
            before = server.article_fetches()
            assert 0 < sum(before.values()) < ARTICLES
            assert (jobdir / "requests.queue").is_dir(), "the killed crawl left no job state to resume"
            stored_at_kill = mongo_client[db_name].articles.count_documents({})

            resumed = runner.run("jnilbo", settings=settings)
            assert resumed.ok and resumed.stats["finish_reason"] == "finished", resumed.log_path.read_text()[-3000:]
            after = server.article_fetches()
            assert max(after.values()) == 1, "an article was fetched twice"
            fetched_on_resume = sum(after.values()) - sum(before.values())
            assert fetched_on_resume > 0
            assert server.requests["/rss/gn_rss_allArticle.xml"] == 1, "the resumed crawl started over"
            assert not jobdir.exists(), "a finished crawl's job state is removed"
            stored = mongo_client[db_name].articles
            assert stored.count_documents({}) >= stored_at_kill + fetched_on_resume, resumed.log_path.read_text()[-6000:]

            # what the kill interrupted (in flight, or waiting for a store batch) is not stored:
            # the next crawl finds exactly those missing and fetches them, and nothing else
            missing = ARTICLES - stored.count_documents({})
            again = runner.run("jnilbo", settings=settings)
            assert again.ok
            final = server.article_fetches()
            assert sum(final.values()) - sum(after.values()) == missing
            assert stored.count_documents({}) == ARTICLES
            assert len(stored.distinct("canonical_url")) == ARTICLES
    finally:
        mongo_client.drop_database(db_name)
