"""The HTML pages: search, article, trend, places, volume, health, runs, and the API reference.

Pages take their parameters as text (an HTML form sends empty fields as `name=`) and parse
them here into what the API takes, so a bad value is a 422 page naming the field, with the
form still filled in where that helps.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from crawler.web import views
from crawler.web.charts import column_chart, row_chart, tile_map
from crawler.web.params import MAX_QUERY_CHARS, MAX_VALUES, ParamError, check_places, in_day_range
from crawler.web.render import query as build_query

router = APIRouter(include_in_schema=False)

PER_PAGE = 20
Texts = Annotated[list[str], Query(max_length=MAX_VALUES)]
Field = Annotated[str, Query(max_length=100)]


def _day(name: str, text: str) -> date | None:
    text = text.strip()
    if not text:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise ParamError(name, f"{text!r} is not a date: expected YYYY-MM-DD, e.g. 2024-05-31") from None
    try:
        return in_day_range(day)
    except ValueError as exc:
        raise ParamError(name, str(exc)) from None


def _texts(values: list[str], name: str) -> list[str]:
    cleaned = [v.strip() for v in values if v.strip()]
    for value in cleaned:
        if len(value) > 60:
            raise ParamError(name, f"a {name} is at most 60 characters")
    return list(dict.fromkeys(cleaned))


def _int(name: str, text: str, default: int, low: int, high: int) -> int:
    text = text.strip()
    if not text:
        return default
    if not text.isdigit() or not low <= int(text) <= high:
        raise ParamError(name, f"{text!r}: expected a whole number from {low} to {high}")
    return int(text)


def _renderer(request: Request) -> Any:
    return request.app.state.renderer


@router.get("/", response_class=HTMLResponse)
def search_page(
    request: Request,
    q: Annotated[str, Query(max_length=MAX_QUERY_CHARS)] = "",
    outlet: Texts = [],
    region: Texts = [],
    section: Texts = [],
    sido: Texts = [],
    sigungu: Texts = [],
    since: Field = "",
    until: Field = "",
    page: Field = "",
    sort: Field = "",
    before: Annotated[str, Query(max_length=80)] = "",
) -> HTMLResponse:
    """Search with filters, facet counts, a histogram of the matches per day and downloads;
    without words, the newest articles of the window."""
    form = {"q": q.strip(), "outlet": _texts(outlet, "outlet"), "region": _texts(region, "region"),
            "section": _texts(section, "section"), "sido": _texts(sido, "sido"), "sigungu": _texts(sigungu, "sigungu"),
            "since": since.strip(), "until": until.strip(), "sort": sort.strip() or "relevance"}
    context: dict[str, Any] = {"nav": "search", "form": form, "outlets": views.outlet_list(),
                               "result": None, "listing": None, "errors": [], "facet_links": {}, "histogram": None}
    db = request.app.state.db
    try:
        start, end = _day("since", since), _day("until", until)
        places = check_places(form["sido"], form["sigungu"])
        if form["q"]:
            number = _int("page", page, 1, 1, 100)
            result = views.search(db, form["q"], form["outlet"], form["region"], form["section"],
                                  start, end, number, PER_PAGE, sort=form["sort"], facets=True, places=places)
            context["result"] = result
            context["facet_links"], context["histogram"] = _facet_views(form, result)
        else:
            context["listing"] = views.browse(db, form["outlet"], form["region"], form["section"], start, end,
                                              PER_PAGE, before.strip() or None, places=places)
    except ParamError as exc:
        context["errors"] = [f"{exc.name}: {exc.message}"]
        return _renderer(request).page(request, "search.html", status=422, **context)
    return _renderer(request).page(request, "search.html", **context)


FACETS_SHOWN = 12  # values per facet listed beside the results


def _facet_views(form: dict[str, Any], result: Any) -> tuple[dict[str, list[tuple[str, int, str, bool]]], Any]:
    """Per facet, (label, count, link, selected): a link adds the value to the filters (or
    removes it when selected); and the histogram of matches whose bars narrow to their day."""
    facets = result.facets
    base = {key: form[key] for key in ("q", "outlet", "region", "section", "sido", "sigungu", "since", "until")}
    if form["sort"] != "relevance":
        base["sort"] = form["sort"]
    links: dict[str, list[tuple[str, int, str, bool]]] = {}
    names = views.outlet_names()
    for kind in ("outlet", "region", "section"):
        rows = []
        for item in getattr(facets, kind)[:FACETS_SHOWN]:
            chosen = item.value in form[kind]
            values = [v for v in form[kind] if v != item.value] if chosen else [*form[kind], item.value]
            label = f"{names[item.value]} ({item.value})" if kind == "outlet" and item.value in names else item.value
            rows.append((label, item.articles, "/" + build_query(base, **{kind: values}), chosen))
        links[kind] = rows
    unit = "month" if facets.bucket == "month" else "day"
    points = [(d.day.isoformat()[: 7 if unit == "month" else 10], d.articles) for d in facets.days]
    hrefs = ["/" + build_query(base, since=d.day, until=d.day) for d in facets.days] if unit == "day" else None
    chart = column_chart(points, title=f"Matching articles per {unit} (published, Korea time)", hrefs=hrefs) if points else None
    return links, chart


@router.get("/article")
def article_by_url_page(request: Request, url: Annotated[str, Query(min_length=8, max_length=1000)]) -> RedirectResponse:
    """An article by its URL (canonical or alias): redirects to its page."""
    found = views.article_by_url(request.app.state.db, url)
    return RedirectResponse(f"/articles/{found.id}", status_code=303)


@router.get("/articles/{article_id}", response_class=HTMLResponse)
def article_page(request: Request, article_id: Annotated[str, Path(pattern=r"^[0-9a-f]{24}$")]) -> HTMLResponse:
    """The article, its story's copies across outlets, and its earlier versions."""
    db = request.app.state.db
    article = views.article(db, article_id)
    story = None
    if article.story_id:
        try:
            story = views.story(db, article.story_id)
        except HTTPException:  # its story id matches no stored copy
            story = None
    revisions = views.revisions(db, article_id).revisions
    return _renderer(request).page(request, "article.html", nav="search", article=article, story=story,
                                   revisions=revisions, title=article.title)


