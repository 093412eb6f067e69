"""pytest fixtures for rvmsim, usable from any directory:

    pytest -p rvmsim.pytest_plugin my_tests/        (with python/ on PYTHONPATH, or installed)

or in a conftest.py: `from rvmsim.pytest_plugin import *`. Fixtures:
    rvmsim      the binary as a callable: rvmsim("run", FILE, "--seed", 3) -> CompletedProcess;
                raises AssertionError on a non-zero exit unless check=False; .path is the binary
    rvmsim_api  an rvmsim.Rvmsim: .run/.sweep/.runs/.show/.verify/.diff/.merge/.targets return
                parsed --json results
    rvmsim_db   a fresh store path in the test's tmp_path
"""
import pytest

from . import Rvmsim, find_binary


@pytest.fixture(scope="session")
def rvmsim_api():
    try:
        return Rvmsim(find_binary())
    except FileNotFoundError as e:
        pytest.fail(str(e))


@pytest.fixture(scope="session")
def rvmsim(rvmsim_api):
    return rvmsim_api


@pytest.fixture
def rvmsim_db(tmp_path):
    return tmp_path / "runs.db"
