#!/usr/bin/env bats
# The bad-input matrix (issue 6): every row, for every program it concerns.
# A bad input gets a clear message on stderr, a non-zero exit and no output
# file left behind (-o writes a temporary file and renames it); an input that
# is odd but valid (empty lines, CRLF, NUL, a long line) is read as documented.
# Some rows are also tested, in more detail, in the program's own file
# (tokenize.bats, project.bats, mix.bats, classify.bats, dump.bats, eval.bats,
# train.bats); here each row is exercised across all programs at once.

bats_require_minimum_version 1.5.0

load helper

setup_file() {
    toy_setup_file
    local d=$BATS_FILE_TMPDIR
    cut -f1,3 "$d/toy.tsv" > "$d/toy.pred"
    # A: the toy model; B: another preset on A's vocabulary and projection.
    train_tiny "$d/toy.tsv" "$d/a.pnm"
    train_tiny "$d/toy.tsv" "$d/b.pnm" -m "$d/a.pnm" --preset small
    printf 'play some jazz\nweather in paris\n' > "$d/q.txt"
    pnm-tokenize -m "$d/a.pnm" -o "$d/ta" "$d/q.txt"
    pnm-project -m "$d/a.pnm" -o "$d/fa" "$d/ta"
    # Made with another vocabulary, and with another projection.
    pnm-tokenize -m "$VOCAB" "$d/q.txt" | pnm-project -o "$d/f-vocab"
    pnm-project -f 2048 -o "$d/f-proj" "$d/ta"
    # For the byte-by-byte rows, streams of a hundred bytes or so: T, a model
    # of the smallest sizes (8 KB), and a vocabulary of a few pieces.
    pnm-train -m "$BATS_TEST_DIRNAME/fuzz/vocab.model" -f 64 -n 4 -w 1 -s 4 -b 8 \
        --token-hidden 8 --channel-hidden 8 -L 1 -e 1 -t 1 -q -o "$d/tiny.pnm" "$d/toy.tsv"
    printf 'ab ba\n' > "$d/ab.txt"
    pnm-tokenize --train-vocab --vocab-size 8 --normalization identity -o "$d/ab.model" \
        "$d/ab.txt"
    local z
    for z in "" -z; do
        pnm-tokenize -m "$d/ab.model" $z -o "$d/t$z" "$d/ab.txt"
        echo "play jazz" | pnm-tokenize -m "$d/tiny.pnm" | pnm-project -m "$d/tiny.pnm" $z \
            -o "$d/f$z"
        pnm-mix -m "$d/tiny.pnm" $z -o "$d/h$z" "$d/f"
    done
}

setup() {
    A="$BATS_FILE_TMPDIR/a.pnm"
    B="$BATS_FILE_TMPDIR/b.pnm"
    T="$BATS_FILE_TMPDIR/tiny.pnm"
    S="$BATS_FILE_TMPDIR"
    TOY="$BATS_FILE_TMPDIR/toy.tsv"
    cd "$BATS_TEST_TMPDIR"
}

# The programs that read streams, as "KIND PROGRAM [OPTION]...": each reads
# a small stream of KIND (t, f or h: files $S/KIND and $S/KIND-z) from its
# last argument.
readers() {
    echo "t pnm-project"
    echo "f pnm-mix -m $T"
    echo "f pnm-classify -m $T"
    echo "h pnm-classify -m $T"
    echo "t pnm-dump"
    echo "f pnm-dump"
    echo "h pnm-dump"
}

# Does PROGRAM take -o? (pnm-dump writes standard output only.)
takes_output() {
    [[ $1 != pnm-dump ]]
}

