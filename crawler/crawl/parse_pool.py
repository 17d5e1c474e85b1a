"""Article pages parsed in worker processes, so the crawl's own core stays with Scrapy.

A crawl process is one Python thread doing everything: Scrapy's engine, downloads, and every
pipeline stage. Here a page is sent to a worker process as bytes with its outlet spec and the
enabled pipelines' prepare steps (crawler/prepare.py), parsed there by the same page object
(crawler/pages/parse.py, parse_page), taken through the steps, and the Article comes back;
the spider awaits it, so Scrapy keeps downloading meanwhile.

This module is the Twisted side. The worker (crawler/pages/worker.py, its frame protocol, and
crawler/pages/parse.py) imports neither Scrapy nor Twisted nor this module; what both sides
share is imported from there. The workers are plain child processes (POSIX) spoken to over
pipes that the reactor itself reads and writes: a page costs the crawl's thread a pickle, a
write and a read, and no thread hand-offs; how the worker is kept fed is in the notes above
WINDOW.

One pool per crawl process, shared by every spider in it (`newsdesk crawl` runs several),
started at the first article and stopped when the last spider that used it closes. A worker
that dies (a page that crashes the HTML parser in C) takes only the pages it held: they fail
with PageCrash, the spider counts them, and a new worker takes the pages waiting; in the
crawl's own process such a page would have ended the crawl. If workers cannot start at all
(MAX_FAILED_STARTS in a row die before their first page), the pool says so in `unusable` and
the spider parses in its own process. Workers die with their crawl (PR_SET_PDEATHSIG) and
leave Ctrl-C to it.

NEWSDESK_PARSE_PROCESSES (crawler/pages/parse.py, processes_setting): worker processes (0:
parse in the crawl process itself). "auto" (the default) is one worker on two cores and
cores - 1 (at most 4) above; none on one core. bench/throughput_bench.py measures what it
changes.
"""

from __future__ import annotations

import errno
import logging
import os
import pickle
import sys
from collections import deque
from typing import Any

from twisted.internet import defer, main, protocol
from twisted.internet import process as _process
from twisted.python.failure import Failure

from crawler.pages.parse import PageCrash, RemoteTraceback
from crawler.pages.worker import HEADER, MAX_FRAME, REQUESTS_FD, RESULTS_FD, frame
from crawler.prepare import PrepareStep

logger = logging.getLogger(__name__)

# How a worker is kept busy: it must never wait for the crawl's thread to hand it a page or
# take its answer, which the pipes would otherwise make it do three ways, each mended here
# (bench/throughput_bench.py measures the pages per second; py-spy on both processes shows
# a starved worker's idle time):
# - a page larger than a default pipe (64 KB) would reach the worker in parts, one per
#   reactor turn: each pipe to and from a worker is widened to PIPE_BYTES (Linux:
#   F_SETPIPE_SZ, where fs.pipe-max-size allows);
# - Twisted reads a child's pipe 8 KB per reactor turn, so a larger answer would take
#   several turns of a busy reactor while the worker blocked writing the next one: answers
#   are read up to PIPE_BYTES at a time (_ResultsReader);
# - Twisted's process writer writes at the reactor's next turn, which is late when it is
#   busy: the pool writes a page into the pipe at once (_PagePipe) and gives a worker up to
#   WINDOW pages, enough parsing to last the worker through a busy reactor turn, few enough
#   that a worker that dies takes only a few pages with it.
WINDOW = 16
PIPE_BYTES = 1 << 20
CLOSE_GRACE_SECONDS = 10.0  # a worker still running this long after its pipe closed is killed
MAX_FAILED_STARTS = 3  # workers in a row dead before their first answer: the pool gives up


