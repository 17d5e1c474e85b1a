"""Table tests for crawler.text.urls.canonicalize_url."""

from typing import Any

import pytest

from crawler.text.urls import TRACKING_PARAMS, canonicalize_url

JOONGDO_HOSTS = {"m.joongdo.co.kr": "www.joongdo.co.kr", "joongdo.co.kr": "www.joongdo.co.kr"}
JOONGDO_PATHS = {"/main/view.php": "/web/view.php"}
ARTICLE = "https://www.joongdo.co.kr/web/view.php?key=20230406010001797"

CASES: list[tuple[str, dict[str, Any], str]] = [
    # already canonical: unchanged
    (ARTICLE, {}, ARTICLE),
    # scheme / host case, default ports, fragment
    ("HTTPS://WWW.JOONGDO.CO.KR/web/view.php?key=1", {}, "https://www.joongdo.co.kr/web/view.php?key=1"),
    ("https://www.joongdo.co.kr:443/web/view.php?key=1", {}, "https://www.joongdo.co.kr/web/view.php?key=1"),
    ("http://www.joongdo.co.kr:80/web/view.php?key=1", {}, "https://www.joongdo.co.kr/web/view.php?key=1"),
    ("http://www.joongdo.co.kr:80/a", {"force_https": False}, "http://www.joongdo.co.kr/a"),
    ("http://example.com:8080/a", {}, "https://example.com:8080/a"),
    ("https://example.com:8443/a", {}, "https://example.com:8443/a"),
    ("https://www.joongdo.co.kr/web/view.php?key=1#comment", {}, "https://www.joongdo.co.kr/web/view.php?key=1"),
    ("https://example.com#top", {}, "https://example.com/"),
    ("https://example.com", {}, "https://example.com/"),
    ("https://example.com?", {}, "https://example.com/"),
    ("https://www.example.com./a", {}, "https://www.example.com/a"),
    ("  https://example.com/a  ", {}, "https://example.com/a"),
    ("https://user:pw@example.com/a", {}, "https://example.com/a"),
    ("http://[2001:DB8::1]:8080/a", {}, "https://[2001:db8::1]:8080/a"),
    # path case kept, escapes upper-cased
    ("https://example.com/News/A%2fb", {}, "https://example.com/News/A%2Fb"),
    # http -> https
    ("http://www.joongdo.co.kr/web/view.php?key=1", {}, "https://www.joongdo.co.kr/web/view.php?key=1"),
    ("http://www.joongdo.co.kr/web/view.php?key=1", {"force_https": False}, "http://www.joongdo.co.kr/web/view.php?key=1"),
    # tracking params dropped, others sorted (stable, repeats kept)
    (
        "https://www.joongdo.co.kr/web/view.php?utm_source=facebook&key=1&utm_medium=social&fbclid=AbC",
        {},
        "https://www.joongdo.co.kr/web/view.php?key=1",
    ),
    ("https://e.com/a?gclid=1&igshid=2&mc_cid=3&mc_eid=4&ref=5&from=6&UTM_Campaign=7", {}, "https://e.com/a"),
    ("https://e.com/a?b=2&a=1", {}, "https://e.com/a?a=1&b=2"),
    ("https://e.com/a?b=2&a=3&a=1&c=", {}, "https://e.com/a?a=3&a=1&b=2&c="),
    ("https://e.com/a?flag&a=1", {}, "https://e.com/a?a=1&flag"),
    ("https://e.com/a?&&a=1&&", {}, "https://e.com/a?a=1"),
    ("https://e.com/search?q=%eb%8c%80%ec%a0%84&page=2", {}, "https://e.com/search?page=2&q=%EB%8C%80%EC%A0%84"),
    ("https://e.com/search?q=a+b", {}, "https://e.com/search?q=a+b"),
    ("https://e.com/a?referrer_id=1&fromage=2", {}, "https://e.com/a?fromage=2&referrer_id=1"),
    # content-selecting params on Korean CMSes survive
    (
        "https://www.joongdo.co.kr/web/list_news.php?page=2&ncid=N01_06",
        {},
        "https://www.joongdo.co.kr/web/list_news.php?ncid=N01_06&page=2",
    ),
    (
        "https://www.daejonilbo.com/news/articleList.html?view_type=sm&sc_section_code=S1N1&page=3",
        {},
        "https://www.daejonilbo.com/news/articleList.html?page=3&sc_section_code=S1N1&view_type=sm",
    ),
    # keep_params: only the article identifier
    (
        "https://www.joongdo.co.kr/web/view.php?key=20230406010001797&ref=main&page=1",
        {"keep_params": {"key"}},
        ARTICLE,
    ),
    (
        "http://m.daejonilbo.com/news/articleView.html?idxno=123456&sc_section_code=S1N1&utm_source=x",
        {"keep_params": {"idxno"}, "host_aliases": {"m.daejonilbo.com": "www.daejonilbo.com"}},
        "https://www.daejonilbo.com/news/articleView.html?idxno=123456",
    ),
    ("https://e.com/a?ref=1&x=2", {"keep_params": {"ref"}}, "https://e.com/a?ref=1"),
    ("https://e.com/a?x=2", {"keep_params": set()}, "https://e.com/a"),
    # host and path aliases
    (
        "http://m.joongdo.co.kr/main/view.php?key=20230406010001797#c",
        {"host_aliases": JOONGDO_HOSTS, "path_aliases": JOONGDO_PATHS},
        ARTICLE,
    ),
    (
        "https://joongdo.co.kr/web/view.php?key=20230406010001797",
        {"host_aliases": JOONGDO_HOSTS},
        ARTICLE,
    ),
    (
        "https://M.JOONGDO.CO.KR/web/view.php?key=20230406010001797",
        {"host_aliases": JOONGDO_HOSTS},
        ARTICLE,
    ),
    (
        "https://www.joongdo.co.kr/main/view.php?key=20230406010001797",
        {"path_aliases": JOONGDO_PATHS},
        ARTICLE,
    ),
    (
        "https://www.joongdo.co.kr/main/view.php/extra?key=1",
        {"path_aliases": JOONGDO_PATHS},
        "https://www.joongdo.co.kr/main/view.php/extra?key=1",
    ),
    ("https://other.co.kr/a", {"host_aliases": JOONGDO_HOSTS}, "https://other.co.kr/a"),
]


