# SPDX-License-Identifier: BSD-2-Clause
# The example programs that own the OS: the VMM shim daemon, the debugger
# client, the simulated kernel (one binary per transport back end), `make
# demo` and the end-to-end tests (`make check-e2e`).
#
#   $(B)/examples/kdcom-client           KD debugger client (DEBUGGER role)
#   $(B)/examples/kdcom-simkernel        simulated kernel, KDCOM on a socket/pty
#   $(B)/examples/kdcom-simkernel-vm     ... on guest/'s VM channel back end
#   $(B)/examples/kdcom-simkernel-uart   ... on guest/'s 16550 back end
#   $(B)/examples/kdcom-shim             VM channel <-> KDCOM on TCP/Unix/tty

EX_DIR   := $(B)/examples
EX_HDRS  := $(wildcard include/*.h examples/common/*.h examples/client/*.h \
                       examples/simkernel/*.h examples/shim/*.h guest/*.h)
EX_CFLAGS = $(ALL_CFLAGS) -Iinclude -Iguest $(CPPFLAGS)

EX_COMMON := $(patsubst examples/%.c,$(EX_DIR)/%.o,\
                 $(wildcard examples/common/*.c))
EX_CLIENT_OBJS := $(EX_DIR)/client/kdclient.o $(EX_DIR)/client/kdsession.o
EX_SIM_OBJS    := $(EX_DIR)/simkernel/simkernel.o $(EX_DIR)/simkernel/kdcore.o
EX_SIM_FD_OBJS := $(EX_DIR)/simkernel/backend_fd.o \
                  $(EX_DIR)/simkernel/transport_fd.o \
                  $(EX_DIR)/simkernel/simep.o

EX_CLIENT := $(EX_DIR)/kdcom-client
EX_SIM    := $(EX_DIR)/kdcom-simkernel
EX_PROGS  := $(EX_CLIENT) $(EX_SIM)

.PHONY: examples demo check-e2e

$(EX_DIR)/%.o: examples/%.c $(EX_HDRS)
	@mkdir -p $(@D)
	$(CC) $(EX_CFLAGS) -c $< -o $@

$(EX_CLIENT): $(EX_CLIENT_OBJS) $(EX_COMMON) $(LIB_A)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^

$(EX_SIM): $(EX_SIM_OBJS) $(EX_SIM_FD_OBJS) $(EX_COMMON) $(LIB_A)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^

# The vm and uart builds link guest/'s object sets; guest/guest.mk is read
# after this file, so their names are expanded a second time.
.SECONDEXPANSION:
EX_SIM_VM   := $(EX_DIR)/kdcom-simkernel-vm
EX_SIM_UART := $(EX_DIR)/kdcom-simkernel-uart
EX_SHIM     := $(EX_DIR)/kdcom-shim
EX_PROGS    += $(EX_SIM_VM) $(EX_SIM_UART) $(EX_SHIM)

$(EX_SIM_VM): $(EX_SIM_OBJS) $(EX_DIR)/simkernel/backend_vm.o $(EX_COMMON) \
              $$(GUEST_VM_OBJS) $(LIB_A)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^

$(EX_SIM_UART): $(EX_SIM_OBJS) $(EX_DIR)/simkernel/backend_uart.o \
                $(EX_DIR)/simkernel/simep.o $(EX_COMMON) $$(GUEST_UART_OBJS) $(LIB_A)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^

$(EX_SHIM): $(EX_DIR)/shim/kdshim.o $(EX_DIR)/shim/ivshmem_server.o \
             $(EX_COMMON) $(LIB_A)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^

examples: $(EX_PROGS)

# make install / uninstall: the programs, under $(BINDIR).  They link
# libkdcom statically and need nothing else installed.  A fragment read
# later may add its programs to INSTALL_PROGS (expanded a second time).
INSTALL_PROGS := $(EX_SHIM) $(EX_CLIENT) $(EX_SIM) $(EX_SIM_VM) $(EX_SIM_UART)

.PHONY: install-programs uninstall-programs check-install
install: install-programs
uninstall: uninstall-programs

install-programs: $$(INSTALL_PROGS)
	install -d $(DESTDIR)$(BINDIR)
	install -m 755 $(INSTALL_PROGS) $(DESTDIR)$(BINDIR)/

uninstall-programs:
	rm -f $(addprefix $(DESTDIR)$(BINDIR)/,$(notdir $(INSTALL_PROGS)))

# A packager's install (DESTDIR, PREFIX=/usr) into a temporary tree: every
# program answers --version with this version and --help, a session runs
# with the bare names on PATH as the docs write them, and uninstall leaves
# no file behind (tests/e2e/install.sh).  check-pkgconfig stages an install
# too: both find the programs built.
CHECK_TARGETS += check-install
check-pkgconfig: $$(INSTALL_PROGS)

check-install: lib $$(INSTALL_PROGS)
	MAKE="$(MAKE)" B="$(B)" VERSION="$(VERSION)" \
	    PROGS="$(notdir $(INSTALL_PROGS))" \
	    timeout -k 5 $(E2E_TIMEOUT) sh tests/e2e/install.sh

demo: $(EX_CLIENT) $(EX_SIM_VM) $(EX_SHIM)
	@sh examples/demo/demo.sh $(EX_DIR)

# End-to-end tests: tests/e2e/t_*.sh, each bounded by `timeout`, each with
# its own temp directory and process cleanup (tests/e2e/lib.sh).
E2E_TESTS     := $(sort $(wildcard tests/e2e/t_*.sh))
E2E_RESETBOMB := $(B)/tests/e2e/resetbomb
E2E_TIMEOUT   ?= 120
CHECK_TARGETS += check-e2e
DEPS_DEB      += coreutils

$(E2E_RESETBOMB): tests/e2e/resetbomb.c include/kdcom.h $(LIB_A)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -Iinclude $(CPPFLAGS) $< $(LIB_A) $(LDFLAGS) -o $@

E2E_KDLAYOUT  := $(B)/tests/e2e/kdlayout
E2E_KDPEER    := $(B)/tests/e2e/kdpeer

# A debugger that synchronises once and can die in the middle of a request.
$(E2E_KDPEER): tests/e2e/kdpeer.c include/kdcom.h include/kdcom_kd.h $(LIB_A)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -Iinclude $(CPPFLAGS) $< $(LIB_A) $(LDFLAGS) -o $@

$(E2E_KDLAYOUT): tests/e2e/kdlayout.c include/kdcom.h include/kdcom_kd.h \
                 $(LIB_A)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -Iinclude $(CPPFLAGS) $< $(LIB_A) $(LDFLAGS) -o $@

# kdcom_kd.h: its offsets against recorded peers, and C++ compatibility.
check-e2e: $(EX_PROGS) $(E2E_RESETBOMB) $(E2E_KDLAYOUT) $(E2E_KDPEER)
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

# Tools of the lossy-line, replay and decoder tests (tests/e2e/t_lossy.sh,
# t_replay.sh, t_decode.sh find them in $(B)/tests/e2e next to $(E2E_BIN)):
# a proxy that damages a share of the frames it forwards, a debugger that
# replays a recorded session, and a check of the decoded-trace lines.
E2E_FAULTPROXY := $(B)/tests/e2e/faultproxy
E2E_KDREPLAY   := $(B)/tests/e2e/kdreplay
E2E_KDDESCRIBE := $(B)/tests/e2e/kddescribe

$(E2E_FAULTPROXY): tests/e2e/faultproxy.c include/kdcom.h $(LIB_A)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -Iinclude $(CPPFLAGS) $< $(LIB_A) $(LDFLAGS) -o $@

$(E2E_KDREPLAY): tests/e2e/kdreplay.c include/kdcom.h include/kdcom_kd.h \
                 $(LIB_A)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -Iinclude $(CPPFLAGS) $< $(LIB_A) $(LDFLAGS) -o $@

$(E2E_KDDESCRIBE): tests/e2e/kddescribe.c $(EX_DIR)/common/wiretrace.o \
                   $(EX_DIR)/common/pcapng.o $(EX_HDRS) $(LIB_A)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -Iinclude $(CPPFLAGS) $< \
	    $(EX_DIR)/common/wiretrace.o $(EX_DIR)/common/pcapng.o $(LIB_A) \
	    $(LDFLAGS) -o $@

check-e2e: $(E2E_FAULTPROXY) $(E2E_KDREPLAY) $(E2E_KDDESCRIBE)

# The other side of kdcom-shim --ivshmem-server without QEMU: a client that
# checks the ivshmem handshake and plays the guest behind the device, and
# drives a real QEMU's device through qtest (tests/e2e/t_ivshmem_*.sh find
# it in $(B)/tests/e2e next to $(E2E_BIN)).
E2E_IVSCLIENT := $(B)/tests/e2e/ivshmem_client

$(E2E_IVSCLIENT): tests/e2e/ivshmem_client.c include/kdcom_vm.h $(LIB_A)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -Iinclude $(CPPFLAGS) $< $(LIB_A) $(LDFLAGS) -o $@

check-e2e: $(E2E_IVSCLIENT)
