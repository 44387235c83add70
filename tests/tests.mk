# SPDX-License-Identifier: BSD-2-Clause
# C unit and conformance tests: one cmocka executable per tests/test_*.c,
# each linked with the shared test helpers (tests/util.c) and the static
# library.  `make check-c` builds and runs them all.

DEPS_DEB += libcmocka-dev

TEST_SRCS  := $(sort $(wildcard tests/test_*.c))
TEST_BINS  := $(patsubst tests/%.c,$(B)/tests/%,$(TEST_SRCS))
TEST_UTIL  := $(wildcard tests/util.c tests/sim.c)
TEST_HDRS  := $(wildcard tests/*.h)
TEST_CFLAGS = $(ALL_CFLAGS) -Iinclude -Itests $(CPPFLAGS) \
              -DKDCOM_TEST_VECTORS=\"$(abspath tests/vectors)\"

.PHONY: check-c tests
CHECK_TARGETS += check-c

tests: $(TEST_BINS)

$(B)/tests/%: tests/%.c $(TEST_UTIL) $(TEST_HDRS) $(LIB_A)
	@mkdir -p $(@D)
	$(CC) $(TEST_CFLAGS) $< $(TEST_UTIL) $(LIB_A) $(LDFLAGS) -lcmocka -o $@

check-c: $(TEST_BINS)
	@set -e; for t in $(TEST_BINS); do echo "== $$t"; $(TEST_RUNNER) $$t; done
