"""The page-parsing worker pool: the same Article as parsing in the crawl process, a page's
error comes back as that page's error, a worker that dies costs only its pages, closing lets
the workers go, and one pool per process is shared by its spiders.

The pool speaks to its workers over pipes the reactor reads, so these run a reactor in a
subprocess (Twisted's reactor runs once per process) and check what it prints."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from twisted.internet import defer

from crawler.crawl import parse_pool as pool_module
from crawler.crawl.parse_pool import ParsePool, acquire, release
from crawler.pages.parse import PageCrash, processes_setting

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "tests" / "fixtures" / "joongdo" / "art_20240312010003418.html"
URL = "https://www.joongdo.co.kr/web/view.php?key=20240312010003418"

# Page objects for the worker to import (it unpickles the outlet by module path).
PAGES_MODULE = '''
import os

class Page:
    def __init__(self, url, html, outlet, content_type=None):
        if html == b"crash":
            os._exit(70)  # as a crash of the HTML parser in C would
        if html == b"bad":
            raise ValueError("no title on this page")
        self.url = url
        self.echo = html if html.startswith(b"echo") else None

    def to_article(self):
        return self.echo if self.echo is not None else "parsed " + self.url


class Outlet:
    def page_class(self):
        return Page


class Named(Outlet):
    def __init__(self, name):
        self.name = name
'''

SCRIPT = '''
import json, os, sys
sys.path.insert(0, sys.argv[1])
from scrapy.utils.reactor import install_reactor
install_reactor("twisted.internet.asyncioreactor.AsyncioSelectorReactor")
from twisted.internet import defer, reactor
from crawler.outlets import get_outlet
from crawler.crawl.parse_pool import ParsePool
from crawler.items import item_dict
from crawler.pages.parse import PageCrash, parse_page
from pipelines.dedup import DedupPipeline
from pipelines.normalize import NormalizePipeline
import fakepages

out = {}

async def outcome(d):
    try:
        return ["ok", await d]
    except PageCrash as exc:
        return ["crash", str(exc)]
    except Exception as exc:
        return ["error", type(exc).__name__, str(exc), str(exc.__cause__ or "")]

async def main():
    html = open(sys.argv[2], "rb").read()
    pool = ParsePool(2)
    joongdo = get_outlet("joongdo")
    remote = await pool.parse(joongdo, sys.argv[3], html, "text/html; charset=utf-8")
    out["same_article"] = remote == parse_page(joongdo, sys.argv[3], html, "text/html; charset=utf-8")
    out["title"] = remote.title
    # the pipelines' steps go to the worker with the page and come back recorded on the article
    steps = (NormalizePipeline.prepare_step, DedupPipeline.prepare_step)
    prepared = await pool.parse(joongdo, sys.argv[3], html, "text/html; charset=utf-8", steps)
    here = parse_page(joongdo, sys.argv[3], html, "text/html; charset=utf-8", steps)
    out["prepared"] = sorted(prepared.preparation)
    from crawler.dedup.stories import to_bytes
    there_sig, here_sig = prepared.preparation["signature"], here.preparation["signature"]
    out["prepared_same"] = [item_dict(prepared) == item_dict(here),
                            prepared.preparation["normalize"] == here.preparation["normalize"],
                            there_sig.basis == here_sig.basis,
                            to_bytes(there_sig.result) == to_bytes(here_sig.result)]
    out["prepared_normalized"] = prepared != remote and prepared.body_hash is not None and remote.body_hash is None
    many = [pool.parse(fakepages.Outlet(), f"https://a/{n}", b"fine", None) for n in range(40)]
    out["many"] = [r[1] for r in [await outcome(d) for d in many]]
    out["bad"] = await outcome(pool.parse(fakepages.Outlet(), "https://a/bad", b"bad", None))
    out["crash"] = await outcome(pool.parse(fakepages.Outlet(), "https://a/crash", b"crash", None))
    out["after_crash"] = await outcome(pool.parse(fakepages.Outlet(), "https://a/next", b"fine", None))
    out["restarts"] = pool.restarts
    # answers far larger than Twisted's 8 KB reads and than the pipe arrive whole, in order
    big = [b"echo" + bytes([n]) * (n * 700_000 + 9_000) for n in range(4)]
    echoed = await defer.gatherResults([pool.parse(fakepages.Outlet(), f"https://e/{n}", page, None)
                                        for n, page in enumerate(big)])
    out["echoed"] = [a == b for a, b in zip(echoed, big)]
    import fcntl
    worker = pool.workers[0]
    from crawler.pages.worker import RESULTS_FD
    out["pipe_bytes"] = [fcntl.fcntl(fd, fcntl.F_GETPIPE_SZ) for fd in (worker.pages.fd, worker.transport.pipes[RESULTS_FD].fileno())]
    pids = [w.transport.pid for w in pool.workers]
    await pool.close()
    out["workers_left"] = len(pool.workers)
    out["pids_gone"] = [not os.path.exists(f"/proc/{pid}") or open(f"/proc/{pid}/stat").read().split()[2] == "Z"
                        for pid in pids]
    out["after_close"] = await outcome(pool.parse(fakepages.Outlet(), "https://a/late", b"fine", None))

    # one worker dies holding pages: the pages in its pipe fail, the ones waiting get a new worker
    single = ParsePool(1)
    from crawler.crawl.parse_pool import MAX_FAILED_STARTS, WINDOW
    pages = [b"crash"] + [b"fine"] * (WINDOW + 8)  # a window's worth dies with the worker, the rest wait
    results = [single.parse(fakepages.Outlet(), f"https://b/{n}", page, None) for n, page in enumerate(pages)]
    out["queued"] = [(await outcome(d))[0] for d in results]
    out["window"] = WINDOW
    await single.close()

    # outlets take turns: pages of one queued after 30 of another are not answered last
    turns = ParsePool(1)
    order = []
    results = [turns.parse(fakepages.Named(name), f"https://t/{name}/{n}", b"fine", None)
               for name, count in (("big", 30), ("small", 3)) for n in range(count)]
    for d in results:
        d.addCallback(lambda article: order.append(article.rsplit("/", 2)[1]))
    await defer.DeferredList(results)
    out["turns"] = order
    # a page that cannot be pickled fails alone; the pages after it are parsed
    unpicklable = fakepages.Named("odd")
    unpicklable.hook = lambda: None
    out["unpicklable"] = await outcome(turns.parse(unpicklable, "https://t/odd", b"fine", None))
    out["after_unpicklable"] = await outcome(turns.parse(fakepages.Named("big"), "https://t/big/x", b"fine", None))
    await turns.close()

    # workers that cannot start: the pool gives up after a few and says why
    broken = ParsePool(1)
    broken.command = ("-c", "import sys; sys.exit(3)")
    results = [broken.parse(fakepages.Outlet(), f"https://c/{n}", b"fine", None) for n in range(WINDOW * MAX_FAILED_STARTS + 4)]
    out["unstartable"] = [(await outcome(d))[0] for d in results]
    out["unusable"] = broken.unusable
    out["after_unusable"] = (await outcome(broken.parse(fakepages.Outlet(), "https://c/x", b"fine", None)))[0]
    await broken.close()

def run():
    d = defer.ensureDeferred(main())
    d.addErrback(lambda f: out.setdefault("failure", f.getTraceback()))
    d.addBoth(lambda _: reactor.stop())

reactor.callWhenRunning(run)
reactor.run()
print(json.dumps(out))
'''


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> dict:
    folder = tmp_path_factory.mktemp("pool")
    (folder / "fakepages.py").write_text(PAGES_MODULE, encoding="utf-8")
    proc = subprocess.run([sys.executable, "-c", SCRIPT, str(folder), str(PAGE), URL], cwd=ROOT, capture_output=True,
                          text=True, timeout=300, env=dict(os.environ))
    assert proc.returncode == 0, proc.stderr[-4000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert "failure" not in out, out["failure"]
    return out


def test_a_worker_parses_the_same_article_as_the_crawl_process(run):
    assert run["same_article"] and run["title"]


def test_the_pipelines_steps_run_in_the_worker_as_they_would_here(run):
    assert run["prepared"] == ["normalize", "signature"]
    assert run["prepared_same"] == [True] * 4 and run["prepared_normalized"]


def test_the_worker_side_imports_neither_scrapy_nor_twisted_nor_the_crawl_side():
    # every module of crawler/pages (the worker's, and the page objects it runs)
    modules = sorted(f"crawler.pages.{p.stem}" for p in (ROOT / "crawler" / "pages").glob("*.py") if p.stem != "__init__")
    assert "crawler.pages.worker" in modules and "crawler.pages.parse" in modules
    code = ("import importlib, json, sys\n"
            f"for name in {modules!r}: importlib.import_module(name)\n"
            "print(json.dumps(sorted(sys.modules)))")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60,
                          env=dict(os.environ))
    assert proc.returncode == 0, proc.stderr[-4000:]
    loaded = json.loads(proc.stdout)
    forbidden = ("scrapy", "twisted", "pipelines", "crawler.crawl", "crawler.spiders", "crawler.store")
    assert [m for m in loaded if any(m == f or m.startswith(f + ".") for f in forbidden)] == []


def test_many_pages_in_flight_each_get_their_own_answer(run):
    assert run["many"] == [f"parsed https://a/{n}" for n in range(40)]


def test_a_page_error_is_that_pages_error_with_the_workers_traceback(run):
    kind, name, message, cause = run["bad"]
    assert (kind, name, message) == ("error", "ValueError", "no title on this page")
    assert "Traceback" in cause and "raise ValueError" in cause


def test_a_dead_worker_fails_its_page_and_the_next_page_gets_a_new_worker(run):
    assert run["crash"][0] == "crash"
    assert run["after_crash"] == ["ok", "parsed https://a/next"]
    assert run["restarts"] == 1


def test_closing_lets_the_workers_go_and_refuses_later_pages(run):
    assert run["workers_left"] == 0 and all(run["pids_gone"])
    assert run["after_close"][0] == "crash"


@pytest.mark.parametrize(("value", "expected"), [("0", 0), (2, 2), ("3", 3)])
def test_processes_setting_reads_numbers(value, expected):
    assert processes_setting(value) == expected


@pytest.mark.parametrize(("cores", "workers"), [(1, 0), (2, 1), (3, 2), (4, 3), (8, 4), (64, 4)])
def test_processes_setting_auto_leaves_a_core_to_the_crawl(monkeypatch, cores, workers):
    monkeypatch.setattr(os, "cpu_count", lambda: cores)
    assert processes_setting("auto") == workers


@pytest.mark.parametrize("bad", ["many", "-1", "1.5"])
def test_processes_setting_rejects_bad_values_by_name(bad):
    with pytest.raises(ValueError, match="NEWSDESK_PARSE_PROCESSES"):
        processes_setting(bad)


def test_a_pool_needs_a_process():
    with pytest.raises(ValueError):
        ParsePool(0)


def test_one_pool_per_process_closed_by_its_last_user(monkeypatch):
    closed = []
    monkeypatch.setattr(ParsePool, "close", lambda self: closed.append(self) or defer.succeed(None))
    first, second = acquire(1), acquire(1)
    assert first is second
    assert release(first).called and closed == []
    assert release(second).called and closed == [first]
    assert pool_module._shared is None
    third = acquire(1)
    assert third is not first
    release(third)


def test_pages_waiting_when_a_worker_dies_get_a_new_worker(run):
    held = run["window"]  # the crash and the pages in the same worker's pipe with it
    assert run["queued"] == ["crash"] * held + ["ok"] * 9


def test_workers_that_cannot_start_make_the_pool_give_up_with_a_reason(run):
    assert set(run["unstartable"]) == {"crash"} and len(run["unstartable"]) > run["window"] * 3
    assert "died before their first page" in run["unusable"]
    assert run["after_unusable"] == "crash"


def test_outlets_take_turns_in_the_pool(run):
    # 30 pages of one outlet were waiting before 3 of another: those 3 are answered among the
    # first pages after the ones already in the worker's pipe, not after all 30
    order = run["turns"]
    assert sorted(order) == sorted(["big"] * 30 + ["small"] * 3)
    last_small = max(i for i, name in enumerate(order) if name == "small")
    assert last_small < run["window"] + 6, order


def test_a_page_that_cannot_be_pickled_fails_alone(run):
    assert run["unpicklable"][0] == "error"
    assert run["after_unpicklable"] == ["ok", "parsed https://t/big/x"]


def test_waiting_pages_are_served_in_turns_oldest_first_within_an_outlet(monkeypatch):
    class Idle:  # a worker that takes nothing, so every page stays waiting
        alive, closing, pending = False, False, {}

    class Named:
        def __init__(self, name):
            self.name = name

    pool = ParsePool(1)
    monkeypatch.setattr(pool, "_spawn", lambda: Idle())
    a, b, c = Named("a"), Named("b"), Named("c")
    for outlet, url in ((a, "a1"), (a, "a2"), (a, "a3"), (b, "b1"), (c, "c1"), (c, "c2")):
        pool.parse(outlet, url, b"", None)
    assert pool.waiting == 6
    served = [pool._next()[0][2] for _ in range(6)]  # (request, Deferred): the request's URL
    assert served == ["a1", "b1", "c1", "a2", "c2", "a3"]
    assert pool.waiting == 0 and not pool.lines


def test_answers_larger_than_the_pipe_arrive_whole_in_order(run):
    assert run["echoed"] == [True, True, True, True]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="F_SETPIPE_SZ is Linux's")
def test_a_workers_pipes_are_widened_where_the_system_allows(run):
    limit = int(Path("/proc/sys/fs/pipe-max-size").read_text())
    assert run["pipe_bytes"] == [min(pool_module.PIPE_BYTES, limit)] * 2


class _Pipe:
    """What _ResultsReader.doRead uses of Twisted's reader: its fd and dataReceived."""

    def __init__(self, fd: int) -> None:
        self.fd, self.received = fd, []

    def dataReceived(self, data: bytes) -> None:
        self.received.append(data)


