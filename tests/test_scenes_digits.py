"""The ``digits`` and ``training`` scenes: the numbers behind the pictures (checked against the
torch models), the MNIST IDX loader, and tiny renders that decode.

Networks come from the zoo's per-process cache, so each trains once per test session.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch

from spacefold.data.datasets import dataset
from spacefold.data.mnist import bundled_digits, load_mnist
from spacefold.errors import DataError
from spacefold.render.frame import Space
from spacefold.render.timeline import Timeline
from spacefold.scenes import build_scene, render
from spacefold.scenes.training import Snapshots, cross_entropy
from spacefold.scenes.zoo import digits_net, spiral_snapshots
from spacefold.trace.analysis import raster as plane_raster


@pytest.fixture(scope="module", autouse=True)
def one_blas_thread() -> Iterator[None]:
    """OpenBLAS threads spin against each other on a loaded 2-core machine; one is faster."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        yield


@pytest.fixture(scope="module")
def digits_tl() -> Timeline:
    return build_scene("digits")


@pytest.fixture(scope="module")
def training_tl() -> Timeline:
    return build_scene("training")


# -- digits ----------------------------------------------------------------------------------

def test_digits_network_generalises_through_two_units(digits_tl: Timeline) -> None:
    net, train_set, test_set, hist = digits_net()
    model = net.to_torch()
    widths = [m.out_features for m in model if isinstance(m, torch.nn.Linear)]
    assert widths == [128, 64, 2, 10] and len(test_set) == 400
    acc = digits_tl.meta["test_accuracy"]
    assert acc >= 0.90, f"held-out accuracy {acc:.3f} with a 2-unit bottleneck"
    # the number on screen is torch's own verdict on the held-out images
    with torch.no_grad():
        pred = model(torch.as_tensor(test_set.x)).argmax(1).numpy()
    assert acc == pytest.approx(float((pred == test_set.y).mean()))
    assert acc == pytest.approx(hist.test_accuracy[-1])
    assert digits_tl.meta["accuracy"] > acc            # train accuracy, reported separately
    tr = digits_tl.meta["trace"]
    assert tr.stages[digits_tl.meta["bottleneck_stage"]].dim == 2


def test_bottleneck_regions_are_the_last_layers_argmax(digits_tl: Timeline) -> None:
    model = digits_net()[0].to_torch().double()
    tail = model[-1]                                   # Linear(2, 10): all that follows h
    assert isinstance(tail, torch.nn.Linear) and tail.in_features == 2
    # the regions are the exact map of the plane h at the panel's own pixels
    tr, kb = digits_tl.meta["trace"], digits_tl.meta["bottleneck_stage"]
    regions = digits_tl.meta["regions"]
    assert regions.trace is tr and regions.start == kb
    ext = digits_tl.meta["regions_extent"]
    nx, ny = 1203, 637                                 # the panel at 1280×720
    labels = tr.region_map(ext, (nx, ny), start=kb)
    h = plane_raster(ext, nx, ny)
    with torch.no_grad():
        out = tail(torch.as_tensor(h)).numpy()
    top = np.sort(out, axis=1)
    sure = (top[:, -1] - top[:, -2]) > 1e-9
    np.testing.assert_array_equal(labels.ravel()[sure], out.argmax(1)[sure])
    poster = digits_tl.poster().panels[0][1]
    assert isinstance(poster, Space) and poster.regions is not None
    painted = poster.regions.paint(ext, (nx, ny))      # what the backend draws
    np.testing.assert_array_equal(painted, regions.paint(ext, (nx, ny), regions.alpha))
    # each drawn boundary edge separates its two classes: step off its midpoint either way
    bounds = digits_tl.meta["boundaries"]
    assert len(bounds) >= 9                            # 10 regions need at least 9 edges
    for b in bounds:
        mid = (b.start + b.end) / 2
        step = 1e-4 * b.normal / np.linalg.norm(b.normal) * max(1.0, float(np.abs(mid).max()))
        with torch.no_grad():
            sides = tail(torch.as_tensor(np.stack([mid + step, mid - step]))).argmax(1)
        assert sides.tolist() == [b.k, b.j]


