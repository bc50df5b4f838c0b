#!/usr/bin/env bats
# pnm-quantize: float model -> int8 model, and the programs running it.

bats_require_minimum_version 1.5.0

load helper

setup_file() {
    toy_setup_file
    local d=$BATS_FILE_TMPDIR
    train_tiny "$d/toy.tsv" "$d/m.pnm" -e 20
    pnm-quantize -o "$d/q.pnm" "$d/m.pnm"
    cut -f2 "$d/toy.tsv" > "$d/q.txt"
}

setup() {
    M="$BATS_FILE_TMPDIR/m.pnm"
    QM="$BATS_FILE_TMPDIR/q.pnm"
    Q="$BATS_FILE_TMPDIR/q.txt"
    TOY="$BATS_FILE_TMPDIR/toy.tsv"
    export M QM Q TOY
    cd "$BATS_TEST_TMPDIR"
}

# ---- options ---------------------------------------------------------------

@test "quantize: --help prints the usage and --version the version" {
    run --separate-stderr pnm-quantize --help
    assert_success
    assert_line --index 0 "Usage: pnm-quantize [OPTION]... [MODEL]"
    assert_output --partial "--output=FILE"
    assert_output --partial "int8"
    assert_stderr_empty
    run --separate-stderr pnm-quantize --version
    assert_success
    assert_output --regexp '^pnm-quantize \(pnm\) [0-9]+\.[0-9]+'
}

@test "quantize: unknown options and two models exit 2" {
    run --separate-stderr pnm-quantize --no-such-option "$M"
    assert_failure 2
    assert_stderr_contains "Try 'pnm-quantize --help'"
    assert_output ""
    run --separate-stderr pnm-quantize -o out.pnm "$M" "$M"
    assert_failure 2
    assert_stderr_contains "Try 'pnm-quantize --help'"
    assert_no_output_left out.pnm
}

# ---- normal use ---------------------------------------------------------------

@test "quantize: the int8 model is under half the float one, and deterministic" {
    local float int8
    float=$(byte_size "$M") int8=$(byte_size "$QM")
    # x-small: the vocabulary and the float tensors are a good part of it.
    (( int8 * 2 < float )) || fail "int8 $int8 bytes, float $float bytes"
    pnm-quantize < "$M" > stdout.pnm
    cmp stdout.pnm "$QM"
    pnm-quantize -o - "$M" | cmp - "$QM"
    only_files stdout.pnm
}

@test "quantize: the int8 model labels and tags the training lines as the float one" {
    classify_text "$M" < "$Q" > float.txt
    classify_text "$QM" < "$Q" > int8.txt
    [ "$(wc -l < int8.txt)" -eq 60 ]
    # The toy model is sure of its answers: int8 keeps every one.
    diff float.txt int8.txt
    # And they are right: the labels are the gold ones.
    diff <(cut -f1 int8.txt) <(cut -f1 "$TOY")
}

@test "quantize: the tagging head is int8 too (option bits 2 and 3), or float with --float-tags (bit 2)" {
    options_word() { zstd -dc "$1" | od -A n -t u4 -j 64 -N 4 | tr -d ' '; }
    assert_equal "$(options_word "$QM")" 12
    pnm-quantize --float-tags -o float-tags.pnm "$M"
    assert_equal "$(options_word float-tags.pnm)" 4
    run -0 pnm-dump -H "$QM"
    assert_output --partial "7 tags, int8 tagging head"
    run -0 pnm-dump -j float-tags.pnm
    assert_output --partial '"crf":false,"int8_tags":false,'
    run -0 pnm-dump -H float-tags.pnm
    refute_output --partial "int8 tagging head"
    # The toy task has 7 tags, b = 64: a float 4 bytes a weight, int8 1
    # byte a weight and 4 a tag's scale.
    local a b
    a=$(zstd -dc float-tags.pnm | wc -c) b=$(zstd -dc "$QM" | wc -c)
    assert_equal $((a - b)) $((7 * 64 * 3 - 7 * 4))
    classify_text float-tags.pnm -F tsv -p < "$Q" > float-tags.tsv
    classify_text "$QM" -F tsv -p < "$Q" > int8-tags.tsv
    # The same labels and tags; the probabilities move a little.
    diff <(cut -f2,3 float-tags.tsv | sed 's/ [01]\.[0-9]\{4\}//') <(cut -f2,3 int8-tags.tsv | sed 's/ [01]\.[0-9]\{4\}//')
}

