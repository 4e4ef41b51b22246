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


# -- the linear regions' edges (issue 11) -------------------------------------------------------
def _relu_trace(seed: int, arch: str = "2-8-8-3") -> tuple[object, sf.Trace]:
    d = sf.dataset("spiral", classes=3, n=200, seed=seed)
    net = sf.build(arch, activation="relu", seed=seed)
    return net, sf.trace(net, d, grid=sf.GridSpec(lines=5, verts=9, regions=8))


def _dist(points: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Each point's distance from the nearest segment a[i]-b[i]."""
    ab = b - a
    t = np.clip(((points[:, None] - a[None]) * ab[None]).sum(-1) / (ab ** 2).sum(-1), 0, 1)
    return np.sqrt(((a[None] + t[..., None] * ab[None] - points[:, None]) ** 2).sum(-1)).min(1)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_linear_edges_are_the_pieces_edges_carried_exactly(seed: int) -> None:
    """The payload's edges are the pieces' edges once each (every interior edge of every piece
    is covered, every segment lies on one, and no two overlap), and at every stage each
    segment's midpoint is where the network puts the input segment's midpoint (torch at the
    output): drawn straight, they bend with the plane exactly."""
    import torch

    net, t = _relu_trace(seed)
    p = payload(t, linear_regions=True)
    pieces = t.linear_regions(t.extent)
    info = p["linear"]
    assert info["reason"] == "" and info["pieces"] == len(pieces)
    assert info["edges"] == info["shown"] == len(_arr(p["stages"][0]["edges"])) // 2
    seg = _arr(p["stages"][0]["edges"]).astype(np.float64)[:, :2].reshape(-1, 2, 2)
    span = t.extent[1] - t.extent[0]
    a = np.concatenate([q.polygon for q in pieces])
    b = np.concatenate([np.roll(q.polygon, -1, axis=0) for q in pieces])
    mid = (a + b) / 2
    x0, x1, y0, y1 = t.extent
    inner = (np.abs(mid - [x0, y0]).min(1) > 1e-9) & (np.abs(mid - [x1, y1]).min(1) > 1e-9)
    assert _dist(mid[inner], seg[:, 0], seg[:, 1]).max() < 1e-5 * span
    for f in (0.1, 0.5, 0.9):
        assert _dist(seg[:, 0] + f * (seg[:, 1] - seg[:, 0]), a, b).max() < 1e-5 * span
    length = np.hypot(*(seg[:, 1] - seg[:, 0]).T).sum()
    assert abs(length - np.hypot(*(b - a)[inner].T).sum() / 2) < 1e-6 * length   # once each
    m = seg.mean(axis=1)
    for k, s in enumerate(p["stages"]):
        ends = _arr(s["edges"]).astype(np.float64).reshape(-1, 2, 3)
        want = t.projection(k, 3)(t.carry(m)[k])
        np.testing.assert_allclose(ends.mean(axis=1), want, atol=2e-5 * np.abs(want).max())
    with torch.no_grad():
        out = net(torch.tensor(m, dtype=torch.float32)).numpy()
    np.testing.assert_allclose(ends.mean(axis=1), out, atol=1e-4 * np.abs(out).max())


def test_linear_edges_are_capped_longest_first(monkeypatch: pytest.MonkeyPatch) -> None:
    from spacefold import limits

    _, t = _relu_trace(0)
    full = _arr(payload(t, linear_regions=True)["stages"][0]["edges"])[:, :2].reshape(-1, 2, 2)
    monkeypatch.setattr(limits, "VIEWER_MAX_PIECE_EDGES", 7)
    p = payload(t, linear_regions=True)
    assert p["linear"]["shown"] == 7 and p["linear"]["edges"] == len(full) > 7
    kept = _arr(p["stages"][0]["edges"])[:, :2].reshape(-1, 2, 2)
    lengths = np.sort(np.hypot(*(full[:, 1] - full[:, 0]).T))[::-1]
    np.testing.assert_allclose(np.sort(np.hypot(*(kept[:, 1] - kept[:, 0]).T))[::-1],
                               lengths[:7])
    # more pieces than the budget after a layer: no edges (the next layer could take minutes)
    monkeypatch.setattr(limits, "VIEWER_MAX_PIECES", 3)
    p = payload(t, linear_regions=True)
    assert p["linear"] == {"reason": "linear regions: more than 3 pieces after layer 1, too "
                                     "many to draw"}
    assert "edges" not in p["stages"][0]


def test_linear_edges_say_why_not() -> None:
    """A tanh layer: one line saying which (the activation table's); without the option the
    payload still says why, or that they were skipped; after a softmax head the edges curve,
    so that stage has none."""
    import torch

    d = sf.dataset("spiral", classes=3, n=60, seed=0)
    tanh = sf.trace(sf.build("2-4-4-3", activation="relu,tanh", seed=0), d)
    why = "linear regions need piecewise-linear activations; layer 2 is tanh"
    assert payload(tanh, linear_regions=True)["linear"] == {"reason": why}
    assert payload(tanh)["linear"] == {"reason": why, "skipped": True}
    assert "edges" not in payload(tanh, linear_regions=True)["stages"][0]
    relu = sf.trace(sf.build("2-4-3", activation="relu", seed=0), d)
    assert payload(relu)["linear"] == {"reason": "", "skipped": True}
    head = torch.nn.Sequential(torch.nn.Linear(2, 5), torch.nn.ReLU(), torch.nn.Linear(5, 3),
                               torch.nn.Softmax(dim=1))
    soft = payload(sf.trace(head, d), linear_regions=True)
    assert soft["linear"]["pieces"] >= 1
    assert ["edges" in s for s in soft["stages"]] == [True] * (len(soft["stages"]) - 1) + [False]
    page = to_html(relu)
    assert '"linear":{"reason":"","pieces":' in page
