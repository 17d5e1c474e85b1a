"""`newsdesk outlet add`: a new outlet's table, fixture and route from one saved article page.

Adding an outlet of a known CMS family is data, and most of that data is on the page: which
template parses it (the family whose selectors find the title, dates and body), the hosts
(the URL, link rel=canonical, og:url), the feeds (link rel=alternate), the list pages (the
article's section links and the navigation). What the page cannot say comes from the outlets
of the same family already in the registry: their article URL pattern, canonical rules, list
URL shapes and whether they are crawled by feed or by list page. A page no family template
parses is "generic": it gets a new family template of its own, written from the elements that
hold its title, dates and body.

Nothing here is trusted without a look: the expected JSON written beside the page is what
the extractor made of it, marked `"checked": false` until a developer has read the page and
corrected it (crawler.devtools.evaluate leaves such pages out of the scores).

Why one module: recognition, derivation, writing and the check share one small vocabulary
(the family match, the proposal, the registry's text); split apart they would be four modules
passing the same dataclasses around for one command.
"""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping
from urllib.parse import parse_qsl, urljoin, urlsplit

from itemadapter import ItemAdapter
from selectolax.lexbor import LexborNode

from crawler.devtools.evaluate import Case, Extracted, SystemScore, load_expected, score
from crawler.devtools.fixturesite import DEFAULT_FIXTURES, SiteSpec, route_key
from crawler.outlets import FAMILIES_PATH, REGISTRY_PATH, OutletError, OutletSpec, families, load_registry, registry
from crawler.pages.base import ArticlePage
from crawler.pages.generic import GenericArticlePage
from crawler.pages.template import MIN_TEMPLATE_BODY, PageTemplate, TemplateArticlePage
from crawler.text.dates import find_datetimes, find_labelled_dates
from pipelines.normalize import NormalizePipeline
from pipelines.validate import ArticleDropped, ValidatePipeline

# The 17 시/도 by the short names outlets.toml uses for `region`.
REGIONS = ("서울", "부산", "대구", "인천", "광주", "대전", "울산", "세종", "경기", "강원",
           "충북", "충남", "전북", "전남", "경북", "경남", "제주")
# Fields of an expected JSON, as tests/pages/test_fixture_pages.py compares them.
EXPECTED_FIELDS = ("outlet", "url", "canonical_url", "title", "subtitle", "sections", "published", "modified",
                   "print_edition", "authors", "region", "wire", "body", "images")
# NDSoft's standard paths: every NDSoft site serves its whole-site feed and list here.
NDSOFT_FEED = "/rss/allArticle.xml"
NDSOFT_LIST = "/news/articleList.html?view_type=sm"
# NDSoft's article skins, by the elements only that skin prints (families.toml [ndsoft]).
NDSOFT_SKINS = (("2025", ("ul.breadcrumbs", "h1.heading")), ("infomation", ("ul.infomation",)),
                ("2018", ("div.article-head-title", "div.info-text")))
MAX_LIST_URLS = 3
_HOST_PREFIXES = ("www.", "m.", "mobile.")
_NAME_KO = re.compile(r"^[가-힣A-Za-z]{2,12}(?:일보|신문|뉴스|투데이|타임즈|타임스|신보|매일|경제|방송|저널)$")
_LIST_WORDS = re.compile(r"list|section|category|sc_section|cate", re.IGNORECASE)
_HTML_TAG = re.compile(rb"<(?:!doctype|html|head|body|meta|title|article|div|p|h[1-6])[\s>/]", re.IGNORECASE)


class OnboardError(ValueError):
    """The page or the arguments cannot make an outlet; the message is the one line to print."""


@dataclass(frozen=True)
class FamilyMatch:
    """Which CMS family's template parses the page, and what on the page says so."""

    family: str | None  # None: no known family (a generic page)
    skin: str | None
    evidence: tuple[str, ...]
    fields: tuple[str, ...] = ()  # the fields the family's selectors found

    @property
    def generic(self) -> bool:
        return self.family is None


@dataclass
class Proposal:
    """Everything `outlet add` would write, before anything is written."""

    name: str
    url: str
    table: dict[str, Any]  # the outlet's table, as outlets.toml holds it
    match: FamilyMatch
    family_table: dict[str, Any] | None = None  # a new family template (generic pages only)
    notes: list[str] = field(default_factory=list)  # what was guessed or left out, for the developer
    page_name: str = "art"
    encoding: str = "utf-8"
    base_template: PageTemplate | None = None  # the known family's template the outlet uses

    @property
    def family(self) -> str:
        return str(self.table["family"])

    def toml(self) -> str:
        return render_table(self.name, self.table)

    def family_toml(self) -> str:
        return render_table(self.family, self.family_table) if self.family_table else ""


@dataclass
class Written:
    registry: Path
    families: Path | None
    folder: Path
    files: list[Path]
    spec: OutletSpec
    template: PageTemplate
    entries: list[EntryRoute] = field(default_factory=list)

    @property
    def page(self) -> Path:
        return self.files[0]


