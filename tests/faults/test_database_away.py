"""The database goes away mid-crawl: the articles it could not take go to dead-letter files,
the crawl finishes, and the next crawl's start writes them back. Counts prove that none is lost
and none is stored twice."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from pymongo import MongoClient
from secantus import SecantusDBServer

from crawler.devtools.simulator import Fault, NewsConfig, Simulator

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
ARTICLES = 40


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _crawl(base_url: str, env: dict[str, str], stats_file: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "scrapy", "crawl", "jnilbo", "-a", f"base_url={base_url}",
         "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=2", "-s", "NEWSDESK_STORE_BATCH_SIZE=10",
         "-s", f"NEWSDESK_STATS_FILE={stats_file}", "-s", f"LOG_FILE={stats_file.with_suffix('.log')}"],
        env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )


def test_database_away_mid_crawl_loses_nothing(tmp_path):
    import json

    port = _free_port()
    storage = tmp_path / "db"
    server = SecantusDBServer(host="127.0.0.1", port=port, storage_path=str(storage), replica_set_name=None)
    server.start()
    uri = f"mongodb://127.0.0.1:{port}/"
    env = dict(os.environ, MONGO_URI=uri, NEWSDESK_DB="away", NEWSDESK_ENV="test",
               NEWSDESK_DATA_DIR=str(tmp_path / "data"), SCRAPY_SETTINGS_MODULE="settings")
    deadletters = tmp_path / "data" / "deadletter"
    faults = {"jnilbo": [Fault("slow", rate=1.0, delay=0.25)]}  # two at a time: the crawl takes >= 5 s
    try:
        with Simulator(["jnilbo"], NewsConfig(articles=ARTICLES), faults=faults) as sim:
            site = sim.servers["jnilbo"]
            crawl = _crawl(site.base_url, env, tmp_path / "first.json")
            deadline = time.monotonic() + 60
            while sum(site.article_fetches().values()) < ARTICLES // 3 and time.monotonic() < deadline:
                time.sleep(0.05)
            server.stop()  # the database goes away with most of the crawl still to come
            server = None
            _, stderr = crawl.communicate(timeout=180)
            assert crawl.returncode == 0, stderr.decode(errors="replace")[-3000:]
            first = json.loads((tmp_path / "first.json").read_text(encoding="utf-8"))
            assert first["finish_reason"] == "finished"
            kept = first.get("newsdesk/store/deadlettered", 0)
            assert kept > 0 and first.get("newsdesk/store/lost_batches", 0) == 0
            files = sorted(deadletters.glob("*.jsonl"))
            assert sum(len(f.read_text(encoding="utf-8").splitlines()) for f in files) == kept

            server = SecantusDBServer(host="127.0.0.1", port=port, storage_path=str(storage), replica_set_name=None)
            server.start()  # back, with what it had stored before it went away
            with MongoClient(uri, serverSelectionTimeoutMS=10_000) as client:
                before = client.away.articles.count_documents({})
            assert before + kept >= ARTICLES  # every article is stored or kept on disk
            crawl = _crawl(site.base_url, env, tmp_path / "second.json")
            _, stderr = crawl.communicate(timeout=180)
            assert crawl.returncode == 0, stderr.decode(errors="replace")[-3000:]
            second = json.loads((tmp_path / "second.json").read_text(encoding="utf-8"))
            with MongoClient(uri, serverSelectionTimeoutMS=10_000) as client:
                articles = client.away.articles
                assert articles.count_documents({}) == ARTICLES
                assert len(articles.distinct("canonical_url")) == ARTICLES
            assert second["newsdesk/deadletter/replayed"] == kept
            assert second.get("newsdesk/articles/new", 0) == 0  # nothing was fetched again as new
            assert not list(deadletters.glob("*.jsonl")) and len(list((deadletters / "replayed").glob("*.jsonl"))) == len(files)
            assert sum(site.article_fetches().values()) == ARTICLES  # the second crawl refetched nothing
    finally:
        if server is not None:
            server.stop()
