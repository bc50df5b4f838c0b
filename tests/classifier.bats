#!/usr/bin/env bats
# The embedding API (pnm_classifier_open(3)) against the programs: the same
# sentences through pnm_classify_batch (tests/tools/api-classify.c) and
# through pnm-tokenize | pnm-project | pnm-classify give the same lines, and
# so does examples/classify.c. Both are built by make check into $PNM_BUILD.

bats_require_minimum_version 1.5.0

load helper

PNM_BUILD="${PNM_BUILD:-$BATS_TEST_DIRNAME/../build}"

setup_file() {
    need_model_programs
    local d=$BATS_FILE_TMPDIR p
    for p in tools/api-classify examples/classify; do
        if [[ ! -x "$PNM_BUILD/$p" ]]; then
            echo "$PNM_BUILD/$p not found: run make check (or make examples)" >&2
            return 1
        fi
    done
    toy_tsv > "$d/toy.tsv"
    cut -f1,2 "$d/toy.tsv" > "$d/toy2.tsv"
    train_tiny "$d/toy.tsv" "$d/joint.pnm" -e 10
    train_tiny "$d/toy2.tsv" "$d/classify.pnm"
    # Past s = 16 words, blank, accented, repeated spaces, unknown words.
    {
        cut -f2 "$d/toy.tsv" | head -12
        echo "put bread and eggs and rice and milk and cheese and apples and peanut butter on my list please now"
        echo
        printf ' \t \n'
        echo "play   some   café crème    in   zürich"
        echo "xylophone quartz vexingly"
    } > "$d/q.txt"
}

setup() {
    Q="$BATS_FILE_TMPDIR/q.txt"
    cd "$BATS_TEST_TMPDIR"
}

# same_as_programs MODEL THREADS: the API's lines equal pnm-classify's.
same_as_programs() {
    classify_text "$1" --format tsv --probs < "$Q" > programs.tsv
    "$PNM_BUILD/tools/api-classify" "$1" "$2" < "$Q" > api.tsv
    [[ $(wc -l < api.tsv) -eq $(wc -l < "$Q") ]]
    diff programs.tsv api.tsv
}

@test "classifier: a joint model gives the programs' labels, tags and probabilities" {
    same_as_programs "$BATS_FILE_TMPDIR/joint.pnm" 1
}

@test "classifier: an int8 model (pnm-quantize) gives the programs' results" {
    pnm-quantize -o int8.pnm "$BATS_FILE_TMPDIR/joint.pnm"
    same_as_programs int8.pnm 2
}

@test "classifier: the same on 3 threads" {
    same_as_programs "$BATS_FILE_TMPDIR/joint.pnm" 3
}

@test "classifier: a classification-only model gives the programs' labels" {
    same_as_programs "$BATS_FILE_TMPDIR/classify.pnm" 2
}

@test "classifier: examples/classify prints what pnm-classify prints" {
    local m=$BATS_FILE_TMPDIR/joint.pnm line
    while IFS= read -r line; do
        run -0 "$PNM_BUILD/examples/classify" "$m" "$line"
        assert_output "$(printf '%s\n' "$line" | classify_text "$m")"
    done < "$Q"
}

@test "classifier: examples/classify on the toy task gets a sentence right" {
    run -0 "$PNM_BUILD/examples/classify" "$BATS_FILE_TMPDIR/joint.pnm" "weather in paris"
    assert_output "$(printf 'GetWeather\tO O B-city')"
}

@test "classifier: a missing model is one message naming it, status 1" {
    run --separate-stderr -1 "$PNM_BUILD/examples/classify" nothere.pnm "play some jazz"
    assert_output ""
    assert_stderr_contains "nothere.pnm"
}

@test "classifier: invalid UTF-8 is one message, status 1" {
    run --separate-stderr -1 "$PNM_BUILD/examples/classify" "$BATS_FILE_TMPDIR/joint.pnm" \
        "$(printf 'play \xff jazz')"
    assert_stderr_contains "byte 6: invalid UTF-8"
}