@router.get("/volume", response_class=HTMLResponse)
def volume_page(
    request: Request,
    outlet: Texts = [],
    region: Texts = [],
    since: Field = "",
    until: Field = "",
) -> HTMLResponse:
    """Articles per day, outlet and region as bar charts, with the numbers in tables."""
    form = {"outlet": _texts(outlet, "outlet"), "region": _texts(region, "region"),
            "since": since.strip(), "until": until.strip()}
    context: dict[str, Any] = {"nav": "volume", "form": form, "outlets": views.outlet_list(), "errors": [],
                               "volume": None, "charts": []}
    try:
        data = views.volume(request.app.state.db, request.app.state.volume_cache, form["outlet"], form["region"],
                            _day("since", since), _day("until", until))
    except ParamError as exc:
        context["errors"] = [f"{exc.name}: {exc.message}"]
        return _renderer(request).page(request, "volume.html", status=422, **context)
    base = {"outlet": form["outlet"], "region": form["region"]}
    days = [(d.day.isoformat(), d.articles) for d in data.by_day]
    day_links = [build_query(base, since=d, until=d) for d, _n in days]
    outlets = [(f"{c.label} ({c.name})" if c.label else c.name, c.articles) for c in data.by_outlet]
    outlet_links = [build_query({"region": form["region"]}, outlet=c.name, since=data.since, until=data.until)
                    for c in data.by_outlet]
    regions = [(c.name, c.articles) for c in data.by_region]
    region_links = [None if c.name == "(none)" else build_query({"outlet": form["outlet"]}, region=c.name,
                                                                 since=data.since, until=data.until)
                    for c in data.by_region]
    context["volume"] = data
    context["charts"] = [
        ("day", column_chart(days, title="Articles per day (published, Korea time)", hrefs=["/" + h for h in day_links])),
        ("outlet", row_chart(outlets, title="Articles per outlet", label_width=190,
                             hrefs=["/" + h for h in outlet_links])),
        ("region", row_chart(regions, title="Articles per dateline region",
                             hrefs=[("/" + h) if h else None for h in region_links])),
    ]
    return _renderer(request).page(request, "volume.html", **context)


