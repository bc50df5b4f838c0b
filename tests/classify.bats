#!/usr/bin/env bats
# pnm-classify: hidden or feature stream + model -> one line per input line.

bats_require_minimum_version 1.5.0

load helper

setup_file() {
    toy_setup_file
    local d=$BATS_FILE_TMPDIR
    # M: the toy model, trained enough to get the toy task right.
    train_tiny "$d/toy.tsv" "$d/m.pnm" -e 20
    # S4: s = 4 words.
    train_tiny "$d/toy.tsv" "$d/s4.pnm" -s 4
    # A and B: the same vocabulary and projection, different weights.
    train_tiny "$d/toy.tsv" "$d/a.pnm" -m "$VOCAB" -e 1
    train_tiny "$d/toy.tsv" "$d/b.pnm" -m "$VOCAB" -e 1 --seed 2
    # Queries: empty and blank lines included.
    {
        echo "play some jazz"
        echo
        echo "will it rain in new york tomorrow"
        printf ' \t \n'
        echo "remember to buy peanut butter"
        echo "i want to hear soul"
        echo
    } > "$d/q.txt"
    features_of "$d/m.pnm" < "$d/q.txt" > "$d/q.feat"
    pnm-mix -m "$d/m.pnm" "$d/q.feat" > "$d/q.hid"
    if [[ -f "$DATA/atis/train.tsv" && -f "$DATA/atis/test.tsv" ]]; then
        pnm-train --preset x-small -e 1 -t 2 -q -o "$d/atis.pnm" "$DATA/atis/train.tsv"
    fi
}

setup() {
    M="$BATS_FILE_TMPDIR/m.pnm"
    Q="$BATS_FILE_TMPDIR/q.txt"
    QF="$BATS_FILE_TMPDIR/q.feat"
    QH="$BATS_FILE_TMPDIR/q.hid"
    TOY="$BATS_FILE_TMPDIR/toy.tsv"
    LABELS='^(PlayMusic|GetWeather|AddToList)$'
    export M Q QF QH TOY
    cd "$BATS_TEST_TMPDIR"
}

# words_per_line FILE: the number of words of every line of FILE.
words_per_line() {
    awk '{ print NF }' "$1"
}

# ---- options ---------------------------------------------------------------

@test "classify: --help prints the usage and exits 0" {
    run --separate-stderr pnm-classify --help
    assert_success
    assert_line --index 0 "Usage: pnm-classify [-m MODEL] [OPTION]... [FILE]"
    assert_output --partial "--top-k=K"
    assert_output --partial "--format=FORMAT"
    assert_output --partial "--probs"
    assert_stderr_empty
    run --separate-stderr pnm-classify --version
    assert_success
    assert_output --regexp '^pnm-classify \(pnm\) [0-9]+\.[0-9]+'
}

@test "classify: usage errors exit 2: no model, bad --format, bad --top-k, unknown option" {
    run --separate-stderr env -u PNM_MODEL "$(lone_program pnm-classify)" "$QF"
    assert_failure 2
    assert_stderr_contains "no model"
    assert_stderr_contains "Try 'pnm-classify --help'"
    assert_output ""
    run --separate-stderr pnm-classify -m "$M" --format xml "$QF"
    assert_failure 2
    assert_stderr_contains "--format: 'xml'"
    assert_output ""
    run --separate-stderr pnm-classify -m "$M" -F JSON "$QF"
    assert_failure 2
    assert_stderr_contains "--format"
    run --separate-stderr pnm-classify -m "$M" --top-k 0 "$QF"
    assert_failure 2
    assert_stderr_contains "--top-k"
    run --separate-stderr pnm-classify -m "$M" -k x "$QF"
    assert_failure 2
    assert_stderr_contains "--top-k"
    run --separate-stderr pnm-classify -m "$M" --no-such-option "$QF"
    assert_failure 2
    assert_output ""
    run --separate-stderr pnm-classify -m "$M" "$QF" "$QF"
    assert_failure 2
    assert_stderr_contains "one input stream at most"
}

# ---- the pipeline ------------------------------------------------------------

