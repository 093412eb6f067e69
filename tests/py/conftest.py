"""Shared fixtures for the pytest suite: where the rvmsim binary and the source tree are.

Run through meson (`meson test -C build --suite py`), which sets RVMSIM, or by hand:
    RVMSIM=build/cli/rvmsim /usr/bin/python3 -m pytest tests/py
"""
import os
import pathlib
import subprocess

import pytest

SOURCE_ROOT = pathlib.Path(os.environ.get("RVM_SOURCE_ROOT",
                                          pathlib.Path(__file__).resolve().parents[2]))


@pytest.fixture(scope="session")
def rvmsim():
    path = os.environ.get("RVMSIM") or str(SOURCE_ROOT / "build" / "cli" / "rvmsim")
    if not os.path.exists(path):
        pytest.fail(f"rvmsim binary not found at {path}; build first or set RVMSIM")

    def run(*args, check=True, **kw):
        proc = subprocess.run([path, *map(str, args)], capture_output=True, text=True, **kw)
        if check and proc.returncode != 0:
            raise AssertionError(f"rvmsim {' '.join(map(str, args))} exited {proc.returncode}\n"
                                 f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}")
        return proc

    run.path = path
    return run


@pytest.fixture(scope="session")
def source_root():
    return SOURCE_ROOT
