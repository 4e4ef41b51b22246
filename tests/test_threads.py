"""spacefold._threads: the command's process starts numpy with one BLAS thread; a library
user's process is left alone."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from spacefold import _threads

SHOW = ("import os, sys\n{argv}import spacefold, numpy\n"
        "print(os.environ.get('OPENBLAS_NUM_THREADS'), os.environ.get('OMP_NUM_THREADS'))\n")


def _run(argv: str, **env: str) -> str:
    clean = {k: v for k, v in os.environ.items() if k not in _threads.POOLS}
    r = subprocess.run([sys.executable, "-c", SHOW.format(argv=argv)], capture_output=True,
                       text=True, env={**clean, **env}, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    return r.stdout.strip()


def test_the_command_sets_one_thread_before_numpy_loads() -> None:
    assert _run("sys.argv[0] = '/venv/bin/spacefold'\n") == "1 1"


def test_a_library_user_keeps_their_pools() -> None:
    assert _run("") == "None None"


def test_the_users_own_setting_wins() -> None:
    assert _run("sys.argv[0] = '/venv/bin/spacefold'\n", OPENBLAS_NUM_THREADS="2") == "2 1"


@pytest.mark.parametrize(("argv0", "orig", "expected"), [
    ("/usr/local/bin/spacefold", ["python", "/usr/local/bin/spacefold", "render"], True),
    ("-m", ["python", "-m", "spacefold", "render"], True),
    ("-m", ["python", "-X", "dev", "-m", "spacefold"], True),
    ("-m", ["python", "-m", "spacefold.cli"], False),
    ("script.py", ["python", "script.py", "-m", "spacefold"], False),
    ("-c", ["python", "-c", "pass", "-m", "spacefold"], False),
    ("-m", ["python", "-W", "ignore", "-m", "spacefold"], True),
    ("-c", ["python", "-c", "import spacefold"], False),
    ("spacefold.py", ["python", "spacefold.py"], False),
])
def test_in_command(monkeypatch: pytest.MonkeyPatch, argv0: str, orig: list[str],
                    expected: bool) -> None:
    monkeypatch.setattr(sys, "argv", [argv0])
    monkeypatch.setattr(sys, "orig_argv", orig)
    assert _threads.in_command() is expected
