#!/usr/bin/python3
"""Every supported build compiles with warnings as errors, and the newcomer's build works.

    check_build_matrix.py --source DIR --workdir DIR [--compilers gcc,clang]
                          [--buildtypes debug,debugoptimized,release]

1. For each compiler and meson build type: configure and build everything (-Werror is the
   project's default). A release build that only fails with gcc's -O3 warnings is still a
   failed build: users and packagers build release.
2. The newcomer: `make run` on a fresh Debian 12 configures before `make test` installed the test
   packages. That is reproduced by hiding every pkg-config file but sqlite3's and libcrypto's
   (PKG_CONFIG_LIBDIR) and cmake: meson setup must pass, `cli/rvmsim` must build and run a
   scenario.
Prints TAP and exits non-zero on any failure.
"""
import argparse
import os
import pathlib
import shutil
import subprocess
import sys


def run(cmd, env=None, cwd=None):
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=cwd)
    return proc.returncode, proc.stdout + proc.stderr


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--source", required=True, type=pathlib.Path)
    ap.add_argument("--workdir", required=True, type=pathlib.Path)
    ap.add_argument("--compilers", default="gcc,clang")
    ap.add_argument("--buildtypes", default="debug,debugoptimized,release")
    args = ap.parse_args()
    work = args.workdir.resolve()
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)

    checks = [(cc, bt) for cc in args.compilers.split(",") for bt in args.buildtypes.split(",")]
    print(f"1..{len(checks) + 1}")
    failed = 0
    for n, (cc, bt) in enumerate(checks, 1):
        if shutil.which(cc) is None:
            print(f"not ok {n} - {cc} {bt}: {cc} is not installed")
            failed += 1
            continue
        build = work / f"{cc}-{bt}"
        env = dict(os.environ, CC=cc)
        rc, out = run(["meson", "setup", str(build), str(args.source), f"--buildtype={bt}"],
                      env=env)
        if rc == 0:
            rc, out = run(["ninja", "-C", str(build)], env=env)
        if rc == 0:
            print(f"ok {n} - {cc} {bt} builds with -Werror")
            shutil.rmtree(build, ignore_errors=True)
        else:
            failed += 1
            print(f"not ok {n} - {cc} {bt}")
            for line in out.splitlines()[-25:]:
                print(f"# {line}")

    n = len(checks) + 1
    pc = work / "pkgconfig-newcomer"
    pc.mkdir()
    for lib in ("sqlite3", "libcrypto"):
        rc, d = run(["pkg-config", "--variable=pcfiledir", lib])
        if rc == 0:
            shutil.copy(pathlib.Path(d.strip()) / f"{lib}.pc", pc)
    native = work / "no-cmake.ini"
    native.write_text("[binaries]\ncmake = '/bin/false'\n")
    build = work / "newcomer"
    env = dict(os.environ, PKG_CONFIG_LIBDIR=str(pc))
    steps = [["meson", "setup", str(build), str(args.source), "--native-file", str(native)],
             ["ninja", "-C", str(build), "cli/rvmsim"],
             [str(build / "cli" / "rvmsim"), "run",
              str(args.source / "scenarios" / "kernel-smoke.scn"), "--seed", "1"]]
    for cmd in steps:
        rc, out = run(cmd, env=env)
        if rc != 0:
            break
    if rc == 0:
        print(f"ok {n} - newcomer: configures without cmocka, builds and runs cli/rvmsim")
    else:
        failed += 1
        print(f"not ok {n} - newcomer: {' '.join(cmd[:2])} failed")
        for line in out.splitlines()[-15:]:
            print(f"# {line}")
    shutil.rmtree(work, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
