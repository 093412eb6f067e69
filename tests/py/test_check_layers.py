"""The layer checker must be able to fail: a small tree that obeys the layers passes, and each
kind of crossing the layer table forbids (a header from a higher layer, firmware reaching into
host code, a meson include directory or dependency pointing up) fails, naming the folder and the
offending line."""
import subprocess
import sys

import pytest

from conftest import SOURCE_ROOT


def write(root, rel, text):
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def good_tree(root):
    write(root, "core/include/rvm/types.h", "#pragma once\n")
    write(root, "core/src/types.c", '#include "rvm/types.h"\n')
    write(root, "core/meson.build", "core_inc = include_directories('include')\n")
    write(root, "platform/common/aspace.h", '#include "rvm/types.h"\n')
    write(root, "platform/meson.build", "platform_inc = include_directories('common')\n")
    write(root, "host/util.h", "#pragma once\n")
    write(root, "host/meson.build", "host_inc = include_directories('.')\n")
    write(root, "replay/store.c", '#include "util.h"\n#include "rvm/types.h"\n')
    write(root, "replay/meson.build", "replay_inc = include_directories('.')\n"
                                      "x = [rvm_core_dep, rvm_host_dep]\n")
    write(root, "sim/engine.h", '#include "aspace.h"\n#include "util.h"\n')
    write(root, "sim/meson.build", "sim_inc = include_directories('.')\n")
    write(root, "cli/rvmsim.c", '#include "engine.h"\n#include "build_version.h"\n')
    write(root, "firmware/hal.c", '#include "aspace.h"\n')


def run_check(root):
    return subprocess.run([sys.executable, str(SOURCE_ROOT / "scripts" / "check_layers.py"),
                           "--root", str(root)], capture_output=True, text=True)


def test_a_tree_that_obeys_the_layers_passes(tmp_path):
    good_tree(tmp_path)
    proc = run_check(tmp_path)
    assert proc.returncode == 0, proc.stdout
    assert "not ok" not in proc.stdout


# (file to write, its text, the folder whose line fails, what the message names)
CROSSINGS = {
    "replay includes a sim header": ("replay/verify.c", '#include "engine.h"\n', "replay/",
                                     "replay/verify.c:1"),
    "core includes a platform header": ("core/src/bad.c", '#include "aspace.h"\n', "core/",
                                        "core/src/bad.c:1"),
    "firmware includes a host header": ("firmware/log.c", '#include "util.h"\n', "firmware/",
                                        "firmware/log.c:1"),
    "host includes a platform header": ("host/sink.c", '#include "aspace.h"\n', "host/",
                                        "host/sink.c:1"),
    "platform includes by relative path into sim": ("platform/common/x.c",
                                                    '#include "../../sim/engine.h"\n',
                                                    "platform/", "platform/common/x.c:1"),
    "replay's meson include directory points into sim": (
        "replay/meson.build", "replay_inc = include_directories('.', '../sim')\n", "replay/",
        "include_directories sim"),
    "replay's meson dependency is the simulator": (
        "replay/meson.build", "x = [rvm_core_dep, rvm_sim_dep]\n", "replay/",
        "depends on rvm_sim_dep"),
}


@pytest.mark.parametrize("name", sorted(CROSSINGS))
def test_each_crossing_fails(tmp_path, name):
    rel, text, folder, detail = CROSSINGS[name]
    good_tree(tmp_path)
    write(tmp_path, rel, text)
    proc = run_check(tmp_path)
    assert proc.returncode == 1, proc.stdout
    failing = [line for line in proc.stdout.splitlines() if line.startswith("not ok")]
    assert len(failing) == 1 and f"- {folder} " in failing[0], proc.stdout
    assert detail in proc.stdout, proc.stdout


def test_the_real_tree_passes():
    proc = run_check(SOURCE_ROOT)
    assert proc.returncode == 0, proc.stdout
