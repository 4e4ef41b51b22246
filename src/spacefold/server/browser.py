"""Headless Debian Chromium through Playwright, for the viewer's tests and benchmarks.

Never ``playwright install``: it downloads its own browser, which fails offline. We drive the
system's ``/usr/bin/chromium`` (``apt-get install -y chromium``) with flags that work in a
container without a display; WebGL runs on SwiftShader (software).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

CHROMIUM = os.environ.get("SPACEFOLD_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def missing() -> str | None:
    """Why the browser cannot run here (for a skip message), or None."""
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        return f"{CHROMIUM} not found: apt-get install -y chromium"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed: pip install playwright (no `playwright install`)"
    return None


@contextmanager
def chromium(width: int = 1100, height: int = 650) -> Iterator[Any]:
    """A fresh browser context (its own user-data-dir) with one viewport size."""
    from playwright.sync_api import sync_playwright

    profile = tempfile.mkdtemp(prefix="spacefold-chromium-")
    try:
        with sync_playwright() as p:
            ctx = p.chromium.launch_persistent_context(
                profile, executable_path=CHROMIUM, args=ARGS, headless=True,
                viewport={"width": width, "height": height})
            try:
                yield ctx
            finally:
                ctx.close()
    finally:
        shutil.rmtree(profile, ignore_errors=True)
