# make examples: examples/*.c built against this build tree the way an
# embedder builds against an installed pnm (#include <pnm/pnm.h>; see
# README, Embedding), into $(BUILD)/examples. make check builds them, and
# the test tool that prints the embedding API's results beside the
# programs' (tests/classifier.bats).
EXAMPLES = $(patsubst examples/%.c,$(BUILD)/examples/%,$(wildcard examples/*.c))

examples: $(EXAMPLES)

# <pnm/X.h> is lib/X.h, through a link named pnm.
$(BUILD)/include/pnm:
	@mkdir -p $(@D)
	ln -sfn $(CURDIR)/lib $@

# Strict C11 without _GNU_SOURCE: the public headers must not need more.
$(BUILD)/examples/%: examples/%.c $(BUILD)/libpnm.a | $(BUILD)/include/pnm
	@mkdir -p $(@D)
	$(CC) -std=c11 -pedantic $(WARN) $(CFLAGS) -I$(BUILD)/include -MMD -MP -c $< -o $@.o
	$(CXX) $(LDFLAGS) $(AS_NEEDED) -o $@ $@.o $(BUILD)/libpnm.a $(LDLIBS)

$(BUILD)/tools/%: tests/tools/%.c $(BUILD)/libpnm.a
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c $< -o $@.o
	$(CXX) $(LDFLAGS) $(AS_NEEDED) -o $@ $@.o $(BUILD)/libpnm.a $(LDLIBS)

check: examples $(patsubst tests/tools/%.c,$(BUILD)/tools/%,$(wildcard tests/tools/*.c))

.PHONY: examples
