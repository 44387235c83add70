# SPDX-License-Identifier: BSD-2-Clause
# The fuzz harness of kdcom-dump's readers (fuzz/fuzz_dump.c), like the
# ones in fuzz/fuzz.mk: a plain replayer of fuzz/corpus/dump for `make
# check` (and `make asan`, `make valgrind`), and a libFuzzer build that
# `make fuzz` runs too.  Its seeds are written by fuzz/mkcorpus_dump.py.
#
#   make fuzz-replay-dump   replay fuzz/corpus/dump (part of `make check`)
#   make fuzz-dump          run the libFuzzer harness for FUZZ_SECONDS

FUZZ_DUMP_SRCS := fuzz/fuzz_dump.c $(DUMP_CORE)
FUZZ_DUMP_INC  := -Iinclude -Ifuzz -Iexamples/dump

$(B)/fuzz/replay_dump: $(FUZZ_DUMP_SRCS) fuzz/input.c fuzz/replay.c \
                       $(FUZZ_HDRS) $(DUMP_HDRS) $(LIB_A)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(FUZZ_DUMP_INC) $(CPPFLAGS) $(FUZZ_DUMP_SRCS) \
	    fuzz/input.c fuzz/replay.c $(LIB_A) $(LDFLAGS) -o $@

$(B)/fuzz/lf_dump: $(FUZZ_DUMP_SRCS) fuzz/input.c $(FUZZ_HDRS) $(DUMP_HDRS) \
                   $(CORE_SRCS) $(CORE_HDRS)
	@mkdir -p $(@D)
	$(FUZZ_CC) -std=c99 $(WARN) $(FUZZ_FLAGS) $(FUZZ_DUMP_INC) \
	    -Ilibkdcom $(FUZZ_DUMP_SRCS) fuzz/input.c $(CORE_SRCS) -o $@

.PHONY: fuzz-replay-dump fuzz-dump valgrind-dump
CHECK_TARGETS += fuzz-replay-dump

fuzz-replay-dump: $(B)/fuzz/replay_dump
	$(TEST_RUNNER) $(B)/fuzz/replay_dump fuzz/corpus/dump

fuzz-build: $(B)/fuzz/lf_dump

fuzz-dump: $(B)/fuzz/lf_dump
	@set -e; mkdir -p $(B)/fuzz-artifacts $(B)/fuzz-corpus/dump; \
	echo "== fuzz dump for $(FUZZ_SECONDS) s"; \
	ASAN_OPTIONS=halt_on_error=1:abort_on_error=1 \
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	$(B)/fuzz/lf_dump -max_total_time=$(FUZZ_SECONDS) -timeout=10 \
	    -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 \
	    -artifact_prefix=$(B)/fuzz-artifacts/dump- \
	    $(B)/fuzz-corpus/dump fuzz/corpus/dump 2>&1 | \
	    grep -E 'stat::number_of_executed_units|stat::peak_rss|^INFO: (seed|Done)|ERROR|SUMMARY|oracle|Test unit written|^#[0-9]+ *DONE'; \
	test "$${PIPESTATUS[0]}" -eq 0 || { echo "fuzz dump: FINDING"; exit 1; }
fuzz-dump: SHELL := /bin/bash

fuzz: fuzz-dump

# The replayer over the corpus under memcheck (`make valgrind` runs it).
valgrind-dump:
	rm -rf $(B)/valgrind-dump
	$(MAKE) --no-print-directory B=$(B)/valgrind-dump PURITY= \
	    TEST_RUNNER="$(VG_RUNNER)" fuzz-replay-dump
	@echo "valgrind-dump: no errors, no leaks (fuzz/corpus/dump)"
valgrind: valgrind-dump
