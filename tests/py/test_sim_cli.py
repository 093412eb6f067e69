"""rvmsim run / sweep / targets from the outside: the output contracts, determinism across
processes, the exit code of every failure class, what --db stores (checked with Python's own
sqlite3 and hashlib), and sweep sharding."""
import hashlib
import os
import re
import signal
import sqlite3
import subprocess

import pytest

from conftest import SOURCE_ROOT

SMOKE = SOURCE_ROOT / "scenarios" / "smoke.scn"
LAST = re.compile(r"run=(\d+) seed=(\d+) records=(\d+) digest=([0-9a-f]{64}) result=(\w+)")


def summary(proc):
    m = LAST.fullmatch(proc.stdout.strip().splitlines()[-1])
    assert m, proc.stdout
    return {"run": int(m.group(1)), "seed": int(m.group(2)), "records": int(m.group(3)),
            "digest": m.group(4), "result": m.group(5)}


def write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text)
    return p


# --- determinism -----------------------------------------------------------------------------

@pytest.mark.parametrize("faults", ["none", "default", "swarm"])
def test_same_seed_same_digest_in_two_processes(rvmsim, faults):
    for seed in (1, 7, 2**64 - 1):
        a = summary(rvmsim("run", SMOKE, "--seed", seed, "--faults", faults))
        b = summary(rvmsim("run", SMOKE, "--seed", seed, "--faults", faults))
        assert a == b


def test_different_seeds_give_different_runs(rvmsim):
    digests = {summary(rvmsim("run", SMOKE, "--seed", s, "--faults", "default"))["digest"]
               for s in range(1, 11)}
    assert len(digests) == 10


def records_of_run(con, run):
    """A run's record images from the replay store (key = run << 40 | seq), in order."""
    return [r[0] for r in con.execute("SELECT image FROM records WHERE key >= ? AND key < ? "
                                      "ORDER BY key", (run << 40, (run + 1) << 40))]


def test_digest_is_sha256_of_the_stored_records(rvmsim, tmp_path):
    db = tmp_path / "runs.db"
    proc = rvmsim("run", SMOKE, "--seed", 3, "--db", db)
    s = summary(proc)
    faults = int(re.search(r"faults=(\d+)", proc.stdout).group(1))
    con = sqlite3.connect(db)
    images = b"".join(records_of_run(con, s["run"]))
    assert len(images) == 64 * s["records"]
    assert hashlib.sha256(images).hexdigest() == s["digest"]
    row = con.execute("SELECT seed, result, hex(digest), record_count, target, options, content, "
                      "source, platform FROM runs WHERE id=?", (s["run"],)).fetchone()
    assert row == (3, "pass", s["digest"].upper(), s["records"], "witness",
                   "faults=default nwnm_every=1 epoch=64", "full", "run", "sim")
    assert con.execute("SELECT count(*) FROM faults WHERE run=?",
                       (s["run"],)).fetchone()[0] == faults
    # the last checkpoint seals the log: its digest is the log digest
    last_cp = con.execute("SELECT seq, digest FROM checkpoints WHERE run=? "
                          "ORDER BY seq DESC LIMIT 1", (s["run"],)).fetchone()
    assert last_cp[0] == s["records"] - 1 and last_cp[1].hex() == s["digest"]
    # a second run in the same database gets the next id
    assert summary(rvmsim("run", SMOKE, "--seed", 4, "--db", db))["run"] == s["run"] + 1


def test_trace_prints_one_line_per_event(rvmsim):
    out = rvmsim("run", SOURCE_ROOT / "scenarios" / "witness-stall.scn", "--trace").stdout
    lines = out.splitlines()
    assert any(re.match(r"t=\d+ step=1 cpu0 append .* -> OK$", l) for l in lines)
    assert any(re.match(r"t=\d+ fault sink_stall duration=20000 \(scripted\)$", l) for l in lines)
    assert any(re.match(r"t=20000 event irq cpu0 irq=1$", l) for l in lines)
    assert any("-> WITNESS_FULL" in l for l in lines)
    assert any("liveness phase" in l for l in lines)


# --- exit codes by class -----------------------------------------------------------------------

def test_exit_0_pass(rvmsim):
    assert rvmsim("run", SMOKE, check=False).returncode == 0