@test "classify: tokenize | project | classify: one line per input line, a label and a tag per word" {
    run --separate-stderr classify_text "$M" < "$Q"
    assert_success
    assert_stderr_empty
    [ "${#lines[@]}" -eq "$(wc -l < "$Q")" ]
    local -a words
    mapfile -t words < <(words_per_line "$Q")
    local n label tags
    for n in "${!lines[@]}"; do
        label=${lines[n]%%$'\t'*}
        tags=${lines[n]#*$'\t'}
        [[ "${lines[n]}" == *$'\t'* ]] || { echo "line $((n + 1)): no TAB: ${lines[n]}"; false; }
        [[ "$label" =~ $LABELS ]] || { echo "line $((n + 1)): label '$label'"; false; }
        [ "$(wc -w <<< "$tags")" -eq "${words[n]}" ] ||
            { echo "line $((n + 1)): '$tags' for ${words[n]} words"; false; }
    done
    # Empty and blank lines: a label, no tags.
    [ "${lines[1]#*$'\t'}" = "" ]
    [ "${lines[3]#*$'\t'}" = "" ]
    # The toy model has learned its task.
    assert_line --index 0 $'PlayMusic\tO O B-genre'
    assert_line --index 2 $'GetWeather\tO O O O B-city I-city B-date'
    assert_line --index 4 $'AddToList\tO O O B-item I-item'
}

@test "classify: the stream from a FILE argument, stdin and - are the same" {
    local a b c
    a=$(pnm-classify -m "$M" "$QF")
    b=$(pnm-classify -m "$M" < "$QF")
    c=$(pnm-classify -m "$M" - < "$QF")
    [ -n "$a" ]
    [ "$a" = "$b" ]
    [ "$a" = "$c" ]
}

@test "classify: through pnm-mix the output is byte-identical to the fused path" {
    local opts
    cut -f2 "$TOY" | cat - "$Q" | features_of "$M" > all.feat
    pnm-mix -m "$M" all.feat > all.hid
    for opts in "" "-p" "--probs -F json -k 3" "-F tsv -p" "-k 2" "-F json"; do
        # shellcheck disable=SC2086
        pnm-classify -m "$M" $opts all.feat > fused.txt
        # shellcheck disable=SC2086
        pnm-classify -m "$M" $opts all.hid > mixed.txt
        [ "$(wc -l < fused.txt)" -eq 67 ]
        cmp fused.txt mixed.txt || { echo "options '$opts' differ"; false; }
    done
    # The same through one pipe of five programs.
    run bash -c 'set -o pipefail; cut -f2 "$TOY" | pnm-tokenize -m "$M" | pnm-project -m "$M" |
        pnm-mix -m "$M" | pnm-classify -m "$M" --probs -F json -k 3'
    assert_success
    assert_output "$(cut -f2 "$TOY" | classify_text "$M" --probs -F json -k 3)"
}

@test "classify: a feature stream compressed with -z reads the same" {
    pnm-tokenize -m "$M" < "$Q" | pnm-project -m "$M" -z > q.zfeat
    [ "$(od -An -tx1 -N4 q.zfeat | tr -d ' \n')" = "28b52ffd" ]
    run pnm-classify -m "$M" -p q.zfeat
    assert_success
    assert_output "$(pnm-classify -m "$M" -p "$QF")"
}

# ---- streams that do not fit -------------------------------------------------

@test "classify: a hidden stream made by another model is refused (exit 1)" {
    local a="$BATS_FILE_TMPDIR/a.pnm" b="$BATS_FILE_TMPDIR/b.pnm"
    pnm-tokenize -m "$a" < "$Q" | pnm-project -m "$a" | pnm-mix -m "$a" > a.hid
    # Model B has the same vocabulary and projection, so its features fit...
    pnm-tokenize -m "$a" < "$Q" | pnm-project -m "$a" | pnm-classify -m "$b" > /dev/null
    # ...but not A's hidden stream.
    run --separate-stderr pnm-classify -m "$b" a.hid
    assert_failure 1
    assert_stderr_contains "a.hid"
    assert_stderr_contains "another model"
    assert_output ""
    run --separate-stderr pnm-classify -m "$a" a.hid
    assert_success
    [ "${#lines[@]}" -eq 7 ]
}

@test "classify: a feature stream from another vocabulary does not fit (exit 1)" {
    pnm-tokenize -m "$VOCAB" < "$Q" | pnm-project > other.feat
    run --separate-stderr pnm-classify -m "$M" other.feat
    assert_failure 1
    assert_stderr_contains "other.feat: stream does not fit"
    assert_output ""
}

@test "classify: a tokens stream is refused with a hint to run pnm-project" {
    pnm-tokenize -m "$M" < "$Q" > q.tok
    run --separate-stderr pnm-classify -m "$M" q.tok
    assert_failure 1
    assert_stderr_contains "tokens stream"
    assert_stderr_contains "pnm-project"
    assert_output ""
}

@test "classify: a truncated hidden stream: the complete records, then exit 1; -o leaves nothing" {
    cut -f2 "$TOY" | features_of "$M" | pnm-mix -m "$M" > toy.hid
    head -c "$(( $(byte_size toy.hid) / 2 ))" toy.hid > half.hid
    run --separate-stderr pnm-classify -m "$M" half.hid
    assert_failure 1
    assert_stderr_contains "half.hid"
    assert_stderr_contains "truncated"
    [ "${#lines[@]}" -gt 0 ]
    [ "${#lines[@]}" -lt 60 ]
    [ "$output" = "$(pnm-classify -m "$M" toy.hid | head -n "${#lines[@]}")" ]
    run --separate-stderr pnm-classify -m "$M" -o out.txt half.hid
    assert_failure 1
    assert_no_output_left out.txt
}

# ---- output formats ------------------------------------------------------------

@test "classify: --format tsv: the line number, the label, the tags" {
    run --separate-stderr pnm-classify -m "$M" --format tsv "$QF"
    assert_success
    [ "${#lines[@]}" -eq 7 ]
    assert_line --index 0 $'1\tPlayMusic\tO O B-genre'
    assert_line --index 1 --regexp $'^2\t[A-Za-z]+\t$'
    # Line numbers first, 1..7, three columns, as many tags as words.
    run bash -c "pnm-classify -m '$M' -F tsv '$QF' | paste - <(awk '{ print NF }' '$Q') |
        awk -F'\t' '\$1 != NR || NF != 4 || split(\$3, t, \" \") != \$4 { print \"bad:\", \$0 }'"
    assert_success
    assert_output ""
    # With --probs: LINE, LABEL PROB, TAGS, TAG_PROBS.
    run pnm-classify -m "$M" -F tsv -p "$QF"
    assert_success
    assert_line --index 0 --regexp $'^1\tPlayMusic 0\\.[0-9]{4}\tO O B-genre\t[01]\\.[0-9]{4} [01]\\.[0-9]{4} [01]\\.[0-9]{4}$'
    assert_line --index 1 --regexp $'^2\t[A-Za-z]+ [01]\\.[0-9]{4}\t\t$'
}

@test "classify: --format json: one object per line starting with {\"line\":" {
    run --separate-stderr pnm-classify -m "$M" --format json "$QF"
    assert_success
    [ "${#lines[@]}" -eq 7 ]
    local n
    for n in "${!lines[@]}"; do
        [[ "${lines[n]}" == '{"line":'"$((n + 1))"',"label":"'* ]] || { echo "${lines[n]}"; false; }
        [[ "${lines[n]}" == *'}' ]]
    done
    assert_line --index 0 --regexp '^\{"line":1,"label":"PlayMusic","prob":0\.[0-9]+,"tags":\["O","O","B-genre"\],"tag_probs":\[[0-9.e-]+,[0-9.e-]+,[0-9.e-]+\]\}$'
    assert_line --index 1 --regexp '^\{"line":2,"label":"[A-Za-z]+","prob":[0-9.e-]+,"tags":\[\],"tag_probs":\[\]\}$'
    # -k 3 adds the three best as "top".
    run pnm-classify -m "$M" -F json -k 3 "$QF"
    assert_line --index 0 --regexp '^\{"line":1,"label":"PlayMusic","prob":[0-9.e-]+,"top":\[\{"label":"PlayMusic","prob":[0-9.e-]+\},\{"label":"[A-Za-z]+","prob":[0-9.e-]+\},\{"label":"[A-Za-z]+","prob":[0-9.e-]+\}\],"tags":'
}

@test "classify: JSON escapes quotes and backslashes in labels" {
    cut -f2 "$TOY" | awk '{ print (NR % 2 ? "say\"hi\\" : "plain") "\t" $0 }' > odd.tsv
    train_tiny odd.tsv odd.pnm
    run --separate-stderr classify_text odd.pnm -F json -k 2 <<< "play some jazz"
    assert_success
    assert_output --partial '{"label":"say\"hi\\","prob":'
    assert_output --partial '{"label":"plain","prob":'
}

@test "classify: --top-k 3 prints 3 labels, each followed by its probability, best first" {
    run --separate-stderr pnm-classify -m "$M" --top-k 3 "$QF"
    assert_success
    [ "${#lines[@]}" -eq 7 ]
    local l head
    for l in "${lines[@]}"; do
        head=${l%%$'\t'*}
        # LABEL PROB LABEL PROB LABEL PROB; the three labels; probabilities
        # in [0,1], not increasing, summing to 1 (the model has 3 labels).
        awk '{
            if (NF != 6) exit 1
            seen[$1]; seen[$3]; seen[$5]
            if (!("PlayMusic" in seen) || !("GetWeather" in seen) || !("AddToList" in seen)) exit 2
            for (i = 2; i <= 6; i += 2) if ($i !~ /^[01]\.[0-9]+$/ || $i < 0 || $i > 1) exit 3
            if ($2 < $4 || $4 < $6) exit 4
            s = $2 + $4 + $6; if (s < 0.999 || s > 1.001) exit 5
        }' <<< "$head" || { echo "bad line: $l"; false; }
    done
    assert_line --index 0 --regexp $'^PlayMusic [01]\\.[0-9]{4} [A-Za-z]+ [01]\\.[0-9]{4} [A-Za-z]+ [01]\\.[0-9]{4}\tO O B-genre$'
    # More than there are labels: all of them.
    run pnm-classify -m "$M" -k 10 "$QF"
    assert_success
    assert_line --index 0 --regexp $'^PlayMusic [0-9.]+ [A-Za-z]+ [0-9.]+ [A-Za-z]+ [0-9.]+\tO O B-genre$'
}

@test "classify: --probs gives a probability in [0,1] after the label and every tag" {
    run --separate-stderr pnm-classify -m "$M" --probs "$QF"
    assert_success
    [ "${#lines[@]}" -eq 7 ]
    assert_line --index 0 --regexp $'^PlayMusic [01]\\.[0-9]{4}\tO [01]\\.[0-9]{4} O [01]\\.[0-9]{4} B-genre [01]\\.[0-9]{4}$'
    run bash -c "pnm-classify -m '$M' --probs '$QF' | tr '\t' ' ' |
        awk '{ for (i = 2; i <= NF; i += 2) if (\$i !~ /^[0-9.]+\$/ || \$i < 0 || \$i > 1) print NR \": \" \$0 }'"
    assert_success
    assert_output ""
    # The label's probability is the top-1 of -k 1 and at least 1/3.
    run bash -c "pnm-classify -m '$M' -p '$QF' | cut -f1 | awk '\$2 < 0.3333 { print }'"
    assert_output ""
}

@test "classify: words beyond s are tagged O" {
    local s4="$BATS_FILE_TMPDIR/s4.pnm" line="add milk bread eggs apples cheese rice"
    run --separate-stderr classify_text "$s4" <<< "$line"
    assert_success
    assert_output --regexp $'^[A-Za-z]+\t[^ ]+ [^ ]+ [^ ]+ [^ ]+ O O O$'
    # The same through pnm-mix, whose records keep only s rows.
    run bash -c "set -o pipefail; echo '$line' | pnm-tokenize -m '$s4' | pnm-project -m '$s4' | pnm-mix -m '$s4' | pnm-classify -m '$s4'"
    assert_success
    assert_output "$(classify_text "$s4" <<< "$line")"
    run bash -c "echo '$line' | pnm-tokenize -m '$s4' | pnm-project -m '$s4' | pnm-classify -m '$s4' -F json"
    assert_output --regexp '"tags":\["[^"]+","[^"]+","[^"]+","[^"]+","O","O","O"\]'
}

@test "classify: a classification-only model: no tags in any format" {
    cut -f1,2 "$TOY" > two.tsv
    train_tiny two.tsv two.pnm
    run classify_text two.pnm < "$Q"
    assert_success
    [ "${#lines[@]}" -eq 7 ]
    [[ "$output" != *$'\t'* ]]
    assert_line --index 0 --regexp "$LABELS"
    run classify_text two.pnm -F tsv < "$Q"
    assert_line --index 0 --regexp $'^1\t(PlayMusic|GetWeather|AddToList)$'
    run classify_text two.pnm -F json < "$Q"
    assert_line --index 0 --regexp '^\{"line":1,"label":"[A-Za-z]+","prob":[0-9.e-]+\}$'
}

# ---- files and pipes -------------------------------------------------------------

@test "classify: -o writes the file (and nothing on stdout); a missing directory fails" {
    run --separate-stderr pnm-classify -m "$M" -p -o out.txt "$QF"
    assert_success
    assert_output ""
    assert_stderr_empty
    [ "$(compgen -G "out.txt*")" = "out.txt" ]
    pnm-classify -m "$M" -p "$QF" | cmp - out.txt
    [ "$(wc -l < out.txt)" -eq 7 ]
    run --separate-stderr pnm-classify -m "$M" -o no/dir/out.txt "$QF"
    assert_failure 1
    assert_stderr_contains "no/dir/out.txt"
    assert_output ""
    [ ! -e no ]
}

@test "classify: | head -1 on a long input ends quietly" {
    run --separate-stderr bash -c 'set -o pipefail
        yes "play some jazz" | head -50000 | pnm-tokenize -m "$M" | pnm-project -m "$M" | pnm-classify -m "$M" | head -1
        echo "status ${PIPESTATUS[*]}"'
    assert_line --index 0 $'PlayMusic\tO O B-genre'
    [ "${#lines[@]}" -eq 2 ]
    assert_line --index 1 --regexp '^status (0|141) (0|141) (0|141) (0|141) (0|141) 0$'
    assert_stderr_empty
    run --separate-stderr bash -c 'set -o pipefail
        yes "play some jazz" | head -50000 | pnm-tokenize -m "$M" | pnm-project -m "$M" | pnm-mix -m "$M" | pnm-classify -m "$M" -F json -p | head -1
        echo "status ${PIPESTATUS[*]}"'
    assert_line --index 0 --regexp '^\{"line":1,"label":"PlayMusic"'
    assert_line --index 1 --regexp '^status (0|141) (0|141) (0|141) (0|141) (0|141) (0|141) 0$'
    assert_stderr_empty
}

@test "classify: writing to /dev/full fails with a write error" {
    [ -w /dev/full ] || skip "/dev/full not available"
    run --separate-stderr bash -c 'pnm-classify -m "$M" "$QF" > /dev/full'
    assert_failure 1
    assert_stderr_contains "write error"
}

# ---- the real data set -----------------------------------------------------------

@test "classify: ATIS x-small model over test.tsv: 893 lines, a tag per word" {
    need_atis
    [ -s "$BATS_FILE_TMPDIR/atis.pnm" ]
    local m="$BATS_FILE_TMPDIR/atis.pnm"
    run --separate-stderr bash -c "set -o pipefail; cut -f2 '$DATA/atis/test.tsv' |
        pnm-tokenize -m '$m' | pnm-project -m '$m' | pnm-classify -m '$m' > pred.txt"
    assert_success
    assert_stderr_empty
    [ "$(wc -l < pred.txt)" -eq 893 ]
    # Every label is an ATIS intent; every line has as many tags as words.
    run bash -c "cut -f1 pred.txt | grep -v '^atis_' | head -3"
    assert_output ""
    run bash -c "cut -f2 '$DATA/atis/test.tsv' | awk '{ print NF }' |
        paste - <(cut -f2 pred.txt | awk '{ print NF }') | awk '\$1 != \$2 { print NR \": \" \$0 }' | head -3"
    assert_output ""
}

@test "classify: ATIS: the tags are the same with and without --probs (decoded from the logits, or with the softmax)" {
    need_atis
    local m="$BATS_FILE_TMPDIR/atis.pnm"
    [ -s "$m" ]
    cut -f2 "$DATA/atis/test.tsv" | features_of "$m" > test.feat
    pnm-classify -m "$m" -F tsv test.feat > plain.tsv
    pnm-classify -m "$m" -F tsv --probs test.feat > probs.tsv
    [ "$(wc -l < plain.tsv)" -eq 893 ]
    cmp plain.tsv <(cut -f1-3 probs.tsv | sed 's/ [01]\.[0-9]\{4\}//g')
    # The text format prints each tag's probability after it: the tags alike.
    cmp <(pnm-classify -m "$m" test.feat | cut -f2) \
        <(pnm-classify -m "$m" --probs test.feat | cut -f2 | sed 's/ [01]\.[0-9]\{4\}//g')
}

@test "classify: the pipeline's predictions score exactly what pnm-train reported for its dev set" {
    need_atis
    assert_scores_as_trained "$DATA/atis" --preset x-small -e 2 -t 2
}
