# SPDX-License-Identifier: BSD-2-Clause
# Python bindings: the SWIG module kdcom.capi (C extension kdcom._kdcom)
# and the pure-Python layer around it, assembled as the package
# $(B)/python/kdcom.
#
#   make python            build the package (PYTHONPATH=$(B)/python to use)
#   make check-python      build it and run tests/python with unittest
#   make install-python    install it into $(PYTHON)'s site directory
#                          (or PYTHON_SITEDIR), honouring DESTDIR, with
#                          the dist-info pip would write (pyproject.toml)
#   make check-python-pip  pip install ./bindings/python into a fresh venv,
#                          tests/python against it, wheel and sdist
#                          (bindings/python/check_pip.sh)
#   make uninstall-python  remove it again
#
# Every flag comes from $(PYTHON) itself (sysconfig), the interpreter that
# also runs the tests: headers, extension suffix and install directory can
# never belong to two different Pythons.  The extension links the static
# $(B)/libkdcom.a (core objects are -fPIC), so it needs no installed .so.

DEPS_DEB += python3 python3-dev swig

SWIG ?= swig

PY_B     := $(B)/python
PY_PKG   := $(PY_B)/kdcom
PY_SRCS  := $(sort $(wildcard bindings/python/kdcom/*.py))
PY_COPY  := $(patsubst bindings/python/kdcom/%,$(PY_PKG)/%,$(PY_SRCS))
PY_WRAP  := $(PY_B)/kdcom_wrap.c
PY_WRAPO := $(PY_B)/kdcom_wrap.o
PY_STAMP := $(PY_B)/.built

# Asked of $(PYTHON) when a recipe needs them, not at parse time, so that
# `make clean` or a C-only build never runs Python.
py_var = $(shell $(PYTHON) -c 'import sysconfig; print(sysconfig.get_config_var("$(1)") or "")')
py_path = $(shell $(PYTHON) -c 'import sysconfig; print(sysconfig.get_paths()["$(1)"])')

# SWIG output is generated code: the project's warning set applies, minus
# the three warnings SWIG's own runtime triggers (unused parameters, casts
# away from const, non-static helpers without prototypes), so -Werror stays
# usable.
PY_WRAP_CFLAGS = -std=c99 $(WARN) -Wno-unused-parameter -Wno-cast-qual \
                 -Wno-missing-prototypes $(CFLAGS) -fPIC \
                 -Iinclude -I$(call py_path,include) \
                 -I$(call py_path,platinclude) $(CPPFLAGS)

.PHONY: python check-python install-python uninstall-python
CHECK_TARGETS += check-python

python: $(PY_STAMP)

$(PY_WRAP): bindings/python/kdcom.i include/kdcom.h include/kdcom_kd.h
	@mkdir -p $(PY_PKG)
	$(SWIG) -python -Iinclude -interface _kdcom -outdir $(PY_PKG) \
	    -o $@ $<

$(PY_WRAPO): $(PY_WRAP)
	$(CC) $(PY_WRAP_CFLAGS) -c $< -o $@

$(PY_PKG)/%.py: bindings/python/kdcom/%.py
	@mkdir -p $(@D)
	cp $< $@

# The stamp records the interpreter the extension was built for; to build
# for another $(PYTHON), use another B (or `make clean`).
$(PY_STAMP): $(PY_WRAPO) $(LIB_A) $(PY_COPY)
	$(CC) -shared $(CFLAGS) $(LDFLAGS) -o $(PY_PKG)/_kdcom$(call py_var,EXT_SUFFIX) \
	    $(PY_WRAPO) $(LIB_A)
	@$(PYTHON) -c 'import sys; print(sys.executable)' > $@

# Under AddressSanitizer the runtime must be loaded before the interpreter
# (which is not instrumented): clang's shared runtime or gcc's libasan.so
# (clang also finds gcc's; its own comes first), preloaded.  If neither can be found the suite is skipped with the
# reason, not failed.  Leak detection is turned off for the run because the
# interpreter itself keeps memory until exit.  UBSan alone needs nothing:
# the extension links its runtime.
PY_ASAN   = $(findstring -fsanitize=address,$(CFLAGS) $(LDFLAGS))
PY_ASANSO = $(firstword $(filter /%,$(shell $(CC) -print-file-name=libclang_rt.asan-$(shell uname -m).so) \
            $(shell $(CC) -print-file-name=libasan.so)))

PY_TEST_ENV = PYTHONPATH=$(abspath $(PY_B)) KDCOM_PY_PATH=$(abspath $(PY_B)) \
              PYTHONDONTWRITEBYTECODE=1

check-python: $(PY_STAMP)
	@rm -rf $(PY_B)/stage
	$(MAKE) --no-print-directory install-python DESTDIR=$(abspath $(PY_B))/stage B=$(B)
	@set -e; \
	if [ -n "$(PY_ASAN)" ]; then \
	    so="$(PY_ASANSO)"; \
	    case "$$so" in /*) ;; *) \
	        echo "check-python: SKIPPED: AddressSanitizer build, but $(CC) names no libasan.so to preload into $(PYTHON)"; \
	        exit 0;; esac; \
	    echo "check-python: AddressSanitizer build, preloading $$so"; \
	    LD_PRELOAD="$$so"; ASAN_OPTIONS="$${ASAN_OPTIONS:+$$ASAN_OPTIONS:}detect_leaks=0"; \
	    export LD_PRELOAD ASAN_OPTIONS; \
	fi; \
	$(PY_TEST_ENV) $(PYTHON) -m unittest discover -s tests/python -t tests/python -v; \
	cd /tmp && PYTHONPATH=$(abspath $(PY_B))/stage$(PY_SITE) $(PYTHON) -c \
	    'import kdcom, sys; assert kdcom.__file__.startswith(sys.argv[1]), kdcom.__file__; print("check-python: staged install imports kdcom", kdcom.__version__)' \
	    $(abspath $(PY_B))/stage

# Where install-python puts the package: $(PYTHON)'s own site directory
# (sysconfig "platlib"), unless PYTHON_SITEDIR names another (a packager's
# /usr/lib/python3/dist-packages, say).  DESTDIR is prepended either way.
PY_SITE = $(or $(PYTHON_SITEDIR),$(call py_path,platlib))

install-python: $(PY_STAMP)
	install -d $(DESTDIR)$(PY_SITE)/kdcom
	install -m 644 $(PY_PKG)/*.py $(DESTDIR)$(PY_SITE)/kdcom/
	install -m 755 $(PY_PKG)/_kdcom$(call py_var,EXT_SUFFIX) $(DESTDIR)$(PY_SITE)/kdcom/
	$(PYTHON) bindings/python/dist_info.py $(DESTDIR)$(PY_SITE)

uninstall-python:
	rm -rf $(DESTDIR)$(PY_SITE)/kdcom $(DESTDIR)$(PY_SITE)/kdcom-*.dist-info

# The package the usual way (pyproject.toml, setup.py): pip builds it from
# the sources in the tree into a fresh virtual environment and tests/python
# runs against it; `make install-python` writes the same metadata.
.PHONY: check-python-pip
CHECK_TARGETS += check-python-pip
DEPS_DEB += python3-venv python3-pip python3-setuptools python3-wheel

check-python-pip:
	@B="$(abspath $(B))" PYTHON="$(PYTHON)" SWIG="$(SWIG)" PY_ASAN="$(PY_ASAN)" \
	    sh bindings/python/check_pip.sh
	@rm -rf $(B)/python-pip/stage
	@$(MAKE) --no-print-directory install-python B=$(B) \
	    DESTDIR=$(abspath $(B))/python-pip/stage >/dev/null
	@cd / && $(PYTHON) -c 'import sys, importlib.metadata as m; \
	    sys.path.insert(0, sys.argv[1]); v = m.version("kdcom"); \
	    assert v == sys.argv[2], v; \
	    assert str(m.files("kdcom")[0]).startswith("kdcom"); \
	    print("check-python-pip: make install-python wrote the metadata of kdcom", v)' \
	    $(abspath $(B))/python-pip/stage$(PY_SITE) $(VERSION)
