#!/usr/bin/env bats
# pnm-train: labelled TSV -> model file.

bats_require_minimum_version 1.5.0

load helper

setup_file() {
    need_model_programs
    make_vocab
    toy_tsv > "$BATS_FILE_TMPDIR/toy.tsv"
}

setup() {
    TOY="$BATS_FILE_TMPDIR/toy.tsv"
    # Every test works in its own directory, so "nothing left" is checkable.
    mkdir "$BATS_TEST_TMPDIR/w"
    cd "$BATS_TEST_TMPDIR/w"
}

# ---- options ---------------------------------------------------------------

@test "train: --help prints the usage and exits 0" {
    run --separate-stderr pnm-train --help
    assert_success
    assert_line --index 0 "Usage: pnm-train [OPTION]... TRAIN.tsv"
    assert_output --partial "--preset=NAME"
    assert_output --partial "x-small"
    assert_output --partial "--epochs=N"
    assert_output --partial "--task=TASK"
    assert_output --partial "LABEL<TAB>TEXT<TAB>TAGS"
    assert_stderr_empty
}

@test "train: --version names the program and exits 0" {
    run --separate-stderr pnm-train --version
    assert_success
    assert_output --regexp '^pnm-train \(pnm\) [0-9]+\.[0-9]+'
    assert_stderr_empty
}

@test "train: no training file is a usage error (exit 2)" {
    run --separate-stderr pnm-train -q
    assert_failure 2
    assert_stderr_contains "no training file"
    assert_stderr_contains "Try 'pnm-train --help'"
    assert_output ""
    run --separate-stderr pnm-train -q "$TOY" "$TOY"
    assert_failure 2
    assert_stderr_contains "one training file only"
    only_files
}

@test "train: an unknown option is a usage error (exit 2)" {
    run --separate-stderr pnm-train --no-such-option "$TOY"
    assert_failure 2
    assert_stderr_contains "Try 'pnm-train --help'"
    assert_output ""
    only_files
}

@test "train: out-of-range numbers and unknown names exit 2 and name the option" {
    run --separate-stderr pnm-train --epochs 0 "$TOY"
    assert_failure 2
    assert_stderr_contains "--epochs"
    run --separate-stderr pnm-train --dropout 2 "$TOY"
    assert_failure 2
    assert_stderr_contains "--dropout"
    run --separate-stderr pnm-train --dropout abc "$TOY"
    assert_failure 2
    assert_stderr_contains "--dropout"
    run --separate-stderr pnm-train --preset huge "$TOY"
    assert_failure 2
    assert_stderr_contains "--preset: 'huge'"
    run --separate-stderr pnm-train --task nope "$TOY"
    assert_failure 2
    assert_stderr_contains "--task: 'nope'"
    run --separate-stderr pnm-train --lr -1 "$TOY"
    assert_failure 2
    assert_stderr_contains "--lr"
    run --separate-stderr pnm-train --threads 0 "$TOY"
    assert_failure 2
    assert_stderr_contains "--threads"
    # Nothing was trained or written (the default output is model.pnm here).
    only_files
}

# ---- bad training files ------------------------------------------------------

@test "train: a missing training file fails (exit 1) naming it" {
    run --separate-stderr pnm-train -q -o m.pnm missing.tsv
    assert_failure 1
    assert_stderr_contains "missing.tsv"
    assert_stderr_contains "No such file"
    assert_output ""
    only_files
}

@test "train: tags not matching the words on line 3 fail naming line 3; nothing is left" {
    awk 'NR == 3 { sub(/ O O O$/, " O O") } 1' "$TOY" > fewer.tsv
    [ "$(sed -n 3p fewer.tsv | cut -f3 | wc -w)" -eq 4 ]
    run --separate-stderr pnm-train --preset x-small -e 1 -t 1 -o m.pnm fewer.tsv
    assert_failure 1
    assert_stderr_contains "fewer.tsv"
    assert_stderr_contains "line 3"
    assert_stderr_contains "tags"
    assert_output ""
    only_files fewer.tsv
    awk 'NR == 3 { $0 = $0 " O" } 1' "$TOY" > more.tsv
    run --separate-stderr pnm-train --preset x-small -e 1 -t 1 -o m.pnm more.tsv
    assert_failure 1
    assert_stderr_contains "more.tsv"
    assert_stderr_contains "line 3"
    only_files fewer.tsv more.tsv
}

