"""/places: the 시도 tile map and 시군구 table; the search page's 시도 / 시군구 filters."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from fastapi.testclient import TestClient

from crawler.search import drain
from crawler.store import ArticleStore
from crawler.text.places import fields, tag
from crawler.web.app import create_app
from crawler.web.charts import TILES, tile_map
from tests.web.conftest import article

KST = timezone(timedelta(hours=9))
OLD = datetime(2025, 3, 10, 9, 0, tzinfo=KST)  # months before today: the default window moves
ROWS = [
    ("joongdo", "공주시 백제문화제 개막", "공주=홍길동 기자\n\n공주시가 백제문화제를 열었다.", "대전"),
    ("joongdo", "공주시의회 임시회", "공주시의회가 임시회를 열었다.", "대전"),
    ("joongdo", "유성구 축제", "대전 유성구에서 축제가 열렸다.", "대전"),
    ("busan", "해운대구 해수욕장 개장", "부산 해운대구 해수욕장이 개장했다.", "부산"),
]


@pytest.fixture(scope="module")
def client(mongo_client: Any) -> Iterator[TestClient]:
    db = mongo_client["test_places_page"]
    mongo_client.drop_database(db.name)
    store = ArticleStore(db)
    store.ensure_indexes()
    docs = []
    for i, (outlet, title, body, home) in enumerate(ROWS):
        doc = article(f"p{i}", outlet, title, body, OLD + timedelta(hours=i))
        doc.update(fields(tag(title, body, home=home)))
        docs.append(doc)
    store.upsert_many(docs)
    drain(db)
    with TestClient(create_app(db)) as test_client:
        yield test_client
    mongo_client.drop_database(db.name)


def test_api_places_moves_an_empty_default_window_to_the_data(client: TestClient) -> None:
    data = client.get("/api/places").json()
    assert data["window_moved"] and data["until"] == "2025-03-10"
    assert {r["sido"]: r["articles"] for r in data["sido"]} == {"충청남도": 2, "대전광역시": 1, "부산광역시": 1}
    assert {r["sigungu"]: r["articles"] for r in data["sigungu"]} == {"공주시": 2, "유성구": 1, "해운대구": 1}
    assert next(r for r in data["sigungu"] if r["sigungu"] == "공주시")["sigungu_code"] == "44150"


def test_places_page_draws_every_sido_and_links_to_its_articles(client: TestClient) -> None:
    page = client.get("/places").text
    assert page.count('class="tile"') == 17
    assert 'data-name="충청남도" data-value="2"' in page and 'data-name="제주특별자치도" data-value="0"' in page
    assert "/?since=2025-02-09&amp;until=2025-03-10&amp;sido=%EC%B6%A9%EC%B2%AD%EB%82%A8%EB%8F%84" in page
    assert 'id="sigungu-numbers"' in page and "충청남도 공주시" in page and "44150" in page
    assert "No article was published in the default window" in page


def test_search_page_filters_by_sido_and_sigungu(client: TestClient) -> None:
    listing = client.get("/", params={"sido": "충남", "since": "2025-03-01", "until": "2025-03-31"}).text
    assert "공주시 백제문화제" in listing and "유성구 축제" not in listing
    found = client.get("/", params={"q": "축제", "sigungu": "대전 유성구", "since": "2025-03-01"}).text
    assert 'id="results"' in found and "해운대" not in found
    assert "sigungu=" in found.split('id="facets"')[1]  # facet links keep the place filter
    bad = client.get("/", params={"q": "축제", "sigungu": "중구"})
    assert bad.status_code == 422 and "sigungu" in bad.text


def test_api_search_and_trend_take_places(client: TestClient) -> None:
    data = client.get("/api/trend", params={"q": "공주시", "sido": "충청남도", "by": "outlet"}).json()
    assert data["total"] == 2 and data["facets"]["split"] == {"joongdo": [2]}
    assert client.get("/api/search", params={"q": "축제", "sido": "부산"}).json()["total"] == 0
    assert client.get("/api/search/download", params={"q": "공주시", "sido": "경남"}).headers["x-newsdesk-rows"] == "0"


@pytest.mark.parametrize("params", [{"sido": "충낭"}, {"since": "2025-13-01"}, {"outlet": "nosuch"}])
def test_places_page_bad_input_is_422(client: TestClient, params: dict[str, str]) -> None:
    assert client.get("/places", params=params).status_code == 422


def test_tile_map_shades_by_count_and_keeps_every_sido() -> None:
    m = tile_map({"충청남도": 10, "대전광역시": 5}, title="t")
    assert len(m.tiles) == len(TILES) == 17
    shade = {t.name: t.shade for t in m.tiles}
    assert shade["충청남도"] == 1.0 and 0 < shade["대전광역시"] < 1 and shade["서울특별시"] == 0
    assert not m.empty and tile_map({}, title="t").empty
    xs = {(t.x, t.y) for t in m.tiles}
    assert len(xs) == 17  # no two tiles on one spot