@dataclass
class CheckReport:
    """The extraction check on the new fixture: evaluate's scores, the fields that fell back to
    generic extraction, and whether a crawl would drop the article."""

    score: SystemScore
    article: dict[str, Any]
    fallbacks: dict[str, str]
    dropped: str | None


# -- reading the page ---------------------------------------------------------------------

def not_html(data: bytes) -> str | None:
    """Why `data` cannot be a saved article page, or None."""
    if not data.strip():
        return "the file is empty"
    head = data[:65536]
    if b"\x00" in head and not head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "it is binary (NUL bytes), not HTML"
    if not _HTML_TAG.search(head):
        return "no HTML tags in it (a saved page starts with <!doctype html> or <html>)"
    return None


def site_of(host: str) -> str:
    """The host without www. / m. / mobile.: what the outlet's hosts share."""
    host = host.lower()
    for prefix in _HOST_PREFIXES:
        if host.startswith(prefix) and host.count(".") >= 2:
            return host[len(prefix):]
    return host


def _same_site(host: str, site: str) -> bool:
    host = host.lower()
    return host == site or host.endswith("." + site)


def _links(page: ArticlePage, nodes: list[LexborNode]) -> list[str]:
    """Absolute http(s) links of `nodes` (<a> and <link> themselves, and the <a> inside them)."""
    found = []
    for node in nodes:
        for a in ([node] if node.tag in ("a", "link") else []) + list(node.css("a[href]")):
            href = page.absolute((a.attributes.get("href") or "").replace("&amp;", "&"))
            if href and href.startswith(("http://", "https://")):
                found.append(href.split("#")[0])
    return list(dict.fromkeys(found))


def _hit(page: ArticlePage, selectors: tuple[str, ...]) -> str | None:
    """The first of `selectors` that finds text on the page (a `css@attr` reads an attribute)."""
    for selector in selectors:
        css, _, attr = selector.partition("@")
        try:
            node = page.tree.css_first(css)
        except Exception:  # noqa: BLE001 - a selector lexbor cannot read finds nothing
            continue
        if node is None:
            continue
        text = node.attributes.get(attr) if attr else node.text(separator=" ")
        if text and text.strip():
            return selector
    return None


# -- recognition ---------------------------------------------------------------------------

def recognise_family(html: bytes | str, url: str, *, templates: Mapping[str, PageTemplate] | None = None,
                     outlets: Mapping[str, OutletSpec] | None = None) -> FamilyMatch:
    """The family whose template finds the page's title, published date and body by its own
    selectors (the test every saved page of a family passes), best by the number of fields
    found and by the family's article URL pattern; a generic match when none does."""
    templates = families() if templates is None else templates
    outlets = registry() if outlets is None else outlets
    page = ArticlePage(url, html)
    best: tuple[int, FamilyMatch] | None = None
    for name, template in templates.items():
        article = TemplateArticlePage(url, html, template=template).to_article()
        core = [article.provenance.get(key) == "selector" for key in ("title", "body", "published")]
        if not all(core) or len(article.body) < MIN_TEMPLATE_BODY:
            continue
        evidence, found = [], []
        for key in ("title", "subtitle", "sections", "info", "byline", "body"):
            selector = _hit(page, getattr(template, key))
            if selector:
                found.append(key)
                evidence.append(f"{key} at {selector}")
        members = [spec for spec in outlets.values() if spec.family == name]
        url_match = next((spec for spec in members if spec.is_article_url(url)), None)
        points = len(found) + (2 if url_match else 0)
        if url_match:
            evidence.append(f"URL matches the article pattern of {url_match.name} ({url_match.article_url.pattern})")
        skin = None
        if name == "ndsoft":
            markers = [m for m in ("articleView.html?idxno=", "article-view-content-div", NDSOFT_FEED) if m in page.html]
            evidence.extend(f"NDSoft marker {m!r}" for m in markers)
            points += len(markers)
            skin = next((s for s, sels in NDSOFT_SKINS if any(page.tree.css_first(css) is not None for css in sels)), None)
            if skin:
                evidence.append(f"skin {skin!r}")
        match = FamilyMatch(name, skin, tuple(evidence), tuple(found))
        if best is None or points > best[0]:
            best = (points, match)
    if best is not None:
        return best[1]
    return FamilyMatch(None, None, (f"no family template ({', '.join(templates)}) finds the title, date and body",))


# -- deriving the spec ---------------------------------------------------------------------

