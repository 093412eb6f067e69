"""Shared fixtures for the pytest suite: where the rvmsim binary and the source tree are.

Run through meson (`meson test -C build --suite py`), which sets RVMSIM, or by hand from any
directory:
    RVMSIM=build/cli/rvmsim /usr/bin/python3 -m pytest tests/py
The fixtures rvmsim (the binary as a callable), rvmsim_api (parsed --json results, the rvmsim
Python package in python/rvmsim) and rvmsim_db come from that package's pytest plugin.
"""
import os
import pathlib
import sys

import pytest

SOURCE_ROOT = pathlib.Path(os.environ.get("RVM_SOURCE_ROOT",
                                          pathlib.Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(SOURCE_ROOT / "python"))

from rvmsim import Rvmsim  # noqa: E402
from rvmsim.pytest_plugin import rvmsim, rvmsim_db  # noqa: E402,F401  (fixtures)


@pytest.fixture(scope="session")
def rvmsim_api():
    """This tree's binary (meson sets RVMSIM), never an installed one found on PATH."""
    path = os.environ.get("RVMSIM") or str(SOURCE_ROOT / "build" / "cli" / "rvmsim")
    if not os.path.exists(path):
        pytest.fail(f"rvmsim binary not found at {path}; build first or set RVMSIM")
    return Rvmsim(path)


@pytest.fixture(scope="session")
def source_root():
    return SOURCE_ROOT