class _Worker(protocol.ProcessProtocol):
    """One worker process: its pipe's frames, and the pages it holds (answered in order)."""

    def __init__(self, pool: "ParsePool") -> None:
        self.pool = pool
        self.pending: dict[int, defer.Deferred] = {}
        self.pages: _PagePipe | None = None  # set by ParsePool._spawn
        self.buffer = bytearray()
        self.alive = True
        self.closing = False
        self.answered = 0
        self.exited: defer.Deferred = defer.Deferred()  # the process is gone (reaped)

    def send(self, seq: int, payload: bytes, d: defer.Deferred) -> None:
        if self.pages is None:  # not spawned (ParsePool._spawn gives a worker its pipe first)
            d.errback(Failure(PageCrash("the parse worker has no pipe")))
            return
        self.pending[seq] = d
        self.pages.write(payload)

    def childDataReceived(self, childFD: int, data: bytes) -> None:
        if childFD != RESULTS_FD:
            return
        buffer = self.buffer
        buffer += data
        start = 0
        while len(buffer) - start >= HEADER.size:
            (size,) = HEADER.unpack_from(buffer, start)
            if size > MAX_FRAME:
                self._lost(f"worker sent a frame of {size} bytes")
                self.transport.signalProcess("KILL")
                return
            end = start + HEADER.size + size
            if len(buffer) < end:
                break
            with memoryview(buffer) as view:
                message = pickle.loads(view[start + HEADER.size:end])
            self._answered(message)
            start = end
        if start:
            del buffer[:start]

    def _answered(self, message: tuple[Any, ...]) -> None:
        d = self.pending.pop(message[0], None)
        self.answered += 1
        self.pool._feed(self)
        if d is None:
            return
        if message[1]:
            d.callback(message[2])
        else:
            error = message[2]
            error.__cause__ = RemoteTraceback(message[3])
            d.errback(Failure(error))

    def childConnectionLost(self, childFD: int) -> None:
        if childFD == RESULTS_FD:  # the worker exited (or died): nothing more will come
            self._lost("worker process ended" if self.closing else "worker process died")

    def processEnded(self, reason: Failure) -> None:
        self._lost("worker process ended" if self.closing else f"worker process died ({reason.getErrorMessage()})")
        if not self.exited.called:
            self.exited.callback(None)

    def _lost(self, why: str) -> None:
        if not self.alive:
            return
        self.alive = False
        if self.pages is not None:
            self.pages.abandon()
        pending, self.pending = self.pending, {}
        self.pool._worker_lost(self)
        for d in pending.values():
            d.errback(Failure(PageCrash(why)))


