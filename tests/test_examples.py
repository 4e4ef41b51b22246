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


def test_example_makes_a_missing_output_folder(tmp_path: Path) -> None:
    out = tmp_path / "not" / "yet"
    example = next(p for p in EXAMPLES if p.name == "own_model.py")
    r = subprocess.run([sys.executable, str(example), str(out)], capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    assert (out / "own_model.png").stat().st_size > 0


def test_example_output_folder_that_is_a_file_is_one_line(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    example = next(p for p in EXAMPLES if p.name == "own_model.py")
    r = subprocess.run([sys.executable, str(example), str(blocker / "out")],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 2
    assert "Traceback" not in r.stderr
    assert r.stderr.strip().splitlines() == [r.stderr.strip()]
    assert r.stderr.startswith("error: cannot make the output folder")
