"""End to end: the saved 중도일보 site on 127.0.0.1 -> the real spider and pipelines -> Mongo.

The crawls run as subprocesses (`python -m scrapy crawl`, then the `newsdesk crawl` CLI), as
they do in production, because Twisted's reactor runs once per process. The stored documents
are checked field by field against the fixtures' hand-checked expected JSON; the second crawl
must leave the same documents (first_seen kept, last_seen moved) and count them unchanged.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from datetime import datetime
from pathlib import Path

import pytest

from crawler.devtools.fixturesite import DEFAULT_FIXTURES, FixtureSite, SiteSpec
from crawler.text.dates import KST

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
SITE = DEFAULT_FIXTURES / "joongdo"


def expected_articles() -> dict[str, dict]:
    found = {}
    for path in SITE.glob("*.json"):
        if path.name == "site.json":
            continue
        expected = json.loads(path.read_text(encoding="utf-8"))["expected"]
        found[expected["canonical_url"]] = expected
    return found


def run(cmd: list[str], env: dict[str, str], cwd: Path = ROOT) -> subprocess.CompletedProcess:
    proc = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, f"{cmd} failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc


@pytest.fixture
def crawl_env(mongo_uri, mongo_client, tmp_path):
    db_name = f"test_e2e_{uuid.uuid4().hex[:12]}"
    env = dict(os.environ)
    env.update(
        MONGO_URI=mongo_uri,
        NEWSDESK_DB=db_name,
        NEWSDESK_ENV="test",
        NEWSDESK_DATA_DIR=str(tmp_path / "data"),
        SCRAPY_SETTINGS_MODULE="settings",
    )
    yield env, mongo_client[db_name]
    mongo_client.drop_database(db_name)


def test_crawl_twice_stores_every_article_once(crawl_env, tmp_path):
    env, db = crawl_env
    expected = expected_articles()
    with FixtureSite(SiteSpec.load(SITE)) as site:
        stats_file = tmp_path / "first.stats.json"
        run([sys.executable, "-m", "scrapy", "crawl", "joongdo", "-a", f"base_url={site.base_url}",
             "-s", f"NEWSDESK_STATS_FILE={stats_file}"], env)
        first_stats = json.loads(stats_file.read_text(encoding="utf-8"))
        first_docs = {d["canonical_url"]: d for d in db.articles.find({"outlet": "joongdo"})}

        # robots.txt was asked for, and the old /main/ URL form was not fetched separately
        assert "/robots.txt" in site.requests
        assert not any(p.startswith("/main/view.php") for p in site.requests)

        # second crawl (the CLI): incremental, so stored articles are not fetched again
        before = len(site.requests)
        second = run([sys.executable, "-m", "crawler.cli", "crawl", "joongdo", "--base-url", site.base_url], env)
        second_requests = site.requests[before:]
        # third crawl with incremental off: every article refetched, nothing doubled
        third_stats_file = tmp_path / "third.stats.json"
        run([sys.executable, "-m", "scrapy", "crawl", "joongdo", "-a", f"base_url={site.base_url}",
             "-s", "NEWSDESK_INCREMENTAL=False", "-s", f"NEWSDESK_STATS_FILE={third_stats_file}"], env)
        third_stats = json.loads(third_stats_file.read_text(encoding="utf-8"))
        second_docs = {d["canonical_url"]: d for d in db.articles.find({"outlet": "joongdo"})}

    assert first_stats["finish_reason"] == "finished"
    assert first_stats.get("newsdesk/articles/new") == len(expected)
    assert not any(k.startswith("newsdesk/dropped/") for k in first_stats)
    assert set(first_docs) == set(expected)

    for url, exp in expected.items():
        doc = first_docs[url]
        for field, value in exp.items():
            stored = doc.get(field)
            if isinstance(stored, datetime):
                stored = stored.astimezone(KST).isoformat()
            assert stored == value, f"{url} field {field}"
        assert doc["first_seen"] == doc["last_seen"]
        assert doc["content_hash"]

    # second crawl: no article page fetched again (published long ago, outside the revisit
    # window); list paging stopped at the first page of known articles
    assert not any("view.php" in path for path in second_requests), second_requests
    assert len(second_requests) <= 0.5 * first_stats["downloader/request_count"]
    # third crawl (incremental off): nothing new, nothing duplicated, first_seen kept, last_seen moved
    assert third_stats.get("newsdesk/articles/unchanged") == len(expected)
    assert "newsdesk/articles/new" not in third_stats
    assert db.articles.count_documents({"outlet": "joongdo"}) == len(expected)
    for url, doc in second_docs.items():
        assert doc["_id"] == first_docs[url]["_id"]
        assert doc["first_seen"] == first_docs[url]["first_seen"]
        assert doc["last_seen"] > first_docs[url]["last_seen"]
        assert {k: v for k, v in doc.items() if k != "last_seen"} == {
            k: v for k, v in first_docs[url].items() if k != "last_seen"
        }

    # the CLI crawl recorded its stats, so `newsdesk outlets` knows the last crawl
    listing = run([sys.executable, "-m", "crawler.cli", "outlets", "--json"], env)
    joongdo = next(o for o in json.loads(listing.stdout) if o["name"] == "joongdo")
    assert joongdo["last_crawl"]["finish_reason"] == "finished"
    assert joongdo["last_crawl"]["new"] == 0 and joongdo["last_crawl"]["errors"] == 0
    assert "unchanged" in second.stdout  # the summary table
