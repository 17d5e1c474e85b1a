"""`newsdesk outlet add`: recognising a page's family, the spec it derives, what it writes and
what it refuses; and the end to end promise: for every saved article page of a known family,
the generated spec crawls that outlet's saved site with no hand edit."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tomllib
from contextlib import ExitStack
from pathlib import Path

import pytest
from typer.testing import CliRunner

from crawler.cli.main import app
from crawler.devtools import onboard
from crawler.devtools.evaluate import body_scores, find_cases
from crawler.devtools.fixturesite import DEFAULT_FIXTURES, FixtureSite, SiteSpec
from crawler.outlets import REGISTRY_PATH, load_registry, registry

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()
# every saved article page with its hand-checked answer, and the outlet it belongs to
CASES = sorted(
    p for p in DEFAULT_FIXTURES.glob("*/*.json")
    if p.name != "site.json" and p.with_suffix(".html").exists() and p.parent.name in registry()
)


def case_id(path: Path) -> str:
    return f"{path.parent.name}/{path.stem}"


def answer(case: Path) -> dict:
    return json.loads(case.read_text(encoding="utf-8"))


@pytest.fixture
def project(tmp_path: Path) -> dict[str, Path]:
    """A copy of the project's registry and families file, and an empty fixtures folder."""
    registry_file = tmp_path / "outlets.toml"
    registry_file.write_text(REGISTRY_PATH.read_text(encoding="utf-8"), encoding="utf-8")
    families_file = tmp_path / "families.toml"
    families_file.write_text(onboard.default_paths()[1].read_text(encoding="utf-8"), encoding="utf-8")
    fixtures = tmp_path / "fixtures"
    fixtures.mkdir()
    return {"registry": registry_file, "families": families_file, "fixtures": fixtures}


def add(project: dict[str, Path], name: str, url: str, page: Path, *extra: str):
    return runner.invoke(app, ["outlet", "add", name, "--url", url, "--page", str(page),
                               "--registry", str(project["registry"]), "--families", str(project["families"]),
                               "--fixtures", str(project["fixtures"]), *extra], env={"COLUMNS": "300"})


# --- recognition ----------------------------------------------------------------------------

@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_every_saved_page_is_recognised_as_its_outlets_family(case):
    spec = registry()[case.parent.name]
    match = onboard.recognise_family(case.with_suffix(".html").read_bytes(), answer(case)["url"])
    assert match.family == spec.family, match.evidence
    assert any(item.startswith("body at ") for item in match.evidence)
    if spec.family == "ndsoft":
        assert match.skin == spec.skin


def test_a_page_of_no_known_family_is_generic_and_gets_a_template_of_its_own(project):
    page = project["fixtures"].parent / "page.html"
    page.write_text(GENERIC_PAGE, encoding="utf-8")
    url = "https://www.example-ilbo.kr/news/read.php?cat=2&no=123456"
    match = onboard.recognise_family(page.read_bytes(), url)
    assert match.generic and "no family template" in match.evidence[0]

    result = add(project, "exampleilbo", url, page, "--region", "경기")
    assert result.exit_code == 0, result.output
    families = tomllib.loads(project["families"].read_text(encoding="utf-8"))
    assert families["exampleilbo"]["title"] == ["h1.news-title"]
    assert families["exampleilbo"]["body"] == ["#news-body"]
    assert families["exampleilbo"]["info"] == ["div.news-date"]
    table = tomllib.loads(project["registry"].read_text(encoding="utf-8"))["exampleilbo"]
    assert table["family"] == "exampleilbo" and table["region"] == "경기"
    assert table["rss_urls"] == ["https://www.example-ilbo.kr/rss/all.xml"]
    assert table["list_urls"] == ["https://www.example-ilbo.kr/news/list.php?cat=1", "https://www.example-ilbo.kr/news/list.php?cat=2"]
    assert table["article_url"] == r"/news/read\.php\?(?:[^#]*&)?no=\d+"
    assert table["canonical"]["keep_params"] == ["no"]
    expected = json.loads((project["fixtures"] / "exampleilbo" / "art_123456.json").read_text(encoding="utf-8"))
    assert expected["checked"] is False
    fields = expected["expected"]
    assert fields["title"] == "도의회, 내년 예산 심사 착수"
    assert fields["published"] == "2025-11-03T10:21:00+09:00"
    assert fields["body"].startswith("경기도의회가 3일") and "저작권자" not in fields["body"]


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_a_template_derived_from_any_saved_page_finds_its_checked_fields(case):
    """As if its CMS were unknown (no family template, no outlets): the template written from
    the page alone finds the hand-checked title and dates by selector, and the body nearly
    whole (what is left over is caption or credit text a family template strips)."""
    url, expected = answer(case)["url"], answer(case)["expected"]
    html = case.with_suffix(".html").read_bytes()
    proposal = onboard.derive_spec("unknown_cms", url, html, region="서울", templates={}, outlets={})
    assert proposal.match.generic and proposal.family == "unknown_cms"
    assert {"title", "body", "info"} <= set(proposal.family_table)
    spec = onboard.validate_proposal(proposal, "")
    article = onboard.extract(spec, onboard.template_for(spec, proposal), url, html)
    assert {article.provenance[k] for k in ("title", "published", "body")} == {"selector"}
    assert article.title == expected["title"]
    assert article.published.isoformat() == expected["published"]
    assert (article.modified.isoformat() if article.modified else None) == expected["modified"]
    assert body_scores(expected["body"], article.body)[2] >= 0.9


