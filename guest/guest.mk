# SPDX-License-Identifier: BSD-2-Clause
#
# guest.mk - the VM channel's freestanding guest transport (guest/).  The
# host service itself is part of libkdcom (libkdcom/vm_*.c) and is built by
# the top-level Makefile; the VM channel tests by tests/vm.mk.
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
#   GUEST_STREAM_OBJS the uart set without the 16550: the same over any
#                    byte port; needs KdPlatformMilliseconds,
#                    KdStreamPlatformOpen, KdStreamPlatformRead,
#                    KdStreamPlatformWrite, KdStreamPlatformWait
#   GUEST_MEM_OBJ    memcpy/memset/memmove/memcmp for a program without a
#                    C library (bare metal, a kernel); a Linux user-space
#                    program must NOT link it (libc has them)
#   GUEST_CPPFLAGS   include path for include/kdcom_kdapi.h and
#                    guest/kdguest.h
#
#   make guest         build the object sets
#   make check-guest   nm -u check of the guest objects + the VM tests

GUEST_CPPFLAGS  = -Iinclude -Iguest
GUEST_CFLAGS    = $(ALL_CFLAGS) -ffreestanding -fno-stack-protector \
                  $(GUEST_CPPFLAGS) $(CPPFLAGS)
GUEST_HDRS     := $(wildcard guest/*.h) include/kdcom.h include/kdcom_vm.h \
                  include/kdcom_kdapi.h

GUEST_COMMON_OBJS := $(B)/guest/kd_api.o $(B)/guest/kd_chan.o
GUEST_VM_OBJS     := $(GUEST_COMMON_OBJS) $(B)/guest/kd_vm.o
GUEST_STREAM_OBJS := $(GUEST_COMMON_OBJS) $(B)/guest/kd_stream.o $(CORE_OBJS)
GUEST_UART_OBJS   := $(GUEST_STREAM_OBJS) $(B)/guest/kd_uart.o
GUEST_MEM_OBJ     := $(B)/guest/kd_mem.o

# Symbols the guest objects may leave undefined: the platform interface,
# the four functions GCC requires of any freestanding environment, and
# whatever instrumentation the user's CFLAGS ask for (sanitizers, stack
# protector), and the GOT symbol the linker itself provides (-fPIC).
GUEST_NM_COMMON := KdPlatformMilliseconds memcpy memset memmove memcmp \
                   __stack_chk_fail __stack_chk_guard _GLOBAL_OFFSET_TABLE_
GUEST_NM_VM     := $(GUEST_NM_COMMON) KdVmPlatformChannel KdVmPlatformNotify
GUEST_NM_UART   := $(GUEST_NM_COMMON) KdUartPlatformRead KdUartPlatformWrite
GUEST_NM_STREAM := $(GUEST_NM_COMMON) KdStreamPlatformOpen \
                   KdStreamPlatformRead KdStreamPlatformWrite \
                   KdStreamPlatformWait

.PHONY: guest check-guest check-guest-nm
CHECK_TARGETS += check-guest

guest: $(GUEST_VM_OBJS) $(GUEST_UART_OBJS) $(GUEST_MEM_OBJ)

$(B)/guest/%.o: guest/%.c $(GUEST_HDRS)
	@mkdir -p $(@D)
	$(CC) $(GUEST_CFLAGS) -c $< -o $@

# nm -u on each back end linked into one relocatable object.  The vm back
# end must also define no KDCOM code at all (the point of the design): no
# libkdcom function (the KD message helpers of kdcom_kd.h are header
# inlines, local symbols in an unoptimised build).
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
	$(call guest_nm_check,stream,$(GUEST_STREAM_OBJS),$(GUEST_NM_STREAM))
	$(call guest_nm_check,mem,$(GUEST_MEM_OBJ),__nothing__)
	@if nm --defined-only --extern-only $(B)/guest/vm-all.o | grep -q " kdcom_"; then \
	    echo "guest nm check FAILED: the vm back end contains KDCOM code"; \
	    exit 1; fi

# The VM channel tests (check-vm) are built by tests/vm.mk.
check-guest: check-guest-nm check-vm
	@echo "check-guest: guest objects and VM channel tests passed"
