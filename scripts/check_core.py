#!/usr/bin/python3
"""Prove the core is freestanding, global-free and recursion-free for one target.

    check_core.py --target aarch64|riscv64|host --core DIR [--src DIR ...] [--workdir DIR]

--src adds a directory of freestanding code that lives outside core/ but obeys the same rules
(the platform table / PMP code shared with firmware, sim/platform_*). Its *.c files are compiled,
linked and checked together with the core's; its sources may also include headers of any --src
directory by bare name ("a64_stage2.h").

For the target's compiler it:
  1. checks every #include in core/ names only rvm/* headers, the private headers in core/src, or
     <stdint.h> <stddef.h> <stdbool.h> <stdalign.h>;
  2. compiles every core/src/*.c with -ffreestanding -nostdlib -nostdinc (only the compiler's own
     headers visible) -Wall -Wextra -Werror (and -mgeneral-regs-only on aarch64);
  3. links the objects with `ld -r` and requires that the only undefined symbols are the mem*
     routines the compiler may emit for struct copies;
  4. requires empty .data and .bss (no mutable globals; const tables go to .rodata);
  5. (gcc) reads -fcallgraph-info and requires an acyclic direct call graph (no recursion), and
     reports the deepest static stack path.
Prints TAP (one line per check) and exits non-zero if any check failed.
"""
import argparse
import pathlib
import re
import subprocess
import sys
import tempfile

TARGETS = {
    "aarch64": ("aarch64-linux-gnu-", ["-march=armv8-a", "-mgeneral-regs-only", "-mstrict-align"]),
    "riscv64": ("riscv64-linux-gnu-", ["-march=rv64imac_zicsr_zifencei", "-mabi=lp64",
                                       "-mcmodel=medany"]),
    "host": ("", []),
}
ALLOWED_HEADERS = {"stdint.h", "stddef.h", "stdbool.h", "stdalign.h"}
ALLOWED_UNDEFINED = {"memcpy", "memset", "memmove", "memcmp"}
COMMON_FLAGS = ["-std=c11", "-O2", "-ffreestanding", "-nostdlib", "-fno-pic", "-fno-pie",
                "-fno-stack-protector", "-fno-common", "-Wall", "-Wextra", "-Werror",
                "-Wshadow", "-Wstrict-prototypes", "-Wmissing-prototypes", "-Wvla", "-Wconversion",
                "-Wundef"]


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


def check_includes(core, extra_dirs=()):
    # A module's private header sits next to its sources (core/src/*.h) and is included by name.
    local = {h.name for d in (core / "src", *extra_dirs) for h in d.glob("*.h")}
    paths = sorted(core.rglob("*.[ch]"))
    for d in extra_dirs:
        paths += sorted(d.glob("*.[ch]"))
    bad = []
    for path in paths:
        for lineno, line in enumerate(path.read_text().splitlines(), 1):
            m = re.match(r'\s*#\s*include\s*([<"])([^>"]+)[>"]', line)
            if not m:
                continue
            kind, name = m.groups()
            if kind == '"' and name.startswith("rvm/"):
                continue
            if kind == '"' and name in local:
                continue
            if kind == "<" and name in ALLOWED_HEADERS:
                continue
            bad.append(f"{path}:{lineno}: #include {kind}{name}")
    return bad


def callgraph(ci_files):
    """Parse gcc -fcallgraph-info VCG files into (edges, stack sizes, indirect callers)."""
    edges, stack, indirect = {}, {}, set()
    node_re = re.compile(r'node: \{ title: "([^"]+)" label: "([^"]*)"')
    edge_re = re.compile(r'edge: \{ sourcename: "([^"]+)" targetname: "([^"]+)"')
    for ci in ci_files:
        for line in ci.read_text().splitlines():
            m = node_re.search(line)
            if m:
                title, label = m.groups()
                su = re.search(r"\\n(\d+) bytes \((\w+)", label)
                if su:
                    stack[title] = int(su.group(1))
                edges.setdefault(title, set())
                continue
            m = edge_re.search(line)
            if m:
                src, dst = m.groups()
                if dst == "__indirect_call":
                    indirect.add(src)
                else:
                    edges.setdefault(src, set()).add(dst)
    return edges, stack, indirect


def find_cycle(edges):
    """Iterative DFS; returns one cycle as a list of names, or None."""
    WHITE, GREY, BLACK = 0, 1, 2
    color = {n: WHITE for n in edges}
    for root in edges:
        if color[root] != WHITE:
            continue
        stack = [(root, iter(sorted(edges[root])))]
        path = [root]
        color[root] = GREY
        while stack:
            node, it = stack[-1]
            nxt = next(it, None)
            if nxt is None:
                color[node] = BLACK
                stack.pop()
                path.pop()
                continue
            if nxt not in edges:
                continue
            if color[nxt] == GREY:
                return path[path.index(nxt):] + [nxt]
            if color[nxt] == WHITE:
                color[nxt] = GREY
                stack.append((nxt, iter(sorted(edges[nxt]))))
                path.append(nxt)
    return None