def test_exit_1_expectation(rvmsim, tmp_path):
    p = write(tmp_path, "e.scn", "target witness\nfaults none\nappend\nexpect records == 2\n")
    proc = rvmsim("run", p, check=False)
    assert proc.returncode == 1
    assert "FAIL expectation [expect.records] at step 1" in proc.stdout
    assert f"({p}:4)" in proc.stdout
    assert summary(proc)["result"] == "expectation"


@pytest.mark.parametrize("text,where,message", [
    ("target witness\nappend kind=NOPE\n", "2:13", "must be an action kind"),
    ("target witness\nreserve n=1 as R\nappend res=Q\n", "3:12", "unknown object 'Q'"),
    ("target witness\nappend\ncpus 2\n", "3:1", "must come before the first step"),
    ("target witness\nrandom 3\n append 1\n", "4:1", "not closed"),
    ("target witnes\n", "1:8", "unknown target"),
])
def test_exit_2_parse_error_with_position(rvmsim, tmp_path, text, where, message):
    p = write(tmp_path, "bad.scn", text)
    for cmd in (["run", p], ["sweep", p, "--seeds", "1..3"], ["shrink", p, "--seed", 1, "-o",
                                                               tmp_path / "o.scn"]):
        proc = rvmsim(*cmd, check=False)
        assert proc.returncode == 2
        assert proc.stderr.startswith(f"rvmsim: {cmd[0]}: {p}:{where}: "), proc.stderr
        assert message in proc.stderr


@pytest.mark.parametrize("args,message", [
    (["run"], "missing scenario FILE"),
    (["run", SMOKE, "--seed", "x"], "--seed"),
    (["run", SMOKE, "--faults", "some"], "--faults"),
    (["run", "/nonexistent.scn"], "cannot open"),
    (["sweep", SMOKE], "--seeds A..B is required"),
    (["sweep", SMOKE, "--seeds", "5..1"], "--seeds"),
    (["sweep", SMOKE, "--seeds", "1..5", "--shard", "3/3"], "--shard"),
    (["sweep", SMOKE, "--seeds", "1..5", "--jobs", "0"], "--jobs"),
    (["shrink", SMOKE, "--seed", "1"], "-o OUT is required"),
    (["targets", "nope"], "unknown target"),
])
def test_exit_2_usage(rvmsim, args, message):
    proc = rvmsim(*args, check=False)
    assert proc.returncode == 2
    assert message in proc.stderr


def test_exit_3_safety(rvmsim):
    proc = rvmsim("run", SOURCE_ROOT / "scenarios" / "oracle-ring-bitflip.scn", check=False)
    assert proc.returncode == 3
    assert "FAIL safety [witness.chain]" in proc.stdout


def test_exit_4_liveness(rvmsim, tmp_path):
    # records left in the ring and no liveness rounds to drain them
    p = write(tmp_path, "l.scn", "target witness ring=8\nfaults none\nliveness 0\n"
                                 "append\nappend\n")
    proc = rvmsim("run", p, check=False)
    assert proc.returncode == 4
    assert "FAIL liveness [witness.drain] in the liveness phase" in proc.stdout
    # one round is enough to drain them
    p.write_text(p.read_text().replace("liveness 0", "liveness 1"))
    assert rvmsim("run", p, check=False).returncode == 0


def test_exit_5_nondeterminism(rvmsim, tmp_path):
    env = dict(os.environ, RVMSIM_TEST_UNSEEDED="1")
    proc = subprocess.run([rvmsim.path, "sweep", SMOKE, "--seeds", "1..6", "--jobs", "2",
                           "--recheck-every", "1"], capture_output=True, text=True, env=env)
    assert proc.returncode == 5
    assert "nondeterminism: the worker's run gave" in proc.stdout
    assert proc.stdout.strip().splitlines()[-1] == "0 passed, 6 failed"
    # and without the hook the same sweep is clean
    assert rvmsim("sweep", SMOKE, "--seeds", "1..6", "--jobs", "2",
                  "--recheck-every", "1").stdout.strip().splitlines()[-1] == "6 passed, 0 failed"


def test_exit_6_internal(rvmsim, tmp_path):
    # more pending events than the engine's queue holds
    p = write(tmp_path, "storm.scn", "target witness\nfaults none\n" +
              "fault irq_spurious irq=3 cpu=0\n" * 9000 + "append\n")
    proc = rvmsim("run", p, check=False)
    assert proc.returncode == 6
    assert "FAIL internal [engine.event-queue]" in proc.stdout


