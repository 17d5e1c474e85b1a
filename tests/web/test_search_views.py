"""The search page's facets, histogram, sort and downloads, and the trend page and API."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from crawler.web import views
from crawler.web.app import create_app
from tests.web.conftest import Seeded


@pytest.fixture(scope="module")
def client(seeded: Seeded) -> Iterator[TestClient]:
    with TestClient(create_app(seeded.db)) as test_client:
        yield test_client


def test_api_facets_count_every_match(client: TestClient) -> None:
    data = client.get("/api/search", params={"q": "행정수도", "facets": "true", "per_page": 1}).json()
    assert data["total"] == 3 and len(data["hits"]) == 1
    facets = data["facets"]
    assert facets["exact"] and facets["bucket"] == "day"
    assert {f["value"]: f["articles"] for f in facets["outlet"]} == {"joongdo": 1, "daejonilbo": 1, "cctoday": 1}
    assert facets["region"] == [{"value": "세종", "articles": 3}]
    assert sum(d["articles"] for d in facets["days"]) == 3
    assert "facets" not in client.get("/api/search", params={"q": "행정수도"}).json() or \
        client.get("/api/search", params={"q": "행정수도"}).json()["facets"] is None


def test_api_sort_newest(client: TestClient) -> None:
    hits = client.get("/api/search", params={"q": "소식", "sort": "newest", "per_page": 50}).json()["hits"]
    times = [h["published"] for h in hits]
    assert len(times) > 3 and times == sorted(times, reverse=True)


@pytest.mark.parametrize("params, field", [
    ({"q": "행정수도", "sort": "oldest"}, "sort"),
    ({"q": "행정수도", "facets": "maybe"}, "facets"),
    ({"q": "행정수도", "by": "author"}, "by"),
])
def test_api_bad_sort_facets_and_split_are_422(client: TestClient, params: dict[str, str], field: str) -> None:
    path = "/api/trend" if "by" in params else "/api/search"
    response = client.get(path, params=params)
    assert response.status_code == 422 and field in response.text


def test_search_page_shows_facets_that_filter_and_a_histogram(client: TestClient) -> None:
    page = client.get("/", params={"q": "지역"}).text
    assert 'id="facets"' in page and 'id="facet-region"' in page
    assert 'href="/?q=%EC%A7%80%EC%97%AD&amp;region=%EB%B6%80%EC%82%B0"' in page  # 부산 adds region=부산
    assert 'id="chart-matches"' in page
    narrowed = client.get("/", params={"q": "지역", "region": "부산"}).text
    assert 'class="chosen"' in narrowed  # the chosen value shows, and its link removes it
    results = narrowed.split('id="results"')[1].split("</ol>")[0]
    assert "부산" in results and "대구" not in results


def test_search_page_sort_is_kept_across_pages_and_facets(client: TestClient) -> None:
    page = client.get("/", params={"q": "소식", "sort": "newest"}).text
    assert '<option value="newest" selected>' in page
    assert "sort=newest" in page.split('id="facets"')[1]
    assert client.get("/", params={"q": "소식", "sort": "sideways"}).status_code == 422


def test_download_csv_has_the_export_fields_and_only_the_matches(client: TestClient) -> None:
    response = client.get("/api/search/download", params={"q": "행정수도", "format": "csv"})
    assert response.status_code == 200
    assert response.headers["x-newsdesk-rows"] == "3" and response.headers["x-newsdesk-truncated"] == "false"
    assert "attachment" in response.headers["content-disposition"]
    text = response.content.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 3 and {"print_edition_date", "story_id", "body"} <= set(rows[0])
    assert all("행정수도" in r["title"] + r["body"] for r in rows)


def test_download_jsonl_is_capped(client: TestClient, monkeypatch: Any) -> None:
    monkeypatch.setattr(views, "DOWNLOAD_MAX", 2)
    response = client.get("/api/search/download", params={"q": "소식", "format": "jsonl"})
    lines = response.text.splitlines()
    assert len(lines) == 2 and response.headers["x-newsdesk-truncated"] == "true"
    assert json.loads(lines[0])["published"].endswith("+09:00")


@pytest.mark.parametrize("params", [{"q": "!!!", "format": "csv"}, {"q": "행정수도", "format": "xlsx"}, {"format": "csv"}])
def test_download_bad_input_is_422(client: TestClient, params: dict[str, str]) -> None:
    assert client.get("/api/search/download", params=params).status_code == 422


def test_trend_api_splits_days_by_region(client: TestClient) -> None:
    data = client.get("/api/trend", params={"q": "소식", "by": "region"}).json()
    facets = data["facets"]
    assert facets["split_by"] == "region" and {"부산", "대구", "대전", "광주"} <= set(facets["split"])
    days = [d["articles"] for d in facets["days"]]
    assert [sum(col) for col in zip(*facets["split"].values())] == days


def test_trend_page_draws_a_chart_with_the_numbers(client: TestClient) -> None:
    page = client.get("/trend", params={"q": "소식", "by": "outlet"}).text
    assert 'id="chart-trend"' in page and 'id="trend-numbers"' in page
    assert "<th>busan</th>" in page
    assert client.get("/trend").status_code == 200  # an empty form
    bad = client.get("/trend", params={"q": "소식", "by": "weather"})
    assert bad.status_code == 422 and "by:" in bad.text
