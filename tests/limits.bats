#!/usr/bin/env bats
# The documented maximums of lib/limits.h (pnm-stream(5), LIMITS; the option
# ranges in each program's man page) are enforced with a message that names
# the limit, before anything of that size is allocated. Limits already
# tested elsewhere: --features/--hashes/--window of pnm-project
# (project.bats), --max-words truncation (tokenize.bats).

bats_require_minimum_version 1.5.0

load helper

setup_file() {
    toy_setup_file
    local d=$BATS_FILE_TMPDIR
    printf 'play some jazz\n' | pnm-tokenize -m "$VOCAB" -o "$d/tok"
    pnm-project -o "$d/feat" "$d/tok"
}

setup() {
    S=$BATS_FILE_TMPDIR
    cd "$BATS_TEST_TMPDIR"
}

@test "limits: a text line above 16 MiB is refused by tokenize, train and eval" {
    head -c $((16 * 1024 * 1024 + 1)) /dev/zero | tr '\0' 'a' > long
    run --separate-stderr pnm-tokenize -m "$VOCAB" -o out long
    assert_failure 1
    assert_stderr_contains "long: line 1 is longer than 16777216 bytes"
    assert_no_output_left out
    { printf 'A\t'; cat long; } > long.tsv
    run --separate-stderr pnm-train -m "$VOCAB" -q -o out.pnm long.tsv
    assert_failure 1
    assert_stderr_contains "long.tsv: line 1 is longer than 16777216 bytes"
    assert_no_output_left out.pnm
    run --separate-stderr pnm-eval long.tsv long.tsv
    assert_failure 1
    assert_stderr_contains "line 1 is longer than 16777216 bytes"
}

@test "limits: a line of more than 1048576 words is refused by tokenize" {
    yes a | head -n $((1048576 + 1)) | tr '\n' ' ' > many
    run --separate-stderr pnm-tokenize -m "$VOCAB" -o out many
    assert_failure 1
    assert_stderr_contains "many: line 1 has more than 1048576 words"
    assert_no_output_left out
}

@test "limits: --max-words and --vocab-size above their maximums are usage errors" {
    run --separate-stderr pnm-tokenize -m "$VOCAB" --max-words 1048577 "$S/toy.tsv"
    assert_failure 2
    assert_stderr_contains "--max-words: 1048577 is outside 0..1048576"
    run --separate-stderr pnm-tokenize --train-vocab --vocab-size 2097153 "$S/toy.tsv"
    assert_failure 2
    assert_stderr_contains "--vocab-size: 2097153 is outside 8..2097152"
    run --separate-stderr pnm-train --vocab-size 2097153 -q -o out.pnm "$S/toy.tsv"
    assert_failure 2
    assert_stderr_contains "--vocab-size: 2097153 is outside 8..2097152"
}

@test "limits: model dimensions above their maximums are usage errors of pnm-train" {
    local opt
    for opt in "--bottleneck 4097 1..4096" "--token-hidden 4097 1..4096" \
        "--channel-hidden 4097 1..4096" "--layers 17 1..16" "--seq-len 4097 1..4096" \
        "--features 65537 1..65536" "--hashes 1025 1..1024" "--window 33 0..32"; do
        set -- $opt
        run --separate-stderr pnm-train "$1" "$2" -q -o out.pnm "$S/toy.tsv"
        assert_failure 2
        assert_stderr_contains "$1: $2 is outside $3"
        assert_no_output_left out.pnm
    done
}

# set_u32 FILE OFFSET VALUE: a little-endian u32 written in place.
set_u32() {
    local k
    for ((k = 0; k < 4; k++)); do
        set_byte "$1" $(($2 + k)) $((($3 >> (8 * k)) & 255))
    done
}

@test "limits: a record that claims more than 64 MiB is refused before it is read" {
    local table off
    # The first record follows the 72-byte header and the piece table, whose
    # size is the u32 at byte 64.
    table=$(od -An -tu4 -j 64 -N 4 "$S/tok" | tr -d ' ')
    cp "$S/tok" tok
    set_u32 tok $((72 + table)) $((64 * 1024 * 1024 + 1))
    cp "$S/feat" feat
    set_u32 feat 72 $((64 * 1024 * 1024 + 1))
    local -a cmds=("pnm-project tok" "pnm-dump tok" "pnm-dump feat")
    local c
    for c in "${cmds[@]}"; do
        run --separate-stderr $c
        assert_failure 1
        assert_stderr_contains "claims 67108865 bytes, above the limit of 67108864"
    done
}

@test "limits: a model whose zstd frame claims more than it can hold is refused unallocated" {
    # 20 bytes: a frame header stating 1 GiB of content, one raw 8-byte block.
    printf '\x28\xb5\x2f\xfd\xa0\x00\x00\x00\x40\x41\x00\x00PNMMODEL' > claims.pnm
    run --separate-stderr pnm-mix -m claims.pnm "$S/feat"
    assert_failure 1
    assert_stderr_contains "claims.pnm: corrupt model: a zstd frame of 20 bytes cannot hold the 1073741824 bytes it claims"
}
