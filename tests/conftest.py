"""Shared test options: ``--regen-golden`` rewrites golden frames on purpose."""

from __future__ import annotations

import matplotlib
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
