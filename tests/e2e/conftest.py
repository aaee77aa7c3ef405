"""A real ``prefect server start`` (UI included) and a headless Chromium for the end-to-end tests.

The server runs in its own process group with a fresh PREFECT_HOME, on a free loopback port,
for the whole session. Chromium is Debian's ``chromium`` package driven by Playwright (never
``playwright install``): without it the browser tests skip loudly, except under CI, where they fail.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest
from e2e_processes import prefect_server_process

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
        chromium = playwright.chromium.launch(
            executable_path=chromium_path, args=CHROMIUM_ARGS, headless=True, timeout=60_000
        )
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="session")
def prefect_server(tmp_path_factory) -> Iterator[str]:
    """A real Prefect server with its UI on a free loopback port; yields its API URL."""
    with prefect_server_process(tmp_path_factory.mktemp("prefect-server-home")) as api_url:
        yield api_url
