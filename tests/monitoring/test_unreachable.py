"""A crawl that never reached its site is a failed run with a cause, health says `unreachable`
(never drift), and `health --check` gives Nagios verdicts: never-crawled outlets and a database
without any run are not "OK"."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import uuid
from datetime import timedelta
from pathlib import Path

import pytest

from crawler.devtools.fixturesite import DEFAULT_FIXTURES, FixtureSite, SiteSpec
from crawler.monitoring.conditions import evaluate
from crawler.outlets import registry
from crawler.status import CHECK_CRITICAL, CHECK_OK, CHECK_UNKNOWN, CHECK_WARNING, check_verdict
from crawler.store.runs import RunStore, reach_failure

ROOT = Path(__file__).resolve().parents[2]
EXC = "downloader/exception_type_count/"


def robots(stats: dict) -> dict:
    """The robots.txt request and answer every crawl starts with."""
    return {"robotstxt/request_count": 1, "robotstxt/response_count": 1, "robotstxt/response_status_count/200": 1,
            "downloader/request_count": 1 + stats.pop("requests", 0),
            "downloader/response_count": 1 + stats.pop("responses", 0),
            "downloader/response_status_count/200": 1 + stats.pop("ok", 0), **stats}


@pytest.mark.parametrize(("stats", "cause"), [
    ({"downloader/request_count": 21, f"{EXC}twisted.internet.error.DNSLookupError": 21}, "dns"),
    ({"downloader/request_count": 9, f"{EXC}twisted.internet.error.ConnectionRefusedError": 9}, "unreachable"),
    ({"downloader/request_count": 4, f"{EXC}twisted.internet.error.TCPTimedOutError": 4}, "unreachable"),
    ({"downloader/request_count": 3, f"{EXC}OpenSSL.SSL.Error": 3}, "tls"),
    (robots({"requests": 6, "responses": 6, "downloader/response_status_count/503": 6}), "server_errors"),
    (robots({"requests": 5, "responses": 5, "downloader/response_status_count/403": 4,
             "downloader/response_status_count/429": 1}), "blocked"),
    (robots({"robotstxt/forbidden": 12}), "robots"),
])
def test_a_crawl_that_got_no_page_has_a_cause(stats, cause):
    found = reach_failure(stats)
    assert found is not None and found[0] == cause and found[1]


@pytest.mark.parametrize("stats", [
    robots({"requests": 10, "responses": 10, "ok": 7, "downloader/response_status_count/503": 3}),
    robots({"requests": 2, "responses": 1, "ok": 1, f"{EXC}twisted.internet.error.TCPTimedOutError": 1}),
    robots({"requests": 1, "responses": 1, "downloader/response_status_count/404": 1}),  # reached: a missing page
    {},  # asked nothing of the site
])
def test_a_crawl_that_reached_the_site_has_no_reach_failure(stats):
    assert reach_failure(stats) is None


def test_the_cause_names_the_exception_as_python_spells_it_from_stored_stats():
    # a run document stores dotted stat names with U+FF0E; the message must not show them
    stats = {"downloader/request_count": 8,
             f"{EXC}scrapy\uff0eexceptions\uff0eDownloadConnectionRefusedError": 8}
    cause, message = reach_failure(stats)
    assert cause == "unreachable" and "(DownloadConnectionRefusedError x8)" in message and "\uff0e" not in message


def test_run_store_closes_an_unreached_crawl_as_failed_with_its_cause(mongo_db):
    runs = RunStore(mongo_db)
    run_id = runs.open("joongdo", "manual", owner="test")
    stats = {"finish_reason": "finished", "downloader/request_count": 21,
             f"{EXC}twisted.internet.error.DNSLookupError": 21, "log_count/ERROR": 21}
    runs.record_stats(run_id, stats)
    closed = runs.close(run_id, returncode=0)
    assert closed["status"] == "failed" and closed["cause"] == "dns"
    assert "did not resolve" in closed["error"]
    reached = runs.open("joongdo", "manual", owner="test")
    runs.record_stats(reached, robots({"finish_reason": "finished", "requests": 3, "responses": 3, "ok": 3}))
    assert runs.close(reached, returncode=0)["status"] == "finished"


def test_unreachable_is_its_own_condition_and_never_drift(new_history, now):
    history = new_history("joongdo", start=now - timedelta(days=3), every=timedelta(hours=2))
    history.repeat(30, new=3)
    down = history.add(status="failed", new=0, items=0, listed=0, pages=0, statuses={}, coverage={},
                       error="the site's name did not resolve (DNS): no page fetched")
    down["cause"] = "dns"
    down["checks"]["coverage"] = {"title": 0.0, "body": 0.0, "published": 0.0, "authors": 0.0}
    health = evaluate("joongdo", history.runs, now=history.clock)
    assert health.conditions["unreachable"].present is True
    assert "did not resolve" in health.conditions["unreachable"].cause
    assert health.conditions["drift"].present is not True
    # the same empty run recorded as finished (as before) must not read as drift either
    down.update(status="finished", cause=None)
    assert evaluate("joongdo", history.runs, now=history.clock).conditions["drift"].present is not True
    history.add(new=3)  # the site is back
    assert evaluate("joongdo", history.runs, now=history.clock).conditions["unreachable"].present is False


def doc(outlet: str, state: str = "ok", open_: tuple[str, ...] = (), judged: bool = True) -> dict:
    present = False if judged else None
    return {"outlet": outlet, "state": state, "open": list(open_),
            "conditions": {name: {"present": (name in open_) or present} for name in ("silent", "drift")}}


@pytest.mark.parametrize(("report", "history", "code", "start"), [
    ([doc("a"), doc("b")], True, CHECK_OK, "OK: 2 outlets healthy"),
    ([doc("a"), doc("b", state="no runs", judged=False)], True, CHECK_WARNING, "WARNING: 1 of 2 outlets healthy; 1 never crawled: b"),
    ([doc("a"), doc("b", judged=False)], True, CHECK_WARNING, "WARNING: 1 of 2 outlets healthy; 1 not judged yet"),
    ([doc("a", state="unhealthy", open_=("drift",)), doc("b", state="no runs", judged=False)], True, CHECK_CRITICAL,
     "CRITICAL: 1 of 2 outlets unhealthy: a (drift); 1 never crawled: b"),
    ([doc("a", state="no runs", judged=False)], False, CHECK_UNKNOWN, "UNKNOWN: database nd holds no crawl runs"),
])
def test_check_verdicts_follow_nagios(report, history, code, start):
    got_code, line = check_verdict(report, database="nd", history=history)
    assert got_code == code and line.startswith(start), line


@pytest.fixture
def env(mongo_uri, mongo_client, tmp_path):
    name = f"test_unreach_{uuid.uuid4().hex[:10]}"
    environment = dict(os.environ, MONGO_URI=mongo_uri, NEWSDESK_DB=name, NEWSDESK_ENV="test",
                       NEWSDESK_DATA_DIR=str(tmp_path / "data"), COLUMNS="200")
    yield environment, mongo_client[name]
    mongo_client.drop_database(name)


def newsdesk(environment: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "crawler.cli", *args], env=environment, cwd=ROOT,
                          capture_output=True, text=True, timeout=240)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.e2e
def test_a_crawl_with_no_site_is_a_failed_run_and_health_says_unreachable(env):
    environment, db = env
    assert newsdesk(environment, "health", "joongdo", "--check").returncode == CHECK_UNKNOWN  # nothing crawled yet
    with FixtureSite(SiteSpec.load(DEFAULT_FIXTURES / "joongdo")) as site:
        first = newsdesk(environment, "crawl", "joongdo", "--base-url", site.base_url)
    assert first.returncode == 0, first.stdout[-2000:] + first.stderr[-2000:]
    down = newsdesk(environment, "crawl", "joongdo", "--base-url", f"http://127.0.0.1:{closed_port()}")
    runs = RunStore(db).find(outlet="joongdo")
    assert [r["status"] for r in runs][:2] == ["failed", "finished"], runs
    assert runs[0]["cause"] == "unreachable" and "could not be reached" in runs[0]["error"]
    assert down.returncode != 0, down.stdout[-2000:]  # the command says the crawl failed
    checked = newsdesk(environment, "health", "joongdo", "--check")
    assert checked.returncode == CHECK_CRITICAL, checked.stdout + checked.stderr
    assert checked.stdout.splitlines()[0].startswith("CRITICAL: 1 of 1 outlets unhealthy: joongdo (unreachable)")
    assert "drift" not in checked.stdout.splitlines()[0]
    report = json.loads(newsdesk(environment, "health", "joongdo", "--json").stdout)
    assert report["verdict"] == {"code": CHECK_CRITICAL, "name": "CRITICAL"}
    (outlet,) = report["outlets"]
    assert outlet["open"] == ["unreachable"] and outlet["conditions"]["drift"]["present"] is not True
    everyone = newsdesk(environment, "health", "--check")
    assert everyone.returncode == CHECK_CRITICAL and f"{len(registry()) - 1} never crawled" in everyone.stdout.splitlines()[0]


def test_the_dashboard_gives_the_same_verdict_as_health_check(env, new_history):
    from fastapi.testclient import TestClient

    from crawler.web import create_app

    environment, db = env
    client = TestClient(create_app(db))
    assert client.get("/api/health").json()["check"]["name"] == "UNKNOWN"  # no run in this database
    from datetime import datetime, timezone

    history = new_history("joongdo", start=datetime.now(timezone.utc) - timedelta(hours=9), every=timedelta(hours=2))
    history.repeat(3, new=3)
    down = history.add(status="failed", new=0, items=0, listed=0, pages=0, statuses={},
                       error="the site could not be reached (connections refused, reset or timed out): no page fetched")
    down["cause"] = "unreachable"
    db.runs.insert_many(history.runs)
    verdict = client.get("/api/health").json()["check"]
    assert verdict["code"] == CHECK_CRITICAL and verdict["name"] == "CRITICAL"
    n = len(registry())
    assert verdict["status"].startswith(f"CRITICAL: 1 of {n} outlets unhealthy: joongdo (unreachable); {n - 1} never crawled")
    cli = json.loads(newsdesk(environment, "health", "--json").stdout)
    assert cli["status"] == verdict["status"] and cli["verdict"]["code"] == verdict["code"]
    page = client.get("/health")
    assert page.status_code == 200 and 'id="check"' in page.text and "CRITICAL" in page.text


def test_every_article_page_failing_is_a_failed_run_though_the_lists_answered():
    stats = robots({"requests": 9, "responses": 9, "ok": 3, "downloader/response_status_count/503": 6,
                    "newsdesk/failed_articles": 6, "newsdesk/failed/http_503": 6})
    found = reach_failure(stats)
    assert found is not None and found[0] == "server_errors" and "every article page failed (6)" in found[1]
    refused = robots({"requests": 5, "responses": 5, "ok": 1, "downloader/response_status_count/403": 4,
                      "newsdesk/failed_articles": 4, "newsdesk/failed/http_403": 4})
    assert reach_failure(refused)[0] == "blocked"
    some_parsed = dict(stats, **{"newsdesk/articles_parsed": 1})
    assert reach_failure(some_parsed) is None  # a site that served one article was reached


def test_robots_forbidding_every_article_page_is_a_failed_run():
    stats = robots({"requests": 2, "responses": 2, "ok": 2, "robotstxt/forbidden": 12,
                    "newsdesk/failed_articles": 12, "newsdesk/failed/robots": 12})
    assert reach_failure(stats) == ("robots", "robots.txt forbade every article page (12)")


def test_article_pages_that_are_gone_do_not_make_the_site_unreachable():
    """A recrawl whose only new links are missing pages (404): the site answered, the run finished."""
    gone = robots({"requests": 8, "responses": 8, "ok": 3, "downloader/response_status_count/404": 5,
                   "newsdesk/failed_articles": 5, "newsdesk/failed/http_404": 5})
    assert reach_failure(gone) is None
    mixed = robots({"requests": 8, "responses": 8, "ok": 3, "downloader/response_status_count/503": 4,
                    "downloader/response_status_count/404": 1, "newsdesk/failed_articles": 5,
                    "newsdesk/failed/http_503": 4, "newsdesk/failed/http_404": 1})
    assert reach_failure(mixed) is None