# refused PATTERN WHAT CMD...: runs CMD (with -o out.tmp when it takes -o)
# and fails unless it exits 1 with one line on stderr matching the extended
# regular expression PATTERN, leaving no output file. WHAT names the case in
# a failure. Usable in loops (it does not use run), and run thousands of
# times: bash builtins only, besides CMD.
refused() {
    local pattern=$1 what=$2 status
    shift 2
    local -a cmd=("$@") errors left
    if takes_output "$1"; then
        cmd=("$1" -o out.tmp "${@:2}")
    fi
    "${cmd[@]}" > stdout.txt 2> stderr.txt && status=0 || status=$?
    mapfile -t errors < stderr.txt
    left=(out.tmp*)
    [[ -e ${left[0]} ]] || left=()
    if [[ $status -ne 1 || ${#errors[@]} -ne 1 || ! ${errors[0]} =~ $pattern ||
        ${#left[@]} -ne 0 ]]; then
        {
            echo "case: $what"
            echo "command: ${cmd[*]}"
            echo "status: $status (expected 1)"
            echo "stderr (expected one line matching /$pattern/):"
            printf '%s\n' "${errors[@]}"
            echo "left: ${left[*]}"
        } | fail
    fi
    rm -f "${left[@]}"
}

# head_bytes N IN OUT: the first N bytes of IN.
head_bytes() {
    head -c "$1" "$2" > "$3"
}

# ---- empty input -------------------------------------------------------------

@test "matrix: empty input: a stream reader refuses it, tokenize gives an empty stream" {
    local kind prog args
    : > empty
    while read -r kind prog args; do
        refused "empty input, not a pnm stream" "$prog on empty input" $prog $args empty
    done < <(readers)
    run --separate-stderr pnm-tokenize -m "$A" -o e.tok empty
    assert_success
    assert_stderr_empty
    run pnm-dump e.tok
    assert_output --partial "0 records"
    refused "no examples" "train on an empty file" pnm-train -m "$A" -q empty
    refused "no examples" "eval on an empty gold file" pnm-eval empty empty
}

# ---- empty lines ---------------------------------------------------------------

@test "matrix: empty lines stay records and output lines, through every stage" {
    printf '\n\nplay jazz\n\n' > q
    run --separate-stderr bash -c "pnm-tokenize -m '$A' q | pnm-project -m '$A' |
        pnm-mix -m '$A' | pnm-classify -m '$A'"
    assert_success
    assert_stderr_empty
    [[ ${#lines[@]} -eq 4 ]]
    # Empty lines in TSV: refused by eval (one line per gold line is the
    # contract), skipped by nobody silently.
    printf 'PlayMusic\tplay jazz\tO B-genre\n\n' > gold.tsv
    printf 'PlayMusic\tO B-genre\n\n' > pred.txt
    refused "line 2" "eval on an empty gold line" pnm-eval gold.tsv pred.txt
    refused "line 2" "train on an empty line" pnm-train -m "$A" -q gold.tsv
}

# ---- a 1 MB line -----------------------------------------------------------------

@test "matrix: a 1 MB line is one record of every stream and one output line" {
    local words=$((1 << 18))
    yes 'abc' | head -n "$words" | tr '\n' ' ' > big
    echo >> big
    [[ $(byte_size big) -eq $((4 * words + 1)) ]]
    pnm-tokenize -m "$A" -o big.tok big
    run pnm-dump --header-only big.tok
    pnm-project -m "$A" -o big.feat big.tok
    pnm-mix -m "$A" -o big.hid big.feat
    run pnm-dump big.hid
    assert_line --index 1 --regexp "^1: $words words, 16 rows x 64: "
    pnm-classify -m "$A" -o big.out big.hid
    [[ $(wc -l < big.out) -eq 1 ]]
    # One word of 1 MB: cut to PNM_MAX_WORD_BYTES, still one word.
    head -c $((1 << 20)) /dev/zero | tr '\0' 'x' > word
    run bash -c "pnm-tokenize -m '$A' word | pnm-dump -j | sed -n 2p | jq -c '.words | length'"
    assert_output "1"
    # In training and evaluation data.
    printf 'PlayMusic\t%s\n' "$(cat big)" > big.tsv
    head -n 20 "$TOY" | cut -f1,2 >> big.tsv
    pnm-train -m "$A" --preset x-small -s 16 -e 1 -t 1 -q -o big.pnm big.tsv
    cut -f1 big.tsv > big.pred
    run pnm-eval big.tsv big.pred
    assert_success
    assert_line --index 1 --partial "accuracy        100.00%  (21/21)"
}

# ---- invalid UTF-8 and NUL bytes --------------------------------------------------

@test "matrix: invalid UTF-8 is refused, naming the line and byte, by every text reader" {
    printf 'play jazz\nplay \xc3\x28 now\n' > bad.txt
    refused "line 2, byte 6: invalid UTF-8 \(0xc3\)" "tokenize" pnm-tokenize -m "$A" bad.txt
    refused "invalid UTF-8" "tokenize --train-vocab" pnm-tokenize --train-vocab bad.txt
    printf 'PlayMusic\tplay jazz\nPlayMusic\tplay \xff\n' > bad.tsv
    refused "bad.tsv: line 2, byte 16: invalid UTF-8 \(0xff\)" "train" \
        pnm-train -m "$A" -q bad.tsv
    refused "bad.tsv: line 2, byte 16: invalid UTF-8" "eval: gold" pnm-eval bad.tsv <(printf 'A\nA\n')
    printf 'PlayMusic\tplay jazz\nPlayMusic\tplay\n' > gold.tsv
    printf 'PlayMusic\nPlay\xe2\x82Music\n' > pred.txt
    refused "pred.txt: line 2, byte 5: invalid UTF-8" "eval: predictions" pnm-eval gold.tsv pred.txt
}

@test "matrix: a NUL byte separates words in text, and is refused in TSV" {
    printf 'play\0jazz\n' | pnm-tokenize -m "$A" > nul.tok
    printf 'play jazz\n' | pnm-tokenize -m "$A" > sp.tok
    cmp nul.tok sp.tok
    printf 'PlayMusic\tplay\0jazz\n' > nul.tsv
    refused "nul.tsv: line 1 contains a NUL byte" "train" pnm-train -m "$A" -q nul.tsv
    refused "nul.tsv: line 1 contains a NUL byte" "eval: gold" pnm-eval nul.tsv <(echo PlayMusic)
    printf 'PlayMusic\tplay jazz\n' > gold.tsv
    printf 'Play\0Music\n' > pred.txt
    refused "pred.txt: line 1 contains a NUL byte" "eval: predictions" pnm-eval gold.tsv pred.txt
}

# ---- CRLF line ends ---------------------------------------------------------------

@test "matrix: CRLF line ends read as LF in text, TSV and predictions" {
    printf 'play some jazz\nweather in paris\n' > lf.txt
    sed 's/$/\r/' lf.txt > crlf.txt
    pnm-tokenize -m "$A" lf.txt > lf.tok
    pnm-tokenize -m "$A" crlf.txt > crlf.tok
    cmp lf.tok crlf.tok
    head -n 30 "$TOY" > lf.tsv
    sed 's/$/\r/' lf.tsv > crlf.tsv
    train_tiny lf.tsv lf.pnm -m "$A" -e 1
    train_tiny crlf.tsv crlf.pnm -m "$A" -e 1
    cmp lf.pnm crlf.pnm
    cut -f2 lf.tsv | classify_text "$A" > lf.pred
    sed 's/$/\r/' lf.pred > crlf.pred
    pnm-eval lf.tsv lf.pred > lf.report
    pnm-eval crlf.tsv crlf.pred > crlf.report
    cmp lf.report crlf.report
}

# ---- truncated and damaged streams --------------------------------------------------

# Truncation at every byte offset of each small stream, plain and zstd.
@test "matrix: a stream truncated at any byte offset is refused by every reader" {
    local kind prog args z size cut
    while read -r kind prog args; do
        for z in "" -z; do
            size=$(byte_size "$S/$kind$z")
            for ((cut = 0; cut < size; cut++)); do
                head_bytes "$cut" "$S/$kind$z" part
                refused "truncated|empty input|not a pnm stream" \
                    "$prog: $kind$z cut at byte $cut of $size" $prog $args part
            done
        done
    done < <(readers)
}

# Every byte of a plain stream is covered by a checksum. In a zstd frame a
# few bits are not read at all (the frame header's unused bit): such a flip
# must then give exactly the output of the intact stream.
@test "matrix: a bit flipped at any byte offset of a stream is refused by every reader" {
    local kind prog args z size at
    while read -r kind prog args; do
        for z in "" -z; do
            size=$(byte_size "$S/$kind$z")
            $prog $args "$S/$kind$z" > intact.out
            for ((at = 0; at < size; at++)); do
                flip_byte "$S/$kind$z" "$at" 16 flipped
                if [[ -n $z ]] && $prog $args flipped > flipped.out 2>/dev/null; then
                    cmp -s intact.out flipped.out ||
                        fail "$prog: $kind$z, bit 4 of byte $at flipped: read as another stream"
                    continue
                fi
                refused "corrupt|checksum|not a pnm stream|unknown pnm stream kind|version|truncated|zstd" \
                    "$prog: $kind$z, bit 4 of byte $at flipped" $prog $args flipped
            done
        done
    done < <(readers)
}

@test "matrix: a bit flipped in a model file is refused by every program that loads one" {
    local size at prog input
    size=$(byte_size "$T")
    # Every 29th byte, then each of the last ones (frame end and checksum).
    for ((at = 0; at < size; at += at < size - 8 ? 29 : 1)); do
        flip_byte "$T" "$at" 4 flipped.pnm
        for prog in pnm-tokenize pnm-project pnm-mix pnm-classify pnm-train; do
            case $prog in
            pnm-tokenize) input=$S/ab.txt ;;
            pnm-project) input=$S/t ;;
            pnm-mix | pnm-classify) input=$S/f ;;
            pnm-train) input=$TOY ;;
            esac
            # Where -m also takes a SentencePiece model, a file that is no
            # longer a pnm model is refused as neither.
            refused "flipped.pnm: (corrupt model|not a pnm model|not a SentencePiece model)" \
                "$prog -m: bit 2 of byte $at flipped" $prog -m flipped.pnm "$input"
        done
    done
}

# ---- the wrong stream -----------------------------------------------------------------

@test "matrix: a stream of the wrong kind is refused, naming both kinds" {
    refused "features stream.*tokens|tokens.*features" "project on features" pnm-project "$S/fa"
    refused "hidden stream.*tokens|tokens.*hidden" "project on hidden" pnm-project "$S/h"
    refused "tokens stream.*features|features.*tokens" "mix on tokens" pnm-mix -m "$A" "$S/ta"
    refused "hidden stream.*features|features.*hidden" "mix on hidden" pnm-mix -m "$T" "$S/h"
    refused "tokens" "classify on tokens" pnm-classify -m "$A" "$S/ta"
}

@test "matrix: a stream of another format version is refused by every reader" {
    local kind prog args
    while read -r kind prog args; do
        cp "$S/$kind" v2
        set_byte v2 4 2
        refused "version 2 is not supported \(this program reads version 1\)" \
            "$prog: $kind of version 2" $prog $args v2
    done < <(readers)
}

@test "matrix: a stream made with another vocabulary or projection is refused" {
    refused "vocabulary" "project -m on another vocabulary's tokens" pnm-project -m "$A" "$S/t"
    refused "vocabulary" "mix on another vocabulary's features" pnm-mix -m "$A" "$S/f-vocab"
    refused "vocabulary" "classify on another vocabulary's features" \
        pnm-classify -m "$A" "$S/f-vocab"
    refused "m=2048|features|2048" "mix on another projection" pnm-mix -m "$A" "$S/f-proj"
    refused "m=2048|features|2048" "classify on another projection" \
        pnm-classify -m "$A" "$S/f-proj"
}

@test "matrix: a hidden stream made by a model of another preset is refused" {
    pnm-mix -m "$A" -o ha "$S/fa"
    refused "another model" "classify -m B on A's hidden stream" pnm-classify -m "$B" ha
    # Features do not depend on the preset: B reads A's features.
    run pnm-classify -m "$B" "$S/fa"
    assert_success
}

# ---- files ----------------------------------------------------------------------------

@test "matrix: a missing input or model file is refused, naming it" {
    local kind prog args
    while read -r kind prog args; do
        refused "missing: No such file or directory" "$prog: missing input" $prog $args missing
    done < <(readers)
    refused "missing: No such file or directory" "tokenize" pnm-tokenize -m "$A" missing
    refused "missing.pnm: No such file or directory" "tokenize -m" \
        pnm-tokenize -m missing.pnm "$S/q.txt"
    refused "missing.pnm: No such file or directory" "project -m" pnm-project -m missing.pnm "$S/ta"
    refused "missing.pnm: No such file or directory" "mix -m" pnm-mix -m missing.pnm "$S/fa"
    refused "missing.pnm: No such file or directory" "classify -m" \
        pnm-classify -m missing.pnm "$S/fa"
    refused "missing.pnm: No such file or directory" "train -m" pnm-train -m missing.pnm -q "$TOY"
    refused "missing: No such file or directory" "train" pnm-train -m "$A" -q missing
    refused "missing: No such file or directory" "eval: gold" pnm-eval missing "$S/q.txt"
    refused "missing: No such file or directory" "eval: predictions" pnm-eval "$TOY" missing
}

@test "matrix: an unreadable input or model file is refused, naming it" {
    if [[ $(id -u) -eq 0 ]]; then
        skip "running as root: root reads chmod 000 files"
    fi
    local kind prog args
    while read -r kind prog args; do
        cp "$S/$kind" locked
        chmod 000 locked
        refused "locked: Permission denied" "$prog: unreadable input" $prog $args locked
        rm -f locked
    done < <(readers)
    cp "$A" locked.pnm
    chmod 000 locked.pnm
    refused "locked.pnm: Permission denied" "mix -m" pnm-mix -m locked.pnm "$S/fa"
    refused "locked.pnm: Permission denied" "tokenize -m" pnm-tokenize -m locked.pnm "$S/q.txt"
}

# ---- output -----------------------------------------------------------------------------

@test "matrix: an unwritable output is refused, naming it, leaving nothing" {
    local -a cmds=(
        "pnm-tokenize -m $A $S/q.txt"
        "pnm-project $S/ta"
        "pnm-mix -m $T $S/f"
        "pnm-classify -m $T $S/h"
        "pnm-eval $TOY $S/toy.pred"
        "pnm-train -m $A -q -e 1 $TOY"
    )
    local c
    for c in "${cmds[@]}"; do
        set -- $c
        run --separate-stderr "$1" -o no/such/dir/out "${@:2}"
        [[ $status -eq 1 ]] || fail "$c -o no/such/dir/out: status $status"
        [[ $stderr == *"no/such/dir/out"* ]] || fail "$c: no file name in: $stderr"
    done
}

@test "matrix: a full disk (/dev/full) is an error, not a silent loss" {
    local -a cmds=(
        "pnm-tokenize -m $A $S/q.txt"
        "pnm-project $S/ta"
        "pnm-mix -m $T $S/f"
        "pnm-classify -m $T $S/h"
        "pnm-dump $S/h"
        "pnm-eval $TOY $S/toy.pred"
    )
    local c
    for c in "${cmds[@]}"; do
        $c > /dev/full 2> stderr.txt && fail "$c > /dev/full succeeded"
        grep -q "No space left on device" stderr.txt || fail "$c > /dev/full: $(cat stderr.txt)"
    done
}

# Quietly: no message, and status 0 or death by SIGPIPE (141), which shells
# take as a normal end in a pipeline (the programs keep SIGPIPE's default).
@test "matrix: | head -1 ends every program quietly" {
    # Enough output to fill the pipe: 3000 lines.
    local i
    for ((i = 0; i < 100; i++)); do cut -f2 "$TOY"; done | head -n 3000 > many.txt
    pnm-tokenize -m "$A" many.txt > many.tok
    pnm-project -m "$A" many.tok > many.feat
    pnm-mix -m "$A" many.feat > many.hid
    for ((i = 0; i < 50; i++)); do cat "$TOY"; done > many.tsv
    cut -f1 many.tsv > many.pred
    local -a cmds=(
        "pnm-tokenize -m $A many.txt"
        "pnm-tokenize -m $A --pieces many.txt"
        "pnm-project many.tok"
        "pnm-mix -m $A many.feat"
        "pnm-classify -m $A many.hid"
        "pnm-dump many.feat"
        "pnm-eval --task classify -c 1000 many.tsv many.pred"
    )
    local c
    for c in "${cmds[@]}"; do
        run --separate-stderr bash -c "$c | head -c 1 > /dev/null; echo \${PIPESTATUS[0]}"
        [[ $output == 0 || $output == 141 ]] || fail "$c | head: status $output, stderr: $stderr"
        [[ -z $stderr ]] || fail "$c | head: stderr: $stderr"
    done
}
