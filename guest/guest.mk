# SPDX-License-Identifier: BSD-2-Clause
#
# guest.mk - the VM channel: the freestanding guest transport (guest/) and
# the VM channel tests (tests/vm/).  The host service itself is part of
# libkdcom (libkdcom/vm_*.c) and is built by the top-level Makefile.
#
# Reusable by other fragments (objects built -ffreestanding under
# $(B)/guest/):
#
#   GUEST_VM_OBJS    the kdcom.dll export surface over the VM channel;
#                    needs KdPlatformMilliseconds, KdVmPlatformChannel,
#                    KdVmPlatformNotify (guest/kdguest.h)
#   GUEST_UART_OBJS  the same over a 16550 UART (classic KDCOM through
#                    libkdcom's TARGET role; the libkdcom objects are
#                    included); needs KdPlatformMilliseconds,
#                    KdUartPlatformRead, KdUartPlatformWrite
#   GUEST_MEM_OBJ    memcpy/memset/memmove/memcmp for a program without a
#                    C library (bare metal, a kernel); a Linux user-space
#                    program must NOT link it (libc has them)
#   GUEST_CPPFLAGS   include path for guest/kdapi.h and guest/kdguest.h
#
#   make guest         build the three object sets
#   make check-guest   nm -u check of the guest objects + the VM tests

GUEST_CPPFLAGS  = -Iinclude -Iguest
GUEST_CFLAGS    = $(ALL_CFLAGS) -ffreestanding -fno-stack-protector \
                  $(GUEST_CPPFLAGS) $(CPPFLAGS)