@test "train: a first line of 4 or 1 columns is a clear error" {
    { printf 'PlayMusic\tplay jazz\tO B-genre\textra\n'; cat "$TOY"; } > four.tsv
    run --separate-stderr pnm-train -q --preset x-small -e 1 -o m.pnm four.tsv
    assert_failure 1
    assert_stderr_contains "four.tsv"
    assert_stderr_contains "line 1 has 4 tab-separated columns"
    assert_stderr_contains "expected LABEL TEXT"
    { printf 'play some jazz\n'; cat "$TOY"; } > one.tsv
    run --separate-stderr pnm-train -q --preset x-small -e 1 -o m.pnm one.tsv
    assert_failure 1
    assert_stderr_contains "one.tsv"
    assert_stderr_contains "line 1 has 1 tab-separated columns"
    only_files four.tsv one.tsv
}

@test "train: an empty training file fails with a clear message" {
    : > empty.tsv
    run --separate-stderr pnm-train -q --preset x-small -e 1 -o m.pnm empty.tsv
    assert_failure 1
    assert_stderr_contains "empty.tsv"
    assert_stderr_contains "no examples"
    only_files empty.tsv
}

# ---- progress ----------------------------------------------------------------

@test "train: stderr (not a TTY) has the parameter count, one line per epoch, then 'wrote'" {
    run --separate-stderr pnm-train --preset x-small -s 16 -e 3 --batch 32 -t 1 -o m.pnm "$TOY"
    assert_success
    assert_output ""
    [[ "$stderr" != *$'\r'* && "$stderr" != *$'\e'* ]]
    local -a err
    mapfile -t err <<< "$stderr"
    [ "${#err[@]}" -eq 5 ]
    [[ "${err[0]}" =~ ^pnm-train:\ ([0-9]+)\ parameters\ \(b=64\ .*s=16\ m=1024\ n=64\ w=1\)\; ]]
    # x-small is about 0.2M parameters (the paper's X-SMALL).
    local params=${BASH_REMATCH[1]}
    [ "$params" -gt 150000 ]
    [ "$params" -lt 300000 ]
    [[ "${err[0]}" == *"task joint, 3 labels, 7 tags;"* ]]
    [[ "${err[0]}" == *"60 training examples, 0 dev examples; 1 threads" ]]
    [[ "${err[1]}" =~ ^epoch\ 1/3:\ loss\ [0-9.]+,\ [0-9]+\ examples/s$ ]]
    [[ "${err[2]}" =~ ^epoch\ 2/3:\ loss\ [0-9.]+ ]]
    [[ "${err[3]}" =~ ^epoch\ 3/3:\ loss\ [0-9.]+ ]]
    [ "${err[4]}" = "pnm-train: wrote m.pnm" ]
    [ -s m.pnm ]
}

@test "train: the loss goes down on the toy task" {
    run --separate-stderr pnm-train --preset x-small -s 8 -e 10 --batch 32 -t 1 -o m.pnm "$TOY"
    assert_success
    local first last
    first=$(grep '^epoch 1/10:' <<< "$stderr" | sed 's/.*loss \([0-9.]*\),.*/\1/')
    last=$(grep '^epoch 10/10:' <<< "$stderr" | sed 's/.*loss \([0-9.]*\),.*/\1/')
    [ -n "$first" ]
    [ -n "$last" ]
    awk -v a="$first" -v b="$last" 'BEGIN { exit !(b < a / 2) }'
}

@test "train: --quiet prints nothing" {
    run --separate-stderr pnm-train --preset x-small -s 16 -e 2 -t 1 --quiet -o m.pnm "$TOY"
    assert_success
    assert_output ""
    assert_stderr_empty
    [ -s m.pnm ]
    only_files m.pnm
}