def test_the_results_reader_takes_what_the_pipe_holds_in_one_read():
    from twisted.internet import main

    read_end, write_end = os.pipe()
    try:
        os.set_blocking(read_end, False)
        pool_module._widen(write_end)
        pipe = _Pipe(read_end)
        assert pool_module._ResultsReader.doRead(pipe) is None  # nothing yet: no data, not closed
        held = 60_000  # under the default pipe size, so this holds everywhere
        os.write(write_end, b"x" * held)
        assert pool_module._ResultsReader.doRead(pipe) is None
        assert [len(d) for d in pipe.received] == [held]  # one read, where Twisted's takes 8 KB
        os.close(write_end)
        write_end = -1
        assert pool_module._ResultsReader.doRead(pipe) is main.CONNECTION_DONE
    finally:
        os.close(read_end)
        if write_end >= 0:
            os.close(write_end)


class _Reactor:
    """The reactor's writer registry, for _PagePipe without a running reactor."""

    def __init__(self) -> None:
        self.writers: list = []

    def addWriter(self, writer) -> None:  # noqa: N802 - Twisted's name
        self.writers.append(writer)

    def removeWriter(self, writer) -> None:  # noqa: N802 - Twisted's name
        self.writers.remove(writer)


def _drain(fd: int) -> bytes:
    out = b""
    while True:
        try:
            chunk = os.read(fd, 1 << 20)
        except BlockingIOError:
            return out
        if not chunk:
            return out
        out += chunk


