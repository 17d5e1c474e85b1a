"""Deploying to a real scrapyd on 127.0.0.1, and crawling through it with ScrapydClient.

A scrapyd is started in a temporary folder (its own scrapyd.conf: free port, basic auth,
eggs/logs/dbs in tmp), the project is deployed with `scrapyd-deploy` exactly as an operator
would (the egg is built from a copy of the work tree, so the build leaves nothing in the
repository), and a crawl of the saved 중도일보 site is scheduled with the client. The egg runs
from a zip inside scrapyd, which is what catches data files read from beside __file__.
"""

from __future__ import annotations

import configparser
import importlib.util
import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from crawler.devtools.fixturesite import DEFAULT_FIXTURES, FixtureSite, SiteSpec
from crawler.runners.scrapyd_client import ScrapydClient, ScrapydError

ROOT = Path(__file__).resolve().parents[2]
SITE = DEFAULT_FIXTURES / "joongdo"
USER, PASSWORD = "operator", "s3cret-Pa55"  # the password must never show in messages or logs
PACKAGES = ("crawler", "pipelines", "settings")  # what the egg must carry, as pyproject lists

pytestmark = [
    pytest.mark.timeout(180),
    pytest.mark.skipif(
        importlib.util.find_spec("scrapyd") is None or importlib.util.find_spec("scrapyd_client") is None,
        reason="scrapyd and scrapyd-client are not installed (pip install -e '.[test]')",
    ),
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def clean_env(**extra: str) -> dict[str, str]:
    """This environment without anything that would steer scrapyd or Scrapy elsewhere."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SCRAPYD_", "SCRAPY_"))}
    env.pop("PYTHONPATH", None)  # the crawl must import the project from the egg
    env.update(extra)
    return env


@dataclass
class Scrapyd:
    url: str  # with credentials
    port: int
    folder: Path
    process: subprocess.Popen[bytes]

    def log(self) -> str:
        return (self.folder / "scrapyd.out").read_text(encoding="utf-8", errors="replace")[-4000:]

    def client(self, **kwargs: float) -> ScrapydClient:
        return ScrapydClient(self.url, "newsdesk", **kwargs)


def stop_process_group(process: subprocess.Popen[bytes]) -> None:
    """scrapyd and the crawls it started: SIGTERM, then SIGKILL to what is left."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass
    try:
        os.killpg(process.pid, signal.SIGKILL)  # crawl children that outlived scrapyd
    except ProcessLookupError:
        pass
    process.wait(timeout=10)


def start_scrapyd(folder: Path, mongo_uri: str) -> Scrapyd:
    port = free_port()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "scrapyd.conf").write_text(
        "\n".join([
            "[scrapyd]",
            "bind_address = 127.0.0.1",
            f"http_port = {port}",
            f"eggs_dir = {folder / 'eggs'}",
            f"logs_dir = {folder / 'logs'}",
            f"dbs_dir = {folder / 'dbs'}",
            "items_dir =",
            "jobs_dir =",
            "max_proc = 2",
            "poll_interval = 0.2",
            f"username = {USER}",
            f"password = {PASSWORD}",
            "",
        ]),
        encoding="utf-8",
    )
    out = (folder / "scrapyd.out").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "scrapyd", "--pidfile", str(folder / "twistd.pid")],
        cwd=folder,  # scrapyd reads ./scrapyd.conf; no scrapy.cfg above a pytest tmp folder
        # the database as on a scrapyd host: in its environment, never sent through schedule.json
        env=clean_env(NEWSDESK_ENV="test", MONGO_URI=mongo_uri),
        stdin=subprocess.DEVNULL,
        stdout=out,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # one process group: teardown ends scrapyd and its crawls
    )
    out.close()
    server = Scrapyd(f"http://{USER}:{PASSWORD}@127.0.0.1:{port}/", port, folder, process)
    client = server.client(timeout=2.0)
    deadline = time.monotonic() + 30
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"scrapyd exited with {process.returncode}:\n{server.log()}")
        try:
            client.daemon_status()
            return server
        except ScrapydError:
            if time.monotonic() > deadline:
                stop_process_group(process)
                raise RuntimeError(f"scrapyd did not answer on port {port} within 30 s:\n{server.log()}") from None
            time.sleep(0.2)


