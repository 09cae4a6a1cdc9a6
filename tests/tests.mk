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
#   tests/misuse/*.c                     one heap bug each, run preloaded in default and debug
#                                        mode; built -O0 so the bug stays as written
#   tests/stress/*.c                     standard names, run preloaded for a bounded time
#                                        (LXT_STRESS_SECONDS; longer in make soak)
#   tests/fault/*.c                      linked with $(BUILD)/fault/liblxmalloc_api.a, the
#                                        library built with LX_FAULT_INJECT=1
#   examples/*.c                         the example programs, as their comments build them
#                                        (liblxmalloc_api.a), run directly
#   tests/prof/*.c, *.cc                 programs for the leak report and heap profile
#                                        scripts (tests/prof/*.sh): standard names,
#                                        -rdynamic so that dladdr names their functions

LXT_DIR      := $(BUILD)/tests
# The tests call malloc to see what it does: the compiler must not assume it knows
# (clang would drop unused blocks and let malloc keep errno), and valgrind 3.19
# reads only DWARF 4.
LXT_NOBUILTIN := $(addprefix -fno-builtin-,malloc calloc realloc reallocarray free aligned_alloc \
                   posix_memalign memalign valloc pvalloc malloc_usable_size)
LXT_CFLAGS   := -std=c11 -D_GNU_SOURCE -O1 -g -gdwarf-4 $(LXT_NOBUILTIN) -Wall -Wextra -Werror \
                -Iinclude -Itests/lib -pthread
LXT_CXXFLAGS := -std=c++17 -O1 -g -gdwarf-4 -Wall -Wextra -Werror -Iinclude -pthread \
                $(LXT_NOBUILTIN)
# Valgrind 3.19 cannot read clang's DWARF 5 line tables: the valgrind flavour drops
# debug information when the compiler is clang (function names remain).
LXT_VG_LDFLAGS := $(if $(findstring clang,$(shell $(CC) --version 2>/dev/null)),-Xlinker --strip-debug)
LXT_UBSAN    := -fsanitize=undefined -fno-sanitize-recover=all
# When the library itself is sanitized, everything linking its archives needs the runtime.
LXT_SAN      := $(if $(SANITIZE),-fsanitize=$(SANITIZE) -fno-sanitize-recover=all)
LXT_LIBS     := -lpthread -ldl
LXT_HDRS     := tests/lib/lxt.h include/lxmalloc.h tests/stress/stress.h tests/tests.mk

