# SPDX-License-Identifier: BSD-2-Clause
# The pkg-config consumer: install into a staging tree exactly as a packager
# would (DESTDIR + PREFIX=/usr), check that kdcom.pc carries no DESTDIR,
# build examples/loopback.c through `pkg-config kdcom` against the staged
# *shared* library and run it.

STAGE := $(abspath $(B))/stage

.PHONY: check-pkgconfig
CHECK_TARGETS += check-pkgconfig

check-pkgconfig: lib
	rm -rf $(STAGE)
	$(MAKE) --no-print-directory install DESTDIR=$(STAGE) PREFIX=/usr B=$(B)
	@if grep -q "$(STAGE)" $(STAGE)/usr/lib/pkgconfig/kdcom.pc; then \
	    echo "kdcom.pc contains DESTDIR"; exit 1; fi
	@test "$$(readelf -d $(STAGE)/usr/lib/libkdcom.so | sed -n 's/.*SONAME.*\[\(.*\)\]/\1/p')" = "$(SONAME)"
	PKG_CONFIG_PATH= PKG_CONFIG_LIBDIR=$(STAGE)/usr/lib/pkgconfig \
	PKG_CONFIG_SYSROOT_DIR=$(STAGE) PKG_CONFIG_ALLOW_SYSTEM_CFLAGS=1 \
	PKG_CONFIG_ALLOW_SYSTEM_LIBS=1 \
	    sh -c '$(CC) -std=c99 $(WARN) $(CFLAGS) examples/loopback.c \
	        $$($(PKG_CONFIG) --cflags --libs kdcom) $(LDFLAGS) -o $(B)/loopback-pc'
	LD_LIBRARY_PATH=$(STAGE)/usr/lib $(B)/loopback-pc
	@echo "check-pkgconfig: staged install works through pkg-config"