def _url_pattern(url: str) -> tuple[str, list[str]]:
    """An article URL pattern and canonical keep_params from one article URL: digit runs
    become \\d+, and the query is its identifying parameter (the longest number)."""
    parts = urlsplit(url)
    path_rx = re.sub(r"\d+", r"\\d+", re.escape(parts.path))
    query = parse_qsl(parts.query, keep_blank_values=True)
    if not query:
        if not re.search(r"\d{3,}", parts.path):  # a slug: any last segment under the same path
            path_rx = re.escape(parts.path.rsplit("/", 1)[0]) + r"/[^/?#]+$"
        return path_rx, []
    key, value = max(query, key=lambda kv: len(re.sub(r"\D", "", kv[1])))
    value_rx = re.sub(r"\d+", r"\\d+", re.escape(value)) if re.search(r"\d", value) else r"[^&#]+"
    return rf"{path_rx}\?(?:[^#]*&)?{re.escape(key)}={value_rx}", [key]


def _shape(url: str) -> tuple[str, tuple[str, ...]]:
    """A list URL's shape: its path with digit runs as #, and its query's keys."""
    parts = urlsplit(url)
    keys = tuple(sorted(k for k, _ in parse_qsl(parts.query, keep_blank_values=True)))
    values = tuple(re.sub(r"\d+", "#", v) for _, v in sorted(parse_qsl(parts.query, keep_blank_values=True)))
    return re.sub(r"\d+", "#", parts.path.rstrip("/") or "/"), keys + values


def _name_ko(page: ArticlePage) -> str | None:
    site_name = page.meta("og:site_name")
    if site_name and re.fullmatch(r"[가-힣A-Za-z0-9 ]{2,20}", site_name):
        return site_name.strip()
    title = page.css_text("title") or ""
    for part in re.split(r"\s+(?:-|\||:|::|·)\s+|::", title):
        if _NAME_KO.match(part.strip()):
            return part.strip()
    return None


def _region_from_name(name_ko: str) -> str | None:
    for region in REGIONS:
        if name_ko.startswith(region):
            return region
    return None


