#!/usr/bin/python3
"""Check the include graph against the layers (docs/architecture.md, "Layers").

    check_layers.py [--root DIR]

Layers, each using only those before it: core -> platform -> host -> replay -> sim -> cli;
firmware uses core and platform only. For every .c/.h under the layer folders (and bench/,
tests/) each quoted #include is resolved to the file it names -- the including file's own
folder first, then every folder a meson.build declares with include_directories() -- and the
folder that file lies in must be one the includer's layer may use (a name several folders hold
passes when one of them is allowed). Every meson.build is checked
the same way: its include_directories() folders and the rvm_<layer>_dep dependencies it names.
Prints TAP, one line per folder, and exits non-zero on any violation.
"""
import argparse
import pathlib
import re
import sys

ORDER = ["core", "platform", "host", "replay", "sim", "cli"]
MAY_USE = {
    "core": {"core"},
    "platform": {"core", "platform"},
    "host": {"core", "host"},
    "replay": {"core", "host", "replay"},
    "sim": {"core", "platform", "host", "replay", "sim"},
    "cli": {"core", "platform", "host", "replay", "sim", "cli"},
    "firmware": {"core", "platform", "firmware"},
    "support": {"core", "support"},
    "bench": {"core", "platform", "host", "replay", "sim", "support", "bench"},
    "tests": {"core", "platform", "host", "replay", "sim", "cli", "firmware", "support", "tests"},
}
# Layers that live below another layer's folder: the test doubles and witnessed wrappers the
# unit tests and the benchmarks share (they use the core only).
NESTED = {"support": ("tests", "support")}
# Files generated into the build directory; the root meson.build provides them to everyone.
GENERATED = {"build_version.h", "fw_build_id.h"}
# Dependency objects each layer's meson.build declares.
DEP_LAYER = {"rvm_core_dep": "core", "rvm_platform_dep": "platform", "rvm_host_dep": "host",
             "rvm_replay_dep": "replay", "rvm_sim_dep": "sim", "rvm_cli_dep": "cli",
             "rvm_firmware_dep": "firmware"}

INCLUDE_RE = re.compile(r'^\s*#\s*include\s*"([^"]+)"')
INCDIR_RE = re.compile(r"include_directories\(([^)]*)\)", re.S)
STRING_RE = re.compile(r"'([^']*)'")
DEP_RE = re.compile(r"\b(rvm_[a-z]+_dep)\b")


def layer_of(root, path):
    rel = path.resolve().relative_to(root)
    for name, parts in NESTED.items():
        if rel.parts[:len(parts)] == parts:
            return name
    return rel.parts[0] if rel.parts and rel.parts[0] in MAY_USE else None


def layer_files(root, name):
    top = root.joinpath(*NESTED.get(name, (name,)))
    if not top.is_dir():
        return []
    return [p for p in sorted(top.rglob("*.[ch]")) if layer_of(root, p) == name]


def meson_include_dirs(meson):
    text = meson.read_text()
    dirs = []
    for m in INCDIR_RE.finditer(text):
        for s in STRING_RE.findall(m.group(1)):
            dirs.append((meson.parent / s).resolve())
    return dirs


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", type=pathlib.Path,
                    default=pathlib.Path(__file__).resolve().parent.parent)
    args = ap.parse_args()
    root = args.root.resolve()

    problems = {name: [] for name in MAY_USE}
    counts = {name: 0 for name in MAY_USE}
    search = []
    for meson in sorted(root.glob("*/**/meson.build")):
        owner = layer_of(root, meson)
        if owner is None:
            continue
        rel = meson.relative_to(root)
        for d in meson_include_dirs(meson):
            search.append(d)
            used = layer_of(root, d) if d.is_relative_to(root) else None
            if used is not None and used not in MAY_USE[owner]:
                problems[owner].append(f"{rel}: include_directories {d.relative_to(root)} "
                                       f"({owner} may not use {used})")
        for dep in sorted(set(DEP_RE.findall(meson.read_text()))):
            used = DEP_LAYER.get(dep)
            if used is not None and used not in MAY_USE[owner]:
                problems[owner].append(f"{rel}: depends on {dep} ({owner} may not use {used})")
    search = list(dict.fromkeys(search))

    for name in MAY_USE:
        for path in layer_files(root, name):
            counts[name] += 1
            rel = path.relative_to(root)
            for lineno, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
                m = INCLUDE_RE.match(line)
                if not m:
                    continue
                header = m.group(1)
                candidates = [path.parent / header] + [d / header for d in search]
                found = [c.resolve() for c in candidates if c.is_file()]
                found = [f for f in dict.fromkeys(found) if f.is_relative_to(root)]
                if not found:
                    if pathlib.PurePath(header).name not in GENERATED:
                        problems[name].append(f"{rel}:{lineno}: \"{header}\" not found")
                    continue
                layers = [layer_of(root, f) for f in found]
                if any(lay in MAY_USE[name] for lay in layers):
                    continue
                where = ", ".join(str(f.relative_to(root)) for f in found)
                problems[name].append(f"{rel}:{lineno}: \"{header}\" is {where} "
                                      f"({name} may not use {layers[0]})")

    failed = 0
    for n, name in enumerate(MAY_USE, 1):
        bad = problems[name]
        uses = ", ".join(sorted(MAY_USE[name], key=lambda x: (
            ORDER.index(x) if x in ORDER else len(ORDER), x)))
        status = "not ok" if bad else "ok"
        print(f"{status} {n} - {name}/ ({counts[name]} files) includes only from {uses}")
        for b in bad:
            print(f"# {b}")
        failed += bool(bad)
    print(f"1..{len(MAY_USE)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
