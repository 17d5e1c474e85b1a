"""Store pipeline pieces that need no reactor: document shape, outcome counting, dead letters."""

from __future__ import annotations

import json
from datetime import datetime

from scrapy.utils.test import get_crawler
from twisted.python.failure import Failure

from crawler.items import Article, Image, PrintEdition
from crawler.store import UpsertResult
from crawler.text.dates import KST
from pipelines.store import MongoStorePipeline, item_to_document


def article() -> Article:
    return Article(
        outlet="joongdo",
        url="https://www.joongdo.co.kr/web/view.php?key=1",
        canonical_url="https://www.joongdo.co.kr/web/view.php?key=1",
        title="제목",
        body="본문",
        published=datetime(2019, 8, 23, 19, 1, tzinfo=KST),
        print_edition=PrintEdition(date="2019-08-26", page=3),
        images=[Image(src="https://dn.joongdo.co.kr/a.jpg", caption="사진")],
    )


def pipeline(tmp_path, **settings) -> MongoStorePipeline:
    crawler = get_crawler(settings_dict={"NEWSDESK_DATA_DIR": str(tmp_path), "MONGO_URI": "mongodb://u:pw@127.0.0.1:1/", **settings})
    crawler.stats.open_spider()
    return MongoStorePipeline.from_crawler(crawler)


def test_document_is_plain_data_with_nested_dicts():
    doc = item_to_document(article())
    assert doc["print_edition"] == {"date": "2019-08-26", "page": 3}
    assert doc["images"] == [{"src": "https://dn.joongdo.co.kr/a.jpg", "caption": "사진"}]
    assert "extra" not in doc
    assert doc["published"].tzinfo is not None


def test_outcomes_are_counted_in_stats(tmp_path):
    pipe = pipeline(tmp_path)
    pipe._written(UpsertResult(new=2, updated=1, unchanged=0, errors=["x failed"], outcomes=[]))
    stats = pipe.stats.get_stats()
    assert stats["newsdesk/articles/new"] == 2 and stats["newsdesk/articles/updated"] == 1
    assert "newsdesk/articles/unchanged" not in stats
    assert stats["newsdesk/store/errors"] == 1


def test_refused_batch_goes_to_dead_letter_file_with_uri_masked(tmp_path, caplog):
    pipe = pipeline(tmp_path)
    pipe.uri = "mongodb://u:pw@127.0.0.1:1/"
    batch = [item_to_document(article())]
    pipe._failed(Failure(ConnectionError("server went away")), batch)
    files = list((tmp_path / "deadletter").glob("*.jsonl"))
    assert len(files) == 1
    saved = [json.loads(line) for line in files[0].read_text(encoding="utf-8").splitlines()]
    assert saved[0]["canonical_url"] == batch[0]["canonical_url"]
    assert saved[0]["published"] == "2019-08-23T19:01:00+09:00"
    assert pipe.stats.get_value("newsdesk/store/deadlettered") == 1
    assert "server went away" in caplog.text and ":pw@" not in caplog.text


def test_store_can_be_switched_off():
    import pytest
    from scrapy.exceptions import NotConfigured

    crawler = get_crawler(settings_dict={"NEWSDESK_STORE_ENABLED": False})
    with pytest.raises(NotConfigured):
        MongoStorePipeline.from_crawler(crawler)