class ParsePool:
    """Worker processes parsing article pages; `parse` returns a Deferred of the Article.
    Used on the reactor thread only (it is the reactor that reads and writes the pipes)."""

    command: tuple[str, ...] = ("-m", "crawler.pages.worker")  # the worker's Python arguments

    def __init__(self, processes: int) -> None:
        if processes < 1:
            raise ValueError("a parse pool needs at least one process")
        self.processes = processes
        self.workers: list[_Worker] = []
        # Pages no worker holds yet, one line per outlet, served in turns (_next): a crawl of
        # several outlets shares the pool, and one line would give each outlet a share of
        # the parsing in proportion to the pages it has waiting. Scrapy bounds those by bytes
        # (SCRAPER_SLOT_MAX_ACTIVE_SIZE, per crawler), so an outlet of large pages would wait
        # behind many more small pages of the others and be crawled far slower than they are.
        # A page waits unpickled (its body is the response's own bytes, not a copy).
        self.lines: dict[Any, deque[tuple[tuple[Any, ...], defer.Deferred]]] = {}  # (request, its Deferred)
        self._turns: deque[Any] = deque()  # outlets with pages waiting, whose turn is next first
        self.restarts = 0
        self.failed_starts = 0  # workers in a row that died before answering a page
        self.unusable: str | None = None  # why no worker can be started: parse elsewhere
        self._seq = 0
        self._closed = False

    def parse(self, outlet: Any, url: str, html: bytes, content_type: str | None,
              steps: tuple[PrepareStep, ...] = ()) -> defer.Deferred:
        """Parse on the least busy worker, then take the article through `steps` there; the
        Deferred fires with the Article, or fails with the page object's (or a step's) own
        exception (its worker traceback as __cause__), or PageCrash when the worker died."""
        if self._closed or self.unusable:
            return defer.fail(PageCrash(self.unusable or "the parse pool is closed"))
        self._seq += 1
        d: defer.Deferred = defer.Deferred()
        key = getattr(outlet, "name", None)
        line = self.lines.get(key)
        if line is None:
            line = self.lines[key] = deque()
            self._turns.append(key)
        line.append(((self._seq, outlet, url, html, content_type, steps), d))
        if len(self.workers) < self.processes:
            self.workers.append(self._spawn())
        for worker in self.workers:
            self._feed(worker)
        return d

    @property
    def waiting(self) -> int:
        """Pages no worker holds yet."""
        return sum(len(line) for line in self.lines.values())

    def _next(self) -> tuple[tuple[Any, ...], defer.Deferred]:
        """The next waiting page: the oldest of the outlet whose turn it is."""
        key = self._turns.popleft()
        line = self.lines[key]
        page = line.popleft()
        if line:
            self._turns.append(key)
        else:
            del self.lines[key]
        return page

    def _feed(self, worker: _Worker) -> None:
        """Give `worker` waiting pages up to WINDOW: the rest wait here, in their outlets'
        lines, so turns still count and a worker that dies takes at most WINDOW with it."""
        while self._turns and worker.alive and not worker.closing and len(worker.pending) < WINDOW:
            request, d = self._next()
            try:
                payload = frame(request)
            except Exception as exc:  # noqa: BLE001 - unpicklable outlet/page: the page's failure, not the crawl's
                d.errback(Failure(exc))
                continue
            worker.send(request[0], payload, d)  # request[0]: its sequence number

    def _fail_waiting(self, why: str) -> None:
        while self._turns:
            self._next()[1].errback(Failure(PageCrash(why)))

    def _spawn(self) -> _Worker:
        worker = _Worker(self)
        # the crawl's import path (scrapyd's eggs, a test's folders) is the worker's: it imports
        # the worker module by it and unpickles outlets and page classes by module path
        path = [p for p in sys.path if p and os.path.exists(p)]
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(dict.fromkeys(path)))
        args = [sys.executable, *self.command, str(os.getpid())]
        read_end, write_end = os.pipe()  # the pages' pipe is the pool's own (_PagePipe)
        try:
            _widen(write_end)
            child_fds = {1: 1, 2: 2, REQUESTS_FD: read_end, RESULTS_FD: "r"}
            transport = _WorkerProcess(_reactor(), sys.executable, args, env, None, worker, childFDs=child_fds)
        except BaseException:
            os.close(write_end)
            raise
        finally:
            os.close(read_end)  # the worker has its copy
        worker.pages = _PagePipe(write_end)
        _widen(transport.pipes[RESULTS_FD].fileno())
        return worker

    def _worker_lost(self, worker: _Worker) -> None:
        if worker in self.workers:
            self.workers.remove(worker)
        if worker.closing:
            return
        self.restarts += 1
        self.failed_starts = 0 if worker.answered else self.failed_starts + 1
        if self.failed_starts >= MAX_FAILED_STARTS:
            # not a page's fault: workers cannot run here (the interpreter, the environment)
            self.unusable = f"{self.failed_starts} parse worker processes in a row died before their first page"
            logger.error("%s; parsing in the crawl process from now on", self.unusable)
            self._fail_waiting(self.unusable)
            return
        logger.error("a page parser's worker process died; a new one takes the pages waiting")
        if self._turns and not self._closed:  # pages waiting for a worker get a new one now
            replacement = self._spawn()
            self.workers.append(replacement)
            self._feed(replacement)

    def close(self) -> defer.Deferred:
        """Let the workers finish what they hold and exit; fires when they are gone."""
        self._closed = True
        self._fail_waiting("the parse pool closed")  # never sent: the spiders are done with them
        waits = []
        for worker in list(self.workers):
            worker.closing = True
            if worker.pages is not None:
                worker.pages.close()  # the worker answers what it holds, then exits
            kill = _reactor().callLater(CLOSE_GRACE_SECONDS, _kill, worker)
            worker.exited.addBoth(lambda result, call=kill: call.cancel() if call.active() else None)
            waits.append(worker.exited)
        return defer.DeferredList(waits, consumeErrors=True).addCallback(lambda _: None)


def _widen(fd: int) -> None:
    """Make the pipe at `fd` hold PIPE_BYTES, where the system allows it (else it stays)."""
    try:
        import fcntl

        fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, PIPE_BYTES)
    except (ImportError, AttributeError, OSError) as exc:  # not Linux, or above fs.pipe-max-size / the user's pipe quota
        logger.debug("parse worker pipe left at its default size (%s)", exc)


