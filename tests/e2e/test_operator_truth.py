"""What operators read tells the truth, end to end, in three real scenarios: a fresh demo, a
crawl with no network after a good one (then the site back), and a crawl of the news-site
simulator with faults. Each scenario runs the real commands in subprocesses against the test
server and reads every view: `health --check` / `--json`, the dashboard's /api/health,
`runs --json` and `runs show`, `outlets --json`, the `alerts` collection and a webhook
receiver on 127.0.0.1."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import uuid
from pathlib import Path
from typing import Any

import pytest

from crawler.devtools.fixturesite import DEFAULT_FIXTURES, FixtureSite, SiteSpec, find_sites
from crawler.devtools.simulator import Fault, NewsConfig, Simulator, pick_outlets
from crawler.outlets import registry
from crawler.status import CHECK_CRITICAL, CHECK_OK, CHECK_WARNING
from tests.monitoring.conftest import Receiver

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def env(mongo_uri, mongo_client, tmp_path):
    name = f"test_truth_{uuid.uuid4().hex[:10]}"
    environment = dict(os.environ, MONGO_URI=mongo_uri, NEWSDESK_DB=name, NEWSDESK_ENV="test",
                       NEWSDESK_DATA_DIR=str(tmp_path / "data"), COLUMNS="200")
    environment.pop("NEWSDESK_ALERT_WEBHOOKS", None)
    yield environment, mongo_client[name]
    mongo_client.drop_database(name)


def newsdesk(environment: dict, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "crawler.cli", *args], env=environment, cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout)


def as_json(environment: dict, *args: str) -> Any:
    proc = newsdesk(environment, *args, "--json")
    assert proc.returncode in (0, 1, 2), proc.stdout[-2000:] + proc.stderr[-2000:]
    return json.loads(proc.stdout)


def runs_json(environment: dict) -> list[dict]:
    proc = newsdesk(environment, "runs", "--json", "--limit", "100")
    assert proc.returncode == 0, proc.stderr
    return [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]


def api_health(db) -> dict:
    from fastapi.testclient import TestClient

    from crawler.web import create_app

    return TestClient(create_app(db)).get("/api/health").json()


def dashboard(db):
    from fastapi.testclient import TestClient

    from crawler.web import create_app

    return TestClient(create_app(db))


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def kst(value: str | None) -> None:
    assert value is None or value.endswith("+09:00"), value


def test_a_fresh_demo_shows_its_crawls_and_warns_of_the_never_crawled(env):
    environment, db = env
    demo = newsdesk(environment, "demo", "--db", environment["NEWSDESK_DB"], timeout=180)
    assert demo.returncode == 0, demo.stdout[-3000:] + demo.stderr[-3000:]
    crawled = {s.outlet for s in find_sites() if s.outlet in registry()}
    never = sorted(set(registry()) - crawled)
    assert crawled and never

    runs = runs_json(environment)
    assert {r["outlet"] for r in runs} == crawled
    assert {r["status"] for r in runs} == {"finished"}, [(r["outlet"], r["status"], r.get("error")) for r in runs]
    for run in runs:
        kst(run["started"]), kst(run["ended"])

    outlets = {o["name"]: o for o in as_json(environment, "outlets")}
    for name in crawled:
        last = outlets[name]["last_crawl"]
        assert last and last["status"] == "finished" and last["new"] > 0, (name, last)
        kst(last["started"])
    for name in never:
        assert not outlets[name].get("last_crawl"), (name, outlets[name].get("last_crawl"))
    table = newsdesk(environment, "outlets").stdout
    assert table.count("never") == len(never), table

    checked = newsdesk(environment, "health", "--check")
    line = checked.stdout.splitlines()[0]
    assert checked.returncode == CHECK_WARNING, checked.stdout
    assert line.startswith(f"WARNING: {len(crawled)} of {len(registry())} outlets healthy; {len(never)} never crawled: ")
    assert all(name in line for name in never) and not any(f" {name}" in line.split("never crawled:")[1].replace(",", " ")
                                                         for name in crawled)
    # the table's title counts the never-crawled apart, not as "ok"
    assert f"{len(crawled)} ok, 0 unhealthy, {len(never)} never crawled" in checked.stdout, checked.stdout[:600]

    report = as_json(environment, "health")
    assert report["verdict"] == {"code": CHECK_WARNING, "name": "WARNING"} and report["status"] == line
    states = {o["outlet"]: o for o in report["outlets"]}
    assert all(states[n]["state"] == "ok" and not states[n]["open"] for n in crawled)
    assert all(states[n]["state"] == "no runs" for n in never)
    api = api_health(db)
    assert api["check"]["code"] == CHECK_WARNING and api["check"]["status"] == line
    assert list(db.alerts.find()) == []  # nothing drifted, nothing unreachable

    # the demo again: everything saved is known, and the links the saved sites lack answer 404;
    # the site answered, so the runs finish and health stays as it was
    again = newsdesk(environment, "demo", "--db", environment["NEWSDESK_DB"], timeout=180)
    assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-3000:]
    runs = runs_json(environment)
    assert len(runs) == 2 * len(crawled)
    assert {r["status"] for r in runs} == {"finished"}, [(r["outlet"], r["status"], r.get("error")) for r in runs]
    rechecked = newsdesk(environment, "health", "--check")
    assert rechecked.returncode == CHECK_WARNING and rechecked.stdout.splitlines()[0] == line, rechecked.stdout[:800]
    assert list(db.alerts.find()) == []


def test_a_crawl_with_no_network_fails_alerts_unreachable_and_recovers(env):
    environment, db = env
    with Receiver() as hook:
        environment["NEWSDESK_ALERT_WEBHOOKS"] = json.dumps([{"url": hook.url + "/hook", "kind": "json"}])
        with FixtureSite(SiteSpec.load(DEFAULT_FIXTURES / "joongdo")) as site:
            good = newsdesk(environment, "crawl", "joongdo", "--base-url", site.base_url)
            assert good.returncode == 0, good.stdout[-2000:] + good.stderr[-2000:]

            down = newsdesk(environment, "crawl", "joongdo", "--base-url", f"http://127.0.0.1:{closed_port()}")
            assert down.returncode == 1, down.stdout[-2000:]
            assert "failed: unreachable" in down.stdout and "could not be reached" in down.stdout
            # the exception is named as Python spells it, not as the run document stores its key
            assert "\uff0e" not in down.stdout

            runs = runs_json(environment)
            assert [r["status"] for r in runs] == ["failed", "finished"]
            failed = runs[0]
            assert failed["cause"] == "unreachable" and "could not be reached" in failed["error"]
            assert "\uff0e" not in failed["error"], failed["error"]
            kst(failed["started"]), kst(failed["ended"])

            checked = newsdesk(environment, "health", "--check")
            line = checked.stdout.splitlines()[0]
            assert checked.returncode == CHECK_CRITICAL, checked.stdout
            assert line.startswith(f"CRITICAL: 1 of {len(registry())} outlets unhealthy: joongdo (unreachable)")
            assert "drift" not in checked.stdout
            assert "\uff0e" not in checked.stdout
            report = as_json(environment, "health", "joongdo")
            (outlet,) = report["outlets"]
            assert outlet["open"] == ["unreachable"] and outlet["conditions"]["drift"]["present"] is not True
            assert api_health(db)["check"]["code"] == CHECK_CRITICAL

            alerts = list(db.alerts.find({"state": "open"}))
            assert [a["condition"] for a in alerts] == ["unreachable"], alerts
            assert alerts[0]["run_id"] == failed["_id"]
            assert [(b["event"], b["condition"]) for _, b in hook.received] == [("alert", "unreachable")]

            shown = newsdesk(environment, "runs", "show", failed["_id"])
            assert shown.returncode == 0 and "failed (unreachable): the site could not be reached" in shown.stdout, shown.stdout[:800]
            table = newsdesk(environment, "runs").stdout
            assert "failed (unreachable)" in table, table
            web = dashboard(db)
            page = web.get(f"/runs/{failed['_id']}")
            assert page.status_code == 200 and "(unreachable)" in page.text and "could not be reached" in page.text
            listing = web.get("/runs")
            assert listing.status_code == 200 and "(unreachable)" in listing.text
            assert web.get(f"/api/runs/{failed['_id']}").json()["cause"] == "unreachable"

            outlets = {o["name"]: o for o in as_json(environment, "outlets")}
            assert outlets["joongdo"]["last_crawl"]["status"] == "failed"

            back = newsdesk(environment, "crawl", "joongdo", "--base-url", site.base_url)
            assert back.returncode == 0, back.stdout[-2000:]
        assert list(db.alerts.find({"state": "open"})) == []
        closed = list(db.alerts.find({"condition": "unreachable"}))
        assert [a["state"] for a in closed] == ["closed"]
        assert [(b["event"], b["condition"]) for _, b in hook.received] == [("alert", "unreachable"),
                                                                          ("recovery", "unreachable")]
        checked = newsdesk(environment, "health", "joongdo", "--check")
        assert checked.returncode == CHECK_OK, checked.stdout


CRAWL = """
import json, sys
from crawler.crawl.process import crawl_outlets
bases = json.loads(sys.argv[1])
outcomes = crawl_outlets(list(bases), base_urls=bases, settings_overrides=json.loads(sys.argv[2]))
print(json.dumps({o.outlet: o.run_id for o in outcomes}))
"""


class Down:
    """A site whose every answer is a 5xx, robots.txt included (the simulator's 5xx fault spares
    list pages and feeds: a site answering them is reached)."""

    def __enter__(self) -> "Down":
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                body = b"<html><body>server error</body></html>"
                self.send_response(503)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_a_simulated_crawl_with_faults_names_the_broken_outlet_only(env):
    environment, db = env
    broken, articles_5xx, slow, healthy = pick_outlets(4)
    # articles_5xx: the simulator's 5xx on every article page (list pages answer): the site is reached
    faults = {articles_5xx: [Fault("5xx", rate=1.0, times=100)], slow: [Fault("slow", rate=0.5, delay=0.6)]}
    overrides = {"DOWNLOAD_TIMEOUT": 3, "RETRY_TIMES": 1, "NEWSDESK_RETRY_BACKOFF_MAX": 0.5,
                 "NEWSDESK_SLOW_RESPONSE_SECONDS": 0.5, "AUTOTHROTTLE_ENABLED": False, "DOWNLOAD_DELAY": 0}
    with Simulator([articles_5xx, slow, healthy], NewsConfig(articles=8), faults=faults) as sim, Down() as down:
        bases = dict(sim.base_urls, **{broken: down.url})
        proc = subprocess.run([sys.executable, "-c", CRAWL, json.dumps(bases), json.dumps(overrides)],
                              env=environment, cwd=ROOT, capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr[-3000:]

    runs = {r["outlet"]: r for r in runs_json(environment)}
    assert runs[broken]["status"] == "failed" and runs[broken]["cause"] == "server_errors", runs[broken].get("error")
    assert "5xx" in runs[broken]["error"] or "server error" in runs[broken]["error"], runs[broken]["error"]
    # every article 5xx though the list pages answered: the site's article pages are down, a failed run
    assert runs[articles_5xx]["status"] == "failed" and runs[articles_5xx]["cause"] == "server_errors"
    assert "every article page failed" in runs[articles_5xx]["error"], runs[articles_5xx]["error"]
    assert runs[articles_5xx]["faults"].get("http_5xx", 0) > 0 and runs[articles_5xx]["articles"]["new"] == 0
    for name in (slow, healthy):
        assert runs[name]["status"] == "finished" and not runs[name].get("cause"), (name, runs[name].get("error"))
        assert runs[name]["articles"]["new"] > 0
    assert runs[slow]["faults"].get("slow_response", 0) > 0

    report = as_json(environment, "health", broken, articles_5xx, slow, healthy)
    states = {o["outlet"]: o for o in report["outlets"]}
    assert states[broken]["open"] == ["unreachable"], states[broken]["open"]
    assert "server error" in states[broken]["conditions"]["unreachable"]["cause"]
    assert states[articles_5xx]["open"] == ["unreachable"], states[articles_5xx]["open"]
    assert "every article page failed" in states[articles_5xx]["conditions"]["unreachable"]["cause"]
    assert states[slow]["open"] == [] and states[healthy]["open"] == []
    assert not any(o["conditions"]["drift"]["present"] for o in report["outlets"])
    checked = newsdesk(environment, "health", broken, articles_5xx, slow, healthy, "--check")
    line = checked.stdout.splitlines()[0]
    assert checked.returncode == CHECK_CRITICAL and line.startswith("CRITICAL: 2 of 4 outlets unhealthy: ")
    assert f"{broken} (unreachable)" in line and f"{articles_5xx} (unreachable)" in line
    assert "drift" not in checked.stdout
    assert sorted((a["outlet"], a["condition"]) for a in db.alerts.find({"state": "open"})) == sorted(
        [(broken, "unreachable"), (articles_5xx, "unreachable")])
    outlets = {o["name"]: o for o in as_json(environment, "outlets")}
    assert outlets[broken]["last_crawl"]["status"] == "failed"
    assert outlets[healthy]["last_crawl"]["status"] == "finished"
