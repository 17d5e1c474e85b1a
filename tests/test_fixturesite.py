"""The local copy of saved sites: routes, query order, 404s, robots.txt."""

from __future__ import annotations

import urllib.error
import urllib.request

import pytest

from crawler.devtools.fixturesite import DEFAULT_FIXTURES, FixtureSite, SiteSpec, find_sites, route_key


def fetch(url: str) -> tuple[int, bytes, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return resp.status, resp.read(), resp.headers.get("Content-Type", "")
    except urllib.error.HTTPError as exc:
        return exc.code, b"", ""


def test_route_key_ignores_query_order():
    assert route_key("/a?page=2&ncid=N01") == route_key("/a?ncid=N01&page=2") == "/a?ncid=N01&page=2"


def test_every_bundled_site_loads_and_routes_exist():
    sites = find_sites()
    assert "joongdo" in {s.outlet for s in sites}
    for site in sites:
        assert site.routes and "/robots.txt" in site.routes


def test_serves_routes_and_404s_unknown_paths():
    with FixtureSite(SiteSpec.load(DEFAULT_FIXTURES / "joongdo")) as site:
        status, body, kind = fetch(site.base_url + "/web/section.php?page=2&ncid=N01")
        assert status == 200 and "text/html" in kind and "view.php?key=" in body.decode("utf-8")
        assert fetch(site.base_url + "/robots.txt")[0] == 200
        assert fetch(site.base_url + "/nope")[0] == 404
        assert site.requests[-1] == "/nope"


def test_manifest_pointing_outside_its_folder_is_refused(tmp_path):
    (tmp_path / "site.json").write_text('{"outlet": "x", "routes": {"/": "../etc/passwd"}}', encoding="utf-8")
    with pytest.raises(ValueError, match="not a file in"):
        SiteSpec.load(tmp_path)
