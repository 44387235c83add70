# SPDX-License-Identifier: BSD-2-Clause
# Robustness: fuzz harnesses, corpus replay, sanitizers, valgrind,
# coverage and the lossy-link soak.
#
#   make fuzz-replay   replay fuzz/corpus/* through every harness, built with
#                      $(CC) as plain file replayers (part of `make check`)
#   make fuzz          build the harnesses with clang + libFuzzer + ASan +
#                      UBSan and run each for FUZZ_SECONDS (default 60);
#                      new inputs go to $(B)/fuzz-corpus/<harness>, crashes
#                      to $(B)/fuzz-artifacts/
#   make fuzz-smoke    corpus replay, then 30 s per harness if clang's
#                      libFuzzer is installed (CI)
#   make asan          the whole `make check` under ASan + UBSan
#   make valgrind      the C tests and the corpus replay under memcheck
#   make coverage      line and branch coverage of libkdcom/ from the C
#                      tests plus the corpus replay (gcov; lcov HTML too)
#   make soak          the lossy-link simulator at scale (SOAK_PACKETS)
#
# `make fuzz` needs clang and its libFuzzer runtime (Debian 12: clang,
# libclang-rt-14-dev); nothing in `make check` does.

FUZZ_SECONDS ?= 60
FUZZ_CC      ?= clang
FUZZ_FLAGS   ?= -O1 -g -fno-omit-frame-pointer \
                -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
FUZZ_HARNESSES := parser link_target link_debugger pair

DEPS_DEB += clang libclang-rt-14-dev valgrind lcov

FUZZ_COMMON := fuzz/input.c fuzz/end.c fuzz/wire.c
FUZZ_HDRS   := fuzz/fuzz.h fuzz/wire.h
FUZZ_INC    := -Iinclude -Ilibkdcom -Ifuzz

fuzz_src  = $(if $(filter link_%,$(1)),fuzz/fuzz_link.c,fuzz/fuzz_$(1).c)
fuzz_defs = $(if $(filter link_target,$(1)),-DFZ_ROLE=KDCOM_ROLE_TARGET) \
            $(if $(filter link_debugger,$(1)),-DFZ_ROLE=KDCOM_ROLE_DEBUGGER)

FUZZ_REPLAY_BINS := $(addprefix $(B)/fuzz/replay_,$(FUZZ_HARNESSES))
FUZZ_LF_BINS     := $(addprefix $(B)/fuzz/lf_,$(FUZZ_HARNESSES))

define fuzz_rules
$(B)/fuzz/replay_$(1): $(call fuzz_src,$(1)) $(FUZZ_COMMON) fuzz/replay.c \
                       $(FUZZ_HDRS) $(LIB_A)
	@mkdir -p $$(@D)
	$$(CC) $$(ALL_CFLAGS) $(FUZZ_INC) $$(CPPFLAGS) $(call fuzz_defs,$(1)) \
	    $(call fuzz_src,$(1)) $(FUZZ_COMMON) fuzz/replay.c $$(LIB_A) \
	    $$(LDFLAGS) -o $$@

# libFuzzer builds compile the core with the harness, so coverage
# feedback reaches into libkdcom/.
$(B)/fuzz/lf_$(1): $(call fuzz_src,$(1)) $(FUZZ_COMMON) $(FUZZ_HDRS) \
                   $(CORE_SRCS) $(CORE_HDRS)
	@mkdir -p $$(@D)
	$$(FUZZ_CC) -std=c99 $$(WARN) $$(FUZZ_FLAGS) $(FUZZ_INC) \
	    $(call fuzz_defs,$(1)) $(call fuzz_src,$(1)) $(FUZZ_COMMON) \
	    $$(CORE_SRCS) -o $$@
endef
$(foreach h,$(FUZZ_HARNESSES),$(eval $(call fuzz_rules,$(h))))

.PHONY: fuzz fuzz-build fuzz-replay fuzz-smoke fuzz-merge asan valgrind \
        coverage
CHECK_TARGETS += fuzz-replay

fuzz-replay: $(FUZZ_REPLAY_BINS)
	@set -e; for h in $(FUZZ_HARNESSES); do \
	    $(TEST_RUNNER) $(B)/fuzz/replay_$$h fuzz/corpus/$$h; done

fuzz-build: $(FUZZ_LF_BINS)

# One harness at a time: the corpus in the tree is read, never written.
fuzz: $(FUZZ_LF_BINS)
	@set -e; mkdir -p $(B)/fuzz-artifacts; \
	for h in $(FUZZ_HARNESSES); do \
	    mkdir -p $(B)/fuzz-corpus/$$h; \
	    echo "== fuzz $$h for $(FUZZ_SECONDS) s"; \
	    ASAN_OPTIONS=halt_on_error=1:abort_on_error=1 \
	    UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	    $(B)/fuzz/lf_$$h -max_total_time=$(FUZZ_SECONDS) -timeout=10 \
	        -rss_limit_mb=2048 -max_len=16384 -print_final_stats=1 \
	        -artifact_prefix=$(B)/fuzz-artifacts/$$h- \
	        $(B)/fuzz-corpus/$$h fuzz/corpus/$$h 2>&1 | \
	        grep -E 'stat::number_of_executed_units|stat::peak_rss|^INFO: (seed|Done)|ERROR|SUMMARY|oracle|Test unit written|^#[0-9]+ *DONE' ; \
	    test "$${PIPESTATUS[0]}" -eq 0 || { echo "fuzz $$h: FINDING"; exit 1; }; \
	done
fuzz: SHELL := /bin/bash

fuzz-smoke: fuzz-replay
	@if printf 'int LLVMFuzzerTestOneInput(const unsigned char*d,unsigned long n){(void)d;(void)n;return 0;}\n' | \
	    $(FUZZ_CC) -x c -fsanitize=fuzzer -o $(B)/fuzz/probe - >/dev/null 2>&1; then \
	    rm -f $(B)/fuzz/probe; \
	    $(MAKE) --no-print-directory fuzz FUZZ_SECONDS=30 B=$(B); \
	else echo "fuzz-smoke: $(FUZZ_CC) has no libFuzzer; corpus replay only"; fi

# Minimises what `make fuzz` found into the corpus in the tree (files
# named by SHA-256, as libFuzzer names them).
fuzz-merge: $(FUZZ_LF_BINS)
	@set -e; for h in $(FUZZ_HARNESSES); do \
	    mkdir -p $(B)/fuzz-corpus/$$h; \
	    $(B)/fuzz/lf_$$h -merge=1 fuzz/corpus/$$h $(B)/fuzz-corpus/$$h \
	        2>&1 | tail -n 1; done