# --- sweeps ------------------------------------------------------------------------------------

def test_sweep_contract(rvmsim, tmp_path):
    proc = rvmsim("sweep", SMOKE, "--seeds", "1..60", "--jobs", "2", "--faults", "swarm")
    assert proc.stdout.strip().splitlines()[-1] == "60 passed, 0 failed"
    assert re.search(r"sweep: 60 runs in .* re-run in another process", proc.stderr)


def test_sweep_failures_print_reproducing_commands(rvmsim, tmp_path):
    # corruption of pending records by chance: some seeds fail (safety), others pass
    p = write(tmp_path, "flip.scn", SMOKE.read_text().replace(
        "faults default", "faults default\nenable ring_bitflip 1/400"))
    proc = rvmsim("sweep", p, "--seeds", "1..40", "--jobs", "2", check=False)
    assert proc.returncode == 3
    fails = re.findall(r"^FAIL seed=(\d+) safety \[(\S+)\].*\n  reproduce: (.*)$", proc.stdout,
                       re.M)
    assert fails
    m = re.fullmatch(r"(\d+) passed, (\d+) failed", proc.stdout.strip().splitlines()[-1])
    assert int(m.group(1)) + int(m.group(2)) == 40 and int(m.group(2)) == len(fails)
    seed, invariant, command = fails[0]
    argv = command.split()
    assert argv[1:] == ["run", str(p), "--seed", seed, "--faults", "default"]
    again = subprocess.run([rvmsim.path] + argv[1:], capture_output=True, text=True)
    assert again.returncode == 3 and f"[{invariant}]" in again.stdout


def test_sweep_db_and_shards(rvmsim, tmp_path):
    full = tmp_path / "full.db"
    rvmsim("sweep", SMOKE, "--seeds", "10..39", "--jobs", "2", "--db", full)
    want = dict(sqlite3.connect(full).execute("SELECT seed, digest FROM runs"))
    assert sorted(want) == list(range(10, 40))
    got = {}
    for k in range(3):
        db = tmp_path / f"shard{k}.db"
        proc = rvmsim("sweep", SMOKE, "--seeds", "10..39", "--jobs", "1", "--shard", f"{k}/3",
                      "--db", db)
        assert proc.stdout.strip().splitlines()[-1] == "10 passed, 0 failed"
        rows = dict(sqlite3.connect(db).execute("SELECT seed, digest FROM runs"))
        assert all((s - 10) % 3 == k for s in rows)
        assert not set(rows) & set(got)
        got.update(rows)
    assert got == want  # same runs, whichever process and shard ran them


def test_sweep_stores_failing_logs_in_full(rvmsim, tmp_path):
    p = write(tmp_path, "flip.scn", SMOKE.read_text().replace(
        "faults default", "faults default\nenable ring_bitflip 1/400"))
    db = tmp_path / "s.db"
    rvmsim("sweep", p, "--seeds", "1..30", "--jobs", "2", "--db", db, check=False)
    con = sqlite3.connect(db)
    failing = con.execute("SELECT id, record_count FROM runs WHERE result='safety'").fetchall()
    passing = con.execute("SELECT id FROM runs WHERE result='pass'").fetchall()
    assert failing and passing
    for run_id, _ in failing:
        assert con.execute("SELECT content FROM runs WHERE id=?", (run_id,)).fetchone()[0] == "full"
        assert records_of_run(con, run_id)
        assert con.execute("SELECT count(*) FROM faults WHERE run=? AND "
                           "site='ring_bitflip'", (run_id,)).fetchone()[0] > 0
    for (run_id,) in passing:
        assert con.execute("SELECT content FROM runs WHERE id=?", (run_id,)).fetchone()[0] == \
            "summary"
        assert not records_of_run(con, run_id)


def test_targets_lists_operations_and_faults(rvmsim):
    out = rvmsim("targets", "witness").stdout
    assert "op reserve n=u64 -> reservation" in out
    assert "fault ring_bitflip bit=u64" in out and "explicit only" in out


