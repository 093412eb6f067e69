"""Two defects scenario authors found (both failed before their fix):
1. a capability operation with a stale authority and no actor ran as the hypervisor;
2. entering degraded mode at boot (no coherence engine) was not witnessed.
"""
import json
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[2]


def test_stale_authority_without_actor_is_refused(rvmsim):
    proc = rvmsim("run", ROOT / "scenarios" / "kernel-defaults.scn", check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.splitlines()[-1].endswith("result=pass")


def test_degraded_mode_at_boot_is_witnessed(rvmsim, tmp_path):
    for coherence, want in (("0", 1), ("1", 0)):
        scn = tmp_path / f"c{coherence}.scn"
        scn.write_text(f"target kernel partitions=4 images=0 coherence={coherence}\n"
                       "cpus 1\nfaults none\npartition_create as A\n")
        db = tmp_path / f"c{coherence}.db"
        rvmsim("run", scn, "--db", db)
        out = rvmsim("show", "--db", db, "--run", "1", "--json").stdout
        kinds = [json.loads(line)["kind"] for line in out.splitlines() if line.strip()]
        assert kinds.count("DegradedModeEntered") == want, kinds
        if want:  # right after the scheduler's boot phase (phase 4)
            i = kinds.index("DegradedModeEntered")
            assert kinds[i - 1] == "BootPhase" and kinds[:i].count("BootPhase") == 5