@test "train: -d scores the dev set every epoch and reports the kept epoch" {
    head -9 "$TOY" > dev.tsv
    run --separate-stderr pnm-train --preset x-small -s 16 -e 3 --batch 32 -t 1 -d dev.tsv -o m.pnm "$TOY"
    assert_success
    [[ "$stderr" == *"60 training examples, 9 dev examples"* ]]
    [ "$(grep -c '^epoch [1-3]/3: loss .*; dev accuracy [0-9.]*%, slot F1 [0-9.]*%, exact [0-9.]*%' <<< "$stderr")" -eq 3 ]
    assert_stderr_contains "pnm-train: wrote m.pnm; kept the best dev epoch: accuracy"
    # Epoch 1 is always the best so far.
    grep -q '^epoch 1/3: .* (best)$' <<< "$stderr"
}

@test "train: explicit sizes win over --preset, whatever the order" {
    run --separate-stderr pnm-train -b 32 --preset x-small -s 16 -e 1 -t 1 -o a.pnm "$TOY"
    assert_success
    assert_stderr_contains "(b=32 h_t=64 h_c=64 L=2 s=16"
    run --separate-stderr pnm-train --preset x-small -b 32 -L 1 -s 16 -e 1 -t 1 -o b.pnm "$TOY"
    assert_success
    assert_stderr_contains "(b=32 h_t=64 h_c=64 L=1 s=16"
}

# ---- the model file ------------------------------------------------------------

@test "train: -o into a directory that does not exist fails (exit 1) and leaves nothing" {
    run --separate-stderr train_tiny "$TOY" "$PWD/no/such/dir/m.pnm"
    assert_failure 1
    assert_stderr_contains "no/such/dir/m.pnm"
    assert_output ""
    only_files
}

@test "train: the model file is replaced atomically: a failed run keeps the old one" {
    train_tiny "$TOY" m.pnm
    cp m.pnm before.pnm
    awk 'NR == 3 { sub(/ O O O$/, " O O") } 1' "$TOY" > bad.tsv
    run --separate-stderr train_tiny bad.tsv m.pnm
    assert_failure 1
    cmp m.pnm before.pnm
    only_files m.pnm before.pnm bad.tsv
    # A successful run replaces it, leaving no temporary behind.
    train_tiny "$TOY" m.pnm --seed 7
    run cmp -s m.pnm before.pnm
    assert_failure 1
    only_files m.pnm before.pnm bad.tsv
}

@test "train: same seed and threads give byte-identical models; another seed does not" {
    train_tiny "$TOY" a.pnm
    train_tiny "$TOY" b.pnm
    cmp a.pnm b.pnm
    train_tiny "$TOY" c.pnm -t 2
    train_tiny "$TOY" d.pnm -t 2
    cmp c.pnm d.pnm
    train_tiny "$TOY" e.pnm --seed 2
    run cmp -s a.pnm e.pnm
    assert_failure 1
    # Different models predict with different probabilities.
    [ "$(classify_text a.pnm -p <<< "play some jazz")" != "$(classify_text e.pnm -p <<< "play some jazz")" ]
}

@test "train: -o - writes the model to standard output" {
    run bash -c "pnm-train --preset x-small -s 16 -e 1 --batch 32 -t 1 -q -o - '$TOY' > out.pnm"
    assert_success
    train_tiny "$TOY" file.pnm -e 1
    cmp out.pnm file.pnm
}

@test "train: a CRLF training file gives the same model as LF" {
    sed 's/$/\r/' "$TOY" > crlf.tsv
    train_tiny crlf.tsv crlf.pnm
    train_tiny "$TOY" lf.pnm
    cmp crlf.pnm lf.pnm
}

# ---- tasks -------------------------------------------------------------------

