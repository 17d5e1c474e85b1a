"""Bad input to the dashboard and its API: a 4xx naming the parameter, never a 500.

The table in docs/dashboard.md ("Bad input") lists the same cases. HEAD is answered wherever
GET is, with the same status and headers and no body; the Host header is parsed strictly.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from crawler.web import create_app
from crawler.web.app import _host_of, loopback_hosts

from .conftest import STORY, Seeded


@pytest.fixture(scope="module")
def client(seeded: Seeded) -> Iterator[TestClient]:
    with TestClient(create_app(seeded.db), raise_server_exceptions=False) as test_client:
        yield test_client


def _names(response: Any) -> set[str]:
    """The parameters a JSON 422 names."""
    return {str(e["loc"][1]) for e in response.json()["detail"]}


API_DATES = [("/api/articles", {}), ("/api/volume", {}), ("/api/runs", {}), ("/api/search", {"q": "대전"})]
PAGE_DATES = [("/", {}), ("/volume", {}), ("/runs", {}), ("/", {"q": "대전"})]
BAD_DAYS = [("since", "0001-01-01"), ("until", "9999-12-31"), ("since", "1899-12-31"), ("until", "3000-01-01")]


@pytest.mark.parametrize(("path", "base"), API_DATES)
@pytest.mark.parametrize(("name", "day"), BAD_DAYS)
def test_api_dates_out_of_range(client: TestClient, path: str, base: dict[str, str], name: str, day: str) -> None:
    response = client.get(path, params={**base, name: day})
    assert response.status_code == 422, response.text
    assert _names(response) == {name}
    assert "1900-01-01" in response.text and "2999-12-31" in response.text


@pytest.mark.parametrize(("path", "base"), PAGE_DATES)
@pytest.mark.parametrize(("name", "day"), BAD_DAYS)
def test_page_dates_out_of_range(client: TestClient, path: str, base: dict[str, str], name: str, day: str) -> None:
    response = client.get(path, params={**base, name: day})
    assert response.status_code == 422
    assert f"{name}: {day} is out of range" in response.text


@pytest.mark.parametrize(("path", "params", "name"), [
    ("/api/articles", {"per_page": "0"}, "per_page"),
    ("/api/articles", {"per_page": "-1"}, "per_page"),
    ("/api/articles", {"per_page": "9" * 30}, "per_page"),
    ("/api/runs", {"per_page": "1000"}, "per_page"),
    ("/api/search", {"q": "대전", "page": "9" * 30}, "page"),
    ("/api/search", {"q": "대전", "page": "-1"}, "page"),
    ("/api/search", {"q": "대전", "per_page": "x"}, "per_page"),
    ("/api/search", {"q": ""}, "q"),
    ("/api/search", {"q": "x" * 201}, "q"),
    ("/api/articles", {"before": "zzz"}, "before"),
    ("/api/articles", {"before": "\x00\x01"}, "before"),
    ("/api/runs", {"before": "abc"}, "before"),
    ("/api/articles", {"before": "x" * 81}, "before"),
    ("/api/articles", {"since": "2024-02-30"}, "since"),
    ("/api/articles", {"since": "yesterday"}, "since"),
    ("/api/articles", {"since": "2025-03-02", "until": "2025-03-01"}, "since"),
    ("/api/volume", {"outlet": "nosuchoutlet"}, "outlet"),
    ("/api/volume", {"since": "2024-01-01", "until": "2024-12-31"}, "since"),
    ("/api/articles", {"outlet": ["joongdo"] * 31}, "outlet"),
    ("/api/articles", {"region": ["대전"] * 31}, "region"),
    ("/api/articles", {"outlet": "x" * 61}, "outlet"),
    ("/api/articles/xyz", {}, "article_id"),
    ("/api/articles/xyz/revisions", {}, "article_id"),
    ("/api/stories/" + "x" * 500, {}, "story_id"),
    ("/api/stories/a%00b", {}, "story_id"),
    ("/api/articles/by-url", {"url": "abc"}, "url"),
    ("/api/articles/by-url", {}, "url"),
])
def test_api_parameters(client: TestClient, path: str, params: dict[str, Any], name: str) -> None:
    response = client.get(path, params=params)
    assert response.status_code == 422, response.text
    assert _names(response) == {name}


@pytest.mark.parametrize(("path", "params", "name"), [
    ("/", {"q": "대전", "page": "0"}, "page"),
    ("/", {"q": "대전", "page": "9" * 30}, "page"),
    ("/", {"before": "zzz"}, "before"),
    ("/runs", {"before": "zzz"}, "before"),
    ("/volume", {"since": "2024-13-01"}, "since"),
    ("/", {"outlet": "x" * 61}, "outlet"),
])
def test_page_parameters(client: TestClient, path: str, params: dict[str, Any], name: str) -> None:
    response = client.get(path, params=params)
    assert response.status_code == 422
    assert f"{name}:" in response.text


# --- HEAD -----------------------------------------------------------------------------------
def _get_routes(seeded: Seeded) -> list[str]:
    article = seeded.ids["story-a"]
    return ["/", "/?q=대전", "/volume", "/health", "/runs", "/api/docs", f"/articles/{article}",
            "/api/outlets", "/api/search?q=대전", "/api/articles", f"/api/articles/{article}",
            f"/api/articles/{article}/revisions", f"/api/stories/{STORY}", "/api/volume", "/api/runs",
            "/api/health", "/api/openapi.json", "/static/style.css",
            "/api/articles/xyz", "/api/articles?since=0001-01-01", "/nosuchpage"]


STABLE = ["/api/outlets", "/api/openapi.json", "/static/style.css", "/api/articles/xyz", "/nosuchpage",
          "/api/articles?since=0001-01-01"]


def test_head_answers_like_get_without_a_body(client: TestClient, seeded: Seeded) -> None:
    for path in _get_routes(seeded):
        got, head = client.get(path), client.head(path)
        assert head.status_code == got.status_code, path
        assert head.content == b"", path
        for name in ("content-type", "content-security-policy", "x-frame-options"):
            assert head.headers.get(name) == got.headers.get(name), (path, name)
        assert int(head.headers["content-length"]) > 0, path  # the GET body's length, though none is sent
    for path in STABLE:  # pages whose body is the same from one request to the next (no timings, no "ago")
        assert client.head(path).headers["content-length"] == client.get(path).headers["content-length"], path


def test_other_methods_are_still_refused(client: TestClient) -> None:
    for method in ("POST", "PUT", "DELETE", "PATCH", "OPTIONS"):
        response = client.request(method, "/api/outlets")
        assert response.status_code == 405 and response.headers["allow"] == "GET, HEAD"


# --- the Host header ------------------------------------------------------------------------
@pytest.mark.parametrize("header", [
    "127.0.0.1:8000@evil.com", "localhost@evil.com", "evil.com#@127.0.0.1", "127.0.0.1:80x", "127.0.0.1:",
    "127.0.0.1:99999", "127.0.0.1/x", "::1", "[::1", "[::1]x", "[evil.com]", "127.0.0.1 evil.com", "",
    "user:pass@localhost",
])
def test_malformed_host_is_refused(seeded: Seeded, header: str) -> None:
    assert _host_of(header) is None
    for hosts in (loopback_hosts("127.0.0.1"), None):
        with TestClient(create_app(seeded.db, allowed_hosts=hosts)) as client:
            response = client.get("/api/outlets", headers={"host": header})
            assert response.status_code == 400, (header, hosts)
            assert "Host header" in response.json()["detail"]


@pytest.mark.parametrize(("header", "host"), [
    ("127.0.0.1", "127.0.0.1"), ("127.0.0.1:8000", "127.0.0.1"), ("LOCALHOST:80", "localhost"),
    ("[::1]", "::1"), ("[::1]:8000", "::1"),
])
def test_wellformed_loopback_host_is_answered(seeded: Seeded, header: str, host: str) -> None:
    assert _host_of(header) == host
    with TestClient(create_app(seeded.db, allowed_hosts=loopback_hosts("127.0.0.1"))) as client:
        assert client.get("/api/outlets", headers={"host": header}).status_code == 200
