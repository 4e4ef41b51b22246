"""Every runnable example is a test (like altair's gallery): each runs as a real process and
writes what it says it writes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = sorted((Path(__file__).parent.parent / "examples").glob("*.py"))


def test_there_are_examples() -> None:
    assert {p.name for p in EXAMPLES} >= {"quickstart.py", "own_model.py", "checkpoint.py"}


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_example_runs(example: Path, tmp_path: Path) -> None:
    r = subprocess.run([sys.executable, str(example), str(tmp_path)], capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    written = [p for p in tmp_path.iterdir() if p.is_file()]
    assert written, f"{example.name} wrote nothing"
    assert all(p.stat().st_size > 0 for p in written)
