#!/usr/bin/env bats
# pnm-train --tag-sentence: the tagging head also sees the pooled sentence
# vector (model option bit 0, pnm-model(5)). Gradients: tests/unit/test_model.c;
# the file format: tests/unit/test_modelfile.c.

bats_require_minimum_version 1.5.0

load helper

setup_file() {
    option_setup_file --tag-sentence
}

setup() {
    option_setup
}

@test "tag-sentence: the model records the option and has n_tags x b more weights" {
    # Bit 0. x-small: b = 64; the toy task has 7 tags (O, B-genre, B-city,
    # I-city, B-date, B-item, I-item).
    assert_option_model 1 $((7 * 64))
}

@test "tag-sentence: the toy task is learned, and every path predicts the same" {
    assert_toy_paths
}

@test "tag-sentence: int8 with an int8 tagging head (the sentence tagger stays float): the toy task still, the mixed path alike" {
    assert_int8_toy_paths
}

@test "tag-sentence: refused without both labels and tags" {
    cut -f1,2 "$TOY" > classify.tsv
    run -1 train_tiny classify.tsv out.pnm --tag-sentence
    assert_output --partial "sentence-aware tagging needs labels and tags"
    assert [ ! -e out.pnm ]
}