def test_thumbnails_are_held_out_digits_that_do_not_overlap(digits_tl: Timeline) -> None:
    pick = digits_tl.meta["thumbnails"]
    n_train = len(digits_net()[1])
    assert len(pick) >= 20 and (pick >= n_train).all()
    poster = digits_tl.poster().panels[0][1]
    assert isinstance(poster, Space) and len(poster.thumbnails) == len(pick)
    boxes = np.array([im.extent for im in poster.thumbnails])       # (T, 4)
    for i in range(len(boxes)):
        for j in range(i + 1, len(boxes)):
            apart_x = boxes[i, 1] <= boxes[j, 0] or boxes[j, 1] <= boxes[i, 0]
            apart_y = boxes[i, 3] <= boxes[j, 2] or boxes[j, 3] <= boxes[i, 2]
            assert apart_x or apart_y, f"thumbnails {i} and {j} overlap"


def test_bundled_digits_equal_the_registered_dataset() -> None:
    fast, ref = bundled_digits(), dataset("digits")     # the file read directly vs sklearn
    assert ref.images is not None and fast.images is not None
    for a, b in [(fast.x, ref.x), (fast.y, ref.y), (fast.images, ref.images)]:
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)
    assert (fast.name, fast.classes, fast.params) == (ref.name, ref.classes, ref.params)


# -- MNIST IDX files -------------------------------------------------------------------------

def write_idx(path: Path, array: np.ndarray, magic: int, gz: bool = False) -> Path:
    head = magic.to_bytes(4, "big") + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    data = head + array.astype(np.uint8).tobytes()
    if gz:
        path = path.with_name(path.name + ".gz")
        path.write_bytes(gzip.compress(data))
    else:
        path.write_bytes(data)
    return path


