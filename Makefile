# pnm: pNLP-Mixer as small Unix programs. See README.md.
#   make deps     install what is missing (Debian, apt-get)
#   make          build bin/ and build/libpnm.a
#   make check    unit tests, bats tests and man page lint: "N passed, N failed"
#   make bench    speed, latency, memory: docs/PERFORMANCE.md (scripts/bench)
#   make check-sanitize  make check built with ASan + UBSan (+ LSan) in build/sanitize

BUILD   ?= build
BIN     ?= bin
CC      ?= cc
CXX     ?= c++
CFLAGS  ?= -O3 -g
CXXFLAGS ?= -O2 -g
WARN    = -Wall -Wextra -Wshadow -Wformat=2 -Wno-format-nonliteral
# -ffp-contract=fast: a * b + c may be one FMA (-std=c11 turns that off),
# which only the AVX2 / AVX-512 clones of lib/layers.c can use.
# -ffunction-sections -fdata-sections: see LD_GC.
SECTIONS     = -ffunction-sections -fdata-sections
ALL_CFLAGS   = -std=c11 -D_GNU_SOURCE -fPIC -fno-trapping-math -ffp-contract=fast $(SECTIONS) $(WARN) -iquote lib -iquote cmd $(CFLAGS)
ALL_CXXFLAGS = -std=c++17 -fPIC $(SECTIONS) $(WARN) -iquote lib $(CXXFLAGS)
# libsentencepiece_train is opened when a vocabulary is trained (lib/sp_train.cc).
LDLIBS  = -lsentencepiece -lzstd -lxxhash -lopenblas -lpthread -ldl -lm
# Every link lists all of LDLIBS, but a program keeps only the libraries
# its objects use: each one loaded costs start-up time (ld.so maps and
# relocates it, its constructors run: OpenBLAS about 2.5 ms, SentencePiece
# 0.8 ms, the C++ runtime 0.9 ms), and a pipeline starts three programs.
# libpnm.a and the archive of cmd/ helpers give each program only the
# objects it calls into.
# Where lld is installed (Debian lld), links also drop the functions nothing
# calls (--gc-sections), and lld, unlike GNU ld, then drops the libraries
# that only those called: model.c's training backward and cblas_sgemm come
# with every program that loads a model, and keep OpenBLAS in pnm-tokenize
# and pnm-project under GNU ld, which keeps or drops whole objects.
LD_GC := $(shell $(CXX) -fuse-ld=lld -Wl,--version >/dev/null 2>&1 && echo -fuse-ld=lld -Wl,--gc-sections)
AS_NEEDED = -Wl,--as-needed $(LD_GC)

LIB_OBJ  = $(patsubst lib/%.c,$(BUILD)/lib/%.o,$(wildcard lib/*.c)) \
           $(patsubst lib/%.cc,$(BUILD)/lib/%.o,$(wildcard lib/*.cc))
PROGRAMS = $(patsubst cmd/%.c,$(BIN)/%,$(wildcard cmd/pnm-*.c))
UNIT     = $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(wildcard tests/unit/test_*.c))
CLI_OBJ  = $(patsubst cmd/%.c,$(BUILD)/cmd/%.o,$(filter-out cmd/pnm-%.c,$(wildcard cmd/*.c)))

all: $(PROGRAMS) $(BUILD)/libpnm.a

$(BUILD)/lib/%.o: lib/%.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/lib/%.o: lib/%.cc
	@mkdir -p $(@D)
	$(CXX) $(ALL_CXXFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/cmd/%.o: cmd/%.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/libpnm.a: $(LIB_OBJ)
	rm -f $@
	ar rcs $@ $^

$(BUILD)/cli.a: $(CLI_OBJ)
	rm -f $@
	ar rcs $@ $^

# Linked by the C++ driver: SentencePiece needs the C++ runtime.
$(BIN)/%: $(BUILD)/cmd/%.o $(BUILD)/cli.a $(BUILD)/libpnm.a
	@mkdir -p $(@D)
	$(CXX) $(LDFLAGS) $(AS_NEEDED) -o $@ $< $(BUILD)/cli.a $(BUILD)/libpnm.a $(LDLIBS)

$(BUILD)/tests/%.o: tests/unit/%.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -iquote tests/unit -MMD -MP -c $< -o $@

$(BUILD)/tests/test_%: $(BUILD)/tests/test_%.o $(BUILD)/libpnm.a
	$(CXX) $(LDFLAGS) $(AS_NEEDED) -o $@ $< $(BUILD)/libpnm.a $(LDLIBS)

deps:
	scripts/deps

check: all $(UNIT)
	PNM_BIN=$(BIN) PNM_BUILD=$(abspath $(BUILD)) scripts/check $(UNIT)

# make check again, built with AddressSanitizer, UndefinedBehaviorSanitizer and
# LeakSanitizer into build/sanitize (the normal build is untouched). Any report
# stops the program with status 86 and is written under build/sanitize/reports,
# where scripts/check counts each one as a failure. tests/lsan.supp silences
# leaks inside third-party libraries only (none needed so far). Built with clang
# (clang, libclang-rt-dev): its one runtime writes UBSan reports to log_path too.
SAN_CC    ?= clang
SAN_CXX   ?= clang++
SAN_DIR   = build/sanitize
SAN_FLAGS = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
SAN_LOGS  = $(CURDIR)/$(SAN_DIR)/reports
SAN_OPTS  = halt_on_error=1:exitcode=86:log_path=$(SAN_LOGS)/report

check-sanitize:
	rm -rf $(SAN_LOGS) && mkdir -p $(SAN_LOGS)
	ASAN_OPTIONS=$(SAN_OPTS):detect_leaks=1:abort_on_error=0:strict_string_checks=1 \
	UBSAN_OPTIONS=$(SAN_OPTS):print_stacktrace=1 \
	LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp:print_suppressions=0 \
	PNM_SANITIZER_LOGS=$(SAN_LOGS) \
	$(MAKE) CC=$(SAN_CC) CXX=$(SAN_CXX) BUILD=$(SAN_DIR) BIN=$(SAN_DIR)/bin CFLAGS="-O1 -g $(SAN_FLAGS)" \
		CXXFLAGS="-O1 -g $(SAN_FLAGS)" LDFLAGS="$(SAN_FLAGS)" check

bench: all
	PNM_BIN=$(BIN) PNM_BUILD=$(BUILD) scripts/bench

clean:
	rm -rf $(BUILD) $(BIN)

.PHONY: all deps check check-sanitize bench clean
.SECONDARY:

# Further targets (install, examples, fuzz, ...) live one concern per file.
include $(wildcard mk/*.mk)

-include $(wildcard $(BUILD)/*/*.d)
