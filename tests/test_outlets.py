"""The outlet registry: every entry valid, bad entries named with the field at fault; every
시/도 covered; each outlet verified by a saved real page or marked unverified; `outlets --check`
and the generated docs/outlets.md."""

from __future__ import annotations

import json
import re
import shutil
from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner

from crawler.cli import app
from crawler.outlets import REGIONS, OutletError, get_outlet, load_registry, outlet_for_url, registry
from crawler.outlets.check import check_registry
from crawler.outlets.markdown import outlets_markdown

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
BUNDLED = ROOT / "crawler" / "outlets" / "outlets.toml"

GOOD = """
[demo]
name_ko = "데모일보"
domains = ["www.demo.kr", "m.demo.kr"]
region = "대전"
family = "joongdo"
page = "crawler.pages.template.TemplateArticlePage"
list_urls = ["https://www.demo.kr/list"]
article_url = 'view\\.php\\?key=\\d+'
unverified = "a test outlet"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "outlets.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_bundled_registry_loads_and_every_page_class_imports():
    specs = registry()
    assert "joongdo" in specs
    for spec in specs.values():
        assert spec.page_class().__name__.endswith("Page")
        assert spec.list_urls and spec.every_minutes >= 1


def test_outlet_for_url_by_any_of_its_hosts():
    assert outlet_for_url("https://m.joongdo.co.kr/main/view.php?key=1").name == "joongdo"
    with pytest.raises(OutletError, match="no outlet serves the domain 'example.org'"):
        outlet_for_url("https://example.org/x")
    with pytest.raises(OutletError, match="not an absolute"):
        outlet_for_url("view.php?key=1")


def test_unknown_outlet_lists_the_known_ones():
    with pytest.raises(OutletError, match="unknown outlet 'nope'; known outlets: .*joongdo"):
        get_outlet("nope")


def test_minimal_spec_gets_defaults(tmp_path):
    spec = load_registry(write(tmp_path, GOOD))["demo"]
    assert spec.every_minutes == 30 and spec.page_param == "page" and spec.main_host == "www.demo.kr"
    assert spec.is_article_url("https://www.demo.kr/view.php?key=12")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("region = \"대전\"\n", ""), "missing region"),
        (("article_url = 'view", "article_url = '(view"), "not a valid regex"),
        (("https://www.demo.kr/list", "https://elsewhere.kr/list"), "not on one of its domains"),
        (("[demo]", "[Demo-1]"), "expected lowercase"),
        (("region = \"대전\"\n", "region = \"대전\"\nevery_minutes = 0\n"), "every_minutes must be >= 1"),
    ],
)
def test_bad_specs_are_named(tmp_path, change, message):
    text = GOOD.replace(*change)
    assert text != GOOD
    with pytest.raises(OutletError, match=message):
        load_registry(write(tmp_path, text))


def test_unparseable_registry(tmp_path):
    with pytest.raises(OutletError, match="cannot read outlet registry"):
        load_registry(write(tmp_path, "[broken"))


def test_bad_verification_is_named(tmp_path):
    both = GOOD.replace('unverified = "a test outlet"', 'unverified = "x"\nverified_by = ["art_1"]')
    with pytest.raises(OutletError, match="verified_by and unverified exclude each other"):
        load_registry(write(tmp_path, both))
    with pytest.raises(OutletError, match="unverified must be a reason"):
        load_registry(write(tmp_path, GOOD.replace('"a test outlet"', '""')))
    with pytest.raises(OutletError, match="verified_by must be a list"):
        load_registry(write(tmp_path, GOOD.replace('unverified = "a test outlet"', 'verified_by = "art_1"')))
    spec = load_registry(write(tmp_path, GOOD.replace('unverified = "a test outlet"', 'verified_by = ["art_1"]')))["demo"]
    assert spec.verified and spec.verified_by == ("art_1",) and spec.unverified is None


# --- coverage and verification of the bundled registry ---------------------------------

def test_at_least_sixty_outlets_and_two_in_every_region():
    specs = registry()
    assert len(specs) >= 60
    per_region = Counter(spec.region for spec in specs.values())
    assert set(per_region) <= set(REGIONS), f"regions outside the 17 시/도: {set(per_region) - set(REGIONS)}"
    thin = {region: per_region[region] for region in REGIONS if per_region[region] < 2}
    assert not thin, f"시/도 with fewer than two outlets: {thin}"


def test_every_outlet_is_verified_by_a_saved_page_or_says_why_not():
    for spec in registry().values():
        assert spec.verified != (spec.unverified is not None), spec.name
        if spec.unverified is not None:
            assert len(spec.unverified) > 20, f"{spec.name}: say why no saved page backs the spec"
    assert [s.name for s in registry().values() if s.verified] == ["jnilbo"]


def _page_cases(folder: Path) -> list[Path]:
    return [p for p in folder.glob("*.json") if p.name != "site.json" and p.with_suffix(".html").exists()]


def test_verified_pages_exist_and_are_the_outlets():
    for spec in registry().values():
        for page in spec.verified_by:
            meta = json.loads((FIXTURES / spec.name / f"{page}.json").read_text(encoding="utf-8"))
            assert (FIXTURES / spec.name / f"{page}.html").is_file()
            assert meta["expected"]["outlet"] == spec.name and spec.owns(meta["url"]) and spec.is_article_url(meta["url"])
            # the folder's README names the page's public source (repository, path, commit)
            readme = (FIXTURES / spec.name / "README.md").read_text(encoding="utf-8")
            assert f"{page}.html" in readme and re.search(r"commit\W+[0-9a-f]{7,40}", readme), spec.name


def test_unverified_outlets_name_no_saved_page():
    """A flagged outlet may have fixture pages written from structure, but none it claims."""
    for spec in registry().values():
        if not spec.verified:
            assert spec.verified_by == ()


def test_every_article_pattern_compiles_and_matches_its_own_fixture_urls():
    for spec in registry().values():
        assert spec.article_url.pattern
        for meta in _page_cases(FIXTURES / spec.name):
            url = json.loads(meta.read_text(encoding="utf-8"))["url"]
            assert spec.is_article_url(url), (spec.name, url)


def test_every_outlet_table_is_a_spider_scrapy_finds():
    from scrapy.settings import Settings
    from scrapy.spiderloader import SpiderLoader

    loader = SpiderLoader.from_settings(Settings({"SPIDER_MODULES": ["crawler.spiders"]}))
    assert set(loader.list()) == set(registry())


# --- newsdesk outlets --check ------------------------------------------------------------

def test_the_bundled_registry_passes_the_check():
    assert check_registry(BUNDLED, FIXTURES) == []


def _copy_fixture(tmp_path: Path, outlet: str, page: str) -> Path:
    folder = tmp_path / "fixtures" / outlet
    folder.mkdir(parents=True)
    for suffix in (".html", ".json"):
        shutil.copy(FIXTURES / outlet / f"{page}{suffix}", folder / f"{page}{suffix}")
    return tmp_path / "fixtures"


BROKEN = GOOD + """
[twin]
name_ko = "쌍둥이일보"
domains = ["www.demo.kr", "https://twin.kr/"]
region = "경기도"
family = "nosuch"
list_urls = ["http://www.demo.kr/list"]
article_url = 'view\\.php'
verified = true