def test_sweep_progress_line(rvmsim):
    proc = rvmsim("sweep", SMOKE, "--seeds", "1..500", "--jobs", "2", "--progress")
    assert re.search(r"\x1b\[Ksweep: 500/500 \(100\.0%\)  \d+ runs/s  ETA 0:00:00  failures 0",
                     proc.stderr), proc.stderr
    # on a pipe: plain lines (test_sweep_off_a_terminal_prints_plain_progress_lines), no redraws
    assert "\x1b[K" not in rvmsim("sweep", SMOKE, "--seeds", "1..50").stderr


def test_unusable_db_and_target_parameters_are_usage_errors(rvmsim, tmp_path):
    for cmd in ("run", "sweep"):
        args = [cmd, SMOKE, "--db", tmp_path / "no" / "such" / "dir.db"]
        if cmd == "sweep":
            args += ["--seeds", "1..2"]
        proc = rvmsim(*args, check=False)
        assert proc.returncode == 2 and "cannot open" in proc.stderr
    p = write(tmp_path, "ring3.scn", "target witness ring=3\nappend\n")
    proc = rvmsim("run", p, check=False)
    assert proc.returncode == 2 and "cannot be created with these parameters" in proc.stderr
    # parameters each in range that cannot start together (found by tests/fuzz/fuzz_scenarios.py:
    # these were internal errors of every seed)
    p = write(tmp_path, "images.scn", "target kernel partitions=2 images=3\n")
    for cmd in (["run", p], ["sweep", p, "--seeds", "1..4"], ["shrink", p, "--seed", "1", "-o",
                                                                 tmp_path / "out.scn"]):
        proc = rvmsim(*cmd, check=False)
        assert proc.returncode == 2, (cmd, proc.stdout, proc.stderr)
        assert f"{p}: target kernel cannot start with these parameters and cpus 1: " \
               "PARTITION_LIMIT" in proc.stderr, proc.stderr
    p = write(tmp_path, "cpus.scn", "target kernel\ncpus 9\n")
    proc = rvmsim("run", p, check=False)
    assert proc.returncode == 2
    assert f"{p}: target kernel runs on at most 8 CPUs, the scenario says cpus 9" in proc.stderr
    assert "cpus: 1..8" in rvmsim("targets", "kernel").stdout


def interrupted_sweep(rvmsim, scenario, db, sig, group):
    """Start a long sweep, wait for its first progress line, send `sig` (to the whole process
    group, as Ctrl-C does, or to the parent only) and return (exit code, stdout, stderr)."""
    proc = subprocess.Popen([rvmsim.path, "sweep", scenario, "--seeds", "1..100000000", "--jobs",
                             "2", "--progress", "--db", db], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, start_new_session=True)
    seen = b""
    while b"runs/s" not in seen:
        chunk = os.read(proc.stderr.fileno(), 4096)
        assert chunk, "the sweep ended before its first progress line"
        seen += chunk
    if group:
        os.killpg(proc.pid, sig)
    else:
        proc.send_signal(sig)
    out, err = proc.communicate(timeout=60)
    return proc.returncode, out.decode(), (seen + err).decode()


@pytest.mark.parametrize("sig_name,group,code", [("SIGINT", True, 130), ("SIGTERM", False, 143)])
def test_sweep_interrupted_by_a_signal_stops_cleanly(rvmsim, tmp_path, sig_name, group, code):
    db = tmp_path / "s.db"
    rc, out, err = interrupted_sweep(rvmsim, SMOKE, db, getattr(signal, sig_name), group)
    assert rc == code, (rc, out, err)
    m = re.fullmatch(r"(\d+) passed, 0 failed", out.strip().splitlines()[-1])
    assert m, out
    done = int(m.group(1))
    assert 0 < done < 100000000
    assert f"interrupted by {sig_name} after {done} of 100000000 seeds" in err
    con = sqlite3.connect(db)
    rows = con.execute("SELECT seed, status, result FROM runs").fetchall()
    assert len(rows) == done == len({seed for seed, _, _ in rows})  # every reported run, once
    assert all(status == "complete" and result == "pass" for _, status, result in rows)


def test_sweep_interrupted_keeps_its_failures(rvmsim, tmp_path):
    p = write(tmp_path, "flip.scn", SMOKE.read_text().replace(
        "faults default", "faults default\nenable ring_bitflip 1/400"))
    db = tmp_path / "s.db"
    rc, out, err = interrupted_sweep(rvmsim, p, db, signal.SIGINT, True)
    assert rc == 3, (rc, out, err)  # the class of the failures found, not the signal
    fails = re.findall(r"^FAIL seed=(\d+) safety", out, re.M)
    m = re.fullmatch(r"(\d+) passed, (\d+) failed", out.strip().splitlines()[-1])
    assert fails and int(m.group(2)) == len(fails)
    con = sqlite3.connect(db)
    stored = {seed for (seed,) in con.execute(
        "SELECT seed FROM runs WHERE result='safety' AND content='full'")}
    assert stored == {int(s) for s in fails}