@pytest.mark.parametrize(("url", "kwargs", "expected"), CASES)
def test_canonicalize_url(url: str, kwargs: dict[str, Any], expected: str) -> None:
    assert canonicalize_url(url, **kwargs) == expected


@pytest.mark.parametrize(("url", "kwargs", "expected"), CASES)
def test_canonicalize_url_is_idempotent(url: str, kwargs: dict[str, Any], expected: str) -> None:
    assert canonicalize_url(expected, **kwargs) == expected


def test_joongdo_variants_collapse_to_one_key() -> None:
    variants = [
        "http://m.joongdo.co.kr/main/view.php?key=20230406010001797",
        "https://joongdo.co.kr/web/view.php?key=20230406010001797&utm_source=naver",
        "https://www.joongdo.co.kr/web/view.php?key=20230406010001797#article",
        "http://www.joongdo.co.kr:80/main/view.php?fbclid=IwAR0&key=20230406010001797",
    ]
    got = {
        canonicalize_url(u, keep_params={"key"}, host_aliases=JOONGDO_HOSTS, path_aliases=JOONGDO_PATHS)
        for u in variants
    }
    assert got == {ARTICLE}


BAD = [
    ("ftp://www.joongdo.co.kr/a", "not an http(s) URL"),
    ("javascript:void(0)", "not an http(s) URL"),
    ("mailto:huily@joongdo.co.kr", "not an http(s) URL"),
    ("/web/view.php?key=1", "not an http(s) URL"),
    ("www.joongdo.co.kr/web/view.php", "not an http(s) URL"),
    ("", "not an http(s) URL"),
    ("http:///web/view.php", "no host"),
    ("https://", "no host"),
    ("http://example.com:99999/", "malformed URL"),
    ("http://example.com:abc/", "malformed URL"),
]


@pytest.mark.parametrize(("url", "message"), BAD)
def test_canonicalize_url_rejects(url: str, message: str) -> None:
    with pytest.raises(ValueError) as info:
        canonicalize_url(url)
    assert message in str(info.value)
    assert repr(url) in str(info.value)  # the message names the input


def test_tracking_params_is_a_frozenset_without_content_keys() -> None:
    assert isinstance(TRACKING_PARAMS, frozenset)
    assert {"fbclid", "gclid", "igshid", "mc_cid", "mc_eid", "ref", "from"} <= TRACKING_PARAMS
    assert not {"key", "idxno", "ncid", "page", "sc_section_code"} & TRACKING_PARAMS