class _ResultsReader(_process.ProcessReader):
    """A worker's answers, read up to PIPE_BYTES a reactor turn (Twisted reads 8 KB)."""

    def doRead(self) -> Any:
        try:
            data = os.read(self.fd, PIPE_BYTES)
        except OSError as exc:
            if exc.errno in (errno.EAGAIN, errno.EINTR):
                return None
            return main.CONNECTION_LOST
        if not data:
            return main.CONNECTION_DONE
        self.dataReceived(data)
        return None


class _WorkerProcess(_process.Process):
    """Twisted's POSIX process, reading its pipes with _ResultsReader."""

    processReaderFactory = _ResultsReader


class _PagePipe:
    """The pipe of pages to one worker (Twisted's IWriteDescriptor, reactor thread only).

    A page goes into the pipe at once while the pipe has room; what does not fit waits here,
    and the reactor writes it as the worker drains the pipe. close() ends the pages once the
    waiting ones are written (the worker then answers what it holds and exits); abandon()
    drops them (the worker is gone: its end is seen on the results pipe)."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.waiting: deque[memoryview] = deque()
        self.closing = False
        self.watched = False  # the reactor calls doWrite when the pipe has room
        os.set_blocking(fd, False)

    def fileno(self) -> int:
        return self.fd

    def logPrefix(self) -> str:
        return "parse-worker-pages"

    def write(self, data: bytes) -> None:
        if self.fd < 0 or self.closing:
            return
        view = memoryview(data)
        if not self.waiting:
            view = view[self._put(view):]
            if not len(view) or self.fd < 0:
                return
            self._watch(True)
        self.waiting.append(view)

    def doWrite(self) -> None:
        while self.waiting and self.fd >= 0:
            view = self.waiting[0]
            written = self._put(view)
            if written < len(view):
                self.waiting[0] = view[written:]
                return
            self.waiting.popleft()
        self._watch(False)
        if self.closing:
            self.abandon()

    def close(self) -> None:
        self.closing = True
        if not self.waiting:
            self.abandon()

    def abandon(self) -> None:
        if self.fd < 0:
            return
        self._watch(False)
        os.close(self.fd)
        self.fd = -1
        self.waiting.clear()

    def connectionLost(self, reason: Failure) -> None:
        self.abandon()

    def _watch(self, on: bool) -> None:
        if on != self.watched:
            self.watched = on
            (_reactor().addWriter if on else _reactor().removeWriter)(self)

    def _put(self, view: memoryview) -> int:
        """Bytes of `view` the pipe took now."""
        try:
            return os.write(self.fd, view)
        except BlockingIOError:
            return 0
        except OSError:  # EPIPE: the worker is gone; the results pipe and processEnded say so
            self.abandon()
            return len(view)


def _reactor() -> Any:
    from twisted.internet import reactor

    return reactor


def _kill(worker: _Worker) -> None:
    """A worker that has not exited CLOSE_GRACE_SECONDS after its pipe closed (or whose end
    this reactor cannot see: no SIGCHLD handler) is killed and counted as gone."""
    if worker.alive:
        logger.warning("a page parser's worker process did not exit; killing it")
    try:
        worker.transport.signalProcess("KILL")
    except Exception:  # noqa: BLE001 - already gone
        pass
    worker._lost("worker process killed at close")
    if not worker.exited.called:
        worker.exited.callback(None)


# -- one pool per process, shared by the spiders in it ----------------------------------------
_shared: ParsePool | None = None
_users = 0


def acquire(processes: int) -> ParsePool:
    """The process's pool (its workers start at the first page); release() when done."""
    global _shared, _users
    if _shared is None:
        _shared = ParsePool(processes)
    _users += 1
    return _shared


def release(pool: ParsePool) -> defer.Deferred:
    """One user fewer; the last one closes the pool. Fires when its workers are gone."""
    global _shared, _users
    if pool is not _shared:
        return pool.close()
    _users -= 1
    if _users > 0:
        return defer.succeed(None)
    _shared, _users = None, 0
    return pool.close()