[twin.canonical]
host_aliases = { "m.twin.kr" = "www.twin.kr" }

[bad]
name_ko = "깨진일보"
domains = ["www.bad.kr"]
region = "서울"
family = "ndsoft"
list_urls = ["https://www.bad.kr/list"]
article_url = '(unclosed'
unverified = "broken on purpose"

[claims]
name_ko = "전남일보 사본"
domains = ["www.claims.kr"]
region = "전남"
family = "ndsoft"
rss_urls = ["https://www.claims.kr/rss.xml"]
article_url = 'idxno=\\d+'
verified_by = ["art_90000015817", "nope"]
"""


def test_check_lists_every_problem_of_a_broken_registry(tmp_path):
    fixtures = _copy_fixture(tmp_path, "jnilbo", "art_90000015817")
    (fixtures / "claims").mkdir()
    for suffix in (".html", ".json"):
        shutil.copy(fixtures / "jnilbo" / f"art_90000015817{suffix}", fixtures / "claims" / f"art_90000015817{suffix}")
    problems = check_registry(write(tmp_path, BROKEN), fixtures)
    expected = [
        r"^bad: article_url is not a valid regex",
        r"^twin: region '경기도' is not one of the 17 시/도",
        r"^twin: family 'nosuch' has no template",
        r"^twin: domain 'https://twin.kr/' is not a host name",
        r"^twin: canonical.host_aliases 'm.twin.kr' = 'www.twin.kr': both hosts must be in domains",
        r"^twin: list_urls entry 'http://www.demo.kr/list' is http, but the outlet's scheme is https",
        r"^twin: neither verified_by \(saved real pages\) nor unverified",
        r"^twin: unknown key 'verified': use verified_by",
        r"^twin: domain 'www.demo.kr' is also demo's",
        r"^claims: verified_by 'art_90000015817': art_90000015817.json expects outlet 'jnilbo'",
        r"^claims: verified_by 'art_90000015817': its url .* is not on the outlet's domains",
        r"^claims: verified_by 'nope': no nope.html or nope.json in",
        r"^fixtures/jnilbo: saved pages for an outlet the registry does not have",
    ]
    for pattern in expected:
        assert any(re.search(pattern, p) for p in problems), (pattern, problems)
    assert len(problems) == len(expected), problems
    assert not any(p.startswith("demo:") for p in problems)


def test_check_reports_values_of_the_wrong_type(tmp_path):
    text = GOOD.replace('region = "대전"\n', 'region = "대전"\nevery_minutes = "often"\n')
    assert check_registry(write(tmp_path, text), None) == [
        "demo: a value of the wrong type: invalid literal for int() with base 10: 'often'"
    ]


def test_check_accepts_a_verified_outlet_whose_page_matches(tmp_path):
    fixtures = _copy_fixture(tmp_path, "jnilbo", "art_90000015817")
    jnilbo = BUNDLED.read_text(encoding="utf-8").split("\n[jnilbo]\n", 1)[1].split("\n\n[daejonilbo]", 1)[0]
    registry_file = write(tmp_path, "[jnilbo]\n" + jnilbo + "\n")
    assert check_registry(registry_file, fixtures) == []
    shutil.rmtree(fixtures / "jnilbo")
    assert check_registry(registry_file, fixtures) == [
        f"jnilbo: verified_by 'art_90000015817': no art_90000015817.html or art_90000015817.json in {fixtures / 'jnilbo'}"
    ]


def test_check_command_exit_codes(tmp_path):
    runner = CliRunner()
    result = runner.invoke(app, ["outlets", "--check"])
    assert result.exit_code == 0, result.output
    assert re.search(r"60 outlets, all sound; 1 verified", " ".join(result.output.split())), result.output
    broken = write(tmp_path, BROKEN)
    result = runner.invoke(app, ["outlets", "--check", "--registry", str(broken), "--fixtures", str(tmp_path)])
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert lines and all(re.match(r"^(twin|bad|claims|demo): ", line) for line in lines), lines
    result = runner.invoke(app, ["outlets", "--check", "--markdown"])
    assert result.exit_code == 2


# --- docs/outlets.md ---------------------------------------------------------------------

def test_committed_outlets_page_matches_the_registry():
    committed = (ROOT / "docs" / "outlets.md").read_text(encoding="utf-8")
    assert committed == outlets_markdown(registry().values()), (
        "docs/outlets.md is out of date: newsdesk outlets --markdown > docs/outlets.md"
    )


def test_outlets_page_has_a_row_per_outlet_with_its_verification():
    page = outlets_markdown(registry().values())
    rows = [line for line in page.splitlines() if line.startswith("| `")]
    assert len(rows) == len(registry())
    jnilbo = next(row for row in rows if row.startswith("| `jnilbo` |"))
    assert "| 전남일보 | 광주 | ndsoft | **yes**: `art_90000015817` |" in jnilbo
    assert all("no: " in row for row in rows if row is not jnilbo)
    assert "| all | 60 | 1 |" in page
