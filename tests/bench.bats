#!/usr/bin/env bats
# make bench's in-process timer (bench/fused.c, built by make check into
# $PNM_BUILD/bench) on a few lines with a tiny model, so that it cannot rot
# while make bench stays out of make check; and scripts/bench-model's
# shell helpers.

bats_require_minimum_version 1.5.0

load helper

PNM_BUILD="${PNM_BUILD:-$BATS_TEST_DIRNAME/../build}"

setup_file() {
    need_model_programs
    if [[ ! -x "$PNM_BUILD/bench/fused" ]]; then
        echo "$PNM_BUILD/bench/fused not found: run make check (or make bench)" >&2
        return 1
    fi
    toy_tsv > "$BATS_FILE_TMPDIR/toy.tsv"
    train_tiny "$BATS_FILE_TMPDIR/toy.tsv" "$BATS_FILE_TMPDIR/joint.pnm"
    cut -f2 "$BATS_FILE_TMPDIR/toy.tsv" > "$BATS_FILE_TMPDIR/q.txt"
}

setup() {
    M="$BATS_FILE_TMPDIR/joint.pnm"
    Q="$BATS_FILE_TMPDIR/q.txt"
}

# value KEY: the value of "KEY value" in $output.
value() { awk -v k="$1" '$1 == k { print $2 }' <<<"$output"; }

@test "fused: every figure, positive, for the lines given" {
    run --separate-stderr "$PNM_BUILD/bench/fused" -r 2 "$M" < "$Q"
    assert_success
    [ -z "$stderr" ]
    assert_equal "$(value lines)" "$(wc -l < "$Q")"
    assert_equal "$(value words)" "$(wc -w < "$Q")"
    assert_equal "$(value runs)" 2
    local k
    for k in params mixer_flop_per_query heads_flop_per_query single_qps single_p50_us \
        single_p99_us batch_qps forward1_qps forward1_gflops forward64_qps forward64_gflops; do
        awk -v v="$(value "$k")" -v k="$k" 'BEGIN { if (!(v + 0 > 0)) { print k " = " v; exit 1 } }'
    done
}

@test "fused: an int8 model (pnm-quantize) gives every figure too" {
    pnm-quantize -o "$BATS_TEST_TMPDIR/q.pnm" "$M"
    run --separate-stderr "$PNM_BUILD/bench/fused" -r 1 "$BATS_TEST_TMPDIR/q.pnm" < "$Q"
    assert_success
    [ -z "$stderr" ]
    local k
    for k in single_qps batch_qps forward1_qps forward64_qps; do
        awk -v v="$(value "$k")" -v k="$k" 'BEGIN { if (!(v + 0 > 0)) { print k " = " v; exit 1 } }'
    done
}

@test "fused: parameters as pnm-train counts them" {
    run --separate-stderr "$PNM_BUILD/bench/fused" -r 1 "$M" < "$Q"
    assert_success
    pnm-train --preset x-small -s 16 -e 1 -t 1 -o "$BATS_TEST_TMPDIR/m.pnm" \
        "$BATS_FILE_TMPDIR/toy.tsv" 2> "$BATS_TEST_TMPDIR/log"
    assert_equal "$(value params)" "$(sed -n '1s/^pnm-train: \([0-9]*\) parameters.*/\1/p' "$BATS_TEST_TMPDIR/log")"
}

@test "fused: usage, empty input and a missing model are errors" {
    run "$PNM_BUILD/bench/fused"
    assert_failure 2
    run "$PNM_BUILD/bench/fused" -r 0 "$M"
    assert_failure 2
    run "$PNM_BUILD/bench/fused" "$M" < /dev/null
    assert_failure 1
    assert_output --partial "no lines"
    run "$PNM_BUILD/bench/fused" "$BATS_TEST_TMPDIR/none.pnm" < "$Q"
    assert_failure 1
    assert_output --partial "none.pnm"
}

@test "bench-lib: median and median_seconds" {
    # shellcheck source=../scripts/bench-lib
    . "$BATS_TEST_DIRNAME/../scripts/bench-lib"
    assert_equal "$(median 5 1 3)" 3
    assert_equal "$(median 4 1 3 2)" 2
    assert_equal "$(calc 'x > y ? x : y' x=2 y=7)" 7
    [ ! -e 7 ]
    runs=3
    run median_seconds true
    assert_success
    awk -v s="$output" 'BEGIN { exit !(s >= 0 && s < 5) }'
}
