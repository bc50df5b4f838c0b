# Common setup for the pnm bats tests: load this with `load helper`.
#
# Most tests need a SentencePiece vocabulary; setup_file builds one from the
# small English corpus below (make_vocab), so the suite does not depend on
# ../shared/data. Tests that read the real data sets call need_data first.

load /usr/lib/bats/bats-support/load
load /usr/lib/bats/bats-assert/load

# The programs under test: $PNM_BIN (scripts/check sets it; make check-sanitize
# points it at build/sanitize/bin), else the repository's bin/.
PNM_BIN="${PNM_BIN:-$BATS_TEST_DIRNAME/../bin}"
export PNM_BIN
PATH="$PNM_BIN:$PATH"
export PATH
DATA="$BATS_TEST_DIRNAME/../../shared/data"
export DATA

# The vocabulary made once per file by make_vocab (in setup_file).
VOCAB="$BATS_FILE_TMPDIR/vocab.model"
export VOCAB

# Skips the current test when the data sets are not there.
need_data() {
    if [[ ! -f "$DATA/snips/train.tsv" || ! -f "$DATA/snips/test.tsv" ]]; then
        skip "../shared/data/snips not found: data-set tests skipped"
    fi
}

# Fails (in setup_file) when the programs have not been built.
need_programs() {
    local p
    for p in pnm-tokenize pnm-project pnm-dump; do
        if [[ ! -x "$PNM_BIN/$p" ]]; then
            echo "$PNM_BIN/$p not found: run make first" >&2
            return 1
        fi
    done
}

# Prints about 200 varied English lines (all of a-z, digits, a few accented
# letters), the same on every run.
corpus_text() {
    local subj=(i you we they "my friend" "the whole team" she he "our kids" "everybody here")
    local verb=(play book find show add rate search "listen to" get "tell me about" queue
                "look up" reserve "give me" "remind me of" "quickly pack")
    local obj=("some jazz" "a table for two" "the weather in paris" "this song"
               "my favourite playlist" "a movie at seven" "the latest news"
               "classical music" "a restaurant nearby" "the forecast for tomorrow"
               "three stars out of five" "rock and roll" "the new album by queen"
               "an italian place in brooklyn" "tickets for tonight" "the quiz show"
               "a cozy café" "twelve boxes of fuzzy jackets" "the zoo in oxford"
               "cold vodka and six lemons" "the 2019 world cup" "48 hours of sunshine")
    local tail=("please" "now" "today" "" "for me" "right away" "if possible"
                "this weekend" "at 9 pm" "with extra cheese")
    local i
    for ((i = 0; i < 200; i++)); do
        printf '%s %s %s %s\n' "${subj[i % ${#subj[@]}]}" "${verb[(i * 7) % ${#verb[@]}]}" \
            "${obj[(i * 5 + i / 22) % ${#obj[@]}]}" "${tail[(i * 3) % ${#tail[@]}]}"
    done
    echo "the quick brown fox jumps over the lazy dog"
    echo "pack my box with five dozen liquor jugs"
    echo "sphinx of black quartz judge my vow"
    echo "how vexingly quick daft zebras jump"
    echo "numbers like 0 1 2 3 4 5 6 7 8 9 and 10 or 100"
    for ((i = 1; i <= 6; i++)); do
        echo "she said \"play it again $i\" to me"
        echo "the folder is c:\\music\\jazz\\$i"
    done
}