GENERIC_PAGE = """<!doctype html><html><head><meta charset="utf-8">
<title>도의회, 내년 예산 심사 착수 - 예시일보</title>
<meta property="og:site_name" content="예시일보">
<meta property="og:title" content="도의회, 내년 예산 심사 착수">
<link rel="canonical" href="https://www.example-ilbo.kr/news/read.php?no=123456">
<link rel="alternate" type="application/rss+xml" href="/rss/all.xml">
</head><body>
<nav class="gnb"><a href="/news/list.php?cat=1">정치</a> <a href="/news/list.php?cat=2">사회</a></nav>
<div class="wrap"><h1 class="news-title">도의회, 내년 예산 심사 착수</h1>
<div class="news-date">입력 2025.11.03 10:21</div>
<div id="news-body"><p>경기도의회가 3일 내년도 예산안 심사에 들어갔다. 도의회는 이날 본회의를 열고 상임위원회별 심사 일정을 확정했다.</p>
<p>올해 예산안은 지난해보다 4.2% 늘어난 규모로, 복지와 교통 분야 증액이 두드러진다. 의원들은 재원 조달 방안을 집중적으로 따질 계획이다.</p>
<p>심사는 이달 말까지 이어지며 다음 달 중순 본회의에서 의결된다.</p>
<p>수원=홍길동 기자</p></div>
<div class="copyright">저작권자 © 예시일보 무단전재 및 재배포 금지</div></div>
<div class="side"><a href="/news/read.php?no=123400">다른 기사</a></div>
</body></html>"""


# --- what it writes -------------------------------------------------------------------------

def test_add_appends_the_table_keeping_the_registry_text_and_writes_the_fixture(project):
    case = DEFAULT_FIXTURES / "daejonilbo" / "art_2102917.json"
    before = project["registry"].read_text(encoding="utf-8")
    result = add(project, "daejon2", answer(case)["url"], case.with_suffix(".html"), "--region", "대전")
    assert result.exit_code == 0, result.output
    after = project["registry"].read_text(encoding="utf-8")
    assert after.startswith(before.rstrip("\n")) and "# Outlet registry" in after  # appended, comments kept
    spec = load_registry(project["registry"])["daejon2"]
    assert spec.family == "ndsoft" and spec.skin == "infomation" and spec.region == "대전"
    assert spec.rss_urls == ("https://www.daejonilbo.com/rss/allArticle.xml",)
    folder = project["fixtures"] / "daejon2"
    site = SiteSpec.load(folder)
    assert site.outlet == "daejon2" and "/robots.txt" in site.routes
    assert site.routes["/news/articleView.html?idxno=2102917"].name == "art_2102917.html"
    written = json.loads((folder / "art_2102917.json").read_text(encoding="utf-8"))
    assert written["checked"] is False and written["url"] == answer(case)["url"]
    assert written["expected"]["title"] == answer(case)["expected"]["title"]
    assert (folder / "art_2102917.html").read_bytes() == case.with_suffix(".html").read_bytes()
    # what the developer must check by eye is printed, with the values to check
    for word in ("family: ndsoft (skin infomation)", "verify by eye", "published", "body ends", "next:"):
        assert word in result.output
    # a page not checked by hand is not scored as verified
    assert find_cases(folder) == [] and len(find_cases(folder, checked=False)) == 1


def test_dry_run_prints_the_table_and_writes_nothing(project):
    case = DEFAULT_FIXTURES / "kwnews" / "view_2026022417034635540.json"
    before = project["registry"].read_text(encoding="utf-8")
    result = add(project, "kw2", answer(case)["url"], case.with_suffix(".html"), "--dry-run")
    assert result.exit_code == 0, result.output
    assert "[kw2]" in result.output and "[kw2.canonical]" in result.output and "would write" in result.output
    assert project["registry"].read_text(encoding="utf-8") == before
    assert not (project["fixtures"] / "kw2").exists()


