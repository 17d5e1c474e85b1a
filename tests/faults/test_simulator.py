"""The simulator itself: its pages are the families' real templates (the crawler's page
objects read back exactly what was generated), articles appear over simulated time, wire
stories recur across outlets, corrections change a page, and faults parse and target pages."""

from __future__ import annotations

import pytest

from crawler.devtools.simulator import Fault, NewsConfig, Simulator, parse_faults, pick_outlets
from crawler.devtools.simulator.site import SimulatedOutlet


@pytest.fixture(scope="module")
def sim() -> Simulator:
    return Simulator(pick_outlets(9), NewsConfig(articles=40, initial=30, new_every=60, syndicated=0.3, corrected=0.2))


def _extract(site: SimulatedOutlet, index: int, now: float = 0.0):
    _, page = site.article(index, now)
    return site.spec.page_class()(url=site.article_url(index), html=page.body, outlet=site.spec,
                                  content_type=page.content_type).to_article()


def test_every_family_template_reads_back_what_was_generated(sim):
    families = set()
    for name, site in sim.sites.items():
        families.add(site.spec.family)
        for index in (0, 17):
            art = sim.news.article(name, index)
            got = _extract(site, index)
            assert got.title == art.title, name
            assert got.body == "\n\n".join(art.paragraphs), name
            assert got.published == art.published, name
            assert got.provenance["body"] == "selector" and got.provenance["title"] == "selector", name
    assert families == {"joongdo", "kwnews", "imaeil", "busan", "kookje", "kwangju", "ndsoft"}
    assert sim.sites["kookje"].page(sim.sites["kookje"].local_path(sim.sites["kookje"].article_url(0)), 0)[2].content_type.endswith("euc-kr")


def test_articles_appear_over_simulated_time(sim):
    site = sim.sites["jnilbo"]
    path = site.local_path(site.article_url(31))
    assert site.page(path, 0) is None  # not published yet: 404
    rss = site.page(site.entry_paths()[0], 0)[2].body.decode()
    assert rss.count("<item>") == 30
    assert site.page(path, 120)[0] == "article"
    assert site.page(site.entry_paths()[0], 120)[2].body.decode().count("<item>") == 32
    listing = sim.sites["joongdo"]
    first = listing.page(listing.entry_paths()[0], 0)[2].body.decode(listing.pages.encoding)
    newest = [i for i in listing.section_indices(0, 0)][0]
    assert listing.article_url(newest).split("?")[1] in first  # newest first on page 1


def test_wire_stories_recur_across_outlets_and_corrections_change_pages(sim):
    stories: dict[int, set[str]] = {}
    for name in sim.sites:
        for index in range(40):
            art = sim.news.article(name, index)
            if art.story is not None:
                stories.setdefault(art.story, set()).add(name)
    assert any(len(outlets) > 1 for outlets in stories.values())
    name, index = next((n, i) for n in sim.sites for i in range(30) if sim.news.article(n, i).corrected_at is not None)
    art = sim.news.article(name, index)
    after = sim.news.article(name, index, art.corrected_at + 1)
    assert art.version == 1 and after.version == 2 and after.paragraphs != art.paragraphs
    assert _extract(sim.sites[name], index, art.corrected_at + 1).body != _extract(sim.sites[name], index).body


def test_fault_specs_parse_and_target_a_stable_share_of_pages():
    faults = parse_faults("jnilbo:5xx,busan:slow:0.5", {"jnilbo", "busan"})
    assert faults["jnilbo"][0].kind == "5xx" and faults["busan"][0].rate == 0.5
    for bad, message in [("jnilbo", "outlet:kind"), ("jnilbo:flood", "unknown fault"), ("x:5xx", "not simulated"),
                         ("jnilbo:5xx:lots", "not a number"), ("jnilbo:5xx:2", "must be in")]:
        with pytest.raises(ValueError, match=message):
            parse_faults(bad, {"jnilbo"})
    fault = Fault("truncated", rate=0.3)
    hit = sum(fault.affects(f"/news/articleView.html?idxno={n}") for n in range(2000))
    assert 450 < hit < 750 and fault.affects("/a?x=1") == fault.affects("/a?x=1")
