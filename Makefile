# pnm: pNLP-Mixer as small Unix programs. See README.md.
#   make deps     install what is missing (Debian, apt-get)
#   make          build bin/ and build/libpnm.a
#   make check    unit tests, bats tests and man page lint: "N passed, N failed"
#   make bench    throughput and stream size figures (scripts/bench)

CC      ?= cc
CXX     ?= c++
CFLAGS  ?= -O3 -g
CXXFLAGS ?= -O2 -g
WARN    = -Wall -Wextra -Wshadow -Wformat=2 -Wno-format-nonliteral
ALL_CFLAGS   = -std=c11 -D_GNU_SOURCE -fno-trapping-math $(WARN) -iquote lib -iquote cmd $(CFLAGS)
ALL_CXXFLAGS = -std=c++17 $(WARN) -iquote lib $(CXXFLAGS)
LDLIBS  = -lsentencepiece -lsentencepiece_train -lzstd -lxxhash -lopenblas -lpthread -lm

LIB_OBJ  = $(patsubst lib/%.c,build/lib/%.o,$(wildcard lib/*.c)) build/lib/sp.o
PROGRAMS = $(patsubst cmd/%.c,bin/%,$(wildcard cmd/pnm-*.c))
UNIT     = $(patsubst tests/unit/%.c,build/tests/%,$(wildcard tests/unit/test_*.c))
CLI_OBJ  = $(patsubst cmd/%.c,build/cmd/%.o,$(filter-out cmd/pnm-%.c,$(wildcard cmd/*.c)))

all: $(PROGRAMS) build/libpnm.a

build/lib/%.o: lib/%.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c $< -o $@

build/lib/sp.o: lib/sp.cc
	@mkdir -p $(@D)
	$(CXX) $(ALL_CXXFLAGS) -MMD -MP -c $< -o $@

build/cmd/%.o: cmd/%.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c $< -o $@

build/libpnm.a: $(LIB_OBJ)
	rm -f $@
	ar rcs $@ $^

# Linked by the C++ driver: SentencePiece needs the C++ runtime.
bin/%: build/cmd/%.o $(CLI_OBJ) build/libpnm.a
	@mkdir -p $(@D)
	$(CXX) $(LDFLAGS) -o $@ $< $(CLI_OBJ) build/libpnm.a $(LDLIBS)

build/tests/%.o: tests/unit/%.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -iquote tests/unit -MMD -MP -c $< -o $@

build/tests/test_%: build/tests/test_%.o build/libpnm.a
	$(CXX) $(LDFLAGS) -o $@ $< build/libpnm.a $(LDLIBS)

deps:
	scripts/deps

check: all $(UNIT)
	scripts/check $(UNIT)

bench: all
	scripts/bench

clean:
	rm -rf build bin

.PHONY: all deps check bench clean
.SECONDARY:

-include $(shell find build -name '*.d' 2>/dev/null)
