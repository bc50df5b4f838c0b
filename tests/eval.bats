#!/usr/bin/env bats
# pnm-eval: pnm-classify's predictions + gold TSV -> accuracy, macro-F1,
# per-class scores, confusions, CoNLL slot F1, exact match. Every number
# below is computed by hand in the comments.

bats_require_minimum_version 1.5.0

load helper

setup_file() {
    if [[ ! -x "$PNM_BIN/pnm-eval" ]]; then
        echo "$PNM_BIN/pnm-eval not found: run make first" >&2
        return 1
    fi
    local d=$BATS_FILE_TMPDIR
    # Three classes, 10 lines ([gold][pred]):
    #            A  B  C   support
    #       A:   3  1  0   4          accuracy 6/10
    #       B:   0  2  1   3          F1: A 2*3/(4+5) = 2/3, B 2/3, C 2*1/(3+2) = 2/5
    #       C:   2  0  1   3          macro-F1 (2/3 + 2/3 + 2/5) / 3 = 26/45 = 57.78%
    #   pred:    5  3  2
    printf 'A\tx\nA\tx\nA\tx\nA\tx\nB\tx\nB\tx\nB\tx\nC\tx\nC\tx\nC\tx\n' > "$d/three.tsv"
    printf 'A\nA\nA\nB\nB\nB\nC\nA\nA\nC\n' > "$d/three.txt"
    # The same with --top-k 2 probabilities after each label.
    printf 'A 0.9 B 0.1\nA 0.8 C 0.1\nA 0.7 B 0.2\nB 0.6 A 0.3\nB 0.9 C 0.1\nB 0.5 C 0.4\nC 0.5 A 0.4\nA 0.9 C 0.1\nA 0.6 C 0.3\nC 0.7 B 0.2\n' \
        > "$d/three-k2.txt"
    # Joint task, one label L; spans (type, first word, last word):
    #   1 B-X I-X O  / I-X I-X O   I- without B-: same span      g 1 p 1 c 1
    #   2 B-X B-X    / B-X B-X     adjacent spans of one type    g 2 p 2 c 2  exact
    #   3 B-X B-X    / B-X I-X     two spans predicted as one    g 2 p 1 c 0
    #   4 B-X I-X    / B-Y I-Y     type mismatch                 g 1 p 1 c 0
    #   5 B-X I-X O  / B-X O O     boundary mismatch             g 1 p 1 c 0
    #   6 O B-X I-Y  / O B-X I-Y   I-Y after B-X: two spans      g 2 p 2 c 2  label wrong
    #   7 I-X O      / B-X O       I- opens a span               g 1 p 1 c 1
    # gold 10, predicted 9, correct 6: P 6/9 = 66.67%, R 6/10 = 60.00%,
    # F1 12/19 = 63.16%; accuracy 6/7 = 85.71%; exact 1/7 = 14.29%.
    {
        printf 'L\ta b c\tB-X I-X O\n'
        printf 'L\ta b\tB-X B-X\n'
        printf 'L\ta b\tB-X B-X\n'
        printf 'L\ta b\tB-X I-X\n'
        printf 'L\ta b c\tB-X I-X O\n'
        printf 'L\ta b c\tO B-X I-Y\n'
        printf 'L\ta b\tI-X O\n'
    } > "$d/bio.tsv"
    {
        printf 'L\tI-X I-X O\n'
        printf 'L\tB-X B-X\n'
        printf 'L\tB-X I-X\n'
        printf 'L\tB-Y I-Y\n'
        printf 'L\tB-X O O\n'
        printf 'M\tO B-X I-Y\n'
        printf 'L\tB-X O\n'
    } > "$d/bio.txt"
}

setup() {
    T=$BATS_FILE_TMPDIR
    export T
    cd "$BATS_TEST_TMPDIR"
}

# json_has KEY VALUE: the JSON report in $output has "KEY": VALUE.
json_has() {
    if ! grep -qF "\"$1\": $2" <<< "$output"; then
        batslib_print_kv_single_or_multi 8 expected "\"$1\": $2" output "$output" |
            batslib_decorate "the JSON lacks a key or value" | fail
    fi
}

# spans_of GOLD_TAGS PRED_TAGS: the slots object of a one-line joint report.
spans_of() {
    local words
    words=$(tr -s ' ' '\n' <<< "$1" | sed 's/.*/w/' | paste -sd' ')
    printf 'L\t%s\t%s\n' "$words" "$1" > one.tsv
    printf 'L\t%s\n' "$2" | pnm-eval --json one.tsv | grep -o '"slots": {[^}]*}'
}

