"""An independent reader of the operation tape, written from docs/tape-format.md alone.

The tests decode what `rvmsim run --tape` wrote with this module and compare it with what the
run printed and stored, so the format documentation and the C encoder are checked against each
other rather than against themselves.
"""
import hashlib
import struct

HEADER_BYTES = 512
CONFIG_FIELDS = [
    "arch", "ncpus", "nvmids", "ram_base", "ram_pages", "max_order", "max_partitions",
    "max_caps", "max_regions", "max_channels", "queue_depth", "msg_bytes", "max_devices",
    "witness_ring", "checkpoint_interval", "coherence_nodes", "scratch_pages", "image_bytes",
    "max_images", "epoch_ns", "slice_ns", "max_lease_ns", "max_window_ns", "restart_limit",
    "recovery_epochs", "max_caps_per_partition", "max_delegation_depth", "apply_decisions",
]
ENTRY_NAMES = [
    "boot_phase", "boot_load", "partition_create", "partition_start", "partition_suspend",
    "partition_resume", "partition_hibernate", "partition_reconstruct", "partition_destroy",
    "partition_checkpoint", "region_create", "region_map", "region_unmap", "region_destroy",
    "region_share", "cap_grant", "cap_revoke", "cap_attenuate", "cap_epoch_advance",
    "cap_epoch_revoke", "channel_create", "channel_destroy", "ipc_send", "ipc_receive",
    "device_register", "lease_grant", "lease_renew", "lease_revoke", "partition_split",
    "partition_merge", "partition_fault", "guest_fault", "core_crash", "timer", "epoch",
    "schedule", "irq", "cpu_offline", "cpu_online", "hypercall", "flip_image_bit",
    "witness_flush", "witness_seal", "guest_access",
]
HOOK_NAMES = [
    "clock_now_ns", "timer_arm", "witness_drain", "witness_checkpoint", "s2_map", "s2_unmap",
    "s2_activate", "guest_read", "guest_write", "irq_configure", "coherence_budget",
]


class TapeError(Exception):
    pass


def parse(data: bytes):
    """Returns (header dict, list of entries); raises TapeError on anything malformed."""
    if len(data) < HEADER_BYTES:
        raise TapeError("truncated header")
    if data[0:8] != b"RVMTAPE\0":
        raise TapeError("bad magic")
    version, size = struct.unpack_from("<II", data, 8)
    body_bytes, entries, seed = struct.unpack_from("<QQQ", data, 16)
    if version != 1 or size != HEADER_BYTES:
        raise TapeError("bad version")
    if body_bytes != len(data) - HEADER_BYTES:
        raise TapeError("body length")
    want = hashlib.sha256(data[:480] + data[HEADER_BYTES:]).digest()
    if data[480:512] != want:
        raise TapeError("checksum")
    config = dict(zip(CONFIG_FIELDS, struct.unpack_from("<28Q", data, 40)))
    wlen, clen = struct.unpack_from("<II", data, 264)
    header = {
        "version": version, "entries": entries, "seed": seed, "config": config,
        "witness_key": data[272:272 + wlen], "cap_key": data[336:336 + clen],
        "end_records": struct.unpack_from("<Q", data, 400)[0],
        "end_digest": data[408:440].hex(),
    }
    if any(data[440:480]):
        raise TapeError("reserved header bytes")
    out = []
    pos = HEADER_BYTES
    while pos < len(data):
        etype, code, length = struct.unpack_from("<HHI", data, pos)
        if length < 8 or length % 8 or pos + length > len(data):
            raise TapeError(f"entry at {pos}: length {length}")
        if etype == 1:
            cpu, flags, actor, expect, time_ns = struct.unpack_from("<IIIiQ", data, pos + 8)
            cap, nonce, nb, na = struct.unpack_from("<4Q", data, pos + 32)
            args = list(struct.unpack_from("<8Q", data, pos + 64))
            dlen = struct.unpack_from("<I", data, pos + 128)[0]
            if length != 136 + (dlen + 7) // 8 * 8:
                raise TapeError(f"call at {pos}: length {length} with payload {dlen}")
            out.append({"type": "call", "entry": ENTRY_NAMES[code], "cpu": cpu, "flags": flags,
                        "actor": actor, "expect": expect, "time_ns": time_ns,
                        "auth": (cap, nonce, nb, na), "args": args,
                        "data": data[pos + 136:pos + 136 + dlen]})
        elif etype == 2:
            if length != 24:
                raise TapeError(f"answer at {pos}: length {length}")
            flags, value = struct.unpack_from("<I4xQ", data, pos + 8)
            out.append({"type": "answer", "hook": HOOK_NAMES[code], "flags": flags,
                        "value": value})
        elif etype == 3:
            if length != 48:
                raise TapeError(f"end at {pos}: length {length}")
            records = struct.unpack_from("<Q", data, pos + 8)[0]
            out.append({"type": "end", "records": records,
                        "digest": data[pos + 16:pos + 48].hex()})
        else:
            raise TapeError(f"entry at {pos}: type {etype}")
        pos += length
    if len(out) != entries:
        raise TapeError(f"{len(out)} entries, header says {entries}")
    return header, out
