#!/usr/bin/env bats
# pnm-train --tag-sentence: the tagging head also sees the pooled sentence
# vector (model option bit 0, pnm-model(5)). Gradients: tests/unit/test_model.c;
# the file format: tests/unit/test_modelfile.c.

bats_require_minimum_version 1.5.0

load helper

setup_file() {
    toy_setup_file
    local d=$BATS_FILE_TMPDIR
    train_tiny "$d/toy.tsv" "$d/ts.pnm" -e 20 --tag-sentence
    train_tiny "$d/toy.tsv" "$d/plain.pnm" -e 20
}

setup() {
    cd "$BATS_TEST_TMPDIR"
    M=$BATS_FILE_TMPDIR/ts.pnm
    TOY=$BATS_FILE_TMPDIR/toy.tsv
}

@test "tag-sentence: the model records the option and has n_tags x b more weights" {
    # Options word at byte 64 of the body; bit 0 set only with --tag-sentence.
    run bash -c "zstd -dc '$M' | od -A n -t u4 -j 64 -N 4"
    assert_success
    assert_equal "$(echo $output)" 1
    run bash -c "zstd -dc '$BATS_FILE_TMPDIR/plain.pnm' | od -A n -t u4 -j 64 -N 4"
    assert_equal "$(echo $output)" 0
    # x-small: b = 64; the toy task has 7 tags (O, B-genre, B-city, I-city,
    # B-date, B-item, I-item).
    local a b
    a=$(zstd -dc "$M" | wc -c) b=$(zstd -dc "$BATS_FILE_TMPDIR/plain.pnm" | wc -c)
    assert_equal $((a - b)) $((7 * 64 * 4))
}

@test "tag-sentence: the toy task is learned, and every path predicts the same" {
    cut -f2 "$TOY" | classify_text "$M" -F tsv > fused.tsv
    run pnm-eval -F tsv "$TOY" fused.tsv
    assert_success
    assert_line --regexp '^accuracy +100\.00%'
    assert_line --regexp '^slot F1 +100\.00%'
    cut -f2 "$TOY" | features_of "$M" | pnm-mix -m "$M" | pnm-classify -m "$M" -F tsv > mixed.tsv
    cmp fused.tsv mixed.tsv
}

@test "tag-sentence: refused without both labels and tags" {
    cut -f1,2 "$TOY" > classify.tsv
    run -1 train_tiny classify.tsv out.pnm --tag-sentence
    assert_output --partial "sentence-aware tagging needs labels and tags"
    assert [ ! -e out.pnm ]
}
