# SPDX-License-Identifier: BSD-2-Clause
# Seeing the wire: kdcom-dump (decodes --pcap captures, pcap/pcapng
# captures of TCP sessions, raw streams and --trace hex logs), the
# Wireshark dissector examples/wireshark/kdcom.lua, and their tests.
#
#   $(B)/examples/kdcom-dump       the decoder (`make examples` builds it)
#   make check-dump                kdcom-dump, the capture writer and the
#                                  dissector (with tshark, if installed) on
#                                  sessions the tests record themselves
#
# examples/common/pcapng.c (the capture writer) is linked into every
# example program with the rest of examples/common/.

EX_DUMP       := $(EX_DIR)/kdcom-dump
DUMP_HDRS     := $(wildcard examples/dump/*.h)
DUMP_CORE     := $(addprefix examples/dump/,dump_input.c dump_net.c \
                   dump_stream.c dump_out.c dump_kd.c)
DUMP_OBJS     := $(patsubst examples/%.c,$(EX_DIR)/%.o,$(DUMP_CORE) \
                   examples/dump/kdcom-dump.c)
DUMP_PROXY    := $(B)/tests/dump/kdproxy
DUMP_TESTS    := $(sort $(wildcard tests/dump/t_*.sh))
DUMP_TIMEOUT  ?= 300

CHECK_TARGETS += check-dump
DEPS_DEB      += tshark python3

.PHONY: check-dump

$(DUMP_OBJS): $(DUMP_HDRS)

$(EX_DUMP): $(DUMP_OBJS) $(LIB_A)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^

examples: $(EX_DUMP)

# The recording proxy of the tests: between a debugger and a target, it
# writes the pcapng capture with examples/common/pcapng.c and can damage
# the stream on purpose; its sockets are the test tools' (netutil.c).
$(DUMP_PROXY): tests/dump/kdproxy.c examples/common/pcapng.c \
               examples/common/pcapng.h tests/e2e/netutil.c \
               tests/e2e/netutil.h include/kdcom.h $(LIB_A)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -Iinclude -Iexamples/common -Itests/e2e $(CPPFLAGS) \
	    tests/dump/kdproxy.c examples/common/pcapng.c tests/e2e/netutil.c \
	    $(LIB_A) $(LDFLAGS) -o $@

# Under `make asan` the sessions run with leak detection off, as the
# end-to-end tests do (their programs are stopped by signals); kdcom-dump's
# code is leak-checked by fuzz-replay-dump.
check-dump: $(EX_PROGS) $(EX_DUMP) $(DUMP_PROXY)
	@set -e; \
	case "$${ASAN_OPTIONS:-}" in *detect_leaks=1*) \
	    ASAN_OPTIONS=$$(echo "$$ASAN_OPTIONS" | sed 's/detect_leaks=1/detect_leaks=0/'); \
	    export ASAN_OPTIONS;; esac; \
	for t in $(DUMP_TESTS); do \
	    DUMP_BIN=$(abspath $(EX_DIR)) DUMP_PROXY=$(abspath $(DUMP_PROXY)) \
	    DUMP_LUA=$(abspath examples/wireshark/kdcom.lua) \
	        timeout -k 5 $(DUMP_TIMEOUT) sh $$t; \
	done
	@echo "check-dump: all capture, kdcom-dump and dissector tests passed"

# tshark's Debian package asks whether non-root users may capture.  The
# answer is given beforehand (no: the package's own default), so `make
# deps` never stops at the question, also through sudo, which does not
# pass DEBIAN_FRONTEND on.
.PHONY: deps-tshark-answer
deps: deps-tshark-answer
deps-tshark-answer:
	@if command -v debconf-set-selections >/dev/null 2>&1 && \
	    ! dpkg-query -W -f='$${Status}' tshark 2>/dev/null | \
	        grep -q "install ok installed"; then \
	    sudo=""; [ "$$(id -u)" = 0 ] || sudo=sudo; \
	    echo "wireshark-common wireshark-common/install-setuid boolean false" | \
	        $$sudo debconf-set-selections; \
	fi
