# Test programs, included by the top Makefile (`make test-bins`, `make test`).
# Every binary goes to $(BUILD)/tests/<dir>/<name>; tests/run.sh runs them.
# A binary depends on the library files it links, so it is relinked when they change.
#
#   tests/api/*.c, tests/threads/*.c, tests/fork/*.c  standard names, run with
#                                        LD_PRELOAD=liblxmalloc.so
#   <api, threads>/<name>_lx             same source on the lx_ API (liblxmalloc_api.a),
#                                        run under valgrind
#   api/<name>_ubsan                     lx_ API flavour built with -fsanitize=undefined
#   tests/static/*.c                     linked with liblxmalloc.a; <name>_full with -static
#   tests/preload/cxx.cc                 C++ program for tests/preload/cxx.sh
#   tests/unit/*.c                       layer unit tests: -Isrc, liblxmalloc_api.a, run directly
#   examples/*.c                         the example programs, as their comments build them
#                                        (liblxmalloc_api.a), run directly

LXT_DIR      := $(BUILD)/tests
# The compiler must not elide or fold allocation calls (clang drops a malloc whose
# result is only compared with NULL): every call has to reach the allocator.
LXT_NOBUILTIN := $(foreach f,malloc calloc realloc reallocarray free aligned_alloc \
                   posix_memalign memalign valloc pvalloc,-fno-builtin-$(f))
LXT_CFLAGS   := -std=c11 -D_GNU_SOURCE -O1 -g -Wall -Wextra -Werror -Iinclude -Itests/lib -pthread \
                $(LXT_NOBUILTIN)
LXT_CXXFLAGS := -std=c++17 -O1 -g -Wall -Wextra -Werror -Iinclude -pthread $(LXT_NOBUILTIN)
# Valgrind 3.19 cannot read clang's DWARF 5 line tables: the valgrind flavour drops
# debug information when the compiler is clang (function names remain).
LXT_VG_LDFLAGS := $(if $(findstring clang,$(shell $(CC) --version 2>/dev/null)),-Xlinker --strip-debug)
LXT_UBSAN    := -fsanitize=undefined -fno-sanitize-recover=all
# When the library itself is sanitized, everything linking its archives needs the runtime.
LXT_SAN      := $(if $(SANITIZE),-fsanitize=$(SANITIZE) -fno-sanitize-recover=all)
LXT_LIBS     := -lpthread -ldl
LXT_HDRS     := tests/lib/lxt.h include/lxmalloc.h tests/tests.mk

LXT_API_SRCS    := $(wildcard tests/api/*.c)
LXT_THR_SRCS    := $(wildcard tests/threads/*.c)
LXT_FORK_SRCS   := $(wildcard tests/fork/*.c)
LXT_STATIC_SRCS := $(wildcard tests/static/*.c)
LXT_UNIT_SRCS   := $(wildcard tests/unit/*.c)
LXT_EXAMPLE_SRCS := $(wildcard examples/*.c)

LXT_STD_BINS    := $(patsubst tests/%.c,$(LXT_DIR)/%,$(LXT_API_SRCS) $(LXT_THR_SRCS) $(LXT_FORK_SRCS))
LXT_LX_BINS     := $(patsubst tests/%.c,$(LXT_DIR)/%_lx,$(LXT_API_SRCS) $(LXT_THR_SRCS))
LXT_UBSAN_BINS  := $(patsubst tests/%.c,$(LXT_DIR)/%_ubsan,$(LXT_API_SRCS))
LXT_STATIC_BINS := $(patsubst tests/%.c,$(LXT_DIR)/%,$(LXT_STATIC_SRCS))
LXT_FULL_BINS   := $(patsubst tests/%.c,$(LXT_DIR)/%_full,$(LXT_STATIC_SRCS))
LXT_UNIT_BINS   := $(patsubst tests/%.c,$(LXT_DIR)/%,$(LXT_UNIT_SRCS))
LXT_EXAMPLE_BINS := $(patsubst examples/%.c,$(LXT_DIR)/examples/%,$(LXT_EXAMPLE_SRCS))
LXT_CXX_BIN     := $(LXT_DIR)/preload/cxx

LXT_ALL_BINS := $(LXT_STD_BINS) $(LXT_LX_BINS) $(LXT_UBSAN_BINS) $(LXT_STATIC_BINS) $(LXT_FULL_BINS) \
                $(LXT_UNIT_BINS) $(LXT_EXAMPLE_BINS) $(LXT_CXX_BIN)

.PHONY: test-bins
test-bins: $(LXT_ALL_BINS)

$(LXT_STD_BINS): $(LXT_DIR)/%: tests/%.c $(LXT_HDRS)
	@mkdir -p $(@D)
	$(CC) $(LXT_CFLAGS) -o $@ $< $(LXT_LIBS)

$(LXT_LX_BINS): $(LXT_DIR)/%_lx: tests/%.c $(LXT_HDRS) $(API_LIB)
	@mkdir -p $(@D)
	$(CC) $(LXT_CFLAGS) -DLXT_LX_API $(LXT_SAN) $(LXT_VG_LDFLAGS) -o $@ $< $(API_LIB) $(LXT_LIBS)

$(LXT_UBSAN_BINS): $(LXT_DIR)/%_ubsan: tests/%.c $(LXT_HDRS) $(API_LIB)
	@mkdir -p $(@D)
	$(CC) $(LXT_CFLAGS) -DLXT_LX_API $(LXT_UBSAN) -o $@ $< $(API_LIB) $(LXT_LIBS)

$(LXT_STATIC_BINS): $(LXT_DIR)/%: tests/%.c $(LXT_HDRS) $(STATIC)
	@mkdir -p $(@D)
	$(CC) $(LXT_CFLAGS) $(LXT_SAN) -o $@ $< $(STATIC) $(LXT_LIBS)

$(LXT_FULL_BINS): $(LXT_DIR)/%_full: tests/%.c $(LXT_HDRS) $(STATIC)
	@mkdir -p $(@D)
	$(CC) $(LXT_CFLAGS) $(LXT_SAN) -static -o $@ $< $(STATIC) -lpthread

$(LXT_UNIT_BINS): $(LXT_DIR)/%: tests/%.c $(API_LIB) $(LIB_HDRS) tests/tests.mk
	@mkdir -p $(@D)
	$(CC) $(LXT_CFLAGS) -DLX_DEBUG=$(DEBUG) -Isrc -Iinclude $(LXT_SAN) -o $@ $< $(API_LIB) $(LXT_LIBS)

$(LXT_EXAMPLE_BINS): $(LXT_DIR)/examples/%: examples/%.c $(API_LIB) include/lxmalloc.h tests/tests.mk
	@mkdir -p $(@D)
	$(CC) -std=c11 -D_GNU_SOURCE -O1 -g -Wall -Wextra -Werror -Iinclude $(LXT_SAN) -o $@ $< \
	  $(API_LIB) $(LXT_LIBS)

$(LXT_CXX_BIN): tests/preload/cxx.cc include/lxmalloc.h tests/tests.mk
	@mkdir -p $(@D)
	$(CXX) $(LXT_CXXFLAGS) -o $@ $< $(LXT_LIBS)

# tests/run.sh finds the binaries through BUILD.
export BUILD
