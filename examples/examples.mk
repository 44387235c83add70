# SPDX-License-Identifier: BSD-2-Clause
# The example programs that own the OS: the VMM shim daemon, the debugger
# client, the simulated kernel (one binary per transport back end) and
# `make demo`.  Their end-to-end tests are built and run by tests/e2e.mk.
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
EX_CLIENT_OBJS := $(addprefix $(EX_DIR)/client/,kdclient.o options.o \
                      cmdparse.o commands.o memory.o interactive.o \
                      kdsession.o)
EX_SIM_OBJS    := $(EX_DIR)/simkernel/simkernel.o $(EX_DIR)/simkernel/kdcore.o
EX_SIM_FD_OBJS := $(EX_DIR)/simkernel/backend_fd.o \
                  $(EX_DIR)/simkernel/transport_fd.o \
                  $(EX_DIR)/simkernel/simep.o

EX_CLIENT := $(EX_DIR)/kdcom-client
EX_SIM    := $(EX_DIR)/kdcom-simkernel
EX_PROGS  := $(EX_CLIENT) $(EX_SIM)

.PHONY: examples demo

$(EX_DIR)/%.o: examples/%.c $(EX_HDRS)
	@mkdir -p $(@D)
	$(CC) $(EX_CFLAGS) -c $< -o $@

$(EX_CLIENT): $(EX_CLIENT_OBJS) $(EX_COMMON) $(LIB_A)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^

# The simulated kernels link guest/'s object sets (the stream back end on
# transport_fd.c's endpoint, the vm one, the uart one on backend_uart.c's
# emulated 16550); guest/guest.mk is read after this file, so their names
# are expanded a second time.
.SECONDEXPANSION:
EX_SIM_VM   := $(EX_DIR)/kdcom-simkernel-vm
EX_SIM_UART := $(EX_DIR)/kdcom-simkernel-uart
EX_SHIM     := $(EX_DIR)/kdcom-shim
EX_PROGS    += $(EX_SIM_VM) $(EX_SIM_UART) $(EX_SHIM)

$(EX_SIM): $(EX_SIM_OBJS) $(EX_SIM_FD_OBJS) $(EX_COMMON) \
           $$(GUEST_STREAM_OBJS) $(LIB_A)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^

$(EX_SIM_VM): $(EX_SIM_OBJS) $(EX_DIR)/simkernel/backend_vm.o $(EX_COMMON) \
              $$(GUEST_VM_OBJS) $(LIB_A)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^

$(EX_SIM_UART): $(EX_SIM_OBJS) $(EX_DIR)/simkernel/backend_uart.o \
                $(EX_DIR)/simkernel/transport_fd.o $(EX_DIR)/simkernel/simep.o \
                $(EX_COMMON) $$(GUEST_UART_OBJS) $(LIB_A)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^

EX_SHIM_OBJS := $(addprefix $(EX_DIR)/shim/,kdshim.o options.o host.o \
                    channel.o doorbell.o debugger.o ivshmem_server.o)

$(EX_SHIM): $(EX_SHIM_OBJS) $(EX_COMMON) $(LIB_A)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^

examples: $(EX_PROGS)

# make install / uninstall: the programs, under $(BINDIR).  They link
# libkdcom statically and need nothing else installed.  A fragment read
# later may add its programs to INSTALL_PROGS (expanded a second time).
INSTALL_PROGS := $(EX_SHIM) $(EX_CLIENT) $(EX_SIM) $(EX_SIM_VM) $(EX_SIM_UART)

.PHONY: install-programs uninstall-programs
install: install-programs
uninstall: uninstall-programs

install-programs: $$(INSTALL_PROGS)
	install -d $(DESTDIR)$(BINDIR)
	install -m 755 $(INSTALL_PROGS) $(DESTDIR)$(BINDIR)/

uninstall-programs:
	rm -f $(addprefix $(DESTDIR)$(BINDIR)/,$(notdir $(INSTALL_PROGS)))

# check-pkgconfig (examples/pkgconfig.mk) stages an install, as does
# check-install (tests/e2e.mk): both find the programs built.
check-pkgconfig: $$(INSTALL_PROGS)

demo: $(EX_CLIENT) $(EX_SIM_VM) $(EX_SHIM)
	@sh examples/demo/demo.sh $(EX_DIR)
