# SPDX-License-Identifier: BSD-2-Clause
# The documentation, run: what README.md and docs/*.md tell a user to
# type, and the numbers they quote.
#
#   make check-docs    every block marked runnable (```sh runnable,
#                      ```python runnable, or <!-- runnable --> before a
#                      block) runs as written in a sandbox that looks like
#                      the source tree, against the programs built in $(B)
#                      (tests/docs/rundocs.py); README.md's C example is
#                      compiled with the project's warnings as errors and
#                      run until its link dies, in both of the ways it can
#                      (tests/docs/readme_example.c); the sizes the docs
#                      give are the measured ones; kd_client.py ends by
#                      itself with its defaults (tests/docs/t_*.sh)
#   make sizes         the sizes of the public structures, as measured
#
# Mark a block runnable only if it runs on loopback, without a VM, WinDbg,
# root or a network, and ends by itself.  DOCS_TIMEOUT bounds each block
# and each script (default: E2E_TIMEOUT).

DOCS_DIR     := $(B)/tests/docs
DOCS_SIZES   := $(DOCS_DIR)/sizes
DOCS_EXAMPLE := $(DOCS_DIR)/readme_example
DOCS_FILES    = README.md $(sort $(wildcard docs/*.md))
DOCS_TESTS   := $(sort $(wildcard tests/docs/t_*.sh))
DOCS_TIMEOUT ?= $(E2E_TIMEOUT)
# The Python in the blocks loads the extension: under AddressSanitizer the
# runtime is preloaded into the interpreter (bindings/python/python.mk's
# PY_ASAN, PY_ASANSO), and, as in check-e2e, leak checking is off for
# programs stopped with signals.
DOCS_ENV = PYTHON="$(PYTHON)" \
           $(if $(PY_ASAN),LD_PRELOAD="$(PY_ASANSO)" \
           ASAN_OPTIONS="$${ASAN_OPTIONS:+$$ASAN_OPTIONS:}detect_leaks=0")

.PHONY: check-docs sizes
CHECK_TARGETS += check-docs

$(DOCS_SIZES): tests/docs/sizes.c include/kdcom.h include/kdcom_vm.h
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -Iinclude $(CPPFLAGS) $< $(LDFLAGS) -o $@

$(DOCS_DIR)/readme_body.inc: README.md tests/docs/rundocs.py
	@mkdir -p $(@D)
	$(PYTHON) tests/docs/rundocs.py c-example README.md $(@D)

# As a user would build it: the project's warnings, always fatal here.
$(DOCS_EXAMPLE): tests/docs/readme_example.c $(DOCS_DIR)/readme_body.inc \
                 include/kdcom.h $(LIB_A)
	$(CC) $(ALL_CFLAGS) -Werror -Iinclude -I$(DOCS_DIR) $(CPPFLAGS) $< \
	    $(LIB_A) $(LDFLAGS) -o $@

sizes: $(DOCS_SIZES)
	@$(DOCS_SIZES)

check-docs: lib $(DOCS_SIZES) $(DOCS_EXAMPLE) $(B)/examples/kdcom-shim \
            $(B)/examples/kdcom-simkernel-vm $(B)/examples/kdcom-client \
            $(B)/python/.built
	$(PYTHON) tests/docs/rundocs.py sizes $(DOCS_SIZES) $(DOCS_FILES)
	$(DOCS_EXAMPLE) drain
	$(DOCS_EXAMPLE) feed
	@set -e; for t in $(DOCS_TESTS); do \
	    $(DOCS_ENV) E2E_BIN=$(abspath $(B))/examples \
	    KDCOM_PY_PATH=$(abspath $(B))/python \
	        timeout -k 5 $(DOCS_TIMEOUT) sh $$t; \
	done
	$(DOCS_ENV) $(PYTHON) tests/docs/rundocs.py run --build $(B) \
	    --timeout $(DOCS_TIMEOUT) $(DOCS_FILES)
	@echo "check-docs: the documentation's commands, C example and sizes hold"
