"""Shared by the viewer's browser tests: open a page in headless Chromium and wait for its
first frame, keeping the page's script errors (``page.errors``), and read the canvas."""

from __future__ import annotations

import io
from typing import Any

import numpy as np

FIRST_FRAME = "window.__spacefold && window.__spacefold.frames > 0"


def open_page(ctx: Any, url: str, ready: str = FIRST_FRAME, timeout: int = 30_000) -> Any:
    """A new page of ``ctx`` at ``url``, once ``ready`` (JavaScript) holds."""
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url)
    page.wait_for_function(ready, timeout=timeout)
    page.errors = errors
    return page


def canvas(page: Any) -> np.ndarray:
    """The viewer's canvas as it is on screen: (H, W, 3) int16 RGB."""
    from PIL import Image

    png = page.locator("canvas.sf-gl").screenshot()
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(np.int16)
