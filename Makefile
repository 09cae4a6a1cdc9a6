# SPDX-License-Identifier: MIT
# lxmalloc build. Variants: make DEBUG=1 (checked build), make HEAP_DEBUG=1 (debug
# mode on by default), make SANITIZE=undefined, make CC=clang. Targets: all
# (default), test, run, bench, install, clean.

CC        ?= gcc
ifeq ($(origin CC),default)
CC        := gcc
endif
CXX       ?= g++
PREFIX    ?= /usr/local
DEBUG     ?= 0
SANITIZE  ?=
BUILD     ?= build
HEAP_DEBUG ?= 0

ifneq ($(DEBUG),0)
ifneq ($(DEBUG),1)
ifneq ($(DEBUG),2)
ifneq ($(DEBUG),3)
$(error DEBUG must be 0, 1, 2 or 3)
endif
endif
endif
endif

ifneq ($(HEAP_DEBUG),0)
ifneq ($(HEAP_DEBUG),1)
$(error HEAP_DEBUG must be 0 or 1)
endif
endif

# valgrind client requests (src/track.h) are compiled in when the header is there.
LX_VALGRIND ?= $(shell $(CC) -E -include valgrind/memcheck.h -x c /dev/null >/dev/null 2>&1 \
                 && echo 1 || echo 0)
ifneq ($(LX_VALGRIND),0)
ifneq ($(LX_VALGRIND),1)
$(error LX_VALGRIND must be 0 or 1)
endif
endif

WARN := -Wall -Wextra -Wpedantic -Werror -Wundef -Wshadow -Wstrict-prototypes \
        -Wmissing-prototypes -Wvla -Wcast-qual
ifeq ($(DEBUG),0)
OPT := -O2 -g -DLX_DEBUG=0
else
OPT := -O1 -g -DLX_DEBUG=$(DEBUG)
endif
# valgrind 3.19 (Debian 12) cannot read the DWARF 5 that clang 14 writes by default.
OPT += -gdwarf-4
ifneq ($(SANITIZE),)
OPT += -fsanitize=$(SANITIZE) -fno-sanitize-recover=all
endif

CFLAGS_LIB := -std=c11 -D_GNU_SOURCE -fPIC -fvisibility=hidden -fno-plt -fno-semantic-interposition \
              -ftls-model=initial-exec -fno-builtin-malloc -fno-builtin-free \
              -fno-builtin-calloc -fno-builtin-realloc \
              -DLX_HEAP_DEBUG_DEFAULT=$(HEAP_DEBUG) -DLX_VALGRIND=$(LX_VALGRIND) \
              $(OPT) $(WARN) -Iinclude -Isrc $(EXTRA_CFLAGS)
LDLIBS_LIB := -lpthread

LIB_SRCS := $(filter-out src/unity.c,$(wildcard src/*.c))
LIB_HDRS := $(wildcard src/*.h) include/lxmalloc.h
API_OBJS := $(patsubst src/%.c,$(BUILD)/obj/%.o,$(filter-out src/override.c,$(LIB_SRCS)))

SO        := $(BUILD)/liblxmalloc.so
STATIC    := $(BUILD)/liblxmalloc.a
API_LIB   := $(BUILD)/liblxmalloc_api.a
CMD       := $(BUILD)/lxmalloc
VERSION   := $(shell sed -n 's/^\#define LXMALLOC_VERSION "\(.*\)"/\1/p' include/lxmalloc.h)

.PHONY: all test run bench install clean check-format
all: $(SO) $(STATIC) $(API_LIB) $(CMD)

$(BUILD)/obj $(BUILD)/unity:
	@mkdir -p $@

# The shipped libraries are one translation unit (src/unity.c) so the compiler
# inlines across layers; the per-file objects keep every layer compiling on its own
# and make the prefix-only archive that unit tests link against.
$(BUILD)/unity/lxmalloc.o: src/unity.c $(LIB_SRCS) $(LIB_HDRS) | $(BUILD)/unity
	$(CC) $(CFLAGS_LIB) -c $< -o $@

$(BUILD)/obj/%.o: src/%.c $(LIB_HDRS) | $(BUILD)/obj
	$(CC) $(CFLAGS_LIB) -c $< -o $@

# libgcc's unwinder (stack.c) is linked in, so a process does not load libgcc_s.so.1
# for stacks it may never take (docs/SECURITY.md). src/lxmalloc.ld puts rare code
# after the common code, and the 64 KiB segment alignment puts the common code
# at the start of a fault-around window (docs/ARCHITECTURE.md, "Footprint").
$(SO): $(BUILD)/unity/lxmalloc.o src/lxmalloc.ld
	$(CC) $(OPT) -shared -static-libgcc -Wl,-soname,liblxmalloc.so -Wl,-z,nodelete \
	  -Wl,-z,max-page-size=0x10000 -Wl,-T,src/lxmalloc.ld -o $@ $< $(LDLIBS_LIB)

$(STATIC): $(BUILD)/unity/lxmalloc.o
	rm -f $@ && ar rcs $@ $^

$(API_LIB): $(API_OBJS)
	rm -f $@ && ar rcs $@ $^

# The command embeds the install prefix's lib directory: rebuild it when PREFIX
# changes (the stamp's content is the prefix).
PREFIX_STAMP := $(BUILD)/prefix.stamp
$(PREFIX_STAMP): FORCE | $(BUILD)/obj
	@echo '$(PREFIX)' | cmp -s - $@ || echo '$(PREFIX)' > $@
.PHONY: FORCE
FORCE:

CMD_SRCS := $(wildcard tools/*.c)
$(CMD): $(CMD_SRCS) $(wildcard tools/*.h) include/lxmalloc.h $(PREFIX_STAMP) | $(BUILD)/obj
	$(CC) -std=c11 -D_GNU_SOURCE $(OPT) $(WARN) -Iinclude -Itools \
	  -DLX_DEFAULT_LIBDIR='"$(PREFIX)/lib"' -o $@ $(CMD_SRCS) -lm

# Tests and benchmarks keep their own rules next to their sources.
-include tests/tests.mk
-include tests/fuzz/fuzz.mk
-include bench/bench.mk

test: all test-bins
	@BUILD='$(BUILD)' LXT_DEBUG='$(DEBUG)' sh tests/run.sh

run: all
	$(CMD) run --stats -- python3 examples/workload.py

install: all
	install -d $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/include \
	  $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/pkgconfig \
	  $(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/man/man3
	install -m 755 $(SO) $(DESTDIR)$(PREFIX)/lib/
	install -m 644 $(STATIC) $(API_LIB) $(DESTDIR)$(PREFIX)/lib/
	install -m 644 include/lxmalloc.h $(DESTDIR)$(PREFIX)/include/
	install -m 755 $(CMD) $(DESTDIR)$(PREFIX)/bin/
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@VERSION@|$(VERSION)|g' lxmalloc.pc.in \
	  > $(DESTDIR)$(PREFIX)/lib/pkgconfig/lxmalloc.pc
	install -m 644 man/lxmalloc.1 $(DESTDIR)$(PREFIX)/share/man/man1/
	install -m 644 man/lxmalloc.3 $(DESTDIR)$(PREFIX)/share/man/man3/

clean:
	rm -rf $(BUILD)