# ---- options -------------------------------------------------------------------

@test "eval: --help prints the usage and exits 0; --version" {
    run --separate-stderr pnm-eval --help
    assert_success
    assert_line --index 0 "Usage: pnm-eval [OPTION]... GOLD.tsv [PREDICTIONS]"
    assert_output --partial "--format=FORMAT"
    assert_output --partial "--task=TASK"
    assert_output --partial "--json"
    assert_output --partial "--confusions=N"
    assert_stderr_empty
    run --separate-stderr pnm-eval --version
    assert_success
    assert_output --regexp '^pnm-eval \(pnm\) [0-9]+\.[0-9]+'
}

@test "eval: usage errors exit 2 and print nothing on stdout" {
    local args
    for args in "" "--format json $T/three.tsv" "--task both $T/three.tsv" \
        "-c x $T/three.tsv" "--no-such-option $T/three.tsv" "- -" \
        "$T/three.tsv $T/three.txt $T/three.txt"; do
        # shellcheck disable=SC2086
        run --separate-stderr pnm-eval $args < "$T/three.txt"
        assert_failure 2
        assert_output ""
        assert_stderr_contains "Try 'pnm-eval --help'"
    done
    run --separate-stderr pnm-eval
    assert_stderr_contains "no gold file"
    run --separate-stderr pnm-eval -F json "$T/three.tsv"
    assert_stderr_contains "--format: 'json' is not text or tsv"
    run --separate-stderr pnm-eval - - < /dev/null
    assert_stderr_contains "cannot both be standard input"
}

# ---- labels ----------------------------------------------------------------------

@test "eval: 3 classes: accuracy, macro-F1, per-class table by support, confusions" {
    run --separate-stderr pnm-eval "$T/three.tsv" "$T/three.txt"
    assert_success
    assert_stderr_empty
    assert_line --index 0 "examples        10 (classify task)"
    assert_line --index 1 "accuracy        60.00%  (6/10)"
    assert_line --index 2 "macro-F1        57.78%  (mean of 3 classes)"
    assert_line --index 3 "exact match     60.00%  (6/10)"
    refute_output --partial "slot"
    # precision, recall, F1: A 3/5 3/4 2/3; B 2/3 2/3 2/3; C 1/2 1/3 2/5.
    assert_line --index 4 "label  precision     recall         F1  support"
    assert_line --index 5 "A         60.00%     75.00%     66.67%        4"
    assert_line --index 6 "B         66.67%     66.67%     66.67%        3"
    assert_line --index 7 "C         50.00%     33.33%     40.00%        3"
    assert_line --index 8 "top confusions (gold -> predicted)"
    assert_line --index 9 "      2  C -> A"
    assert_line --index 10 "      1  A -> B"
    assert_line --index 11 "      1  B -> C"
    [ "${#lines[@]}" -eq 12 ]
}

@test "eval: labels followed by probabilities (--top-k, --probs) score the same" {
    run pnm-eval "$T/three.tsv" "$T/three-k2.txt"
    assert_success
    assert_output "$(pnm-eval "$T/three.tsv" "$T/three.txt")"
}

@test "eval: predictions from standard input, from a file and from - are the same" {
    local a b c
    a=$(pnm-eval "$T/three.tsv" "$T/three.txt")
    b=$(pnm-eval "$T/three.tsv" < "$T/three.txt")
    c=$(pnm-eval "$T/three.tsv" - < "$T/three.txt")
    [ -n "$a" ] && [ "$a" = "$b" ] && [ "$a" = "$c" ]
    # The gold from standard input.
    run pnm-eval - "$T/three.txt" < "$T/three.tsv"
    assert_success
    assert_output "$a"
}

@test "eval: --json has the same numbers as fractions, per_class and confusions arrays" {
    run --separate-stderr pnm-eval --json "$T/three.tsv" "$T/three.txt"
    assert_success
    assert_stderr_empty
    assert_line --index 0 "{"
    assert_line --index "$(( ${#lines[@]} - 1 ))" "}"
    json_has task '"classify"'
    json_has examples 10,
    json_has accuracy 0.6,
    json_has correct 6,
    json_has macro_f1 0.5777777778,
    json_has exact_match 0.6,
    json_has exact 6,
    json_has per_class '['
    json_has confusions '['
    assert_output --partial '{"label": "A", "precision": 0.6, "recall": 0.75, "f1": 0.6666666667, "support": 4, "predicted": 5}'
    assert_output --partial '{"label": "C", "precision": 0.5, "recall": 0.3333333333, "f1": 0.4, "support": 3, "predicted": 2}'
    assert_output --partial '{"gold": "C", "predicted": "A", "count": 2}'
    refute_output --partial '"slots"'
    # --confusions limits both forms.
    run pnm-eval --json -c 1 "$T/three.tsv" "$T/three.txt"
    assert_output --partial '"C", "predicted": "A"'
    refute_output --partial '"A", "predicted": "B"'
    run pnm-eval --confusions 0 "$T/three.tsv" "$T/three.txt"
    refute_output --partial "confusions"
}

