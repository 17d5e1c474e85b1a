"""Outlet specs: the registry in outlets.toml, loaded into frozen dataclasses.

Outlets are data so that adding one of a known CMS family is a table and a saved page, not
code. The loader validates every entry up front and names the outlet and field at fault, so a
typo fails at start, not hours into a scheduled crawl.
"""

from __future__ import annotations

import importlib
import re
import tomllib
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any, Mapping
from urllib.parse import urlsplit

from crawler.items import PrintEdition
from crawler.outlets.timing import ScheduleError, cron_trigger
from crawler.pages.template import PageTemplate
from crawler.text.urls import canonicalize_url

# Package resources, not paths beside __file__: deployed to scrapyd the package runs from a
# zipped egg, where the files are zip members that only importlib.resources can open.
REGISTRY_PATH: Traversable = resources.files(__name__).joinpath("outlets.toml")
FAMILIES_PATH: Traversable = resources.files(__name__).joinpath("families.toml")
DEFAULT_PAGE = "crawler.pages.template.TemplateArticlePage"
# The 17 시/도 an outlet's `region` names, in the customary order (서울 first, 제주 last).
REGIONS = ("서울", "부산", "대구", "인천", "광주", "대전", "울산", "세종", "경기", "강원", "충북", "충남",
           "전북", "전남", "경북", "경남", "제주")


class OutletError(ValueError):
    """An outlet spec is invalid, or an outlet name/domain is unknown."""


@dataclass(frozen=True)
class CanonicalRules:
    keep_params: tuple[str, ...] | None = None  # None: keep all but tracking; (): keep none
    host_aliases: Mapping[str, str] = field(default_factory=dict)
    path_aliases: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class OutletSpec:
    name: str
    name_ko: str
    domains: tuple[str, ...]
    region: str
    family: str
    page: str
    list_urls: tuple[str, ...]
    article_url: re.Pattern[str]
    canonical: CanonicalRules
    page_param: str = "page"
    encoding: str = "utf-8"
    every_minutes: int = 30
    selectors: Mapping[str, Any] = field(default_factory=dict)
    rss_urls: tuple[str, ...] = ()
    sitemap_urls: tuple[str, ...] = ()
    print_edition_url: re.Pattern[str] | None = None
    skin: str | None = None  # the family's template variant last seen on the site (informational)
    scheme: str = "https"  # "http" for sites that serve no https: canonical URLs and fetches use it
    cron: str | None = None  # crontab in Korea time; when set it replaces every_minutes
    expected_min_items: int | None = None  # article links a crawl should find (None: monitoring's default)
    # Verification: the saved real article pages (stems under tests/fixtures/<outlet>/) that back
    # this spec, or why it has none. A spec with neither is unverified too; `outlets --check` flags it.
    verified_by: tuple[str, ...] = ()
    unverified: str | None = None

    @property
    def verified(self) -> bool:
        """Backed by at least one saved real article page with hand-checked fields."""
        return bool(self.verified_by)

    def print_edition_from_url(self, url: str) -> Any:
        """Print date and page when the outlet encodes them in article URLs (국제신문's key)."""
        if self.print_edition_url is None:
            return None
        match = self.print_edition_url.search(url)
        if match is None:
            return None
        raw = match.group("date")
        page = match.groupdict().get("page")
        return PrintEdition(date=f"{raw[:4]}-{raw[4:6]}-{raw[6:8]}", page=int(page) if page else None)

    def template(self) -> Any:
        """The family's page template with this outlet's selector overrides applied."""
        base = families().get(self.family)
        if base is None:
            raise OutletError(f"outlet {self.name!r}: family {self.family!r} has no template in {FAMILIES_PATH.name}")
        if not self.selectors:
            return base
        return PageTemplate.from_mapping(f"{self.family}/{self.name}", self.selectors, base=base)

    @property
    def main_host(self) -> str:
        return self.domains[0]

    def page_class(self) -> type:
        """The page class that `page` names: outlets.toml is data, so the class comes by its dotted name."""
        module_name, _, cls_name = self.page.rpartition(".")
        try:
            return getattr(importlib.import_module(module_name), cls_name)
        except (ImportError, AttributeError) as exc:
            raise OutletError(f"outlet {self.name!r}: page class {self.page!r} cannot be imported: {exc}") from exc

    def is_article_url(self, url: str) -> bool:
        return bool(self.article_url.search(url))

    def canonicalize(self, url: str) -> str:
        """The article's one identifying URL under this outlet's rules (unique in the store)."""
        canonical = canonicalize_url(
            url,
            keep_params=self.canonical.keep_params,
            host_aliases=self.canonical.host_aliases,
            path_aliases=self.canonical.path_aliases,
            force_https=self.scheme == "https",
        )
        if self.scheme == "http" and canonical.startswith("https://"):
            canonical = "http://" + canonical[len("https://"):]
        return canonical

    def owns(self, url: str) -> bool:
        host = (urlsplit(url).hostname or "").lower()
        return host in self.domains