def test_sweep_stores_every_failing_log_even_when_its_last_record_is_corrupted(rvmsim, tmp_path):
    # Seeds 1..2000 of this scenario include runs whose corrupted record is the last one the
    # store receives in a batch; the store once took that for a key mismatch and lost the run.
    p = write(tmp_path, "flip.scn", SMOKE.read_text().replace(
        "faults default", "faults default\nenable ring_bitflip 1/400"))
    db = tmp_path / "s.db"
    proc = rvmsim("sweep", p, "--seeds", "1..2000", "--jobs", "2", "--db", db, check=False)
    assert proc.returncode == 3 and "storing runs" not in proc.stderr, proc.stderr
    fails = {int(s) for s in re.findall(r"^FAIL seed=(\d+) ", proc.stdout, re.M)}
    con = sqlite3.connect(db)
    full = dict(con.execute("SELECT seed, id FROM runs WHERE content='full'"))
    assert set(full) == fails
    for seed, run_id in full.items():
        count = con.execute("SELECT record_count FROM runs WHERE id=?", (run_id,)).fetchone()[0]
        assert len(records_of_run(con, run_id)) == count > 0, seed


def test_a_damaged_failing_run_can_be_shown_and_exported(rvmsim, tmp_path):
    p = write(tmp_path, "flip.scn", SMOKE.read_text().replace(
        "faults default", "faults default\nenable ring_bitflip 1/400"))
    db = tmp_path / "s.db"
    out = rvmsim("sweep", p, "--seeds", "1..300", "--jobs", "2", "--db", db, check=False).stdout
    # a run whose damage is in a record's own sequence number
    m = re.search(r"^FAIL seed=(\d+) safety .*record (\d+) as received by the sink fails "
                  r"verification: WITNESS_SEQUENCE", out, re.M)
    assert m, out
    seed, bad = int(m.group(1)), int(m.group(2))
    con = sqlite3.connect(db)
    run_id, digest = con.execute("SELECT id, digest FROM runs WHERE seed=? AND content='full'",
                                 (seed,)).fetchone()
    images = records_of_run(con, run_id)
    own = int.from_bytes(images[bad][0:8], "little")
    assert own != bad  # the damage the failure names
    # show prints every requested row, names the damaged one, and exits 1
    proc = rvmsim("show", "--db", db, "--run", run_id, "--from", bad - 1, "--count", 3,
                  check=False)
    assert proc.returncode == 1
    rows = proc.stdout.strip().splitlines()[1:]
    assert [int(r.split()[0]) for r in rows] == [bad - 1, own, bad + 1][:len(rows)]
    assert len(rows) == min(3, len(images) - bad + 1)
    assert f"stored at seq {bad} says it is seq {own} (damaged)" in proc.stderr
    # export keeps the bytes as stored: their SHA-256 is the run's recorded digest
    raw = tmp_path / "run.raw"
    rvmsim("export", "--db", db, "--run", run_id, "--format", "raw", "-o", raw)
    assert raw.read_bytes() == b"".join(images)
    assert hashlib.sha256(raw.read_bytes()).digest() == digest
    # and diff finds the damage: against the same records up to it, with that one repaired
    repaired = tmp_path / "repaired.raw"
    repaired.write_bytes(b"".join(images[:bad]) + bad.to_bytes(8, "little") + images[bad][8:])
    imported = rvmsim("import", "--db", db, repaired, "--allow-unsealed")
    clean = int(re.search(r"run (\d+)", imported.stdout).group(1))
    proc = rvmsim("diff", "--db", db, run_id, clean, check=False)
    assert proc.returncode == 1, proc.stderr
    assert proc.stdout.startswith(f"first divergence at seq {bad}\n"), proc.stdout


