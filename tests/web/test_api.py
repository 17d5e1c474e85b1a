"""The JSON API and the pages' HTML over a seeded database (FastAPI's TestClient, in process)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from crawler.monitoring.conditions import Condition
from crawler.outlets import registry
from crawler.store.alerts import AlertStore
from crawler.text.dates import KST
from crawler.web import create_app
from crawler.web.app import is_loopback, loopback_hosts

from .conftest import STORY, XSS_TITLE, Seeded, seed


@pytest.fixture(scope="module")
def client(seeded: Seeded) -> Iterator[TestClient]:
    with TestClient(create_app(seeded.db)) as test_client:
        yield test_client


def _detail(response: Any) -> str:
    return " ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in response.json()["detail"])


# -- search --------------------------------------------------------------------------------------

def test_search_ranks_and_highlights(client: TestClient) -> None:
    body = client.get("/api/search", params={"q": "행정수도 특별법"}).json()
    assert body["total"] == 3 and body["total_exact"]
    assert {hit["outlet"] for hit in body["hits"]} == {"joongdo", "daejonilbo", "cctoday"}
    hit = body["hits"][0]
    assert hit["published"].endswith("+09:00")
    assert hit["outlet_name"] in ("중도일보", "대전일보", "충청투데이")
    marked = [s["text"] for s in hit["title_segments"] if s["highlight"]]
    assert "행정수도" in marked
    assert any(seg["highlight"] for snippet in hit["snippets"] for seg in snippet)


def test_search_filters_by_outlet_and_day(client: TestClient, seeded: Seeded) -> None:
    body = client.get("/api/search", params={"q": "행정수도", "outlet": "daejonilbo"}).json()
    assert [hit["outlet"] for hit in body["hits"]] == ["daejonilbo"]
    long_ago = (seeded.now - timedelta(days=30)).astimezone(KST).date().isoformat()
    body = client.get("/api/search", params={"q": "행정수도", "until": long_ago}).json()
    assert body["total"] == 0 and body["hits"] == []


def test_search_finds_a_revised_article_by_its_new_text(client: TestClient) -> None:
    body = client.get("/api/search", params={"q": "여야 반응"}).json()
    assert [hit["canonical_url"].rsplit("/", 1)[1] for hit in body["hits"]] == ["story-a"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"q": ""}, "q"),
        ({"q": "x" * 201}, "q"),
        ({"q": "행정", "per_page": 101}, "per_page"),
        ({"q": "행정", "page": 0}, "page"),
        ({"q": "행정", "since": "2024-13-01"}, "since"),
        ({"q": "행정", "since": "yesterday"}, "since"),
        ({"q": "행정", "since": "2024-05-02", "until": "2024-05-01"}, "since"),
        ({"q": "행정", "outlet": "nosuchpaper"}, "outlet"),
        ({"q": "!!!"}, "q"),
        ({"q": "행정", "sido": "충낭"}, "sido"),
        ({"q": "행정", "sigungu": "중구"}, "sigungu"),
        ({"q": "행정", "sido": "충남", "sigungu": "유성구"}, "sigungu"),
    ],
)
def test_search_rejects_bad_parameters(client: TestClient, params: dict[str, Any], field: str) -> None:
    response = client.get("/api/search", params=params)
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"] == ["query", field], _detail(response)


# -- articles, revisions, stories ----------------------------------------------------------------

def test_article_detail(client: TestClient, seeded: Seeded) -> None:
    body = client.get(f"/api/articles/{seeded.ids['story-a']}").json()
    assert body["title"] == "행정수도 특별법 국회 발의 (종합)"
    assert body["outlet"] == "joongdo" and body["outlet_name"] == "중도일보"
    assert body["story_id"] == STORY and body["revision"] == 1
    assert body["modified_detected"] is True
    assert body["first_seen"].endswith("+09:00")
    assert "minhash" not in body and "_id" not in body


def test_article_by_url(client: TestClient, seeded: Seeded) -> None:
    body = client.get("/api/articles/by-url", params={"url": "https://cctoday.example.kr/news/story-c"}).json()
    assert body["id"] == seeded.ids["story-c"]
    assert client.get("/api/articles/by-url", params={"url": "https://nowhere.example/x"}).status_code == 404


def test_article_errors(client: TestClient) -> None:
    assert client.get("/api/articles/0123456789abcdef01234567").status_code == 404
    response = client.get("/api/articles/not-an-id")
    assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["path", "article_id"]


def test_revisions_keep_the_first_version(client: TestClient, seeded: Seeded) -> None:
    body = client.get(f"/api/articles/{seeded.ids['story-a']}/revisions").json()
    assert body["current_revision"] == 1
    assert [(r["revision"], r["title"]) for r in body["revisions"]] == [(0, "행정수도 특별법 발의")]
    assert body["revisions"][0]["replaced_at"].endswith("+09:00")
    none = client.get(f"/api/articles/{seeded.ids['story-b']}/revisions").json()
    assert none["revisions"] == [] and none["current_revision"] == 0


def test_story_copies_across_outlets(client: TestClient, seeded: Seeded) -> None:
    body = client.get(f"/api/stories/{STORY}").json()
    assert body["outlets"] == 3
    assert [c["outlet"] for c in body["copies"]] == ["joongdo", "daejonilbo", "cctoday"]  # earliest first
    assert [c["similarity"] for c in body["copies"]] == [None, 0.91, 0.87]
    assert {c["id"] for c in body["copies"]} == {seeded.ids[k] for k in ("story-a", "story-b", "story-c")}
    assert client.get("/api/stories/s0000000000000000").status_code == 404
    assert client.get("/api/stories/bad%20id").status_code == 422


def test_articles_newest_first_with_keyset_pages(client: TestClient) -> None:
    first = client.get("/api/articles", params={"per_page": 4}).json()
    assert len(first["articles"]) == 4 and first["next"]
    seen = [a["id"] for a in first["articles"]]
    cursor = first["next"]
    while cursor:
        page = client.get("/api/articles", params={"per_page": 4, "before": cursor}).json()
        seen += [a["id"] for a in page["articles"]]
        cursor = page["next"]
    everything = client.get("/api/articles", params={"per_page": 100}).json()["articles"]
    assert seen == [a["id"] for a in everything]
    assert len(seen) == len(set(seen)) == 15
    published = [a["published"] for a in everything]
    assert published == sorted(published, reverse=True)


def test_articles_filters_and_limits(client: TestClient) -> None:
    body = client.get("/api/articles", params={"outlet": ["busan", "imaeil"], "per_page": 100}).json()
    assert body["articles"] and {a["outlet"] for a in body["articles"]} == {"busan", "imaeil"}
    body = client.get("/api/articles", params={"region": "세종"}).json()
    assert len(body["articles"]) == 3
    assert client.get("/api/articles", params={"since": "2020-01-01", "until": "2022-01-01"}).status_code == 422
    response = client.get("/api/articles", params={"before": "garbage"})
    assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["query", "before"]


# -- volume, runs, health ------------------------------------------------------------------------

def test_volume_per_day_outlet_region(client: TestClient, seeded: Seeded) -> None:
    body = client.get("/api/volume").json()
    assert len(body["by_day"]) == 14 and body["total"] == 15
    assert sum(d["articles"] for d in body["by_day"]) == 15
    outlets = {o["name"]: o["articles"] for o in body["by_outlet"]}
    assert outlets["joongdo"] == 1 + 2  # the story's first copy and two filler days
    assert next(o for o in body["by_outlet"] if o["name"] == "joongdo")["label"] == "중도일보"
    assert {r["name"]: r["articles"] for r in body["by_region"]}["세종"] == 3
    only = client.get("/api/volume", params={"outlet": "busan"}).json()
    assert only["total"] == outlets["busan"] and [o["name"] for o in only["by_outlet"]] == ["busan"]


def test_volume_window_is_capped(client: TestClient) -> None:
    response = client.get("/api/volume", params={"since": "2024-01-01", "until": "2024-06-30"})
    assert response.status_code == 422 and "at most 92" in response.json()["detail"][0]["msg"]


def test_runs(client: TestClient, seeded: Seeded) -> None:
    body = client.get("/api/runs").json()
    assert [r["id"] for r in body["runs"]] == [seeded.runs["bad"], seeded.runs["ok"]]
    ok = body["runs"][1]
    assert ok["status"] == "finished" and ok["articles"]["new"] == 4 and ok["pages"] == 12
    assert "stats" not in ok
    failed = client.get("/api/runs", params={"failed": True}).json()["runs"]
    assert [r["outlet"] for r in failed] == ["kwnews"]
    assert client.get("/api/runs", params={"outlet": "joongdo"}).json()["runs"][0]["id"] == seeded.runs["ok"]
    assert client.get("/api/runs", params={"per_page": 1000}).status_code == 422


def test_health(client: TestClient) -> None:
    body = client.get("/api/health").json()
    rows = {row["outlet"]: row for row in body["outlets"]}
    assert len(rows) >= 27
    assert rows["kwnews"]["verdict"] == "failing" and "exited with code 1" in rows["kwnews"]["reason"]
    assert rows["joongdo"]["verdict"] == "ok" and rows["joongdo"]["new_24h"] == 4
    assert rows["busan"]["verdict"] == "no runs"
    assert body["outlets"][0]["outlet"] == "kwnews"  # worst first
    assert rows["jnilbo"]["verified"] is True and rows["kwnews"]["verified"] is False
    assert [r["outlet"] for r in body["recent_failures"]] == ["kwnews"]


def test_outlets(client: TestClient) -> None:
    body = {row["name"]: row for row in client.get("/api/outlets").json()}
    assert body["joongdo"]["name_ko"] == "중도일보" and body["joongdo"]["region"] == "대전"
    assert body["jnilbo"]["verified"] is True and body["jnilbo"]["unverified"] is None
    assert body["joongdo"]["verified"] is False and "no saved page" in body["joongdo"]["unverified"]


# -- read-only, limits, headers ------------------------------------------------------------------

def test_read_only_and_size_limits(client: TestClient) -> None:
    for method in ("post", "put", "delete", "patch"):
        response = client.request(method.upper(), "/api/search?q=x")
        assert response.status_code == 405 and response.headers["allow"] == "GET, HEAD"
    assert client.request("GET", "/api/outlets", content=b"x" * 10).status_code == 413
    assert client.get("/api/search?q=a&" + "region=x&" * 300).status_code == 414


def test_security_headers_everywhere(client: TestClient) -> None:
    for path in ("/", "/api/outlets", "/no/such/page", "/static/style.css"):
        headers = client.get(path).headers
        csp = headers["content-security-policy"]
        assert "default-src 'none'" in csp and "script-src" not in csp and "unsafe-inline" not in csp
        assert headers["x-content-type-options"] == "nosniff"


def test_openapi_and_reference_page(client: TestClient) -> None:
    spec = client.get("/api/openapi.json").json()
    assert {"/api/search", "/api/articles/{article_id}", "/api/stories/{story_id}", "/api/volume", "/api/runs",
            "/api/health"} <= set(spec["paths"])
    assert all(set(methods) == {"get"} for methods in spec["paths"].values())
    page = client.get("/api/docs")
    assert page.status_code == 200 and "GET /api/search" in page.text and "SearchResponse" in page.text
    assert "cdn" not in page.text.lower() and "<script" not in page.text
    assert client.get("/docs").status_code == 404  # no Swagger UI from a CDN


def test_host_check_when_bound_to_loopback(seeded: Seeded) -> None:
    app = create_app(seeded.db, allowed_hosts=loopback_hosts("127.0.0.1"))
    with TestClient(app, base_url="http://127.0.0.1:8000") as local:
        assert local.get("/api/outlets").status_code == 200
    with TestClient(app, base_url="http://[::1]:8000") as local6:
        assert local6.get("/api/outlets").status_code == 200
    with TestClient(app, base_url="http://attacker.example:8000") as rebound:
        assert rebound.get("/api/outlets").status_code == 400
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.0.10") and not is_loopback("example.com")


# -- the pages' HTML -----------------------------------------------------------------------------

def test_markup_in_crawled_text_is_escaped(client: TestClient, seeded: Seeded) -> None:
    page = client.get(f"/articles/{seeded.ids['xss']}").text
    assert "&lt;script&gt;alert(&#39;xss&#39;)&lt;/script&gt;" in page
    assert "<script" not in page and "<b>대응" not in page and "<img src=x" not in page
    assert 'href="javascript:' not in page  # a crawled javascript: URL is shown, not linked
    listing = client.get("/").text
    assert "&lt;script&gt;" in listing and "<script" not in listing
    results = client.get("/", params={"q": "산불"}).text
    assert "<mark>산불</mark>" in results and "<script" not in results
    assert client.get(f"/api/articles/{seeded.ids['xss']}").json()["title"] == XSS_TITLE  # JSON keeps it as data


def test_highlight_segments_are_escaped_inside_mark(client: TestClient) -> None:
    page = client.get("/", params={"q": "대응"}).text
    assert "<mark>대응</mark>" in page
    assert "&lt;b&gt;" in page  # the <b> around it in the title stays text


def test_search_page(client: TestClient) -> None:
    page = client.get("/", params={"q": "행정수도"}).text
    assert len(re.findall(r'<li class="hit">', page)) == 3
    assert page.count("<mark>행정수도</mark>") >= 3
    bad = client.get("/", params={"q": "행정수도", "since": "2024-02-30"})
    assert bad.status_code == 422 and "since" in bad.text and 'value="행정수도"' in bad.text


def test_article_page_lists_copies_and_revisions(client: TestClient, seeded: Seeded) -> None:
    page = client.get(f"/articles/{seeded.ids['story-b']}").text
    for key in ("story-a", "story-c"):
        assert f'href="/articles/{seeded.ids[key]}"' in page
    assert "(this article)" in page and "중도일보" in page and "충청투데이" in page
    revised = client.get(f"/articles/{seeded.ids['story-a']}").text
    assert "Version 0" in revised and "행정수도 특별법 발의" in revised
    assert client.get("/articles/0123456789abcdef01234567").status_code == 404


def test_article_lookup_by_url_redirects(client: TestClient, seeded: Seeded) -> None:
    response = client.get("/article", params={"url": "https://joongdo.example.kr/news/story-a"}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == f"/articles/{seeded.ids['story-a']}"


def test_volume_page_draws_bars(client: TestClient) -> None:
    page = client.get("/volume").text
    assert page.count('<rect class="bar"') >= 14 + 5
    assert "<svg" in page and "Articles per outlet" in page
    assert client.get("/volume", params={"since": "nope"}).status_code == 422


def test_health_and_runs_pages(client: TestClient) -> None:
    health = client.get("/health").text
    assert "강원일보" in health and "failing" in health and "exited with code 1 &lt;oops&gt;" in health
    # unverified specs carry a badge; the one verified outlet does not
    assert health.count('class="status status-unverified"') == len(registry()) - 1
    runs = client.get("/runs").text
    assert "kwnews" in runs and "joongdo" in runs
    assert client.get("/runs", params={"outlet": "nosuch"}).status_code == 422


def test_dates_shown_in_korea_time(client: TestClient, seeded: Seeded) -> None:
    doc = seeded.db.articles.find_one({"canonical_url": "https://joongdo.example.kr/news/story-a"})
    published = doc["published"]
    assert isinstance(published, datetime)
    shown = published.astimezone(KST).strftime("%Y-%m-%d %H:%M")
    assert shown in client.get(f"/articles/{seeded.ids['story-a']}").text


def test_health_shows_monitoring_alerts(mongo_db: Any) -> None:
    seeded = seed(mongo_db)
    AlertStore(mongo_db).open(
        "joongdo", Condition("drift", True, cause="likely selector drift: body found on 10% <b>of</b> articles",
                             log_path="/tmp/joongdo.log"), seeded.now)
    with TestClient(create_app(mongo_db)) as client:
        body = client.get("/api/health").json()
        assert body["monitoring"] is True
        row = body["outlets"][0]
        assert row["outlet"] == "joongdo" and row["verdict"] == "unhealthy"
        assert [a["condition"] for a in row["alerts"]] == ["drift"] and row["alerts"][0]["opened"].endswith("+09:00")
        page = client.get("/health").text
        assert "likely selector drift: body found on 10% &lt;b&gt;of&lt;/b&gt; articles" in page


def test_search_filters_by_place(client: TestClient) -> None:
    """Seeded articles carry no places (stored before tagging): a 시도 filter finds none, and
    a valid one is not an error."""
    response = client.get("/api/search", params={"q": "행정", "sido": "대전", "sigungu": "유성구"})
    assert response.status_code == 200, response.text
    assert response.json()["total"] == 0


def test_places_counts_and_bad_places(client: TestClient) -> None:
    response = client.get("/api/places", params={"since": "2024-05-01", "until": "2024-05-31"})
    assert response.status_code == 200, response.text
    data = response.json()
    assert data["since"] == "2024-05-01" and data["untagged"] == data["total"]  # seeded before places existed
    assert data["sido"] == [] and data["sigungu"] == []
    bad = client.get("/api/places", params={"sido": "충낭"})
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["query", "sido"]
    assert client.get("/api/articles", params={"sigungu": "중구"}).status_code == 422
    assert client.get("/api/articles", params={"sido": "대전", "sigungu": "유성구"}).status_code == 200
