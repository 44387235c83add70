# SPDX-License-Identifier: BSD-2-Clause
#
# baremetal.mk - the bare-metal test kernel (guest/baremetal/): two 32-bit
# Multiboot ELF images QEMU boots with -kernel, one per guest back end:
#
#   $(B)/baremetal/kdcom-bm-vm.elf    guest/ vm back end over ivshmem
#   $(B)/baremetal/kdcom-bm-uart.elf  guest/ uart back end on COM1
#
# Each links guest/'s objects, the simulated kernel's core
# (examples/simkernel/kdcore.c) and, for uart, libkdcom's core, all
# compiled again for i386 with only the compiler's own headers
# (-ffreestanding -nostdinc + the compiler's include directory): no C
# library, no libgcc, no multilib needed.  The user's CFLAGS are not used
# (a sanitizer or -fPIE build of the rest must not reach ring 0); WERROR
# is.  Linking with `ld` and no libraries is the purity check: any symbol
# beyond the program's own fails the link.
#
#   make baremetal      build both images
#   make check-qemu     boot them in QEMU (tests/qemu/), with kdcom-shim
#                       and kdcom-client; skipped when QEMU is absent

BM_DIR   := $(B)/baremetal
BM_LD    ?= ld
BM_CC    ?= $(CC)
BM_INC   := $(shell $(BM_CC) -print-file-name=include)
BM_CFLAGS = -std=c99 $(WARN) -O2 -m32 -march=i686 -ffreestanding -nostdinc \
            -isystem $(BM_INC) -fno-pic -fno-pie -fno-stack-protector \
            -fno-asynchronous-unwind-tables -mno-mmx -mno-sse -mno-80387 \
            -Iinclude -Iguest
BM_HDRS  := $(wildcard guest/baremetal/*.h) $(GUEST_HDRS) $(CORE_HDRS) \
            examples/simkernel/kdcore.h examples/common/simpattern.h

BM_COMMON := boot bm_main bm_console bm_clock bm_pci
BM_GUEST  := kd_api kd_chan kd_mem
BM_CORE   := $(patsubst libkdcom/%.c,%,$(CORE_SRCS))

# $(1): vm or uart
define bm_objs
$(addprefix $(BM_DIR)/$(1)/,$(addsuffix .o,$(BM_COMMON) bm_$(1) $(BM_GUEST) kd_$(1) kdcore)) \
$(if $(filter vm,$(1)),$(BM_DIR)/vm/bm_rtt.o) \
$(if $(filter uart,$(1)),$(BM_DIR)/uart/kd_stream.o \
    $(addprefix $(BM_DIR)/$(1)/core/,$(addsuffix .o,$(BM_CORE))))
endef

BM_VM_OBJS   := $(call bm_objs,vm)
BM_UART_OBJS := $(call bm_objs,uart)
BM_VM_ELF    := $(BM_DIR)/kdcom-bm-vm.elf
BM_UART_ELF  := $(BM_DIR)/kdcom-bm-uart.elf

.PHONY: baremetal
guest: baremetal
baremetal: $(BM_VM_ELF) $(BM_UART_ELF)

$(BM_DIR)/%/boot.o: guest/baremetal/boot.S
	@mkdir -p $(@D)
	$(BM_CC) -m32 -nostdinc -c $< -o $@
$(BM_DIR)/%/kdcore.o: examples/simkernel/kdcore.c $(BM_HDRS)
	@mkdir -p $(@D)
	$(BM_CC) $(BM_CFLAGS) -c $< -o $@
$(BM_DIR)/uart/core/%.o: libkdcom/%.c $(BM_HDRS)
	@mkdir -p $(@D)
	$(BM_CC) $(BM_CFLAGS) -DKDCOM_BUILDING -c $< -o $@
$(BM_DIR)/vm/%.o: guest/baremetal/%.c $(BM_HDRS)
	@mkdir -p $(@D)
	$(BM_CC) $(BM_CFLAGS) -c $< -o $@
$(BM_DIR)/vm/%.o: guest/%.c $(BM_HDRS)
	@mkdir -p $(@D)
	$(BM_CC) $(BM_CFLAGS) -c $< -o $@
$(BM_DIR)/uart/%.o: guest/baremetal/%.c $(BM_HDRS)
	@mkdir -p $(@D)
	$(BM_CC) $(BM_CFLAGS) -c $< -o $@
$(BM_DIR)/uart/%.o: guest/%.c $(BM_HDRS)
	@mkdir -p $(@D)
	$(BM_CC) $(BM_CFLAGS) -c $< -o $@

$(BM_VM_ELF): $(BM_VM_OBJS) guest/baremetal/link.ld
	$(BM_LD) -m elf_i386 -nostdlib -T guest/baremetal/link.ld -o $@ $(BM_VM_OBJS)
	@if nm --defined-only $@ | grep -q ' kdcom_'; then \
	    echo "baremetal: FAILED: the vm kernel contains KDCOM code"; exit 1; fi
	@echo "baremetal: $@ linked with no library, no KDCOM code"

$(BM_UART_ELF): $(BM_UART_OBJS) guest/baremetal/link.ld
	$(BM_LD) -m elf_i386 -nostdlib -T guest/baremetal/link.ld -o $@ $(BM_UART_OBJS)
	@echo "baremetal: $@ linked with no library"

# ---------------------------------------------------------------------------
# QEMU tests (tests/qemu/t_*.sh): each boots a kernel under `timeout`, with
# a pidfile its cleanup kills by; skipped, saying so, without QEMU.

DEPS_DEB      += qemu-system-x86
QEMU_TESTS    := $(sort $(wildcard tests/qemu/t_*.sh))
QEMU_TEST_TIMEOUT ?= 300
CHECK_TARGETS += check-qemu

.PHONY: check-qemu
check-qemu: $(BM_VM_ELF) $(BM_UART_ELF) $(EX_PROGS)
	@set -e; for t in $(QEMU_TESTS); do \
	    E2E_BIN=$(abspath $(EX_DIR)) QEMU_BM=$(abspath $(BM_DIR)) \
	        timeout -k 5 $(QEMU_TEST_TIMEOUT) sh $$t; \
	done
	@echo "check-qemu: all QEMU tests passed or were skipped"
