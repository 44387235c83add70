# SPDX-License-Identifier: BSD-2-Clause
"""setup.py - builds the kdcom package for pip (metadata: pyproject.toml).

The extension kdcom._kdcom is SWIG's wrapper of kdcom.i compiled together
with libkdcom's C sources, so it needs no installed libkdcom.  Those
sources are found:

  - in the libkdcom source tree, two directories up (../../include,
    ../../libkdcom): `pip install ./bindings/python` builds in place
    (pip >= 21.3), so this directory is the one in the tree;
  - in csrc/, where `setup.py sdist` puts a copy, so an sdist builds on
    its own.

Everything is compiled under the build directory (copies of the C sources
included, so no object lands in the source tree).  KDCOM_PY_BUILD_DIR
moves the build directory and the egg-info elsewhere (make check does);
SWIG names the swig program (default: swig).  The version is the one in
include/kdcom.h, as for the C library.
"""
import os
import re
import shutil
import subprocess
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext
from setuptools.command.egg_info import egg_info
from setuptools.command.sdist import sdist

try:
    from setuptools.command.build import build
except ImportError:  # setuptools < 62
    from distutils.command.build import build

HERE = os.path.dirname(os.path.abspath(__file__))
BUILD_DIR = os.environ.get("KDCOM_PY_BUILD_DIR")


def c_sources():
    """(include dir, libkdcom dir) of the C library's sources."""
    for root in (os.path.join(HERE, os.pardir, os.pardir),
                 os.path.join(HERE, "csrc")):
        inc = os.path.join(root, "include")
        lib = os.path.join(root, "libkdcom")
        if os.path.isfile(os.path.join(inc, "kdcom.h")) and \
                os.path.isfile(os.path.join(lib, "parser.c")):
            return os.path.normpath(inc), os.path.normpath(lib)
    sys.exit("kdcom: libkdcom's sources (include/kdcom.h, libkdcom/*.c) are "
             "neither in ../.. nor in csrc/: build from the source tree "
             "(pip install ./bindings/python, pip >= 21.3) or from an sdist")


def version():
    inc, _ = c_sources()
    with open(os.path.join(inc, "kdcom.h")) as fh:
        text = fh.read()
    parts = []
    for field in ("MAJOR", "MINOR", "PATCH"):
        m = re.search(r"^#define KDCOM_VERSION_%s +([0-9]+)" % field, text,
                      re.M)
        if m is None:
            sys.exit("kdcom: no KDCOM_VERSION_%s in kdcom.h" % field)
        parts.append(m.group(1))
    return ".".join(parts)


class Build(build):
    """The build directory, movable with KDCOM_PY_BUILD_DIR."""

    def initialize_options(self):
        super().initialize_options()
        if BUILD_DIR:
            self.build_base = os.path.join(BUILD_DIR, "build")


class EggInfo(egg_info):
    def initialize_options(self):
        super().initialize_options()
        if BUILD_DIR:
            os.makedirs(BUILD_DIR, exist_ok=True)
            self.egg_base = BUILD_DIR


class BuildExt(build_ext):
    """SWIG first (kdcom.i -> kdcom_wrap.c and kdcom/capi.py), then the
    wrapper and copies of the C sources, all under build_temp."""

    def run(self):
        inc, lib = c_sources()
        tmp = os.path.abspath(self.build_temp)
        csrc = os.path.join(tmp, "csrc")
        for sub, src in (("include", inc), ("libkdcom", lib)):
            dst = os.path.join(csrc, sub)
            os.makedirs(dst, exist_ok=True)
            for name in sorted(os.listdir(src)):
                if name.endswith((".c", ".h")):
                    shutil.copyfile(os.path.join(src, name),
                                    os.path.join(dst, name))
        if self.inplace:
            pkg_out = os.path.join(HERE, "kdcom")
        else:
            pkg_out = os.path.join(os.path.abspath(self.build_lib), "kdcom")
        os.makedirs(pkg_out, exist_ok=True)
        wrap = os.path.join(tmp, "kdcom_wrap.c")
        swig = os.environ.get("SWIG", "swig")
        cmd = [swig, "-python", "-I" + os.path.join(csrc, "include"),
               "-interface", "_kdcom", "-outdir", pkg_out, "-o", wrap,
               os.path.join(HERE, "kdcom.i")]
        self.announce(" ".join(cmd), level=2)
        try:
            subprocess.check_call(cmd)
        except OSError as e:
            sys.exit("kdcom: cannot run %s (%s): SWIG is needed to build "
                     "the extension (Debian: apt-get install swig)"
                     % (swig, e))
        core = sorted(os.path.join(csrc, "libkdcom", n)
                      for n in os.listdir(os.path.join(csrc, "libkdcom"))
                      if n.endswith(".c"))
        for ext in self.extensions:
            ext.sources = [wrap] + core
            ext.include_dirs = [os.path.join(csrc, "include"),
                                os.path.join(csrc, "libkdcom")]
        super().run()


class Sdist(sdist):
    """An sdist carries the C sources in csrc/, to build on its own."""

    def make_release_tree(self, base_dir, files):
        super().make_release_tree(base_dir, files)
        inc, lib = c_sources()
        for sub, src in (("include", inc), ("libkdcom", lib)):
            dst = os.path.join(base_dir, "csrc", sub)
            os.makedirs(dst, exist_ok=True)
            for name in sorted(os.listdir(src)):
                if name.endswith((".c", ".h", ".in")):
                    shutil.copyfile(os.path.join(src, name),
                                    os.path.join(dst, name))
        lic = os.path.join(inc, os.pardir, "LICENSE")
        if os.path.isfile(lic):
            shutil.copyfile(lic, os.path.join(base_dir, "LICENSE"))


# The core is C99 and names what it exports (KDCOM_API); the wrapper is
# SWIG's.  Both build with the interpreter's own flags, plus C99 where the
# compiler takes GNU-style options.
unix = os.name == "posix"
setup(
    version=version(),
    packages=["kdcom"],
    ext_modules=[Extension(
        "kdcom._kdcom", sources=["kdcom.i"],
        define_macros=[("KDCOM_BUILDING", "1")],
        extra_compile_args=["-std=c99"] if unix else [])],
    cmdclass={"build": Build, "build_ext": BuildExt, "egg_info": EggInfo,
              "sdist": Sdist},
    zip_safe=False,
)
