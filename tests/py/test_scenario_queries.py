"""Issue 19: queries about one object, two-value and delta expectations, actor=hypervisor, an
operation per argument pattern in random blocks, and the coverage ledger of sweeps."""
import pathlib
import sqlite3

ROOT = pathlib.Path(__file__).resolve().parents[2]
HEAD = "target kernel partitions=4 images=0 epoch=1ms slice=20us\ncpus 1\nfaults none\n"


def scenario(tmp_path, body, name="q.scn"):
    path = tmp_path / name
    path.write_text(HEAD + body)
    return path


def test_a_wrong_delta_fails_and_names_both_sides(rvmsim, tmp_path):
    # a revoke of a capability with two descendants removes three capabilities
    body = ("partition_create as A\npartition_create as B\nregion_create owner=A as R\n"
            "cap_lookup holder=A region=R as RA\n"
            "cap_grant source=RA recipient=B rights=0x0d as RB\n"
            "cap_grant source=RB recipient=A rights=0x05 as RBA\n"
            "cap_grant source=RBA recipient=B rights=0x01\n"
            "cap_revoke authority=RA target=RB\nexpect caps delta == {}\n")
    ok = rvmsim("run", scenario(tmp_path, body.format("-3"), "ok.scn"), check=False)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    bad = rvmsim("run", scenario(tmp_path, body.format("-2"), "bad.scn"), check=False)
    assert bad.returncode == 1
    assert "expected caps delta == -2, got -3" in bad.stdout


def test_values_of_one_object_and_of_two(rvmsim, tmp_path):
    body = ("partition_create as A\npartition_create as B\n"
            "channel_create sender=A receiver=B as AB\n"
            "ipc_send channel=AB len=4\nipc_send channel=AB len=4\n"
            "expect channel.length(AB) == 2\nexpect messages == channel.length(AB)\n"
            "expect part.state(A) == 1\n"            # created, never started
            "partition_destroy part=B\nexpect ok\n"
            "expect channel.length(AB) == 18446744073709551615\n"
            "expect part.state(B) == 18446744073709551615\n")
    proc = rvmsim("run", scenario(tmp_path, body), check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_actor_hypervisor_is_actor_zero_only_when_named(rvmsim, tmp_path):
    body = ("partition_create as A\npartition_create as B\nregion_create owner=A as R\n"
            "cap_lookup holder=A region=R as RA\n"
            "cap_grant source=RA recipient=B rights=0x0d as RB\n"
            "cap_revoke authority=RA target=RB\n"
            "cap_revoke authority=RB target=RA\nexpect refused\n"          # default: refused
            "cap_revoke authority=RB target=RA actor=hypervisor\nexpect ok\n"
            "expect cap.live(RA) == 0\n")
    proc = rvmsim("run", scenario(tmp_path, body), check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_parse_errors_of_the_new_syntax(rvmsim, tmp_path):
    cases = [
        ("partition_create as A\nexpect cap.rights == 1\n", "asks about one cap"),
        ("partition_create as A\nexpect caps(A) == 1\n", "takes no object"),
        ("partition_create as A\nexpect cap.rights(A) == 1\n", "'A' is a partition"),
        ("expect caps delta == -1\n", "'delta' needs an operation line"),
        ("partition_create as A\nexpect caps delta == minus\n", "expected a signed integer"),
        ("partition_create as A\nexpect caps == nosuch\n", "unknown value 'nosuch'"),
        ("random 5\n  epoch 1\n  epoch 2\nend\n", "listed twice"),
    ]
    for body, message in cases:
        proc = rvmsim("run", scenario(tmp_path, body), check=False)
        assert proc.returncode == 2, (body, proc.stdout, proc.stderr)
        assert message in proc.stderr, (body, proc.stderr)
    ok = scenario(tmp_path, "random 5\n  region_create 1 pages=1\n  region_create 1 pages=2\nend\n")
    assert rvmsim("run", ok, check=False).returncode == 0


def test_sweep_coverage_prints_stores_and_lists_never_hit(rvmsim, tmp_path):
    smoke = ROOT / "scenarios" / "kernel-smoke.scn"
    db = tmp_path / "c.db"
    out = rvmsim("sweep", smoke, "--seeds", "1..20", "--jobs", "2", "--no-progress",
                 "--coverage", "--db", db).stdout
    assert "coverage over 20 seeds (43 probes):" in out
    assert "never hit (" in out and "never hit, rare (" in out
    rows = sqlite3.connect(db).execute(
        "SELECT probe, rare, seeds_hit, seeds, first_seed, last_seed, faults FROM coverage"
    ).fetchall()
    assert len(rows) == 43
    assert all(r[3] == 20 and r[4] == 1 and r[5] == 20 and r[6] == "swarm" for r in rows)
    for probe, _, hit, *_ in rows:  # the printed count is the stored one
        assert any(line.split()[:2] == [probe, str(hit)] for line in out.splitlines())
    brief = rvmsim("sweep", smoke, "--seeds", "1..20", "--jobs", "2", "--no-progress",
                   "--coverage=brief").stdout
    assert "coverage over" not in brief and "never hit (" in brief
    bad = rvmsim("sweep", smoke, "--seeds", "1..2", "--coverage=all", check=False)
    assert bad.returncode == 2
