"""The one compiled part: spacefold.render._kernels (antialiased discs and polylines).

Everything else is in pyproject.toml. The extension is optional: where no C compiler is found
the install goes on and the same primitives run in numpy instead (slower).
"""

from setuptools import Extension, setup

setup(ext_modules=[Extension("spacefold.render._kernels", ["src/spacefold/render/_kernels.c"],
                             extra_compile_args=["-O3"], optional=True)])
