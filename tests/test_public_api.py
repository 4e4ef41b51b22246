"""The public API: a sorted ``__all__`` whose every name exists (as httpx guards its own)."""

from __future__ import annotations

import importlib
import types

import pytest

import spacefold as sf
from fresh_process import run_python

CORE = ["spacefold", "spacefold.data", "spacefold.model", "spacefold.trace"]


@pytest.mark.parametrize("module", CORE)
def test_all_is_sorted_unique_and_every_name_exists(module: str) -> None:
    mod = importlib.import_module(module)
    names = list(mod.__all__)
    assert names == sorted(names), f"{module}.__all__ is not sorted"
    assert len(set(names)) == len(names), f"{module}.__all__ has duplicates"
    missing = [n for n in names if not hasattr(mod, n)]
    assert not missing, f"{module}.__all__ names missing attributes: {missing}"


def test_nothing_public_leaks_outside_all() -> None:
    """Every spacefold function or class bound at the top level is listed in __all__, and
    dir() shows all of __all__ (modules and helpers from other packages aside)."""
    for name in sf.__all__:
        getattr(sf, name)  # resolve lazy names, so vars() holds everything
    public = {n for n, v in vars(sf).items()
              if not n.startswith("_") and not isinstance(v, types.ModuleType)
              and str(getattr(v, "__module__", "")).startswith("spacefold")}
    assert public <= set(sf.__all__), public - set(sf.__all__)
    assert set(sf.__all__) <= set(dir(sf))


def test_trace_stays_the_function_whatever_is_imported_first() -> None:
    """``spacefold.trace`` is both a subpackage and the function; users get the function."""
    code = ("import spacefold.trace.core\nimport spacefold as sf\n"
            "from spacefold.trace import project\n"
            "assert callable(sf.trace) and sf.trace.__name__ == 'trace', sf.trace")
    run_python(code)


def test_exported_names_are_the_real_objects() -> None:
    from spacefold.data.datasets import dataset
    from spacefold.errors import SpacefoldError
    from spacefold.model.training import train
    from spacefold.trace.core import trace

    assert sf.trace is trace and callable(sf.trace)
    assert sf.train is train and sf.dataset is dataset and sf.SpacefoldError is SpacefoldError
    assert isinstance(sf.__version__, str) and sf.__version__


def test_error_family() -> None:
    from spacefold import errors

    for name in ("DataError", "SpecError", "TraceError", "RenderError", "DivergenceError"):
        cls = getattr(errors, name)
        assert issubclass(cls, sf.SpacefoldError) and issubclass(cls, ValueError)


def test_importing_spacefold_is_light() -> None:
    """``import spacefold`` pulls in no drawing library, and names resolve afterwards."""
    code = ("import spacefold\n"
            "imports_none('matplotlib', 'PIL', 'imageio', 'av', 'typer')\n"
            "import spacefold.trace.core\n"
            "assert callable(spacefold.trace) and spacefold.trace.__name__ == 'trace'\n")
    run_python(code)


def test_py_typed_is_shipped() -> None:
    from importlib.resources import files

    assert files("spacefold").joinpath("py.typed").is_file()
