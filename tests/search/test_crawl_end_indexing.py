"""End to end: a crawl of the saved 중도일보 site makes what it stored searchable when it ends.

The store only queues articles for the search index; the crawl's SearchIndexAtCrawlEnd
extension drains the queue after the crawl. Run as `scrapy crawl` in a subprocess, as the
scheduler runs crawls.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from crawler.devtools.fixturesite import DEFAULT_FIXTURES, FixtureSite, SiteSpec
from crawler.search import search

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]


def test_crawl_indexes_what_it_stored_when_it_ends(mongo_uri, mongo_client, tmp_path):
    db_name = f"test_e2e_search_{uuid.uuid4().hex[:12]}"
    env = dict(os.environ, MONGO_URI=mongo_uri, NEWSDESK_DB=db_name, NEWSDESK_ENV="test",
               NEWSDESK_DATA_DIR=str(tmp_path / "data"), SCRAPY_SETTINGS_MODULE="settings")
    db = mongo_client[db_name]
    try:
        with FixtureSite(SiteSpec.load(DEFAULT_FIXTURES / "joongdo")) as site:
            proc = subprocess.run([sys.executable, "-m", "scrapy", "crawl", "joongdo", "-a", f"base_url={site.base_url}",
                                   "-s", "LOG_LEVEL=INFO"],
                                  env=env, cwd=ROOT, capture_output=True, text=True, timeout=240)
        assert proc.returncode == 0, proc.stderr[-3000:]
        stored = list(db.articles.find({}, {"title": 1, "canonical_url": 1, "search_indexed": 1}))
        assert len(stored) >= 3
        assert f"search index: {len(stored)} articles indexed in" in proc.stderr
        assert db.search_queue.count_documents({}) == 0
        assert all(doc.get("search_indexed") == 1 for doc in stored)
        assert sum(s["articles"] for s in db.search_segments.find()) == len(stored)
        for doc in stored:
            words = [w for w in doc["title"].split() if len(w) >= 2][:2]
            hits = search(db, " ".join(words), per_page=100).hits
            assert doc["canonical_url"] in {h.canonical_url for h in hits}, doc["title"]
    finally:
        mongo_client.drop_database(db_name)
