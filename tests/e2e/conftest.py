"""A real ``prefect server start`` (UI included) and a headless Chromium for the end-to-end tests.

The server runs in its own process group with a fresh PREFECT_HOME, on a free loopback port,
for the whole session. Chromium is Debian's ``chromium`` package driven by Playwright (never
``playwright install``): without it the browser tests skip loudly, except under CI, where they fail.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from e2e_processes import clean_prefect_environment, stop_process_group

SERVER_START_SECONDS = 120
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]


def _skip_or_fail(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set: the browser tests must not skip)")
    pytest.skip(f"!!! SKIPPING BROWSER TESTS: {reason}")


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """Debian's chromium and the playwright package, or a loud skip (a failure under CI)."""
    path = shutil.which("chromium")
    if path is None:
        _skip_or_fail("no `chromium` on PATH (Debian: apt-get install chromium)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        _skip_or_fail("the playwright package is missing (pip install -e '.[test]')")
    return path


@pytest.fixture(scope="module")
def browser(chromium_path: str) -> Iterator:
    """One headless Chromium per module (the sync Playwright API must not outlive the module's tests)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS, headless=True, timeout=60_000)
        try:
            yield chromium
        finally:
            chromium.close()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _healthy(api_url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{api_url}/health", timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


@pytest.fixture(scope="session")
def prefect_server(tmp_path_factory) -> Iterator[str]:
    """A real Prefect server with its UI on a free loopback port; yields its API URL."""
    home = tmp_path_factory.mktemp("prefect-server-home")
    port = _free_port()
    api_url = f"http://127.0.0.1:{port}/api"
    env = clean_prefect_environment() | {
        "PREFECT_HOME": str(home),
        "PREFECT_UI_API_URL": api_url,
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_LOGGING_LEVEL": "WARNING",
    }
    log_path = home / "server.log"
    prefect = Path(sys.executable).parent / "prefect"
    with open(log_path, "wb") as log:
        server = subprocess.Popen(
            [str(prefect), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + SERVER_START_SECONDS
        while not _healthy(api_url):
            if server.poll() is not None:
                raise RuntimeError(f"prefect server exited with {server.returncode}:\n{log_path.read_text(errors='replace')[-3000:]}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"prefect server not healthy after {SERVER_START_SECONDS} s:\n{log_path.read_text(errors='replace')[-3000:]}")
            time.sleep(0.5)
        yield api_url
    finally:
        stop_process_group(server)
