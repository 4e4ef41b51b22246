"""One helper for "this command imports no X": run Python code in a fresh interpreter (the
test process has imported everything already) and check which modules it loaded.

>>> run_python("import spacefold", forbid=["torch", "matplotlib"])      # doctest: +SKIP
''
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

# Defined first in the fresh interpreter: the code may call it midway (``imports_none(...)``),
# and it is called once more at the end with ``forbid``.
PRELUDE = """\
import sys as _sys


def imports_none(*names):
    '''Fails naming every loaded module that is one of ``names`` or inside one of them.'''
    bad = sorted(m for m in _sys.modules if any(m == n or m.startswith(n + ".") for n in names))
    assert not bad, f"imported: {', '.join(bad)}"


"""


def run_python(code: str, *args: str | Path, forbid: Iterable[str] = (),
               cwd: str | Path | None = None, timeout: float = 300) -> str:
    """Run ``code`` with ``sys.argv[1:] = args`` in a new interpreter; it must exit 0, and
    no module in ``forbid`` (a package such as "torch" or a module such as
    "spacefold.scenes.surfaces3d", with everything inside it) may be loaded when it ends.
    ``imports_none(*names)`` is defined for checks midway. Returns what it printed."""
    names = list(forbid)
    script = PRELUDE + code + (f"\nimports_none(*{names!r})\n" if names else "\n")
    r = subprocess.run([sys.executable, "-c", script, *map(str, args)], capture_output=True,
                       text=True, cwd=cwd, timeout=timeout)
    assert r.returncode == 0, r.stderr[-3000:]
    return r.stdout


def fresh_signals() -> None:
    """``preexec_fn`` for a child whose signal handling a test checks: SIGINT back to its
    default. A shell starts background jobs with SIGINT ignored, and Python then leaves it
    ignored, so a test run from such a job would see Ctrl-C do nothing."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_DFL)
