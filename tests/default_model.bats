#!/usr/bin/env bats
# The default model: without -m, pnm-tokenize, pnm-project, pnm-mix and
# pnm-classify use $PNM_MODEL, else PREFIX/share/pnm/default.pnm, else
# PREFIX/models/default.pnm, PREFIX being the directory above the running
# executable's. The programs are copied into temporary trees, since where
# they were built says nothing about where a model is.

bats_require_minimum_version 1.5.0
load helper

SHIPPED="$BATS_TEST_DIRNAME/../models/default.pnm"

# tree DIR PLACE: copies the programs into DIR/bin and the shipped model to
# DIR/PLACE/default.pnm (PLACE: models or share/pnm).
tree() {
    local p
    mkdir -p "$1/bin" "$1/$2"
    for p in pnm-tokenize pnm-project pnm-mix pnm-classify; do
        cp "$PNM_BIN/$p" "$1/bin/"
    done
    cp "$SHIPPED" "$1/$2/default.pnm"
}

# pipeline DIR [STAGE]...: text on stdin through DIR/bin's tokenize,
# project and the stages given (default: classify), none with -m.
pipeline() (
    set -o pipefail
    local dir=$1 s
    shift
    [[ $# -gt 0 ]] || set -- pnm-classify
    local cmd="'$dir/bin/pnm-tokenize' | '$dir/bin/pnm-project'"
    for s in "$@"; do cmd+=" | '$dir/bin/$s'"; done
    eval "$cmd"
)

# hidden_header [-m MODEL]: the header of the hidden stream that text on
# stdin becomes through $TREE/bin, every stage given the same options.
hidden_header() (
    set -o pipefail
    local b=$TREE/bin
    "$b/pnm-tokenize" "$@" | "$b/pnm-project" "$@" | "$b/pnm-mix" "$@" | pnm-dump --header-only
)

setup_file() {
    need_model_programs
    make_vocab
    [[ -f "$SHIPPED" ]] || { echo "$SHIPPED not found" >&2; return 1; }
    unset PNM_MODEL
    TREE="$BATS_FILE_TMPDIR/clone"
    export TREE
    tree "$TREE" models
    toy_tsv > "$BATS_FILE_TMPDIR/toy.tsv"
    TOY="$BATS_FILE_TMPDIR/toy.pnm"
    export TOY
    train_tiny "$BATS_FILE_TMPDIR/toy.tsv" "$TOY"
}

setup() {
    unset PNM_MODEL
}

@test "default model: the pipeline without -m names SNIPS intents" {
    printf '%s\n' "play some jazz" "what will the weather be in paris tomorrow" \
        "book a table for four at an italian restaurant" \
        "add this song to my workout playlist" "rate this book five out of six stars" \
        "find movie times at the nearest cinema" "show me the tv series the office" \
        > "$BATS_TEST_TMPDIR/q.txt"
    run --separate-stderr pipeline "$TREE" < "$BATS_TEST_TMPDIR/q.txt"
    assert_success
    assert_stderr_empty
    assert_output "$(printf '%s\n' PlayMusic GetWeather BookRestaurant AddToPlaylist RateBook \
        SearchScreeningEvent SearchCreativeWork)"
}

@test "default model: through pnm-mix too, and the same labels as with -m" {
    local q="will it snow in oslo this weekend"
    run pipeline "$TREE" pnm-mix pnm-classify <<< "$q"
    assert_success
    assert_output GetWeather
    run classify_text "$SHIPPED" <<< "$q"
    assert_output GetWeather
}

@test "default model: the installed layout (share/pnm) is found, and wins over models/" {
    local dir="$BATS_TEST_TMPDIR/usr"
    tree "$dir" share/pnm
    run pipeline "$dir" <<< "play the new album by queen"
    assert_success
    assert_output PlayMusic
    # A toy model under models/ must not be taken while share/pnm has one.
    mkdir "$dir/models"
    cp "$TOY" "$dir/models/default.pnm"
    TREE=$dir run hidden_header <<< x
    assert_success
    assert_output "$(TREE=$dir hidden_header -m "$SHIPPED" <<< x)"
}

@test "default model: a link to a program finds the model beside its target" {
    mkdir "$BATS_TEST_TMPDIR/links"
    local p
    for p in pnm-tokenize pnm-project pnm-classify; do
        ln -s "$TREE/bin/$p" "$BATS_TEST_TMPDIR/links/$p"
    done
    run bash -c "set -o pipefail; echo 'play some jazz' | '$BATS_TEST_TMPDIR/links/pnm-tokenize' \
        | '$BATS_TEST_TMPDIR/links/pnm-project' | '$BATS_TEST_TMPDIR/links/pnm-classify'"
    assert_success
    assert_output PlayMusic
}

@test "default model: PNM_MODEL overrides the default, and -m overrides PNM_MODEL" {
    local want_toy want_shipped
    want_toy=$(hidden_header -m "$TOY" <<< "weather in berlin")
    want_shipped=$(hidden_header -m "$SHIPPED" <<< "weather in berlin")
    [[ "$want_toy" != "$want_shipped" ]]
    PNM_MODEL=$TOY run hidden_header <<< "weather in berlin"
    assert_success
    assert_output "$want_toy"
    PNM_MODEL=$TOY run hidden_header -m "$SHIPPED" <<< "weather in berlin"
    assert_success
    assert_output "$want_shipped"
    # An empty PNM_MODEL counts as unset.
    PNM_MODEL= run hidden_header <<< "weather in berlin"
    assert_output "$want_shipped"
}

@test "default model: a PNM_MODEL that does not exist is an error naming it" {
    PNM_MODEL="$BATS_TEST_TMPDIR/none.pnm" run --separate-stderr \
        "$TREE/bin/pnm-classify" < /dev/null
    assert_failure 1
    assert_stderr_contains "none.pnm"
    assert_output ""
}

@test "default model: none found is a usage error that says -m is needed and where it looked" {
    local p prog dir
    for p in pnm-tokenize pnm-mix pnm-classify; do
        prog=$(lone_program "$p")
        dir=$(dirname "$(dirname "$prog")")
        run --separate-stderr "$prog" < /dev/null
        assert_failure 2
        assert_stderr_contains "$p: no model: give -m FILE or set PNM_MODEL"
        assert_stderr_contains "$dir/share/pnm/default.pnm"
        assert_stderr_contains "$dir/models/default.pnm"
        assert_stderr_contains "Try '$p --help'"
        assert_output ""
    done
}

@test "default model: pnm-project takes its settings for its own vocabulary only" {
    local b=$TREE/bin
    # The shipped model projects with n=128 w=0, not the built-in n=64 w=1.
    run bash -c "set -o pipefail; echo hi | '$b/pnm-tokenize' | '$b/pnm-project' \
        | pnm-dump --header-only"
    assert_success
    assert_output --partial "m=1024 n=128 w=0 seed=0"
    # Options given: they win, as before.
    run bash -c "set -o pipefail; echo hi | '$b/pnm-tokenize' | '$b/pnm-project' -n 32 \
        | pnm-dump --header-only"
    assert_output --partial "m=1024 n=32 w=1 seed=0"
    # Another vocabulary: the built-in settings, as without a default model.
    run bash -c "set -o pipefail; echo hi | '$b/pnm-tokenize' -m '$VOCAB' | '$b/pnm-project' \
        | pnm-dump --header-only"
    assert_success
    assert_output --partial "m=1024 n=64 w=1 seed=0"
}

@test "default model: pnm-project needs none" {
    run bash -c "set -o pipefail; echo hi | pnm-tokenize -m '$VOCAB' \
        | env -u PNM_MODEL '$(lone_program pnm-project)' | pnm-dump --header-only"
    assert_success
    assert_output --partial "m=1024 n=64 w=1 seed=0"
}
