#!/usr/bin/env bats
# Scale-out with GNU parallel (docs/SCALING.md): a large input cut into
# shards, each run through its own pipeline, gives the unsharded output line
# for line. The input is generated; ../shared/data is not needed.

bats_require_minimum_version 1.5.0
load helper

PIPELINE='pnm-tokenize | pnm-project | pnm-classify -p'

# Skips the current test when GNU parallel is not installed (moreutils has
# another program of the same name).
need_parallel() {
    if ! parallel --version 2>/dev/null | grep -q '^GNU parallel'; then
        skip "GNU parallel not installed (make deps): sharding tests skipped"
    fi
}

setup_file() {
    need_model_programs
    PNM_MODEL="$BATS_TEST_DIRNAME/../models/default.pnm"
    [[ -f "$PNM_MODEL" ]] || { echo "$PNM_MODEL not found" >&2; return 1; }
    export PNM_MODEL
    # About 3000 lines: the helper's corpus and an empty line, 14 times.
    MANY="$BATS_FILE_TMPDIR/many.txt"
    export MANY
    local i
    for ((i = 0; i < 14; i++)); do corpus_text; echo; done > "$MANY"
    bash -c "set -o pipefail; $PIPELINE" < "$MANY" > "$BATS_FILE_TMPDIR/unsharded.txt"
}

# assert_same_as_unsharded FILE: FILE equals the unsharded output, which has
# a line for every input line.
assert_same_as_unsharded() {
    [[ $(wc -l < "$BATS_FILE_TMPDIR/unsharded.txt") -eq $(wc -l < "$MANY") ]]
    cmp "$BATS_FILE_TMPDIR/unsharded.txt" "$1"
}

# jobs_run JOBLOG: how many jobs parallel ran (its --joblog has a header).
jobs_run() {
    echo $(( $(wc -l < "$1") - 1 ))
}

@test "parallel: --pipe --keep-order -N 250, shards through stdin, equals the unsharded output" {
    need_parallel
    local log="$BATS_TEST_TMPDIR/jobs" out="$BATS_TEST_TMPDIR/sharded.txt"
    run --separate-stderr bash -c "parallel --pipe --keep-order -N 250 -j 2 --joblog '$log' \
        '$PIPELINE' < '$MANY' > '$out'"
    assert_success
    assert_stderr_empty
    [[ $(jobs_run "$log") -eq $(( ($(wc -l < "$MANY") + 249) / 250 )) ]]
    assert_same_as_unsharded "$out"
}

@test "parallel: --pipepart --block -2, shards read from the file, equals the unsharded output" {
    need_parallel
    local log="$BATS_TEST_TMPDIR/jobs" out="$BATS_TEST_TMPDIR/sharded.txt"
    run --separate-stderr bash -c "parallel --pipepart -a '$MANY' --block -2 --keep-order -j 2 \
        --joblog '$log' '$PIPELINE' > '$out'"
    assert_success
    assert_stderr_empty
    [[ $(jobs_run "$log") -ge 4 ]]
    assert_same_as_unsharded "$out"
}