@test "eval: a gold label never predicted and a predicted label not in gold count as errors" {
    printf 'A\tx\nB\tx\n' > g.tsv
    # Classes A (F1 1), B (F1 0: never predicted), Z (F1 0: not in gold).
    run --separate-stderr pnm-eval g.tsv <<< $'A\nZ'
    assert_success
    assert_line --index 1 "accuracy        50.00%  (1/2)"
    assert_line --index 2 "macro-F1        33.33%  (mean of 3 classes)"
    assert_line "Z          0.00%      0.00%      0.00%        0"
    assert_line "      1  B -> Z"
}

# ---- slots -------------------------------------------------------------------------

@test "eval: BIO spans: I- without B-, adjacent B-X B-X, type and boundary mismatches" {
    run --separate-stderr pnm-eval "$T/bio.tsv" "$T/bio.txt"
    assert_success
    assert_stderr_empty
    assert_line --index 0 "examples        7 (joint task)"
    assert_line --index 1 "accuracy        85.71%  (6/7)"
    assert_line "slot precision  66.67%  (6/9 predicted spans)"
    assert_line "slot recall     60.00%  (6/10 gold spans)"
    assert_line "slot F1         63.16%"
    assert_line "exact match     14.29%  (1/7)"
    assert_line "      1  L -> M"
    run pnm-eval --json "$T/bio.tsv" "$T/bio.txt"
    json_has slots '{"precision": 0.6666666667, "recall": 0.6, "f1": 0.6315789474, "gold": 10, "predicted": 9, "correct": 6}'
    json_has exact_match 0.1428571429,
}

@test "eval: BIO spans one case at a time (gold, predicted, correct)" {
    # I- without B- starts a span: I-X I-X is the span of B-X I-X.
    run spans_of "B-X I-X O" "I-X I-X O"
    assert_output --partial '"gold": 1, "predicted": 1, "correct": 1'
    run spans_of "I-X O" "B-X O"
    assert_output --partial '"gold": 1, "predicted": 1, "correct": 1'
    # I-X after O, or after another type, starts a new span.
    run spans_of "B-X O I-X" "B-X I-X I-X"
    assert_output --partial '"gold": 2, "predicted": 1, "correct": 0'
    run spans_of "B-X I-Y" "B-X I-Y"
    assert_output --partial '"gold": 2, "predicted": 2, "correct": 2'
    # Adjacent spans of the same type.
    run spans_of "B-X B-X" "B-X B-X"
    assert_output --partial '"gold": 2, "predicted": 2, "correct": 2'
    run spans_of "B-X B-X" "B-X I-X"
    assert_output --partial '"gold": 2, "predicted": 1, "correct": 0'
    # Type mismatch, then boundary mismatch on either end.
    run spans_of "B-X I-X" "B-Y I-Y"
    assert_output --partial '"gold": 1, "predicted": 1, "correct": 0'
    run spans_of "B-X I-X O" "B-X O O"
    assert_output --partial '"gold": 1, "predicted": 1, "correct": 0'
    run spans_of "O B-X I-X" "B-X I-X I-X"
    assert_output --partial '"gold": 1, "predicted": 1, "correct": 0'
    # No spans at all: P = R = F1 = 0, not NaN.
    run spans_of "O O" "O O"
    assert_output '"slots": {"precision": 0, "recall": 0, "f1": 0, "gold": 0, "predicted": 0, "correct": 0}'
}