LXT_API_SRCS    := $(wildcard tests/api/*.c)
LXT_THR_SRCS    := $(wildcard tests/threads/*.c)
LXT_FORK_SRCS   := $(wildcard tests/fork/*.c)
LXT_STATIC_SRCS := $(wildcard tests/static/*.c)
LXT_UNIT_SRCS   := $(wildcard tests/unit/*.c)
LXT_MISUSE_SRCS := $(wildcard tests/misuse/*.c)
LXT_FAULT_SRCS  := $(wildcard tests/fault/*.c)
LXT_STRESS_SRCS := $(wildcard tests/stress/*.c)
LXT_EXAMPLE_SRCS := $(wildcard examples/*.c)

LXT_STD_BINS    := $(patsubst tests/%.c,$(LXT_DIR)/%,$(LXT_API_SRCS) $(LXT_THR_SRCS) $(LXT_FORK_SRCS) \
                     $(LXT_STRESS_SRCS))
LXT_LX_BINS     := $(patsubst tests/%.c,$(LXT_DIR)/%_lx,$(LXT_API_SRCS) $(LXT_THR_SRCS))
LXT_UBSAN_BINS  := $(patsubst tests/%.c,$(LXT_DIR)/%_ubsan,$(LXT_API_SRCS))
LXT_STATIC_BINS := $(patsubst tests/%.c,$(LXT_DIR)/%,$(LXT_STATIC_SRCS))
LXT_FULL_BINS   := $(patsubst tests/%.c,$(LXT_DIR)/%_full,$(LXT_STATIC_SRCS))
LXT_UNIT_BINS   := $(patsubst tests/%.c,$(LXT_DIR)/%,$(LXT_UNIT_SRCS))
LXT_MISUSE_BINS := $(patsubst tests/%.c,$(LXT_DIR)/%,$(LXT_MISUSE_SRCS))
LXT_FAULT_BINS  := $(patsubst tests/%.c,$(LXT_DIR)/%,$(LXT_FAULT_SRCS))
LXT_CXX_BIN     := $(LXT_DIR)/preload/cxx

# The C++ program is built only if there is a C++ compiler (preload/cxx.sh skips).
LXT_HAVE_CXX := $(shell command -v $(firstword $(CXX)) >/dev/null 2>&1 && echo yes)
LXT_EXAMPLE_BINS := $(patsubst examples/%.c,$(LXT_DIR)/examples/%,$(LXT_EXAMPLE_SRCS))

LXT_ALL_BINS := $(LXT_STD_BINS) $(LXT_LX_BINS) $(LXT_UBSAN_BINS) $(LXT_STATIC_BINS) $(LXT_FULL_BINS) \
                $(LXT_UNIT_BINS) $(LXT_MISUSE_BINS) $(LXT_FAULT_BINS) $(LXT_EXAMPLE_BINS) \
                $(if $(LXT_HAVE_CXX),$(LXT_CXX_BIN))

.PHONY: test-bins soak
test-bins: $(LXT_ALL_BINS)

# The long run, not in CI: the whole suite with the stress tests at SOAK_SECONDS
# each, 100k threads of churn, many more random fuzz inputs and the real programs
# at their big sizes; then libFuzzer for SOAK_SECONDS when clang is there.
SOAK_SECONDS ?= 300
soak: all test-bins
	LXT_STRESS_SECONDS=$(SOAK_SECONDS) LXT_CHURN_THREADS=100000 LXT_FUZZ_RUNS=20000 \
	  LXT_SCALE=soak LXT_TIMEOUT=$$(($(SOAK_SECONDS) * 3 + 1200)) sh tests/run.sh
	if [ -n "$(FUZZ_CC)" ]; then $(MAKE) fuzz SECONDS=$(SOAK_SECONDS); fi

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

$(LXT_MISUSE_BINS): $(LXT_DIR)/%: tests/%.c tests/misuse/misuse.h
	@mkdir -p $(@D)
	$(CC) $(LXT_CFLAGS) -O0 -o $@ $<

# The fault-injection flavour of the prefix-only archive: same flags, one more knob.
LXT_FAULT_LIB  := $(BUILD)/fault/liblxmalloc_api.a
LXT_FAULT_OBJS := $(patsubst $(BUILD)/obj/%,$(BUILD)/fault/obj/%,$(API_OBJS))

$(BUILD)/fault/obj/%.o: src/%.c $(LIB_HDRS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_LIB) -DLX_FAULT_INJECT=1 -c $< -o $@

$(LXT_FAULT_LIB): $(LXT_FAULT_OBJS)
	rm -f $@ && ar rcs $@ $^

$(LXT_FAULT_BINS): $(LXT_DIR)/%: tests/%.c $(LXT_FAULT_LIB) $(LIB_HDRS) $(LXT_HDRS)
	@mkdir -p $(@D)
	$(CC) $(LXT_CFLAGS) -DLX_DEBUG=$(DEBUG) -DLX_FAULT_INJECT=1 -Isrc $(LXT_SAN) -o $@ $< \
	  $(LXT_FAULT_LIB) $(LXT_LIBS)

# tests/valgrind/memcheck.sh: one program, built on the lx_ API, statically on the
# standard names, and plain (for LD_PRELOAD).
LXT_VG_BINS := $(LXT_DIR)/valgrind/planted $(LXT_DIR)/valgrind/planted_lx \
               $(LXT_DIR)/valgrind/planted_static
test-bins: $(LXT_VG_BINS)

$(LXT_DIR)/valgrind/planted: tests/valgrind/planted.c $(LXT_HDRS)
	@mkdir -p $(@D)
	$(CC) $(LXT_CFLAGS) -o $@ $< $(LXT_LIBS)

$(LXT_DIR)/valgrind/planted_lx: tests/valgrind/planted.c $(LXT_HDRS) $(API_LIB)
	@mkdir -p $(@D)
	$(CC) $(LXT_CFLAGS) -DLXT_LX_API -o $@ $< $(API_LIB) $(LXT_LIBS)

$(LXT_DIR)/valgrind/planted_static: tests/valgrind/planted.c $(LXT_HDRS) $(STATIC)
	@mkdir -p $(@D)
	$(CC) $(LXT_CFLAGS) -o $@ $< $(STATIC) $(LXT_LIBS)
# tests/cmd/*.sh drive the lxmalloc command; tests/cmd/*.c are the programs they
# look at (plain builds, preloaded by the scripts).
LXT_CMD_BINS := $(patsubst tests/%.c,$(LXT_DIR)/%,$(wildcard tests/cmd/*.c))
test-bins: $(LXT_CMD_BINS) $(CMD)

$(LXT_CMD_BINS): $(LXT_DIR)/%: tests/%.c tests/tests.mk
	@mkdir -p $(@D)
	$(CC) $(LXT_CFLAGS) -o $@ $< $(LXT_LIBS)

$(LXT_EXAMPLE_BINS): $(LXT_DIR)/examples/%: examples/%.c $(API_LIB) include/lxmalloc.h tests/tests.mk
	@mkdir -p $(@D)
	$(CC) -std=c11 -D_GNU_SOURCE -O1 -g -Wall -Wextra -Werror -Iinclude $(LXT_SAN) -o $@ $< \
	  $(API_LIB) $(LXT_LIBS)

# tests/prof/*.sh: the leak report and heap profile, on programs run preloaded.
LXT_PROF_BINS := $(patsubst tests/%.c,$(LXT_DIR)/%,$(wildcard tests/prof/*.c))
LXT_PROF_CXX  := $(LXT_DIR)/prof/leaky_cxx
test-bins: $(LXT_PROF_BINS) $(if $(LXT_HAVE_CXX),$(LXT_PROF_CXX))

$(LXT_PROF_BINS): $(LXT_DIR)/prof/%: tests/prof/%.c tests/tests.mk
	@mkdir -p $(@D)
	$(CC) $(LXT_CFLAGS) -rdynamic -o $@ $< $(LXT_LIBS)

$(LXT_PROF_CXX): tests/prof/leaky_cxx.cc tests/tests.mk
	@mkdir -p $(@D)
	$(CXX) $(LXT_CXXFLAGS) -rdynamic -o $@ $< $(LXT_LIBS)

$(LXT_CXX_BIN): tests/preload/cxx.cc include/lxmalloc.h tests/tests.mk
	@mkdir -p $(@D)
	$(CXX) $(LXT_CXXFLAGS) -o $@ $< $(LXT_LIBS)

# tests/run.sh finds the binaries through BUILD.
export BUILD