TREND_COLUMNS = 8  # values of the split shown as columns (the rest summed as "other")


@router.get("/trend", response_class=HTMLResponse)
def trend_page(
    request: Request,
    q: Annotated[str, Query(max_length=MAX_QUERY_CHARS)] = "",
    by: Field = "",
    outlet: Texts = [],
    region: Texts = [],
    section: Texts = [],
    since: Field = "",
    until: Field = "",
) -> HTMLResponse:
    """How often a query appears per day (per month past ten years), split by region, outlet or
    section: a chart of the total and a table of the numbers."""
    form = {"q": q.strip(), "by": by.strip() or "region", "outlet": _texts(outlet, "outlet"),
            "region": _texts(region, "region"), "section": _texts(section, "section"),
            "since": since.strip(), "until": until.strip()}
    context: dict[str, Any] = {"nav": "trend", "form": form, "outlets": views.outlet_list(), "errors": [],
                               "result": None, "trend_chart": None, "columns": [], "rows": []}
    if form["q"]:
        try:
            result = views.search(request.app.state.db, form["q"], form["outlet"], form["region"], form["section"],
                                  _day("since", since), _day("until", until), 1, 1, sort="newest", facets=True,
                                  split=form["by"])
        except ParamError as exc:
            context["errors"] = [f"{exc.name}: {exc.message}"]
            return _renderer(request).page(request, "trend.html", status=422, **context)
        facets = result.facets
        unit = facets.bucket
        base = {key: form[key] for key in ("q", "outlet", "region", "section")}
        points = [(d.day.isoformat()[: 7 if unit == "month" else 10], d.articles) for d in facets.days]
        hrefs = ["/" + build_query(base, since=d.day, until=d.day) for d in facets.days] if unit == "day" else None
        context["result"] = result
        context["trend_chart"] = column_chart(points, title=f"Articles matching the query per {unit} (Korea time)",
                                        hrefs=hrefs) if points else None
        names = list(facets.split)
        shown, rest = names[:TREND_COLUMNS], names[TREND_COLUMNS:]
        context["columns"] = shown + ([f"other ({len(rest)})"] if rest else [])
        context["rows"] = [
            (label, day.articles, [facets.split[v][i] for v in shown] + ([sum(facets.split[v][i] for v in rest)] if rest else []))
            for i, (label, day) in enumerate(zip([p[0] for p in points], facets.days))
        ]
    return _renderer(request).page(request, "trend.html", **context)


SIGUNGU_SHOWN = 60  # 시군구 rows in the table of /places


@router.get("/places", response_class=HTMLResponse)
def places_page(
    request: Request,
    outlet: Texts = [],
    sido: Texts = [],
    since: Field = "",
    until: Field = "",
) -> HTMLResponse:
    """Articles per 시도 as a tile map and per 시군구 as a table, each linking to its articles."""
    form = {"outlet": _texts(outlet, "outlet"), "sido": _texts(sido, "sido"), "since": since.strip(), "until": until.strip()}
    context: dict[str, Any] = {"nav": "places", "form": form, "outlets": views.outlet_list(), "errors": [],
                               "places": None, "map": None, "sigungu_rows": []}
    try:
        data = views.places(request.app.state.db, form["outlet"], form["sido"], _day("since", since), _day("until", until))
    except ParamError as exc:
        context["errors"] = [f"{exc.name}: {exc.message}"]
        return _renderer(request).page(request, "places.html", status=422, **context)
    window = {"outlet": form["outlet"], "since": data.since, "until": data.until}
    context["places"] = data
    context["map"] = tile_map({row.sido: row.articles for row in data.sido},
                              title="Articles per 시도 they are about (a click lists them)",
                              hrefs={row.sido: "/" + build_query(window, sido=row.sido) for row in data.sido})
    context["sigungu_rows"] = [(row, "/" + build_query(window, sigungu=f"{row.sido} {row.sigungu}"))
                               for row in data.sigungu[:SIGUNGU_SHOWN]]
    return _renderer(request).page(request, "places.html", **context)


@router.get("/health", response_class=HTMLResponse)
def health_page(request: Request) -> HTMLResponse:
    """Crawl health per outlet, worst first, and the last day's failed runs."""
    return _renderer(request).page(request, "health.html", nav="health", health=views.health(request.app.state.db))


