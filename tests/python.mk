# SPDX-License-Identifier: BSD-2-Clause
# tests/python/test_shim.py runs the Python examples and docs/python.md's
# protocol-test snippet against kdcom-shim serving kdcom-simkernel-vm: the
# Python checks (bindings/python/python.mk) build those programs first and
# tell the tests where they are.  (Paths are spelt out: this file is read
# before examples/examples.mk.)

PY_SHIM_PROGS := $(B)/examples/kdcom-shim $(B)/examples/kdcom-simkernel-vm

check-python check-python-pip: $(PY_SHIM_PROGS)
check-python check-python-pip: export KDCOM_EX_DIR = $(abspath $(B))/examples