@test "quantize: a classification-only model has no tagging head to quantize (option bit 2 alone)" {
    cut -f1,2 "$TOY" > classify.tsv
    train_tiny classify.tsv c.pnm
    pnm-quantize -o c8.pnm c.pnm
    run bash -c "zstd -dc c8.pnm | od -A n -t u4 -j 64 -N 4"
    assert_equal "$(echo $output)" 4
    classify_text c8.pnm < "$Q" > c8.txt
    [ "$(wc -l < c8.txt)" -eq 60 ]
}

@test "quantize: pnm-mix writes the int8 model's hidden stream, pnm-classify reads it" {
    features_of "$QM" < "$Q" > q.feat
    pnm-mix -m "$QM" -o q.hid q.feat
    pnm-classify -m "$QM" q.hid > via-hidden.txt
    pnm-classify -m "$QM" q.feat > direct.txt
    diff via-hidden.txt direct.txt
    # A hidden stream belongs to one model: the float one's is not the int8 one's.
    pnm-mix -m "$M" -o float.hid q.feat
    run --separate-stderr pnm-classify -m "$QM" float.hid
    assert_failure 1
    assert_stderr_contains "model"
}

@test "quantize: pnm-dump says which model is int8" {
    run -0 pnm-dump -H "$QM"
    assert_output --regexp '^# pnm model [0-9a-f]{16}, int8 weights; vocabulary [0-9a-f]{16} '
    assert_output --partial "; 3 labels, 7 tags"
    run -0 pnm-dump -H "$M"
    assert_output --partial ", float weights;"
    run -0 pnm-dump "$QM"
    assert_line --index 1 "label 0 PlayMusic"
    assert_line "tag 0 O"
    run -0 pnm-dump -j "$QM"
    assert_output --regexp '^\{"kind":"model","weights":"int8",.*"labels":\["PlayMusic",'
    run -0 pnm-dump - < "$QM"
    assert_output --partial "int8 weights"
    # In a pipe it cannot be sniffed and read again: a stream reader's message.
    run --separate-stderr pnm-dump < <(cat "$QM")
    assert_failure 1
    assert_stderr_contains "a pnm model, not a stream"
}

# ---- bad input -----------------------------------------------------------------

@test "quantize: a file that is not a model is refused, nothing written" {
    run --separate-stderr pnm-quantize -o out.pnm "$Q"
    assert_failure 1
    assert_stderr_contains "not a pnm model"
    assert_no_output_left out.pnm
    run --separate-stderr pnm-quantize -o out.pnm "$VOCAB"
    assert_failure 1
    assert_stderr_contains "not a pnm model"
    assert_no_output_left out.pnm
    run --separate-stderr pnm-quantize -o out.pnm missing.pnm
    assert_failure 1
    assert_stderr_contains "missing.pnm"
    assert_no_output_left out.pnm
}

@test "quantize: a corrupt model is refused, nothing written" {
    local size
    size=$(byte_size "$M")
    flip_byte "$M" $(( size / 2 )) 0x10 bad.pnm
    run --separate-stderr pnm-quantize -o out.pnm bad.pnm
    assert_failure 1
    assert_stderr_contains "corrupt model"
    assert_no_output_left out.pnm
    head -c $(( size - 100 )) "$M" > cut.pnm
    run --separate-stderr pnm-quantize -o out.pnm cut.pnm
    assert_failure 1
    assert_stderr_contains "corrupt model"
    assert_no_output_left out.pnm
}

@test "quantize: an int8 model is not quantized again" {
    run --separate-stderr pnm-quantize -o out.pnm "$QM"
    assert_failure 1
    assert_stderr_contains "int8 already"
    assert_no_output_left out.pnm
}

@test "quantize: an output that cannot be written is an error, no file left" {
    run --separate-stderr pnm-quantize -o no/such/dir/out.pnm "$M"
    assert_failure 1
    assert_stderr_contains "no/such/dir"
    run --separate-stderr pnm-quantize -o /dev/full "$M"
    assert_failure 1
    assert_stderr_contains "/dev/full"
    mkdir ro && chmod 555 ro
    if touch ro/probe 2>/dev/null; then
        rm -f ro/probe
        skip "running as a user who can write a read-only directory"
    fi
    run --separate-stderr pnm-quantize -o ro/out.pnm "$M"
    assert_failure 1
    assert_stderr_contains "ro/out.pnm"
    [ -z "$(ls -A ro)" ]
}

@test "quantize: an existing output is replaced whole or left as it was" {
    echo "old" > out.pnm
    run --separate-stderr pnm-quantize -o out.pnm "$Q"
    assert_failure 1
    [ "$(cat out.pnm)" = old ]
    pnm-quantize -o out.pnm "$M"
    cmp out.pnm "$QM"
}