@test "train: --task classify on a 3-column file ignores the tags" {
    run --separate-stderr pnm-train --task classify --preset x-small -s 16 -e 3 -t 1 -o c.pnm "$TOY"
    assert_success
    assert_stderr_contains "task classify, 3 labels, 0 tags"
    run classify_text c.pnm <<< $'play some jazz\nweather in paris'
    assert_success
    [ "${#lines[@]}" -eq 2 ]
    [[ "$output" != *$'\t'* ]]
    assert_line --index 0 --regexp '^(PlayMusic|GetWeather|AddToList)$'
    assert_line --index 1 --regexp '^(PlayMusic|GetWeather|AddToList)$'
}

@test "train: a 2-column file trains a classification-only model (no TAB in the output)" {
    cut -f1,2 "$TOY" > two.tsv
    run --separate-stderr pnm-train --preset x-small -s 16 -e 3 -t 1 -o two.pnm two.tsv
    assert_success
    assert_stderr_contains "task classify, 3 labels, 0 tags"
    run classify_text two.pnm <<< $'play some jazz\n\nadd milk to my list'
    assert_success
    [ "${#lines[@]}" -eq 3 ]
    [[ "$output" != *$'\t'* ]]
    local l
    for l in "${lines[@]}"; do
        [[ "$l" =~ ^(PlayMusic|GetWeather|AddToList)$ ]]
    done
}

@test "train: --task tag on TEXT<TAB>TAGS trains a tagger: one tag per word, no label" {
    cut -f2,3 "$TOY" > tag.tsv
    run --separate-stderr pnm-train --task tag --preset x-small -s 16 -e 3 -t 1 -o tag.pnm tag.tsv
    assert_success
    assert_stderr_contains "task tag, 0 labels, 7 tags"
    run classify_text tag.pnm <<< $'play some jazz\nwill it rain in new york tomorrow'
    assert_success
    [[ "$output" != *$'\t'* ]]
    assert_line --index 0 --regexp '^[BIO][-a-z]* [BIO][-a-z]* [BIO][-a-z]*$'
    [ "$(wc -w <<< "${lines[1]}")" -eq 7 ]
}

@test "train: -m with an existing SentencePiece vocabulary" {
    run --separate-stderr pnm-train -m "$VOCAB" --preset x-small -s 16 -e 3 -t 1 -o v.pnm "$TOY"
    assert_success
    assert_stderr_contains "; a vocabulary of"
    [[ "$stderr" != *"learned"* ]]
    # The model carries that vocabulary: the same pieces either way.
    local text="remember to buy peanut butter"
    [ "$(pnm-tokenize -m v.pnm --pieces <<< "$text")" = "$(pnm-tokenize -m "$VOCAB" --pieces <<< "$text")" ]
    # So streams made with the plain vocabulary feed the model.
    run --separate-stderr bash -c "set -o pipefail; echo '$text' | pnm-tokenize -m '$VOCAB' | pnm-project | pnm-classify -m v.pnm"
    assert_success
    assert_output "$(classify_text v.pnm <<< "$text")"
    assert_output --regexp $'^(PlayMusic|GetWeather|AddToList)\t[^ ]+( [^ ]+){4}$'
    # A missing vocabulary is an error naming it.
    run --separate-stderr pnm-train -m "$BATS_TEST_TMPDIR/nope.model" -q -o w.pnm "$TOY"
    assert_failure 1
    assert_stderr_contains "nope.model"
    [ ! -e w.pnm ]
}

@test "train: the toy task is learned: 100% on its own training data through the pipeline" {
    pnm-train --preset x-small -s 8 -e 30 --batch 32 -t 1 -q -o toy.pnm "$TOY"
    cut -f2 "$TOY" | classify_text toy.pnm -F tsv > pred.tsv
    [ "$(wc -l < pred.tsv)" -eq 60 ]
    # pred.tsv: LINE LABEL TAGS; gold: LABEL TEXT TAGS.
    run bash -c "cut -f1,3 '$TOY' | paste - pred.tsv |
        awk -F'\t' '\$3 != NR || \$1 != \$4 || \$2 != \$5 { print NR \": \" \$0 }'"
    assert_success
    assert_output ""
}
