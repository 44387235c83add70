# SPDX-License-Identifier: BSD-2-Clause
# The VM channel tests (tests/vm/): cmocka, one executable per
# tests/vm/test_*.c, run by `make check-vm` (part of check-guest,
# guest/guest.mk).  They link guest/'s object sets (GUEST_VM_OBJS,
# GUEST_UART_OBJS), which guest/guest.mk defines before this file is read.
#   test_vm_host*   the host service driven by a hand-written guest
#   test_vm_guest*  the vm back end against the host service (threads,
#                   shared file)
#   test_vm_uart*   the uart back end against a DEBUGGER link

DEPS_DEB += libcmocka-dev

.PHONY: check-vm

VMT_HOST_SRCS  := $(sort $(wildcard tests/vm/test_vm_host*.c))
VMT_GUEST_SRCS := $(sort $(wildcard tests/vm/test_vm_guest*.c))
VMT_UART_SRCS  := $(sort $(wildcard tests/vm/test_vm_uart*.c))
VMT_HOST_BINS  := $(patsubst tests/vm/%.c,$(B)/tests/vm/%,$(VMT_HOST_SRCS))
VMT_GUEST_BINS := $(patsubst tests/vm/%.c,$(B)/tests/vm/%,$(VMT_GUEST_SRCS))
VMT_UART_BINS  := $(patsubst tests/vm/%.c,$(B)/tests/vm/%,$(VMT_UART_SRCS))
VMT_BINS       := $(VMT_HOST_BINS) $(VMT_GUEST_BINS) $(VMT_UART_BINS)
VMT_HDRS       := $(wildcard tests/vm/*.h) tests/util.h
VMT_CFLAGS      = $(ALL_CFLAGS) -Iinclude -Iguest -Itests/vm $(CPPFLAGS)

$(VMT_HOST_BINS): $(B)/tests/vm/%: tests/vm/%.c tests/vm/vmh.c $(VMT_HDRS) $(TEST_LIB_A)
	@mkdir -p $(@D)
	$(CC) $(VMT_CFLAGS) $< tests/vm/vmh.c $(TEST_LIB_A) $(LDFLAGS) -lcmocka -lpthread -o $@

$(VMT_GUEST_BINS): $(B)/tests/vm/%: tests/vm/%.c tests/vm/vmt.c tests/vm/vmt_scenario.c $(VMT_HDRS) $(GUEST_VM_OBJS) $(LIB_A)
	@mkdir -p $(@D)
	$(CC) $(VMT_CFLAGS) $< tests/vm/vmt.c tests/vm/vmt_scenario.c $(GUEST_VM_OBJS) $(LIB_A) $(LDFLAGS) -lcmocka -lpthread -o $@

$(VMT_UART_BINS): $(B)/tests/vm/%: tests/vm/%.c tests/vm/vmt.c tests/vm/vmt_scenario.c $(VMT_HDRS) $(GUEST_UART_OBJS)
	@mkdir -p $(@D)
	$(CC) $(VMT_CFLAGS) $< tests/vm/vmt.c tests/vm/vmt_scenario.c $(GUEST_UART_OBJS) $(LDFLAGS) -lcmocka -lpthread -o $@

check-vm: $(VMT_BINS)
	@set -e; for t in $(VMT_BINS); do echo "== $$t"; $(TEST_RUNNER) $$t; done