def mnist_folder(root: Path, n: int, gz: bool = False, seed: int = 0) -> Path:
    """A tiny MNIST-format folder: class c is a bright bar in row band c (learnable)."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, n)
    images = rng.integers(0, 40, (n, 28, 28))
    for i, c in enumerate(labels):
        images[i, 2 + 2 * c:4 + 2 * c, 4:24] = 255
    root.mkdir(exist_ok=True)
    write_idx(root / "train-images-idx3-ubyte", images, 2051, gz)
    write_idx(root / "train-labels-idx1-ubyte", labels, 2049, gz)
    return root


@pytest.mark.parametrize("gz", [False, True])
def test_load_mnist_reads_idx_files(tmp_path: Path, gz: bool) -> None:
    folder = mnist_folder(tmp_path / "m", 7, gz)
    d = load_mnist(folder)
    assert d.x.shape == (7, 784) and d.images is not None and d.images.shape == (7, 28, 28)
    assert d.x.dtype == np.float32 and 0.0 <= d.x.min() and d.x.max() == 1.0
    raw = np.frombuffer(gzip.decompress((folder / "train-images-idx3-ubyte.gz").read_bytes())
                        if gz else (folder / "train-images-idx3-ubyte").read_bytes(),
                        np.uint8, offset=16).reshape(7, 28, 28)
    np.testing.assert_allclose(d.images, raw / 255.0, atol=1e-7)
    np.testing.assert_array_equal(d.x, d.images.reshape(7, -1))
    assert d.classes == 10 and d.y.dtype == np.int64
    assert len(load_mnist(folder, n=3)) == 3


def test_load_mnist_rejects_bad_files(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="does not exist"):
        load_mnist(tmp_path / "nowhere")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(DataError, match="no MNIST train images"):
        load_mnist(empty)
    folder = mnist_folder(tmp_path / "m", 5)
    img = folder / "train-images-idx3-ubyte"
    good = img.read_bytes()
    img.write_bytes(good[:-10])                                      # truncated
    with pytest.raises(DataError, match="truncated or corrupt"):
        load_mnist(folder)
    img.write_bytes((2049).to_bytes(4, "big") + good[4:])            # a labels magic
    with pytest.raises(DataError, match="magic number 2049"):
        load_mnist(folder)
    img.write_bytes(good)
    write_idx(folder / "train-labels-idx1-ubyte", np.zeros(4), 2049)  # 5 images, 4 labels
    with pytest.raises(DataError, match="5 images but 4 labels"):
        load_mnist(folder)
    write_idx(folder / "train-labels-idx1-ubyte", np.full(5, 12), 2049)
    with pytest.raises(DataError, match="digits 0-9"):
        load_mnist(folder)
    img.unlink()
    (folder / "train-images-idx3-ubyte.gz").write_bytes(b"not gzip at all")
    with pytest.raises(DataError, match="not a valid gzip file"):
        load_mnist(folder)
    with pytest.raises(DataError, match="split 'test'"):
        load_mnist(folder, kind="test")


def test_digits_scene_reads_an_mnist_folder(tmp_path: Path) -> None:
    folder = mnist_folder(tmp_path / "m", 240)
    tl = build_scene("digits", mnist=str(folder))
    tr = tl.meta["trace"]
    assert tr.stages[0].dim == 784 and tr.meta["arch"] == "784-128-64-2-10"
    assert 0.0 <= tl.meta["test_accuracy"] <= 1.0
    out = render(tl, tmp_path / "mnist.png", size=(192, 108), still="poster")
    assert out.stat().st_size > 0


# -- training --------------------------------------------------------------------------------

def test_training_snapshots_learn(training_tl: Timeline) -> None:
    sn: Snapshots = training_tl.meta["snapshots"]
    assert sn.epochs[0] == 0 and len(sn.epochs) >= 30
    assert np.all(np.diff(sn.epochs) > 0)
    thirds = np.array_split(sn.loss, 3)
    assert thirds[0].mean() > thirds[1].mean() > thirds[2].mean()   # down overall
    assert sn.loss[-1] < 0.05 * sn.loss[0]
    assert sn.accuracy[-1] >= 0.99 and sn.accuracy[0] < 0.5
    # the numbers on screen are the training's own: the loss the optimiser saw at that epoch
    hist = spiral_snapshots()[3]
    for e, loss in zip(sn.epochs[:-1], sn.loss[:-1], strict=True):
        assert loss == pytest.approx(hist.loss[e], rel=1e-4)


def test_training_frames_show_the_snapshots(training_tl: Timeline) -> None:
    sn: Snapshots = training_tl.meta["snapshots"]
    model, data, snaps, _ = spiral_snapshots()
    last = training_tl.poster()
    left, right = last.panels[0][1], last.panels[1][1]
    assert isinstance(left, Space) and isinstance(right, Space) and right.points is not None
    np.testing.assert_allclose(right.points, sn.traces[-1].stages[sn.kb].values, atol=1e-6)
    # the final weights are the trained model, and the trace's output is that model's
    oracle = model.to_torch().double().eval()
    with torch.no_grad():
        out = oracle(torch.as_tensor(data.x, dtype=torch.float64)).numpy()
    np.testing.assert_allclose(sn.traces[-1].output, out, atol=1e-5)
    assert cross_entropy(out, data.y) == pytest.approx(sn.loss[-1], rel=1e-6)
    assert left.regions is not None and right.regions is not None


# -- renders ---------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["digits", "training"])
def test_scene_renders_tiny(tmp_path: Path, name: str,
                            digits_tl: Timeline, training_tl: Timeline) -> None:
    import av
    from PIL import Image

    tl = digits_tl if name == "digits" else training_tl
    assert 10.0 <= tl.duration <= 20.0 and tl.meta["caption"]
    mp4 = render(name, tmp_path / f"{name}.mp4", size=(192, 108), fps=4)
    png = render(name, tmp_path / f"{name}.png", size=(192, 108))   # a still: no fps
    with av.open(str(mp4)) as c:
        s = c.streams.video[0]
        frames = sum(1 for _ in c.decode(s))
        assert (s.codec_context.width, s.codec_context.height) == (192, 108)
    assert frames == tl.n_frames(4)
    with Image.open(png) as im:
        assert im.size[0] >= 192 and im.size[1] >= 108
