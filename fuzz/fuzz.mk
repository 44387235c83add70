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
#   make tsan          the threaded tests (VM channel, end to end) under
#                      clang's ThreadSanitizer
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
FUZZ_HARNESSES := parser link_target link_debugger pair vm

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

.PHONY: fuzz fuzz-build fuzz-replay fuzz-smoke fuzz-merge asan tsan valgrind \
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

# ---------------------------------------------------------------------------
# Sanitizers.  The sub-make builds everything afresh under $(B)/asan with
# the sanitizer flags added to the caller's CFLAGS; the purity check is
# off there (instrumented objects reference the sanitizer runtime).  The
# Python tests load the instrumented extension into an uninstrumented
# interpreter, which needs the ASan runtime preloaded and leak checking
# off (the interpreter's own allocations are not leaks of ours).
SAN_FLAGS := -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all \
             -fno-omit-frame-pointer
SAN_ENV   := ASAN_OPTIONS=halt_on_error=1:abort_on_error=1:detect_leaks=1 \
             UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
# Instrumented code runs a few times slower: the end-to-end tests get a
# longer timeout (E2E_TIMEOUT, tests/e2e.mk).
SAN_MAKE   = $(MAKE) --no-print-directory B=$(B)/asan PURITY= E2E_TIMEOUT=600 \
             CFLAGS="$(CFLAGS) $(SAN_FLAGS)" \
             LDFLAGS="$(LDFLAGS) -fsanitize=address,undefined"

# The end-to-end and QEMU tests run with leak detection off: they stop programs with
# signals, and LeakSanitizer's stop-the-world at exit can deadlock in a
# process interrupted that way (seen on this VM kernel: a shim or client
# spinning in LSan after SIGTERM until the test's timeout).  Their memory
# errors are still caught; leaks are checked in every other group and by
# `make valgrind`.
SAN_ENV_E2E := $(subst detect_leaks=1,detect_leaks=0,$(SAN_ENV))

asan:
	rm -rf $(B)/asan
	$(SAN_ENV) $(SAN_MAKE) $(filter-out check-python check-e2e check-qemu,$(CHECK_TARGETS))
	@if [ -n "$(filter check-e2e check-qemu,$(CHECK_TARGETS))" ]; then \
	    set -x; $(SAN_ENV_E2E) $(SAN_MAKE) $(filter check-e2e check-qemu,$(CHECK_TARGETS)); fi
	@if [ -n "$(filter check-python,$(CHECK_TARGETS))" ]; then \
	    set -x; LD_PRELOAD="$$($(CC) -print-file-name=libasan.so)" \
	    ASAN_OPTIONS=halt_on_error=1:detect_leaks=0 \
	    UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	    $(SAN_MAKE) check-python; fi
	@echo "asan: every test group passed under ASan + UBSan"

# ThreadSanitizer (clang, which models the fences the VM channel uses):
# the code that runs threads, i.e. the VM channel tests (a simulated
# kernel thread against the host service) and the end-to-end tests (the
# shim's doorbell thread against its main loop).  A report fails the run.
TSAN_FLAGS := -O1 -g -fsanitize=thread -fno-omit-frame-pointer
TSAN_MAKE   = $(MAKE) --no-print-directory B=$(B)/tsan PURITY= E2E_TIMEOUT=600 \
              CC=$(FUZZ_CC) CFLAGS="$(CFLAGS) $(TSAN_FLAGS)" \
              LDFLAGS="$(LDFLAGS) -fsanitize=thread"

tsan:
	rm -rf $(B)/tsan
	TSAN_OPTIONS=halt_on_error=1:exitcode=66 \
	    $(TSAN_MAKE) $(filter check-guest check-e2e,$(CHECK_TARGETS))
	@echo "tsan: no data race in the VM channel and end-to-end tests"

# Memcheck: the C tests, the corpus replay and the VM channel tests that
# run in one process (test_vm_guest* re-executes itself through
# /proc/self/exe, which under valgrind is the tool, not the test).
VALGRIND ?= valgrind
VG_RUNNER := $(VALGRIND) -q --error-exitcode=1 --leak-check=full \
             --errors-for-leak-kinds=all --show-leak-kinds=all
