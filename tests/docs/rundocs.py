#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""rundocs.py - the documentation's commands, run as written.

A code block in README.md or docs/*.md is *runnable* when it can run in a
sandbox on loopback, without a VM, WinDbg or root, and says so:

    ```sh runnable          a shell block (run with sh -e)
    ```python runnable      a Python block (python3, the built kdcom)

or, for an indented block (or a fenced one without the word), an HTML
comment on the line before it (blank lines may come between):

    <!-- runnable -->

Each runnable block runs in a fresh directory that looks like the source
tree: every top-level entry is a symlink to the real one, except `build`,
which points at the build directory under test (make's B), so
`build/examples/kdcom-shim` and `make examples` mean what a user's shell
would make of them, without touching the default build/.  make runs as a
user's would (MAKEFLAGS and B are not inherited).  A block passes when it
exits 0 within the timeout; whatever it left running (its process group)
is stopped afterwards.

    rundocs.py run --build DIR [--timeout S] FILE...
    rundocs.py list FILE...
    rundocs.py c-example FILE OUTDIR     the C block under "Using the engine"
                                         as OUTDIR/readme_head.inc (its
                                         #include lines) and readme_body.inc
    rundocs.py sizes PROGRAM FILE...     the sizes the docs give for
                                         structures and constants, against
                                         what PROGRAM prints

Exit status 0 when everything passed, 1 otherwise, 2 for bad usage.
"""
import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
FENCE = re.compile(r"^(\s*)(```+|~~~+)\s*([^`]*)$")
MARK = re.compile(r"^\s*<!--\s*runnable\s*-->\s*$")
LANGS = ("sh", "python")


class Block:
    def __init__(self, path, line, lang, text, runnable):
        self.path, self.line, self.lang = path, line, lang
        self.text, self.runnable = text, runnable

    @property
    def where(self):
        return "%s:%d" % (os.path.relpath(self.path, ROOT), self.line)


def blocks(path):
    """Every code block of a Markdown file: fenced ones with their info
    string's language, indented ones as "sh"; runnable or not."""
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    out, i, marked, prev_blank = [], 0, False, True
    while i < len(lines):
        line = lines[i]
        m = FENCE.match(line)
        if m:
            indent, fence, info = m.group(1), m.group(2), m.group(3).split()
            body, j = [], i + 1
            while j < len(lines) and not (
                    lines[j].strip().startswith(fence) and
                    lines[j].strip().strip(fence[0]) == ""):
                body.append(lines[j][len(indent):]
                            if lines[j].startswith(indent) else lines[j])
                j += 1
            lang = info[0] if info else ""
            out.append(Block(path, i + 1, lang, "\n".join(body) + "\n",
                             marked or "runnable" in info[1:]))
            marked, prev_blank, i = False, False, j + 1
            continue
        if MARK.match(line):
            marked, i = True, i + 1
            continue
        if prev_blank and line.startswith("    ") and line.strip():
            body, j = [], i
            while j < len(lines) and (lines[j].startswith("    ") or
                                      not lines[j].strip()):
                body.append(lines[j][4:])
                j += 1
            while body and not body[-1].strip():
                body.pop()
            out.append(Block(path, i + 1, "sh", "\n".join(body) + "\n",
                             marked))
            marked, prev_blank, i = False, False, j
            continue
        if line.strip() and not line.lstrip().startswith("<!--"):
            marked = False
        prev_blank = not line.strip()
        i += 1
    return out


def sandbox(build):
    """A directory that looks like the source tree, `build` being the
    build directory under test."""
    box = tempfile.mkdtemp(prefix="kdcom-docs-")
    for name in os.listdir(ROOT):
        if name.startswith(".") or name == "build":
            continue
        os.symlink(os.path.join(ROOT, name), os.path.join(box, name))
    os.symlink(os.path.abspath(build), os.path.join(box, "build"))
    return box


def block_env(box):
    env = dict(os.environ)
    for name in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES", "B",
                 "PYTHONPATH", "KDCOM_SHIM_PORT"):
        env.pop(name, None)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env["PWD"] = box
    return env


def run_block(block, build, timeout):
    """Runs one block; returns (ok, seconds, output)."""
    box = sandbox(build)
    env = block_env(box)
    if block.lang == "python":
        env["PYTHONPATH"] = os.path.join(box, "build", "python")
        argv = [sys.executable, "-"]
    else:
        argv = ["sh", "-e", "-s"]
    start, out = time.monotonic(), None
    proc = subprocess.Popen(argv, cwd=box, env=env, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            start_new_session=True)
    try:
        out, _ = proc.communicate(block.text.encode(), timeout=timeout)
        ok = proc.returncode == 0
        note = "" if ok else "exit status %d" % proc.returncode
    except subprocess.TimeoutExpired:
        ok, note, out = False, "still running after %g s" % timeout, None
    finally:
        stop_group(proc.pid)
        if out is None:
            # What it printed before it was stopped (a child that kept
            # the pipe open was stopped with the group).
            try:
                out, _ = proc.communicate(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                out = b""
        shutil.rmtree(box, ignore_errors=True)
    text = out.decode("utf-8", "replace")
    if note:
        text += "\n[%s]" % note
    return ok, time.monotonic() - start, text


def stop_group(pgid):
    """TERM to what the block left running, KILL after 2 s."""
    for sig, grace in ((signal.SIGTERM, 2.0), (signal.SIGKILL, 0)):
        try:
            os.killpg(pgid, sig)
        except ProcessLookupError:
            return
        end = time.monotonic() + grace
        while time.monotonic() < end:
            try:
                os.killpg(pgid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.05)


def cmd_run(args):
    todo = [b for p in args.files for b in blocks(p) if b.runnable]
    bad = [b for b in todo if b.lang not in LANGS]
    for b in bad:
        print("FAIL %s: marked runnable, but %r blocks cannot run (%s)" %
              (b.where, b.lang, ", ".join(LANGS)))
    if not todo:
        print("FAIL: no runnable block in %s" % " ".join(args.files))
        return 1
    failed = len(bad)
    for b in todo:
        if b in bad:
            continue
        ok, secs, text = run_block(b, args.build, args.timeout)
        print("%s %s (%s, %.1f s)" % ("PASS" if ok else "FAIL", b.where,
                                      b.lang, secs), flush=True)
        if not ok or args.verbose:
            print("  | " + b.text.rstrip("\n").replace("\n", "\n  | "))
            tail = text.rstrip("\n").split("\n")[-40:]
            print("  > " + "\n  > ".join(tail), flush=True)
        failed += not ok
    print("rundocs: %d runnable block(s), %d failed" % (len(todo), failed))
    return 1 if failed else 0


def cmd_list(args):
    for p in args.files:
        for b in blocks(p):
            print("%-28s %-8s %s %s" % (b.where, b.lang or "-",
                                        "runnable" if b.runnable else "-",
                                        b.text.split("\n", 1)[0][:50]))
    return 0


def cmd_c_example(args):
    """The C block of the section "Using the engine": #include lines
    first, the rest as a function body."""
    section, found = None, None
    with open(args.file, encoding="utf-8") as f:
        lines = f.read().split("\n")
    for i, line in enumerate(lines):
        if line.startswith("## "):
            section = line[3:].strip()
        if section == "Using the engine" and line.strip() == "```c":
            found = i + 1
            break
    if found is None:
        print("c-example: no ```c block under '## Using the engine' in %s" %
              args.file)
        return 1
    body = []
    for line in lines[found:]:
        if line.strip().startswith("```"):
            break
        body.append(line)
    head = [l for l in body if l.startswith("#include")]
    rest = [l for l in body if not l.startswith("#include")]
    os.makedirs(args.outdir, exist_ok=True)
    where = "%s:%d" % (os.path.relpath(args.file, ROOT), found + 1)
    with open(os.path.join(args.outdir, "readme_head.inc"), "w") as f:
        f.write("/* from %s */\n" % where + "\n".join(head) + "\n")
    with open(os.path.join(args.outdir, "readme_body.inc"), "w") as f:
        f.write("/* from %s */\n#line %d \"%s\"\n" % (
            where, found + 1, os.path.relpath(args.file, ROOT)))
        f.write("\n".join(l if not l.startswith("#include") else ""
                          for l in body) + "\n")
    print("c-example: %d lines from %s" % (len(rest), where))
    return 0


