"""The freestanding checker must be able to fail: feed it small cores with each defect it
claims to catch and require a failing verdict naming that defect."""
import pathlib
import subprocess
import sys

import pytest

GOOD = """#include <stdint.h>
uint32_t rvm_add(uint32_t a, uint32_t b);
uint32_t rvm_add(uint32_t a, uint32_t b) { return a + b; }
"""

DEFECTS = {
    "libc header": ("#include <string.h>\n" + GOOD, "only freestanding headers"),
    "mutable global": (GOOD + "uint32_t rvm_counter;\nvoid rvm_bump(void);\n"
                       "void rvm_bump(void) { rvm_counter++; }\n", "no mutable globals"),
    "recursion": ("#include <stdint.h>\nuint32_t rvm_f(uint32_t n);\n"
                  "uint32_t rvm_f(uint32_t n) { return n ? rvm_f(n - 1) + 1 : 0; }\n",
                  "no recursion"),
    "libc call": ("#include <stddef.h>\nint puts(const char *s);\nvoid rvm_hi(void);\n"
                  "void rvm_hi(void) { puts(\"hi\"); }\n", "no libc or external symbols"),
    "warning": ("#include <stdint.h>\nint rvm_w(void);\nint rvm_w(void) { int unused; return 0; }\n",
                "sources compile"),
}


def make_core(tmp_path, source):
    (tmp_path / "src").mkdir()
    (tmp_path / "include" / "rvm").mkdir(parents=True)
    (tmp_path / "src" / "x.c").write_text(source)
    return tmp_path


def run_check(source_root, core):
    return subprocess.run([sys.executable, str(source_root / "scripts" / "check_core.py"),
                           "--target", "host", "--core", str(core)],
                          capture_output=True, text=True)


def test_clean_core_passes(tmp_path, source_root):
    proc = run_check(source_root, make_core(tmp_path, GOOD))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "not ok" not in proc.stdout


@pytest.mark.parametrize("name", sorted(DEFECTS))
def test_each_defect_is_caught(tmp_path, source_root, name):
    source, check = DEFECTS[name]
    proc = run_check(source_root, make_core(tmp_path, source))
    assert proc.returncode != 0
    failed = [l for l in proc.stdout.splitlines() if l.startswith("not ok")]
    assert any(check in l for l in failed), proc.stdout


def run_check_src(source_root, core, src):
    return subprocess.run([sys.executable, str(source_root / "scripts" / "check_core.py"),
                           "--target", "host", "--core", str(core), "--src", str(src)],
                          capture_output=True, text=True)


def make_src(tmp_path, source, header="#include <stdint.h>\nuint32_t plat_f(void);\n"):
    src = tmp_path / "plat"
    src.mkdir()
    (src / "plat.h").write_text(header)
    (src / "plat.c").write_text(source)
    return src


SRC_GOOD = '#include "plat.h"\nuint32_t plat_f(void) { return 1; }\n'


def test_extra_source_dir_passes_when_clean(tmp_path, source_root):
    """--src directories may include their own headers by bare name."""
    (tmp_path / "core").mkdir()
    core = make_core(tmp_path / "core", GOOD)
    proc = run_check_src(source_root, core, make_src(tmp_path, SRC_GOOD))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "2 sources compile" in proc.stdout


@pytest.mark.parametrize("name,source,check", [
    ("libc header", "#include <string.h>\n" + SRC_GOOD, "only freestanding headers"),
    ("unknown local header", '#include "other.h"\n' + SRC_GOOD, "only freestanding headers"),
    ("mutable global", SRC_GOOD + "uint32_t plat_g;\n", "no mutable globals"),
    ("libc call", SRC_GOOD + "int puts(const char *s);\nvoid plat_h(void);\n"
     "void plat_h(void) { puts(\"x\"); }\n", "no libc or external symbols"),
])
def test_extra_source_dir_is_checked(tmp_path, source_root, name, source, check):
    (tmp_path / "core").mkdir()
    core = make_core(tmp_path / "core", GOOD)
    proc = run_check_src(source_root, core, make_src(tmp_path, source))
    assert proc.returncode != 0, name
    failed = [l for l in proc.stdout.splitlines() if l.startswith("not ok")]
    assert any(check in l for l in failed), proc.stdout