def derive_spec(name: str, url: str, html: bytes, *, region: str | None = None, name_ko: str | None = None,
                rss_urls: tuple[str, ...] = (), list_urls: tuple[str, ...] = (),
                outlets: Mapping[str, OutletSpec] | None = None,
                templates: Mapping[str, PageTemplate] | None = None) -> Proposal:
    """The outlet's table for the article at `url` saved as `html`; OnboardError when the page
    or the arguments cannot make one."""
    outlets = registry() if outlets is None else outlets
    templates = families() if templates is None else templates
    if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
        raise OnboardError(f"outlet name {name!r}: expected lowercase letters, digits and underscores, starting with a letter")
    if name in outlets:
        raise OnboardError(f"outlet {name!r} is already in the registry (--force replaces its table)")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise OnboardError(f"--url {url!r}: expected the article's absolute http(s) URL")
    why = not_html(html)
    if why:
        raise OnboardError(f"the saved page is not an article page: {why}")
    page = ArticlePage(url, html)
    canonical = page.link_canonical() or (urljoin(url, page.meta("og:url") or "") if page.meta("og:url") else None)
    host = parts.hostname.lower()
    main_host = host
    if canonical:
        canonical_host = (urlsplit(canonical).hostname or "").lower()
        if canonical_host and site_of(canonical_host) != site_of(host):
            raise OnboardError(f"--url host {host!r} is not the page's own host {canonical_host!r} (its "
                               f"canonical / og:url): was the page saved from another site?")
        main_host = canonical_host or host
    site = site_of(main_host)
    name_ko = name_ko or _name_ko(page)
    if not name_ko:
        raise OnboardError("the page names no outlet (og:site_name, or the name in its <title>): give --name-ko")
    notes: list[str] = []
    if region is None:
        region = _region_from_name(name_ko)
        if region is None:
            raise OnboardError(f"cannot tell the region from {name_ko!r}: give --region (one of {' '.join(REGIONS)})")
        notes.append(f"region {region} read from the outlet's name {name_ko}: check it")
    if region not in REGIONS:
        raise OnboardError(f"--region {region!r} is not a 시/도 short name; one of {' '.join(REGIONS)}")

    match = recognise_family(html, url, templates=templates, outlets=outlets)
    family_table = None
    if match.generic:  # no family template found an article here: the page's own elements must
        family_table = derive_template(page, name_ko)
        generic = NormalizePipeline().process_item(GenericArticlePage(url, html).to_article())
        if "body" not in family_table:
            raise OnboardError("the saved page is not an article page: no element in it holds paragraphs of text")
        if not generic.title.strip() and "title" not in family_table:
            raise OnboardError("the saved page is not an article page: no title found in it")
        if "info" not in family_table and generic.published is None:
            notes.append("no published date found on the page: write an `info` selector for the element that prints it")
    members = [spec for spec in outlets.values() if spec.family == match.family] if match.family else []
    reference = next((spec for spec in members if spec.is_article_url(url)), None)
    table: dict[str, Any] = {"name_ko": name_ko, "domains": [], "region": region}
    if match.family:
        table["family"] = match.family
        if match.skin:
            table["skin"] = match.skin
    else:
        table["family"] = name
        notes.append(f"no known family: a new family template [{name}] is written to families.toml from this page's "
                     f"elements; read it, and name the family after the CMS if other outlets share it")
    if reference is not None:
        article_url, keep = reference.article_url.pattern, list(reference.canonical.keep_params or [])
        path_aliases = dict(reference.canonical.path_aliases)
    else:
        article_url, keep = _url_pattern(url)
        path_aliases = {}
        if members:
            notes.append(f"the URL matches no {match.family} outlet's article pattern: article_url was written from this URL")
    if not re.search(article_url, url):
        raise OnboardError(f"cannot write an article URL pattern that matches {url}")

    # entry points: what the page names, on the outlet's own hosts
    feeds = [l for l in _links(page, page.tree.css('link[rel="alternate"]'))
             if _same_site(urlsplit(l).hostname or "", site)
             and re.search(r"rss|atom|xml|feed", l, re.IGNORECASE)]
    uses_feeds = match.family is None or not members or any(spec.rss_urls for spec in members)
    chosen_feeds = list(rss_urls)
    if not chosen_feeds and uses_feeds:
        whole = [f for f in feeds if "allarticle" in f.lower()]
        chosen_feeds = whole or feeds[:1]
        if match.family == "ndsoft" and not chosen_feeds:
            chosen_feeds = [f"{parts.scheme}://{main_host}{NDSOFT_FEED}"]
            notes.append(f"RSS: NDSoft's standard feed {NDSOFT_FEED} (the page names none): check it answers")
    elif feeds and not rss_urls:
        notes.append(f"feeds named by the page, not used ({match.family} outlets are crawled by list page): {', '.join(feeds)}")
    section_selectors = templates[match.family].sections if match.family in templates else ()
    chosen_lists = list(list_urls) or _list_urls(page, url, section_selectors, members, site, article_url)
    if match.family == "ndsoft" and not list_urls:
        chosen_lists = [f"{parts.scheme}://{main_host}{NDSOFT_LIST}"] + chosen_lists
    if not list_urls:  # one scheme (the article's), each list once
        chosen_lists = list({route_key(_path_query(l)): f"{parts.scheme}:{l.split(':', 1)[1]}" for l in reversed(chosen_lists)}.values())[::-1]
        chosen_lists = chosen_lists[:MAX_LIST_URLS]
    if not rss_urls:
        chosen_feeds = [f"{parts.scheme}:{f.split(':', 1)[1]}" for f in chosen_feeds]
    if not chosen_feeds and not chosen_lists:
        raise OnboardError("the page names no feed and no list page on its own site: give --rss-url or --list-url")

    hosts = [main_host, site, "www." + site, "m." + site]  # the bare and mobile forms most papers also serve
    hosts += [urlsplit(u).hostname or "" for u in chosen_feeds + chosen_lists + [url]]
    domains = list(dict.fromkeys(h.lower() for h in hosts if h))
    table["domains"] = domains
    if chosen_feeds:
        table["rss_urls"] = chosen_feeds
    table["list_urls"] = chosen_lists
    table["article_url"] = article_url
    encoding = page.encoding.lower().replace("_", "-")
    if encoding in ("cp949", "euc-kr", "ks-c-5601-1987", "uhc"):
        table["encoding"] = "cp949"
    if reference is not None and reference.print_edition_url is not None:
        table["print_edition_url"] = reference.print_edition_url.pattern
    if parts.scheme == "http":
        table["scheme"] = "http"
        notes.append("scheme http: the article URL given is http; make it https if the site serves https")
    table["every_minutes"] = 30
    # unverified until its fixture is checked by hand; then `verified_by = [page]` replaces it
    table["unverified"] = "written by newsdesk outlet add; its fixture is not yet checked by hand"
    aliases = {h: main_host for h in domains if h != main_host and site_of(h) == site and (h == site or h.startswith(_HOST_PREFIXES))}
    table["canonical"] = {"keep_params": keep, "host_aliases": aliases, **({"path_aliases": path_aliases} if path_aliases else {})}
    page_name = "art_" + (re.sub(r"\D", "_", _identifier(url, keep)).strip("_") or "1")
    return Proposal(name, url, table, match, family_table, notes, page_name, table.get("encoding", "utf-8"),
                    templates.get(match.family) if match.family else None)