# Sizes the docs give, in three forms:
#   `struct kdcom_link dbg; /* ~9 KiB */`, "a `struct kdcom_link` (about
#   9 KiB", "A link is 9,080 bytes", "`KDCOM_VM_MIN_SIZE` (12 KiB)".
SIZE_FORMS = [
    (re.compile(r"struct (kdcom_\w+)`?[^~\n]*?(?:~|about )"
                r"(\d+(?:\.\d+)?) KiB"), "KiB"),
    (re.compile(r"\bA (link) is ([\d,]+) bytes"), "bytes"),
    (re.compile(r"`(KDCOM_\w+)`(?: = 0x[0-9a-fA-F]+)? \((\d+) KiB\)"),
     "KiB-exact"),
]
ALIASES = {"link": "kdcom_link"}


def cmd_sizes(args):
    measured = {}
    out = subprocess.run([args.program], capture_output=True, text=True,
                         check=True).stdout
    for line in out.splitlines():
        name, value = line.rsplit(None, 1)
        measured[name.replace("struct ", "")] = int(value)
    failed = checked = 0
    for path in args.files:
        with open(path, encoding="utf-8") as f:
            for no, line in enumerate(f, 1):
                for rx, unit in SIZE_FORMS:
                    for m in rx.finditer(line):
                        name = ALIASES.get(m.group(1), m.group(1))
                        if name not in measured:
                            continue
                        size, said = measured[name], m.group(2)
                        if unit == "bytes":
                            ok = int(said.replace(",", "")) == size
                        elif unit == "KiB-exact":
                            ok = int(said) * 1024 == size
                        else:
                            # "~17" is right within half a unit of its last
                            # digit: 16.5 <= size/1024 < 17.5.
                            digits = len(said.split(".")[1]) \
                                if "." in said else 0
                            ok = abs(size / 1024 - float(said)) <= \
                                0.5 * 10 ** -digits
                        checked += 1
                        failed += not ok
                        print("%s %s:%d %s: the text says %s %s, it is %d "
                              "bytes (%.2f KiB)" % (
                                  "PASS" if ok else "FAIL",
                                  os.path.relpath(path, ROOT), no, name,
                                  said, "bytes" if unit == "bytes" else "KiB",
                                  size, size / 1024))
    if not checked:
        print("FAIL: no size found in %s" % " ".join(args.files))
        return 1
    print("sizes: %d checked, %d wrong" % (checked, failed))
    return 1 if failed else 0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("run")
    p.add_argument("--build", required=True, help="the build directory")
    p.add_argument("--timeout", type=float, default=120.0)
    p.add_argument("-v", "--verbose", action="store_true")
    p.add_argument("files", nargs="+")
    p = sub.add_parser("list")
    p.add_argument("files", nargs="+")
    p = sub.add_parser("c-example")
    p.add_argument("file")
    p.add_argument("outdir")
    p = sub.add_parser("sizes")
    p.add_argument("program")
    p.add_argument("files", nargs="+")
    args = ap.parse_args(argv)
    return {"run": cmd_run, "list": cmd_list, "c-example": cmd_c_example,
            "sizes": cmd_sizes}[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())
