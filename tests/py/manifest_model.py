"""The store manifest's byte layout (docs/replay-store.md, "Store manifest"), written from the
doc with hashlib and struct: the independent oracle of the manifest tests, and the forger an
attacker with write access to the store would write."""
import hashlib
import sqlite3
import struct

MASK = (1 << 64) - 1
RUN_COLUMNS = ("source, scenario_sha256, options, target, seed, result, record_count, digest, "
               "status, content, key_source, command, build_id, core_version, platform, "
               "exit_code, checkpoint_count, chain, outcome, created_at, "
               "(SELECT hmac FROM checkpoints c WHERE c.run = runs.id AND c.seal = 1)")


def _sql(path, statement, *params):
    con = sqlite3.connect(path)
    try:
        rows = con.execute(statement, params).fetchall()
        con.commit()
        return rows
    finally:
        con.close()


def field(v):
    """A text or blob column: LE32 length and bytes; NULL is LE32 0xFFFFFFFF."""
    if v is None:
        return b"\xff\xff\xff\xff"
    data = v.encode() if isinstance(v, str) else bytes(v)
    return struct.pack("<I", len(data)) + data


def opt_int(v):
    return b"\x00" if v is None else b"\x01" + struct.pack("<Q", v & MASK)


def run_digests(row):
    (source, scenario_sha, options, target, seed, result, count, digest, status, content,
     key_source, command, build_id, core_version, platform, exit_code, cps, chain, outcome,
     created_at, seal_hmac) = row
    identity = hashlib.sha256(
        b"rvm-manifest identity 1" + field(source) + field(scenario_sha) + field(options) +
        field(target) + opt_int(seed) + field(result) + struct.pack("<Q", count & MASK) +
        field(digest)).digest()
    run_digest = hashlib.sha256(
        b"rvm-manifest run 1" + identity + field(status) + field(content) + field(key_source) +
        field(command) + field(build_id) + field(core_version) + field(platform) +
        opt_int(exit_code) + struct.pack("<Q", cps & MASK) + field(chain) + field(outcome) +
        field(created_at) + field(seal_hmac)).digest()
    return identity, run_digest, content != "summary"


def entry_hash(seq, prev, op, run, ref, full, identity, run_digest):
    return hashlib.sha256(b"rvm-manifest entry 1" + struct.pack("<Q", seq) + prev +
                          bytes([1 if op == "add" else 2]) + struct.pack("<QQ", run, ref) +
                          bytes([1 if full else 0]) + identity + run_digest).digest()


def forge_manifest(db):
    """Rewrite the manifest to list exactly the store's complete runs (one add each, by id),
    every hash recomputed: what an attacker does after deleting or changing runs. Returns the
    new head."""
    rows = _sql(db, f"SELECT id, {RUN_COLUMNS} FROM runs WHERE status = 'complete' ORDER BY id")
    _sql(db, "DELETE FROM manifest")
    prev = bytes(32)
    for seq, (run, *row) in enumerate(rows):
        identity, rd, full = run_digests(row)
        h = entry_hash(seq, prev, "add", run, 0, full, identity, rd)
        _sql(db, "INSERT INTO manifest VALUES (?, 'add', ?, 0, ?, ?, ?, ?, ?, ?)", seq, run,
             int(full), row[6], row[7], identity, rd, h)
        prev = h
    return prev