def test_force_replaces_the_table_and_keeps_the_others(project):
    case = DEFAULT_FIXTURES / "busan" / "view_2026022512054924835.json"
    first = add(project, "busan2", answer(case)["url"], case.with_suffix(".html"))
    assert first.exit_code == 0, first.output
    again = add(project, "busan2", answer(case)["url"], case.with_suffix(".html"))
    assert again.exit_code == 2 and "already" in again.output
    forced = add(project, "busan2", answer(case)["url"], case.with_suffix(".html"), "--force", "--region", "경남")
    assert forced.exit_code == 0, forced.output
    text = project["registry"].read_text(encoding="utf-8")
    assert text.count("[busan2]") == 1 and text.count("[busan2.canonical]") == 1
    specs = load_registry(project["registry"])
    assert specs["busan2"].region == "경남" and set(registry()) < set(specs)


@pytest.mark.parametrize(("url", "pattern", "keep"), [
    ("https://www.a.kr/news/2025/03/12/123456", r"/news/\d+/\d+/\d+/\d+", []),
    ("https://www.a.kr/news/read.php?cat=2&no=123456&page=1", r"/news/read\.php\?(?:[^#]*&)?no=\d+", ["no"]),
    ("https://www.a.kr/story/budget-talks-begin", r"/story/[^/?#]+$", []),
])
def test_an_article_url_pattern_from_one_url(url, pattern, keep):
    assert onboard._url_pattern(url) == (pattern, keep)
    assert re.search(pattern, url) and re.search(pattern, url.replace("123456", "987").replace("budget", "other"))


def test_remove_table_leaves_comments_above_the_next_table():
    text = "# top\n\n# a: written by `newsdesk outlet add`\n[a]\nx = 1\n\n[a.canonical]\nk = []\n\n# about b\n[b]\nx = 2\n"
    assert onboard.remove_table(text, "a") == "# top\n\n# about b\n[b]\nx = 2\n"


# --- refusals: one line, exit 2 -------------------------------------------------------------

KW = DEFAULT_FIXTURES / "kwnews" / "view_2026022417034635540.html"
KW_URL = "https://www.kwnews.co.kr/page/view/2026022417034635540"


@pytest.mark.parametrize(("args", "words"), [
    (["joongdo", "--url", KW_URL, "--page", str(KW)], ["'joongdo'", "already"]),
    (["Kw-2", "--url", KW_URL, "--page", str(KW)], ["'Kw-2'", "lowercase"]),
    (["kw2", "--url", KW_URL, "--page", str(DEFAULT_FIXTURES / "kwnews" / "robots.txt")], ["not an article page", "no HTML"]),
    (["kw2", "--url", KW_URL, "--page", str(DEFAULT_FIXTURES / "kwnews" / "list_economy_all.html")], ["not an article page"]),
    (["kw2", "--url", "https://www.busan.com/page/view/2026022417034635540", "--page", str(KW)], ["www.busan.com", "www.kwnews.co.kr"]),
    (["kw2", "--url", KW_URL, "--page", str(KW), "--region", "강원도"], ["'강원도'", "경기"]),
    (["kw2", "--url", "not-a-url", "--page", str(KW)], ["'not-a-url'"]),
    (["kw2", "--url", KW_URL, "--page", "/nonexistent/page.html"], ["cannot read"]),
    (["kw2", "--url", KW_URL, "--page", str(KW), "--entry-page", str(DEFAULT_FIXTURES / "jnilbo" / "rss_allArticle.xml")],
     ["saved feed", "no rss_urls"]),
    (["dj2", "--url", "https://www.daejonilbo.com/news/articleView.html?idxno=2102917", "--page",
      str(DEFAULT_FIXTURES / "daejonilbo" / "art_2102917.html"), "--entry-page", str(DEFAULT_FIXTURES / "daejonilbo" / "list_all.html")],
     ["list page", "crawled by its feed"]),
])
def test_refusals_are_one_line_and_exit_2(project, args, words):
    result = runner.invoke(app, ["outlet", "add", *args, "--registry", str(project["registry"]),
                                 "--fixtures", str(project["fixtures"])], env={"COLUMNS": "300"})
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and len(result.stderr.strip().splitlines()) == 1, result.stderr
    for word in words:
        assert word in result.stderr
    assert not any(project["fixtures"].iterdir())
    assert project["registry"].read_text(encoding="utf-8") == REGISTRY_PATH.read_text(encoding="utf-8")


NOT_ARTICLES = sorted(p for p in DEFAULT_FIXTURES.glob("*/*") if p.parent.name in registry()
                      and p.suffix in (".html", ".xml") and not p.with_suffix(".json").exists())


