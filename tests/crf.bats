#!/usr/bin/env bats
# pnm-train --crf: a linear-chain CRF over the tags (model option bit 1,
# pnm-model(5)). Its sums, Viterbi and gradients against brute force and
# finite differences: tests/unit/test_crf.c and tests/unit/test_model.c; the
# file format: tests/unit/test_modelfile.c. Here: the programs and the C API
# (tests/tools/api-classify.c, built by make check) decode alike.

bats_require_minimum_version 1.5.0

load helper

PNM_BUILD="${PNM_BUILD:-$BATS_TEST_DIRNAME/../build}"

setup_file() {
    option_setup_file --crf
}

setup() {
    option_setup
}

@test "crf: the model records option bit 1 and has n_tags x n_tags + 2 n_tags more weights" {
    # Bit 1. The toy task has 7 tags: transitions 7 x 7, start and end
    # scores 7 each.
    assert_option_model 2 $((7 * 7 + 2 * 7))
    run -0 pnm-dump -H "$M"
    assert_output --partial "7 tags, CRF"
    run -0 pnm-dump -H "$BATS_FILE_TMPDIR/plain.pnm"
    refute_output --partial "CRF"
}

@test "crf: the toy task is learned, and the fused, mixed and API paths predict the same" {
    assert_toy_paths --probs
    [[ -x "$PNM_BUILD/tools/api-classify" ]] || fail "$PNM_BUILD/tools/api-classify not found: run make check"
    cut -f2 "$TOY" | "$PNM_BUILD/tools/api-classify" "$M" 2 > api.tsv
    cmp fused.tsv api.tsv
}

@test "crf: int8 with an int8 tagging head (the transitions stay float): the toy task still, the mixed path alike" {
    assert_int8_toy_paths
}

@test "crf: tag probabilities are posterior marginals, in (0, 1], the most probable above 0.5 here" {
    cut -f2 "$TOY" | head -20 | classify_text "$M" -F tsv --probs > probs.tsv
    # Fourth column: one probability per word.
    run awk -F'\t' '{ n = split($4, p, " "); for (i = 1; i <= n; i++)
        if (!(p[i] > 0.5 && p[i] <= 1)) print NR ": " p[i] }' probs.tsv
    assert_success
    assert_output ""
}

@test "crf: the tags are the same with and without --probs (no forward-backward without)" {
    cut -f2 "$TOY" | features_of "$M" > toy.feat
    pnm-classify -m "$M" -F tsv toy.feat > plain.tsv
    pnm-classify -m "$M" -F tsv --probs toy.feat | cut -f1-3 |
        sed 's/ [01]\.[0-9]\{4\}//g' > probs.tsv
    [ "$(wc -l < plain.tsv)" -eq "$(wc -l < "$TOY")" ]
    cmp plain.tsv probs.tsv
    # JSON carries the probabilities (the marginals) and the same tags.
    run bash -c "pnm-classify -m '$M' -F json toy.feat | head -1"
    assert_output --regexp '"tag_probs":\[[01]'
}

@test "crf: the pipeline's predictions score exactly what pnm-train reported (ATIS, 120 tags)" {
    need_atis
    assert_scores_as_trained "$DATA/atis" --preset x-small -e 2 -t 2 --crf
}

@test "crf: refused without tags" {
    cut -f1,2 "$TOY" > classify.tsv
    run -1 train_tiny classify.tsv out.pnm --crf
    assert_output --partial "a CRF needs tags"
    assert [ ! -e out.pnm ]
}

@test "crf: a checkpoint keeps the CRF: resumed, it writes the same model; --crf cannot change it" {
    # A model that cannot be written leaves the run's checkpoint.
    run -1 train_tiny "$TOY" /dev/full --crf --checkpoint run.ckpt
    run -0 pnm-train -q --resume run.ckpt -o resumed.pnm "$TOY"
    train_tiny "$TOY" direct.pnm --crf
    cmp resumed.pnm direct.pnm
    run -2 pnm-train --resume run.ckpt --crf -o again.pnm "$TOY"
    assert_output --partial "--crf: the checkpoint of --resume fixes the model"
}
