#!/usr/bin/env bats
# pnm-dump: any stream -> text or JSON, validating every byte on the way.

bats_require_minimum_version 1.5.0

load helper

setup_file() {
    make_vocab
    # A tiny vocabulary keeps the token stream's piece table (and so the
    # every-offset loops below) small.
    make_vocab "$BATS_FILE_TMPDIR/tiny.model" --vocab-size 50
    printf 'play some jazz\nbook a table\n' |
        pnm-tokenize -m "$BATS_FILE_TMPDIR/tiny.model" -o "$BATS_FILE_TMPDIR/tiny.tok"
    pnm-project -n 4 -f 64 -o "$BATS_FILE_TMPDIR/tiny.feat" "$BATS_FILE_TMPDIR/tiny.tok"
    pnm-tokenize -m "$BATS_FILE_TMPDIR/tiny.model" -z -o "$BATS_FILE_TMPDIR/tiny.ztok" \
        <<< $'play some jazz\nbook a table'
    printf 'play some jazz\n\nbook a table for two\n' |
        pnm-tokenize -m "$VOCAB" -o "$BATS_FILE_TMPDIR/three.tok"
    pnm-project -o "$BATS_FILE_TMPDIR/three.feat" "$BATS_FILE_TMPDIR/three.tok"
}

setup() {
    TINY="$BATS_FILE_TMPDIR/tiny.tok"
    TINYF="$BATS_FILE_TMPDIR/tiny.feat"
    TINYZ="$BATS_FILE_TMPDIR/tiny.ztok"
    TOK="$BATS_FILE_TMPDIR/three.tok"
    FEAT="$BATS_FILE_TMPDIR/three.feat"
}

# ---- options ---------------------------------------------------------------

@test "dump: --help and --version" {
    run --separate-stderr pnm-dump --help
    assert_success
    assert_line --index 0 --partial "Usage: pnm-dump"
    assert_output --partial "--json"
    assert_output --partial "--header-only"
    run --separate-stderr pnm-dump --version
    assert_success
    assert_output --regexp '^pnm-dump \(pnm\) [0-9]'
}

@test "dump: an unknown option or two inputs are usage errors (exit 2)" {
    run --separate-stderr pnm-dump --bogus "$TOK"
    assert_failure 2
    assert_stderr_contains "Try 'pnm-dump --help'"
    assert_output ""
    run --separate-stderr pnm-dump "$TOK" "$TOK"
    assert_failure 2
    assert_stderr_contains "one input stream at most"
}

@test "dump: a missing file is an error naming it" {
    run --separate-stderr pnm-dump "$BATS_TEST_TMPDIR/missing.pnm"
    assert_failure 1
    assert_stderr_contains "missing.pnm: No such file"
    assert_output ""
}

# ---- text ------------------------------------------------------------------

@test "dump: token stream text format: header, one line per record, end line" {
    run --separate-stderr pnm-dump "$TOK"
    assert_success
    assert_stderr_empty
    [ "${#lines[@]}" -eq 5 ]
    assert_line --index 0 --regexp '^# pnm tokens stream, version 1; vocabulary [0-9a-f]{16} \([0-9]+ pieces\)$'
    assert_line --index 1 "1: $(pnm-tokenize -m "$VOCAB" --pieces <<< "play some jazz")"
    assert_line --index 2 "2:"
    assert_line --index 3 "3: $(pnm-tokenize -m "$VOCAB" --pieces <<< "book a table for two")"
    assert_line --index 4 "# end of stream, 3 records"
    # The same from standard input, and from "-".
    [ "$(pnm-dump < "$TOK")" = "$output" ]
    [ "$(pnm-dump - < "$TOK")" = "$output" ]
}