def deepest_stack(edges, stack):
    memo = {}
    order = []
    # topological order by iterative post-order (graph is acyclic here)
    seen = set()
    for root in edges:
        if root in seen:
            continue
        todo = [(root, False)]
        while todo:
            node, done = todo.pop()
            if done:
                order.append(node)
                continue
            if node in seen:
                continue
            seen.add(node)
            todo.append((node, True))
            for nxt in edges.get(node, ()):
                if nxt not in seen:
                    todo.append((nxt, False))
    for node in order:
        below = max((memo.get(n, (stack.get(n, 0), [n])) for n in edges.get(node, ())),
                    default=(0, []), key=lambda t: t[0])
        memo[node] = (stack.get(node, 0) + below[0], [node] + below[1])
    return max(memo.values(), default=(0, []), key=lambda t: t[0])


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--target", choices=sorted(TARGETS), required=True)
    ap.add_argument("--core", required=True, type=pathlib.Path)
    ap.add_argument("--src", type=pathlib.Path, action="append", default=[],
                    help="extra directory of freestanding sources held to the core's rules")
    ap.add_argument("--workdir", type=pathlib.Path)
    args = ap.parse_args()
    args.core = args.core.resolve()
    args.src = [d.resolve() for d in args.src]

    prefix, arch_flags = TARGETS[args.target]
    gcc = prefix + "gcc"
    failures = []

    counter = [0]

    def report(name, ok, detail=""):
        counter[0] += 1
        status = "ok" if ok else "not ok"
        print(f"{status} {counter[0]} - {args.target}: {name}")
        if detail:
            print(f"# {detail}")
        if not ok:
            failures.append(name)

    bad = check_includes(args.core, args.src)
    report("only freestanding headers included", not bad, "; ".join(bad[:5]))

    sources = sorted((args.core / "src").glob("*.c"))
    core_count = len(sources)
    for d in args.src:
        sources += sorted(d.glob("*.c"))
    include_flags = ["-I", str(args.core / "include")]
    for d in args.src:
        include_flags += ["-I", str(d)]
    if not core_count or len(sources) == core_count and args.src:
        report("core sources found", False,
               str(args.core / "src") if not core_count else "no .c in " + " ".join(map(str, args.src)))
        print(f"1..{counter[0]}")
        return 1
    gcc_include = run([gcc, "-print-file-name=include"]).stdout.strip()
    if not gcc_include:
        report(f"{gcc} available", False, "compiler not found")
        print(f"1..{counter[0]}")
        return 1

    workdir = args.workdir or pathlib.Path(tempfile.mkdtemp(prefix=f"core-{args.target}-"))
    workdir.mkdir(parents=True, exist_ok=True)
    objects, compile_errors = [], []
    for src in sources:
        obj = workdir / ((src.parent.name + "-" if src.parent in args.src else "") + src.stem + ".o")
        cmd = [gcc, *COMMON_FLAGS, *arch_flags, "-nostdinc", "-isystem", gcc_include,
               *include_flags, "-c", str(src), "-o", str(obj)]
        r = run(cmd, cwd=workdir)
        if r.returncode != 0:
            compile_errors.append(f"{src.name}: {r.stderr.strip().splitlines()[:3]}")
            continue
        objects.append(obj)
        # The call graph comes from an -O0 build: optimisation turns tail recursion into loops
        # and inlines callees, hiding exactly the recursion the source must not contain.
        graph_dir = workdir / "callgraph"
        graph_dir.mkdir(exist_ok=True)
        cmd = [c if c != "-O2" else "-O0" for c in cmd[:-2]] + \
              ["-fcallgraph-info=su", "-o", str(graph_dir / obj.name)]
        r = run(cmd, cwd=graph_dir)
        if r.returncode != 0:
            compile_errors.append(f"{src.name} (-O0): {r.stderr.strip().splitlines()[:3]}")
    report(f"{len(sources)} sources compile with -ffreestanding -nostdlib -nostdinc -Werror",
           not compile_errors, "; ".join(compile_errors))
    if compile_errors:
        print(f"1..{counter[0]}")
        return 1

    combined = workdir / "core-combined.o"
    r = run([prefix + "ld", "-r", "-o", str(combined), *map(str, objects)])
    report("objects link together (ld -r)", r.returncode == 0, r.stderr.strip())
    if r.returncode != 0:
        print(f"1..{counter[0]}")
        return 1

    undefined = set(run([prefix + "nm", "-u", str(combined)]).stdout.split()) - {"U"}
    extra = sorted(undefined - ALLOWED_UNDEFINED)
    report("no libc or external symbols needed", not extra, ", ".join(extra))

    sections = run([prefix + "size", "-A", str(combined)]).stdout
    mutable = []
    for line in sections.splitlines():
        parts = line.split()
        if len(parts) >= 2 and re.match(r"^\.(s?data|s?bss)(\.|$)", parts[0]) and parts[1] != "0":
            if not parts[0].startswith((".data.rel.ro", ".rodata")):
                mutable.append(f"{parts[0]}={parts[1]}")
    report("no mutable globals (.data/.bss empty)", not mutable, ", ".join(mutable))

    # Only this run's graphs: a reused workdir may hold .ci files of sources since removed.
    ci_files = sorted(workdir / "callgraph" / (obj.stem + ".ci") for obj in objects)
    edges, stack, indirect = callgraph(ci_files)
    cycle = find_cycle(edges)
    report("no recursion in the direct call graph (-O0)", cycle is None,
           " -> ".join(cycle) if cycle else "")
    depth, path = deepest_stack(edges, stack)
    print(f"# {args.target}: deepest static stack path at -O0 {depth} bytes: {' -> '.join(path[:8])}"
          f"{' ...' if len(path) > 8 else ''}; {len(indirect)} functions call through HAL pointers")

    print(f"1..{counter[0]}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