def _path_query(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _identifier(url: str, keep: list[str]) -> str:
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    for key in keep:
        if query.get(key):
            return query[key]
    digits = re.findall(r"\d{3,}", parts.path + "?" + parts.query)
    return max(digits, key=len) if digits else ""


def _list_urls(page: ArticlePage, url: str, section_selectors: tuple[str, ...], members: list[OutletSpec],
               site: str, article_url: str) -> list[str]:
    """List pages named by the page: the article's own section first (its list is the likeliest
    to show the article), then the navigation. Of a known family only those shaped like the
    list URLs its outlets use, or a section link with the family's list suffix added (a family
    whose lists are `/economy/all` lists the section `/economy` at `/economy/all`); of a
    generic page the links that look like lists."""
    references = [u for spec in members for u in spec.list_urls]
    shapes = {_shape(u) for u in references}
    suffixes = {path.rsplit("/", 1)[1] for path in (urlsplit(u).path.rstrip("/") for u in references)
                if path.count("/") >= 2 and not re.search(r"\d", path.rsplit("/", 1)[1])}
    section_links: list[str] = []
    for selector in section_selectors:
        section_links = _links(page, list(page.tree.css(selector)))
        if section_links:
            break
    candidates: list[str] = []
    for link in section_links:
        parts = urlsplit(link)
        candidates.append(link)
        if parts.path.strip("/") and "/" not in parts.path.strip("/") and not parts.query:
            candidates.extend(f"{link.rstrip('/')}/{suffix}" for suffix in sorted(suffixes))
    candidates += _links(page, list(page.tree.css("body")))
    chosen: dict[str, str] = {}
    for link in candidates:
        parts = urlsplit(link)
        if not _same_site(parts.hostname or "", site) or re.search(article_url, link) or link.rstrip("/") == url.rstrip("/"):
            continue
        if shapes and _shape(link) not in shapes:
            continue
        if not shapes and not _LIST_WORDS.search(parts.path + "?" + parts.query):
            continue
        chosen.setdefault(route_key(_path_query(link)), link)
        if len(chosen) == MAX_LIST_URLS:
            break
    return list(chosen.values())


# -- a template for a page of no known family --------------------------------------------

def _selector_for(page: ArticlePage, node: LexborNode) -> str | None:
    """A CSS selector whose first match on the page is `node`: #id, tag.class, or with its
    nearest identified ancestor before it."""
    def own(n: LexborNode) -> str | None:
        ident = (n.attributes.get("id") or "").strip()
        if ident and re.fullmatch(r"[A-Za-z][\w-]*", ident):
            return f"#{ident}"
        classes = [c for c in (n.attributes.get("class") or "").split() if re.fullmatch(r"[A-Za-z][\w-]*", c)]
        return f"{n.tag}." + ".".join(classes[:2]) if classes else None

    chain, current = [], node
    while current is not None and current.tag not in ("html", "body", "-undef"):
        part = own(current)
        if part:
            chain.insert(0, part)
            selector = " ".join(chain) if len(chain) > 1 else part
            first = page.tree.css_first(selector)
            if first is not None and first.mem_id == node.mem_id:
                return selector
        elif not chain:
            chain.insert(0, current.tag)
        current = current.parent
    return None


def _container_selector(page: ArticlePage, node: LexborNode, limit: int = 400) -> str | None:
    """A selector for `node`, or for its nearest identifiable ancestor whose text is still
    short (an info line inside an unnamed <li> is found by its list)."""
    current: LexborNode | None = node
    while current is not None and current.tag not in ("html", "body"):
        if len(" ".join(current.text(separator=" ").split())) > limit:
            return None
        selector = _selector_for(page, current)
        if selector:
            return selector
        current = current.parent
    return None


def derive_template(page: ArticlePage, name_ko: str) -> dict[str, Any]:
    """A family template from the elements that hold this page's title, dates and body."""
    heading = " ".join((page.meta("og:title") or page.css_text("title") or "").split())
    for suffix in (f" - {name_ko}", f" | {name_ko}", f" : {name_ko}", f":: {name_ko}"):
        heading = heading.removesuffix(suffix)
    order = {node.mem_id: i for i, node in enumerate(page.tree.root.traverse())} if page.tree.root else {}
    table: dict[str, Any] = {}
    # the title: the element whose text is the og:title, or the closest to it (a heading first)
    titles = []
    for node in page.tree.css("h1, h2, h3, h4, [class*=title], [class*=tit], [class*=headline], [class*=subject]"):
        text = " ".join(node.text(separator=" ").split())
        if text and len(text) >= max(5, 0.6 * len(heading)) and (text in heading or heading in text):
            titles.append((abs(len(text) - len(heading)), node.tag not in ("h1", "h2", "h3", "h4"), order.get(node.mem_id, 0), node))
    title_node = None
    for *_, node in sorted(titles, key=lambda t: t[:3]):
        selector = _selector_for(page, node)
        if selector:
            table["title"], title_node = [selector], node
            break
    # the body: the container whose own paragraphs (<p> children, or text between <br>s) hold
    # the most text, what readability-style extractors look for
    best: tuple[int, LexborNode] | None = None
    for node in page.tree.css("div, article, section, td"):
        own = 0
        for child in node.iter(include_text=True):
            if child.tag == "-text":
                own += len("".join((child.text_content or "").split()))
            elif child.tag == "p":
                own += len("".join(child.text(separator="").split())) - sum(
                    len("".join(a.text(separator="").split())) for a in child.css("a"))
        if own >= MIN_TEMPLATE_BODY and (best is None or own > best[0]):
            best = (own, node)
    if best is not None:
        selector = _selector_for(page, best[1])
        if selector:
            table["body"] = [selector]
    # the dates: an element printing labelled ones (입력/승인/수정), else a bare date and time
    # (the template reads a bare one as the published time); between the title and the body
    # first (a footer prints dates too: 등록일자), then the nearest the title, then the smallest
    start = order.get(title_node.mem_id, 0) if title_node is not None else 0
    stop = order.get(best[1].mem_id, len(order)) if best is not None else len(order)
    for finder, longest in ((find_labelled_dates, 300), (find_datetimes, 80)):
        found = []
        for node in page.tree.css("div, ul, p, span, li, em, time"):
            text = " ".join(node.text(separator=" ").split())
            if len(text) < longest and finder(text):
                where = order.get(node.mem_id, 0)
                found.append((not start < where < stop, abs(where - start), len(text), node))
        found.sort(key=lambda f: f[:3])
        selector = next((sel for *_, node in found if (sel := _container_selector(page, node))), None)
        if selector:
            table["info"] = [selector]
            break
    table["site_suffixes"] = [f" - {name_ko}", f" | {name_ko}", f" : {name_ko}"]
    return table


# -- TOML text -----------------------------------------------------------------------------

def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        if "\\" in value and "'" not in value and "\n" not in value:
            return f"'{value}'"  # regexes read as written
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{_toml_key(k)} = {_toml_value(v)}" for k, v in value.items()) + " }" if value else "{}"
    raise TypeError(f"no TOML form for {value!r}")


