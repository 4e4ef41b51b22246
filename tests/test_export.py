"""The interactive HTML export: the payload carries the trace's own numbers, the page is one
self-contained file, and ``spacefold export`` keeps the CLI's one-line errors."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import numpy as np
import pytest

import spacefold as sf
from cli_helpers import assert_one_line_error, run
from spacefold.errors import RenderError
from spacefold.export import BUNDLE, REGION_RES, pack, payload, to_html, unpack, write_html


def _arr(a: dict) -> np.ndarray:
    dt = {"f4": "<f4", "u1": "u1", "i4": "<i4"}[a["dtype"]]
    return np.frombuffer(base64.b64decode(a["b64"]), dtype=dt).reshape(a["shape"])


@pytest.fixture(scope="module")
def tr() -> sf.Trace:
    d = sf.dataset("cloud", n=120)
    net = sf.build("2-3-4-2", activation=["relu", "tanh"], seed=1)
    return sf.trace(net, d, grid=sf.GridSpec(lines=5, verts=9, regions=8))


def test_a_packed_message_is_the_payload_with_its_arrays_in_place(tr: sf.Trace) -> None:
    """The live app's binary form (export.pack): a JSON header whose arrays point into a raw
    blob, each at a multiple of 8 bytes; unpacked, it is the JSON payload exactly."""
    import struct

    msg = {"type": "update", "epoch": 3, "trace": payload(tr, raw=True)}
    blob = pack(msg)
    assert blob[:4] == b"SFB1"
    assert unpack(blob) == {"type": "update", "epoch": 3, "trace": payload(tr)}
    (n,) = struct.unpack_from("<I", blob, 4)
    header = json.loads(blob[8:8 + n])
    base = 8 + n + (-(8 + n) % 8)
    pts = header["trace"]["stages"][2]["points"]
    assert pts["offset"] % 8 == 0 and "b64" not in pts
    raw = np.frombuffer(blob, "<f4", count=pts["nbytes"] // 4, offset=base + pts["offset"])
    np.testing.assert_array_equal(raw.reshape(pts["shape"]), tr.display(2, 3).astype(np.float32))
    with pytest.raises(ValueError, match="not a packed"):
        unpack(b"{}" + blob)
    with pytest.raises(ValueError):
        pack({"loss": float("nan")})


def test_payload_numbers_are_the_traces_display_numbers(tr: sf.Trace) -> None:
    p = json.loads(json.dumps(payload(tr)))          # survives a JSON round trip
    assert p["dims"] == 3 and p["n"] == tr.n and p["widths"] == [2, 3, 4, 2]
    assert [s["name"] for s in p["stages"]] == [s.name for s in tr.stages]
    for k, s in enumerate(p["stages"]):
        np.testing.assert_array_equal(_arr(s["points"]), tr.display(k, 3).astype(np.float32))
        np.testing.assert_array_equal(_arr(s["grid"]), tr.display_grid(k, 3).astype(np.float32))
        assert _arr(s["regions"]).shape == (REGION_RES * REGION_RES, 3)
    wide = p["stages"][[s.dim for s in tr.stages].index(4)]
    assert wide["projection"] == "pca" and "PCA of 4-D" in wide["label"]
    np.testing.assert_array_equal(_arr(p["labels"]), tr.labels)
    w1 = tr.ops[0].params["W"]
    np.testing.assert_allclose(_arr(p["layers"][0]["W"]), w1, rtol=1e-6)
    assert p["layers"][0]["activation"] == "relu"
    # per-neuron heatmaps: layer 1's ReLU units over a raster of the input plane
    units = _arr(p["layers"][0]["units"])
    r = p["layers"][0]["unit_res"]
    x0, x1, y0, y1 = tr.extent
    gx, gy = np.meshgrid(np.linspace(x0, x1, r), np.linspace(y0, y1, r))
    relu = [s.kind for s in tr.stages].index("relu")
    want = tr.carry(np.stack([gx.ravel(), gy.ravel()], axis=1))[relu]
    np.testing.assert_allclose(units, want, rtol=1e-6, atol=1e-6)
    assert units.min() == 0.0 and _arr(p["layers"][2]["units"]).shape == (r * r, 2)


def test_2d_network_is_shown_in_2d() -> None:
    d = sf.dataset("cloud", n=30)
    t = sf.trace(sf.build("2-2-2", activation="relu"), d, grid=sf.GridSpec(lines=3, verts=4,
                                                                           regions=4))
    p = payload(t)
    assert p["dims"] == 2
    np.testing.assert_array_equal(_arr(p["stages"][2]["points"]), t.stages[2].values)


def test_html_is_one_self_contained_page(tr: sf.Trace, tmp_path: Path) -> None:
    page = to_html(tr, title="a </script> <b>title</b>")
    assert "<title>a &lt;/script&gt; &lt;b&gt;title&lt;/b&gt;</title>" in page
    assert BUNDLE.read_text()[:200] in page                       # the bundle is inlined
    assert not re.search(r"<script[^>]*\bsrc=", page)             # nothing to fetch
    data = page.split('<script id="spacefold-data" type="application/json">')[1]
    data = data.split("</script>")[0]
    assert json.loads(data)["title"] == "a </script> <b>title</b>"
    out = write_html(tr, tmp_path / "t.html")
    assert out.read_text() == to_html(tr) and list(tmp_path.iterdir()) == [out]


def test_render_writes_html_from_the_suffix(tr: sf.Trace, tmp_path: Path) -> None:
    out = sf.render(tr, tmp_path / "view.html")
    assert out.suffix == ".html" and "spacefold.mount" in out.read_text()


def test_export_rejects_what_it_cannot_draw(tmp_path: Path) -> None:
    with pytest.raises(RenderError, match="give a Trace"):
        payload("fold-222")  # type: ignore[arg-type]
    with pytest.raises(RenderError, match="does not exist"):
        write_html(sf.trace(sf.build("2-2"), np.zeros((3, 2))), tmp_path / "no" / "x.html")


def test_cli_export_of_a_model(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    ckpt = sf.save(sf.build("2-5-3", "relu", seed=0), tmp_path / "m.safetensors")
    code, out, err = run(capsys, "export", "--model", ckpt, "--data", "gauss", "--classes", 3,
                         "--n", 60, "-o", tmp_path / "m.html")
    assert code == 0, err
    assert "wrote" in out and (tmp_path / "m.html").stat().st_size > 100_000


@pytest.mark.parametrize("argv, names", [
    ([], ["SCENE", "--model"]),
    (["fold-222", "-o", "x.mp4"], ["'.mp4'", ".html"]),
    (["nope", "-o", "x.html"], ["'nope'", "fold-222"]),
    (["affine", "-o", "x.html"], ["'affine'", "fold-222"]),
    (["fold-222", "--n", "5", "-o", "x.html"], ["--n"]),
    (["--model", "missing.safetensors", "-o", "x.html"], ["missing.safetensors"]),
])
def test_cli_export_errors_are_one_line(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch, argv: list[str],
                                        names: list[str]) -> None:
    monkeypatch.chdir(tmp_path)
    if not argv:
        argv = ["-o", "x.html"]
    code, _, err = run(capsys, "export", *argv)
    assert_one_line_error(code, err, *names)
    assert not list(tmp_path.iterdir())