@pytest.fixture(scope="module")
def scrapyd(tmp_path_factory: pytest.TempPathFactory, mongo_uri: str) -> Iterator[Scrapyd]:
    base = tmp_path_factory.mktemp("scrapyd")
    for attempt in range(3):  # the free port may be taken between probing and binding
        try:
            server = start_scrapyd(base / f"try{attempt}", mongo_uri)
            break
        except RuntimeError:
            if attempt == 2:
                raise
    try:
        yield server
    finally:
        stop_process_group(server.process)


@pytest.fixture(scope="module")
def project_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The work tree without tests, venv and build leftovers: the egg is built here."""
    target = tmp_path_factory.mktemp("project") / "newsdesk"
    leftovers = shutil.ignore_patterns("*.egg-info", "__pycache__", ".pytest_cache")
    top_level = {".git", ".venv", "tests", "bench", "data", "build"}  # data/: the embedded database's, not crawler/text/data

    def ignore(folder: str, names: list[str]) -> set[str]:
        skipped = set(leftovers(folder, names))
        return skipped | (top_level & set(names)) if Path(folder) == ROOT else skipped

    shutil.copytree(ROOT, target, ignore=ignore)
    return target


@pytest.fixture(scope="module")
def egg(project_copy: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The egg scrapyd-deploy builds from scrapy.cfg + setup.py + pyproject.toml."""
    path = tmp_path_factory.mktemp("egg") / "newsdesk.egg"
    proc = subprocess.run(
        [sys.executable, "-m", "scrapyd_client.deploy", "--build-egg", str(path)],
        cwd=project_copy, env=clean_env(), capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, f"scrapyd-deploy --build-egg failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    assert not (project_copy / "setup.py").read_text().startswith("# Automatically created")
    return path


@pytest.fixture(scope="module")
def deployed(scrapyd: Scrapyd, project_copy: Path, egg: Path, tmp_path_factory: pytest.TempPathFactory) -> ScrapydClient:
    """`scrapyd-deploy test --egg ...`, the target [deploy:test] coming from a user scrapy.cfg."""
    config_home = tmp_path_factory.mktemp("xdg")
    (config_home / "scrapy.cfg").write_text(
        f"[deploy:test]\nurl = http://127.0.0.1:{scrapyd.port}/\nproject = newsdesk\n"
        f"username = {USER}\npassword = {PASSWORD}\n",
        encoding="utf-8",
    )
    proc = subprocess.run(
        [sys.executable, "-m", "scrapyd_client.deploy", "test", "--version", "r1", "--egg", str(egg)],
        cwd=project_copy, env=clean_env(XDG_CONFIG_HOME=str(config_home), HOME=str(config_home)),
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, f"scrapyd-deploy failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}\n{scrapyd.log()}"
    answer = json.loads(proc.stdout)
    assert answer["status"] == "ok" and answer["project"] == "newsdesk", answer
    return scrapyd.client(timeout=10.0)


def expected_articles() -> dict[str, dict]:
    found = {}
    for path in SITE.glob("*.json"):
        if path.name != "site.json":
            expected = json.loads(path.read_text(encoding="utf-8"))["expected"]
            found[expected["canonical_url"]] = expected
    return found


@contextmanager
def _dropped(client, db_name: str) -> Iterator[None]:
    try:
        yield
    finally:
        client.drop_database(db_name)


def test_scrapy_cfg_keeps_settings_and_has_a_deploy_target():
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "scrapy.cfg", encoding="utf-8")
    assert cfg["settings"]["default"] == "settings"
    assert cfg["deploy"]["url"] == "http://127.0.0.1:6800/"
    assert cfg["deploy"]["project"] == "newsdesk"


def test_egg_carries_every_module_the_outlet_data_and_the_settings_entry_point(egg: Path, project_copy: Path, tmp_path):
    with zipfile.ZipFile(egg) as zf:
        names = set(zf.namelist())
        entry_points = zf.read("EGG-INFO/entry_points.txt").decode()
    modules = {p.relative_to(project_copy).as_posix() for pkg in PACKAGES for p in (project_copy / pkg).rglob("*.py")}
    assert modules - names == set(), "modules missing from the egg: add their packages to [tool.setuptools] packages"
    assert {"crawler/outlets/outlets.toml", "crawler/outlets/families.toml"} <= names
    assert "[scrapy]\nsettings = settings" in entry_points

    # activated the way scrapyd's runner does it, the registry is read out of the zip
    probe = (
        "import os, sys\n"
        "from scrapyd.runner import activate_egg\n"
        "activate_egg(sys.argv[1])\n"
        "import crawler.outlets as o, settings\n"
        "print(os.environ['SCRAPY_SETTINGS_MODULE'], o.__file__, settings.__file__, len(o.registry()), len(o.families()))\n"
    )
    proc = subprocess.run([sys.executable, "-c", probe, str(egg)], cwd=tmp_path, env=clean_env(NEWSDESK_ENV="test"),
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr[-3000:]
    module, outlets_file, settings_file, outlets, families = proc.stdout.split()
    assert module == "settings"
    assert outlets_file.startswith(str(egg)) and settings_file.startswith(str(egg))
    assert int(outlets) >= 1 and int(families) >= 1


def test_deployed_project_lists_the_outlet_spiders(deployed: ScrapydClient):
    spiders = deployed.list_spiders()
    assert "joongdo" in spiders
    assert len(spiders) >= 5, spiders


def test_scheduled_crawl_stores_the_articles(deployed: ScrapydClient, scrapyd: Scrapyd, mongo_client, caplog):
    caplog.set_level(logging.DEBUG, logger="crawler.runners.scrapyd_client")
    db_name = f"test_scrapyd_{uuid.uuid4().hex[:12]}"
    expected = expected_articles()
    try:
        with FixtureSite(SiteSpec.load(SITE)) as site:
            jobid = deployed.schedule(
                "joongdo",
                settings={"NEWSDESK_DB": db_name},
                args={"base_url": site.base_url},
                jobid=f"joongdo-{uuid.uuid4().hex[:8]}",
            )
            assert jobid.startswith("joongdo-")
            assert deployed.status(jobid) in ("pending", "running", "finished")
            final = deployed.wait(jobid, time_limit=90, poll=0.3)
        log_file = scrapyd.folder / "logs" / "newsdesk" / "joongdo" / f"{jobid}.log"
        crawl_log = log_file.read_text(encoding="utf-8", errors="replace") if log_file.exists() else "(no crawl log)"
        assert final == "finished", f"{final}\n{crawl_log[-3000:]}\n{scrapyd.log()}"
        assert "/robots.txt" in site.requests
        docs = list(mongo_client[db_name].articles.find({"outlet": "joongdo"}))
        assert {d["canonical_url"] for d in docs} == set(expected), crawl_log[-3000:]
        assert "Traceback" not in crawl_log, crawl_log[-3000:]
        assert deployed.job(jobid)["spider"] == "joongdo"
        assert deployed.daemon_status()["finished"] >= 1
    finally:
        mongo_client.drop_database(db_name)
    assert PASSWORD not in caplog.text and "127.0.0.1" in caplog.text


def test_time_limit_cancels_a_hanging_crawl(deployed: ScrapydClient, mongo_client):
    db_name = f"test_scrapyd_{uuid.uuid4().hex[:12]}"
    # a server that accepts connections and never answers: the crawl hangs on robots.txt
    with socket.socket() as silent, _dropped(mongo_client, db_name):
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        base_url = "http://127.0.0.1:%d" % silent.getsockname()[1]
        jobid = deployed.schedule(
            "joongdo", settings={"NEWSDESK_DB": db_name, "DOWNLOAD_TIMEOUT": "120"}, args={"base_url": base_url}
        )
        started = time.monotonic()
        # SIGINT at 2 s; the download still hangs, so SIGKILL after the 3 s grace
        assert deployed.wait(jobid, time_limit=2, poll=0.3, grace=3) == "cancelled"
        assert time.monotonic() - started < 20
        assert deployed.status(jobid) == "finished"
    assert deployed.cancel(jobid) == "unknown"  # nothing left to cancel


def test_errors_name_the_server_and_what_it_said_without_the_password(scrapyd: Scrapyd, deployed: ScrapydClient, caplog):
    caplog.set_level(logging.DEBUG, logger="crawler.runners.scrapyd_client")
    wrong = ScrapydClient(f"http://{USER}:wrong-{PASSWORD}@127.0.0.1:{scrapyd.port}", "newsdesk", timeout=5)
    with pytest.raises(ScrapydError, match="401") as excinfo:
        wrong.daemon_status()
    assert f"http://{USER}:***@127.0.0.1:{scrapyd.port}/daemonstatus.json" in str(excinfo.value)
    assert PASSWORD not in str(excinfo.value) and PASSWORD not in repr(wrong)

    with pytest.raises(ScrapydError, match="spider 'no_such_outlet' not found") as excinfo:
        deployed.schedule("no_such_outlet")
    assert PASSWORD not in str(excinfo.value)
    with pytest.raises(ScrapydError, match="project 'elsewhere' not found"):
        ScrapydClient(scrapyd.url, "elsewhere").list_spiders()
    with pytest.raises(ValueError, match="clashes"):
        deployed.schedule("joongdo", args={"project": "x"})

    closed = ScrapydClient(f"http://{USER}:{PASSWORD}@127.0.0.1:{free_port()}/", timeout=2)
    with pytest.raises(ScrapydError, match="no answer") as excinfo:
        closed.daemon_status()
    assert PASSWORD not in str(excinfo.value) and "127.0.0.1" in str(excinfo.value)

    assert deployed.status("never-scheduled") == "unknown"
    assert PASSWORD not in caplog.text


def test_the_scheduler_dispatches_a_leased_recorded_crawl_to_scrapyd(deployed: ScrapydClient, mongo_client, monkeypatch):
    """NEWSDESK_SCRAPYD_URL's path end to end: lease, run document, crawl on scrapyd, stats back."""
    from crawler.runners.scrapyd import ScrapydDispatcher
    from crawler.runners.crawl_job import CrawlService
    from crawler.store.leases import LeaseStore
    from crawler.store.runs import RunStore

    db_name = f"test_scrapyd_{uuid.uuid4().hex[:12]}"
    monkeypatch.setenv("NEWSDESK_DB", db_name)  # passed on to the crawl; MONGO_URI is scrapyd's own
    db = mongo_client[db_name]
    try:
        with FixtureSite(SiteSpec.load(SITE)) as site:
            dispatcher = ScrapydDispatcher("unused", client=deployed, time_limit=90, poll=0.3,
                                           spider_args={"base_url": site.base_url})
            run = CrawlService(db, dispatcher, owner="test-scheduler", leases=LeaseStore(db)).crawl("joongdo", "manual")
        assert run is not None and run["dispatcher"] == "scrapyd"
        stored = RunStore(db).get(run["_id"])
        # the crawl on scrapyd wrote its own stats onto the run (RunRecorder): the scheduler read none back
        assert stored["status"] == "finished", stored
        assert stored["articles"]["new"] == len(expected_articles())
        assert stored["log_path"].endswith(".log") and PASSWORD not in stored["log_path"]
        assert LeaseStore(db).holder("crawl:joongdo") is None
    finally:
        mongo_client.drop_database(db_name)