VG_VM_BINS  = $(VMT_HOST_BINS) $(VMT_UART_BINS)

.PHONY: valgrind-vm
# (guest/guest.mk is read after this file: its lists are only known by
# the time recipes run, hence the sub-make.)
valgrind-vm: $(LIB_A)
	@$(MAKE) --no-print-directory $(VG_VM_BINS)
	@set -e; for t in $(VG_VM_BINS); do echo "== $$t"; \
	    $(TEST_RUNNER) $$t; done

valgrind:
	rm -rf $(B)/valgrind
	$(MAKE) --no-print-directory B=$(B)/valgrind PURITY= \
	    TEST_RUNNER="$(VG_RUNNER)" check-c fuzz-replay valgrind-vm
	@echo "valgrind: no errors, no leaks (check-c fuzz-replay valgrind-vm)"

# ---------------------------------------------------------------------------
# Coverage of libkdcom/ from the API tests (C and VM channel) plus the
# corpus replay.  gcov always; lcov's HTML report when lcov is there.
COV_B       := $(B)/coverage
COV_TARGETS = check-c fuzz-replay $(if $(filter check-guest,$(CHECK_TARGETS)),check-vm)
LCOV        ?= lcov
GENHTML     ?= genhtml
LCOV_RC     := --rc lcov_branch_coverage=1

coverage:
	rm -rf $(COV_B)
	$(MAKE) --no-print-directory B=$(COV_B) PURITY= \
	    CFLAGS="-O0 -g --coverage" LDFLAGS="--coverage" $(COV_TARGETS) \
	    > $(COV_B).log 2>&1 || { tail -n 30 $(COV_B).log; exit 1; }
	@mkdir -p $(COV_B)/gcov
	@ln -sfn $(CURDIR)/libkdcom $(COV_B)/gcov/libkdcom
	@ln -sfn $(CURDIR)/include $(COV_B)/gcov/include
	@cd $(COV_B)/gcov && gcov -b -o ../libkdcom ../libkdcom/*.gcda \
	    > summary.txt 2>&1
	@awk '/^File .*libkdcom/{f=$$2} /^Lines executed/{l=$$0} \
	     /^Taken at least once/{print f": "l", branches "$$0}' \
	     $(COV_B)/gcov/summary.txt | sed "s|'||g;s|$(CURDIR)/||"
	@cd $(COV_B)/gcov && grep -n '#####' *.c.gcov | \
	    sed 's/\.gcov:[0-9]*: *#####: */:/' > ../uncovered.txt || true
	@echo "uncovered lines: $(COV_B)/uncovered.txt ($$(wc -l < $(COV_B)/uncovered.txt))"
	@if command -v $(LCOV) >/dev/null 2>&1; then \
	    $(LCOV) -q $(LCOV_RC) --capture --directory $(COV_B)/libkdcom \
	        --output-file $(COV_B)/all.info && \
	    $(LCOV) -q $(LCOV_RC) --extract $(COV_B)/all.info '*/libkdcom/*' \
	        --output-file $(COV_B)/libkdcom.info && \
	    $(GENHTML) -q $(LCOV_RC) --branch-coverage \
	        --output-directory $(COV_B)/html $(COV_B)/libkdcom.info && \
	    $(LCOV) $(LCOV_RC) --summary $(COV_B)/libkdcom.info 2>&1 | \
	        grep -E 'lines|branches' && \
	    echo "HTML report: $(COV_B)/html/index.html"; \
	else echo "lcov not installed: gcov summary only"; fi

# ---------------------------------------------------------------------------
# Soak: the simulator of tests/sim.c at scale (tests/soak/soak.c).
SOAK_PACKETS ?= 1000000
SOAK_SECONDS ?= 300
SOAK_BIN := $(B)/soak/soak

$(SOAK_BIN): tests/soak/soak.c tests/sim.c tests/sim.h $(LIB_A)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -D_POSIX_C_SOURCE=200809L -Iinclude -Itests \
	    $(CPPFLAGS) tests/soak/soak.c tests/sim.c $(LIB_A) $(LDFLAGS) -lm -o $@

.PHONY: soak
soak: $(SOAK_BIN)
	$(SOAK_BIN) -n $(SOAK_PACKETS) -t $(SOAK_SECONDS)