@test "eval: tags followed by probabilities (--probs) and the tsv format score the same" {
    local want
    want=$(pnm-eval "$T/bio.tsv" "$T/bio.txt")
    # Text with --probs -k 2: LABEL PROB LABEL PROB TAB TAG PROB TAG PROB ...
    awk -F'\t' '{ n = split($2, t, " "); s = "";
                  for (i = 1; i <= n; i++) s = s (i > 1 ? " " : "") t[i] " 0." i;
                  print $1 " 0.9000 Q 0.0100\t" s }' "$T/bio.txt" > probs.txt
    run pnm-eval "$T/bio.tsv" probs.txt
    assert_success
    assert_output "$want"
    # tsv with --probs: LINE TAB LABELS TAB TAGS TAB TAG_PROBS
    awk -F'\t' '{ print NR "\t" $1 " 0.9000\t" $2 "\t0.5 0.5 0.5" }' "$T/bio.txt" > pred.tsv
    run pnm-eval -F tsv "$T/bio.tsv" pred.tsv
    assert_success
    assert_output "$want"
    # Read as text, tsv output is refused with a hint.
    run --separate-stderr pnm-eval "$T/bio.tsv" pred.tsv
    assert_failure 1
    assert_stderr_contains "pred.tsv: line 1 has more than one tab"
    assert_stderr_contains "--format tsv"
}

@test "eval: --task tag and --task classify score one side of joint data" {
    run pnm-eval --task tag "$T/bio.tsv" "$T/bio.txt"
    assert_success
    assert_line --index 0 "examples        7 (tag task)"
    assert_line "slot F1         63.16%"
    assert_line "exact match     28.57%  (2/7)"
    refute_output --partial "accuracy"
    run pnm-eval --task tag --json "$T/bio.tsv" "$T/bio.txt"
    refute_output --partial '"per_class"'
    json_has exact 2
    run pnm-eval --task classify "$T/bio.tsv" "$T/bio.txt"
    assert_success
    assert_line "exact match     85.71%  (6/7)"
    refute_output --partial "slot"
}

@test "eval: a tagging-only model's lines (tags alone, with or without probabilities)" {
    printf 'a b c\tB-X I-X O\nd e\tO B-Y\n' > tag.tsv
    run pnm-eval --task tag tag.tsv <<< $'B-X I-X O\nO B-Y'
    assert_success
    assert_line "slot F1         100.00%"
    assert_line "exact match     100.00%  (2/2)"
    # With probabilities; the second line predicts B-Z: spans 2 gold, 2
    # predicted, 1 correct.
    run pnm-eval --task tag tag.tsv <<< $'B-X 0.9 I-X 0.8 O 0.7\nO 0.5 B-Z 0.25'
    assert_success
    assert_line "slot precision  50.00%  (1/2 predicted spans)"
    assert_line "exact match     50.00%  (1/2)"
}

# ---- bad input -----------------------------------------------------------------------

@test "eval: different line counts: exit 1, both counts in the message, no report" {
    run --separate-stderr pnm-eval "$T/three.tsv" <<< $'A\nB\nC'
    assert_failure 1
    assert_output ""
    assert_stderr_contains "three.tsv has 10 lines but standard input has 3"
    head -n 9 "$T/three.txt" > short.txt
    run --separate-stderr pnm-eval "$T/three.tsv" short.txt
    assert_failure 1
    assert_stderr_contains "has 10 lines but short.txt has 9"
    cat "$T/three.txt" "$T/three.txt" > long.txt
    run --separate-stderr pnm-eval "$T/three.tsv" long.txt
    assert_failure 1
    assert_stderr_contains "has 10 lines but long.txt has 20"
}

@test "eval: a tag count other than the gold word count names the line" {
    sed '4s/.*/L\tB-X I-X I-X/' "$T/bio.txt" > bad.txt
    run --separate-stderr pnm-eval "$T/bio.tsv" bad.txt
    assert_failure 1
    assert_output ""
    assert_stderr_contains "bad.txt: line 4 has 3 tags, but line 4 of $T/bio.tsv has 2 words"
    # A joint prediction without its tags.
    sed '2s/.*/L/' "$T/bio.txt" > bad.txt
    run --separate-stderr pnm-eval "$T/bio.tsv" bad.txt
    assert_failure 1
    assert_stderr_contains "bad.txt: line 2 has 0 tags"
}

