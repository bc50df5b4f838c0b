#!/usr/bin/env bats
# pnm-mix: feature stream + model -> hidden stream.

bats_require_minimum_version 1.5.0

load helper

setup_file() {
    toy_setup_file
    local d=$BATS_FILE_TMPDIR
    # M: the toy model (x-small, b=64, s=16); its vocabulary is learned from toy.tsv.
    train_tiny "$d/toy.tsv" "$d/m.pnm"
    printf 'play some jazz\n\nweather in new york\n\t \nadd milk to my list\n' > "$d/q.txt"
    features_of "$d/m.pnm" < "$d/q.txt" > "$d/q.feat"
}

setup() {
    M="$BATS_FILE_TMPDIR/m.pnm"
    Q="$BATS_FILE_TMPDIR/q.txt"
    QF="$BATS_FILE_TMPDIR/q.feat"
    TOY="$BATS_FILE_TMPDIR/toy.tsv"
    export M Q QF TOY
    cd "$BATS_TEST_TMPDIR"
}

# records FILE: the record lines of a dumped stream (no header, no end line).
records() {
    pnm-dump "$1" | grep -v '^#'
}

# ---- options ---------------------------------------------------------------

@test "mix: --help prints the usage and exits 0" {
    run --separate-stderr pnm-mix --help
    assert_success
    assert_line --index 0 "Usage: pnm-mix [-m MODEL] [OPTION]... [FILE]"
    assert_output --partial "--model=FILE"
    assert_output --partial "--zstd"
    assert_output --partial "hidden stream"
    assert_stderr_empty
    run --separate-stderr pnm-mix --version
    assert_success
    assert_output --regexp '^pnm-mix \(pnm\) [0-9]+\.[0-9]+'
}

@test "mix: no -m and no default model is a usage error (exit 2)" {
    run --separate-stderr env -u PNM_MODEL "$(lone_program pnm-mix)" "$QF"
    assert_failure 2
    assert_stderr_contains "no model"
    assert_stderr_contains "Try 'pnm-mix --help'"
    assert_output ""
}

@test "mix: unknown options, two inputs and a bad --zstd level exit 2" {
    run --separate-stderr pnm-mix -m "$M" --no-such-option "$QF"
    assert_failure 2
    assert_stderr_contains "Try 'pnm-mix --help'"
    assert_output ""
    run --separate-stderr pnm-mix -m "$M" "$QF" "$QF"
    assert_failure 2
    assert_stderr_contains "one input stream at most"
    run --separate-stderr pnm-mix -m "$M" --zstd=20 "$QF"
    assert_failure 2
    assert_stderr_contains "--zstd"
    assert_output ""
}

# ---- streams that do not fit ---------------------------------------------------

@test "mix: a features stream from another vocabulary does not fit (exit 1)" {
    pnm-tokenize -m "$VOCAB" < "$Q" | pnm-project > "$BATS_TEST_TMPDIR/other.feat"
    run --separate-stderr pnm-mix -m "$M" "$BATS_TEST_TMPDIR/other.feat"
    assert_failure 1
    assert_stderr_contains "other.feat: stream does not fit"
    assert_stderr_contains "m.pnm"
    assert_stderr_contains "vocabulary"
    assert_output ""
}

@test "mix: a features stream with other projection settings does not fit (exit 1)" {
    pnm-tokenize -m "$M" < "$Q" > "$BATS_TEST_TMPDIR/q.tok"
    pnm-project --features 512 "$BATS_TEST_TMPDIR/q.tok" > "$BATS_TEST_TMPDIR/f512.feat"
    run --separate-stderr pnm-mix -m "$M" "$BATS_TEST_TMPDIR/f512.feat"
    assert_failure 1
    assert_stderr_contains "f512.feat: stream does not fit"
    assert_stderr_contains "m=512"
    assert_output ""
    pnm-project --window 2 "$BATS_TEST_TMPDIR/q.tok" > "$BATS_TEST_TMPDIR/w2.feat"
    run --separate-stderr pnm-mix -m "$M" "$BATS_TEST_TMPDIR/w2.feat"
    assert_failure 1
    assert_stderr_contains "does not fit"
    pnm-project --seed 9 "$BATS_TEST_TMPDIR/q.tok" > "$BATS_TEST_TMPDIR/s9.feat"
    run --separate-stderr pnm-mix -m "$M" "$BATS_TEST_TMPDIR/s9.feat"
    assert_failure 1
    assert_stderr_contains "does not fit"
    # The same tokens projected with the model's settings do fit.
    pnm-project --features 1024 "$BATS_TEST_TMPDIR/q.tok" | pnm-mix -m "$M" > /dev/null
}

