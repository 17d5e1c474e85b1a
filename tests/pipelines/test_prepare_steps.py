"""Story signatures computed in the parse worker (DedupPipeline.prepare_step): the dedup
pipeline gets the same story fields whether it takes the worker's signature or computes its
own, and the steps the spider gives the worker leave the stored item as the pipelines would."""

from __future__ import annotations

import pickle
from pathlib import Path
from types import SimpleNamespace

import pytest
from scrapy.utils.test import get_crawler

from crawler.dedup.index import StoryIndex
from crawler.dedup.stories import signature, to_bytes
from crawler.items import item_dict
from crawler.outlets import get_outlet
from crawler.pages.parse import parse_page
from crawler.prepare import MISSING, done, take
from pipelines.dedup import DedupPipeline, SignatureStep
from pipelines.normalize import NormalizePipeline

PAGE = Path(__file__).resolve().parents[1] / "fixtures" / "joongdo" / "art_20240312010003418.html"
URL = "https://www.joongdo.co.kr/web/view.php?key=20240312010003418"
SIGN = (DedupPipeline.prepare_step,)
BOTH = (NormalizePipeline.prepare_step, DedupPipeline.prepare_step)  # what the spider gives the worker


def parsed(steps=SIGN):
    return parse_page(get_outlet("joongdo"), URL, PAGE.read_bytes(), "text/html; charset=utf-8", steps)


def across_processes(article):
    return pickle.loads(pickle.dumps(article))  # as it comes back from the worker


def test_the_signature_step_is_the_dedup_pipelines():
    assert isinstance(DedupPipeline.prepare_step, SignatureStep)


def test_the_presigned_signature_is_the_one_the_pipeline_would_compute():
    article = across_processes(parsed())
    NormalizePipeline().process_item(article)
    sig = take(article, DedupPipeline.prepare_step)
    assert sig is not MISSING and sig is not None
    assert to_bytes(sig) == to_bytes(signature(article.body, article.title))
    assert take(article, DedupPipeline.prepare_step) is MISSING  # taken once


def test_after_the_normalize_step_the_signature_signs_the_normalized_fields_as_they_are():
    article = across_processes(parsed(BOTH))
    assert done(article, "normalize") and done(article, "signature")
    assert article.preparation["signature"].basis == (article.body, article.title)
    NormalizePipeline().process_item(article)
    sig = take(article, DedupPipeline.prepare_step)
    assert sig is not MISSING and sig is not None
    assert to_bytes(sig) == to_bytes(signature(article.body, article.title))


def test_a_text_changed_after_signing_is_signed_again():
    article = parsed()
    NormalizePipeline().process_item(article)
    article.body += "\n\n추가된 문단."
    assert take(article, DedupPipeline.prepare_step) is MISSING


def test_a_title_changed_after_signing_is_signed_again():
    article = parsed()
    NormalizePipeline().process_item(article)
    article.title = "다른 제목"
    assert take(article, DedupPipeline.prepare_step) is MISSING


@pytest.mark.parametrize("steps", [SIGN, BOTH])
def test_presigning_adds_no_field(steps):
    plain = parsed(steps=())
    NormalizePipeline().process_item(plain)
    signed = across_processes(parsed(steps))
    if steps == SIGN:
        assert item_dict(signed) == item_dict(parsed(steps=()))
    NormalizePipeline().process_item(signed)
    assert item_dict(signed) == item_dict(plain)


def _dedup(crawler):
    pipeline = DedupPipeline(crawler, {})
    pipeline.shared = SimpleNamespace(index=StoryIndex())  # open, with nothing stored yet
    return pipeline


@pytest.mark.parametrize("with_normalize_step", [False, True])
def test_the_dedup_pipeline_stores_the_same_story_fields_either_way(with_normalize_step):
    results = []
    for steps in (BOTH if with_normalize_step else SIGN, ()):
        crawler = get_crawler(settings_dict={"NEWSDESK_STORY_REFRESH_SECONDS": 0})
        crawler.stats.open_spider()
        pipeline = _dedup(crawler)
        article = NormalizePipeline().process_item(across_processes(parsed(steps)))
        pipeline.process_item(article)
        results.append(item_dict(article))
        assert bool(crawler.stats.get_value("newsdesk/dedup/presigned")) == bool(steps)
    assert results[0] == results[1]
    assert results[0]["minhash"] and results[0]["story_id"]


def test_a_text_changed_between_worker_and_dedup_gets_the_signature_of_the_new_text():
    crawler = get_crawler(settings_dict={"NEWSDESK_STORY_REFRESH_SECONDS": 0})
    crawler.stats.open_spider()
    changed = NormalizePipeline().process_item(across_processes(parsed(BOTH)))
    changed.body += "\n\n추가된 문단은 서명을 바꾼다."
    _dedup(crawler).process_item(changed)
    assert crawler.stats.get_value("newsdesk/dedup/presigned") is None
    assert changed.minhash == to_bytes(signature(changed.body, changed.title))


def test_places_tagged_in_the_worker_are_what_the_pipeline_would_set():
    from pipelines.places import PlacesPipeline

    steps = (NormalizePipeline.prepare_step, PlacesPipeline.prepare_step)
    prepared = across_processes(parsed(steps))
    assert done(prepared, "places")
    NormalizePipeline().process_item(prepared)
    PlacesPipeline().process_item(prepared)
    here = parsed(())
    NormalizePipeline().process_item(here)
    PlacesPipeline().process_item(here)
    assert prepared.places == here.places and prepared.places
    assert (prepared.sido, prepared.sigungu) == (here.sido, here.sigungu)
    assert not done(prepared, "places")  # taken once


def test_places_are_tagged_again_when_the_title_changed_after_the_worker():
    from pipelines.places import PlacesPipeline

    article = parsed((NormalizePipeline.prepare_step, PlacesPipeline.prepare_step))
    NormalizePipeline().process_item(article)
    article.title = "공주시 백제문화제 개막"
    article.region = None
    PlacesPipeline().process_item(article)
    assert article.sigungu == ["충청남도 공주시"]