@test "eval: unparsable prediction lines name the line" {
    sed '3s/.*//' "$T/three.txt" > empty.txt
    run --separate-stderr pnm-eval "$T/three.tsv" empty.txt
    assert_failure 1
    assert_output ""
    assert_stderr_contains "empty.txt: line 3 has no label (empty line)"
    sed '5s/.*/ B/' "$T/three.txt" > blank.txt
    run --separate-stderr pnm-eval "$T/three.tsv" blank.txt
    assert_failure 1
    assert_stderr_contains "blank.txt: line 5 has no label"
    sed '6s/.*/L\tO B-X Z-Y/' "$T/bio.txt" > badtag.txt
    run --separate-stderr pnm-eval "$T/bio.tsv" badtag.txt
    assert_failure 1
    assert_stderr_contains "badtag.txt: line 6"
    assert_stderr_contains '"Z-Y" is not O, B-TYPE or I-TYPE'
    # tsv: the LINE column must be the line's own number.
    awk -F'\t' '{ print (NR == 2 ? 7 : NR) "\t" $1 }' "$T/three.txt" > pred.tsv
    run --separate-stderr pnm-eval -F tsv "$T/three.tsv" pred.tsv
    assert_failure 1
    assert_stderr_contains 'pred.tsv: line 2: the LINE column is "7", expected 2'
}

@test "eval: bad gold data names the line" {
    printf 'A\ta b\tO O\nB\ta b\tO\n' > g.tsv
    run --separate-stderr pnm-eval g.tsv <<< $'A\tO O\nB\tO'
    assert_failure 1
    assert_stderr_contains "g.tsv: line 2 has 2 words but 1 tags"
    printf 'A\tx\ty\tz\n' > g4.tsv
    run --separate-stderr pnm-eval g4.tsv <<< 'A'
    assert_failure 1
    assert_stderr_contains "g4.tsv: line 1 has 4 tab-separated columns"
    assert_stderr_contains "--task"
    : > g0.tsv
    run --separate-stderr pnm-eval g0.tsv < /dev/null
    assert_failure 1
    assert_stderr_contains "g0.tsv: no examples"
}

@test "eval: missing files: exit 1 with the file's name" {
    run --separate-stderr pnm-eval no-such-gold.tsv "$T/three.txt"
    assert_failure 1
    assert_output ""
    assert_stderr_contains "no-such-gold.tsv: No such file or directory"
    run --separate-stderr pnm-eval "$T/three.tsv" no-such-pred.txt
    assert_failure 1
    assert_stderr_contains "no-such-pred.txt: No such file or directory"
}

@test "eval: -o writes the report whole; a failed run leaves nothing" {
    run --separate-stderr pnm-eval -o report.txt "$T/three.tsv" "$T/three.txt"
    assert_success
    assert_output ""
    [ "$(cat report.txt)" = "$(pnm-eval "$T/three.tsv" "$T/three.txt")" ]
    run --separate-stderr pnm-eval -o failed.txt "$T/three.tsv" <<< 'A'
    assert_failure 1
    assert_no_output_left failed.txt
}

# ---- real data and real models ----------------------------------------------------------

@test "eval: ATIS test gold reformatted as predictions scores 100% (skipped without the data)" {
    need_atis
    local test=$DATA/atis/test.tsv n
    n=$(wc -l < "$test")
    run --separate-stderr bash -c "awk -F'\t' '{print \$1 \"\t\" \$3}' '$test' | pnm-eval '$test'"
    assert_success
    assert_stderr_empty
    assert_line --index 0 "examples        $n (joint task)"
    assert_line --index 1 "accuracy        100.00%  ($n/$n)"
    assert_line --index 2 --regexp '^macro-F1        100\.00%'
    assert_line --regexp '^slot F1         100\.00%$'
    assert_line "exact match     100.00%  ($n/$n)"
    assert_line "  none"
}

@test "eval: a toy model through pnm-classify: text, --probs, --top-k and tsv agree" {
    need_model_programs
    toy_tsv > toy.tsv
    train_tiny toy.tsv m.pnm -e 20
    cut -f2 toy.tsv | features_of m.pnm > toy.feat
    pnm-classify -m m.pnm toy.feat > plain.txt
    run --separate-stderr pnm-eval toy.tsv plain.txt
    assert_success
    assert_stderr_empty
    assert_line --index 0 "examples        60 (joint task)"
    local want=$output opts
    for opts in "-p" "-k 3" "-p -k 2"; do
        # shellcheck disable=SC2086
        pnm-classify -m m.pnm $opts toy.feat > pred.txt
        run pnm-eval toy.tsv pred.txt
        assert_output "$want"
        # shellcheck disable=SC2086
        pnm-classify -m m.pnm $opts -F tsv toy.feat > pred.tsv
        run pnm-eval -F tsv toy.tsv pred.tsv
        assert_output "$want"
    done
    # The toy model has learned its task (see classify.bats).
    assert_line --regexp '^accuracy        (9[0-9]|100)\.[0-9]{2}%'
}
