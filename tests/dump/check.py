#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""check.py - the assertions of the capture tests (tests/dump/t_*.sh).

  check.py json DUMP.jsonl
      every line is one JSON object; the last is the summary; prints the
      number of items
  check.py trace DECODE_TRACE DUMP.txt
      kdcom-client --trace decode lines against kdcom-dump's text lines,
      direction by direction, packet by packet, field by field
  check.py same DUMP_A.jsonl DUMP_B.jsonl
      two kdcom-dump runs decoded the same items (times and frame
      numbers aside)
  check.py tshark PDML DUMP.jsonl
      the dissector's items (tshark -T pdml) against kdcom-dump's, field
      by field
  check.py stats DUMP.jsonl ROLE STATS_FILE
      the summary against a link's counters: ROLE client (a kdcom-client
      "stats:" line) or shim (kdcom-shim's "link:" line)
  check.py pcapng FILE SIDE
      the structure examples/common/pcapng.c promises, read independently
      of kdcom-dump: a section header, interfaces "debugger" and "target"
      on LINKTYPE_USER0 with microsecond timestamps, every block's two
      lengths equal, enhanced packet blocks on those interfaces with the
      direction flags of SIDE (debugger, target or none), times in order
  check.py count DUMP.jsonl EXPR EXPECTED
      how many items satisfy a Python expression over item `i` (a dict)

Exit status 0 when the check holds; otherwise the first difference is
printed and the status is 1.
"""
import json
import re
import sys
import xml.etree.ElementTree as ET


def fail(msg):
    print("check.py: FAIL: " + msg)
    sys.exit(1)


# ------------------------------------------------------------------ JSON

def load_json(path):
    items, summary = [], None
    with open(path, encoding="utf-8") as fh:
        lines = fh.read().split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    for n, line in enumerate(lines, 1):
        try:
            obj = json.loads(line)
        except ValueError as e:
            fail("%s line %d is not JSON (%s): %r" % (path, n, e, line[:200]))
        if not isinstance(obj, dict):
            fail("%s line %d is not a JSON object" % (path, n))
        if "summary" in obj:
            if n != len(lines):
                fail("%s: the summary is not the last line" % path)
            summary = obj["summary"]
        else:
            if obj.get("n") != len(items) + 1:
                fail("%s line %d: item number %r, expected %d"
                     % (path, n, obj.get("n"), len(items) + 1))
            items.append(obj)
    if summary is None:
        fail("%s: no summary line" % path)
    return items, summary


def cmd_json(path):
    items, summary = load_json(path)
    for i in items:
        for k in ("dir", "kind"):
            if k not in i:
                fail("%s: item %d has no %r" % (path, i["n"], k))
    print("%d items, %d directions in the summary"
          % (len(items), sum(1 for k in summary if k in ("D>T", "T>D"))))


PACKET_KINDS = ("data", "bad_checksum", "bad_trailer", "bad_size", "control",
                "breakin")


def by_dir(items, kinds=PACKET_KINDS):
    out = {}
    for i in items:
        if i["kind"] in kinds:
            out.setdefault(i["dir"], []).append(i)
    return out


# ------------------------------------------------- the client's trace

TOKEN = re.compile(r'(\w+)=("(?:[^"\\]|\\.)*"|\S+)|("(?:[^"\\]|\\.)*")|(\S+)')


def tokens(text):
    """key=value pairs (first occurrence), bare quoted strings, words."""
    kv, strings, words = {}, [], []
    for m in TOKEN.finditer(text):
        if m.group(1):
            kv.setdefault(m.group(1), m.group(2))
        elif m.group(3):
            strings.append(m.group(3))
        else:
            words.append(m.group(4))
    return kv, strings, words


def unescape(s):
    """kdcom-dump's C-style escapes back to bytes."""
    out, i = bytearray(), 0
    while i < len(s):
        c = s[i]
        if c == "\\" and i + 1 < len(s):
            n = s[i + 1]
            if n == "x":
                out.append(int(s[i + 2:i + 4], 16))
                i += 4
                continue
            if n == "u":
                out.append(int(s[i + 2:i + 6], 16) & 0xff)
                i += 6
                continue
            out.append({"n": 10, "r": 13, "t": 9}.get(n, ord(n)))
            i += 2
            continue
        out.append(ord(c))
        i += 1
    return bytes(out)


def trace_render(b, newline):
    """The way the example programs' trace shows a string."""
    s = []
    for c in b:
        if c == 10 and newline:
            s.append("\\n")
        else:
            s.append(chr(c) if 0x20 <= c < 0x7f else ".")
    return "".join(s)


def same_string(client, dump):
    """client: the trace's quoted string; dump: kdcom-dump's."""
    c = client[1:-1]
    cut = c.endswith("...")
    if cut:
        c = c[:-3]
    raw = unescape(dump[1:-1])
    for nl in (True, False):
        d = trace_render(raw, nl)
        if (cut and d.startswith(c)) or d == c:
            return True
    return False


def parse_dump_text(path):
    """kdcom-dump text lines: (dir, rest) for packet lines."""
    out = {}
    with open(path) as fh:
        for line in fh:
            f = line.split()
            if len(f) < 4 or not f[0].isdigit():
                continue  # the summary
            d, rest = f[2], line.split(None, 3)[3].rstrip("\n")
            kind = rest.split()[0]
            if kind in ("NOISE", "INCOMPLETE", "GAP"):
                continue
            out.setdefault(d.split("#")[0], []).append(rest)
    return out


def parse_trace(path):
    out = {}
    with open(path) as fh:
        for line in fh:
            m = re.match(r"^(D>T|T>D) (.*)$", line.rstrip("\n"))
            if m:
                out.setdefault(m.group(1), []).append(m.group(2))
    return out


def compare_trace_line(d, n, c, x):
    where = "%s packet %d:\n  client: %s\n  dump:   %s" % (d, n, c, x)
    cw = c.split()
    xw = x.split()
    if cw[0] == "BAD":
        if cw[1] == "checksum":
            m = re.match(r"BAD checksum (0x\w+) != (0x\w+) (\S+) id=(0x\w+)", c)
            if not m or ("sum=BAD(wire=%s,computed=%s)" % (m.group(1), m.group(2))
                         not in x) or xw[0] != m.group(3) or \
                    xw[1] != "id=" + m.group(4):
                fail("bad checksum differs, " + where)
            return
        if cw[1] == "trailer":
            m = re.match(r"BAD trailer (0x\w+) (\S+) id=(0x\w+)", c)
            if not m or "trailer=BAD(%s)" % m.group(1) not in x or \
                    xw[0] != m.group(2) or xw[1] != "id=" + m.group(3):
                fail("bad trailer differs, " + where)
            return
        m = re.match(r"BAD ByteCount=(\d+) type=(\d+)", c)
        if not m or "len=%s" % m.group(1) not in xw or "BAD_SIZE" not in x:
            fail("bad size differs, " + where)
        return
    if cw[0] == "BREAKIN":
        if xw[0] != "BREAKIN":
            fail("break-in differs, " + where)
        return
    # TYPE id=.. [len=..] then the KD message
    if cw[0] != xw[0] or cw[1] != xw[1]:
        fail("type or id differs, " + where)
    if len(cw) == 2:
        if len(xw) != 2:
            fail("control packet differs, " + where)
        return
    if cw[2] != xw[2]:
        fail("length differs, " + where)
    ckd = c.split(None, 3)[3] if len(cw) > 3 else ""
    xkd = x.split(None, 4)[4] if len(xw) > 4 else ""  # after sum=ok
    if xw[3] != "sum=ok":
        fail("checksum verdict differs, " + where)
    ckv, cstr, cwords = tokens(ckd)
    xkv, xstr, xwords = tokens(xkd)
    if cwords[:1] != xwords[:1]:
        # "N bytes" (a type without a message layout) is "bytes=N" here
        if not (len(cwords) == 2 and cwords[1] == "bytes" and
                xkv.get("bytes") == cwords[0]):
            fail("KD message name differs, " + where)
    shared = 0
    for k, v in ckv.items():
        for alias in ALIASES.get(k, ()):
            if k not in xkv and alias in xkv:
                xkv[k] = xkv[alias]
        if k not in xkv:
            if k in CORE:
                fail("field %s missing, %s" % (k, where))
            CLIENT_ONLY.add(k)
            continue
        shared += 1
        if v.startswith('"'):
            same = same_string(v, xkv[k])
        else:
            same = same_value(v, xkv[k])
        if not same and k in CORE:
            fail("field %s differs, %s" % (k, where))
        if not same:
            FORMAT_DIFFERS.add(k)
    for s in cstr:
        if not any(same_string(s, t) for t in list(xkv.values()) + xstr
                   if t.startswith('"')):
            fail("string %s missing, %s" % (s, where))
    return shared


# The fields that carry the meaning: both must print them, with equal
# values.  Other fields the client's trace prints are compared too, but a
# difference in how they are written (protocol=6.2 against protocol=6) is
# reported, not failed: the trace's format is the example programs' own.
CORE = {"addr", "count", "actual", "status", "continue_status", "trace",
        "code", "pc", "exception_addr", "first_chance", "cpu", "len", "read",
        "build", "machine", "kernbase", "handle", "base", "size", "path",
        "file", "file_size", "offset", "length", "msr", "value", "copied",
        "data", "bytes"}
# Other names of a field (a state change's "addr" is its exception
# address).
ALIASES = {"addr": ("exception_addr",), "exception_addr": ("addr",)}
# Fields the client's trace prints and kdcom-dump does not, or writes
# otherwise (reported).
CLIENT_ONLY = set()
FORMAT_DIFFERS = set()


def same_value(a, b):
    """Equal as numbers when both are numbers (0x0 == 0x00000000)."""
    try:
        return int(a, 0) == int(b, 0)
    except ValueError:
        return a == b


def cmd_trace(trace_path, dump_path):
    tr = parse_trace(trace_path)
    dp = parse_dump_text(dump_path)
    total = fields = 0
    for d in ("D>T", "T>D"):
        a, b = tr.get(d, []), dp.get(d, [])
        for n, (c, x) in enumerate(zip(a, b), 1):
            fields += compare_trace_line(d, n, c, x) or 0
        if len(a) != len(b):
            fail("%s: the client's trace has %d packets, kdcom-dump %d"
                 % (d, len(a), len(b)))
        total += len(a)
    if total == 0:
        fail("no packets in %s" % trace_path)
    print("%d packets decoded alike (D>T %d, T>D %d), %d KD fields compared"
          % (total, len(tr.get("D>T", [])), len(tr.get("T>D", [])), fields))
    if CLIENT_ONLY:
        print("note: fields only the client's trace prints: %s"
              % " ".join(sorted(CLIENT_ONLY)))
    if FORMAT_DIFFERS:
        print("note: fields written differently: %s"
              % " ".join(sorted(FORMAT_DIFFERS)))


# ------------------------------------------------------- dump vs dump

def strip(i):
    return {k: v for k, v in i.items()
            if k not in ("n", "frame", "line", "ts_us", "time", "conn")}


def merged(items):
    """Per direction; adjacent noise items merged (chunking splits them)."""
    out = {}
    for i in items:
        if i["kind"] in ("incomplete", "gap"):
            continue
        seq = out.setdefault(i["dir"], [])
        if i["kind"] == "noise" and seq and seq[-1]["kind"] == "noise":
            seq[-1] = dict(seq[-1], bytes=seq[-1]["bytes"] + i["bytes"])
        else:
            seq.append(strip(i))
    return out


def cmd_same(a_path, b_path):
    a, sa = load_json(a_path)
    b, sb = load_json(b_path)
    ma, mb = merged(a), merged(b)
    for d in sorted(set(ma) | set(mb)):
        x, y = ma.get(d, []), mb.get(d, [])
        for n, (p, q) in enumerate(zip(x, y), 1):
            if p != q:
                fail("%s item %d differs:\n  %s\n  %s" % (d, n, p, q))
        if len(x) != len(y):
            fail("%s: %d items against %d" % (d, len(x), len(y)))
    for d in ("D>T", "T>D"):
        if d in sa or d in sb:
            for k in ("packets", "data", "acks", "resends", "resets",
                      "retransmissions", "duplicates", "bad_checksum",
                      "noise_bytes", "breakins"):
                if sa.get(d, {}).get(k) != sb.get(d, {}).get(k):
                    fail("summary %s %s: %r against %r" % (
                        d, k, sa.get(d, {}).get(k), sb.get(d, {}).get(k)))
    print("%d items alike" % sum(len(v) for v in ma.values()))


# ------------------------------------------------------------ tshark

def pdml_items(path):
    """The dissector's items in order: dicts of field name -> show."""
    out = []
    root = ET.parse(path).getroot()
    for packet in root.iter("packet"):
        frame = None
        for proto in packet.findall("proto"):
            if proto.get("name") == "frame":
                for fld in proto.iter("field"):
                    if fld.get("name") == "frame.number":
                        frame = int(fld.get("show"))
            if proto.get("name") != "kdcom":
                continue
            fields = {"_frame": frame}
            for fld in proto.iter("field"):
                name = fld.get("name")
                if name not in fields:
                    fields[name] = fld.get("show")
            out.append(fields)
    return out


def num(v):
    return int(v, 0) if isinstance(v, str) else int(v)


# kdcom-dump KD field -> dissector field
KD_MAP = {
    "addr": "kdcom.kd.addr", "count": "kdcom.kd.count",
    "actual": "kdcom.kd.actual", "continue_status": "kdcom.kd.continue_status",
    "trace": "kdcom.kd.trace", "build": "kdcom.kd.version.build",
    "machine": "kdcom.kd.version.machine",
    "kernbase": "kdcom.kd.version.kernbase", "code": "kdcom.kd.exception.code",
    "pc": "kdcom.kd.pc", "first_chance": "kdcom.kd.exception.first_chance",
    "base": "kdcom.kd.load.base", "size": None, "handle": None,
    "data_len": "kdcom.kd.data_len",
}


def tshark_bytes(v):
    """A bytes field as PDML shows it ("73:69:6d")."""
    return bytes(int(x, 16) for x in v.split(":")) if v else b""


def cmd_tshark(pdml_path, dump_path):
    t = pdml_items(pdml_path)
    items, _ = load_json(dump_path)
    # the dissector cannot know where a capture ends: no "incomplete"
    want = [i for i in items if i["kind"] not in ("incomplete", "gap")]
    tm = {}
    for f in t:
        if f.get("kdcom.item") == "fragment":
            continue  # part of a packet shown in a later frame
        seq = tm.setdefault(f.get("kdcom.dir"), [])
        if f.get("kdcom.item") == "noise" and seq and \
                seq[-1].get("kdcom.item") == "noise":
            seq[-1]["kdcom.noise.len"] = str(int(seq[-1]["kdcom.noise.len"]) +
                                            int(f["kdcom.noise.len"]))
        else:
            seq.append(f)
    dm = merged(want)
    checked = 0
    retrans = [0, 0]  # retransmissions, duplicates seen alike
    for d in sorted(set(tm) | set(dm)):
        a, b = tm.get(d, []), dm.get(d, [])
        for n, (f, i) in enumerate(zip(a, b), 1):
            where = "%s item %d (frame %s):\n  tshark: %s\n  dump:   %s" % (
                d, n, f.get("_frame"), f, i)
            if f.get("kdcom.item") != i["kind"]:
                fail("kind differs, " + where)
            if i["kind"] == "noise":
                if num(f["kdcom.noise.len"]) != i["bytes"]:
                    fail("noise length differs, " + where)
                continue
            if i["kind"] == "breakin":
                continue
            if num(f["kdcom.type"]) != i["type"] or \
                    num(f["kdcom.id"]) != num(i["id"]) or \
                    num(f["kdcom.count"]) != i["len"] or \
                    num(f["kdcom.checksum"]) != num(i["checksum"]):
                fail("header differs, " + where)
            if i["kind"] in ("control", "bad_size"):
                continue
            if num(f["kdcom.checksum.status"]) != (1 if i["checksum_ok"] else 0) \
                    or num(f["kdcom.checksum.computed"]) != \
                    num(i["computed_checksum"]):
                fail("checksum verdict differs, " + where)
            if num(f["kdcom.retransmission"]) != int(i["retransmission"]) or \
                    num(f["kdcom.duplicate"]) != int(i["duplicate"]):
                fail("retransmission/duplicate verdict differs, " + where)
            retrans[0] += i["retransmission"]
            retrans[1] += i["duplicate"]
            kd = i.get("kd", {})
            if "api" in kd:
                api = f.get("kdcom.kd.api") or f.get("kdcom.kd.new_state")
                if api is None or num(api) != num(kd["api"]):
                    fail("KD api differs, " + where)
            for k, v in kd.items():
                tf = KD_MAP.get(k)
                if tf is None:
                    continue
                if tf not in f:
                    fail("field %s (%s) missing, %s" % (tf, k, where))
                if num(f[tf]) != num(v):
                    fail("field %s differs, %s" % (k, where))
            # strings: the message data the dissector shows them from
            data = tshark_bytes(f.get("kdcom.kd.data"))
            if i["type"] == 3 and "text" in kd:
                if "kdcom.kd.string" not in f and kd["text"]:
                    fail("no DbgPrint string, " + where)
                if data != kd["text"].encode("latin-1"):
                    fail("DbgPrint string differs, " + where)
            if "path" in kd and kd["path"]:
                if f.get("kdcom.kd.load.path") is None or \
                        data.split(b"\0")[0] != kd["path"].encode("latin-1"):
                    fail("LoadSymbols path differs, " + where)
            if i["type"] == 11 and kd.get("file"):
                if f.get("kdcom.kd.file.name") != kd["file"]:
                    fail("file name differs, " + where)
            if i["type"] == 11 and "status" in kd:
                if num(f["kdcom.kd.file.status"]) != num(kd["status"]):
                    fail("file status differs, " + where)
            elif i["type"] == 2 and "status" in kd:
                if num(f["kdcom.kd.status"]) != num(kd["status"]):
                    fail("status differs, " + where)
            checked += 1
        if len(a) != len(b):
            fail("%s: tshark shows %d items, kdcom-dump %d"
                 % (d, len(a), len(b)))
    if checked == 0:
        fail("no data packets compared")
    print("%d items alike in tshark and kdcom-dump (%d data packets field "
          "by field, %d retransmissions, %d duplicates)"
          % (sum(len(v) for v in dm.values()), checked, retrans[0],
             retrans[1]))


# ------------------------------------------------------------- stats

def stats_line(path, role):
    """The counters of a "stats:" (client) or "link:" (shim) line, by
    name: name=value words, the names of include/kdcom.h."""
    key = "stats: bytes_in=" if role == "client" else "kdcom-shim: link:"
    line = None
    with open(path) as fh:
        for l in fh:
            if key in l:
                line = l
    if line is None:
        fail("no %r line in %s" % (key, path))
    v = {}
    for tok in line.split():
        k, eq, x = tok.partition("=")
        if eq and x.isdigit():
            v[k] = int(x)
    return v, line.strip()


def cmd_stats(dump_path, role, path):
    _, s = load_json(dump_path)
    v, line = stats_line(path, role)
    d2t, t2d = s.get("D>T", {}), s.get("T>D", {})
    # role's own direction out, the other in
    mine, theirs = (d2t, t2d) if role == "client" else (t2d, d2t)
    want = {
        "retransmits": mine.get("retransmissions"),
        "resends_received": theirs.get("resends"),
        "resends_sent": mine.get("resends"),
        "resets_received": theirs.get("resets"),
        "duplicates": theirs.get("duplicates"),
        "bad_checksum": theirs.get("bad_checksum"),
        "bad_trailer": theirs.get("bad_trailer"),
        "bad_size": theirs.get("bad_size"),
        "noise_bytes": theirs.get("noise_bytes"),
    }
    if role == "client":
        want["resets_sent"] = mine.get("resets")
        want["bytes_in"] = theirs.get("bytes")
        want["bytes_out"] = mine.get("bytes")
    checked = []
    for k, x in want.items():
        if k not in v:
            fail("%s: no counter %r in: %s" % (role, k, line))
        if v[k] != x:
            fail("%s counter %s=%d, kdcom-dump says %r\n  %s\n  summary: %s"
                 % (role, k, v[k], x, line, json.dumps(s)))
        checked.append("%s=%d" % (k, v[k]))
    print("%s counters match the summary: %s" % (role, " ".join(checked)))


def cmd_count(dump_path, expr, expected):
    items, _ = load_json(dump_path)
    n = sum(1 for i in items if eval(expr, {}, {"i": i}))
    if n != int(expected):
        fail("%d items satisfy %s, expected %s" % (n, expr, expected))
    print("%d items satisfy %s" % (n, expr))


def cmd_pcapng(path, side):
    import struct
    import time
    data = open(path, "rb").read()
    off, ifs, packets, last_ts = 0, [], {0: 0, 1: 0}, 0
    want_flags = {"debugger": {0: 2, 1: 1}, "target": {0: 1, 1: 2},
                  "none": {0: 0, 1: 0}}[side]
    while off < len(data):
        if off + 12 > len(data):
            fail("%s: %d stray bytes at the end" % (path, len(data) - off))
        btype, total = struct.unpack_from("<II", data, off)
        if total < 12 or total % 4 or off + total > len(data):
            fail("%s: block at %d has length %d" % (path, off, total))
        if struct.unpack_from("<I", data, off + total - 4)[0] != total:
            fail("%s: block at %d: the two lengths differ" % (path, off))
        body = data[off + 8:off + total - 4]
        if off == 0:
            if btype != 0x0A0D0D0A or body[:4] != b"\x4d\x3c\x2b\x1a":
                fail("%s: no little-endian section header first" % path)
        elif btype == 1:
            lt, _, snap = struct.unpack_from("<HHI", body)
            opts, p = {}, 8
            while p + 4 <= len(body):
                code, ln = struct.unpack_from("<HH", body, p)
                if code == 0:
                    break
                opts[code] = body[p + 4:p + 4 + ln]
                p += 4 + ln + (-ln % 4)
            ifs.append((lt, opts.get(2), opts.get(9)))
        elif btype == 6:
            iface, hi, lo, cap, orig = struct.unpack_from("<IIIII", body)
            if iface not in (0, 1) or cap != orig or 20 + cap > len(body):
                fail("%s: packet block at %d: interface %d, %d/%d bytes"
                     % (path, off, iface, cap, orig))
            p = 20 + cap + (-cap % 4)
            code, ln, flags = struct.unpack_from("<HHI", body, p)
            if code != 2 or ln != 4:
                fail("%s: packet block at %d: no epb_flags option" % (path, off))
            if flags & 3 != want_flags[iface]:
                fail("%s: packet block at %d on interface %d: direction %d, "
                     "expected %d" % (path, off, iface, flags & 3,
                                      want_flags[iface]))
            ts = hi << 32 | lo
            if ts < last_ts or abs(ts / 1e6 - time.time()) > 86400:
                fail("%s: packet block at %d: timestamp %d" % (path, off, ts))
            last_ts = ts
            packets[iface] += 1
        off += total
    if ifs != [(147, b"debugger", b"\x06"), (147, b"target", b"\x06")]:
        fail("%s: interfaces %r" % (path, ifs))
    if packets[0] == 0 or packets[1] == 0:
        fail("%s: packets on the interfaces: %r" % (path, packets))
    print("%s: well formed, %d + %d packet blocks, flags of the %s side"
          % (path, packets[0], packets[1], side))


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    cmd, args = sys.argv[1], sys.argv[2:]
    fn = {"json": cmd_json, "trace": cmd_trace, "same": cmd_same,
          "tshark": cmd_tshark, "stats": cmd_stats, "count": cmd_count,
          "pcapng": cmd_pcapng}.get(cmd)
    if fn is None:
        sys.exit(__doc__)
    fn(*args)


if __name__ == "__main__":
    main()