# make_vocab [FILE [OPTION]...]: trains a vocabulary from corpus_text into
# FILE (default $VOCAB) with --vocab-size 300 unless options say otherwise.
make_vocab() {
    local out="${1:-$VOCAB}"
    shift || true
    [[ $# -gt 0 ]] || set -- --vocab-size 300
    need_programs || return 1
    corpus_text > "$BATS_FILE_TMPDIR/corpus.txt"
    pnm-tokenize --train-vocab "$@" -o "$out" "$BATS_FILE_TMPDIR/corpus.txt" || {
        echo "could not train a vocabulary into $out" >&2
        return 1
    }
}

# lone_program NAME: copies $PNM_BIN/NAME alone into a fresh directory
# (no models/ or share/pnm/ beside it) and prints the copy's path; run it
# with PNM_MODEL unset to see a program that finds no default model.
lone_program() {
    local dir
    dir=$(mktemp -d "$BATS_TEST_TMPDIR/lone.XXXXXX")
    mkdir "$dir/bin" && cp "$PNM_BIN/$1" "$dir/bin/" && echo "$dir/bin/$1"
}

# assert_stderr_contains TEXT: for `run --separate-stderr`.
assert_stderr_contains() {
    if [[ "$stderr" != *"$1"* ]]; then
        batslib_print_kv_single_or_multi 8 expected "$1" stderr "$stderr" |
            batslib_decorate "stderr does not contain the expected text" | fail
    fi
}

# assert_stderr_empty: for `run --separate-stderr`.
assert_stderr_empty() {
    if [[ -n "$stderr" ]]; then
        batslib_print_kv_single 6 stderr "$stderr" |
            batslib_decorate "stderr is not empty" | fail
    fi
}

# byte_size FILE
byte_size() {
    wc -c < "$1" | tr -d ' '
}

# flip_byte IN OFFSET MASK OUT: copies IN to OUT with the byte at OFFSET
# XORed with MASK (0..255).
flip_byte() {
    local in=$1 off=$2 mask=$3 out=$4 byte
    byte=$(od -An -tu1 -j "$off" -N1 "$in" | tr -d ' ')
    {
        head -c "$off" "$in"
        printf "\\$(printf '%03o' $(( byte ^ mask )))"
        tail -c +"$(( off + 2 ))" "$in"
    } > "$out"
}

# set_byte FILE OFFSET VALUE: overwrites one byte in place with VALUE (0..255).
set_byte() {
    printf "\\$(printf '%03o' "$3")" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

# assert_no_output_left PATH: neither PATH nor a PATH.tmp* temporary exists.
assert_no_output_left() {
    local left
    left=$(compgen -G "$1*" || true)
    if [[ -n "$left" ]]; then
        batslib_print_kv_single 4 left "$left" |
            batslib_decorate "output files were left behind" | fail
    fi
}

# only_files NAME...: the current directory holds exactly these names.
only_files() {
    local want got
    want=$(printf '%s\n' "$@" | sort)
    got=$(ls -A | sort)
    if [[ "$got" != "$want" ]]; then
        batslib_print_kv_single_or_multi 8 expected "$want" actual "$got" |
            batslib_decorate "unexpected files in $PWD" | fail
    fi
}

# ---- models: pnm-train, pnm-mix, pnm-classify --------------------------------

# Fails (in setup_file) when the model programs have not been built.
need_model_programs() {
    local p
    need_programs || return 1
    for p in pnm-train pnm-mix pnm-classify; do
        if [[ ! -x "$PNM_BIN/$p" ]]; then
            echo "$PNM_BIN/$p not found: run make first" >&2
            return 1
        fi
    done
}

# Skips the current test when ../shared/data/atis is not there.
need_atis() {
    if [[ ! -f "$DATA/atis/train.tsv" || ! -f "$DATA/atis/test.tsv" ]]; then
        skip "../shared/data/atis not found: data-set test skipped"
    fi
}

# Prints a toy joint task of 60 lines, LABEL<TAB>TEXT<TAB>TAGS, the same on
# every run: 3 intents (PlayMusic, GetWeather, AddToList), BIO tags (genre,
# city, date, item; two-word cities and items get I- tags). Small enough to
# learn in a few dozen epochs of an x-small model.
toy_tsv() {
    local genres=(jazz rock pop blues metal soul reggae)
    local cities=(paris london berlin "new york" tokyo oslo "los angeles")
    local items=(milk bread eggs apples cheese rice "peanut butter")
    local i g c it ct itt
    for ((i = 0; i < 20; i++)); do
        g=${genres[i % 7]} c=${cities[(i * 3) % 7]} it=${items[(i * 5) % 7]}
        ct=B-city itt=B-item
        [[ $c == *" "* ]] && ct="B-city I-city"
        [[ $it == *" "* ]] && itt="B-item I-item"
        case $((i % 3)) in
        0) printf 'PlayMusic\tplay some %s\tO O B-genre\n' "$g"
           printf 'GetWeather\tweather in %s\tO O %s\n' "$c" "$ct"
           printf 'AddToList\tadd %s to my list\tO %s O O O\n' "$it" "$itt" ;;
        1) printf 'PlayMusic\tput on %s music\tO O B-genre O\n' "$g"
           printf 'GetWeather\twill it rain in %s tomorrow\tO O O O %s B-date\n' "$c" "$ct"
           printf 'AddToList\tremember to buy %s\tO O O %s\n' "$it" "$itt" ;;
        2) printf 'PlayMusic\ti want to hear %s\tO O O O B-genre\n' "$g"
           printf 'GetWeather\thow cold is it in %s\tO O O O O %s\n' "$c" "$ct"
           printf 'AddToList\tput %s on my shopping list\tO %s O O O O\n' "$it" "$itt" ;;
        esac
    done
}

# toy_setup_file: what a setup_file of a model test starts with: the
# programs are there, $VOCAB is made, and $BATS_FILE_TMPDIR/toy.tsv holds
# toy_tsv.
toy_setup_file() {
    need_model_programs || return 1
    make_vocab || return 1
    toy_tsv > "$BATS_FILE_TMPDIR/toy.tsv"
}

# option_setup_file OPTION: for the tests of a model option: toy_setup_file,
# then toy models of 20 epochs, $BATS_FILE_TMPDIR/option.pnm with OPTION and
# plain.pnm without.
option_setup_file() {
    toy_setup_file || return 1
    local d=$BATS_FILE_TMPDIR
    train_tiny "$d/toy.tsv" "$d/option.pnm" -e 20 "$1"
    train_tiny "$d/toy.tsv" "$d/plain.pnm" -e 20
}

