"""item_dict: the fast item-to-dict conversion the pipelines use must give exactly what
itemadapter's asdict gives (the content hash and the stored document depend on it)."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from itemadapter import ItemAdapter

from crawler.items import Article, Image, PrintEdition, item_dict
from crawler.devtools.simulator import NewsConfig, Simulator


def test_nested_values_convert_like_itemadapter():
    article = Article(
        outlet="joongdo", url="https://www.joongdo.co.kr/web/view.php?key=1", canonical_url="https://www.joongdo.co.kr/web/view.php?key=1",
        title="제목", body="본문", images=[Image("https://x/1.jpg", "사진"), Image("https://x/2.jpg")],
        print_edition=PrintEdition("2026-11-25", 3), published=datetime(2026, 11, 25, 1, tzinfo=timezone.utc),
        provenance={"title": "selector"}, minhash=b"\x00\x01", story_numbers=["1", "2"],
        extra={"nested": [1, (2, 3), {"image": Image("https://x/3.jpg")}], "set": {4}},
    )
    converted = item_dict(article)
    assert converted == ItemAdapter(article).asdict()
    assert converted["images"][0] == {"src": "https://x/1.jpg", "caption": "사진"}
    assert converted["extra"]["nested"][1] == (2, 3)
    converted["images"].append("changed")  # a copy: the item is untouched
    assert len(article.images) == 2


def test_plain_dict_items_convert_like_itemadapter():
    item = {"title": "t", "images": [Image("u")], "pair": (1, 2)}
    assert item_dict(item) == ItemAdapter(item).asdict() == {"title": "t", "images": [{"src": "u", "caption": None}], "pair": (1, 2)}


@pytest.mark.parametrize("outlet", ["joongdo", "jnilbo", "busan"])
def test_parsed_articles_convert_like_itemadapter(outlet):
    sim = Simulator([outlet], NewsConfig(articles=5))
    site = sim.sites[outlet]
    for index in range(5):
        _, page = site.article(index, 0)
        article = site.spec.page_class()(url=site.article_url(index), html=page.body, outlet=site.spec,
                                         content_type=page.content_type).to_article()
        assert item_dict(article) == ItemAdapter(article).asdict()
