"""`newsdesk outlets --check`: every problem of the registry at once, one line each.

Loading the registry stops at the first bad table (a crawl must not start on a broken spec);
an outlet developer wants the whole list. This also checks what loading cannot: domains shared
between outlets, regions outside the 17 시/도, and that each outlet is either backed by a saved
real page (`verified_by`, the pages under tests/fixtures/<outlet>/) or says why not
(`unverified`). The fixtures folder is passed in: deployed packages carry no tests.
"""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from typing import Any, Iterable
from urllib.parse import urlsplit

from crawler.outlets import REGIONS, OutletError, OutletSpec, _build, families

_KEYS = {
    "name_ko", "domains", "region", "family", "page", "selectors", "rss_urls", "list_urls", "sitemap_urls",
    "article_url", "canonical", "page_param", "print_edition_url", "encoding", "scheme", "every_minutes",
    "cron", "expected_min_items", "skin", "verified_by", "unverified",
}
_HOST = re.compile(r"(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+")


def check_registry(path: Path, fixtures: Path | None) -> list[str]:
    """Every problem of the registry file at `path`, as lines naming the outlet; [] when it is
    sound. `fixtures` is the folder of saved pages (tests/fixtures), None to skip those checks."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        return [f"{path}: cannot read it: {exc}"]
    problems: list[str] = []
    specs: dict[str, OutletSpec] = {}
    for name, raw in data.items():
        if not isinstance(raw, dict):
            problems.append(f"{name}: not a table")
            continue
        try:
            specs[name] = _build(name, raw)
        except OutletError as exc:
            problems.append(f"{name}: {_strip_name(name, str(exc))}")
        except (TypeError, ValueError, AttributeError) as exc:  # a value of the wrong type (every_minutes = "x")
            problems.append(f"{name}: a value of the wrong type: {exc}")
    try:
        known = families()
    except OutletError as exc:
        return problems + [str(exc)]
    for spec in specs.values():
        problems += [f"{spec.name}: {p}" for p in _spec_problems(spec, known, data[spec.name])]
    problems += _shared_domains(specs.values())
    if fixtures is not None:
        problems += _fixture_problems(specs, fixtures)
    return problems


def _strip_name(name: str, message: str) -> str:
    """The loader's message without its own `outlet 'x':` prefix (the line starts with the name)."""
    for prefix in (f"outlet {name!r}: ", f"outlet {name!r} in outlets.toml: "):
        if message.startswith(prefix):
            return message[len(prefix):]
    return message


def _spec_problems(spec: OutletSpec, known: dict[str, Any], raw: dict[str, Any]) -> Iterable[str]:
    if spec.region not in REGIONS:
        yield f"region {spec.region!r} is not one of the 17 시/도 ({' '.join(REGIONS)})"
    if spec.family not in known:
        yield f"family {spec.family!r} has no template in families.toml (known: {', '.join(sorted(known))})"
    elif spec.selectors:
        try:
            spec.template()
        except (OutletError, ValueError) as exc:
            yield f"selectors: {exc}"
    try:
        spec.page_class()
    except OutletError as exc:
        yield _strip_name(spec.name, str(exc))
    for domain in spec.domains:
        if not _HOST.fullmatch(domain):
            yield f"domain {domain!r} is not a host name (no scheme, path or port)"
    if len(set(spec.domains)) != len(spec.domains):
        yield "domains lists a host twice"
    for alias, target in spec.canonical.host_aliases.items():
        if alias not in spec.domains or target not in spec.domains:
            yield f"canonical.host_aliases {alias!r} = {target!r}: both hosts must be in domains"
    for key in ("rss_urls", "list_urls", "sitemap_urls"):
        for url in getattr(spec, key):
            scheme = urlsplit(url).scheme
            if scheme != spec.scheme:
                yield f"{key} entry {url!r} is {scheme}, but the outlet's scheme is {spec.scheme}"
    if not spec.verified_by and spec.unverified is None:
        yield "neither verified_by (saved real pages) nor unverified (why there are none)"
    for key in sorted(set(raw) - _KEYS):
        hint = ": use verified_by = [pages] or unverified = \"reason\"" if key == "verified" else ""
        yield f"unknown key {key!r}{hint}"


def _shared_domains(specs: Iterable[OutletSpec]) -> list[str]:
    owner: dict[str, str] = {}
    problems = []
    for spec in specs:
        for domain in spec.domains:
            if domain in owner:
                problems.append(f"{spec.name}: domain {domain!r} is also {owner[domain]}'s")
            else:
                owner[domain] = spec.name
    return problems


def _fixture_problems(specs: dict[str, OutletSpec], fixtures: Path) -> list[str]:
    if not fixtures.is_dir():
        return [f"fixtures folder {fixtures} not found: verified_by cannot be checked"]
    problems = []
    for spec in specs.values():
        for page in spec.verified_by:
            problems += [f"{spec.name}: verified_by {page!r}: {p}" for p in _page_problems(spec, fixtures / spec.name, page)]
    for folder in sorted(p for p in fixtures.iterdir() if p.is_dir()):
        pages = [j for j in folder.glob("*.json") if j.name != "site.json" and j.with_suffix(".html").exists()]
        if pages and folder.name not in specs:
            problems.append(f"{fixtures.name}/{folder.name}: saved pages for an outlet the registry does not have")
    return problems


def _page_problems(spec: OutletSpec, folder: Path, page: str) -> list[str]:
    html, meta = folder / f"{page}.html", folder / f"{page}.json"
    missing = [p.name for p in (html, meta) if not p.is_file()]
    if missing:
        return [f"no {' or '.join(missing)} in {folder}"]
    try:
        doc = json.loads(meta.read_text(encoding="utf-8"))
        url, expected = doc["url"], doc["expected"]
    except (ValueError, KeyError, TypeError) as exc:
        return [f"{meta.name} is not a page's expected fields ({{\"url\", \"expected\"}}): {exc}"]
    problems = []
    if expected.get("outlet") != spec.name:
        problems.append(f"{meta.name} expects outlet {expected.get('outlet')!r}")
    if not spec.owns(url):
        problems.append(f"its url {url!r} is not on the outlet's domains")
    elif not spec.is_article_url(url):
        problems.append(f"its url {url!r} does not match article_url")
    elif "canonical_url" in expected and spec.canonicalize(url) != expected["canonical_url"]:
        problems.append(f"its url canonicalizes to {spec.canonicalize(url)!r}, not the expected {expected['canonical_url']!r}")
    return problems