_REQUIRED = ("name_ko", "domains", "region", "family", "article_url")


def _build(name: str, raw: Mapping[str, Any]) -> OutletSpec:
    missing = [key for key in _REQUIRED if key not in raw]
    if missing:
        raise OutletError(f"outlet {name!r} in {REGISTRY_PATH.name}: missing {', '.join(missing)}")
    if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
        raise OutletError(f"outlet name {name!r}: expected lowercase letters, digits, underscores")
    try:
        pattern = re.compile(raw["article_url"])
    except re.error as exc:
        raise OutletError(f"outlet {name!r}: article_url is not a valid regex: {exc}") from exc
    canon = raw.get("canonical", {})
    domains = tuple(d.lower() for d in raw["domains"])
    if not domains:
        raise OutletError(f"outlet {name!r}: domains is empty")
    entry_points = {key: tuple(raw.get(key, ())) for key in ("list_urls", "rss_urls", "sitemap_urls")}
    if not any(entry_points.values()):
        raise OutletError(f"outlet {name!r}: needs at least one of list_urls, rss_urls, sitemap_urls")
    for key, urls in entry_points.items():
        for url in urls:
            if (urlsplit(url).hostname or "").lower() not in domains:
                raise OutletError(f"outlet {name!r}: {key} entry {url!r} is not on one of its domains {domains}")
    scheme = raw.get("scheme", "https")
    if scheme not in ("http", "https"):
        raise OutletError(f"outlet {name!r}: scheme must be 'http' or 'https', not {scheme!r}")
    print_rx = None
    if raw.get("print_edition_url"):
        try:
            print_rx = re.compile(raw["print_edition_url"])
        except re.error as exc:
            raise OutletError(f"outlet {name!r}: print_edition_url is not a valid regex: {exc}") from exc
        if "date" not in print_rx.groupindex:
            raise OutletError(f"outlet {name!r}: print_edition_url needs a (?P<date>YYYYMMDD) group")
    every = int(raw.get("every_minutes", 30))
    if every < 1:
        raise OutletError(f"outlet {name!r}: every_minutes must be >= 1, got {every}")
    cron = raw.get("cron")
    if cron is not None:
        try:
            cron_trigger(str(cron))
        except ScheduleError as exc:
            raise OutletError(f"outlet {name!r}: cron: {exc}") from None
    verified_by, unverified = _verification(name, raw)
    expected = raw.get("expected_min_items")
    if expected is not None and (not isinstance(expected, int) or isinstance(expected, bool) or expected < 0):
        raise OutletError(f"outlet {name!r}: expected_min_items must be a whole number >= 0, got {expected!r}")
    return OutletSpec(
        name=name,
        name_ko=raw["name_ko"],
        domains=domains,
        region=raw["region"],
        family=raw["family"],
        page=raw.get("page", DEFAULT_PAGE),
        list_urls=entry_points["list_urls"],
        rss_urls=entry_points["rss_urls"],
        sitemap_urls=entry_points["sitemap_urls"],
        article_url=pattern,
        canonical=CanonicalRules(
            keep_params=tuple(canon["keep_params"]) if "keep_params" in canon else None,
            host_aliases=dict(canon.get("host_aliases", {})),
            path_aliases=dict(canon.get("path_aliases", {})),
        ),
        page_param=raw.get("page_param", "page"),
        encoding=raw.get("encoding", "utf-8"),
        every_minutes=every,
        selectors=dict(raw.get("selectors", {})),
        print_edition_url=print_rx,
        skin=raw.get("skin"),
        scheme=scheme,
        cron=str(cron) if cron is not None else None,
        expected_min_items=expected,
        verified_by=verified_by,
        unverified=unverified,
    )


