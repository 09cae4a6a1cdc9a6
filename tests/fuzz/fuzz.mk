# Fuzzing, included by the top Makefile.
#
#   $(BUILD)/tests/fuzz/fuzz_ops   the target with a replay main(), linked with
#                                  liblxmalloc_api.a; part of test-bins; make test
#                                  replays tests/fuzz/corpus and random inputs
#   make fuzz SECONDS=N            libFuzzer (clang) for N seconds (default 60) on
#                                  an allocator rebuilt with coverage and LX_DEBUG=2;
#                                  new inputs go to $(BUILD)/fuzz/corpus, crashes to
#                                  $(BUILD)/fuzz/ (replay one: fuzz_ops FILE)

FUZZ_CC      ?= $(shell command -v clang-14 2>/dev/null || command -v clang 2>/dev/null)
SECONDS      ?= 60
FUZZ_DIR     := $(BUILD)/fuzz
FUZZ_BIN     := $(FUZZ_DIR)/fuzz_ops
FUZZ_REPLAY  := $(LXT_DIR)/fuzz/fuzz_ops
FUZZ_SAN     := -fsanitize=fuzzer-no-link,undefined -fno-sanitize-recover=all
FUZZ_LIB     := $(FUZZ_DIR)/liblxmalloc_api.a
FUZZ_OBJS    := $(patsubst $(BUILD)/obj/%,$(FUZZ_DIR)/obj/%,$(API_OBJS))
FUZZ_LIBFLAGS := $(filter-out -DLX_DEBUG=% -O2 -O1 -fsanitize=%,$(CFLAGS_LIB)) -O1 -DLX_DEBUG=2

.PHONY: fuzz fuzz-bin
test-bins: $(FUZZ_REPLAY)

$(FUZZ_REPLAY): tests/fuzz/fuzz_ops.c $(LXT_HDRS) $(API_LIB)
	@mkdir -p $(@D)
	$(CC) $(LXT_CFLAGS) $(LXT_SAN) -o $@ $< $(API_LIB) $(LXT_LIBS)

$(FUZZ_DIR)/obj/%.o: src/%.c $(LIB_HDRS)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_LIBFLAGS) $(FUZZ_SAN) -c $< -o $@

$(FUZZ_LIB): $(FUZZ_OBJS)
	rm -f $@ && ar rcs $@ $^

$(FUZZ_BIN): tests/fuzz/fuzz_ops.c $(LXT_HDRS) $(FUZZ_LIB)
	@test -n "$(FUZZ_CC)" || { echo "make fuzz needs clang (clang-14 and libclang-rt-14-dev)"; exit 1; }
	$(FUZZ_CC) $(LXT_CFLAGS) -DLXF_LIBFUZZER -fsanitize=fuzzer,undefined \
	  -fno-sanitize-recover=all -o $@ $< $(FUZZ_LIB) $(LXT_LIBS)

fuzz-bin: $(FUZZ_BIN)

fuzz: $(FUZZ_BIN)
	@mkdir -p $(FUZZ_DIR)/corpus
	$(FUZZ_BIN) -max_total_time=$(SECONDS) -max_len=4096 -timeout=30 -rss_limit_mb=4096 \
	  -print_final_stats=1 -artifact_prefix=$(FUZZ_DIR)/ $(FUZZ_DIR)/corpus tests/fuzz/corpus