def _toml_key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else json.dumps(key, ensure_ascii=False)


def render_table(name: str, table: Mapping[str, Any]) -> str:
    """`table` as TOML text: its values, then each sub-table ([name.canonical])."""
    lines = [f"[{name}]"]
    subtables = {k: v for k, v in table.items() if isinstance(v, dict) and any(isinstance(x, (dict, list)) for x in v.values())}
    for key, value in table.items():
        if key not in subtables:
            lines.append(f"{key} = {_toml_value(value)}")
    for key, value in subtables.items():
        lines.append("")
        lines.append(f"[{name}.{key}]")
        lines.extend(f"{_toml_key(k)} = {_toml_value(v)}" for k, v in value.items())
    return "\n".join(lines) + "\n"


def remove_table(text: str, name: str) -> str:
    """`text` without the table `[name]` and its sub-tables; comments above other tables stay."""
    lines = text.splitlines(keepends=True)
    header = re.compile(r"^\s*\[([^\]]+)\]")
    kept: list[str] = []
    inside = False
    pending: list[str] = []
    for line in lines:
        found = header.match(line)
        if found:
            table = found.group(1).strip()
            is_ours = table == name or table.startswith(name + ".")
            if inside and not is_ours:
                kept.extend(pending)
            pending = []
            inside = is_ours
            if inside:
                while kept and kept[-1].lstrip().startswith("#") and "newsdesk outlet add" in kept[-1]:
                    kept.pop()  # the line `outlet add` wrote above the table goes with it
                continue
        if inside:
            if line.strip() == "" or line.lstrip().startswith("#"):
                pending.append(line)
            else:
                pending = []
            continue
        kept.append(line)
    return re.sub(r"\n{3,}", "\n\n", "".join(kept)).rstrip("\n") + "\n"


def _appended(text: str, block: str, comment: str) -> str:
    return text.rstrip("\n") + "\n\n" + comment + block


# -- writing -------------------------------------------------------------------------------

def validate_proposal(proposal: Proposal, registry_text: str) -> OutletSpec:
    """The outlet's spec as the registry loader reads it from the registry with the table
    appended (a duplicate table or a bad value fails here, before anything is written)."""
    try:
        tomllib.loads(_appended(registry_text, proposal.toml(), ""))
    except tomllib.TOMLDecodeError as exc:
        raise OnboardError(f"the table would not parse in the registry: {exc}") from exc
    import tempfile  # the loader reads a file; a scratch one keeps the real registry untouched

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "outlets.toml"
        path.write_text(proposal.toml(), encoding="utf-8")
        try:
            spec = load_registry(path)[proposal.name]
        except OutletError as exc:
            raise OnboardError(str(exc)) from exc
    template_for(spec, proposal)
    return spec


def template_for(spec: OutletSpec, proposal: Proposal) -> PageTemplate:
    """The template the outlet's pages are parsed with: its family's, with its overrides."""
    try:
        if proposal.family_table is not None:
            return PageTemplate.from_mapping(spec.family, proposal.family_table)
        if proposal.base_template is None:
            raise OnboardError(f"family {spec.family!r} has no template")
        if spec.selectors:
            return PageTemplate.from_mapping(f"{spec.family}/{spec.name}", spec.selectors, base=proposal.base_template)
        return proposal.base_template
    except ValueError as exc:
        raise OnboardError(f"the template of family {spec.family!r}: {exc}") from exc


