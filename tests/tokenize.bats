#!/usr/bin/env bats
# pnm-tokenize: text -> token stream, --pieces, --train-vocab.

bats_require_minimum_version 1.5.0

load helper

setup_file() {
    make_vocab
}

# records FILE: the record lines of a dumped stream (no header, no end line).
records() {
    pnm-dump "$1" | grep -v '^#'
}

# ---- options ---------------------------------------------------------------

@test "tokenize: --help prints the usage and exits 0" {
    run --separate-stderr pnm-tokenize --help
    assert_success
    assert_line --index 0 --partial "Usage: pnm-tokenize"
    assert_output --partial "--train-vocab"
    assert_output --partial "--max-words"
    assert_stderr_empty
}

@test "tokenize: --version names the program and exits 0" {
    run --separate-stderr pnm-tokenize --version
    assert_success
    assert_output --regexp '^pnm-tokenize \(pnm\) [0-9]+\.[0-9]+'
}

@test "tokenize: an unknown option is a usage error (exit 2, Try)" {
    run --separate-stderr pnm-tokenize --no-such-option -m "$VOCAB"
    assert_failure 2
    assert_stderr_contains "Try 'pnm-tokenize --help'"
    assert_output ""
}

@test "tokenize: no -m, no --train-vocab and no default model is a usage error" {
    run --separate-stderr env -u PNM_MODEL "$(lone_program pnm-tokenize)" < /dev/null
    assert_failure 2
    assert_stderr_contains "no model: give -m FILE"
    assert_stderr_contains "Try"
}

@test "tokenize: conflicting or out-of-range options exit 2" {
    run --separate-stderr pnm-tokenize --train-vocab -m "$VOCAB" < /dev/null
    assert_failure 2
    assert_stderr_contains "do not apply"
    run --separate-stderr pnm-tokenize -m "$VOCAB" --pieces -z < /dev/null
    assert_failure 2
    assert_stderr_contains "--zstd does not apply"
    run --separate-stderr pnm-tokenize -m "$VOCAB" --zstd=20 < /dev/null
    assert_failure 2
    assert_stderr_contains "--zstd"
    run --separate-stderr pnm-tokenize -m "$VOCAB" --max-words=-3 < /dev/null
    assert_failure 2
    assert_stderr_contains "--max-words"
    run --separate-stderr pnm-tokenize --train-vocab --model-type=word < /dev/null
    assert_failure 2
    assert_stderr_contains "--model-type"
}

# ---- vocabulary files --------------------------------------------------------

@test "tokenize: a missing vocabulary file is an error naming the file" {
    run --separate-stderr pnm-tokenize -m "$BATS_TEST_TMPDIR/nope.model" <<< "play some jazz"
    assert_failure 1
    assert_stderr_contains "nope.model"
    assert_stderr_contains "No such file"
    assert_output ""
}

@test "tokenize: a file that is not a SentencePiece model is refused clearly" {
    corpus_text > "$BATS_TEST_TMPDIR/text.model"
    run --separate-stderr pnm-tokenize -m "$BATS_TEST_TMPDIR/text.model" <<< "play some jazz"
    assert_failure 1
    assert_stderr_contains "text.model: not a SentencePiece model"
    assert_output ""
    : > "$BATS_TEST_TMPDIR/empty.model"
    run --separate-stderr pnm-tokenize -m "$BATS_TEST_TMPDIR/empty.model" <<< "play some jazz"
    assert_failure 1
    assert_stderr_contains "empty.model: not a SentencePiece model"
    # A pnm stream is not a vocabulary either.
    pnm-tokenize -m "$VOCAB" <<< "play" > "$BATS_TEST_TMPDIR/s.pnm"
    run --separate-stderr pnm-tokenize -m "$BATS_TEST_TMPDIR/s.pnm" <<< "play some jazz"
    assert_failure 1
    assert_stderr_contains "s.pnm: not a SentencePiece model"
}