@test "mix: a tokens stream is refused with a hint to run pnm-project" {
    pnm-tokenize -m "$M" < "$Q" > "$BATS_TEST_TMPDIR/q.tok"
    run --separate-stderr pnm-mix -m "$M" "$BATS_TEST_TMPDIR/q.tok"
    assert_failure 1
    assert_stderr_contains "tokens stream"
    assert_stderr_contains "pnm-project"
    assert_output ""
}

@test "mix: a hidden stream is not mixed again" {
    run --separate-stderr bash -c 'pnm-mix -m "$M" "$QF" | pnm-mix -m "$M"'
    assert_failure 1
    assert_stderr_contains "hidden stream"
    assert_output ""
}

@test "mix: empty input or text is not a stream (exit 1)" {
    run --separate-stderr pnm-mix -m "$M" < /dev/null
    assert_failure 1
    assert_stderr_contains "standard input"
    assert_output ""
    run --separate-stderr pnm-mix -m "$M" "$Q"
    assert_failure 1
    assert_stderr_contains "q.txt"
    assert_output ""
}

# ---- the hidden stream ---------------------------------------------------------

@test "mix: writes a hidden stream: kind hidden, the model's vocabulary, dim b=64, s=16" {
    pnm-mix -m "$M" "$QF" > "$BATS_TEST_TMPDIR/q.hid"
    run --separate-stderr pnm-dump -H "$BATS_TEST_TMPDIR/q.hid"
    assert_success
    assert_output --regexp '^# pnm hidden stream, version 1; vocabulary [0-9a-f]{16} \([0-9]+ pieces\); m=1024 n=64 w=1 seed=0; model [0-9a-f]{16}, b=64 s=16$'
    # The vocabulary is the one of the features stream it was made from.
    local vocab
    vocab=$(pnm-dump -H "$QF" | grep -o 'vocabulary [0-9a-f]*')
    assert_output --partial "; $vocab ("
    # In JSON: dim 64, and every row of every record has 64 values.
    run --separate-stderr pnm-dump -j "$BATS_TEST_TMPDIR/q.hid"
    assert_success
    assert_line --index 0 --partial '"kind":"hidden"'
    assert_line --index 0 --partial '"dim":64,"seq_len":16,'
    local rows
    rows=$(grep '^{"line"' <<< "$output" | grep -o '\[[^][]*\]')
    [ "$(wc -l <<< "$rows")" -ge 12 ]
    [ "$(awk -F, 'NF != 64' <<< "$rows" | wc -l)" -eq 0 ]
}

@test "mix: one record per input line, empty lines included, with each line's word count" {
    pnm-mix -m "$M" "$QF" > "$BATS_TEST_TMPDIR/q.hid"
    run records "$BATS_TEST_TMPDIR/q.hid"
    assert_success
    [ "${#lines[@]}" -eq 5 ]
    assert_line --index 0 --regexp '^1: 3 words, 3 rows x 64: '
    assert_line --index 1 --regexp '^2: 0 words, '
    assert_line --index 2 --regexp '^3: 4 words, 4 rows x 64: '
    assert_line --index 3 --regexp '^4: 0 words, '
    assert_line --index 4 --regexp '^5: 5 words, 5 rows x 64: '
    run bash -c 'pnm-dump "$BATS_TEST_TMPDIR/q.hid" | tail -1'
    assert_output "# end of stream, 5 records"
    # The toy set: 60 records, record N has the words of line N.
    run bash -c 'set -o pipefail; cut -f2 "$TOY" | pnm-tokenize -m "$M" | pnm-project -m "$M" | pnm-mix -m "$M" |
        pnm-dump | grep -v "^#" | sed "s/: \([0-9]*\) words.*/ \1/" > got.txt &&
        cut -f2 "$TOY" | awk "{ print NR, NF }" | diff - got.txt && echo same'
    assert_success
    assert_output "same"
}