@test "dump: features stream text format: header with m n w seed, {buckets} per word" {
    run --separate-stderr pnm-dump "$FEAT"
    assert_success
    assert_line --index 0 --regexp '^# pnm features stream, version 1; vocabulary [0-9a-f]{16} \([0-9]+ pieces\); m=1024 n=64 w=1 seed=0$'
    assert_line --index 1 --regexp '^1: \{[0-9: ]+\} \{[0-9: ]+\} \{[0-9: ]+\}$'
    assert_line --index 2 "2:"
    assert_line --index 3 --regexp '^3: (\{[0-9: ]+\} ){4}\{[0-9: ]+\}$'
    assert_line --index 4 "# end of stream, 3 records"
    # Same vocabulary line as the token stream it came from.
    [ "$(pnm-dump -H "$TOK" | cut -d';' -f2)" = "$(pnm-dump -H "$FEAT" | cut -d';' -f2)" ]
    # Runs of equal buckets are written BUCKET:COUNT; counts add up to n.
    run bash -c "pnm-dump '$FEAT' | sed -n 2p | sed 's/^1: {//; s/}\$//' | awk -F'} {' '{
        for (w = 1; w <= NF; w++) { t = 0; k = split(\$w, b, \" \");
            for (i = 1; i <= k; i++) { c = 1; if (split(b[i], p, \":\") == 2) c = p[2]; t += c }
            printf \"%d \", t } print \"\" }'"
    assert_output "64 64 64 "
}

@test "dump: --ids prints piece ids (numbers below the vocabulary size)" {
    run --separate-stderr pnm-dump --ids "$TOK"
    assert_success
    assert_line --index 1 --regexp '^1: [0-9]+( [0-9]+)*( \| [0-9]+( [0-9]+)*){2}$'
    assert_line --index 2 "2:"
    assert_line --index 3 --regexp '^3: [0-9]+( [0-9]+)*( \| [0-9]+( [0-9]+)*){4}$'
    local size
    size=$(pnm-dump -H "$TOK" | sed 's/.*(\([0-9]*\) pieces).*/\1/')
    run bash -c "pnm-dump --ids '$TOK' | grep -v '^#' | cut -d: -f2 | tr ' |' '\n\n' | awk 'NF { if (\$1 + 0 >= $size) bad++; n++ } END { print n, bad + 0 }'"
    assert_output --regexp '^[0-9]+ 0$'
    # --ids and the piece strings agree word for word with --json.
    run bash -c "pnm-dump --json '$TOK' | sed -n 2p"
    local first
    first=$(pnm-dump --ids "$TOK" | sed -n 2p | sed 's/^1: //; s/ | .*//')
    assert_output --partial "{\"ids\":[${first// /,}],"
}

@test "dump: --header-only prints just the header line" {
    run --separate-stderr pnm-dump --header-only "$TOK"
    assert_success
    [ "${#lines[@]}" -eq 1 ]
    assert_output --regexp '^# pnm tokens stream, version 1; '
    run --separate-stderr pnm-dump -H "$FEAT"
    assert_success
    [ "${#lines[@]}" -eq 1 ]
    assert_output --regexp '^# pnm features stream, version 1; .*; m=1024 n=64 w=1 seed=0$'
    run --separate-stderr pnm-dump -H --json "$FEAT"
    assert_success
    [ "${#lines[@]}" -eq 1 ]
    assert_output --regexp '^\{"kind":"features",'
}

# ---- JSON ------------------------------------------------------------------

@test "dump: --json prints one object per line; the header object has kind" {
    run --separate-stderr pnm-dump --json "$TOK"
    assert_success
    [ "${#lines[@]}" -eq 5 ]
    assert_line --index 0 --regexp '^\{"kind":"tokens","version":1,"zstd":false,"vocab_id":"[0-9a-f]{16}","vocab_size":[0-9]+,"max_words":0\}$'
    assert_line --index 1 --regexp '^\{"line":1,"words":\[\{"ids":\[[0-9,]+\],"pieces":\["▁[^]]*\]\}(,\{"ids":\[[0-9,]+\],"pieces":\[[^]]*\]\}){2}\]\}$'
    assert_line --index 2 '{"line":2,"words":[]}'
    assert_line --index 3 --regexp '^\{"line":3,'
    assert_line --index 4 '{"end":{"records":3}}'
    run --separate-stderr pnm-dump -j "$FEAT"
    assert_success
    assert_line --index 0 --regexp '^\{"kind":"features",.*"features":1024,"hashes":64,"window":1,"seed":0\}$'
    assert_line --index 1 --regexp '^\{"line":1,"words":\[\[[0-9,]+\],\[[0-9,]+\],\[[0-9,]+\]\]\}$'
    assert_line --index 2 '{"line":2,"words":[]}'
    assert_line --index 4 '{"end":{"records":3}}'
}

@test "dump: --json escapes quotes and backslashes in pieces" {
    run bash -c 'printf "%s\n" "say \"hi\" c:\\music" | pnm-tokenize -m "$VOCAB" | pnm-dump --json'
    assert_success
    # Every piece string is a well-formed JSON string: no bare quote or
    # lone backslash inside.
    assert_line --index 1 --partial '\"'
    assert_line --index 1 --partial '\\'
    run bash -c 'printf "%s\n" "say \"hi\" c:\\music" | pnm-tokenize -m "$VOCAB" | pnm-dump --json |
        sed -n 2p | sed "s/\\\\\\\\//g; s/\\\\\"//g" | grep -o "\"" | wc -l'
    # After removing escapes, quotes come in pairs.
    [ $(( output % 2 )) -eq 0 ]
}

@test "dump: zstd streams say so in the header" {
    run pnm-dump -H "$TINYZ"
    assert_output --regexp '^# pnm tokens stream, version 1, zstd; vocabulary '
    run pnm-dump -H --json "$TINYZ"
    assert_output --partial '"zstd":true'
    run pnm-dump "$TINYZ"
    assert_success
    assert_line --index 3 "# end of stream, 2 records"
}

# ---- damaged input ---------------------------------------------------------

@test "dump: garbage input is 'not a pnm stream'" {
    run --separate-stderr pnm-dump <<< "hello, this is not a stream at all"
    assert_failure 1
    assert_stderr_contains "standard input: not a pnm stream"
    assert_output ""
    head -c 4096 /dev/urandom > "$BATS_TEST_TMPDIR/random.bin"
    printf 'XX' | dd of="$BATS_TEST_TMPDIR/random.bin" bs=1 conv=notrunc status=none
    run --separate-stderr pnm-dump "$BATS_TEST_TMPDIR/random.bin"
    assert_failure 1
    assert_stderr_contains "random.bin: not a pnm stream"
    run --separate-stderr pnm-dump < /dev/null
    assert_failure 1
    assert_stderr_contains "empty input"
}

@test "dump: a wrong version byte is refused naming the version" {
    cp "$TOK" "$BATS_TEST_TMPDIR/v.pnm"
    set_byte "$BATS_TEST_TMPDIR/v.pnm" 4 2
    run --separate-stderr pnm-dump "$BATS_TEST_TMPDIR/v.pnm"
    assert_failure 1
    assert_stderr_contains "version 2 is not supported"
    assert_output ""
    set_byte "$BATS_TEST_TMPDIR/v.pnm" 4 0
    run --separate-stderr pnm-dump "$BATS_TEST_TMPDIR/v.pnm"
    assert_failure 1
    assert_stderr_contains "version 0"
}

@test "dump: a model file is summed up; in a pipe, named as a model" {
    local model=$BATS_TEST_DIRNAME/../models/default.pnm
    run -0 pnm-dump -H "$model"
    assert_output --regexp '^# pnm model [0-9a-f]{16}, float weights; '
    run --separate-stderr pnm-dump < <(cat "$model")
    assert_failure 1
    assert_stderr_contains "a pnm model, not a stream (models go after -m)"
    assert_output ""
    run --separate-stderr pnm-classify -m "$model" "$model"
    assert_failure 1
    assert_stderr_contains "a pnm model, not a stream"
}

@test "dump: an unknown kind byte is refused" {
    cp "$TOK" "$BATS_TEST_TMPDIR/k.pnm"
    set_byte "$BATS_TEST_TMPDIR/k.pnm" 3 88 # X
    run --separate-stderr pnm-dump "$BATS_TEST_TMPDIR/k.pnm"
    assert_failure 1
    assert_stderr_contains "unknown pnm stream kind 'X'"
    assert_output ""
    # A tokens stream relabelled as features fails its checks too.
    cp "$TOK" "$BATS_TEST_TMPDIR/k.pnm"
    set_byte "$BATS_TEST_TMPDIR/k.pnm" 3 70 # F
    run --separate-stderr pnm-dump "$BATS_TEST_TMPDIR/k.pnm"
    assert_failure 1
    assert_stderr_contains "corrupt header"
}

# The loops below run in a plain bash (via run_loop), away from bats' per
# command traps, to stay fast.

# cut_every_offset FILE TMP: cuts FILE at every offset 0..size-1 and checks
# that pnm-dump fails with exactly one line on stderr. Prints the failures.
cut_every_offset() {
    local f=$1 tmp=$2 size off bad=0
    size=$(wc -c < "$f")
    for (( off = 0; off < size; off++ )); do
        head -c "$off" "$f" > "$tmp/cut"
        if pnm-dump "$tmp/cut" > /dev/null 2> "$tmp/err"; then
            echo "cut at $off of $size: exit 0"; bad=1
        elif [ ! -s "$tmp/err" ]; then
            echo "cut at $off of $size: no message"; bad=1
        elif [ "$(wc -l < "$tmp/err")" -ne 1 ]; then
            echo "cut at $off of $size: more than one line: $(cat "$tmp/err")"; bad=1
        fi
    done
    echo "checked $size offsets"
    return "$bad"
}

# flip_every_offset FILE TMP: flips one bit (bit off % 8) of every byte of
# FILE in turn and checks that pnm-dump fails with a message.
flip_every_offset() {
    local f=$1 tmp=$2 size off bad=0 bytes
    size=$(wc -c < "$f")
    bytes=($(od -An -tu1 -v "$f"))
    [ "${#bytes[@]}" -eq "$size" ] || { echo "od read ${#bytes[@]} of $size bytes"; return 1; }
    for (( off = 0; off < size; off++ )); do
        {
            head -c "$off" "$f"
            printf "\\$(printf '%03o' $(( bytes[off] ^ (1 << (off % 8)) )))"
            tail -c +"$(( off + 2 ))" "$f"
        } > "$tmp/flip"
        if cmp -s "$f" "$tmp/flip"; then
            echo "flip at $off changed nothing"; bad=1
        elif pnm-dump "$tmp/flip" > /dev/null 2> "$tmp/err"; then
            echo "flip at $off of $size: exit 0"; bad=1
        elif [ ! -s "$tmp/err" ]; then
            echo "flip at $off of $size: no message"; bad=1
        fi
    done
    echo "checked $size offsets"
    return "$bad"
}

# run_loop FUNCTION ARG...: runs FUNCTION in a fresh bash.
run_loop() {
    run bash -c "$(declare -f "$1"); $(printf '%q ' "$@")"
}

@test "dump: token stream truncated at every byte offset: always an error with a message" {
    run_loop cut_every_offset "$TINY" "$BATS_TEST_TMPDIR"
    assert_success
    assert_output "checked $(byte_size "$TINY") offsets"
    pnm-dump "$TINY" > /dev/null
}

@test "dump: features stream truncated at every byte offset: always an error with a message" {
    run_loop cut_every_offset "$TINYF" "$BATS_TEST_TMPDIR"
    assert_success
    assert_output "checked $(byte_size "$TINYF") offsets"
    pnm-dump "$TINYF" > /dev/null
}

@test "dump: truncation past the magic is reported as 'truncated'" {
    local f off msg
    for f in "$TINY" "$TINYF"; do
        for off in 4 8 40 71 72 73 $(( $(byte_size "$f") - 17 )) $(( $(byte_size "$f") - 16 )) \
                   $(( $(byte_size "$f") - 9 )) $(( $(byte_size "$f") - 1 )); do
            head -c "$off" "$f" > "$BATS_TEST_TMPDIR/cut"
            run --separate-stderr pnm-dump "$BATS_TEST_TMPDIR/cut"
            echo "$(basename "$f") cut at $off"
            assert_failure 1
            assert_stderr_contains "truncated stream"
        done
    done
}

@test "dump: a bit flip at any offset of a token stream is an error (all checksummed)" {
    run_loop flip_every_offset "$TINY" "$BATS_TEST_TMPDIR"
    assert_success
    assert_output "checked $(byte_size "$TINY") offsets"
}

@test "dump: a bit flip at any offset of a features stream is an error (all checksummed)" {
    run_loop flip_every_offset "$TINYF" "$BATS_TEST_TMPDIR"
    assert_success
    assert_output "checked $(byte_size "$TINYF") offsets"
}

@test "dump: a flipped record byte names the checksum and the byte offset" {
    local size
    size=$(byte_size "$TINY")
    flip_byte "$TINY" $(( size - 17 )) 128 "$BATS_TEST_TMPDIR/flip"
    run --separate-stderr pnm-dump "$BATS_TEST_TMPDIR/flip"
    assert_failure 1
    assert_stderr_contains "checksum mismatch in record at byte offset"
    # The first record is still printed; the damaged second is not.
    assert_line --index 1 --regexp '^1: '
    [ "${#lines[@]}" -eq 2 ]
    # In the header: the header checksum.
    flip_byte "$TINY" 80 1 "$BATS_TEST_TMPDIR/flip"
    run --separate-stderr pnm-dump "$BATS_TEST_TMPDIR/flip"
    assert_failure 1
    assert_stderr_contains "corrupt header: checksum mismatch"
    assert_output ""
}

@test "dump: data appended after the end marker is an error" {
    { cat "$TOK"; printf 'x'; } > "$BATS_TEST_TMPDIR/extra.pnm"
    run --separate-stderr pnm-dump "$BATS_TEST_TMPDIR/extra.pnm"
    assert_failure 1
    assert_stderr_contains "data after the end marker"
    refute_output --partial "# end of stream"
    cat "$TOK" "$TOK" > "$BATS_TEST_TMPDIR/twice.pnm"
    run --separate-stderr pnm-dump "$BATS_TEST_TMPDIR/twice.pnm"
    assert_failure 1
    assert_stderr_contains "data after the end marker"
    # Also inside a zstd stream.
    { pnm-dump --json "$TINYZ" > /dev/null; cat "$TINYZ"; printf 'x'; } > "$BATS_TEST_TMPDIR/extra.z"
    run --separate-stderr pnm-dump "$BATS_TEST_TMPDIR/extra.z"
    assert_failure 1
    [ -n "$stderr" ]
}

@test "dump: a wrong record count in the end marker is an error" {
    # Stream of 2 records with the end marker of a 1-record stream: take
    # header + records of TINY, end marker of a 1-line stream.
    local size
    size=$(byte_size "$TINY")
    printf 'play some jazz\n' | pnm-tokenize -m "$BATS_FILE_TMPDIR/tiny.model" > "$BATS_TEST_TMPDIR/one.tok"
    { head -c $(( size - 16 )) "$TINY"; tail -c 16 "$BATS_TEST_TMPDIR/one.tok"; } > "$BATS_TEST_TMPDIR/count.tok"
    run --separate-stderr pnm-dump "$BATS_TEST_TMPDIR/count.tok"
    assert_failure 1
    assert_stderr_contains "end marker counts 1 records, the stream holds 2"
}

@test "dump: a zstd stream truncated anywhere is an error" {
    run_loop cut_every_offset "$TINYZ" "$BATS_TEST_TMPDIR"
    assert_success
    assert_output "checked $(byte_size "$TINYZ") offsets"
    local size
    size=$(byte_size "$TINYZ")
    head -c $(( size - 3 )) "$TINYZ" > "$BATS_TEST_TMPDIR/cut"
    run --separate-stderr pnm-dump "$BATS_TEST_TMPDIR/cut"
    assert_failure 1
    assert_stderr_contains "truncated zstd data"
}

@test "dump: a long zstd stream truncated in the middle keeps its first records" {
    corpus_text > "$BATS_TEST_TMPDIR/c.txt"
    for i in 1 2 3 4 5 6 7 8 9 10; do cat "$BATS_TEST_TMPDIR/c.txt"; done |
        pnm-tokenize -m "$VOCAB" -z1 > "$BATS_TEST_TMPDIR/big.z"
    local size
    size=$(byte_size "$BATS_TEST_TMPDIR/big.z")
    head -c $(( size / 2 )) "$BATS_TEST_TMPDIR/big.z" > "$BATS_TEST_TMPDIR/half.z"
    run --separate-stderr pnm-dump "$BATS_TEST_TMPDIR/half.z"
    assert_failure 1
    assert_stderr_contains "truncated"
    refute_output --partial "# end of stream"
}

@test "dump: | head -1 on a long stream is clean" {
    run --separate-stderr bash -c '
        yes "play some jazz" | head -50000 | pnm-tokenize -m "$VOCAB" -z > "$BATS_TEST_TMPDIR/long.z"
        pnm-dump "$BATS_TEST_TMPDIR/long.z" | head -1; echo "status ${PIPESTATUS[*]}"'
    assert_line --index 0 --partial "# pnm tokens stream, version 1, zstd;"
    assert_line --index 1 --regexp '^status (0|141) 0$'
    assert_stderr_empty
}

@test "dump: writing to /dev/full fails with a write error" {
    [ -w /dev/full ] || skip "/dev/full not available"
    run --separate-stderr bash -c "pnm-dump '$TOK' > /dev/full"
    assert_failure 1
    assert_stderr_contains "write error"
}
