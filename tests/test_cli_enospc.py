"""A full disk (issue 13): every output kind fails with one line and exit 2, and leaves no file.

The output folder is a real, full tmpfs mounted in a private mount namespace of the command
(``unshare -rm``), so nothing outside the test sees it. Where user namespaces are not allowed,
a file-size limit (RLIMIT_FSIZE, SIGXFSZ ignored) makes the same writes fail with EFBIG.
"""

from __future__ import annotations

import functools
import os
import resource
import shlex
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

import spacefold as sf

SPACEFOLD = [sys.executable, "-m", "spacefold"]


@functools.cache
def _can_unshare() -> bool:
    if shutil.which("unshare") is None:
        return False
    r = subprocess.run(["unshare", "-rm", "sh", "-c",
                        "d=$(mktemp -d) && mount -t tmpfs -o size=64k tmpfs \"$d\" && "
                        "umount \"$d\"; rmdir \"$d\""], capture_output=True, timeout=30)
    return r.returncode == 0


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A checkpoint the render and export cases read (outside the full disk)."""
    d = tmp_path_factory.mktemp("inputs")
    sf.save(sf.build("2-8-2"), d / "m.safetensors",
            meta={"data": {"name": "xor", "params": {"n": 200}}})
    return d


def _run_on_full_disk(folder: Path, args: list[str]) -> tuple[int, str, list[str]]:
    """``spacefold ARGS`` with ``folder`` a full file system: (exit code, stderr, files left
    in ``folder``)."""
    folder.mkdir()
    if _can_unshare():
        cmd = " ".join(shlex.quote(a) for a in [*SPACEFOLD, *args])
        script = (f"mount -t tmpfs -o size=256k tmpfs {shlex.quote(str(folder))} || exit 99; "
                  f"dd if=/dev/zero of={shlex.quote(str(folder / 'fill'))} bs=4k "
                  f">/dev/null 2>&1; cd {shlex.quote(str(folder))} && {cmd}; rc=$?; "
                  f"ls -A {shlex.quote(str(folder))} >&3; exit $rc")
        r = subprocess.run(["unshare", "-rm", "sh", "-c", f"exec 3>{folder}.ls; {script}"],
                           capture_output=True, text=True, timeout=300)
        assert r.returncode != 99, r.stderr
        listed = Path(f"{folder}.ls").read_text().split()
        return r.returncode, r.stderr, sorted(n for n in listed if n != "fill")

    def limit() -> None:   # pragma: no cover - runs in the child
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (2048, 2048))

    r = subprocess.run([*SPACEFOLD, *args], cwd=folder, capture_output=True, text=True,
                       timeout=300, preexec_fn=limit)
    return r.returncode, r.stderr, sorted(os.listdir(folder))


CASES = {
    "train": ["train", "--data", "xor", "--n", "20", "--arch", "2-256-256-2", "--epochs", "1",
              "-o", "m.safetensors"],
    "png": ["render", "fold-222", "--size", "320x180", "-o", "f.png"],
    "gif": ["render", "fold-222", "--size", "64x36", "--fps", "2", "-o", "f.gif"],
    "mp4": ["render", "fold-222", "--size", "320x180", "--fps", "5", "-o", "f.mp4"],
    "npz": ["render", "fold-222", "-o", "f.npz"],
    "html": ["export", "fold-222", "-o", "f.html"],
    "layers-png": ["render", "layers", "--model", "{inputs}/m.safetensors", "--size", "320x180",
                   "-o", "l.png"],
    "model-html": ["export", "--model", "{inputs}/m.safetensors", "-o", "l.html"],
}


@pytest.mark.parametrize("kind", sorted(CASES))
def test_full_disk_is_one_line_exit_2_and_no_file(tmp_path: Path, inputs: Path,
                                                  kind: str) -> None:
    args = [a.replace("{inputs}", str(inputs)) for a in CASES[kind]]
    code, err, left = _run_on_full_disk(tmp_path / "full", args)
    assert code == 2, err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert any(why in lines[0] for why in ("No space left on device", "File too large",
                                           "SIGXFSZ")), lines[0]
    assert left == [], f"left behind: {left}"


@pytest.mark.parametrize("status, message", [
    (0, "[out#0/mp4 @ 0x1] Error writing trailer: No space left on device"),   # exit 0 but
    (1, "Conversion failed!"),                                                  # it failed
    (0, ""),                                                                    # fine
])
def test_encoder_exit_status_and_trailer_error_fail_the_write(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, status: int, message: str) -> None:
    """An encoder that reads every frame, then says its trailer failed (as ffmpeg does on a
    full disk, some versions with exit status 0) or exits non-zero: the MP4 is refused."""
    import imageio_ffmpeg
    import numpy as np

    from spacefold.render import encode

    fake = tmp_path / "ffmpeg"
    out_arg = '"$(eval echo \\${$#})"'   # the last argument: the output path
    fake.write_text(f"#!/bin/sh\ncat > {out_arg}\necho '{message}' >&2\nexit {status}\n")
    fake.chmod(0o755)
    monkeypatch.setattr(imageio_ffmpeg, "get_ffmpeg_exe", lambda: str(fake))
    frames = [np.zeros((16, 16, 4), np.uint8)] * 3
    target = tmp_path / "v.mp4"
    if status == 0 and not message:
        assert encode.write_mp4(target, frames, (16, 16), 5) == 3
        assert target.stat().st_size > 0
        return
    with pytest.raises(sf.SpacefoldError) as e:
        encode.write_mp4(target, frames, (16, 16), 5)
    assert "the video encoder failed" in str(e.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ffmpeg"]
