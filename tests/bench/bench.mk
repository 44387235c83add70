# SPDX-License-Identifier: BSD-2-Clause
# `make bench`: the performance table (tests/bench/, docs/performance.md).
# Not part of `make check`: speed is measured here, never asserted.
#
# The bench links its own copy of the core, built with the packager's
# CFLAGS plus BENCH_OPT (-O2 unless CFLAGS already optimise), so an -O0
# debug build of the library never ends up in the figures.  The reference
# kernels (ref.c) are built with BENCH_REF_OPT (-O3), where compilers
# vectorise a plain byte-sum loop.  callgrind.sh counts instructions when
# valgrind is installed; pipeline.sh times the end-to-end paths with the
# example programs (built by `make examples`, with the packager's flags);
# qemu.sh the same inside QEMU with the bare-metal kernels (`make
# baremetal`; its rows say "pending" without qemu-system-x86).
#
#   make bench [BENCH_ARGS="-r 9 -t 15"] [BENCH_OPT=-O3]

DEPS_DEB += valgrind

BENCH_DIR      := $(B)/bench
BENCH_OPT      ?= $(if $(filter -O2 -O3 -Ofast,$(CFLAGS)),,-O2)
BENCH_REF_OPT  ?= -O3
BENCH_ARGS     ?=
# DWARF 4: valgrind 3.19 (Debian 12) cannot read clang 14's default DWARF 5,
# and callgrind needs the symbols.  Debug info only; the code is the same.
BENCH_DWARF    ?= -gdwarf-4
BENCH_CORE_CFLAGS = $(CORE_CFLAGS) $(BENCH_OPT) $(BENCH_DWARF)
BENCH_CFLAGS   = $(ALL_CFLAGS) $(BENCH_OPT) $(BENCH_DWARF) -Iinclude -I$(BENCH_DIR) \
                 $(if $(wildcard include/kdcom_vm.h),-DBENCH_HAVE_VM) \
                 $(CPPFLAGS)

BENCH_CORE_OBJS := $(patsubst libkdcom/%.c,$(BENCH_DIR)/core/%.o,$(CORE_SRCS))
BENCH_LIB    := $(BENCH_DIR)/libkdcom-bench.a
BENCH_BIN    := $(BENCH_DIR)/bench
BENCH_CG     := $(BENCH_DIR)/bench_cg
BENCH_HDRS   := tests/bench/bench.h $(BENCH_DIR)/bench_flags.h
BENCH_MAIN_SRCS := $(addprefix tests/bench/,bench_main.c bench_codec.c \
                   bench_link.c bench_pipeline.c bench_cost.c alloc_count.c)
BENCH_MAIN_OBJS := $(patsubst tests/bench/%.c,$(BENCH_DIR)/%.o,$(BENCH_MAIN_SRCS))

.PHONY: bench bench-build
bench: bench-build
	@tests/bench/callgrind.sh $(BENCH_CG) $(BENCH_DIR)/cg > $(BENCH_DIR)/callgrind.txt
	@rm -f $(BENCH_DIR)/pipeline.txt
	@$(MAKE) --no-print-directory examples >/dev/null 2>&1 || \
	    echo "bench: the example programs did not build: row 4 pending"
	@tests/bench/pipeline.sh $(B) > $(BENCH_DIR)/pipeline.txt || true
	@$(BENCH_DIR)/hops >> $(BENCH_DIR)/pipeline.txt || \
	    echo "hops_failed see tests/bench/hops.c" >> $(BENCH_DIR)/pipeline.txt
	@$(MAKE) --no-print-directory baremetal >/dev/null 2>&1 || \
	    echo "bench: the bare-metal kernels did not build: QEMU rows pending"
	@tests/bench/qemu.sh $(B) >> $(BENCH_DIR)/pipeline.txt || true
	$(BENCH_BIN) -c $(BENCH_DIR)/callgrind.txt -p $(BENCH_DIR)/pipeline.txt $(BENCH_ARGS)

bench-build: $(BENCH_BIN) $(BENCH_CG) $(BENCH_DIR)/vm_echo $(BENCH_DIR)/hops

# Row 4k: row 4c's hops without KD work (tests/bench/hops.c).
$(BENCH_DIR)/hops: tests/bench/hops.c include/kdcom_vm.h
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(BENCH_OPT) -pthread -Iinclude $(CPPFLAGS) $< $(LDFLAGS) -pthread -o $@

# The host side of the QEMU round-trip row (tests/bench/qemu.sh).
$(BENCH_DIR)/vm_echo: tests/bench/vm_echo.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(BENCH_OPT) $(CPPFLAGS) $< $(LDFLAGS) -o $@

# bench_flags.h changes with the flags, so a flag change rebuilds all.
$(BENCH_DIR)/core/%.o: libkdcom/%.c $(CORE_HDRS) $(BENCH_DIR)/bench_flags.h
	@mkdir -p $(@D)
	$(CC) $(BENCH_CORE_CFLAGS) -c $< -o $@

$(BENCH_LIB): $(BENCH_CORE_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^

# The flags the figures were made with, printed in the table's header;
# rewritten only when they change.
$(BENCH_DIR)/bench_flags.h: FORCE_BENCH_FLAGS
	@mkdir -p $(@D)
	@{ printf '#define BENCH_CC "%s"\n' "$$($(CC) --version | head -n 1)"; \
	   printf '#define BENCH_LIB_FLAGS "%s"\n' '$(strip $(BENCH_CORE_CFLAGS))'; \
	   printf '#define BENCH_REF_FLAGS "%s"\n' '$(strip $(ALL_CFLAGS) $(BENCH_REF_OPT) $(BENCH_DWARF))'; \
	 } > $@.tmp
	@if cmp -s $@.tmp $@; then rm -f $@.tmp; else mv $@.tmp $@; fi
.PHONY: FORCE_BENCH_FLAGS

$(BENCH_DIR)/ref.o: tests/bench/ref.c $(BENCH_HDRS)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(BENCH_REF_OPT) $(BENCH_DWARF) -Iinclude $(CPPFLAGS) -c $< -o $@

$(BENCH_DIR)/%.o: tests/bench/%.c $(BENCH_HDRS) include/kdcom.h
	@mkdir -p $(@D)
	$(CC) $(BENCH_CFLAGS) -include $(BENCH_DIR)/bench_flags.h -c $< -o $@

$(BENCH_BIN): $(BENCH_MAIN_OBJS) $(BENCH_DIR)/ref.o $(BENCH_LIB)
	$(CC) $(LDFLAGS) -o $@ $(BENCH_MAIN_OBJS) $(BENCH_DIR)/ref.o $(BENCH_LIB)

$(BENCH_CG): $(BENCH_DIR)/cg_driver.o $(BENCH_DIR)/ref.o $(BENCH_LIB)
	$(CC) $(LDFLAGS) -o $@ $^