def test_show_refuses_a_store_whose_columns_were_altered(rvmsim, tmp_path):
    db = tmp_path / "runs.db"
    run_id = summary(rvmsim("run", SMOKE, "--seed", 3, "--db", db))["run"]
    con = sqlite3.connect(db)
    con.execute("UPDATE records SET kind = (kind + 1) % 256 WHERE key = ?", ((run_id << 40) | 5,))
    con.commit()
    proc = rvmsim("show", "--db", db, "--run", run_id, check=False)
    assert proc.returncode == 1
    assert "record 5: the stored columns disagree with the record image" in proc.stderr


def test_a_clock_jump_too_far_is_a_usage_error(rvmsim, tmp_path):
    # 100 s of 20 us time slices in one advance: found by tests/fuzz/fuzz_scenarios.py, once an
    # internal error; a shorter jump of the same file runs
    text = "target kernel slice=20us\ncpus 1\n@{}\n"
    proc = rvmsim("run", write(tmp_path, "jump.scn", text.format("100s")), check=False)
    assert proc.returncode == 2, proc.stdout
    assert re.search(r"^FAIL usage \[scenario\.clock-jump\] before the first operation "
                     r"\(\S*jump\.scn:3\).*advance it in smaller steps", proc.stdout, re.M), \
        proc.stdout
    assert summary(proc)["result"] == "usage"
    assert summary(rvmsim("run", write(tmp_path, "ok.scn", text.format("100ms"))))["result"] == \
        "pass"


def test_version_names_the_commit_that_was_built(rvmsim):
    # regenerated at every build (meson vcs_tag), not frozen when the build directory was set up
    head = subprocess.run(["git", "-C", str(SOURCE_ROOT), "rev-parse", "--short=12", "HEAD"],
                          capture_output=True, text=True)
    if head.returncode != 0:
        pytest.skip("not a git checkout")
    out = rvmsim("--version").stdout.strip()
    assert re.fullmatch(r"rvmsim \d+\.\d+\.\d+ \(([0-9a-f]{12}|[\w.-]+-g[0-9a-f]{12})(-dirty)?\)",
                        out), out
    assert head.stdout.strip() in out, (out, head.stdout)


def test_numbers_on_the_command_line_are_decimal_unless_0x(rvmsim, source_root):
    scn = source_root / "scenarios" / "kernel-boot.scn"

    def seed_of(text):
        out = rvmsim("run", scn, "--seed", text).stdout.splitlines()[-1]
        return int(out.split("seed=")[1].split()[0])

    assert seed_of("010") == 10  # not octal 8
    assert seed_of("09") == 9  # not an invalid octal number
    assert seed_of("0x10") == 16
    assert seed_of("18446744073709551615") == 2**64 - 1
    for bad in ("0x", "-1", "1e3", "0x-1", "18446744073709551616"):
        assert rvmsim("run", scn, "--seed", bad, check=False).returncode == 2, bad


def test_mistyped_command_gets_a_suggestion(rvmsim):
    proc = rvmsim("sweeep", check=False)
    assert proc.returncode == 2
    assert "did you mean 'sweep'?" in proc.stderr
    proc = rvmsim("xyzzy", check=False)
    assert proc.returncode == 2 and "did you mean" not in proc.stderr
    usage = rvmsim("--help").stdout
    assert "rvmsim --version" in usage and "rvmsim help <command>" in usage
    assert "7 diverged" in usage


def test_targets_options_are_not_target_names(rvmsim):
    assert rvmsim("targets", "-h").stdout.startswith("usage: rvmsim targets")
    proc = rvmsim("targets", "--bogus", check=False)
    assert proc.returncode == 2 and "unknown option '--bogus'" in proc.stderr
    proc = rvmsim("targets", "kernal", check=False)
    assert proc.returncode == 2 and "the targets are: witness, kernel" in proc.stderr


def test_sweep_off_a_terminal_prints_plain_progress_lines(rvmsim):
    """Issue: off a TTY a sweep printed nothing until its summary (CI logs looked hung)."""
    proc = rvmsim("sweep", SMOKE, "--seeds", "1..300", "--jobs", "2")
    lines = [l for l in proc.stderr.splitlines() if re.match(r"sweep: \d+/300 \(", l)]
    assert lines, proc.stderr
    assert "\r" not in proc.stderr and "\033[K" not in proc.stderr
    quiet = rvmsim("sweep", SMOKE, "--seeds", "1..300", "--jobs", "2", "--no-progress")
    assert not re.search(r"sweep: \d+/300 \(", quiet.stderr)