@test "tokenize: --train-vocab writes a model that -m then loads" {
    local m="$BATS_TEST_TMPDIR/new.model"
    corpus_text > "$BATS_TEST_TMPDIR/c.txt"
    run --separate-stderr pnm-tokenize --train-vocab --vocab-size 300 -o "$m" "$BATS_TEST_TMPDIR/c.txt"
    assert_success
    assert_output ""
    [ -s "$m" ]
    [ -z "$(compgen -G "$m.tmp*")" ]
    run --separate-stderr pnm-tokenize -m "$m" --pieces <<< "play some jazz"
    assert_success
    assert_output --regexp '^▁[^|]* \| ▁[^|]* \| ▁[^|]*$'
    # Training is deterministic: the same text and options, the same model.
    pnm-tokenize --train-vocab --vocab-size 300 < "$BATS_TEST_TMPDIR/c.txt" > "$BATS_TEST_TMPDIR/again.model"
    cmp "$m" "$BATS_TEST_TMPDIR/again.model"
}

@test "tokenize: --train-vocab --model-type bpe makes a different, loadable vocabulary" {
    local m="$BATS_TEST_TMPDIR/bpe.model"
    corpus_text | pnm-tokenize --train-vocab --vocab-size 300 --model-type bpe -o "$m"
    run --separate-stderr pnm-tokenize -m "$m" --pieces <<< "play some jazz"
    assert_success
    assert_output --regexp '^▁.* \| ▁.* \| ▁.*$'
    ! cmp -s "$m" "$VOCAB"
}

@test "tokenize: --train-vocab on no text fails with a clear message" {
    run --separate-stderr pnm-tokenize --train-vocab -o "$BATS_TEST_TMPDIR/v.model" < /dev/null
    assert_failure 1
    assert_stderr_contains "no text"
    assert_no_output_left "$BATS_TEST_TMPDIR/v.model"
}

@test "tokenize: --train-vocab works on a small corpus (50 lines)" {
    # The usage says a small corpus gives fewer pieces, not an error.
    corpus_text | head -50 > "$BATS_TEST_TMPDIR/small.txt"
    run --separate-stderr pnm-tokenize --train-vocab --vocab-size 300 \
        -o "$BATS_TEST_TMPDIR/small.model" "$BATS_TEST_TMPDIR/small.txt"
    echo "stderr: $stderr"
    assert_success
    [ -s "$BATS_TEST_TMPDIR/small.model" ]
    run --separate-stderr pnm-tokenize -m "$BATS_TEST_TMPDIR/small.model" --pieces <<< "play some jazz"
    assert_success
    assert_output --regexp '^▁.* \| ▁.* \| ▁.*$'
}

@test "tokenize: --train-vocab ignores blank lines, a leading one included" {
    { echo; corpus_text; echo; echo "   "; } > "$BATS_TEST_TMPDIR/blank.txt"
    run --separate-stderr pnm-tokenize --train-vocab --vocab-size 300 \
        -o "$BATS_TEST_TMPDIR/blank.model" "$BATS_TEST_TMPDIR/blank.txt"
    echo "stderr: $stderr"
    assert_success
    [ -s "$BATS_TEST_TMPDIR/blank.model" ]
}

@test "tokenize: --train-vocab rejects invalid UTF-8 and writes nothing" {
    { corpus_text; printf 'bad \xc3\x28 byte\n'; } > "$BATS_TEST_TMPDIR/bad.txt"
    run --separate-stderr pnm-tokenize --train-vocab --vocab-size 300 \
        -o "$BATS_TEST_TMPDIR/v.model" "$BATS_TEST_TMPDIR/bad.txt"
    assert_failure 1
    local n=$(( $(corpus_text | wc -l) + 1 ))
    assert_stderr_contains "line $n"
    assert_stderr_contains "invalid UTF-8"
    assert_no_output_left "$BATS_TEST_TMPDIR/v.model"
}

# ---- output formats ----------------------------------------------------------

