#!/usr/bin/env bats
# pnm-project: token stream -> feature stream.

bats_require_minimum_version 1.5.0

load helper

setup_file() {
    make_vocab
    # A second, different vocabulary for the mismatch tests.
    make_vocab "$BATS_FILE_TMPDIR/other.model" --vocab-size 300 --model-type bpe
    corpus_text > "$BATS_FILE_TMPDIR/corpus.txt"
    pnm-tokenize -m "$VOCAB" -o "$BATS_FILE_TMPDIR/corpus.tok" "$BATS_FILE_TMPDIR/corpus.txt"
    printf 'play some jazz\nbook a table for two\n' |
        pnm-tokenize -m "$VOCAB" -o "$BATS_FILE_TMPDIR/two.tok"
    printf 'play some jazz\n' | pnm-tokenize -m "$VOCAB" -o "$BATS_FILE_TMPDIR/one.tok"
}

setup() {
    TOK="$BATS_FILE_TMPDIR/corpus.tok"
    TWO="$BATS_FILE_TMPDIR/two.tok"
    ONE="$BATS_FILE_TMPDIR/one.tok"
}

# check_features M N FILE: FILE is a features stream dumped with --json;
# every word must have exactly N buckets, each < M, in ascending order.
# Prints the number of records and words checked, or what is wrong.
check_features() {
    awk -v m="$1" -v n="$2" '
        NR == 1 { next }
        /^\{"end":/ { next }
        {
            s = $0
            if (!sub(/^\{"line":[0-9]+,"words":\[/, "", s) || !sub(/\]\}$/, "", s)) {
                print "bad line " NR ": " $0; bad = 1; next
            }
            records++
            if (s == "") next
            if (!sub(/^\[/, "", s) || !sub(/\]$/, "", s)) { print "bad words " NR; bad = 1; next }
            nw = split(s, word, /\],\[/)
            for (w = 1; w <= nw; w++) {
                words++
                k = split(word[w], b, ",")
                if (k != n) { print "line " NR " word " w ": " k " buckets, not " n; bad = 1 }
                for (i = 1; i <= k; i++) {
                    if (b[i] !~ /^[0-9]+$/ || b[i] + 0 >= m) {
                        print "line " NR " word " w ": bucket " b[i] " not in 0.." m - 1; bad = 1
                    }
                    if (i > 1 && b[i] + 0 < b[i - 1] + 0) {
                        print "line " NR " word " w ": buckets out of order"; bad = 1
                    }
                }
            }
        }
        END { print records + 0, "records", words + 0, "words"; exit bad }' "$3"
}

# words_in FILE: the number of words in the token stream FILE.
words_in() {
    pnm-dump "$1" | grep -v '^#' |
        awk -F': ' '$2 != "" { n += split($2, w, " [|] ") } END { print n + 0 }'
}

# ---- options ---------------------------------------------------------------

@test "project: --help and --version" {
    run --separate-stderr pnm-project --help
    assert_success
    assert_line --index 0 --partial "Usage: pnm-project"
    assert_output --partial "--features"
    assert_output --partial "--window"
    run --separate-stderr pnm-project --version
    assert_success
    assert_output --regexp '^pnm-project \(pnm\) [0-9]'
}

@test "project: an unknown option or two inputs are usage errors (exit 2)" {
    run --separate-stderr pnm-project --bogus "$TWO"
    assert_failure 2
    assert_stderr_contains "Try 'pnm-project --help'"
    assert_output ""
    run --separate-stderr pnm-project "$TWO" "$TWO"
    assert_failure 2
    assert_stderr_contains "one input stream at most"
}

@test "project: defaults appear in the header: m=1024 n=64 w=1 seed=0" {
    run bash -c "pnm-project '$TWO' | pnm-dump -H"
    assert_success
    assert_output --regexp '^# pnm features stream, version 1; vocabulary [0-9a-f]{16} \([0-9]+ pieces\); m=1024 n=64 w=1 seed=0$'
    # The vocabulary is carried over from the token stream.
    local vocab
    vocab=$(pnm-dump -H "$TWO" | sed 's/.*vocabulary \([0-9a-f]*\).*/\1/')
    assert_output --partial "vocabulary $vocab ("
}

@test "project: default projection: 64 buckets per word, all < 1024, sorted" {
    pnm-project "$TOK" | pnm-dump --json > "$BATS_TEST_TMPDIR/f.json"
    run check_features 1024 64 "$BATS_TEST_TMPDIR/f.json"
    assert_success
    local n
    n=$(corpus_text | wc -l)
    assert_output "$n records $(words_in "$TOK") words"
}

@test "project: --features/--hashes/--window/--seed go into the header and the buckets" {
    pnm-project --features 100 --hashes 7 --window 2 --seed 42 -o "$BATS_TEST_TMPDIR/f.pnm" "$TOK"
    run pnm-dump -H "$BATS_TEST_TMPDIR/f.pnm"
    assert_output --partial "; m=100 n=7 w=2 seed=42"
    run bash -c "pnm-dump --json -H '$BATS_TEST_TMPDIR/f.pnm'"
    assert_output --partial '"kind":"features"'
    assert_output --partial '"features":100,"hashes":7,"window":2,"seed":42'
    pnm-dump --json "$BATS_TEST_TMPDIR/f.pnm" > "$BATS_TEST_TMPDIR/f.json"
    run check_features 100 7 "$BATS_TEST_TMPDIR/f.json"
    assert_success
    assert_output "$(corpus_text | wc -l) records $(words_in "$TOK") words"
    # Short options and the extremes.
    pnm-project -f 65536 -n 1024 -w 0 --seed 18446744073709551615 "$TWO" > "$BATS_TEST_TMPDIR/big.pnm"
    run pnm-dump -H "$BATS_TEST_TMPDIR/big.pnm"
    assert_output --partial "; m=65536 n=1024 w=0 seed=18446744073709551615"
    pnm-dump --json "$BATS_TEST_TMPDIR/big.pnm" > "$BATS_TEST_TMPDIR/big.json"
    run check_features 65536 1024 "$BATS_TEST_TMPDIR/big.json"
    assert_success
    assert_output "2 records $(words_in "$TWO") words"
    pnm-project -f 1 -n 1 "$TWO" | pnm-dump --json > "$BATS_TEST_TMPDIR/small.json"
    run check_features 1 1 "$BATS_TEST_TMPDIR/small.json"
    assert_success
    assert_output "2 records $(words_in "$TWO") words"
}

@test "project: the same word gets the same features" {
    run bash -c 'echo "jazz jazz" | pnm-tokenize -m "$VOCAB" | pnm-project | pnm-dump'
    assert_success
    assert_line --index 1 --regexp '^1: \{[^}]+\} \{[^}]+\}$'
    local rec a b
    rec=${lines[1]#1: }
    a=${rec%% \{*}
    b=${rec#*\} }
    [ "$a" = "$b" ]
    # and across lines and positions
    run bash -c 'printf "jazz\nplay some jazz\n" | pnm-tokenize -m "$VOCAB" | pnm-project | pnm-dump'
    [ "${lines[1]#1: }" = "$a" ]
    [[ "${lines[2]}" == *" $a" ]]
}

@test "project: different words get different features" {
    run bash -c 'echo "jazz rock" | pnm-tokenize -m "$VOCAB" | pnm-project | pnm-dump'
    assert_success
    local rec=${lines[1]#1: }
    [ "${rec%% \{*}" != "${rec#*\} }" ]
}

@test "project: the same input and seed give byte-identical streams" {
    pnm-project --seed 7 "$TOK" > "$BATS_TEST_TMPDIR/a.pnm"
    pnm-project --seed 7 < "$TOK" > "$BATS_TEST_TMPDIR/b.pnm"
    cmp "$BATS_TEST_TMPDIR/a.pnm" "$BATS_TEST_TMPDIR/b.pnm"
    [ "$(byte_size "$BATS_TEST_TMPDIR/a.pnm")" -gt 1000 ]
}

@test "project: a different seed gives different features" {
    pnm-project --seed 0 "$TOK" | pnm-dump | grep -v '^#' > "$BATS_TEST_TMPDIR/s0.txt"
    pnm-project --seed 1 "$TOK" | pnm-dump | grep -v '^#' > "$BATS_TEST_TMPDIR/s1.txt"
    [ -s "$BATS_TEST_TMPDIR/s0.txt" ]
    ! cmp -s "$BATS_TEST_TMPDIR/s0.txt" "$BATS_TEST_TMPDIR/s1.txt"
    # Every record with words differs, not just one.
    run bash -c "paste -d '\n' '$BATS_TEST_TMPDIR/s0.txt' '$BATS_TEST_TMPDIR/s1.txt' |
        awk 'NR % 2 { a = \$0; next } \$0 == a && \$0 ~ /\\{/ { same++ } END { print same + 0 }'"
    assert_output "0"
    # The line numbers still match.
    [ "$(cut -d: -f1 "$BATS_TEST_TMPDIR/s0.txt")" = "$(cut -d: -f1 "$BATS_TEST_TMPDIR/s1.txt")" ]
}

@test "project: out-of-range or malformed options exit 2 naming the option" {
    local args
    for args in "--features 0" "--features 65537" "--hashes 0" "--hashes 2000" \
                "--window 33" "--window 99" "--features abc" "--seed -1" "--hashes 12x" \
                "--zstd=0" "--zstd=20"; do
        run --separate-stderr pnm-project $args "$TWO"
        echo "args: $args"
        assert_failure 2
        assert_stderr_contains "${args%%[ =]*}"
        assert_stderr_contains "Try"
        assert_output ""
    done
}

# ---- bad input -------------------------------------------------------------

@test "project: a features stream as input is refused" {
    pnm-project "$TWO" > "$BATS_TEST_TMPDIR/f.pnm"
    run --separate-stderr pnm-project "$BATS_TEST_TMPDIR/f.pnm"
    assert_failure 1
    assert_stderr_contains "expected a tokens stream, got a features stream"
    assert_output ""
}

@test "project: a file that is not a pnm stream is refused" {
    corpus_text > "$BATS_TEST_TMPDIR/text.txt"
    run --separate-stderr pnm-project "$BATS_TEST_TMPDIR/text.txt"
    assert_failure 1
    assert_stderr_contains "text.txt: not a pnm stream"
    assert_output ""
    # A SentencePiece model is not a stream either.
    run --separate-stderr pnm-project "$VOCAB"
    assert_failure 1
    assert_stderr_contains "not a pnm stream"
}

@test "project: empty input is refused" {
    run --separate-stderr pnm-project < /dev/null
    assert_failure 1
    assert_stderr_contains "standard input: empty input"
    assert_output ""
}

@test "project: a missing input file is an error naming it" {
    run --separate-stderr pnm-project "$BATS_TEST_TMPDIR/missing.tok"
    assert_failure 1
    assert_stderr_contains "missing.tok: No such file"
}

@test "project: -m with the matching vocabulary works" {
    run --separate-stderr bash -c "pnm-project -m '$VOCAB' '$TWO' | pnm-dump"
    assert_success
    assert_stderr_empty
    assert_line --index 3 "# end of stream, 2 records"
    # and gives the same stream as without -m
    cmp <(pnm-project -m "$VOCAB" "$TWO") <(pnm-project "$TWO")
}

@test "project: -m with another vocabulary fails saying so" {
    local other="$BATS_FILE_TMPDIR/other.model"
    run --separate-stderr pnm-project -m "$other" "$TWO"
    assert_failure 1
    assert_stderr_contains "another vocabulary"
    assert_stderr_contains "other.model"
    assert_output ""
    run --separate-stderr pnm-project -m "$BATS_TEST_TMPDIR/nope.model" "$TWO"
    assert_failure 1
    assert_stderr_contains "nope.model"
}

@test "project: truncated input fails with 'truncated' (header, record, boundary)" {
    local size one cut
    size=$(byte_size "$TWO")
    one=$(byte_size "$ONE")
    # The two streams share their header and first record:
    # one.tok = header + record 1 + end marker (16 bytes).
    cmp -n $(( one - 16 )) "$ONE" "$TWO"
    for cut in 10 71 72 100 $(( one - 16 - 5 )) $(( one - 16 )) $(( one - 10 )) \
               $(( size - 20 )) $(( size - 16 )) $(( size - 1 )); do
        head -c "$cut" "$TWO" > "$BATS_TEST_TMPDIR/cut.tok"
        run --separate-stderr pnm-project -o "$BATS_TEST_TMPDIR/out.pnm" "$BATS_TEST_TMPDIR/cut.tok"
        echo "cut at $cut of $size"
        assert_failure 1
        assert_stderr_contains "truncated"
        assert_no_output_left "$BATS_TEST_TMPDIR/out.pnm"
    done
}

@test "project: truncated input on stdout: records before the cut, then truncated" {
    local one
    one=$(byte_size "$ONE")
    head -c $(( one - 16 )) "$TWO" | pnm-project > "$BATS_TEST_TMPDIR/f.pnm" || true
    run --separate-stderr pnm-dump "$BATS_TEST_TMPDIR/f.pnm"
    assert_failure 1
    assert_line --index 1 --regexp '^1: \{'
    [ "${#lines[@]}" -eq 2 ]
    assert_stderr_contains "truncated"
}

@test "project: a flipped byte inside a record fails with 'checksum'" {
    local size
    size=$(byte_size "$TWO")
    # The last byte of the last record's payload, just before the end marker.
    flip_byte "$TWO" $(( size - 17 )) 1 "$BATS_TEST_TMPDIR/flip.tok"
    ! cmp -s "$TWO" "$BATS_TEST_TMPDIR/flip.tok"
    run --separate-stderr pnm-project -o "$BATS_TEST_TMPDIR/out.pnm" "$BATS_TEST_TMPDIR/flip.tok"
    assert_failure 1
    assert_stderr_contains "checksum"
    assert_no_output_left "$BATS_TEST_TMPDIR/out.pnm"
    # A flip in the piece table is caught by the header checksum.
    flip_byte "$TWO" 90 4 "$BATS_TEST_TMPDIR/flip2.tok"
    run --separate-stderr pnm-project "$BATS_TEST_TMPDIR/flip2.tok"
    assert_failure 1
    assert_stderr_contains "checksum"
}

@test "project: -o writes the stream and no temporary" {
    local out="$BATS_TEST_TMPDIR/f.pnm"
    run --separate-stderr pnm-project -o "$out" "$TWO"
    assert_success
    assert_output ""
    [ "$(compgen -G "$out*")" = "$out" ]
    cmp "$out" <(pnm-project < "$TWO")
}

@test "project: -o into a missing directory fails" {
    run --separate-stderr pnm-project -o /nonexistent/dir/x "$TWO"
    assert_failure 1
    assert_stderr_contains "/nonexistent/dir/x"
}

@test "project: -z writes zstd with the same records; zstd input is read too" {
    pnm-project -z -o "$BATS_TEST_TMPDIR/z.pnm" "$TOK"
    [ "$(od -An -tx1 -N4 "$BATS_TEST_TMPDIR/z.pnm" | tr -d ' \n')" = "28b52ffd" ]
    [ "$(byte_size "$BATS_TEST_TMPDIR/z.pnm")" -lt "$(byte_size "$TOK")" ]
    run pnm-dump -H "$BATS_TEST_TMPDIR/z.pnm"
    assert_output --partial "features stream, version 1, zstd;"
    pnm-dump "$BATS_TEST_TMPDIR/z.pnm" | grep -v '^# pnm' > "$BATS_TEST_TMPDIR/z.txt"
    pnm-project "$TOK" | pnm-dump | grep -v '^# pnm' > "$BATS_TEST_TMPDIR/plain.txt"
    cmp "$BATS_TEST_TMPDIR/z.txt" "$BATS_TEST_TMPDIR/plain.txt"
    # A compressed token stream projects to the same features.
    pnm-tokenize -m "$VOCAB" -z "$BATS_FILE_TMPDIR/corpus.txt" | pnm-project > "$BATS_TEST_TMPDIR/fromz.pnm"
    cmp "$BATS_TEST_TMPDIR/fromz.pnm" <(pnm-project "$TOK")
}

@test "project: empty records (empty lines) stay empty and keep their numbers" {
    run bash -c 'printf "play jazz\n\n\nbook a table\n" | pnm-tokenize -m "$VOCAB" | pnm-project | pnm-dump'
    assert_success
    assert_line --index 1 --regexp '^1: \{[^}]*\} \{[^}]*\}$'
    assert_line --index 2 "2:"
    assert_line --index 3 "3:"
    assert_line --index 4 --regexp '^4: \{[^}]*\} \{[^}]*\} \{[^}]*\}$'
    assert_line --index 5 "# end of stream, 4 records"
}

@test "project: --max-words from the token stream is kept in the features header" {
    run bash -c 'echo "one two three four" | pnm-tokenize -m "$VOCAB" -s 3 2>/dev/null | pnm-project | pnm-dump'
    assert_success
    assert_line --index 0 --partial "seed=0; at most 3 words"
    assert_line --index 1 --regexp '^1: \{[^}]*\} \{[^}]*\} \{[^}]*\}$'
}

@test "project: | head -1 is clean" {
    run --separate-stderr bash -c '
        yes "play some jazz" | head -50000 | pnm-tokenize -m "$VOCAB" | pnm-project | pnm-dump | head -1
        echo "status ${PIPESTATUS[*]}"'
    assert_line --index 0 --partial "# pnm features stream"
    assert_line --index 1 --regexp '^status (0|141) (0|141) (0|141) (0|141) (0|141) 0$'
    assert_stderr_empty
}

@test "project: writing to /dev/full fails with a write error" {
    [ -w /dev/full ] || skip "/dev/full not available"
    run --separate-stderr bash -c "pnm-project '$TWO' > /dev/full"
    assert_failure 1
    assert_stderr_contains "write error"
}
