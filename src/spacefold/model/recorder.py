"""``Recorder``: the user's own training loop, recorded as weight snapshots for a movie.

>>> import torch, spacefold as sf
>>> data = sf.dataset("moons", n=200)
>>> net = torch.nn.Sequential(torch.nn.Linear(2, 8), torch.nn.Tanh(), torch.nn.Linear(8, 2))
>>> rec = sf.Recorder(net, data=data)
>>> opt = torch.optim.SGD(net.parameters(), lr=0.5)
>>> x, y = torch.as_tensor(data.x), torch.as_tensor(data.y)
>>> for epoch in range(20):
...     loss = torch.nn.functional.cross_entropy(net(x), y)
...     opt.zero_grad(); loss.backward(); opt.step()
...     rec.snapshot(epoch, loss=float(loss))
>>> len(rec), rec.spec.arch
(20, '2-8-2')

A snapshot copies the weights of the network's Linear layers (not traces) into one
preallocated array per tensor, so 1,000 snapshots of a 2-100-2-5 network take about 3 MB.
``save`` writes one safetensors file; ``Recorder.load`` reads it back bit-exactly, without
the user's code: the network's spec (Linear widths and activations) is worked out when the
recorder is made, from the module itself, and checked against ``model(x)``.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from spacefold._atomic import atomic_path
from spacefold.data.datasets import Dataset, as_dataset
from spacefold.errors import DataError, SpecError
from spacefold.limits import MAX_EPOCHS, MAX_RECORDING_BYTES
from spacefold.model.network import Network
from spacefold.model.probe import candidates, which
from spacefold.model.probe import head as probed_head
from spacefold.model.recording_checks import recorded_data, whole
from spacefold.model.spec import ArchSpec, Params
from spacefold.model.tensor_files import check_weights, read_safetensors

FORMAT = "spacefold.recording/1"
_PROBE_POINTS = 512


class Recorder:
    """Weight snapshots of ``model`` while the user trains it, and the data it learns.

    ``model``: an ``nn.Module`` whose forward is a chain of Linear layers and activations a
    spec can name (relu, tanh, gelu, ..., none), optionally ending in softmax / sigmoid.
    ``data``: a :class:`Dataset`, a dataset name, or an ``(x, y)`` pair; stored in the file,
    so the movie shows the points the network was trained on.
    ``spec``: the :class:`ArchSpec`, when it cannot be worked out from the module.
    """

    def __init__(self, model: Any, data: Dataset | str | tuple[Any, Any] | None = None, *,
                 spec: ArchSpec | None = None) -> None:
        from torch import nn

        if not isinstance(model, nn.Module):
            raise SpecError(f"Recorder records a torch nn.Module, not a "
                            f"{type(model).__name__}")
        self.model: Any = model
        self.data = None if data is None else as_dataset(data, "Recorder")
        self._linears, self.spec = _layout(model, spec)
        if self.data is not None and self.data.dim != self.spec.widths[0]:
            raise DataError(f"Recorder: model {self.spec.arch} takes {self.spec.widths[0]}-D "
                            f"input but data {self.data.name!r} is {self.data.dim}-D")
        outputs = max(self.spec.widths[-1], 2)              # one output: two classes
        if self.data is not None and int(self.data.y.max(initial=0)) >= outputs:
            raise DataError(f"Recorder: model {self.spec.arch} tells {outputs} classes apart "
                            f"but data {self.data.name!r} has label "
                            f"{int(self.data.y.max())}")
        self._keys = [k for idx, _ in self.spec.module_layout()
                      for k in (f"{idx}.weight", f"{idx}.bias")]
        self.module_keys = {f"{idx}.{p}": f"{name}.{p}".lstrip(".")
                            for (idx, _), (name, _m) in zip(self.spec.module_layout(),
                                                            self._linears, strict=True)
                            for p in ("weight", "bias")}
        self._stacks: dict[str, np.ndarray] = {}
        self._n = 0
        self.epochs: list[int] = []
        self.loss: list[float | None] = []
        self.metrics: list[dict[str, float]] = []
        self.module_name = type(model).__name__

    # -- recording --------------------------------------------------------------------------
    def snapshot(self, epoch: int, loss: float | None = None, **metrics: float) -> None:
        """Copy the current weights, tagged with ``epoch`` (increasing integers, 0 for the
        initial weights if you record them), the training ``loss`` and any other numbers."""
        if self.model is None:
            raise SpecError("this recording was loaded from a file; it has no model to "
                            "snapshot")
        if isinstance(epoch, bool) or not isinstance(epoch, (int, np.integer)) or \
                not 0 <= epoch <= MAX_EPOCHS:
            raise SpecError(f"snapshot epoch {epoch!r} must be an integer in 0-{MAX_EPOCHS}")
        if self.epochs and epoch <= self.epochs[-1]:
            raise SpecError(f"snapshot epoch {epoch} must come after the last one "
                            f"({self.epochs[-1]})")
        vals = {"loss": loss, **metrics}
        for k, v in vals.items():
            if v is not None and not (isinstance(v, (int, float, np.floating, np.integer))
                                      and not isinstance(v, bool)):
                raise SpecError(f"snapshot {k}={v!r} must be a number")
            if v is not None and not math.isfinite(float(v)):
                raise SpecError(f"snapshot {k}={v!r} at epoch {epoch} is not finite (did the "
                                f"training diverge?)")
        arrays = self._weights()
        bad = [k for k, a in arrays.items() if not np.isfinite(a).all()]
        if bad:
            raise SpecError(f"snapshot at epoch {epoch}: weights {', '.join(bad)} hold NaN or "
                            f"infinite values (did the training diverge?)")
        if not self._stacks:
            self._stacks = {k: np.empty((16, *a.shape), a.dtype) for k, a in arrays.items()}
        if self._n == len(next(iter(self._stacks.values()))):
            need = 2 * self._n * sum(a.nbytes for a in arrays.values())
            if need > MAX_RECORDING_BYTES:
                raise SpecError(f"the recording is full: {self._n} snapshots; keep one every "
                                f"few epochs (at most {MAX_RECORDING_BYTES >> 20} MiB of weights)")
            self._stacks = {k: np.concatenate([s, np.empty_like(s)]) for k, s in
                            self._stacks.items()}
        for k, a in arrays.items():
            self._stacks[k][self._n] = a
        self._n += 1
        self.epochs.append(int(epoch))
        self.loss.append(None if loss is None else float(loss))
        self.metrics.append({k: float(v) for k, v in metrics.items()})

    def _weights(self) -> dict[str, np.ndarray]:
        out: dict[str, np.ndarray] = {}
        for (idx, _), (_name, m) in zip(self.spec.module_layout(), self._linears, strict=True):
            w = m.weight.detach().cpu()
            out[f"{idx}.weight"] = w.numpy()
            out[f"{idx}.bias"] = (m.bias.detach().cpu().numpy() if m.bias is not None
                                  else np.zeros(w.shape[0], w.numpy().dtype))
        return out

    # -- reading ----------------------------------------------------------------------------
    def __len__(self) -> int:
        return self._n

    @property
    def nbytes(self) -> int:
        """Bytes held by the weight stacks (grown by doubling)."""
        return sum(s.nbytes for s in self._stacks.values())

    def weights(self, key: str) -> np.ndarray:
        """(S, ...) the stacked snapshots of one tensor ("0.weight", "0.bias", ...)."""
        return self._stacks[key][:self._n]

    def network(self, i: int) -> Network:
        """Snapshot ``i`` (negative counts from the end) as a torch-free :class:`Network`."""
        if not -self._n <= i < self._n:
            raise SpecError(f"snapshot {i} out of range; the recording has {self._n}")
        i %= self._n
        return Network(self.spec, {k: self._stacks[k][i] for k in self._keys},
                       {"epoch": self.epochs[i]})

    def state_dict(self, i: int) -> dict[str, Any]:
        """Snapshot ``i`` under the module's own key names, for ``load_state_dict``."""
        import torch

        net = self.network(i)
        return {self.module_keys[k]: torch.from_numpy(np.array(v)) for k, v in
                net.params.items()}

    # -- files ------------------------------------------------------------------------------
    def save(self, path: str | os.PathLike[str]) -> Path:
        """One safetensors file: stacked weights, the data, and in its metadata the spec,
        the module's key layout, the data recipe, the epochs and the metrics. Atomic."""
        from safetensors.numpy import save as to_bytes

        if self._n == 0:
            raise SpecError("the recording is empty; call snapshot() in your training loop")
        tensors = {f"snapshots.{k}": np.ascontiguousarray(self.weights(k)) for k in self._keys}
        tensors["epochs"] = np.asarray(self.epochs, dtype=np.int64)
        if self.data is not None:
            tensors["data.x"] = np.ascontiguousarray(self.data.x)
            tensors["data.y"] = np.ascontiguousarray(self.data.y)
        header = {"format": FORMAT, "spec": self.spec.to_dict(), "module": self.module_name,
                  "module_keys": self.module_keys, "data": _recipe(self.data),
                  "epochs": self.epochs, "loss": self.loss, "metrics": self.metrics}
        p = Path(path)
        blob = to_bytes(tensors, metadata={"spacefold.recording": json.dumps(header)})
        with atomic_path(p) as tmp, open(tmp, "wb") as f:
            f.write(blob)
            f.flush()
            os.fsync(f.fileno())
        return p

    @staticmethod
    def load(path: str | os.PathLike[str]) -> Recorder:
        """A recording written by :meth:`save` (no code is run; no model is needed)."""
        p = Path(path)
        if not p.is_file():
            raise SpecError(f"recording {str(p)!r} does not exist")
        arrays, md = read_safetensors(p, f"recording {str(p)!r} is not a safetensors file")
        if "spacefold.recording" not in md:
            raise SpecError(f"{str(p)!r} is not a spacefold recording (a file written by "
                            f"Recorder.save or `spacefold train --record`)")
        try:
            h = json.loads(md["spacefold.recording"])
            spec = ArchSpec.from_dict(h["spec"])
            epochs = [whole(e) for e in h["epochs"]]
            loss = [None if v is None else float(v) for v in h["loss"]]
            metrics = [{str(k): float(v) for k, v in m.items()} for m in h["metrics"]]
            module_keys = {str(k): str(v) for k, v in h["module_keys"].items()}
            recipe = h.get("data")
        except (KeyError, TypeError, ValueError, AttributeError, RecursionError,
                OverflowError) as e:
            why = "nested too deeply" if isinstance(e, RecursionError) else e
            raise SpecError(f"recording {str(p)!r} has bad metadata: {why}") from None
        where = f"recording {str(p)!r}"
        if any(b <= a for a, b in zip(epochs, epochs[1:], strict=False)) or \
                any(not 0 <= e <= MAX_EPOCHS for e in epochs):
            raise SpecError(f"{where}: its epochs must increase, each in 0-{MAX_EPOCHS}")
        if not all(math.isfinite(v) for v in loss if v is not None) or \
                not all(math.isfinite(v) for m in metrics for v in m.values()):
            raise SpecError(f"{where}: its losses and metrics must be finite numbers")
        rec = Recorder.__new__(Recorder)
        rec.model = None
        rec.spec = spec
        rec._linears = []
        rec._keys = [k for idx, _ in spec.module_layout() for k in (f"{idx}.weight",
                                                                     f"{idx}.bias")]
        rec.module_keys = module_keys
        rec.module_name = str(h.get("module", ""))
        rec.epochs, rec.loss, rec.metrics = epochs, loss, metrics
        n = len(epochs)
        if not (len(loss) == len(metrics) == n) or \
                any(arrays.get(f"snapshots.{k}") is None or len(arrays[f"snapshots.{k}"]) != n
                    for k in rec._keys):
            raise SpecError(f"recording {str(p)!r} is inconsistent: {n} epochs but other "
                            f"counts of weights or metrics")
        rec._stacks = {k: arrays[f"snapshots.{k}"] for k in rec._keys}
        check_weights(rec._stacks, where, kinds="f")
        rec._n = n
        rec.data = recorded_data(arrays, recipe, spec.widths[0], where)
        rec.network(0)                           # the shapes must fit the spec
        return rec

    def describe(self) -> str:
        """``"2-100-2-5 (relu, identity) on spiral"``, ``"2-5-1 (relu, then sigmoid)"``: for
        headings and captions."""
        acts = ", ".join(self.spec.activation_texts)
        if self.spec.head:
            acts = f"{acts}, then {self.spec.head}" if acts else self.spec.head
        bits = self.spec.arch + (f" ({acts})" if acts else "")
        return bits + (f" on {self.data.name}" if self.data is not None else "")


