# Fuzzing (docs/FUZZING.md): libFuzzer targets in tests/fuzz/fuzz_*.c.
#   make fuzz [FUZZ_SECONDS=N] [FUZZ_TARGETS="stream model tokenize"]
# builds them with clang, ASan and UBSan into build/fuzz and runs each for N
# seconds (default 60), one after the other in one process each, niced. What
# libFuzzer adds to the corpus goes to build/fuzz/corpus/TARGET, crashes to
# build/fuzz/artifacts/TARGET/, the log to build/fuzz/TARGET.log.
#
# make check replays each target, built normally, over its committed corpus
# and regressions (tests/fuzz/replay.c): a crash found once stays a test.

FUZZ_CC      ?= clang
FUZZ_CXX     ?= clang++
FUZZ_DIR     = build/fuzz
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?= $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_SAN     = -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_REPLAY  = $(patsubst %,$(BUILD)/tests/replay_%,$(FUZZ_TARGETS))

$(BUILD)/tests/fuzz/%.o: tests/fuzz/%.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -iquote tests/fuzz -MMD -MP -c $< -o $@

$(BUILD)/tests/fuzz/replay-%.o: tests/fuzz/replay.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -iquote tests/fuzz -iquote tests/unit -DFUZZ_TARGET='"$*"' \
		-MMD -MP -c $< -o $@

$(BUILD)/tests/replay_%: $(BUILD)/tests/fuzz/replay-%.o $(BUILD)/tests/fuzz/fuzz_%.o \
		$(BUILD)/tests/fuzz/fuzz.o $(BUILD)/libpnm.a
	$(CXX) $(LDFLAGS) $(AS_NEEDED) -o $@ $(filter %.o,$^) $(BUILD)/libpnm.a $(LDLIBS)

UNIT += $(FUZZ_REPLAY)
check: $(FUZZ_REPLAY)

# Only meaningful with BUILD=$(FUZZ_DIR) and the flags that make fuzz passes.
$(BUILD)/fuzz_%: $(BUILD)/tests/fuzz/fuzz_%.o $(BUILD)/tests/fuzz/fuzz.o $(BUILD)/libpnm.a
	$(CXX) $(LDFLAGS) $(AS_NEEDED) -fsanitize=fuzzer -o $@ $(filter %.o,$^) $(BUILD)/libpnm.a $(LDLIBS)

fuzz-targets: $(patsubst %,$(BUILD)/fuzz_%,$(FUZZ_TARGETS))

fuzz:
	$(MAKE) CC=$(FUZZ_CC) CXX=$(FUZZ_CXX) BUILD=$(FUZZ_DIR) BIN=$(FUZZ_DIR)/bin \
		CFLAGS="-O1 -g $(FUZZ_SAN) -fsanitize=fuzzer-no-link" \
		CXXFLAGS="-O1 -g $(FUZZ_SAN) -fsanitize=fuzzer-no-link" LDFLAGS="$(FUZZ_SAN)" \
		FUZZ_TARGETS="$(FUZZ_TARGETS)" fuzz-targets
	@for t in $(FUZZ_TARGETS); do \
		mkdir -p $(FUZZ_DIR)/corpus/$$t $(FUZZ_DIR)/artifacts/$$t || exit 1; \
		regressions=; [ -d tests/fuzz/regressions/$$t ] && regressions=tests/fuzz/regressions/$$t; \
		echo "fuzz $$t for $(FUZZ_SECONDS) s: log in $(FUZZ_DIR)/$$t.log"; \
		nice $(FUZZ_DIR)/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -timeout=10 \
			-rss_limit_mb=2048 -print_final_stats=1 \
			-artifact_prefix=$(FUZZ_DIR)/artifacts/$$t/ $(FUZZ_DIR)/corpus/$$t \
			tests/fuzz/corpus/$$t $$regressions > $(FUZZ_DIR)/$$t.log 2>&1; \
		status=$$?; grep -E '^#[0-9]+[[:space:]]+DONE|^stat::|^==[0-9]+==ERROR|^SUMMARY' $(FUZZ_DIR)/$$t.log; \
		[ $$status -eq 0 ] || { echo "fuzz $$t: status $$status, see $(FUZZ_DIR)/$$t.log"; exit 1; }; \
	done

.PHONY: fuzz fuzz-targets

-include $(wildcard $(BUILD)/tests/fuzz/*.d)
