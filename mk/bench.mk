# make bench: scripts/bench (stage throughput, stream sizes) and
# scripts/bench-model (per-model stages, pipeline vs the fused in-process
# path, latency, training, peak RSS, fastText as a peer, GFLOP/s), which
# writes docs/PERFORMANCE.md. bench/fused.c is the in-process path, built
# into $(BUILD)/bench; make check builds it too, for tests/bench.bats.
BENCH_TOOLS = $(patsubst bench/%.c,$(BUILD)/bench/%,$(wildcard bench/*.c))

$(BUILD)/bench/%: bench/%.c $(BUILD)/libpnm.a
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c $< -o $@.o
	$(CXX) $(LDFLAGS) $(AS_NEEDED) -o $@ $@.o $(BUILD)/libpnm.a $(LDLIBS)

bench check: $(BENCH_TOOLS)
