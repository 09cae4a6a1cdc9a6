# SPDX-License-Identifier: MIT
# Benchmark suite; included by the top Makefile. Never part of `make test`.
#   make bench               full suite (about 15-25 minutes on 2 cores)
#   make bench QUICK=1       small sizes, 3 runs (under two minutes)
#   make bench BENCH_ARGS='--only larson-*,redis --update-docs'
#   make bench-callgrind     instructions per malloc+free pair (valgrind)
#   make bench-xapi          object caches and heap-destroy against malloc/free (lx_ API,
#                            linked with liblxmalloc_api.a; a table of its own)
# Workload binaries go to $(BUILD)/bench/.

BENCH_OUT    := $(BUILD)/bench
BENCH_PROGS  := churn larson prodcons falseshare realloc large frag server replace pairs launch
BENCH_BINS   := $(addprefix $(BENCH_OUT)/,$(BENCH_PROGS))
BENCH_CFLAGS := -std=c11 -O2 -g -Wall -Wextra -Werror -D_POSIX_C_SOURCE=200809L -pthread
BENCH_PY     ?= python3
BENCH_ARGS   ?=
QUICK        ?=

.PHONY: bench bench-callgrind bench-bins bench-xapi

$(BENCH_OUT):
	@mkdir -p $@

$(BENCH_OUT)/%: bench/%.c bench/bench_common.h | $(BENCH_OUT)
	$(CC) $(BENCH_CFLAGS) -o $@ $<

bench-bins: $(BENCH_BINS)

bench: all bench-bins
	$(BENCH_PY) bench/run.py --build $(BUILD) $(if $(filter-out 0,$(QUICK)),--quick) $(BENCH_ARGS)

# Counted on a build without valgrind client requests: under valgrind the normal
# build switches to its slow paths to describe every block to memcheck, which is
# not the fast path this target measures.
bench-callgrind:
	$(MAKE) BUILD=$(BUILD)/callgrind LX_VALGRIND=0 all bench-bins
	$(BENCH_PY) bench/callgrind.py --build $(BUILD)/callgrind $(BENCH_ARGS)

# The extended API cannot be preloaded: its workload links the prefix-only archive.
$(BENCH_OUT)/xapi: bench/xapi.c $(API_LIB) include/lxmalloc.h | $(BENCH_OUT)
	$(CC) $(BENCH_CFLAGS) -Iinclude -o $@ $< $(API_LIB) -lpthread

bench-xapi: $(BENCH_OUT)/xapi
	$(BENCH_OUT)/xapi $(if $(filter-out 0,$(QUICK)),200000 48 3)
