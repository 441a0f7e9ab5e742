"""Builds the native core (machine/native/core.c) as an optional extension:
without a working C compiler the package still installs, and cowtui runs on
the Python engine and says so."""

from setuptools import Extension, setup

setup(ext_modules=[Extension(
    "machine.native._core",
    sources=["machine/native/core.c"],
    depends=["machine/native/gen_decode.h", "machine/native/gen_execute.h"],
    extra_compile_args=["-O2", "-std=gnu11", "-fno-strict-aliasing",
                        # keep one dispatch jump per handler (threaded code)
                        "-fno-gcse", "-fno-crossjumping"],
    optional=True,
)])