# -- the module's layout ---------------------------------------------------------------------
def _layout(model: Any, spec: ArchSpec | None) -> tuple[list[tuple[str, Any]], ArchSpec]:
    """The Linear layers in the order forward calls them, and the spec of the whole chain.

    Each activation is identified by running the module with one Linear's output replaced
    by probe values from -30 to 30 and reading what the next Linear receives; it must also
    fit what it received on ordinary input points."""
    import torch
    from torch import nn

    mname = type(model).__name__
    names = {m: n for n, m in model.named_modules() if isinstance(m, nn.Linear)}
    if not names:
        raise SpecError(f"{mname} has no Linear layers to record")
    _only_linear_weights(model, names, mname)
    first = next(iter(names))
    d_in = first.in_features
    gen = torch.Generator().manual_seed(0)
    x = ((torch.rand(_PROBE_POINTS, d_in, generator=gen) * 2 - 1) * 4).to(first.weight.dtype)

    def run(replace: Any = None, values: Any = None) -> tuple[list[tuple[Any, Any, Any]], Any]:
        calls: list[tuple[Any, Any, Any]] = []

        def hook(mod: Any, inp: Any, out: Any) -> Any:
            if mod is replace:
                out = values.to(out.dtype)
            calls.append((mod, inp[0].detach(), out.detach()))
            return out if mod is replace else None

        hooks = [m.register_forward_hook(hook) for m in names]
        was = model.training
        model.eval()
        try:
            with torch.no_grad():
                y = model(x)
        except Exception as e:  # noqa: BLE001 - the user's forward may raise anything
            raise SpecError(f"Recorder: {mname}({d_in}-D points) failed: "
                            f"{type(e).__name__}: {e}") from None
        finally:
            for hk in hooks:
                hk.remove()
            model.train(was)
        return calls, y

    calls, y = run()
    order = [c[0] for c in calls]
    if not calls or len(set(map(id, order))) != len(order) or not torch.equal(calls[0][1], x):
        raise SpecError(f"Recorder: {mname}.forward is not a chain of Linear layers (a layer "
                        f"is used twice, or the input is changed first)")
    linears = [(names[m], m) for m in order]
    if spec is not None:
        _check_widths(spec, order)
        return linears, spec

    def probe(width: int) -> Any:
        ramp = torch.linspace(-30.0, 30.0, _PROBE_POINTS)[:, None]
        return ramp + torch.linspace(0.0, 0.37, width)[None, :]     # a few values per unit

    acts: list[tuple[str, Params]] = []
    tried = candidates(model)
    for i in range(len(order) - 1):
        values = probe(order[i].out_features)
        probed, _ = run(order[i], values)
        nxt = next(c[1] for c in probed if c[0] is order[i + 1])
        acts.append(which([(values, nxt), (calls[i][2], calls[i + 1][1])], mname, i + 1,
                          tried))
    values = probe(order[-1].out_features)
    _, y_probe = run(order[-1], values)
    head = probed_head([(values, y_probe), (calls[-1][2], y)], mname)
    widths = [order[0].in_features, *(m.out_features for m in order)]
    spec = ArchSpec.parse("-".join(map(str, widths)), [a for a, _ in acts], head)
    return linears, ArchSpec(spec.widths, spec.activations, spec.head, tuple(p for _, p in acts))


