"""Torch models → trace ops: the only place torch meets the trace.

Any module is traced with ``torch.fx`` into a graph, and the graph is read node by node in its
topological order. Supported: ``Linear`` (and ``F.linear`` with the module's parameters),
``BatchNorm1d`` (running statistics), ``LayerNorm`` / ``RMSNorm`` / ``GroupNorm`` over the units,
every activation of the one table (:mod:`spacefold.model.activations`) as module, function or
method, sums of two branches (``x + f(x)``) and ``torch.cat`` over the units; ``Dropout``,
``AlphaDropout``, ``Identity`` and ``Flatten`` are skipped (eval mode), and so are casts and
reshapes that keep the numbers (:mod:`~spacefold.trace.torch_noops`). Anything else is one
line naming the operation and the node.
"""

from __future__ import annotations

import operator
from typing import Any

import torch
from torch import fx, nn

from spacefold.errors import TraceError
from spacefold.model.activations import ACTIVATIONS, NEUTRAL_ARGS, Activation
from spacefold.model.torch_build import resolve
from spacefold.trace.chain import Chain
from spacefold.trace.ops import Op
from spacefold.trace.torch_noops import clamp_as, passthrough
from spacefold.trace.torch_state import check_state

# identities in eval mode on (N, D) input
_SKIP: tuple[type[nn.Module], ...] = (nn.Dropout, nn.Dropout1d, nn.AlphaDropout,
                                      nn.FeatureAlphaDropout, nn.Identity, nn.Flatten)
_SKIP_FUNCTIONS = (nn.functional.dropout, nn.functional.alpha_dropout,
                   nn.functional.feature_alpha_dropout, nn.functional.dropout1d)
_ADD = (operator.add, torch.add)
_CAT = (torch.cat, torch.concat, torch.concatenate)
SUPPORTED = ("Linear, BatchNorm1d, LayerNorm, RMSNorm, GroupNorm, x + f(x), torch.cat, "
             "Dropout/Identity/Flatten, float casts and reshapes to (N, D) (skipped), "
             "clamp and the activations "
             + ", ".join(a.label for a in ACTIVATIONS.values() if a.name != "identity"))


def _table() -> tuple[dict[type, Activation], dict[Any, tuple[Activation, tuple[str, ...]]],
                      dict[str, tuple[Activation, tuple[str, ...]]]]:
    """The table's torch forms, resolved: module class → entry, function → (entry, arg names),
    method name → (entry, arg names)."""
    mods: dict[type, Activation] = {}
    fns: dict[Any, tuple[Activation, tuple[str, ...]]] = {}
    meths: dict[str, tuple[Activation, tuple[str, ...]]] = {}
    for a in ACTIVATIONS.values():
        for m in a.modules:
            mods[resolve(m)] = a
        for f in a.functions:
            fns[resolve(f.name)] = (a, f.args)
        for f in a.methods:
            meths[f.name] = (a, f.args)
    return mods, fns, meths


MODULES, FUNCTIONS, METHODS = _table()


def table_entry(m: nn.Module) -> Activation | None:
    """The table's activation for module ``m`` (subclasses too: ReLU6 before Hardtanh)."""
    for cls in type(m).__mro__:
        if cls in MODULES:
            return MODULES[cls]
    return None


def module_params(a: Activation, m: nn.Module) -> dict[str, Any]:
    """The value-changing parameters of activation module ``m`` (torch's attribute names)."""
    out: dict[str, Any] = {}
    for k in a.params:
        v = getattr(m, k)
        out[k] = v.detach().cpu().double().numpy() if isinstance(v, torch.Tensor) else v
    return out


class _Tracer(fx.Tracer):
    """torch.nn leaves as usual, plus every module of the activation table (spacefold's Sine);
    nn.Sequential and user modules are inlined, so their children keep qualified names."""

    def is_leaf_module(self, m: nn.Module, module_qualified_name: str) -> bool:
        if type(m) is nn.Sequential:
            return False
        return table_entry(m) is not None or super().is_leaf_module(m, module_qualified_name)


def decompose_torch(model: nn.Module, d_in: int) -> list[Op]:
    """A torch model → the ordered list of ops (a graph: each op names its parent stages)."""
    if not isinstance(model, nn.Module):
        raise TraceError(f"model must be an nn.Module or a spacefold Network, got "
                         f"{type(model).__name__}")
    name = type(model).__name__
    root: nn.Module = model
    prefix = ""
    if _Tracer().is_leaf_module(model, ""):         # a bare nn.Linear / nn.ReLU / ...
        root, prefix = nn.Sequential(model), "0"
    check_state(model, name)
    graph = _graph(root, name)
    return _Reader(root, graph, name, prefix, d_in).read()


