"""Fixtures for real-browser tests: the app served in-process by uvicorn, and Debian's Chromium.

- ``live_server`` (one per xdist worker): a fresh SQLite file in a tmp dir, migrated to head,
  seeded with policy parameters, the catalogue and ``tests.support.world`` (one account per role),
  served by uvicorn in a background thread on a free 127.0.0.1 port. The server runs in this
  process, so ``xinyong.clock.freeze/advance`` in a test moves the server's clock too.
- ``browser`` (one per worker): Chromium from ``XINYONG_CHROMIUM`` (default ``/usr/bin/chromium``),
  headless, without Playwright's own browser download (``scripts/test.sh`` installs the Debian
  package ``chromium`` and the CJK font ``fonts-wqy-microhei``).
- ``page`` / ``mobile_page``: a new context per test (no cookies carried over) with ``base_url``
  set to the live server, desktop 1280x800 or a phone (390x844, touch, 3x pixels);
  ``browser_log`` records the requests and script/console errors of both.

Every test in this folder is marked ``browser`` (``pytest -m "not browser"`` leaves them out).
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright
from sqlalchemy.orm import Session

from tests.browser import BrowserLog
from tests.conftest import make_settings
from tests.support.world import World, build_world
from xinyong import migrate
from xinyong.actor import Actor
from xinyong.app import create_app
from xinyong.catalogue import service as catalogue_service
from xinyong.config import Settings, use_settings
from xinyong.db import session_factory, unit_of_work
from xinyong.policy import service as policy_service

HERE = Path(__file__).resolve().parent
CHROMIUM = os.environ.get("XINYONG_CHROMIUM", "/usr/bin/chromium")
# Without the background-networking switches Chromium keeps trying to reach Google's services,
# which on a closed network slows it down and makes it misbehave.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]
DESKTOP = {"viewport": {"width": 1280, "height": 800}}
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 3}
TIMEOUT_MS = 10_000


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "browser: drives a real browser (Chromium) against a live server")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in item.path.parents:
            item.add_marker(pytest.mark.browser)


# --- the live server ---------------------------------------------------------------------------


@dataclass
class LiveServer:
    url: str
    settings: Settings
    world: World

    def session(self) -> AbstractContextManager[Session]:
        """A unit of work on the server's database (commits at the end of the ``with`` block)."""
        use_settings(self.settings)  # services read keys from the process-wide settings
        return unit_of_work(session_factory(self.settings))


def _prepare_database(settings: Settings) -> World:
    migrate.upgrade(settings, "head")
    with unit_of_work(session_factory(settings)) as session:
        policy_service.seed(session)
        catalogue_service.seed(session, Actor.system())
        session.commit()
        return build_world(session)


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    data_dir = tmp_path_factory.mktemp("live")
    settings = make_settings(f"sqlite:///{data_dir / 'xinyong.db'}", data_dir)
    use_settings(settings)
    world = _prepare_database(settings)
    app = create_app(settings)

    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off", ws="none",
                            timeout_graceful_shutdown=2)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, name="live-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("测试用 Web 服务没有启动（uvicorn 线程已退出或超时）")
        time.sleep(0.02)
    yield LiveServer(f"http://127.0.0.1:{port}", settings, world)
    server.should_exit = True
    thread.join(timeout=10)
    listener.close()


@pytest.fixture(autouse=True)
def _live_settings(live_server: LiveServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """Templates read the process-wide settings: while a browser test runs they are the server's."""
    from xinyong import config

    monkeypatch.setattr(config, "_settings", live_server.settings)


# --- the browser -------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"找不到 Chromium（{CHROMIUM}）：运行 bash scripts/test.sh（以 root 安装 Debian 软件包 chromium），"
                    "或用 XINYONG_CHROMIUM 指定浏览器路径", pytrace=False)
    launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
    yield launched
    launched.close()


@pytest.fixture
def browser_log() -> BrowserLog:
    return BrowserLog()


@pytest.fixture
def new_context(browser: Browser, live_server: LiveServer,
                browser_log: BrowserLog) -> Iterator[Callable[..., BrowserContext]]:
    """Make a fresh context (own cookies) on the live server; closed after the test."""
    contexts: list[BrowserContext] = []

    def make(**options: object) -> BrowserContext:
        context = browser.new_context(base_url=live_server.url, locale="zh-CN", timezone_id="Asia/Shanghai",
                                      **{**DESKTOP, **options})  # type: ignore[arg-type]
        context.set_default_timeout(TIMEOUT_MS)
        context.on("request", browser_log.on_request)
        context.on("response", browser_log.on_response)
        context.on("page", lambda page: _watch(page, browser_log))
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


def _watch(page: Page, log: BrowserLog) -> None:
    page.on("pageerror", log.on_page_error)
    page.on("console", log.on_console)


@pytest.fixture
def page(new_context: Callable[..., BrowserContext]) -> Page:
    return new_context().new_page()


@pytest.fixture
def mobile_page(new_context: Callable[..., BrowserContext]) -> Page:
    return new_context(**PHONE).new_page()
