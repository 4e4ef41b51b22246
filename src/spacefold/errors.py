"""One error family for everything a user can get wrong.

The CLI turns any :class:`SpacefoldError` into a one-line message on stderr and exit code 2;
the server turns it into HTTP 422. Messages name the bad value and what is allowed.
"""

from __future__ import annotations


class SpacefoldError(ValueError):
    """Bad input: the message names the bad value and what is allowed."""


class DataError(SpacefoldError):
    """A dataset name, parameter or file that cannot be used."""


class SpecError(SpacefoldError):
    """An architecture string, activation name or checkpoint that cannot be used."""


class TraceError(SpacefoldError):
    """A model or input that cannot be traced (unsupported module, wrong shape)."""


class RenderError(SpacefoldError):
    """A render request that cannot be met (size, fps, output path, format)."""


class DivergenceError(SpacefoldError):
    """Training produced NaN or inf; the message names the step and the learning rate."""
