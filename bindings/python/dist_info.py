#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""dist_info.py - after `make install-python` has copied the package into
SITEDIR/kdcom, writes SITEDIR/kdcom-VERSION.dist-info from the metadata
pip uses for the same package: pyproject.toml's [project] table and the
version of include/kdcom.h.  pip and importlib.metadata then know the
installed copy (pip show kdcom, pip uninstall kdcom), whichever way it was
installed.

usage: dist_info.py SITEDIR   (DESTDIR included)
"""
import base64
import hashlib
import os
import re
import shutil
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def read_project(path):
    """pyproject.toml's [project] table: tomllib where there is one,
    else the subset this file uses (strings, string arrays, one inline
    table of strings)."""
    try:
        import tomllib
        with open(path, "rb") as fh:
            return tomllib.load(fh)["project"]
    except ImportError:
        pass
    project, section, key, arr = {}, None, None, None
    with open(path) as fh:
        for line in fh:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            if arr is not None:
                if line.startswith("]"):
                    project[key] = arr
                    arr = None
                else:
                    arr.append(re.match(r'"(.*)",?$', line).group(1))
                continue
            m = re.match(r"^\[(.*)\]$", line)
            if m:
                section = m.group(1)
                continue
            if section != "project":
                continue
            k, v = [x.strip() for x in line.split("=", 1)]
            if v == "[":
                key, arr = k, []
            elif v.startswith("["):
                project[k] = re.findall(r'"([^"]*)"', v)
            elif v.startswith("{"):
                project[k] = dict(re.findall(r'(\w+)\s*=\s*"([^"]*)"', v))
            else:
                project[k] = v.strip('"')
    return project


def version():
    with open(os.path.join(HERE, "..", "..", "include", "kdcom.h")) as fh:
        text = fh.read()
    return ".".join(re.search(r"^#define KDCOM_VERSION_%s +([0-9]+)" % f,
                              text, re.M).group(1)
                    for f in ("MAJOR", "MINOR", "PATCH"))


def digest(path):
    with open(path, "rb") as fh:
        data = fh.read()
    h = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
    return "sha256=" + h.decode(), len(data)


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    site = sys.argv[1]
    p = read_project(os.path.join(HERE, "pyproject.toml"))
    ver = version()
    for old in os.listdir(site):
        if old.startswith(p["name"] + "-") and old.endswith(".dist-info"):
            shutil.rmtree(os.path.join(site, old))
    di = "%s-%s.dist-info" % (p["name"], ver)
    os.makedirs(os.path.join(site, di))
    meta = ["Metadata-Version: 2.1", "Name: " + p["name"], "Version: " + ver,
            "Summary: " + p["description"]]
    if "license" in p:
        meta.append("License: " + p["license"]["text"])
    if "requires-python" in p:
        meta.append("Requires-Python: " + p["requires-python"])
    meta += ["Classifier: " + c for c in p.get("classifiers", [])]
    files = {"METADATA": "\n".join(meta) + "\n",
             "INSTALLER": "make install-python\n",
             "top_level.txt": p["name"] + "\n"}
    for name, text in files.items():
        with open(os.path.join(site, di, name), "w") as fh:
            fh.write(text)
    record = []
    for top in (p["name"], di):
        for dirpath, _, names in os.walk(os.path.join(site, top)):
            for n in sorted(names):
                full = os.path.join(dirpath, n)
                rel = os.path.relpath(full, site).replace(os.sep, "/")
                h, size = digest(full)
                record.append("%s,%s,%d" % (rel, h, size))
    record.append("%s/RECORD,," % di)
    with open(os.path.join(site, di, "RECORD"), "w") as fh:
        fh.write("\n".join(record) + "\n")
    print("dist_info.py: %s" % os.path.join(site, di))


if __name__ == "__main__":
    main()
