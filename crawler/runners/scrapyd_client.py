"""A small client for scrapyd's JSON API, so the scheduler can dispatch crawls to a scrapyd.

Locally every crawl is its own `scrapy crawl` process; on a scrapyd the same crawl is a
`schedule.json` call, and its progress is read back from `listjobs.json`. The project gets
there with `scrapyd-deploy` (scrapy.cfg has the [deploy] target).

The URL may carry basic-auth credentials (``http://user:secret@host:6800/``): they are sent
as an Authorization header, and every message, log line and repr shows the URL through
`mask_uri`, so the password never reaches a log. Standard library only (urllib), because
nothing else of the project needs an HTTP client.
"""

from __future__ import annotations

import base64
import json
import logging
import time
from collections.abc import Mapping, Sequence
from typing import Any, Literal
from urllib.error import HTTPError, URLError
from urllib.parse import unquote, urlencode, urlsplit
from urllib.request import HTTPRedirectHandler, Request, build_opener

from crawler.store.uri import mask_uri

log = logging.getLogger(__name__)

JobState = Literal["pending", "running", "finished", "unknown"]
WaitResult = Literal["finished", "cancelled", "unknown"]


class _NoRedirect(HTTPRedirectHandler):
    """Scrapyd never redirects; following one would send the credentials to another URL."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_OPENER = build_opener(_NoRedirect)

# schedule.json reads these form fields itself; anything else becomes a spider argument.
_RESERVED_FIELDS = frozenset({"project", "spider", "jobid", "setting", "priority", "_version"})


class ScrapydError(RuntimeError):
    """Scrapyd could not be reached, refused the request, or answered with an error.

    The message names the endpoint (credentials masked) and what scrapyd said.
    """

    def __init__(self, endpoint: str, problem: str) -> None:
        super().__init__(f"scrapyd at {endpoint}: {problem}")
        self.endpoint = endpoint
        self.problem = problem


class ScrapydClient:
    """One scrapyd server and one project on it."""

    def __init__(self, url: str, project: str = "newsdesk", timeout: float = 10.0) -> None:
        parts = urlsplit(url.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"scrapyd URL {mask_uri(url)!r}: expected http(s)://[user:password@]host:port/")
        if not project:
            raise ValueError("scrapyd project name is empty")
        host = parts.netloc.rpartition("@")[2]
        self._base = f"{parts.scheme}://{host}{parts.path.rstrip('/')}"
        self._auth: str | None = None
        if parts.username is not None:
            pair = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
            self._auth = "Basic " + base64.b64encode(pair.encode("utf-8")).decode("ascii")
        self.url = mask_uri(url.strip().rstrip("/"))  # safe to print
        self.project = project
        self.timeout = timeout

    def __repr__(self) -> str:
        return f"ScrapydClient({self.url!r}, project={self.project!r})"

    # -- the API -------------------------------------------------------------------------------

    def schedule(
        self,
        spider: str,
        *,
        settings: Mapping[str, str] | None = None,
        args: Mapping[str, str] | None = None,
        jobid: str | None = None,
    ) -> str:
        """Queue a crawl of `spider`; returns its job id (scrapyd makes one unless given).

        `settings` become `-s NAME=VALUE`, `args` spider arguments (`-a name=value`).
        """
        fields: list[tuple[str, str]] = [("project", self.project), ("spider", spider)]
        if jobid is not None:
            fields.append(("jobid", jobid))
        for name, value in (settings or {}).items():
            if not name or "=" in name:
                raise ValueError(f"scrapyd setting name {name!r}: expected a non-empty name without '='")
            fields.append(("setting", f"{name}={value}"))
        for name, value in (args or {}).items():
            if name in _RESERVED_FIELDS:
                raise ValueError(f"spider argument {name!r} clashes with a schedule.json field ({', '.join(sorted(_RESERVED_FIELDS))})")
            fields.append((name, str(value)))
        answer = self._call("schedule.json", post=fields)
        scheduled = str(answer.get("jobid") or "")
        if not scheduled:
            raise ScrapydError(self._endpoint("schedule.json"), f"answer has no jobid: {answer!r}")
        log.info("scrapyd %s: scheduled %s/%s as job %s", self.url, self.project, spider, scheduled)
        return scheduled

    def status(self, jobid: str) -> JobState:
        """Where the job is: pending, running, finished, or unknown to this scrapyd.

        Read from listjobs.json (every scrapyd version has it). Scrapyd keeps only its last
        `finished_to_keep` finished jobs, in memory by default: an old job, or any job after a
        scrapyd restart, is "unknown".
        """
        job = self.job(jobid)
        return "unknown" if job is None else job["state"]

    def job(self, jobid: str) -> dict[str, Any] | None:
        """The job's listjobs.json entry (spider, start/end time, log_url...) plus its "state"."""
        answer = self._call("listjobs.json", query={"project": self.project})
        for state in ("running", "pending", "finished"):
            for entry in answer.get(state) or ():
                if entry.get("id") == jobid:
                    return {**entry, "state": state}
        return None

    def cancel(self, jobid: str, *, signal: str | None = None) -> JobState:
        """Cancel the job: a pending one is dropped, a running one gets `signal` (scrapyd's
        default INT: Scrapy shuts down gracefully; "KILL" ends it at once). Returns the state
        it was in, "unknown" when scrapyd had nothing to cancel (finished or never seen)."""
        fields = [("project", self.project), ("job", jobid)]
        if signal is not None:
            fields.append(("signal", signal))
        answer = self._call("cancel.json", post=fields)
        previous = answer.get("prevstate")
        log.info("scrapyd %s: cancelled job %s (was %s)", self.url, jobid, previous or "not running")
        return previous if previous in ("pending", "running") else "unknown"

    def wait(self, jobid: str, *, time_limit: float, poll: float = 2.0, grace: float = 60.0) -> WaitResult:
        """Poll until the job finishes; returns "finished", or "unknown" if scrapyd lost it.

        Over `time_limit` seconds the job is cancelled and "cancelled" returned: SIGINT first,
        with `grace` seconds for Scrapy's graceful shutdown (store flush), then SIGKILL, because
        a crawl stuck on a download can outlive even a second SIGINT.
        """
        deadline = time.monotonic() + time_limit
        while True:
            state = self.status(jobid)
            if state in ("finished", "unknown"):
                return state
            if time.monotonic() >= deadline:
                break
            time.sleep(max(0.0, min(poll, deadline - time.monotonic())))
        log.warning("scrapyd %s: job %s still %s after %.0f s; cancelling", self.url, jobid, state, time_limit)
        self.cancel(jobid)
        if not self._ends_within(jobid, grace, poll):
            log.warning("scrapyd %s: job %s still running %.0f s after SIGINT; killing it", self.url, jobid, grace)
            self.cancel(jobid, signal="KILL")
            self._ends_within(jobid, 10.0, poll)
        return "cancelled"

    def _ends_within(self, jobid: str, seconds: float, poll: float) -> bool:
        deadline = time.monotonic() + seconds
        while self.status(jobid) in ("pending", "running"):
            if time.monotonic() >= deadline:
                return False
            time.sleep(min(poll, 0.5))
        return True

    def daemon_status(self) -> dict[str, Any]:
        """daemonstatus.json: counts of pending, running and finished jobs, and node_name."""
        answer = self._call("daemonstatus.json")
        return {key: value for key, value in answer.items() if key != "status"}

    def list_spiders(self) -> list[str]:
        """The spiders of the deployed project (listspiders.json), e.g. to check before dispatch."""
        return list(self._call("listspiders.json", query={"project": self.project}).get("spiders") or [])

    # -- HTTP ---------------------------------------------------------------------------------

    def _endpoint(self, name: str) -> str:
        return f"{self.url}/{name}"

    def _call(
        self,
        name: str,
        *,
        query: Mapping[str, str] | None = None,
        post: Sequence[tuple[str, str]] | None = None,
    ) -> dict[str, Any]:
        endpoint = self._endpoint(name)
        url = f"{self._base}/{name}" + (f"?{urlencode(query)}" if query else "")
        data = urlencode(post).encode("utf-8") if post is not None else None
        request = Request(url, data=data, method="POST" if post is not None else "GET")
        request.add_header("Accept", "application/json")
        if self._auth:
            request.add_header("Authorization", self._auth)
        try:
            with _OPENER.open(request, timeout=self.timeout) as response:
                body = response.read()
        except HTTPError as exc:
            raise ScrapydError(endpoint, _http_problem(exc)) from None
        except (URLError, OSError) as exc:
            reason = exc.reason if isinstance(exc, URLError) else exc
            raise ScrapydError(endpoint, f"no answer ({reason}); is scrapyd running there?") from None
        try:
            answer = json.loads(body)
        except ValueError:
            raise ScrapydError(endpoint, f"answer is not JSON: {_snippet(body)}") from None
        if not isinstance(answer, dict):
            raise ScrapydError(endpoint, f"answer is not a JSON object: {_snippet(body)}")
        if answer.get("status") != "ok":
            raise ScrapydError(endpoint, f"error: {answer.get('message') or _snippet(body)}")
        return answer


def _http_problem(exc: HTTPError) -> str:
    try:
        body = exc.read()
    except OSError:
        body = b""
    said = ""
    try:
        answer = json.loads(body)
        if isinstance(answer, dict) and answer.get("message"):
            said = str(answer["message"])
    except ValueError:
        said = _snippet(body)
    if exc.code == 401:
        return "HTTP 401 Unauthorized: scrapyd wants other credentials (user:password in the URL)"
    return f"HTTP {exc.code} {exc.reason}" + (f": {said}" if said else "")


def _snippet(body: bytes, limit: int = 300) -> str:
    text = body.decode("utf-8", "replace").strip()
    return repr(text if len(text) <= limit else text[:limit] + "...")