@test "tokenize: --pieces separates words by ' | ' and marks word starts with ▁" {
    run --separate-stderr pnm-tokenize -m "$VOCAB" --pieces <<< "play some jazz tonight in brooklyn"
    assert_success
    assert_stderr_empty
    [ "${#lines[@]}" -eq 1 ]
    local IFS=$'\n' words
    words=($(printf '%s\n' "$output" | sed 's/ | /\n/g'))
    [ "${#words[@]}" -eq 6 ]
    local w
    for w in "${words[@]}"; do
        [[ "$w" == ▁* ]]
        [[ "$w" != *"|"* ]]
    done
    # Only a word's first piece carries the mark.
    local rest
    for w in "${words[@]}"; do
        rest=${w#* }
        [ "$rest" = "$w" ] || [[ " $rest" != *" ▁"* ]]
    done
    # The pieces of a word spell the word.
    [ "$(printf '%s\n' "${words[5]}" | tr -d ' ' | sed 's/^▁//')" = "brooklyn" ]
}

@test "tokenize: --pieces prints one line per input line, empty ones included" {
    local out="$BATS_TEST_TMPDIR/pieces.txt"
    printf 'play jazz\n\nbook a table\n   \n' | pnm-tokenize -m "$VOCAB" --pieces > "$out"
    [ "$(wc -l < "$out")" -eq 4 ]
    [ "$(sed -n 2p "$out")" = "" ]
    [ "$(sed -n 4p "$out")" = "" ]
    [[ "$(sed -n 1p "$out")" == ▁*" | "▁* ]]
    [[ "$(sed -n 3p "$out")" == ▁*" | "▁*" | "▁* ]]
}

@test "tokenize: one record per input line, empty lines included, numbered from 1" {
    printf 'play some jazz\n\nbook a table for two\n\t \nrate this song\n\n' > "$BATS_TEST_TMPDIR/in.txt"
    pnm-tokenize -m "$VOCAB" "$BATS_TEST_TMPDIR/in.txt" > "$BATS_TEST_TMPDIR/s.pnm"
    run --separate-stderr pnm-dump "$BATS_TEST_TMPDIR/s.pnm"
    assert_success
    assert_line --index 0 --regexp '^# pnm tokens stream'
    assert_line --index 1 --regexp '^1: ▁.* \| ▁.* \| ▁'
    assert_line --index 2 "2:"
    assert_line --index 3 --regexp '^3: ▁'
    assert_line --index 4 "4:"
    assert_line --index 5 --regexp '^5: ▁'
    assert_line --index 6 "6:"
    assert_line --index 7 "# end of stream, 6 records"
    [ "${#lines[@]}" -eq 8 ]
}

@test "tokenize: an empty first line is an empty record, not an error" {
    run --separate-stderr bash -c 'printf "\nplay some jazz\n" | pnm-tokenize -m "$VOCAB" | pnm-dump'
    echo "stderr: $stderr"
    assert_success
    assert_line --index 1 "1:"
    assert_line --index 2 --regexp '^2: ▁'
    assert_line --index 3 "# end of stream, 2 records"
    assert_stderr_empty
}

@test "tokenize: a last line without a newline is still a record" {
    run bash -c 'printf "play jazz\nbook a table" | pnm-tokenize -m "$VOCAB" | pnm-dump'
    assert_success
    assert_line --index 2 --regexp '^2: ▁.* \| ▁.* \| ▁'
    assert_line --index 3 "# end of stream, 2 records"
}

@test "tokenize: empty input gives a valid stream of 0 records" {
    run bash -c 'pnm-tokenize -m "$VOCAB" < /dev/null | pnm-dump'
    assert_success
    assert_line --index 0 --regexp '^# pnm tokens stream'
    assert_line --index 1 "# end of stream, 0 records"
}

@test "tokenize: CRLF input gives the same records as LF input" {
    printf 'play some jazz\r\nbook a table\r\n\r\nrate it 5\r\n' > "$BATS_TEST_TMPDIR/crlf.txt"
    printf 'play some jazz\nbook a table\n\nrate it 5\n' > "$BATS_TEST_TMPDIR/lf.txt"
    pnm-tokenize -m "$VOCAB" "$BATS_TEST_TMPDIR/crlf.txt" > "$BATS_TEST_TMPDIR/crlf.pnm"
    pnm-tokenize -m "$VOCAB" "$BATS_TEST_TMPDIR/lf.txt" > "$BATS_TEST_TMPDIR/lf.pnm"
    run records "$BATS_TEST_TMPDIR/crlf.pnm"
    assert_success
    assert_line --index 2 "3:"
    [ "${#lines[@]}" -eq 4 ]
    [ "$output" = "$(records "$BATS_TEST_TMPDIR/lf.pnm")" ]
    [[ "$output" != *'\x0d'* ]]
    cmp "$BATS_TEST_TMPDIR/crlf.pnm" "$BATS_TEST_TMPDIR/lf.pnm"
}

@test "tokenize: tabs and runs of spaces separate words like one space" {
    run pnm-tokenize -m "$VOCAB" --pieces <<< $'  play\t\tsome    jazz \t '
    assert_success
    local spaced
    spaced=$(pnm-tokenize -m "$VOCAB" --pieces <<< "play some jazz")
    assert_output "$spaced"
    [ "$(printf '%s\n' "$output" | grep -o ' | ' | wc -l)" -eq 2 ]
}

@test "tokenize: NUL bytes in a line separate words" {
    run bash -c 'printf "play\0some\0\0jazz\n" | pnm-tokenize -m "$VOCAB" --pieces'
    assert_success
    assert_output "$(pnm-tokenize -m "$VOCAB" --pieces <<< "play some jazz")"
    run bash -c 'printf "play\0some\0\0jazz\n" | pnm-tokenize -m "$VOCAB" | pnm-dump'
    assert_success
    assert_line --index 1 --regexp '^1: ▁[^|]* \| ▁[^|]* \| ▁[^|]*$'
    assert_line --index 2 "# end of stream, 1 records"
}

# ---- invalid input -----------------------------------------------------------

@test "tokenize: invalid UTF-8 on line 3 fails, naming the line; -o leaves nothing" {
    printf 'play some jazz\nbook a table\nbad \xff byte\nrate it\n' > "$BATS_TEST_TMPDIR/bad.txt"
    local out="$BATS_TEST_TMPDIR/out.pnm"
    run --separate-stderr pnm-tokenize -m "$VOCAB" -o "$out" "$BATS_TEST_TMPDIR/bad.txt"
    assert_failure 1
    assert_stderr_contains "line 3"
    assert_stderr_contains "invalid UTF-8"
    assert_stderr_contains "bad.txt"
    assert_output ""
    assert_no_output_left "$out"
}

@test "tokenize: invalid UTF-8 on stdout: complete records stay readable, then truncated" {
    printf 'play some jazz\nbook a table\nbad \xc3 byte\nrate it\n' > "$BATS_TEST_TMPDIR/bad.txt"
    run --separate-stderr pnm-tokenize -m "$VOCAB" -o - "$BATS_TEST_TMPDIR/bad.txt"
    assert_failure 1
    assert_stderr_contains "line 3, byte 5: invalid UTF-8 (0xc3)"
    pnm-tokenize -m "$VOCAB" < "$BATS_TEST_TMPDIR/bad.txt" > "$BATS_TEST_TMPDIR/cut.pnm" || true
    run --separate-stderr pnm-dump "$BATS_TEST_TMPDIR/cut.pnm"
    assert_failure 1
    assert_line --index 1 --regexp '^1: ▁'
    assert_line --index 2 --regexp '^2: ▁'
    [ "${#lines[@]}" -eq 3 ]
    refute_output --partial "# end of stream"
    assert_stderr_contains "truncated stream"
    assert_stderr_contains "after 2 records"
}

@test "tokenize: a missing input file fails naming it; -o leaves nothing" {
    local out="$BATS_TEST_TMPDIR/out.pnm"
    run --separate-stderr pnm-tokenize -m "$VOCAB" -o "$out" "$BATS_TEST_TMPDIR/missing.txt"
    assert_failure 1
    assert_stderr_contains "missing.txt"
    assert_stderr_contains "No such file"
    assert_no_output_left "$out"
}

# ---- limits --------------------------------------------------------------------

@test "tokenize: --max-words keeps S words and reports truncated lines on stderr" {
    printf 'one two three four five\nsix\nseven eight nine\n' > "$BATS_TEST_TMPDIR/in.txt"
    run --separate-stderr pnm-tokenize -m "$VOCAB" -s 2 -o "$BATS_TEST_TMPDIR/s.pnm" "$BATS_TEST_TMPDIR/in.txt"
    assert_success
    assert_stderr_contains "2 lines had more than 2 words and were truncated"
    run pnm-dump "$BATS_TEST_TMPDIR/s.pnm"
    assert_success
    assert_line --index 0 --partial "; at most 2 words"
    assert_line --index 1 --regexp '^1: [^|]* \| [^|]*$'
    assert_line --index 2 --regexp '^2: [^|]*$'
    assert_line --index 3 --regexp '^3: [^|]* \| [^|]*$'
    # The kept words are the first ones.
    [ "$(sed -n 2p <<< "$output" | sed 's/^1: //')" = \
      "$(pnm-tokenize -m "$VOCAB" --pieces <<< "one two")" ]
    # No truncation, no message.
    run --separate-stderr pnm-tokenize -m "$VOCAB" -s 5 "$BATS_TEST_TMPDIR/in.txt"
    assert_success
    assert_stderr_empty
}

@test "tokenize: a 1 MB line of words and a 1 MB word both work" {
    awk 'BEGIN { for (i = 0; i < 200000; i++) printf "jazz "; print ""; print "play" }' \
        > "$BATS_TEST_TMPDIR/long.txt"
    [ "$(byte_size "$BATS_TEST_TMPDIR/long.txt")" -ge 1000000 ]
    run --separate-stderr pnm-tokenize -m "$VOCAB" -o "$BATS_TEST_TMPDIR/long.pnm" "$BATS_TEST_TMPDIR/long.txt"
    assert_success
    run bash -c "pnm-dump '$BATS_TEST_TMPDIR/long.pnm' | awk -F' [|] ' 'NR == 2 { print NF }'"
    assert_success
    assert_output "200000"
    run bash -c "pnm-dump '$BATS_TEST_TMPDIR/long.pnm' | tail -1"
    assert_output "# end of stream, 2 records"
    # One word of 1 MB: kept as one (cut) word.
    { head -c 1048576 /dev/zero | tr '\0' 'a'; echo; echo "play"; } > "$BATS_TEST_TMPDIR/word.txt"
    run --separate-stderr bash -c "pnm-tokenize -m '$VOCAB' '$BATS_TEST_TMPDIR/word.txt' | pnm-dump"
    assert_success
    assert_line --index 1 --regexp '^1: ▁[^|]*$'
    assert_line --index 3 "# end of stream, 2 records"
}

# ---- compression, files, pipes -------------------------------------------------

@test "tokenize: -z writes zstd that pnm-dump reads with identical records" {
    corpus_text > "$BATS_TEST_TMPDIR/c.txt"
    pnm-tokenize -m "$VOCAB" -z -o "$BATS_TEST_TMPDIR/z.pnm" "$BATS_TEST_TMPDIR/c.txt"
    pnm-tokenize -m "$VOCAB" "$BATS_TEST_TMPDIR/c.txt" > "$BATS_TEST_TMPDIR/plain.pnm"
    [ "$(od -An -tx1 -N4 "$BATS_TEST_TMPDIR/z.pnm" | tr -d ' \n')" = "28b52ffd" ]
    [ "$(head -c 3 "$BATS_TEST_TMPDIR/plain.pnm")" = "PNM" ]
    [ "$(byte_size "$BATS_TEST_TMPDIR/z.pnm")" -lt "$(byte_size "$BATS_TEST_TMPDIR/plain.pnm")" ]
    run pnm-dump -H "$BATS_TEST_TMPDIR/z.pnm"
    assert_output --partial ", zstd;"
    run records "$BATS_TEST_TMPDIR/z.pnm"
    assert_success
    [ "${#lines[@]}" -eq "$(corpus_text | wc -l)" ]
    [ "$output" = "$(records "$BATS_TEST_TMPDIR/plain.pnm")" ]
    # --zstd=LEVEL gives the same content.
    pnm-tokenize -m "$VOCAB" --zstd=19 "$BATS_TEST_TMPDIR/c.txt" > "$BATS_TEST_TMPDIR/z19.pnm"
    [ "$(records "$BATS_TEST_TMPDIR/z19.pnm")" = "$output" ]
}

@test "tokenize: two files continue the line numbers; - reads stdin" {
    printf 'play jazz\nbook a table\n' > "$BATS_TEST_TMPDIR/a.txt"
    printf 'rate this song\n' > "$BATS_TEST_TMPDIR/b.txt"
    run bash -c "pnm-tokenize -m '$VOCAB' '$BATS_TEST_TMPDIR/a.txt' '$BATS_TEST_TMPDIR/b.txt' | pnm-dump"
    assert_success
    assert_line --index 1 --regexp '^1: ▁'
    assert_line --index 2 --regexp '^2: ▁'
    assert_line --index 3 --regexp '^3: ▁'
    assert_line --index 4 "# end of stream, 3 records"
    local one
    one=$(sed -n 4p <<< "$output" | sed 's/^3: //')
    [ "$one" = "$(pnm-tokenize -m "$VOCAB" --pieces < "$BATS_TEST_TMPDIR/b.txt")" ]
    # stdin in the middle
    run bash -c "echo 'find a cozy café' | pnm-tokenize -m '$VOCAB' '$BATS_TEST_TMPDIR/a.txt' - '$BATS_TEST_TMPDIR/b.txt' | pnm-dump"
    assert_success
    assert_line --index 3 "3: $(pnm-tokenize -m "$VOCAB" --pieces <<< 'find a cozy café')"
    assert_line --index 4 "4: $one"
    assert_line --index 5 "# end of stream, 4 records"
    # - alone is stdin
    run bash -c "pnm-tokenize -m '$VOCAB' - < '$BATS_TEST_TMPDIR/a.txt' | pnm-dump"
    assert_line --index 3 "# end of stream, 2 records"
}

@test "tokenize: | head -1 is clean: no message, every stage ends by SIGPIPE or 0" {
    run --separate-stderr bash -c 'set -o pipefail
        yes "play some jazz" | head -100000 | pnm-tokenize -m "$VOCAB" | pnm-dump | head -1
        echo "status ${PIPESTATUS[*]}"'
    assert_output --regexp '^# pnm tokens stream, version 1; vocabulary [0-9a-f]{16} \([0-9]+ pieces\)'
    [ "${#lines[@]}" -eq 2 ]
    assert_line --index 1 --regexp '^status (0|141) (0|141) (0|141) (0|141) 0$'
    assert_stderr_empty
    run --separate-stderr bash -c 'set -o pipefail
        yes "play some jazz" | head -100000 | pnm-tokenize -m "$VOCAB" --pieces | head -1
        echo "status ${PIPESTATUS[*]}"'
    assert_line --index 0 "$(pnm-tokenize -m "$VOCAB" --pieces <<< "play some jazz")"
    assert_line --index 1 --regexp '^status (0|141) (0|141) (0|141) 0$'
    assert_stderr_empty
}

@test "tokenize: -o into a missing directory fails with exit 1" {
    run --separate-stderr pnm-tokenize -m "$VOCAB" -o /nonexistent/dir/x <<< "play some jazz"
    assert_failure 1
    assert_stderr_contains "/nonexistent/dir/x"
    assert_output ""
}

@test "tokenize: -o writes the file atomically and leaves no temporary" {
    local out="$BATS_TEST_TMPDIR/s.pnm"
    run --separate-stderr pnm-tokenize -m "$VOCAB" -o "$out" <<< "play some jazz"
    assert_success
    assert_output ""
    [ "$(compgen -G "$out*")" = "$out" ]
    run pnm-dump "$out"
    assert_line --index 2 "# end of stream, 1 records"
}

@test "tokenize: -o FIFO writes into the FIFO instead of replacing it" {
    local fifo="$BATS_TEST_TMPDIR/fifo" got="$BATS_TEST_TMPDIR/got.pnm"
    mkfifo "$fifo"
    cat "$fifo" > "$got" &
    local reader=$!
    run --separate-stderr timeout 20 pnm-tokenize -m "$VOCAB" -o "$fifo" <<< "play some jazz"
    local replaced=0
    [ -p "$fifo" ] || { replaced=1; kill "$reader" 2>/dev/null || true; }
    wait "$reader" || true
    assert_success
    [ "$replaced" -eq 0 ]
    run pnm-dump "$got"
    assert_success
    assert_line --index 2 "# end of stream, 1 records"
}

@test "tokenize: writing to /dev/full fails with a write error" {
    [ -w /dev/full ] || skip "/dev/full not available"
    run --separate-stderr bash -c 'echo "play some jazz" | pnm-tokenize -m "$VOCAB" > /dev/full'
    assert_failure 1
    assert_stderr_contains "write error"
    run --separate-stderr bash -c 'echo "play some jazz" | pnm-tokenize -m "$VOCAB" --pieces > /dev/full'
    assert_failure 1
    assert_stderr_contains "write error"
    corpus_text > "$BATS_TEST_TMPDIR/c.txt"
    run --separate-stderr bash -c "pnm-tokenize --train-vocab --vocab-size 300 '$BATS_TEST_TMPDIR/c.txt' > /dev/full"
    assert_failure 1
    assert_stderr_contains "write error"
}

# ---- the real data set ---------------------------------------------------------

@test "tokenize: snips pipeline: one record per test line, record N is line N" {
    need_data
    cd "$BATS_TEST_TMPDIR"
    cut -f2 "$DATA/snips/train.tsv" | pnm-tokenize --train-vocab --vocab-size 8000 -o v.model
    [ -s v.model ]
    run --separate-stderr bash -c 'set -o pipefail
        cut -f2 "$DATA/snips/test.tsv" | pnm-tokenize -m v.model | pnm-project | pnm-dump > dump.txt'
    assert_success
    assert_stderr_empty
    local n
    n=$(wc -l < "$DATA/snips/test.tsv")
    [ "$n" -eq 700 ]
    run tail -1 dump.txt
    assert_output "# end of stream, $n records"
    run head -1 dump.txt
    assert_output --regexp '^# pnm features stream, version 1; vocabulary [0-9a-f]{16} \([0-9]+ pieces\); m=1024 n=64 w=1 seed=0$'
    # Record N has line number N and one {...} group per word of line N.
    run bash -c 'cut -f2 "$DATA/snips/test.tsv" | awk "{ print NF }" > words.txt
        grep -v "^#" dump.txt | awk -F": " "{ n = split(\$2, g, \"} {\"); if (\$2 == \"\") n = 0; print \$1, n }" > got.txt
        awk "{ print NR, \$1 }" words.txt | diff - got.txt && echo same'
    assert_success
    assert_output "same"
    # The head of the pipeline the README shows.
    run bash -c 'cut -f2 "$DATA/snips/test.tsv" | pnm-tokenize -m v.model | pnm-project | pnm-dump | head'
    [ "${#lines[@]}" -eq 10 ]
    assert_line --index 1 --regexp '^1: \{'
    assert_line --index 9 --regexp '^9: \{'
}
