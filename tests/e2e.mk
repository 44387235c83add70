# SPDX-License-Identifier: BSD-2-Clause
# The end-to-end tests (tests/e2e/): the example programs run as a user
# runs them, with the test programs that play the other side or damage
# the line.  Read after examples/examples.mk, whose programs (EX_PROGS,
# INSTALL_PROGS, EX_DIR, EX_HDRS) they drive.
#
#   make check-e2e      tests/e2e/t_*.sh, kdcom_kd.h's offsets against a
#                       recorded session and as C++
#   make check-install  a packager's install, run and removed again
#                       (tests/e2e/install.sh)
#
# E2E_TIMEOUT bounds each script (seconds; the sanitizer builds raise it).

E2E_TIMEOUT ?= 120
DEPS_DEB    += coreutils

.PHONY: check-e2e check-install
CHECK_TARGETS += check-install check-e2e

# INSTALL_PROGS may still grow in a fragment read after this one.
.SECONDEXPANSION:

# A packager's install (DESTDIR, PREFIX=/usr) into a temporary tree: every
# program answers --version with this version and --help, a session runs
# with the bare names on PATH as the docs write them, and uninstall leaves
# no file behind (tests/e2e/install.sh).
check-install: lib $$(INSTALL_PROGS)
	MAKE="$(MAKE)" B="$(B)" VERSION="$(VERSION)" \
	    PROGS="$(notdir $(INSTALL_PROGS))" \
	    timeout -k 5 $(E2E_TIMEOUT) sh tests/e2e/install.sh

# The scripts find the test programs in $(B)/tests/e2e, next to $(E2E_BIN):
#   resetbomb       a "debugger" that only ever sends RESET
#   kdpeer          a debugger that synchronises once and can die in the
#                   middle of a request
#   kdlayout        kdcom_kd.h's offsets against payloads recorded from
#                   real peers
#   faultproxy      a proxy that damages a share of the frames it forwards
#                   (t_lossy.sh)
#   kdreplay        a debugger that replays a recorded session (t_replay.sh)
#   kddescribe      a check of the decoded-trace lines (t_decode.sh)
#   ivshmem_client  the other side of kdcom-shim --ivshmem-server without
#                   QEMU: checks the ivshmem handshake, plays the guest
#                   behind the device, and drives a real QEMU's device
#                   through qtest (t_ivshmem_*.sh)
E2E_TESTS      := $(sort $(wildcard tests/e2e/t_*.sh))
E2E_RESETBOMB  := $(B)/tests/e2e/resetbomb
E2E_KDPEER     := $(B)/tests/e2e/kdpeer
E2E_KDLAYOUT   := $(B)/tests/e2e/kdlayout
E2E_FAULTPROXY := $(B)/tests/e2e/faultproxy
E2E_KDREPLAY   := $(B)/tests/e2e/kdreplay
E2E_KDDESCRIBE := $(B)/tests/e2e/kddescribe
E2E_IVSCLIENT  := $(B)/tests/e2e/ivshmem_client

# All but kddescribe need nothing but the library and its headers; the
# ones on sockets also the socket plumbing they share (netutil.c).
E2E_NET_TOOLS := $(E2E_RESETBOMB) $(E2E_KDPEER) $(E2E_FAULTPROXY) \
                 $(E2E_KDREPLAY)
E2E_LIB_TOOLS := $(E2E_NET_TOOLS) $(E2E_KDLAYOUT) $(E2E_IVSCLIENT)

$(E2E_LIB_TOOLS): $(B)/tests/e2e/%: tests/e2e/%.c include/kdcom.h \
                  include/kdcom_kd.h include/kdcom_vm.h $(LIB_A)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -Iinclude $(CPPFLAGS) $< \
	    $(filter tests/e2e/netutil.c,$^) $(LIB_A) $(LDFLAGS) -o $@

$(E2E_NET_TOOLS): tests/e2e/netutil.c tests/e2e/netutil.h

# kddescribe decodes with the examples' trace writer.
$(E2E_KDDESCRIBE): tests/e2e/kddescribe.c $(EX_DIR)/common/wiretrace.o \
                   $(EX_DIR)/common/pcapng.o $(EX_HDRS) $(LIB_A)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -Iinclude $(CPPFLAGS) $< \
	    $(EX_DIR)/common/wiretrace.o $(EX_DIR)/common/pcapng.o $(LIB_A) \
	    $(LDFLAGS) -o $@

# Each script bounded by `timeout`, each with its own temp directory and
# process cleanup (tests/e2e/lib.sh); first kdcom_kd.h, against a recorded
# session and as C++.
check-e2e: $(EX_PROGS) $(E2E_LIB_TOOLS) $(E2E_KDDESCRIBE)
	$(E2E_KDLAYOUT) tests/vectors/reactos-target_radare2-debugger.txt
	printf '#include <kdcom_kd.h>\nint main(void){return (int)kdcom_kd_header_size(2)-56;}\n' | \
	    $(CXX) -x c++ -Wall -Wextra -Wpedantic -Werror -Iinclude - -o $(B)/tests/e2e/kdcxx
	$(B)/tests/e2e/kdcxx
	@set -e; for t in $(E2E_TESTS); do \
	    E2E_BIN=$(abspath $(EX_DIR)) E2E_RESETBOMB=$(abspath $(E2E_RESETBOMB)) \
	    E2E_KDPEER=$(abspath $(E2E_KDPEER)) \
	        timeout -k 5 $(E2E_TIMEOUT) sh $$t; \
	done
	@echo "check-e2e: all end-to-end tests passed"