def test_a_page_goes_into_the_pipe_at_once_and_the_rest_waits_for_room(monkeypatch):
    reactor = _Reactor()
    monkeypatch.setattr(pool_module, "_reactor", lambda: reactor)
    read_end, write_end = os.pipe()
    os.set_blocking(read_end, False)
    pipe = pool_module._PagePipe(write_end)
    try:
        pipe.write(b"a" * 1000)
        assert _drain(read_end) == b"a" * 1000 and reactor.writers == []  # written now, not at the next turn
        big = bytes(range(256)) * 4096  # 1 MB: more than the pipe holds (64 KB unwidened)
        capacity = 1 << 16
        if sys.platform.startswith("linux"):
            import fcntl

            capacity = fcntl.fcntl(write_end, fcntl.F_GETPIPE_SZ)
        pipe.write(big + big)
        pipe.write(b"end")
        assert reactor.writers == [pipe] and len(pipe.waiting) == 2  # the rest waits, in order
        received = _drain(read_end)
        assert 0 < len(received) <= capacity
        while pipe.waiting:
            pipe.doWrite()  # the reactor: the pipe has room
            received += _drain(read_end)
        assert received == big + big + b"end" and reactor.writers == []
        pipe.write(b"x" * (capacity + 10))
        pipe.close()  # waits for the page still waiting, then ends the pipe
        assert pipe.fd == write_end
        received = _drain(read_end)
        pipe.doWrite()
        assert pipe.fd == -1 and reactor.writers == []
        received += _drain(read_end)
        assert received == b"x" * (capacity + 10)
        assert os.read(read_end, 10) == b""  # the worker sees the end of its pages
        pipe.write(b"late")  # after close: dropped, no error
    finally:
        os.close(read_end)
        if pipe.fd >= 0:
            os.close(pipe.fd)


def test_a_page_pipe_whose_worker_is_gone_drops_its_pages(monkeypatch):
    reactor = _Reactor()
    monkeypatch.setattr(pool_module, "_reactor", lambda: reactor)
    read_end, write_end = os.pipe()
    os.close(read_end)  # the worker died
    pipe = pool_module._PagePipe(write_end)
    pipe.write(b"page")  # EPIPE: the pipe is let go, the worker's end is seen on its results pipe
    assert pipe.fd == -1 and reactor.writers == [] and not pipe.waiting
    pipe.abandon()  # twice is harmless


def test_a_worker_without_its_pipe_fails_the_page_instead_of_holding_it():
    worker = pool_module._Worker(ParsePool(1))
    d = defer.Deferred()
    failures = []
    d.addErrback(failures.append)
    worker.send(1, b"page", d)
    assert worker.pending == {} and failures and failures[0].check(PageCrash)
