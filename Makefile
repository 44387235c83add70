# SPDX-License-Identifier: BSD-2-Clause
#
# libkdcom - one plain GNU Makefile.
#
#   make               libraries (static + shared), kdcom.pc, purity check
#   make check         every test (C, Python, end to end)
#   make demo          the main job: simulated kernel -> VM channel -> shim
#                      -> TCP -> debugger client, verified
#   make deps          install the Debian packages the tests need (only the
#                      missing ones, via apt-get)
#   make install / uninstall   the library, headers, kdcom.pc and the
#                      programs (kdcom-shim, kdcom-client, the simulated
#                      kernels); honour PREFIX DESTDIR BINDIR LIBDIR
#                      INCLUDEDIR PKGCONFIGDIR
#   make baremetal     the bare-metal test kernels QEMU boots (guest/baremetal/)
#   make asan valgrind coverage fuzz soak bench python install-python clean
#
# CC CFLAGS CPPFLAGS LDFLAGS are honoured.  Warnings are on, -Werror only
# when asked for (WERROR=-Werror, which CI sets).  Everything built lands
# under $(B) (default: build/).

PREFIX       ?= /usr/local
BINDIR       ?= $(PREFIX)/bin
LIBDIR       ?= $(PREFIX)/lib
INCLUDEDIR   ?= $(PREFIX)/include
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
DESTDIR      ?=

CC         ?= cc
CXX        ?= c++
PKG_CONFIG ?= pkg-config
PYTHON     ?= python3
CFLAGS     ?= -O2 -g
WERROR     ?=
B          ?= build

WARN   = -Wall -Wextra -Wpedantic -Wmissing-prototypes -Wstrict-prototypes \
         -Wshadow -Wcast-qual -Wwrite-strings -Wvla $(WERROR)
ALL_CFLAGS = -std=c99 $(WARN) $(CFLAGS)

# The version lives in include/kdcom.h only.
version_field = $(shell sed -n 's/^\#define KDCOM_VERSION_$(1) *\([0-9][0-9]*\).*/\1/p' include/kdcom.h)
VERSION_MAJOR := $(call version_field,MAJOR)
VERSION_MINOR := $(call version_field,MINOR)
VERSION_PATCH := $(call version_field,PATCH)
VERSION       := $(VERSION_MAJOR).$(VERSION_MINOR).$(VERSION_PATCH)
SONAME        := libkdcom.so.$(VERSION_MAJOR)

# ---------------------------------------------------------------------------
# The core library.  Pure C99, freestanding, hidden visibility but the API.

