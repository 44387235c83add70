# SPDX-License-Identifier: BSD-2-Clause
# C unit and conformance tests: one cmocka executable per tests/test_*.c,
# each linked with the shared test helpers (tests/util.c, tests/sim.c) and
# the static library, plus two header compile tests (include/kdcom.h as
# strict C99 and as C++11, always with -Werror).  `make check-c` builds and
# runs them all; TEST_RUNNER (e.g. valgrind) wraps every run.

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
	$(CC) $(TEST_CFLAGS) $< $(TEST_UTIL) $(LIB_A) $(LDFLAGS) -lcmocka -lm -o $@

# The header on its own, pedantic, warnings fatal whatever WERROR says.
# CFLAGS/LDFLAGS still apply (a sanitizer build must link the same way);
# C-only warning flags are kept away from the C++ compiler.
HEADER_BINS  := $(B)/tests/header_c99 $(B)/tests/header_cxx
HEADER_WARN   = -Wall -Wextra -pedantic -Werror
HEADER_CXXFLAGS = $(filter-out -std=% -Wmissing-prototypes \
                    -Wstrict-prototypes -Wdeclaration-after-statement,$(CFLAGS))

$(B)/tests/header_c99: tests/header_c99.c include/kdcom.h $(LIB_A)
	@mkdir -p $(@D)
	$(CC) -std=c99 $(HEADER_WARN) $(CFLAGS) -Iinclude $(CPPFLAGS) $< \
	    $(LIB_A) $(LDFLAGS) -o $@

$(B)/tests/header_cxx: tests/header_cxx.cc include/kdcom.h $(LIB_A)
	@mkdir -p $(@D)
	$(CXX) -std=c++11 $(HEADER_WARN) $(HEADER_CXXFLAGS) -Iinclude \
	    $(CPPFLAGS) $< $(LIB_A) $(LDFLAGS) -o $@

check-c: $(TEST_BINS) $(HEADER_BINS)
	@set -e; for t in $(HEADER_BINS) $(TEST_BINS); do echo "== $$t"; \
	    $(TEST_RUNNER) $$t; done
