"""The user's own network: ``code="FILE.py:NAME"`` imports FILE.py and calls ``NAME()``
(a class or a factory) for their ``nn.Module``. This RUNS THEIR CODE, and only when asked.
A weight file is then loaded into that module: by key names when they match (strict; a prefix
like a Lightning checkpoint's "model." set aside), else by the order and shapes of its Linear
layers."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

import numpy as np

from spacefold.errors import SpecError
from spacefold.model.linears import in_layer_order, linear_layers, shapes
from spacefold.model.tensor_files import first_line, is_safetensors


def run_code(code: str) -> Any:
    """Import FILE.py and call NAME(): the user's nn.Module, in eval mode."""
    from torch import nn

    file, sep, name = str(code).rpartition(":")
    if not sep or not file or not name:
        raise SpecError(f"model code {code!r} must be FILE.py:NAME, like mynet.py:make_model")
    if not name.isidentifier():
        raise SpecError(f"model code {code!r}: {name!r} is not a Python name")
    p = Path(file)
    if p.suffix != ".py":
        raise SpecError(f"model code {code!r}: {file!r} is not a .py file")
    if not p.is_file():
        raise SpecError(f"model code file {file!r} does not exist")
    mod_name = f"spacefold_user_code_{abs(hash(str(p.resolve())))}"
    spec = importlib.util.spec_from_file_location(mod_name, p)
    if spec is None or spec.loader is None:
        raise SpecError(f"model code file {file!r} cannot be imported")
    module = importlib.util.module_from_spec(spec)
    folder = str(p.resolve().parent)
    sys.path.insert(0, folder)          # their file may import its neighbours
    sys.modules[mod_name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as e:  # noqa: BLE001 - their code may raise anything; one line
        sys.modules.pop(mod_name, None)
        raise SpecError(f"model code file {file!r} failed on import: {type(e).__name__}: "
                        f"{first_line(e)}") from None
    finally:
        if folder in sys.path:
            sys.path.remove(folder)
    fn = getattr(module, name, None)
    if fn is None or not callable(fn):
        found = sorted(k for k, v in vars(module).items()
                       if callable(v) and not k.startswith("_")
                       and getattr(v, "__module__", None) == mod_name)
        what = "defines no" if fn is None else "has a non-callable"
        raise SpecError(f"model code file {file!r} {what} {name!r}; it defines: "
                        f"{', '.join(found) or 'nothing callable'}")
    try:
        model = fn()
    except Exception as e:  # noqa: BLE001
        raise SpecError(f"model code {code!r}: {name}() failed: {type(e).__name__}: "
                        f"{first_line(e)}") from None
    if not isinstance(model, nn.Module):
        raise SpecError(f"model code {code!r}: {name}() returned a {type(model).__name__}, "
                        f"not a torch nn.Module")
    return model.eval()


def _prefixes(keys: set[str]) -> set[str]:
    """Every dotted prefix of the keys: "model.", "model.net.", ..."""
    out: set[str] = set()
    for k in keys:
        parts = k.split(".")[:-1]
        out.update(".".join(parts[:i]) + "." for i in range(1, len(parts) + 1))
    return out


def _under_own_names(tensors: dict[str, np.ndarray], own: set[str],
                     path: Path) -> dict[str, np.ndarray]:
    """The file's tensors under the module's key names when they differ by a prefix: a
    Lightning checkpoint's "model.0.weight" (or DataParallel's "module.0.weight") for the
    module's "0.weight", or the other way round when the user's module wraps the network.
    Where no prefix makes them equal, the tensors are given back as they are."""
    if set(tensors) == own:
        return tensors
    fits = [p for p in sorted(_prefixes(set(tensors)))
            if {k[len(p):] for k in tensors if k.startswith(p)} == own]
    if len(fits) > 1:
        raise SpecError(f"model file {str(path)!r} holds the module's weights under "
                        f"{len(fits)} prefixes ({', '.join(fits[:4])}); save the one to draw")
    if fits:
        return {k[len(fits[0]):]: v for k, v in tensors.items() if k.startswith(fits[0])}
    for q in sorted(_prefixes(own)):
        if all(k.startswith(q) for k in own) and {q + k for k in tensors} == own:
            return {q + k: v for k, v in tensors.items()}
    return tensors


def load_into(module: Any, tensors: dict[str, np.ndarray], path: Path, code: str) -> None:
    """The file's weights into the user's module: by key names when they match (strict, up
    to a prefix), else by the order and shapes of its Linear layers."""
    import torch
    from torch import nn

    own = module.state_dict()
    tensors = _under_own_names(tensors, set(own), path)
    if set(own) == set(tensors):
        bad = [f"{k} {tuple(tensors[k].shape)} vs {tuple(v.shape)}" for k, v in own.items()
               if tuple(tensors[k].shape) != tuple(v.shape)]
        if bad:
            raise SpecError(f"model file {str(path)!r} does not fit {code}: "
                            f"{'; '.join(bad[:3])} (file vs module)")
        module.load_state_dict({k: torch.from_numpy(np.ascontiguousarray(tensors[k]))
                                .to(own[k].dtype) for k in own}, strict=True)
        return
    mods = [m for m in module.modules() if isinstance(m, nn.Linear)]
    linear_keys = {f"{n}.{p}" for n, m in module.named_modules() if isinstance(m, nn.Linear)
                   for p, _ in m.named_parameters(recurse=False)}
    if set(own) - linear_keys:
        missing = sorted(set(own) - set(tensors))[:3]
        extra = sorted(set(tensors) - set(own))[:3]
        raise SpecError(f"model file {str(path)!r} does not fit {code}: its keys differ from "
                        f"the module's (missing {', '.join(missing) or 'none'}; unexpected "
                        f"{', '.join(extra) or 'none'}), and the module has more than Linear "
                        f"layers, so they cannot be matched by order")
    need = [(m.out_features, m.in_features) for m in mods]
    linears = in_layer_order(linear_layers(tensors, path), need, path, is_safetensors(path))
    have = [tuple(lw.weight.shape) for lw in linears]
    if have != need:
        raise SpecError(f"model file {str(path)!r}: weights have Linear shapes "
                        f"{shapes(linears)}; {code} builds "
                        f"{', '.join(map(str, need)) or 'no Linear layers'}")
    with torch.no_grad():
        for m, lw in zip(mods, linears, strict=True):
            m.weight.copy_(torch.from_numpy(np.ascontiguousarray(lw.weight)))
            if m.bias is not None:
                if lw.bias is None:
                    m.bias.zero_()
                else:
                    m.bias.copy_(torch.from_numpy(np.ascontiguousarray(lw.bias)))
            elif lw.bias is not None and np.any(lw.bias):
                raise SpecError(f"model file {str(path)!r}: {lw.name} has a bias but "
                                f"{code} builds that Linear without one")
