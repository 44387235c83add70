# SPDX-License-Identifier: BSD-2-Clause
# C unit and conformance tests: one cmocka executable per tests/test_*.c,
# each linked with the shared test helpers (tests/util.c, tests/sim.c) and
# a copy of the core built with KDCOM_DEBUG (its invariants checked by
# KDCOM_ASSERT, libkdcom/internal.h), plus two header compile tests (include/kdcom.h as
# strict C99 and as C++11, always with -Werror).  `make check-c` builds and
# runs them all; TEST_RUNNER (e.g. valgrind) wraps every run.

DEPS_DEB += libcmocka-dev

TEST_SRCS  := $(sort $(wildcard tests/test_*.c))
TEST_BINS  := $(patsubst tests/%.c,$(B)/tests/%,$(TEST_SRCS))
TEST_UTIL  := $(wildcard tests/util.c tests/sim.c)
TEST_HDRS  := $(wildcard tests/*.h)
TEST_CFLAGS = $(ALL_CFLAGS) -Iinclude -Itests $(CPPFLAGS) \
              -DKDCOM_TEST_VECTORS=\"$(abspath tests/vectors)\" \
              -DKDCOM_SOURCE_DIR=\"$(abspath libkdcom)\"

.PHONY: check-c tests
CHECK_TARGETS += check-c

tests: $(TEST_BINS)

# The core with its invariants checked, for every C test.
TEST_CORE_OBJS := $(patsubst libkdcom/%.c,$(B)/tests/core/%.o,$(CORE_SRCS))
TEST_LIB_A     := $(B)/tests/libkdcom-debug.a

$(B)/tests/core/%.o: libkdcom/%.c $(CORE_HDRS)
	@mkdir -p $(@D)
	$(CC) $(CORE_CFLAGS) -DKDCOM_DEBUG -c $< -o $@

$(TEST_LIB_A): $(TEST_CORE_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^

$(B)/tests/%: tests/%.c $(TEST_UTIL) $(TEST_HDRS) $(TEST_LIB_A)
	@mkdir -p $(@D)
	$(CC) $(TEST_CFLAGS) $< $(TEST_UTIL) $(TEST_LIB_A) $(LDFLAGS) -lcmocka -lm -o $@

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

# Every public header on its own, included twice (guards), as strict C99
# with only the compiler's freestanding headers (64- and 32-bit: a kernel
# or firmware build) and as C++11.
PUBLIC_HEADERS := $(wildcard include/*.h)
FREESTANDING_INC = -ffreestanding -nostdinc -isystem "$$($(CC) -print-file-name=include)"
.PHONY: check-headers
CHECK_TARGETS += check-headers

check-headers: $(PUBLIC_HEADERS)
	@set -e; for h in $(notdir $(PUBLIC_HEADERS)); do \
	    src="#include \"$$h\"\n#include \"$$h\"\ntypedef int kdcom_header_tu_;\n"; \
	    printf "$$src" | $(CC) -std=c99 $(HEADER_WARN) $(FREESTANDING_INC) \
	        -Iinclude -x c -fsyntax-only -; \
	    printf "$$src" | $(CC) -m32 -std=c99 $(HEADER_WARN) \
	        $(FREESTANDING_INC) -Iinclude -x c -fsyntax-only -; \
	    printf "$$src" | $(CXX) -std=c++11 $(HEADER_WARN) -Iinclude \
	        -x c++ -fsyntax-only -; \
	    echo "check-headers: $$h: C99 freestanding (64/32-bit), C++11"; \
	done

# The core's layering: no two libkdcom/ files call each other
# (tests/callgraph.sh prints the call graph; needs ctags).
DEPS_DEB += universal-ctags
.PHONY: check-layers
CHECK_TARGETS += check-layers

check-layers:
	@if command -v ctags >/dev/null 2>&1; then sh tests/callgraph.sh libkdcom; \
	else echo "check-layers: skipped (no ctags; make deps installs it)"; fi
