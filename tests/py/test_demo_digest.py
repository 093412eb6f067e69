"""`rvmsim demo` end to end: the printed digest is sha256 of the exported bytes (by hashlib and
by the sha256sum tool), every record's prev_link is the previous chain value per an independent
SHA-256 model, and the record layout decodes as docs/witness-format.md says."""
import hashlib
import re
import shutil
import struct
import subprocess

import pytest

from sha256_model import IV, compress, state_bytes


def run_demo(rvmsim, tmp_path, *extra):
    out = tmp_path / "demo.witness"
    proc = rvmsim("demo", "--export", out, *extra)
    digest = re.search(r"digest=([0-9a-f]{64})", proc.stdout).group(1)
    chain = re.search(r"chain=([0-9a-f]{64})", proc.stdout).group(1)
    records = int(re.search(r"records=(\d+)", proc.stdout).group(1))
    return out.read_bytes(), digest, chain, records


@pytest.mark.parametrize("seed,count", [(1, 1000), (7, 1), (99, 257), (2**64 - 1, 64)])
def test_digest_equals_hashlib_and_sha256sum(rvmsim, tmp_path, seed, count):
    data, digest, _, records = run_demo(rvmsim, tmp_path, "--seed", seed, "--records", count)
    assert records == count
    assert len(data) == 64 * count
    assert hashlib.sha256(data).hexdigest() == digest
    tool = shutil.which("sha256sum")
    if tool:
        out = subprocess.run([tool, tmp_path / "demo.witness"], capture_output=True, text=True,
                             check=True).stdout
        assert out.split()[0] == digest


def test_chain_links_match_independent_model(rvmsim, tmp_path):
    data, digest, chain, records = run_demo(rvmsim, tmp_path, "--seed", 5, "--records", 300)
    state = list(IV)
    last_ts = 0
    for i in range(records):
        rec = data[64 * i:64 * (i + 1)]
        seq, ts = struct.unpack_from("<QQ", rec, 0)
        assert seq == i
        assert ts >= last_ts
        last_ts = ts
        assert rec[19] == 0 and rec[60:64] == b"\0\0\0\0"
        expected_link = b"\0" * 8 if i == 0 else state_bytes(state)[:8]
        assert rec[44:52] == expected_link, f"record {i}"
        state = compress(state, rec)
    assert state_bytes(state).hex() == chain


def test_same_seed_same_digest_different_seed_different_digest(rvmsim, tmp_path):
    a = run_demo(rvmsim, tmp_path, "--seed", 3)[1]
    b = run_demo(rvmsim, tmp_path, "--seed", 3)[1]
    c = run_demo(rvmsim, tmp_path, "--seed", 4)[1]
    assert a == b
    assert a != c


def test_providers_give_identical_logs(rvmsim, tmp_path):
    a = run_demo(rvmsim, tmp_path, "--seed", 11, "--crypto", "openssl")
    b = run_demo(rvmsim, tmp_path, "--seed", 11, "--crypto", "portable")
    assert a[0] == b[0] and a[1] == b[1]


def test_small_ring_drains_everything(rvmsim, tmp_path):
    data, digest, _, records = run_demo(rvmsim, tmp_path, "--ring", 2, "--records", 99,
                                        "--checkpoint-interval", 1)
    assert records == 99 and hashlib.sha256(data).hexdigest() == digest


@pytest.mark.parametrize("args,message", [
    (["--records", "0"], "--records"),
    (["--records", "abc"], "--records"),
    (["--ring", "3"], "--ring"),
    (["--seed", "-1"], "--seed"),
    (["--crypto", "md5"], "--crypto"),
    (["--bogus"], "unrecognized option"),
    (["extra"], "unexpected argument"),
])
def test_bad_arguments_exit_2_with_message(rvmsim, args, message):
    proc = rvmsim("demo", *args, check=False)
    assert proc.returncode == 2
    assert message in proc.stderr


def test_help_and_unknown_command(rvmsim):
    assert "usage: rvmsim demo" in rvmsim("demo", "--help").stdout
    assert "commands:" in rvmsim("--help").stdout
    proc = rvmsim("no-such-command", check=False)
    assert proc.returncode == 2 and "unknown command" in proc.stderr
    proc = rvmsim(check=False)
    assert proc.returncode == 2


def test_unwritable_export_fails_cleanly(rvmsim, tmp_path):
    proc = rvmsim("demo", "--export", tmp_path / "missing-dir" / "x.witness", check=False)
    assert proc.returncode != 0
    assert "cannot write" in proc.stderr