@router.get("/runs", response_class=HTMLResponse)
def runs_page(
    request: Request,
    outlet: Field = "",
    failed: Field = "",
    since: Field = "",
    until: Field = "",
    before: Annotated[str, Query(max_length=80)] = "",
) -> HTMLResponse:
    """Run history with filters, newest first."""
    form = {"outlet": outlet.strip(), "failed": failed.strip() in ("1", "on", "true"), "since": since.strip(),
            "until": until.strip()}
    context: dict[str, Any] = {"nav": "runs", "form": form, "outlets": views.outlet_list(), "errors": [], "runs": None}
    try:
        context["runs"] = views.runs(request.app.state.db, form["outlet"] or None, form["failed"],
                                     _day("since", since), _day("until", until), 50, before.strip() or None)
    except ParamError as exc:
        context["errors"] = [f"{exc.name}: {exc.message}"]
        return _renderer(request).page(request, "runs.html", status=422, **context)
    return _renderer(request).page(request, "runs.html", **context)


@router.get("/runs/{run_id}", response_class=HTMLResponse)
def run_page(request: Request, run_id: Annotated[str, Path(max_length=128)]) -> HTMLResponse:
    """One run in full: figures, faults, checks, workers, its articles, its log's last lines."""
    run = views.run_detail(request.app.state.db, run_id)
    return _renderer(request).page(request, "run.html", nav="runs", run=run, title=f"Run {run.id}")


@router.get("/api/docs", response_class=HTMLResponse)
def api_docs(request: Request) -> HTMLResponse:
    """The API reference, rendered here from the OpenAPI document (no CDN-hosted Swagger UI)."""
    spec = request.app.openapi()
    operations = []
    for path, methods in spec.get("paths", {}).items():
        for method, op in methods.items():
            response = op.get("responses", {}).get("200", {})
            schema = response.get("content", {}).get("application/json", {}).get("schema", {})
            operations.append({
                "method": method.upper(), "path": path, "summary": op.get("summary", ""),
                "description": op.get("description", ""), "tag": (op.get("tags") or [""])[0],
                "parameters": [_parameter(p) for p in op.get("parameters", [])],
                "returns": _schema_name(schema),
            })
    schemas = spec.get("components", {}).get("schemas", {})
    models = [
        {"name": name, "description": schema.get("description", ""),
         "fields": [{"name": f, "type": _type(s), "required": f in schema.get("required", []),
                     "description": s.get("description", "")} for f, s in schema.get("properties", {}).items()]}
        for name, schema in sorted(schemas.items()) if "Validation" not in name
    ]
    return _renderer(request).page(request, "api_docs.html", nav="api", info=spec.get("info", {}),
                                   operations=operations, models=models)


def _parameter(p: dict[str, Any]) -> dict[str, Any]:
    schema = p.get("schema", {})
    limits = [f"{key} {schema[key]}" for key in ("minLength", "maxLength", "minimum", "maximum", "maxItems", "pattern")
              if key in schema]
    items = schema.get("items", {})
    limits += [f"each {key} {items[key]}" for key in ("minLength", "maxLength") if key in items]
    return {"name": p.get("name"), "in": p.get("in"), "required": p.get("required", False), "type": _type(schema),
            "default": schema.get("default"), "description": p.get("description") or schema.get("description", ""),
            "limits": ", ".join(limits)}


def _schema_name(schema: dict[str, Any]) -> str:
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[-1]
    if schema.get("type") == "array":
        return f"list of {_schema_name(schema.get('items', {}))}"
    return schema.get("type", "")


def _type(schema: dict[str, Any]) -> str:
    if not isinstance(schema, dict):  # `additionalProperties: true`: a map of anything
        return "any"
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[-1]
    if "anyOf" in schema:
        return " or ".join(_type(s) for s in schema["anyOf"])
    kind = schema.get("type", "object")
    if kind == "array":
        return f"list of {_type(schema.get('items', {}))}"
    if kind == "object" and "additionalProperties" in schema:
        return f"map of {_type(schema['additionalProperties'])}"
    return f"{kind} ({schema['format']})" if "format" in schema else str(kind)
