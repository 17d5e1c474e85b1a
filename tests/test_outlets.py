"""The outlet registry: every entry valid, bad entries named with the field at fault."""

from __future__ import annotations

from pathlib import Path

import pytest

from crawler.outlets import OutletError, get_outlet, load_registry, outlet_for_url, registry

GOOD = """
[demo]
name_ko = "데모일보"
domains = ["www.demo.kr", "m.demo.kr"]
region = "대전"
family = "joongdo"
page = "crawler.pages.template.TemplateArticlePage"
list_urls = ["https://www.demo.kr/list"]
article_url = 'view\\.php\\?key=\\d+'
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
