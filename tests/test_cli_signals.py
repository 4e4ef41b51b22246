"""A render killed mid-video (issue 13): SIGTERM cleans up like Ctrl-C (exit 143, one line, no
temp file, no encoder left); SIGKILL leaves at most the temp file, which the next run of the
same command removes, and never an encoder."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from fresh_process import fresh_signals

SPACEFOLD = [sys.executable, "-m", "spacefold"]


def _children(pid: int) -> list[int]:
    """Live (not zombie) processes whose parent is ``pid``, from /proc."""
    kids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        if int(fields[1]) == pid and fields[0] != "Z":
            kids.append(int(entry))
    return kids


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2] != "Z"


def _start_render(folder: Path) -> tuple[subprocess.Popen[str], int, Path]:
    """``render fold-222 -o k.mp4`` (1280x720, 30 fps) running until its encoder and its temp
    file exist: (process, encoder pid, temp file)."""
    proc = subprocess.Popen([*SPACEFOLD, "render", "fold-222", "-o", "k.mp4"], cwd=folder,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=fresh_signals)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        temps = list(folder.glob(".k-*.mp4"))
        encoders = _children(proc.pid)
        if temps and encoders:
            time.sleep(0.5)   # a few frames into the video
            return proc, encoders[0], temps[0]
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    proc.kill()
    out, err = proc.communicate()
    pytest.fail(f"the render never started its encoder: {err[-2000:]}")


def _gone(pid: int, within: float = 5.0) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if not _alive(pid):
            return True
        time.sleep(0.05)
    return False


def test_sigterm_cleans_up_and_exits_143(tmp_path: Path) -> None:
    proc, encoder, temp = _start_render(tmp_path)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 143, err
    assert "Traceback" not in err
    assert err.strip().splitlines() == ["error: terminated"]
    assert _gone(encoder), "the encoder outlived its command"
    assert list(tmp_path.iterdir()) == []


def test_sigkill_leaves_no_encoder_and_the_next_run_removes_the_temp(tmp_path: Path) -> None:
    proc, encoder, temp = _start_render(tmp_path)
    proc.kill()
    proc.wait(timeout=60)
    assert _gone(encoder), "the encoder outlived its killed parent"
    left = sorted(p.name for p in tmp_path.iterdir())
    assert left in ([], [temp.name])   # at most the temp file
    # the next run of the same command (smaller, to be quick) removes it and says so
    r = subprocess.run([*SPACEFOLD, "render", "fold-222", "-o", "k.mp4", "--size", "64x36",
                        "--fps", "2"], cwd=tmp_path, capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, r.stderr
    if left:
        assert f"removed 1 temp file left by an earlier run: {temp.name}" in r.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == ["k.mp4"]


def test_sigint_still_exits_130(tmp_path: Path) -> None:
    proc, encoder, _ = _start_render(tmp_path)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert err.strip().splitlines() == ["error: interrupted"]
    assert _gone(encoder)
    assert list(tmp_path.iterdir()) == []


def test_the_encoder_starts_with_no_python_between_fork_and_exec(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No ``preexec_fn``: Python code in the forked child of a threaded process (the server
    renders in a thread) could free objects other threads held and deadlock there (seen: a
    PyAV scaler joining threads the child does not have, the render stuck at frame 0). The
    death signal comes from ``setpriv``, which execs the encoder in the same process."""
    import numpy as np

    from spacefold.render import encode

    seen: list[tuple[list[str], dict]] = []
    real = subprocess.Popen

    def popen(cmd: list[str], **kw: object) -> subprocess.Popen:
        seen.append((list(cmd), dict(kw)))
        return real(cmd, **kw)   # type: ignore[call-overload]

    monkeypatch.setattr(encode.subprocess, "Popen", popen)
    frames = [np.zeros((36, 64, 4), np.uint8)] * 3
    assert encode.write_mp4(tmp_path / "a.mp4", iter(frames), (64, 36), 10) == 3
    (cmd, kw), = [c for c in seen if "libx264" in c[0]]
    assert all(k.get("preexec_fn") is None for _, k in seen)
    if encode._setpriv():
        assert cmd[:4] == [encode._setpriv(), "--pdeathsig", "KILL", "--"]