@pytest.mark.parametrize("saved", NOT_ARTICLES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_saved_list_page_and_feed_is_refused_as_not_an_article(project, saved):
    spec = registry()[saved.parent.name]
    result = add(project, "x2", f"{spec.scheme}://{spec.main_host}/news/view.php?no=123456", saved, "--region", "서울")
    assert result.exit_code == 2 and "not an article page" in result.stderr, result.output
    assert not any(project["fixtures"].iterdir())


# --- the promise: a generated spec crawls the saved site with no hand edit ------------------

CRAWL = """
import json, sys
from pathlib import Path
import crawler.outlets as outlets

specs = outlets.load_registry(Path(sys.argv[1]))
outlets.registry = lambda: specs  # the spiders are made from this registry, not the project's
from scrapy import signals
from scrapy.crawler import CrawlerProcess
from crawler.config import project_settings

bases = json.loads(sys.argv[2])
process = CrawlerProcess(project_settings({"NEWSDESK_STORE_ENABLED": False, "NEWSDESK_PARSE_PROCESSES": "0",
                                           "LOG_LEVEL": "ERROR"}))
items = {name: [] for name in bases}
for name, base in bases.items():
    crawler = process.create_crawler(name)
    crawler.signals.connect(lambda item, n=name, **_: items[n].append(
        {"canonical_url": item.canonical_url, "title": item.title, "body": item.body, "outlet": item.outlet}),
        signal=signals.item_scraped, weak=False)
    process.crawl(crawler, base_url=base)
process.start()
print(json.dumps(items, ensure_ascii=False))
"""


# a page and a saved entry point of its outlet that links it: a feed (NDSoft), a list page
# (an own CMS), a list page in EUC-KR
WITH_ENTRY = [("daejonilbo/art_2102917", "rss_allArticle.xml"), ("busan/view_2026022513411340053", "list_0201000000.html"),
              ("kookje/newsbody_20250611_22008004117", "list_0300.html")]


@pytest.mark.e2e
def test_every_generated_spec_crawls_its_saved_site_with_no_hand_edit(project):
    """Each saved article page of a known family -> `outlet add` under a new name (its region
    given, nothing else) -> that spec alone crawls the outlet's saved site, and the page's
    article comes out with the title and body of the outlet's own hand-checked answer. And a
    fixture folder written with --entry-page is itself a saved site the spec crawls."""
    names: dict[str, Path] = {}
    for i, case in enumerate(CASES):
        name = f"new_{case.parent.name}_{i}"
        spec = registry()[case.parent.name]
        result = add(project, name, answer(case)["url"], case.with_suffix(".html"), "--region", spec.region)
        assert result.exit_code == 0, (case_id(case), result.output)
        assert f"family: {spec.family}" in result.output, case_id(case)
        names[name] = case
    own_sites: dict[str, Path] = {}
    for stem, entry in WITH_ENTRY:
        case = DEFAULT_FIXTURES / f"{stem}.json"
        name = f"own_{case.parent.name}"
        result = add(project, name, answer(case)["url"], case.with_suffix(".html"), "--region",
                     registry()[case.parent.name].region, "--entry-page", str(case.parent / entry))
        assert result.exit_code == 0 and "does not link the article" not in result.output, result.output
        names[name] = case
        own_sites[name] = project["fixtures"] / name
    generated = tomllib.loads(project["registry"].read_text(encoding="utf-8"))
    assert set(names) <= set(generated)

    env = dict(os.environ, NEWSDESK_ENV="test", MONGO_URI="mongodb://127.0.0.1:9/?serverSelectionTimeoutMS=200")
    with ExitStack() as stack:
        servers = {folder: stack.enter_context(FixtureSite(SiteSpec.load(DEFAULT_FIXTURES / folder)))
                   for folder in {case.parent.name for case in names.values()}}
        servers.update({name: stack.enter_context(FixtureSite(SiteSpec.load(folder))) for name, folder in own_sites.items()})
        bases = {name: servers[name if name in own_sites else case.parent.name].base_url for name, case in names.items()}
        proc = subprocess.run([sys.executable, "-c", CRAWL, str(project["registry"]), json.dumps(bases)], env=env,
                              cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-4000:]
    items = json.loads(proc.stdout.strip().splitlines()[-1])
    for name, case in names.items():
        expected = answer(case)["expected"]
        found = {item["canonical_url"]: item for item in items[name]}
        assert expected["canonical_url"] in found, (name, case_id(case), sorted(found))
        item = found[expected["canonical_url"]]
        assert item["outlet"] == name
        assert item["title"] == expected["title"], case_id(case)
        assert item["body"] == expected["body"], case_id(case)
