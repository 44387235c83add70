#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# check_pip.sh - `make check-python-pip`: the package installs the usual
# way, offline, from the sources in the tree.
#
#   1. pip install --no-build-isolation ./bindings/python into a fresh
#      virtual environment (setuptools and wheel from the system, hence
#      --system-site-packages); kdcom imports from there, with the
#      version of include/kdcom.h;
#   2. tests/python runs against that installed copy;
#   3. pip wheel builds the same way; the wheel installs into a second
#      fresh environment and imports;
#   4. setup.py sdist carries the C sources with it: a wheel builds from
#      the sdist alone.
#
# The Python is $PYTHON if it has venv, pip, setuptools >= 61 and wheel,
# else /usr/bin/python3 (Debian's, with python3-venv python3-pip
# python3-setuptools python3-wheel); without any, the check is skipped
# with the reason.  Environment: B (the build directory, absolute),
# PYTHON, SWIG, PY_ASAN (non-empty: an AddressSanitizer build).

set -eu
B=${B:?B must name the build directory}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
W=$B/python-pip
NAME=check-python-pip

if [ -n "${PY_ASAN:-}" ]; then
    echo "$NAME: SKIPPED under AddressSanitizer: pip builds the package" \
         "with the interpreter's own flags (check-python runs the bindings" \
         "under ASan)"
    exit 0
fi
rm -rf "$W"
mkdir -p "$W"
# What a build in the source tree would leave (and was not there before).
JUNK="build kdcom.egg-info dist kdcom/capi.py"
before=
for j in $JUNK; do
    [ -e "$ROOT/bindings/python/$j" ] && before="$before $j"
done
VERSION=$(sed -n 's/^#define KDCOM_VERSION_STRING "\(.*\)"/\1/p' \
          "$ROOT/include/kdcom.h")

# What a candidate interpreter lacks, empty if nothing.
PROBE='import importlib, sys
miss = []
for m in ("setuptools", "wheel", "pip"):
    try:
        mod = importlib.import_module(m)
    except Exception:
        miss.append(m)
        continue
    if m == "setuptools":
        v = tuple(int(x) for x in mod.__version__.split(".")[:2])
        if v < (61, 0):
            miss.append("setuptools >= 61 (has %s)" % mod.__version__)
print(", ".join(miss))'

# venv DIR PYTHON: a fresh environment that sees the system's packages.
venv() {
    rm -rf "$1"
    "$2" -m venv --system-site-packages "$1" >"$W/venv.log" 2>&1 ||
        "$2" -m venv --system-site-packages --without-pip "$1" \
            >>"$W/venv.log" 2>&1
}

PY=
reasons=
for cand in "${PYTHON:-python3}" /usr/bin/python3; do
    if ! command -v "$cand" >/dev/null 2>&1; then
        reasons="$reasons; $cand: not found"
        continue
    fi
    if ! venv "$W/probe" "$cand"; then
        reasons="$reasons; $cand: no venv module ($(tail -n 1 "$W/venv.log"))"
        continue
    fi
    miss=$("$W/probe/bin/python" -W ignore -c "$PROBE" 2>/dev/null) ||
        miss="working interpreter in a venv"
    if [ -z "$miss" ]; then
        PY=$cand
        break
    fi
    reasons="$reasons; $cand: no $miss"
done
rm -rf "$W/probe"
if [ -z "$PY" ]; then
    echo "$NAME: SKIPPED: no Python with venv, pip, setuptools >= 61 and" \
         "wheel${reasons} (Debian: make deps installs python3-venv" \
         "python3-pip python3-setuptools python3-wheel)"
    exit 0
fi

# Offline, quiet, and built with the interpreter's own flags only.
unset CFLAGS CPPFLAGS LDFLAGS 2>/dev/null || true
export PIP_NO_INDEX=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONDONTWRITEBYTECODE=1
export SWIG=${SWIG:-swig}

