"""A plain Python model of the dormant-image compressor (docs/memory.md, "Dormant images").

Written from the format and the encoder's rule, with none of the C encoder's shortcuts: the match
table is a list of 4096 zeros per image, and matches are extended one byte at a time.

The rule: walk the input with a one-entry-per-bucket table of 4-byte keys (hash = key * 2654435761
mod 2^32, top 12 bits; every bucket starts at position 0). At each position take the bucket's
previous position as the candidate and store this one; when the candidate is earlier and its 4
bytes equal, extend the match as far as the bytes agree, and take it when its offset's LEB128
length + 1 is below the match length. After a match, the position two before its end is entered
into the table. Otherwise step 1 + (literals pending) / 64 positions.
"""
import hashlib
import struct

HEADER = 64
MIN_MATCH = 4
NIBBLE = 15
HASH_BITS = 12

OK = 0
ERR_INVALID_ARGUMENT = 0x001
ERR_OUT_OF_RANGE = 0x002
ERR_NO_SPACE = 0x004


def leb128(v):
    out = bytearray()
    while v >= 0x80:
        out.append((v & 0x7F) | 0x80)
        v >>= 7
    out.append(v)
    return bytes(out)


def hash4(raw, pos):
    key = int.from_bytes(raw[pos:pos + 4], "little")
    return ((key * 2654435761) & 0xFFFFFFFF) >> (32 - HASH_BITS)


def sequence(literals, offset, match_len):
    lit = min(len(literals), NIBBLE)
    m = 0 if match_len == 0 else min(match_len - MIN_MATCH, NIBBLE)
    out = bytearray([lit << 4 | m])
    if lit == NIBBLE:
        out += leb128(len(literals) - NIBBLE)
    out += literals
    if match_len:
        out += leb128(offset)
        if m == NIBBLE:
            out += leb128(match_len - MIN_MATCH - NIBBLE)
    return bytes(out)


def lz_body(raw):
    n = len(raw)
    table = [0] * (1 << HASH_BITS)
    body = bytearray()
    anchor = ip = 0
    while n >= MIN_MATCH and ip <= n - MIN_MATCH:
        h = hash4(raw, ip)
        cand = table[h]
        table[h] = ip
        if cand < ip and raw[cand:cand + 4] == raw[ip:ip + 4]:
            length = MIN_MATCH
            while ip + length < n and raw[cand + length] == raw[ip + length]:
                length += 1
            offset = ip - cand
            if len(leb128(offset)) + 1 < length:
                body += sequence(raw[anchor:ip], offset, length)
                ip += length
                anchor = ip
                if ip >= 2 and ip - 2 <= n - MIN_MATCH:
                    table[hash4(raw, ip - 2)] = ip - 2
                continue
        ip += 1 + ((ip - anchor) >> 6)
    body += sequence(raw[anchor:], 0, 0)
    return bytes(body)


def compress(raw, image_cap):
    """(result code, image, checkpoint hash) as rvm_compress gives them."""
    n = len(raw)
    if n == 0:
        return ERR_INVALID_ARGUMENT, None, None
    if image_cap < HEADER + 1:
        return ERR_NO_SPACE, None, None
    room = image_cap - HEADER
    body = lz_body(raw)
    method = 1
    if len(body) > min(room, n - 1):
        if room < n:
            return ERR_NO_SPACE, None, None
        method, body = 0, bytes(raw)
    header = b"RVMZ" + struct.pack("<BBHQQ", 1, method, 0, n, len(body))
    header += hashlib.sha256(raw).digest() + bytes(8)
    image = header + body
    return OK, image, hashlib.sha256(image).digest()