@test "mix: a line longer than s keeps its word count but s rows" {
    run bash -c 'set -o pipefail; seq 20 | tr "\n" " " | sed "s/\$/\n/" | pnm-tokenize -m "$M" | pnm-project -m "$M" | pnm-mix -m "$M" | pnm-dump'
    assert_success
    assert_line --index 1 --regexp '^1: 20 words, 16 rows x 64: '
    assert_line --index 2 "# end of stream, 1 records"
}

@test "mix: the output is deterministic" {
    pnm-mix -m "$M" "$QF" > "$BATS_TEST_TMPDIR/a.hid"
    pnm-mix -m "$M" < "$QF" > "$BATS_TEST_TMPDIR/b.hid"
    pnm-mix -m "$M" - < "$QF" > "$BATS_TEST_TMPDIR/c.hid"
    cmp "$BATS_TEST_TMPDIR/a.hid" "$BATS_TEST_TMPDIR/b.hid"
    cmp "$BATS_TEST_TMPDIR/a.hid" "$BATS_TEST_TMPDIR/c.hid"
}

@test "mix: -z writes zstd that pnm-dump and pnm-classify read like the plain stream" {
    local d=$BATS_TEST_TMPDIR
    cut -f2 "$TOY" | features_of "$M" > "$d/toy.feat"
    pnm-mix -m "$M" "$d/toy.feat" > "$d/plain.hid"
    pnm-mix -m "$M" -z -o "$d/z.hid" "$d/toy.feat"
    [ "$(od -An -tx1 -N4 "$d/z.hid" | tr -d ' \n')" = "28b52ffd" ]
    [ "$(head -c 3 "$d/plain.hid")" = "PNM" ]
    [ "$(byte_size "$d/z.hid")" -lt "$(byte_size "$d/plain.hid")" ]
    run pnm-dump -H "$d/z.hid"
    assert_output --partial "hidden stream, version 1, zstd;"
    [ "$(records "$d/z.hid")" = "$(records "$d/plain.hid")" ]
    run --separate-stderr pnm-classify -m "$M" "$d/z.hid"
    assert_success
    assert_stderr_empty
    [ "${#lines[@]}" -eq 60 ]
    assert_output "$(pnm-classify -m "$M" "$d/plain.hid")"
    # --zstd=LEVEL, through a pipe.
    run bash -c 'set -o pipefail; pnm-mix -m "$M" --zstd=19 < "$BATS_TEST_TMPDIR/toy.feat" | pnm-classify -m "$M" -p'
    assert_success
    assert_output "$(pnm-classify -m "$M" -p "$d/plain.hid")"
}

@test "mix: -o writes the file atomically; a missing directory fails and leaves nothing" {
    local out="$BATS_TEST_TMPDIR/out.hid"
    run --separate-stderr pnm-mix -m "$M" -o "$out" "$QF"
    assert_success
    assert_output ""
    assert_stderr_empty
    [ "$(compgen -G "$out*")" = "$out" ]
    pnm-mix -m "$M" "$QF" | cmp - "$out"
    run --separate-stderr pnm-mix -m "$M" -o "$BATS_TEST_TMPDIR/no/dir/x.hid" "$QF"
    assert_failure 1
    assert_stderr_contains "no/dir/x.hid"
    assert_output ""
    [ ! -e "$BATS_TEST_TMPDIR/no" ]
}

