"""One run in full on the dashboard: /runs/{run_id} and /api/runs/{run_id} (figures, faults,
checks, workers, a link to its articles, its log's last lines escaped), 404 for an unknown id
and 422 for a malformed one, never 500; /runs links to it and shows faults and log paths; the
search queue on the health page and /api/health."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from crawler.store.runs import RunStore
from crawler.web import create_app

from .conftest import Seeded

LOG_XSS = "<script>alert('log')</script> \x1b[31mred\x1b[0m"


@pytest.fixture(scope="module")
def runs(seeded: Seeded, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Seeded runs plus: a faulty run with checks and a 120-line log, a distributed round with
    two workers, a run whose log is gone."""
    folder = tmp_path_factory.mktemp("logs")
    log = folder / "kwnews.log"
    log.write_text("".join(f"line {n}\n" for n in range(1, 120)) + LOG_XSS + "\n", encoding="utf-8")
    store = RunStore(seeded.db)
    faulty = store.open("kwnews", "schedule", owner="test@host", log_path=str(log))
    store.record_stats(faulty, {
        "finish_reason": "finished", "downloader/response_count": 30, "newsdesk/articles/new": 2,
        "newsdesk/dropped/too_short": 3, "downloader/response_status_count/503": 7,
        "downloader/response_status_count/200": 23, "log_count/ERROR": 1,
    })
    store.set_checks(faulty, {"results": {"items": "passed", "fields": "failed: body 40% < 80%"}, "failed": ["fields"],
                              "items": 2})
    store.close(faulty, returncode=0)
    round_ = store.open("busan", "schedule", owner="test@host", dispatcher="redis", log_path=str(folder / "gone.log"))
    for worker, new in (("w1", 3), ("w2", 5)):
        store.add_worker_stats(round_, worker, {"finish_reason": "finished", "downloader/response_count": 10,
                                                "newsdesk/articles/new": new})
    store.close(round_, returncode=0, stats={"finish_reason": "finished"})
    return {"faulty": faulty, "round": round_, "log": log}


@pytest.fixture(scope="module")
def client(seeded: Seeded, runs: dict[str, Any]) -> Iterator[TestClient]:
    with TestClient(create_app(seeded.db)) as test_client:
        yield test_client


def test_api_run_detail_has_figures_faults_checks_and_log_tail(client: TestClient, runs: dict[str, Any]) -> None:
    body = client.get(f"/api/runs/{runs['faulty']}").json()
    assert body["id"] == runs["faulty"] and body["outlet"] == "kwnews" and body["status"] == "finished"
    assert body["pages"] == 30 and body["articles"]["new"] == 2
    assert body["dropped"] == {"too_short": 3} and body["http_status"] == {"503": 7, "200": 23}
    assert body["faults"] == {"http_5xx": 7} and body["errors"]["log_errors"] == 1
    assert body["checks"]["results"]["fields"].startswith("failed") and body["checks"]["failed"] == ["fields"]
    tail = body["log_tail"]
    assert tail["problem"] is None and tail["truncated"] and len(tail["lines"]) == 50
    assert tail["lines"][0] == "line 71" and tail["lines"][-1].startswith("<script>")
    assert "\x1b" not in tail["lines"][-1]  # control characters never reach a page or a terminal
    assert body["articles_link"].startswith("/?outlet=kwnews&since=")
    for name in ("started", "ended", "articles_since", "articles_until"):
        assert body[name].endswith("+09:00"), name


def test_run_page_escapes_the_log_and_links_the_articles(client: TestClient, runs: dict[str, Any]) -> None:
    page = client.get(f"/runs/{runs['faulty']}")
    assert page.status_code == 200
    html = page.text
    assert "<script>alert('log')" not in html and "&lt;script&gt;alert(" in html
    assert "http_5xx 7" in html and "too_short 3" in html and "503 7" in html
    assert 'id="articles-link"' in html and 'href="/?outlet=kwnews&amp;since=' in html
    assert "failed: body 40% &lt; 80%" in html


def test_distributed_round_lists_its_workers_and_a_missing_log_plainly(client: TestClient, runs: dict[str, Any]) -> None:
    body = client.get(f"/api/runs/{runs['round']}").json()
    assert body["articles"]["new"] == 8
    assert sorted((w["worker"], w["articles"]["new"], w["pages"]) for w in body["workers"]) == [("w1", 3, 10), ("w2", 5, 10)]
    assert body["log_tail"]["lines"] == [] and "does not exist" in body["log_tail"]["problem"]
    html = client.get(f"/runs/{runs['round']}").text
    assert 'id="workers"' in html and "w1" in html and "does not exist" in html


def test_run_without_log_or_checks(client: TestClient, seeded: Seeded) -> None:
    run_id = RunStore(seeded.db).open("joongdo", "manual", owner="x", status="skipped", note="crawling elsewhere")
    body = client.get(f"/api/runs/{run_id}").json()
    assert body["log_tail"]["problem"] == "the run recorded no log file" and body["checks"] is None
    assert client.get(f"/runs/{run_id}").status_code == 200


@pytest.mark.parametrize("path", ["/api/runs/joongdo-20990101T000000-ffffff", "/runs/joongdo-20990101T000000-ffffff"])
def test_unknown_run_is_404(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert "no run joongdo-20990101T000000-ffffff" in response.text


@pytest.mark.parametrize("run_id", ["-leading-dash", "bad$id", "x" * 200, "%3Cscript%3E", "a b"])
@pytest.mark.parametrize("prefix", ["/api/runs/", "/runs/"])
def test_malformed_run_id_is_422_never_500(client: TestClient, prefix: str, run_id: str) -> None:
    response = client.get(prefix + run_id)
    assert response.status_code == 422, response.text
    if prefix == "/runs/":  # the page escapes what it echoes (JSON needs no HTML escaping)
        assert "<script>" not in response.text


def test_runs_page_links_each_run_and_shows_faults_and_log(client: TestClient, runs: dict[str, Any]) -> None:
    html = client.get("/runs").text
    assert f'href="/runs/{runs["faulty"]}"' in html
    assert "http_5xx 7" in html and f"<code>{runs['log']}</code>" in html
    assert "<th>Faults</th>" in html and "<th>Log</th>" in html
    listed = client.get("/api/runs", params={"outlet": "kwnews"}).json()["runs"]
    assert next(r for r in listed if r["id"] == runs["faulty"])["faults"] == {"http_5xx": 7}


def test_health_shows_the_search_queue(client: TestClient, seeded: Seeded) -> None:
    body = client.get("/api/health").json()
    assert body["search_queue"] == 0 and body["database"] == seeded.db.name  # the seed drained its queue
    html = client.get("/health").text
    assert 'id="search-queue">0 articles waiting to be indexed' in html
