"""Every fault the simulator can serve, each on its own outlet, in one crawl of 12 outlets:
the crawl finishes, nothing crashes, and each fault shows up, by name, in the run's stats and
in `newsdesk runs --json` (the run document's `faults` summary)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from crawler.devtools.simulator import KINDS, Fault, NewsConfig, Simulator, pick_outlets

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]

# fault kind -> the key it must raise in the run's `faults` summary
EXPECTED = {
    "5xx": "http_5xx",
    "429": "http_429",
    "slow": "slow_response",
    "timeout": "timeouts",
    "reset": "connection_errors",
    "truncated": "truncated_html",
    "malformed": "malformed_html",
    "charset": "charset_mismatch",
    "redirect": "failed_redirect_loop",
    "oversized": "failed_oversized",
    "empty": "empty_body",
    "robots": "robots_forbidden",
}

CRAWL = """
import json, sys
from crawler.crawl.process import crawl_outlets
bases = json.loads(sys.argv[1])
outcomes = crawl_outlets(list(bases), base_urls=bases, settings_overrides=json.loads(sys.argv[2]))
print(json.dumps({o.outlet: {"run_id": o.run_id, "stats": o.stats} for o in outcomes}, default=str))
"""


def test_every_fault_is_survived_and_counted(mongo_uri, mongo_client, tmp_path):
    assert set(EXPECTED) == set(KINDS)
    outlets = pick_outlets(len(KINDS))
    faults = {outlet: [Fault(kind, rate=0.5, times=3 if kind == "reset" else 1, hang=4.5, delay=0.6, size=1_500_000)]
              for outlet, kind in zip(outlets, KINDS)}
    db_name = f"test_faults_{uuid.uuid4().hex[:10]}"
    env = dict(os.environ, MONGO_URI=mongo_uri, NEWSDESK_DB=db_name, NEWSDESK_ENV="test",
               NEWSDESK_DATA_DIR=str(tmp_path / "data"), COLUMNS="200")
    overrides = {
        "DOWNLOAD_TIMEOUT": 3, "DOWNLOAD_MAXSIZE": 1_000_000, "DOWNLOAD_WARNSIZE": 0, "RETRY_TIMES": 2,
        "NEWSDESK_SLOW_RESPONSE_SECONDS": 0.5, "NEWSDESK_RETRY_BACKOFF_MAX": 1.0, "REDIRECT_MAX_TIMES": 5,
        "LOG_FILE": str(tmp_path / "crawl.log"), "LOG_LEVEL": "INFO",
    }
    try:
        with Simulator(outlets, NewsConfig(articles=12), faults=faults) as sim:
            proc = subprocess.run([sys.executable, "-c", CRAWL, json.dumps(sim.base_urls), json.dumps(overrides)],
                                  env=env, cwd=ROOT, capture_output=True, text=True, timeout=240)
            served = dict(sim.board.served)
        log = (tmp_path / "crawl.log").read_text(encoding="utf-8", errors="replace")
        assert proc.returncode == 0, proc.stderr[-3000:]
        # nothing of ours crashed: no callback, pipeline or signal handler raised (a CPU-starved
        # reactor can log Twisted's own AlreadyCalledError for a late timed call: not a crash)
        for crash in ("Spider error processing", "Error processing", "Unhandled error in Deferred",
                      "Error caught on signal handler", "Error while"):
            assert crash not in log, log[log.index(crash) - 500:][:4000]
        outcomes = json.loads(proc.stdout.strip().splitlines()[-1])
        for outlet, kind in zip(outlets, KINDS):
            assert served.get((outlet, kind)), f"the simulator served no {kind} fault to {outlet}"
            stats = outcomes[outlet]["stats"]
            assert stats["finish_reason"] == "finished", (kind, stats["finish_reason"])
            assert not stats.get("spider_exceptions/count") and not stats.get("newsdesk/parse_errors"), kind

        runs = subprocess.run([sys.executable, "-m", "crawler.cli", "runs", "--json", "--limit", "50"],
                              env=env, cwd=ROOT, capture_output=True, text=True, timeout=60)
        assert runs.returncode == 0, runs.stderr
        docs = {doc["outlet"]: doc for doc in map(json.loads, runs.stdout.splitlines())}
        for outlet, kind in zip(outlets, KINDS):
            faults_seen = docs[outlet].get("faults") or {}
            assert faults_seen.get(EXPECTED[kind], 0) > 0, f"{kind} on {outlet}: run shows faults {faults_seen}"
            if kind == "robots":  # robots.txt forbade every article page: the crawl fetched no article
                assert docs[outlet]["status"] == "failed" and docs[outlet]["cause"] == "robots", docs[outlet]
            else:
                assert docs[outlet]["status"] == "finished", (kind, docs[outlet].get("error"))
        # the table operators read shows them by name too
        table = subprocess.run([sys.executable, "-m", "crawler.cli", "runs", "--limit", "50"],
                               env=env, cwd=ROOT, capture_output=True, text=True, timeout=60)
        assert table.returncode == 0 and "faults" in table.stdout and "http_5xx" in table.stdout, table.stdout
        # faults stay where they were served: an outlet without this fault never shows it
        clean = [o for o, k in zip(outlets, KINDS) if k not in ("5xx", "429", "timeout", "reset")]
        for outlet in clean:
            assert not (docs[outlet].get("faults") or {}).get("http_5xx"), outlet
        # articles of the outlets whose faults recover (retried) are all stored
        stored = mongo_client[db_name].articles
        for outlet, kind in zip(outlets, KINDS):
            if kind in ("5xx", "slow", "charset"):
                assert stored.count_documents({"outlet": outlet}) == 12, kind
    finally:
        mongo_client.drop_database(db_name)