@test "mix: a truncated features stream: complete records out, then exit 1" {
    local d=$BATS_TEST_TMPDIR
    cut -f2 "$TOY" | features_of "$M" > "$d/toy.feat"
    head -c "$(( $(byte_size "$d/toy.feat") / 2 ))" "$d/toy.feat" > "$d/half.feat"
    run --separate-stderr pnm-mix -m "$M" -o "$d/half.hid" "$d/half.feat"
    assert_failure 1
    assert_stderr_contains "half.feat"
    assert_stderr_contains "truncated"
    assert_no_output_left "$d/half.hid"
    # To standard output: what was written is whole records, not an end marker.
    pnm-mix -m "$M" "$d/half.feat" > "$d/cut.hid" 2> /dev/null || true
    run --separate-stderr pnm-dump "$d/cut.hid"
    assert_failure 1
    assert_stderr_contains "truncated stream"
    refute_output --partial "# end of stream"
    local n=$(( ${#lines[@]} - 1 ))
    [ "$n" -gt 0 ]
    [ "$n" -lt 60 ]
    assert_line --index "$n" --regexp "^$n: [0-9]+ words, "
}

# ---- bad model files ---------------------------------------------------------

@test "mix: a missing model or a file that is not a model is a clear error" {
    run --separate-stderr pnm-mix -m "$BATS_TEST_TMPDIR/nope.pnm" "$QF"
    assert_failure 1
    assert_stderr_contains "nope.pnm"
    assert_stderr_contains "No such file"
    assert_output ""
    # A SentencePiece vocabulary is not a model.
    run --separate-stderr pnm-mix -m "$VOCAB" "$QF"
    assert_failure 1
    assert_stderr_contains "vocab.model: not a pnm model"
    assert_output ""
    # Nor is a stream.
    run --separate-stderr pnm-mix -m "$QF" "$QF"
    assert_failure 1
    assert_stderr_contains "q.feat: not a pnm model"
}

@test "mix: a model with a flipped byte in the middle is refused (exit 1)" {
    local bad="$BATS_TEST_TMPDIR/bad.pnm" size
    size=$(byte_size "$M")
    flip_byte "$M" "$(( size / 2 ))" 1 "$bad"
    run --separate-stderr pnm-mix -m "$bad" "$QF"
    assert_failure 1
    assert_stderr_contains "bad.pnm: corrupt model"
    assert_output ""
}

@test "mix: flipped bytes anywhere in the model: exit 1 with a message, never a crash" {
    local bad="$BATS_TEST_TMPDIR/bad.pnm" size off
    size=$(byte_size "$M")
    # (No counting loop: bats' run changes a global i.)
    for off in $(awk -v n="$size" 'BEGIN { for (k = 0; k < 16; k++) print int(k * (n - 1) / 15) }'); do
        flip_byte "$M" "$off" 16 "$bad"
        run --separate-stderr pnm-mix -m "$bad" "$QF"
        [ "$status" -eq 1 ] || { echo "offset $off: status $status, stderr: $stderr"; false; }
        [[ "$stderr" == "pnm-mix: $bad: "* ]] || { echo "offset $off: $stderr"; false; }
        [ -z "$output" ] || { echo "offset $off: output written"; false; }
    done
}

@test "mix: a truncated model is refused (exit 1)" {
    local cut="$BATS_TEST_TMPDIR/cut.pnm" size n
    size=$(byte_size "$M")
    for n in 0 4 64 300 $(( size / 2 )) $(( size - 1 )); do
        head -c "$n" "$M" > "$cut"
        run --separate-stderr pnm-mix -m "$cut" "$QF"
        [ "$status" -eq 1 ] || { echo "$n bytes: status $status"; false; }
        [[ "$stderr" == "pnm-mix: $cut: "*"model"* ]] || { echo "$n bytes: $stderr"; false; }
        [ -z "$output" ]
    done
    head -c "$(( size / 2 ))" "$M" > "$cut"
    run --separate-stderr pnm-mix -m "$cut" "$QF"
    assert_stderr_contains "cut.pnm: corrupt model"
    assert_stderr_contains "truncated"
}

# ---- pipes ---------------------------------------------------------------------

@test "mix: | head -1 is clean: no message, every stage ends by SIGPIPE or 0" {
    run --separate-stderr bash -c 'set -o pipefail
        yes "play some jazz" | head -50000 | pnm-tokenize -m "$M" | pnm-project -m "$M" | pnm-mix -m "$M" | pnm-dump | head -1
        echo "status ${PIPESTATUS[*]}"'
    assert_line --index 0 --regexp '^# pnm hidden stream, version 1'
    [ "${#lines[@]}" -eq 2 ]
    assert_line --index 1 --regexp '^status (0|141) (0|141) (0|141) (0|141) (0|141) (0|141) 0$'
    assert_stderr_empty
}