def _only_linear_weights(model: Any, linears: Mapping[Any, str], mname: str) -> None:
    """A snapshot copies the Linear layers only: any other parameter or buffer (BatchNorm's
    statistics, a LayerNorm's γ, PReLU's slope, a learned scale) would stay as it was when
    the recorder was made, and the movie would show another network than the one trained."""
    own = {f"{n}.{k}".lstrip(".") for m, n in linears.items()
           for k, _ in (*m.named_parameters(recurse=False), *m.named_buffers(recurse=False))}
    other = [k for k, _ in (*model.named_parameters(), *model.named_buffers()) if k not in own]
    if other:
        shown = ", ".join(other[:4]) + (", ..." if len(other) > 4 else "")
        raise SpecError(f"Recorder: {mname} has weights outside its Linear layers ({shown}); "
                        f"a recording keeps only Linear weights and activations a spec can "
                        f"name, so it would show another network than the one trained")


def _check_widths(spec: ArchSpec, order: Sequence[Any]) -> None:
    widths = [order[0].in_features, *(m.out_features for m in order)]
    if tuple(widths) != spec.widths:
        raise SpecError(f"Recorder: spec {spec.arch} does not match the module's Linear "
                        f"widths {'-'.join(map(str, widths))}")


def _recipe(data: Dataset | None) -> dict[str, Any] | None:
    if data is None:
        return None
    params: Mapping[str, Any] = {k: v for k, v in data.params.items()
                                 if isinstance(v, (int, float, str, bool)) and
                                 not (isinstance(v, float) and not math.isfinite(v))}
    return {"name": data.name, "classes": data.classes, "params": dict(params),
            "n": len(data)}