CORE_SRCS := $(sort $(wildcard libkdcom/*.c))
CORE_HDRS := $(wildcard include/*.h) $(wildcard libkdcom/*.h)
CORE_OBJS := $(patsubst libkdcom/%.c,$(B)/libkdcom/%.o,$(CORE_SRCS))
CORE_CFLAGS = $(ALL_CFLAGS) -ffreestanding -fPIC -fvisibility=hidden \
              -DKDCOM_BUILDING -Iinclude $(CPPFLAGS)

LIB_A   := $(B)/libkdcom.a
LIB_SO  := $(B)/$(SONAME).$(VERSION_MINOR).$(VERSION_PATCH)
LIB_PC  := $(B)/kdcom.pc
PURITY  := $(B)/purity.ok

# Symbols a core object may take from outside: the compiler's own helpers
# for memory operations and, where enabled, the stack protector.  Anything
# else (malloc, stdio, clocks, threads, ...) fails the build.
PURITY_ALLOWED := memcpy memset memmove memcmp __stack_chk_fail \
                  __stack_chk_guard

.PHONY: all lib check check-c demo deps install uninstall clean
all: lib

lib: $(LIB_A) $(LIB_SO) $(LIB_PC) $(PURITY)

$(B)/libkdcom/%.o: libkdcom/%.c $(CORE_HDRS)
	@mkdir -p $(@D)
	$(CC) $(CORE_CFLAGS) -c $< -o $@

$(LIB_A): $(CORE_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^

$(LIB_SO): $(CORE_OBJS)
	$(CC) -shared -Wl,-soname,$(SONAME) $(LDFLAGS) -o $@ $^
	ln -sf $(notdir $@) $(B)/$(SONAME)
	ln -sf $(SONAME) $(B)/libkdcom.so

# kdcom.pc is written from the install variables (never DESTDIR).  The
# copy in $(B) is for looking at; `install` writes its own, so a PREFIX
# given at install time is always the one in the installed file.
GEN_PC = sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@LIBDIR@|$(LIBDIR)|g' \
	    -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|g' -e 's|@VERSION@|$(VERSION)|g' \
	    libkdcom/kdcom.pc.in

$(LIB_PC): libkdcom/kdcom.pc.in include/kdcom.h Makefile
	@mkdir -p $(@D)
	$(GEN_PC) > $@

# Purity: link the core objects into one relocatable object and list what
# it still needs from outside.
$(PURITY): $(CORE_OBJS)
	$(CC) -r -nostdlib -o $(B)/libkdcom-all.o $^
	@bad=$$(nm -u $(B)/libkdcom-all.o | awk '{print $$2}' | \
	        grep -v -x -F $(addprefix -e ,$(PURITY_ALLOWED)) || true); \
	if [ -n "$$bad" ]; then \
	    echo "purity check FAILED: libkdcom objects reference:" $$bad; \
	    exit 1; \
	fi
	@echo "purity check: libkdcom references only $$(nm -u $(B)/libkdcom-all.o | awk '{print $$2}' | tr '\n' ' ')"
	@touch $@

# ---------------------------------------------------------------------------
# Install.  The programs are installed by examples/examples.mk
# (install-programs, uninstall-programs: INSTALL_PROGS under BINDIR).

install: lib
	install -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCLUDEDIR) $(DESTDIR)$(PKGCONFIGDIR)
	install -m 644 include/kdcom.h $(wildcard include/kdcom_*.h) $(DESTDIR)$(INCLUDEDIR)/
	install -m 644 $(LIB_A) $(DESTDIR)$(LIBDIR)/
	install -m 755 $(LIB_SO) $(DESTDIR)$(LIBDIR)/
	ln -sf $(notdir $(LIB_SO)) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(LIBDIR)/libkdcom.so
	$(GEN_PC) > $(DESTDIR)$(PKGCONFIGDIR)/kdcom.pc
	chmod 644 $(DESTDIR)$(PKGCONFIGDIR)/kdcom.pc

uninstall:
	rm -f $(DESTDIR)$(INCLUDEDIR)/kdcom.h \
	      $(addprefix $(DESTDIR)$(INCLUDEDIR)/,$(notdir $(wildcard include/kdcom_*.h))) \
	      $(DESTDIR)$(LIBDIR)/libkdcom.a $(DESTDIR)$(LIBDIR)/$(notdir $(LIB_SO)) \
	      $(DESTDIR)$(LIBDIR)/$(SONAME) $(DESTDIR)$(LIBDIR)/libkdcom.so \
	      $(DESTDIR)$(PKGCONFIGDIR)/kdcom.pc

# ---------------------------------------------------------------------------
# Parts.  Each fragment adds its targets and appends to:
#   CHECK_TARGETS  run by `make check`
#   DEPS_DEB       Debian packages `make deps` installs
#   CLEAN_EXTRA    extra paths `make clean` removes (outside $(B))

CHECK_TARGETS :=
DEPS_DEB      := make gcc g++ binutils pkg-config
CLEAN_EXTRA   :=

include $(sort $(wildcard tests/*.mk guest/*.mk guest/*/*.mk examples/*.mk \
                          bindings/python/*.mk fuzz/*.mk tests/bench/*.mk))

check: lib $(CHECK_TARGETS)
	@echo "make check: all test groups passed ($(CHECK_TARGETS))"

# Installs only what is missing; needs root or sudo.
deps:
	@missing=""; for p in $(sort $(DEPS_DEB)); do \
	    dpkg-query -W -f='$${Status}' $$p 2>/dev/null | \
	        grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -z "$$missing" ]; then echo "deps: all installed"; exit 0; fi; \
	echo "deps: installing$$missing"; \
	sudo=""; [ "$$(id -u)" = 0 ] || sudo=sudo; \
	$$sudo apt-get update -q && \
	DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -q --no-install-recommends $$missing

clean:
	rm -rf $(B) build-* $(CLEAN_EXTRA)
