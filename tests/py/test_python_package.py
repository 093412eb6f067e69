"""The rvmsim Python package (python/rvmsim) and its pytest plugin, from outside the source tree.

Issue: the pytest driver worked only inside tests/py (`fixture 'rvmsim' not found` elsewhere) and
scripting rvmsim from Python meant regex-parsing stdout. Expectations are independent of the
package: the same commands' --json read directly with Python's json, and hashlib over exports.
"""
import hashlib
import json
import os
import subprocess
import sys

import pytest

PY = "/usr/bin/python3"


def env_with_package(source_root, rvmsim_path):
    env = dict(os.environ)
    env["PYTHONPATH"] = str(source_root / "python")
    env["RVMSIM"] = os.path.abspath(rvmsim_path)
    return env


def test_import_from_any_directory(rvmsim, source_root, tmp_path):
    script = ("import rvmsim, sys; r = rvmsim.Rvmsim().run(sys.argv[1], seed=5); "
              "print(r['result'], r['seed'], r['digest'])")
    proc = subprocess.run([PY, "-c", script, str(source_root / "scenarios/kernel-smoke.scn")],
                          cwd="/", env=env_with_package(source_root, rvmsim.path),
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    direct = json.loads(rvmsim("run", source_root / "scenarios/kernel-smoke.scn", "--seed", 5,
                               "--json").stdout)
    assert proc.stdout.split() == ["pass", "5", direct["digest"]]


def test_pytest_plugin_outside_the_tree(rvmsim, source_root, tmp_path):
    (tmp_path / "test_mine.py").write_text(
        "def test_uses_the_fixtures(rvmsim, rvmsim_api, rvmsim_db):\n"
        f"    r = rvmsim_api.run({str(source_root / 'scenarios/smoke.scn')!r}, seed=2,\n"
        "                       db=rvmsim_db)\n"
        "    assert r['result'] == 'pass' and rvmsim_api.runs(rvmsim_db)[0]['seed'] == '2'\n"
        "    assert rvmsim('--version').stdout.startswith('rvmsim ')\n")
    args = [PY, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "rvmsim.pytest_plugin",
            "test_mine.py"]
    proc = subprocess.run(args, cwd=tmp_path, env=env_with_package(source_root, rvmsim.path),
                          capture_output=True, text=True)
    assert proc.returncode == 0 and "1 passed" in proc.stdout, proc.stdout + proc.stderr
    # without the plugin the fixture is unknown: what a user saw before
    proc = subprocess.run(args[:6] + ["test_mine.py"], cwd=tmp_path,
                          env=env_with_package(source_root, rvmsim.path),
                          capture_output=True, text=True)
    assert "fixture 'rvmsim' not found" in proc.stdout


def test_api_results(rvmsim_api, rvmsim_db, source_root, tmp_path):
    from rvmsim import RvmsimError
    smoke = source_root / "scenarios/kernel-smoke.scn"
    flip = source_root / "scenarios/oracle-ring-bitflip.scn"
    r = rvmsim_api.run(smoke, seed=3, db=rvmsim_db)
    rvmsim_api("export", "--db", rvmsim_db, "--run", r["run"], "--format", "raw",
               "-o", tmp_path / "x.raw")
    assert r["digest"] == hashlib.sha256((tmp_path / "x.raw").read_bytes()).hexdigest()
    bad = rvmsim_api.run(flip, seed=1)  # a failure found is a result, not an exception
    assert (bad["exit_code"], bad["failure"]["invariant"]) == (3, "witness.chain")
    s = rvmsim_api.sweep(flip, seeds=(1, 12), jobs=2)
    assert (s["failed"], s["groups"][0]["count"]) == (12, 12)
    assert [v["verdict"] for v in rvmsim_api.verify(rvmsim_db)] == ["sealed"]
    manifest = rvmsim_api.verify_manifest(rvmsim_db)
    assert (manifest["verdict"], manifest["runs"]) == ("ok", 1)
    assert rvmsim_api.diff(rvmsim_db, 1, 1)["verdict"] == "identical"
    assert {t["name"] for t in rvmsim_api.targets()} == {"witness", "kernel"}
    with pytest.raises(RvmsimError) as e:
        rvmsim_api.run(tmp_path / "missing.scn")
    assert e.value.returncode == 2 and "missing.scn" in e.value.stderr