def _verification(name: str, raw: Mapping[str, Any]) -> tuple[tuple[str, ...], str | None]:
    """`verified_by` (saved real pages) and `unverified` (the reason there are none) exclude
    each other: a spec is either backed by a page or says why it is not."""
    pages = raw.get("verified_by", [])
    reason = raw.get("unverified")
    if not isinstance(pages, list) or not all(isinstance(p, str) and p.strip() for p in pages):
        raise OutletError(f"outlet {name!r}: verified_by must be a list of saved page names, got {pages!r}")
    if reason is not None and (not isinstance(reason, str) or not reason.strip()):
        raise OutletError(f"outlet {name!r}: unverified must be a reason (text), got {reason!r}")
    if pages and reason is not None:
        raise OutletError(f"outlet {name!r}: verified_by and unverified exclude each other")
    return tuple(pages), reason


def load_registry(path: Path | Traversable = REGISTRY_PATH) -> dict[str, OutletSpec]:
    """Parse and validate the registry file; raises OutletError naming the bad entry."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise OutletError(f"cannot read outlet registry {path}: {exc}") from exc
    return {name: _build(name, raw) for name, raw in data.items()}


@cache
def registry() -> dict[str, OutletSpec]:
    specs = load_registry()
    known = families()
    for spec in specs.values():
        if spec.family not in known:
            raise OutletError(f"outlet {spec.name!r}: family {spec.family!r} is not in {FAMILIES_PATH.name} (known: {', '.join(sorted(known))})")
        if spec.selectors:
            spec.template()  # unknown selector keys fail at load, not mid-crawl
    return specs


@cache
def families() -> dict[str, Any]:
    """Page templates per CMS family, from families.toml."""
    try:
        data = tomllib.loads(FAMILIES_PATH.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise OutletError(f"cannot read family templates {FAMILIES_PATH}: {exc}") from exc
    try:
        return {name: PageTemplate.from_mapping(name, raw) for name, raw in data.items()}
    except ValueError as exc:
        raise OutletError(f"{FAMILIES_PATH.name}: {exc}") from exc


def get_outlet(name: str) -> OutletSpec:
    try:
        return registry()[name]
    except KeyError:
        known = ", ".join(sorted(registry()))
        raise OutletError(f"unknown outlet {name!r}; known outlets: {known}") from None


def outlet_for_url(url: str) -> OutletSpec:
    """The outlet whose domains include the URL's host (what `newsdesk extract` uses)."""
    host = (urlsplit(url).hostname or "").lower()
    if not host:
        raise OutletError(f"{url!r} is not an absolute http(s) URL")
    for spec in registry().values():
        if host in spec.domains:
            return spec
    raise OutletError(f"no outlet serves the domain {host!r} (URL {url})")


def canonical_url_of(url: str) -> str:
    """`url` canonicalized by its outlet's rules when an outlet serves it, else generically."""
    try:
        return outlet_for_url(url).canonicalize(url)
    except (OutletError, ValueError):
        return canonicalize_url(url, force_https=False)