fail() {
    echo "$NAME: FAILED: $*"
    for f in "$W"/*.log; do
        [ -s "$f" ] && tail -n 20 "$f" | sed "s|^|  $(basename "$f"): |"
    done
    exit 1
}

# imports ENV: kdcom imports from ENV's site-packages, at VERSION.
imports() {
    (cd / && "$1/bin/python" -c '
import sys, kdcom
assert kdcom.__file__.startswith(sys.argv[1]), kdcom.__file__
assert kdcom.__version__ == sys.argv[2], kdcom.__version__
assert kdcom.checksum(b"\x01\x02") == 3
print("  import kdcom", kdcom.__version__, "from", kdcom.__file__)
' "$1" "$VERSION")
}

echo "$NAME: $("$PY" -W ignore -c 'import sys, setuptools, pip; print(sys.executable, "(Python %d.%d, setuptools %s, pip %s)" % (sys.version_info[:2] + (setuptools.__version__, pip.__version__)))')"

# 1. pip install
venv "$W/venv" "$PY" || fail "venv"
(cd "$ROOT" && KDCOM_PY_BUILD_DIR="$W/build" "$W/venv/bin/python" -m pip \
    install --no-build-isolation --no-deps ./bindings/python \
    >"$W/install.log" 2>&1) || fail "pip install ./bindings/python"
imports "$W/venv" || fail "the installed package does not import"
"$W/venv/bin/python" -m pip show kdcom >"$W/show.log" 2>&1 &&
    grep -q "^Version: $VERSION$" "$W/show.log" || fail "pip show kdcom"

# 2. the unittest suite against the installed copy (KDCOM_PY_PATH names
# no package, so tests/python/support.py takes the installed one)
(cd "$ROOT" && KDCOM_PY_PATH="$W/no-package-here" "$W/venv/bin/python" -m \
    unittest discover -s tests/python -t tests/python >"$W/unittest.log" 2>&1) ||
    fail "tests/python against the installed package"
echo "  tests/python: $(tail -n 3 "$W/unittest.log" | grep -E '^Ran ')," \
     "$(tail -n 1 "$W/unittest.log")"

# 3. pip wheel, installed elsewhere
(cd "$ROOT" && KDCOM_PY_BUILD_DIR="$W/build-wheel" "$W/venv/bin/python" -m \
    pip wheel --no-build-isolation --no-deps -w "$W/wheelhouse" \
    ./bindings/python >"$W/wheel.log" 2>&1) || fail "pip wheel"
whl=$(ls "$W"/wheelhouse/kdcom-"$VERSION"-*.whl 2>/dev/null | head -n 1)
[ -n "$whl" ] || fail "no wheel kdcom-$VERSION-*.whl"
"$W/venv/bin/python" - "$whl" "$VERSION" <<'EOF' || fail "wheel contents"
import sys, zipfile
names = zipfile.ZipFile(sys.argv[1]).namelist()
for want in ("kdcom/__init__.py", "kdcom/capi.py", "kdcom/kd.py",
             "kdcom-%s.dist-info/METADATA" % sys.argv[2]):
    assert want in names, (want, names)
assert any(n.startswith("kdcom/_kdcom") and n.endswith(".so") for n in names), names
EOF
venv "$W/venv2" "$PY" || fail "second venv"
"$W/venv2/bin/python" -m pip install --no-deps "$whl" >"$W/install2.log" 2>&1 ||
    fail "pip install the wheel"
imports "$W/venv2" || fail "the wheel's package does not import"
echo "  wheel: $(basename "$whl")"

# 4. an sdist builds on its own
(cd "$ROOT/bindings/python" && KDCOM_PY_BUILD_DIR="$W/build-sdist" \
    "$W/venv/bin/python" setup.py -q sdist -d "$W/dist" >"$W/sdist.log" 2>&1) ||
    fail "setup.py sdist"
sd="$W/dist/kdcom-$VERSION.tar.gz"
[ -f "$sd" ] || fail "no sdist $sd"
tar -tzf "$sd" | grep -q "kdcom-$VERSION/csrc/libkdcom/parser.c" ||
    fail "the sdist lacks the C sources"
(cd "$W" && KDCOM_PY_BUILD_DIR="$W/build-from-sdist" "$W/venv/bin/python" -m \
    pip wheel --no-build-isolation --no-deps -w "$W/wheelhouse-sdist" "$sd" \
    >"$W/sdist-wheel.log" 2>&1) || fail "pip wheel from the sdist"
ls "$W"/wheelhouse-sdist/kdcom-"$VERSION"-*.whl >/dev/null 2>&1 ||
    fail "no wheel from the sdist"
echo "  sdist: $(basename "$sd"), builds a wheel on its own"

# Nothing of this in the source tree.
for j in $JUNK; do
    case " $before " in *" $j "*) continue;; esac
    [ ! -e "$ROOT/bindings/python/$j" ] ||
        fail "bindings/python/$j left in the source tree"
done
echo "$NAME: pip install, unittest suite, wheel and sdist passed"
