"""Helpers shared by the CLI tests: run ``spacefold`` in-process and check its errors."""

from __future__ import annotations

import pytest

from spacefold import cli


def run(capsys: pytest.CaptureFixture[str], *argv: object) -> tuple[int, str, str]:
    """``spacefold ARGV`` in-process: ``(exit code, stdout, stderr)``."""
    with pytest.raises(SystemExit) as exc:
        cli.main([str(a) for a in argv])
    code = exc.value.code
    captured = capsys.readouterr()
    return (code if isinstance(code, int) else 1), captured.out, captured.err


def assert_one_line_error(code: int, err: str, *names: str) -> None:
    """Exit code 2, no traceback, one ``error: ...`` line naming every one of ``names``."""
    assert code == 2, err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, f"expected one stderr line, got: {err!r}"
    assert lines[0].startswith("error: ")
    for name in names:
        assert name in lines[0], f"{name!r} not named in {lines[0]!r}"