GUEST_HDRS     := $(wildcard guest/*.h) include/kdcom.h include/kdcom_vm.h

GUEST_COMMON_OBJS := $(B)/guest/kd_api.o $(B)/guest/kd_chan.o
GUEST_VM_OBJS     := $(GUEST_COMMON_OBJS) $(B)/guest/kd_vm.o
GUEST_UART_OBJS   := $(GUEST_COMMON_OBJS) $(B)/guest/kd_uart.o $(CORE_OBJS)
GUEST_MEM_OBJ     := $(B)/guest/kd_mem.o

# Symbols the guest objects may leave undefined: the platform interface,
# the four functions GCC requires of any freestanding environment, and
# whatever instrumentation the user's CFLAGS ask for (sanitizers, stack
# protector), and the GOT symbol the linker itself provides (-fPIC).
GUEST_NM_COMMON := KdPlatformMilliseconds memcpy memset memmove memcmp \
                   __stack_chk_fail __stack_chk_guard _GLOBAL_OFFSET_TABLE_
GUEST_NM_VM     := $(GUEST_NM_COMMON) KdVmPlatformChannel KdVmPlatformNotify
GUEST_NM_UART   := $(GUEST_NM_COMMON) KdUartPlatformRead KdUartPlatformWrite

.PHONY: guest check-guest check-guest-nm check-vm
CHECK_TARGETS += check-guest

guest: $(GUEST_VM_OBJS) $(GUEST_UART_OBJS) $(GUEST_MEM_OBJ)

$(B)/guest/%.o: guest/%.c $(GUEST_HDRS)
	@mkdir -p $(@D)
	$(CC) $(GUEST_CFLAGS) -c $< -o $@

# nm -u on each back end linked into one relocatable object.  The vm back
# end must also define no KDCOM code at all (the point of the design).
define guest_nm_check
	$(CC) -r -nostdlib -o $(B)/guest/$(1)-all.o $(2)
	@bad=$$(nm -u $(B)/guest/$(1)-all.o | awk '{print $$2}' | \
	        grep -v -e '^__asan' -e '^__ubsan' -e '^__sanitizer' -e '^__tsan' | \
	        grep -v -x -F $(addprefix -e ,$(3)) || true); \
	if [ -n "$$bad" ]; then \
	    echo "guest nm check FAILED ($(1)): undefined:" $$bad; exit 1; fi
	@echo "guest nm check ($(1)): undefined only:" \
	    $$(nm -u $(B)/guest/$(1)-all.o | awk '{print $$2}' | tr '\n' ' ')
endef

check-guest-nm: $(GUEST_VM_OBJS) $(GUEST_UART_OBJS) $(GUEST_MEM_OBJ)
	$(call guest_nm_check,vm,$(GUEST_VM_OBJS),$(GUEST_NM_VM))
	$(call guest_nm_check,uart,$(GUEST_UART_OBJS),$(GUEST_NM_UART))
	$(call guest_nm_check,mem,$(GUEST_MEM_OBJ),__nothing__)
	@if nm --defined-only $(B)/guest/vm-all.o | grep -q ' kdcom_'; then \
	    echo "guest nm check FAILED: the vm back end contains KDCOM code"; \
	    exit 1; fi

# ---------------------------------------------------------------------------
# Tests (tests/vm/): cmocka, one executable per tests/vm/test_*.c.
#   test_vm_host*   the host service driven by a hand-written guest
#   test_vm_guest*  the vm back end against the host service (threads,
#                   shared file)
#   test_vm_uart*   the uart back end against a DEBUGGER link

DEPS_DEB += libcmocka-dev

VMT_HOST_SRCS  := $(sort $(wildcard tests/vm/test_vm_host*.c))
VMT_GUEST_SRCS := $(sort $(wildcard tests/vm/test_vm_guest*.c))
VMT_UART_SRCS  := $(sort $(wildcard tests/vm/test_vm_uart*.c))
VMT_HOST_BINS  := $(patsubst tests/vm/%.c,$(B)/tests/vm/%,$(VMT_HOST_SRCS))
VMT_GUEST_BINS := $(patsubst tests/vm/%.c,$(B)/tests/vm/%,$(VMT_GUEST_SRCS))
VMT_UART_BINS  := $(patsubst tests/vm/%.c,$(B)/tests/vm/%,$(VMT_UART_SRCS))
VMT_BINS       := $(VMT_HOST_BINS) $(VMT_GUEST_BINS) $(VMT_UART_BINS)
VMT_HDRS       := $(wildcard tests/vm/*.h)
VMT_CFLAGS      = $(ALL_CFLAGS) -Iinclude -Iguest -Itests/vm $(CPPFLAGS)

$(VMT_HOST_BINS): $(B)/tests/vm/%: tests/vm/%.c tests/vm/vmh.c $(VMT_HDRS) $(LIB_A)
	@mkdir -p $(@D)
	$(CC) $(VMT_CFLAGS) $< tests/vm/vmh.c $(LIB_A) $(LDFLAGS) -lcmocka -lpthread -o $@

$(VMT_GUEST_BINS): $(B)/tests/vm/%: tests/vm/%.c tests/vm/vmt.c tests/vm/vmt_scenario.c $(VMT_HDRS) $(GUEST_VM_OBJS) $(LIB_A)
	@mkdir -p $(@D)
	$(CC) $(VMT_CFLAGS) $< tests/vm/vmt.c tests/vm/vmt_scenario.c $(GUEST_VM_OBJS) $(LIB_A) $(LDFLAGS) -lcmocka -lpthread -o $@

$(VMT_UART_BINS): $(B)/tests/vm/%: tests/vm/%.c tests/vm/vmt.c tests/vm/vmt_scenario.c $(VMT_HDRS) $(GUEST_UART_OBJS)
	@mkdir -p $(@D)
	$(CC) $(VMT_CFLAGS) $< tests/vm/vmt.c tests/vm/vmt_scenario.c $(GUEST_UART_OBJS) $(LDFLAGS) -lcmocka -lpthread -o $@

check-vm: $(VMT_BINS)
	@set -e; for t in $(VMT_BINS); do echo "== $$t"; $(TEST_RUNNER) $$t; done

check-guest: check-guest-nm check-vm
	@echo "check-guest: guest objects and VM channel tests passed"