def _graph(root: nn.Module, name: str) -> fx.Graph:
    try:
        graph = _Tracer().trace(root)
    except Exception as e:  # noqa: BLE001 - fx raises many kinds; all mean "cannot trace"
        raise TraceError(f"cannot trace {name}.forward with torch.fx: {_why(e)}") from None
    return graph


def _why(e: BaseException) -> str:
    """One line: what stopped fx and where in the user's code."""
    msg = (str(e).strip().splitlines() or [type(e).__name__])[0]
    if "control flow" in msg:
        msg = "data-dependent control flow (an if/while on a tensor's value)"
    else:
        msg = f"{type(e).__name__}: {msg}"
    tb, where = e.__traceback__, ""
    while tb is not None:
        f = tb.tb_frame.f_code.co_filename
        if "/torch/" not in f and "spacefold/trace" not in f:
            where = f" at {f.rsplit('/', 1)[-1]}:{tb.tb_lineno}"
        tb = tb.tb_next
    return msg + where + "; spacefold traces forwards whose operations do not depend on the data"


class _Reader:
    """Reads an fx graph node by node into a :class:`Chain`."""

    def __init__(self, root: nn.Module, graph: fx.Graph, name: str, prefix: str,
                 d_in: int) -> None:
        self.root, self.graph, self.name, self.prefix = root, graph, name, prefix
        self.chain = Chain(d_in)
        self.env: dict[fx.Node, Any] = {}       # node → stage index, or a tensor (get_attr)

    def source(self, node: fx.Node) -> str:
        if node.op == "call_module":
            t = str(node.target)
            if self.prefix:                     # the model was one bare module
                return t[len(self.prefix) + 1:] if t.startswith(self.prefix + ".") else ""
            return t
        return node.name

    def where(self, node: fx.Node) -> str:
        return f"in {self.name}.forward (node {node.name!r})"

    def refuse(self, what: str, node: fx.Node, hint: str = "") -> TraceError:
        return TraceError(f"{what} {self.where(node)}; " + (hint or f"supported: {SUPPORTED}"))

    def read(self) -> list[Op]:
        out: Any = None
        placeholders = [n for n in self.graph.nodes if n.op == "placeholder"]
        if len(placeholders) != 1:
            names = ", ".join(n.name for n in placeholders)
            raise TraceError(f"{self.name}.forward takes {len(placeholders)} inputs ({names}); "
                             f"spacefold traces models of one input tensor (N, D)")
        needed = _needed(self.graph)
        for node in self.graph.nodes:
            if node not in needed:           # computed but never used: not a stage
                continue
            if node.op == "placeholder":
                self.env[node] = 0
            elif node.op == "get_attr":
                self.env[node] = _attr(self.root, str(node.target))
            elif node.op == "output":
                out = node.args[0]
            else:
                self.env[node] = self.node(node)
        if not isinstance(out, fx.Node) or not isinstance(self.env.get(out), int):
            raise TraceError(f"{self.name}.forward must return one tensor, got "
                             f"{type(out).__name__}")
        if not self.chain.ops:
            raise TraceError(f"{self.name} has no layers to trace")
        if self.env[out] != self.chain.last:
            raise TraceError(f"{self.name}.forward returns stage {self.env[out]} but computes "
                             f"{self.chain.last} stages")
        return self.chain.ops

    def stage(self, node: fx.Node, arg: Any) -> int:
        """The stage index an argument stands for (it must be a traced tensor)."""
        v = self.env.get(arg) if isinstance(arg, fx.Node) else None
        if not isinstance(v, int):
            raise self.refuse(f"operation {_fn_name(node)} with a constant or parameter input "
                              f"{arg!r}", node)
        return v

    def inplace_ok(self, node: fx.Node, inplace: Any) -> None:
        """An in-place activation is the same maths unless its input is read again."""
        arg = node.args[0]
        if inplace and isinstance(arg, fx.Node) and len(arg.users) > 1:
            raise self.refuse(f"in-place operation {_fn_name(node)} (it overwrites "
                              f"{arg.name!r}, which is read again)", node,
                              "use inplace=False")

    # -- one node ------------------------------------------------------------------------------
    def node(self, node: fx.Node) -> Any:
        if node.op == "call_module":
            return self.module(node)
        same = passthrough(node, self.env, self.chain.dims)   # x.float(), .view(N, D), ...
        if same is not None:
            return same
        if (clamp := clamp_as(node)) is not None:
            return self.chain.activation(*clamp, self.source(node),
                                         at=self.stage(node, node.args[0]))
        target = node.target
        if node.op == "call_method":
            mname = str(target)
            if mname in METHODS:
                a, names = METHODS[mname]
                return self.activation(node, a, names)
            if mname == "add" and len(node.args) == 2 and not node.kwargs:
                return self.chain.add([self.stage(node, x) for x in node.args],
                                      self.source(node))
            if mname.endswith("_") and not mname.endswith("__"):
                raise self.refuse(f"in-place operation .{mname}()", node,
                                  f"use the out-of-place .{mname[:-1]}()")
            raise self.refuse(f"unsupported operation .{mname}()", node)
        if target in _SKIP_FUNCTIONS:
            return self.stage(node, node.args[0])
        if target in FUNCTIONS:
            a, names = FUNCTIONS[target]
            return self.activation(node, a, names)
        if target in _ADD:
            if len(node.args) != 2 or node.kwargs:
                raise self.refuse(f"operation {_fn_name(node)} with alpha/out arguments", node)
            return self.chain.add([self.stage(node, x) for x in node.args], self.source(node))
        if target in _CAT:
            return self.concat(node)
        if target is nn.functional.linear:
            return self.functional_linear(node)
        fname = _fn_name(node)
        if fname.endswith("_") and not fname.endswith("__"):
            raise self.refuse(f"in-place operation {fname}", node)
        raise self.refuse(f"unsupported operation {fname}", node)

    def activation(self, node: fx.Node, a: Activation, names: tuple[str, ...]) -> int:
        args = list(node.args[1:])
        if len(args) > len(names) or any(k not in names for k in node.kwargs):
            raise self.refuse(f"{_fn_name(node)} with arguments {tuple(args)} "
                              f"{dict(node.kwargs)}", node,
                              f"its arguments are ({', '.join(names)})")
        given = {**dict(zip(names, args, strict=False)), **dict(node.kwargs)}
        k = self.stage(node, node.args[0])
        self.inplace_ok(node, given.get("inplace", False))
        if given.pop("training", False):
            raise self.refuse(f"{_fn_name(node)}(training=True) (random slopes)", node,
                              "trace it with training=False")
        if given.pop("dtype", None) is not None:
            raise self.refuse(f"{_fn_name(node)} with a dtype", node, "drop the dtype")
        params = {}
        for key, v in given.items():
            if key in NEUTRAL_ARGS:
                continue
            if isinstance(v, fx.Node):
                v = self.env.get(v)
                if not isinstance(v, torch.Tensor):      # a traced value as a parameter
                    raise self.refuse(f"{_fn_name(node)} with a computed {key}", node)
            params[key] = v.detach().cpu().double().numpy() if isinstance(v, torch.Tensor) \
                else v
        return self.chain.activation(a.name, params, self.source(node), at=k)

    def concat(self, node: fx.Node) -> int:
        parts = node.args[0] if node.args else node.kwargs.get("tensors")
        dim = node.args[1] if len(node.args) > 1 else node.kwargs.get("dim", 0)
        if dim not in (-1, 1) or not isinstance(parts, (list, tuple)):
            raise self.refuse(f"{_fn_name(node)} over dim={dim}", node,
                              "spacefold concatenates units: dim=-1")
        return self.chain.concat([self.stage(node, p) for p in parts], self.source(node))

    def functional_linear(self, node: fx.Node) -> int:
        args = list(node.args) + [node.kwargs.get(k) for k in ("weight", "bias")
                                  if k in node.kwargs]
        k = self.stage(node, args[0])
        w = self.env.get(args[1]) if isinstance(args[1], fx.Node) else None
        b = self.env.get(args[2]) if len(args) > 2 and isinstance(args[2], fx.Node) else None
        if not isinstance(w, torch.Tensor) or (len(args) > 2 and args[2] is not None
                                               and not isinstance(b, torch.Tensor)):
            raise self.refuse("F.linear with a computed weight", node)
        src = str(args[1].target).rpartition(".")[0] if isinstance(args[1], fx.Node) else ""
        return self.chain.linear(_np(w), None if b is None else _np(b), src or node.name, at=k)

    def module(self, node: fx.Node) -> int:
        m = self.root.get_submodule(str(node.target))
        src = self.source(node)
        kind = type(m).__name__
        tensors = [a for a in node.args if isinstance(a, fx.Node)]
        if len(node.args) != 1 or node.kwargs or len(tensors) != 1:
            raise self.refuse(f"module {src!r} ({kind}) called with {len(node.args)} "
                              f"inputs{' and keywords' if node.kwargs else ''}", node,
                              "spacefold traces modules of one input")
        k = self.stage(node, node.args[0])
        if isinstance(m, _SKIP):
            if isinstance(m, nn.Flatten) and m.start_dim not in (1, -1):
                raise self.refuse(f"Flatten(start_dim={m.start_dim}) {src!r}", node)
            return k
        a = table_entry(m)
        if a is not None:
            self.inplace_ok(node, getattr(m, "inplace", False))
            params = module_params(a, m)
            return self.chain.activation(a.name, params, src, at=k)
        if isinstance(m, nn.Linear):
            return self.chain.linear(_np(m.weight), None if m.bias is None else _np(m.bias),
                                     src, at=k)
        if isinstance(m, nn.BatchNorm1d):
            return self.batchnorm(m, src, k, node)
        if isinstance(m, (nn.LayerNorm, nn.RMSNorm)):
            shape = tuple(m.normalized_shape)
            if shape != (self.chain.dims[k],):
                raise self.refuse(f"{kind}{shape} {src!r} over more than the units", node,
                                  f"use {kind}({self.chain.dims[k]})")
            mode = "layer" if isinstance(m, nn.LayerNorm) else "rms"
            eps = m.eps if m.eps is not None else float(torch.finfo(m.weight.dtype
                                                                    if m.weight is not None
                                                                    else torch.float32).eps)
            k = self.chain.normalise(mode, eps, src, at=k)
            return self.norm_affine(m, kind, src, k)
        if isinstance(m, nn.GroupNorm):
            if m.num_channels != self.chain.dims[k]:
                raise self.refuse(f"GroupNorm({m.num_groups}, {m.num_channels}) {src!r} on "
                                  f"{self.chain.dims[k]}-D input", node)
            k = self.chain.normalise("group", m.eps, src, at=k, groups=m.num_groups)
            return self.norm_affine(m, kind, src, k)
        raise self.refuse(f"unsupported module {kind} {src!r}", node)

    def norm_affine(self, m: nn.Module, kind: str, src: str, k: int) -> int:
        w = getattr(m, "weight", None)
        b = getattr(m, "bias", None)
        if w is None and b is None:
            return k
        d = self.chain.dims[k]
        scale = _np(w) if w is not None else torch.ones(d).double().numpy()
        shift = _np(b) if b is not None else torch.zeros(d).double().numpy()
        return self.chain.affine(scale, shift, f"{kind} γ·x+β" if b is not None
                                 else f"{kind} γ·x", src, at=k)

    def batchnorm(self, m: nn.BatchNorm1d, src: str, k: int, node: fx.Node) -> int:
        if m.running_mean is None or m.running_var is None:
            raise self.refuse(f"BatchNorm1d {src!r} without running statistics "
                              f"(track_running_stats=False)", node,
                              "it normalises by the batch; use track_running_stats=True")
        mean, var = _np(m.running_mean), _np(m.running_var)
        scale = 1.0 / (var + m.eps) ** 0.5                              # (d,)
        if m.weight is not None:
            scale = scale * _np(m.weight)
        shift = -mean * scale
        if m.bias is not None:
            shift = shift + _np(m.bias)
        return self.chain.affine(scale, shift, "BatchNorm", src, at=k)


def _needed(graph: fx.Graph) -> set[fx.Node]:
    """The nodes the output depends on, and the inputs (dead code is not traced)."""
    todo = [n for n in graph.nodes if n.op in ("output", "placeholder")]
    seen: set[fx.Node] = set()
    while todo:
        n = todo.pop()
        if n not in seen:
            seen.add(n)
            todo.extend(n.all_input_nodes)
    return seen


def _attr(root: nn.Module, target: str) -> Any:
    obj: Any = root
    for part in target.split("."):
        obj = getattr(obj, part)
    return obj


def _np(t: torch.Tensor) -> Any:
    return t.detach().cpu().double().numpy()


def _fn_name(node: fx.Node) -> str:
    t: Any = node.target
    if node.op == "call_method":
        return f".{t}()"
    if node.op == "call_module":
        return str(t)
    mod = getattr(t, "__module__", None) or ""
    name = getattr(t, "__name__", str(t))
    mod = {"torch._C._nn": "torch.nn.functional", "_operator": "operator",
           "torch._C._VariableFunctions": "torch"}.get(mod, mod)
    if mod.startswith("torch.nn.functional"):
        mod = "F"
    return f"{mod}.{name}" if mod else str(name)