def extract(spec: OutletSpec, template: PageTemplate, url: str, html: bytes) -> Any:
    """The article as a crawl would make it: the outlet's page class, then normalize."""
    cls = spec.page_class()
    kwargs = {"template": template} if issubclass(cls, TemplateArticlePage) else {}
    page = cls(url=url, html=html, outlet=spec, **kwargs)
    return NormalizePipeline().process_item(page.to_article())


def expected_fields(article: Any) -> dict[str, Any]:
    doc = ItemAdapter(article).asdict()
    for key in ("published", "modified"):
        if doc[key] is not None:
            doc[key] = doc[key].isoformat()
    return {key: doc[key] for key in EXPECTED_FIELDS}


@dataclass
class EntryRoute:
    """A saved feed or list page, and where the fixture site serves it."""

    kind: str  # "feed" or "list"
    path: str  # the route: the path and query of the outlet's feed or list URL
    file: str  # its file name in the fixture folder
    data: bytes
    links_article: bool  # whether it links the saved article (a crawl of the saved site reaches it)


def entry_route(spec: OutletSpec, article_url: str, data: bytes) -> EntryRoute:
    """Where a saved feed or list page goes: a feed at the outlet's first feed URL, a list page
    at its first list URL; OnboardError when the outlet has no such entry point (or, for a
    feed, does not read feeds)."""
    head = data.lstrip()[:400].lower()
    kind = "feed" if head.startswith(b"<?xml") or b"<rss" in head or b"<feed" in head else "list"
    if not_html(data) and kind == "list":
        raise OnboardError(f"an entry page is neither a feed nor HTML: {not_html(data)}")
    urls = spec.rss_urls if kind == "feed" else spec.list_urls
    if not urls:
        raise OnboardError(f"a saved {kind} was given, but the outlet's table has no "
                           f"{'rss_urls (give --rss-url)' if kind == 'feed' else 'list_urls (give --list-url)'}")
    if kind == "list" and spec.rss_urls:
        raise OnboardError("a saved list page was given, but the outlet is crawled by its feed (rss_urls): save the feed")
    url = urls[0]
    path = _path_query(url)
    if kind == "feed":
        stem = Path(urlsplit(url).path).stem or "feed"
        file = f"rss_{stem.removeprefix('rss_')}.xml"
    else:
        file = "list_" + (re.sub(r"[^A-Za-z0-9]+", "_", path).strip("_")[:60] or "index") + ".html"
    text = data.decode("utf-8", "replace") if kind == "feed" else ArticlePage(url, data, spec).html
    found = re.findall(r"https?://[^\s<>\"']+", text) if kind == "feed" else re.findall(r"href=[\"']([^\"']+)", text)
    target = spec.canonicalize(article_url)
    linked = False
    for link in found:
        absolute = urljoin(url, link.replace("&amp;", "&").strip())
        try:
            if spec.is_article_url(absolute) and spec.canonicalize(absolute) == target:
                linked = True
                break
        except ValueError:
            continue
    return EntryRoute(kind, path, file, data, linked)


