"""The man page and the bash completion: installed by `meson install` with the binary, and
complete against the binary's own usage texts (the independent source: what each command's
--help says it accepts).

Issue: no man page, no completion, --version / help CMD not listed in the usage."""
import os
import pathlib
import re
import shutil
import subprocess

import pytest

COMPLETION = "contrib/bash-completion/rvmsim"

# bash-completion's helpers, reduced to what the script needs (the package may be absent)
STUBS = r'''
_init_completion() { words=("${COMP_WORDS[@]}"); cword=$COMP_CWORD;
                     cur=${COMP_WORDS[COMP_CWORD]}; prev=${COMP_WORDS[COMP_CWORD-1]}; }
_filedir() { COMPREPLY=(FILES); }
'''


def commands(rvmsim):
    usage = rvmsim("--help").stdout
    return re.findall(r"^  (\w+) ", usage.split("commands:")[1], re.M)


def options_of(rvmsim, cmd):
    text = rvmsim("help", cmd).stdout.split("\n\n")[0]  # the synopsis lines
    return sorted(set(re.findall(r"(?<![\w-])(--[a-z0-9][a-z0-9-]*|-o)\b", text)) - {"--help"})


def complete(source_root, *words):
    script = STUBS + (source_root / COMPLETION).read_text() + (
        f"\nCOMP_WORDS=({' '.join(repr(w) for w in words)}); COMP_CWORD={len(words) - 1}\n"
        "_rvmsim; printf '%s\\n' \"${COMPREPLY[@]}\"\n")
    proc = subprocess.run(["bash", "-c", script], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return set(proc.stdout.split())


def test_usage_lists_version_and_help(rvmsim):
    usage = rvmsim("--help").stdout
    assert "rvmsim --version" in usage and "rvmsim help <command>" in usage


def test_completion_knows_every_command_and_option(rvmsim, source_root):
    cmds = commands(rvmsim)
    assert len(cmds) >= 14
    assert set(cmds) <= complete(source_root, "rvmsim", "")
    assert complete(source_root, "rvmsim", "sw") == {"sweep"}
    for cmd in cmds:
        missing = set(options_of(rvmsim, cmd)) - complete(source_root, "rvmsim", cmd, "-")
        assert not missing, (cmd, missing)
    assert complete(source_root, "rvmsim", "run", "x.scn", "--faults", "") == \
        {"none", "default", "swarm"}
    assert complete(source_root, "rvmsim", "runs", "--db", "") == {"FILES"}


def test_man_page_documents_every_command_and_option(rvmsim, source_root):
    page = (source_root / "docs/rvmsim.1").read_text()
    text = page.replace("\\-", "-")
    for cmd in commands(rvmsim):
        assert re.search(rf'^\.(TP\n\.)?B[IR]? "?{cmd}\b', text, re.M) or f".BI \"{cmd} " in text \
            or f".BR \"{cmd} " in text, cmd
        for opt in options_of(rvmsim, cmd):
            if cmd == "demo" and opt not in ("--records", "--seed", "--db", "--export"):
                continue  # demo's synopsis in the page ends with "..."
            assert opt in text, (cmd, opt)
    if shutil.which("groff"):
        proc = subprocess.run(["groff", "-man", "-ww", "-z", source_root / "docs/rvmsim.1"],
                              capture_output=True, text=True)
        assert proc.returncode == 0 and proc.stderr == "", proc.stderr


def test_meson_install_installs_binary_man_page_completion_and_package(rvmsim, tmp_path):
    build = pathlib.Path(rvmsim.path).resolve().parents[1]
    if not (build / "meson-private").is_dir():
        pytest.skip("RVMSIM is not inside a meson build directory")
    env = dict(os.environ, DESTDIR=str(tmp_path / "dest"))
    proc = subprocess.run(["meson", "install", "-C", build, "--no-rebuild", "--quiet"],
                          env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    files = {p.relative_to(tmp_path / "dest").as_posix() for p in (tmp_path / "dest").rglob("*")
             if p.is_file()}
    for suffix in ("/bin/rvmsim", "/man/man1/rvmsim.1", "/bash-completion/completions/rvmsim",
                   "/rvmsim/__init__.py", "/rvmsim/pytest_plugin.py"):
        assert any(f.endswith(suffix) for f in files), (suffix, sorted(files))
