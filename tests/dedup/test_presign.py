"""Signatures computed in the parse worker: the dedup pipeline gets the same story fields
whether it takes the presigned signature or computes its own."""

from __future__ import annotations

import pickle
from pathlib import Path

from crawler.dedup import presign
from crawler.dedup.stories import signature, to_bytes
from crawler.outlets import get_outlet
from crawler.crawl.parse_pool import parse_page
from pipelines.normalize import NormalizePipeline

PAGE = Path(__file__).resolve().parents[1] / "fixtures" / "joongdo" / "art_20240312010003418.html"
URL = "https://www.joongdo.co.kr/web/view.php?key=20240312010003418"


def parsed(prepare: str | None = "crawler.dedup.presign.presign"):
    return parse_page(get_outlet("joongdo"), URL, PAGE.read_bytes(), "text/html; charset=utf-8", prepare)


def test_the_presigned_signature_is_the_one_the_pipeline_would_compute():
    article = pickle.loads(pickle.dumps(parsed()))  # as it comes back from the worker
    NormalizePipeline().process_item(article)
    sig = presign.take(article, article.body, article.title)
    assert sig is not presign.MISSING and sig is not None
    assert to_bytes(sig) == to_bytes(signature(article.body, article.title))
    assert presign.take(article, article.body, article.title) is presign.MISSING  # taken once


def test_a_text_changed_after_signing_is_signed_again():
    article = parsed()
    NormalizePipeline().process_item(article)
    assert presign.take(article, article.body + "\n\n추가된 문단.", article.title) is presign.MISSING


def test_presigning_adds_no_field():
    from crawler.items import item_dict

    assert item_dict(parsed()) == item_dict(parsed(prepare=None))


def test_the_dedup_pipeline_stores_the_same_story_fields_either_way():
    from scrapy.utils.test import get_crawler

    from pipelines.dedup import DedupPipeline

    from types import SimpleNamespace

    from crawler.dedup.index import StoryIndex

    results = []
    for prepare in ("crawler.dedup.presign.presign", None):
        crawler = get_crawler(settings_dict={"NEWSDESK_STORY_REFRESH_SECONDS": 0})
        crawler.stats.open_spider()
        pipeline = DedupPipeline(crawler, {})
        pipeline.shared = SimpleNamespace(index=StoryIndex())  # open, with nothing stored yet
        article = NormalizePipeline().process_item(pickle.loads(pickle.dumps(parsed(prepare))))
        pipeline.process_item(article)
        results.append((article.minhash, article.story_id, article.story_numbers, article.story_shingles))
        assert bool(crawler.stats.get_value("newsdesk/dedup/presigned")) == (prepare is not None)
    assert results[0] == results[1]