def write_outlet(proposal: Proposal, html: bytes, *, registry_path: Path, fixtures: Path,
                 families_path: Path | None = None, force: bool = False,
                 entry_pages: tuple[bytes, ...] = ()) -> Written:
    """Append the table (and a new family's template) and write the fixture folder: the page,
    its expected JSON marked unchecked, a README, robots.txt and the site.json route; and each
    saved feed or list page in `entry_pages`, routed at the outlet's feed or list URL and
    crawled first (start_paths)."""
    text = registry_path.read_text(encoding="utf-8")
    existing = tomllib.loads(text)
    if proposal.name in existing:
        if not force:
            raise OnboardError(f"outlet {proposal.name!r} is already in {registry_path} (--force replaces its table)")
        text = remove_table(text, proposal.name)
    folder = fixtures / proposal.name
    page_file = folder / f"{proposal.page_name}.html"
    if folder.exists() and not force and (page_file.exists() or (folder / "site.json").exists()):
        raise OnboardError(f"{folder} already holds a site (--force overwrites the page and adds its route)")
    spec = validate_proposal(proposal, text)
    template = template_for(spec, proposal)
    article = extract(spec, template, proposal.url, html)
    entries = [entry_route(spec, proposal.url, data) for data in entry_pages]
    fam_path = None
    if proposal.family_table is not None:
        fam_path = families_path or Path(str(FAMILIES_PATH))
        fam_text = fam_path.read_text(encoding="utf-8")
        if proposal.family in tomllib.loads(fam_text):
            if not force:
                raise OnboardError(f"family [{proposal.family}] is already in {fam_path} (--force replaces it)")
            fam_text = remove_table(fam_text, proposal.family)
        comment = f"# {proposal.table['name_ko']} ({spec.main_host}): written by `newsdesk outlet add` from one page; read it\n"
        fam_path.write_text(_appended(fam_text, proposal.family_toml(), comment), encoding="utf-8")
    comment = f"# {proposal.table['name_ko']}: written by `newsdesk outlet add`; fixture tests/fixtures/{proposal.name}\n"
    registry_path.write_text(_appended(text, proposal.toml(), comment), encoding="utf-8")

    folder.mkdir(parents=True, exist_ok=True)
    files = [page_file, page_file.with_suffix(".json"), folder / "site.json"]
    page_file.write_bytes(html)
    expected = {"url": proposal.url, "checked": False, "expected": expected_fields(article)}
    page_file.with_suffix(".json").write_text(json.dumps(expected, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    site_file = folder / "site.json"
    site = json.loads(site_file.read_text(encoding="utf-8")) if site_file.exists() else {"outlet": proposal.name, "routes": {}}
    site["outlet"] = proposal.name
    site["routes"].setdefault("/robots.txt", "robots.txt")
    site["routes"][_path_query(proposal.url)] = page_file.name
    if proposal.encoding == "cp949":
        site["charset"] = "euc-kr"
    site.setdefault("start_paths", [])
    for entry in entries:
        (folder / entry.file).write_bytes(entry.data)
        files.append(folder / entry.file)
        site["routes"][entry.path] = entry.file
        if entry.path not in site["start_paths"]:
            site["start_paths"].append(entry.path)
    site_file.write_text(json.dumps(site, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    robots = folder / "robots.txt"
    if not robots.exists():
        robots.write_text("User-agent: *\nAllow: /\n", encoding="utf-8")
        files.append(robots)
    readme = folder / "README.md"
    if not readme.exists():
        readme.write_text(
            f"# {proposal.table['name_ko']} ({proposal.name})\n\n"
            f"| file | what it is |\n|---|---|\n"
            f"| `{page_file.name}` | the article {proposal.url}, as saved by the developer who added the outlet: "
            f"write here where it came from (repository, path, commit, or the date it was saved) |\n"
            f"| `{page_file.with_suffix('.json').name}` | its expected fields as extracted, `\"checked\": false` "
            f"until read against the page by hand |\n"
            f"| `robots.txt` | written: allows everything |\n"
            + "".join(f"| `{e.file}` | the outlet's {e.kind} {e.path}, saved by the developer who added the outlet: "
                      f"write here where it came from |\n" for e in entries), encoding="utf-8")
        files.append(readme)
    SiteSpec.load(folder)  # the route table must load as the fixture site reads it
    registry.cache_clear()  # this process reads the registry again if it was the project's
    families.cache_clear()
    return Written(registry_path, fam_path, folder, files, spec, template, entries)


# -- the check -----------------------------------------------------------------------------

def check_fixture(spec: OutletSpec, template: PageTemplate, html_path: Path, json_path: Path) -> CheckReport:
    """`newsdesk evaluate`'s scoring on the one new page, with the outlet's own spec (the
    registry that holds it need not be the project's), plus what a crawl would do with it."""
    def extractor(url: str, html: bytes) -> Extracted:
        article = extract(spec, template, url, html)
        return Extracted(article.title, article.published, article.modified, article.authors, article.region, article.body)

    url, expected = load_expected(json_path)
    result = score("newsdesk", [Case(html_path, json_path, url, "own", expected)], extractor, "own")
    article = extract(spec, template, url, html_path.read_bytes())
    fallbacks = {k: v for k, v in article.provenance.items() if v not in ("selector", "text")}
    dropped = None
    try:
        ValidatePipeline().process_item(article)
    except ArticleDropped as exc:
        dropped = str(exc)
    return CheckReport(result, expected_fields(article), fallbacks, dropped)


def first_and_last_sentence(body: str) -> tuple[str, str]:
    paragraphs = [p for p in body.split("\n\n") if p.strip()]
    if not paragraphs:
        return "", ""
    first = re.split(r"(?<=[.!?])\s", paragraphs[0], maxsplit=1)[0]
    last = re.split(r"(?<=[.!?])\s", paragraphs[-1])[-1]
    return first, last


def registry_at(path: Path) -> dict[str, OutletSpec]:
    """The outlets of the registry file at `path`, as the loader validates them."""
    try:
        return load_registry(path)
    except OutletError as exc:
        raise OnboardError(str(exc)) from exc


def families_at(path: Path) -> dict[str, PageTemplate]:
    """The family templates of the families file at `path`."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        return {name: PageTemplate.from_mapping(name, raw) for name, raw in data.items()}
    except (OSError, tomllib.TOMLDecodeError, ValueError) as exc:
        raise OnboardError(f"cannot read family templates {path}: {exc}") from exc


def default_paths() -> tuple[Path, Path, Path]:
    """The project's registry, families file and fixtures folder (a source checkout's)."""
    return Path(str(REGISTRY_PATH)), Path(str(FAMILIES_PATH)), DEFAULT_FIXTURES


__all__ = [
    "REGIONS", "CheckReport", "FamilyMatch", "OnboardError", "Proposal", "Written", "check_fixture",
    "derive_spec", "derive_template", "expected_fields", "extract", "first_and_last_sentence", "not_html",
    "recognise_family", "remove_table", "render_table", "validate_proposal", "write_outlet",
]
