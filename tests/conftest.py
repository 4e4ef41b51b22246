"""Shared test options (``--regen-golden`` rewrites golden frames on purpose) and fixtures."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--regen-golden", action="store_true", default=False,
                     help="rewrite tests/golden/*.png from the current renderer")


@pytest.fixture
def regen_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--regen-golden"))


@pytest.fixture
def require_browser() -> None:
    """Browser tests fail, never skip, when Chromium or Playwright is missing: `make test`
    installs both (scripts/sysdeps.sh --browser), so a missing one is a setup bug to see."""
    from spacefold.server import browser

    why = browser.missing()
    if why is not None:
        pytest.fail(f"browser test cannot run: {why}")


@pytest.fixture
def color_calls(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """How many times traces computed class and position colours from here on (counted where
    ``Trace.colors`` looks the two functions up)."""
    from spacefold import colors
    from spacefold.trace import core

    calls: Counter[str] = Counter()

    def counting(name: str, f: Callable[[np.ndarray], np.ndarray]) -> Callable[..., np.ndarray]:
        def wrapper(a: np.ndarray) -> np.ndarray:
            calls[name] += 1
            return f(a)
        return wrapper

    monkeypatch.setattr(core, "class_colors", counting("class", colors.class_colors))
    monkeypatch.setattr(core, "position_colors", counting("position", colors.position_colors))
    return calls
