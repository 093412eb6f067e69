#!/usr/bin/python3
"""Count every test that ran in one or more meson build directories and print
`N passed, M failed[, K skipped]` as the last line (the line CI reads).

Counting rules:
  - a TAP test (cmocka, the core checks) counts each `ok` / `not ok` line; `# SKIP` lines skip;
    a TAP test that produced no result lines (crashed early) counts as one failure;
  - the pytest test counts the cases in its JUnit XML (tests/pytest-junit.xml in that build);
  - any other test counts once, by meson's verdict.
Exits 1 if anything failed or nothing ran.
"""
import json
import pathlib
import re
import sys
import xml.etree.ElementTree as ET

TAP_LINE = re.compile(r"^(not ok|ok)\b(.*)$")


def count_tap(stdout):
    passed = failed = skipped = 0
    for line in stdout.splitlines():
        m = TAP_LINE.match(line.strip())
        if not m:
            continue
        status, rest = m.groups()
        if "# SKIP" in rest.upper():
            skipped += 1
        elif status == "ok":
            passed += 1
        else:
            failed += 1
    return passed, failed, skipped


def count_junit(path):
    root = ET.parse(path).getroot()
    suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
    total = sum(int(s.get("tests", 0)) for s in suites)
    failed = sum(int(s.get("failures", 0)) + int(s.get("errors", 0)) for s in suites)
    skipped = sum(int(s.get("skipped", 0)) for s in suites)
    return total - failed - skipped, failed, skipped


def main(build_dirs):
    passed = failed = skipped = 0
    failures = []
    for build in map(pathlib.Path, build_dirs):
        log = build / "meson-logs" / "testlog.json"
        if not log.exists():
            print(f"summary: {log} missing (did meson test run?)")
            failed += 1
            failures.append(f"{build}: no test log")
            continue
        for line in log.read_text().splitlines():
            if not line.strip():
                continue
            t = json.loads(line)
            name, result = t["name"], t["result"]
            label = f"{build.name}:{name}"
            junit = build / "tests" / "pytest-junit.xml"
            if name.split("/")[-1].strip() == "pytest" and junit.exists():
                p, f, s = count_junit(junit)
                if result not in ("OK", "EXPECTEDFAIL") and f == 0:
                    f = 1  # pytest failed without reporting a case (exit 5: nothing collected)
            elif re.search(r"^1\.\.\d+", t.get("stdout") or "", re.M):
                p, f, s = count_tap(t.get("stdout") or "")
                if p + f + s == 0 or (result not in ("OK", "EXPECTEDFAIL", "SKIP") and f == 0):
                    f += 1
            else:
                p, f, s = (1, 0, 0) if result in ("OK", "EXPECTEDFAIL") else \
                          (0, 0, 1) if result == "SKIP" else (0, 1, 0)
            passed, failed, skipped = passed + p, failed + f, skipped + s
            if f:
                failures.append(f"{label} ({result})")
    for f in failures:
        print(f"FAILED: {f}")
    if passed + failed == 0:
        failed = 1
    tail = f", {skipped} skipped" if skipped else ""
    print(f"{passed} passed, {failed} failed{tail}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or ["build"]))
