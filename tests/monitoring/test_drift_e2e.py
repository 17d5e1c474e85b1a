"""End to end: 중도일보's site changes its article template; the next crawl raises the drift
alert to a webhook on 127.0.0.1 exactly once, and the crawl after the fix sends the recovery.

The changed site is the saved 중도일보 copy rewritten at test time: the title and body
containers renamed (so the outlet's selectors miss and the generic extractor takes over) and
the article keys changed (a redesigned site publishes new articles, and an incremental crawl
only fetches those). Crawls are real `newsdesk crawl` processes, as an operator runs them.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from crawler.devtools.fixturesite import DEFAULT_FIXTURES, FixtureSite, SiteSpec
from crawler.store.runs import RunStore

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
SITE = DEFAULT_FIXTURES / "joongdo"
SECRET = "B0000SECRETxyz"


def site_variant(tmp: Path, key_prefix: str, *, changed_template: bool) -> Path:
    """The saved site with every article key starting with `key_prefix` instead of "20",
    and optionally the article template of a redesign."""
    folder = tmp / f"joongdo-{key_prefix}{'-changed' if changed_template else ''}"
    shutil.copytree(SITE, folder)
    for path in folder.iterdir():
        if path.suffix not in (".html", ".json"):
            continue
        text = path.read_text(encoding="utf-8")
        text = re.sub(r"(?<=key=)20(?=\d{15})", key_prefix, text)
        if changed_template and path.suffix == ".html":
            text = (text.replace('class="v-title1"', 'class="headline-v2"')
                        .replace('class="view-text"', 'class="story-wrap-v2"')
                        .replace('id="font"', 'id="story-v2"'))
        path.write_text(text, encoding="utf-8")
    return folder


def newsdesk(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "crawler.cli", *args], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=240)


def crawl(env: dict[str, str], folder: Path) -> subprocess.CompletedProcess:
    with FixtureSite(SiteSpec.load(folder)) as site:
        proc = newsdesk(env, "crawl", "joongdo", "--base-url", site.base_url)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc


@pytest.fixture
def env(mongo_uri, mongo_client, tmp_path):
    db_name = f"test_drift_{uuid.uuid4().hex[:10]}"
    environment = dict(os.environ, MONGO_URI=mongo_uri, NEWSDESK_DB=db_name, NEWSDESK_ENV="test",
                       NEWSDESK_DATA_DIR=str(tmp_path / "data"), NEWSDESK_ALERT_BACKOFF="0.1")
    yield environment, mongo_client[db_name]
    mongo_client.drop_database(db_name)


def test_a_changed_template_raises_one_drift_alert_and_one_recovery(env, tmp_path, webhook_receiver):
    environment, db = env
    with webhook_receiver() as receiver:
        environment["NEWSDESK_ALERT_WEBHOOKS"] = json.dumps([
            {"url": f"{receiver.url}/services/T0000/{SECRET}", "kind": "slack"},
            {"url": f"{receiver.url}/hook?token={SECRET}", "kind": "json"},
        ])

        crawl(environment, SITE)  # the site as it was: the outlet's usual
        (first,) = RunStore(db).find(outlet="joongdo")
        assert first["status"] == "finished" and first["checks"]["failed"] == []
        assert first["checks"]["fallback_share"] == 0.0 and first["checks"]["items"] == 6
        assert receiver.received == []

        crawl(environment, site_variant(tmp_path, "31", changed_template=True))  # redesigned
        assert len(receiver.received) == 2, receiver.received
        slack = next(body for path, body in receiver.received if path.startswith("/services/"))
        generic = next(body for path, body in receiver.received if path.startswith("/hook"))
        assert slack["text"].startswith("newsdesk: 중도일보 (joongdo) is likely selector drift — ")
        assert "fallback extraction on 100% of articles (usually 0%)" in slack["text"]
        assert (generic["event"], generic["condition"], generic["outlet"]) == ("alert", "drift", "joongdo")
        drifted = RunStore(db).find(outlet="joongdo", limit=1)[0]
        assert generic["run_id"] == drifted["_id"] and generic["log_path"] == drifted["log_path"]
        assert "fallback_share" in drifted["checks"]["failed"]  # the per-run check saw it too
        log_text = Path(drifted["log_path"]).read_text(encoding="utf-8", errors="replace")
        assert "ALERT newsdesk: 중도일보 (joongdo) is likely selector drift" in log_text
        assert SECRET not in log_text

        check = newsdesk(environment, "health", "joongdo", "--check")
        assert check.returncode == 2, check.stdout + check.stderr
        assert check.stdout.startswith("CRITICAL: 1 of 1 outlets unhealthy: joongdo (drift)")

        crawl(environment, site_variant(tmp_path, "32", changed_template=True))  # still broken: no repeat
        assert len(receiver.received) == 2

        crawl(environment, site_variant(tmp_path, "33", changed_template=False))  # selectors match again
        assert len(receiver.received) == 4
        recovery = dict(receiver.received[2:])
        assert recovery[f"/services/T0000/{SECRET}"]["text"].startswith(
            "newsdesk: 중도일보 (joongdo) recovered: no longer likely selector drift after ")
        assert recovery[f"/hook?token={SECRET}"]["event"] == "recovery"
        check = newsdesk(environment, "health", "joongdo", "--check")
        assert check.returncode == 0 and check.stdout.startswith("OK: 1 outlets healthy"), check.stdout
    assert db.alerts.count_documents({"state": "open"}) == 0
    assert db.alerts.count_documents({"state": "closed", "condition": "drift"}) == 1