# option_setup: each test of an option_setup_file file starts in its own
# directory, with M the option's model and TOY the toy task.
option_setup() {
    cd "$BATS_TEST_TMPDIR"
    M=$BATS_FILE_TMPDIR/option.pnm
    TOY=$BATS_FILE_TMPDIR/toy.tsv
}

# assert_option_model WORD WEIGHTS: the options word of $M (byte 64 of the
# body, pnm-model(5)) is WORD, plain.pnm's is 0, and $M has WEIGHTS more
# weights than plain.pnm.
assert_option_model() {
    run bash -c "zstd -dc '$M' | od -A n -t u4 -j 64 -N 4"
    assert_success
    assert_equal "$(echo $output)" "$1"
    run bash -c "zstd -dc '$BATS_FILE_TMPDIR/plain.pnm' | od -A n -t u4 -j 64 -N 4"
    assert_equal "$(echo $output)" 0
    local a b
    a=$(zstd -dc "$M" | wc -c) b=$(zstd -dc "$BATS_FILE_TMPDIR/plain.pnm" | wc -c)
    assert_equal $((a - b)) $(($2 * 4))
}

# assert_toy_paths [PNM-CLASSIFY OPTION]...: $M has learned the toy task
# (100 % accuracy and slot F1), and pnm-mix | pnm-classify prints what the
# fused pipeline does, with the options, left in fused.tsv.
assert_toy_paths() {
    cut -f2 "$TOY" | classify_text "$M" -F tsv > pred.tsv
    run pnm-eval -F tsv "$TOY" pred.tsv
    assert_success
    assert_line --regexp '^accuracy +100\.00%'
    assert_line --regexp '^slot F1 +100\.00%'
    cut -f2 "$TOY" | classify_text "$M" -F tsv "$@" > fused.tsv
    cut -f2 "$TOY" | features_of "$M" | pnm-mix -m "$M" |
        pnm-classify -m "$M" -F tsv "$@" > mixed.tsv
    cmp fused.tsv mixed.tsv
}

# assert_int8_toy_paths: $M quantized with an int8 tagging head (option
# bits 2 and 3) has still learned the toy task, and the mixed path prints
# what the fused one does, with --probs.
assert_int8_toy_paths() {
    pnm-quantize -o q.pnm "$M"
    run bash -c "zstd -dc q.pnm | od -A n -t u4 -j 64 -N 4"
    (( ($(echo $output) & 12) == 12 )) || fail "options word $output"
    M=q.pnm assert_toy_paths --probs
}

# train_tiny TSV OUT [OPTION]...: a quick x-small model (s=16, 3 epochs,
# 1 thread, quiet); later options win.
train_tiny() {
    local tsv=$1 out=$2
    shift 2
    pnm-train --preset x-small -s 16 -e 3 --batch 32 -t 1 -q "$@" -o "$out" "$tsv"
}

# features_of MODEL: text on stdin -> MODEL's feature stream on stdout.
features_of() (
    set -o pipefail
    pnm-tokenize -m "$1" | pnm-project -m "$1"
)

# classify_text MODEL [PNM-CLASSIFY OPTION]...: text on stdin through the
# fused pipeline (tokenize | project | classify); fails if any stage fails.
classify_text() (
    set -o pipefail
    local m=$1
    shift
    pnm-tokenize -m "$m" | pnm-project -m "$m" | pnm-classify -m "$m" "$@"
)

# assert_scores_as_trained DIR [PNM-TRAIN OPTION]...: trains on DIR/train.tsv
# with the dev set DIR/dev.tsv (model in $BATS_TEST_TMPDIR), and asserts
# that the pipeline's predictions for the dev set, scored by pnm-eval, are
# exactly what pnm-train reported for its kept epoch: training's evaluation
# and the programs decode alike.
assert_scores_as_trained() {
    local data=$1 d=$BATS_TEST_TMPDIR
    shift
    run --separate-stderr pnm-train "$@" -d "$data/dev.tsv" -o "$d/dev.pnm" "$data/train.tsv"
    assert_success
    # "... kept the best dev epoch: accuracy A%, slot F1 F%, exact E%"
    local kept
    kept=$(printf '%s\n' "$stderr" | grep 'kept the best dev epoch' |
        sed 's/.*accuracy \([0-9.]*\)%, slot F1 \([0-9.]*\)%, exact \([0-9.]*\)%.*/\1 \2 \3/')
    [ -n "$kept" ]
    cut -f2 "$data/dev.tsv" | classify_text "$d/dev.pnm" > "$d/dev.pred"
    run pnm-eval "$data/dev.tsv" "$d/dev.pred"
    assert_success
    local acc f1 em
    acc=$(printf '%s\n' "$output" | awk '$1 == "accuracy" { sub("%", "", $2); print $2 }')
    f1=$(printf '%s\n' "$output" | awk '$1 == "slot" && $2 == "F1" { sub("%", "", $3); print $3 }')
    em=$(printf '%s\n' "$output" | awk '$1 == "exact" { sub("%", "", $3); print $3 }')
    assert_equal "$acc $f1 $em" "$kept"
}
