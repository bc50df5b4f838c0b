#!/usr/bin/env bats
# make install / make uninstall (mk/install.mk): into a temporary prefix,
# then an outside program (examples/classify.c) built with pkg-config
# against the installed library classifies as the installed programs do.

bats_require_minimum_version 1.5.0

load helper

ROOT=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
PNM_BUILD="${PNM_BUILD:-$ROOT/build}"

# pnm_make TARGET [VARIABLE=VALUE]...: make in the tree, on the build under
# test, as its own make (not a part of the make check that runs this).
pnm_make() {
    env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL \
        make -s -C "$ROOT" BUILD="$PNM_BUILD" BIN="$PNM_BIN" "$@"
}

# files_under DIR: the files and links under DIR, relative, sorted.
files_under() {
    (cd "$1" && find . \( -type f -o -type l \) | sed 's|^\./||' | sort)
}

# A sanitizer build (make check-sanitize) is not installed: its libpnm.so
# needs the sanitizer runtime in every program that links it.
sanitizer_build() {
    [[ -n ${PNM_SANITIZER_LOGS:-} ]]
}

setup_file() {
    sanitizer_build && return 0
    need_model_programs
    local d=$BATS_FILE_TMPDIR
    toy_tsv > "$d/toy.tsv"
    train_tiny "$d/toy.tsv" "$d/m.pnm" -e 10
    pnm_make install PREFIX="$d/prefix"
}

setup() {
    sanitizer_build && skip "a sanitizer build is not installed (make check tests install)"
    P=$BATS_FILE_TMPDIR/prefix
    M=$BATS_FILE_TMPDIR/m.pnm
    export PKG_CONFIG_PATH=$P/lib/pkgconfig
    cd "$BATS_TEST_TMPDIR"
}

@test "install: programs, libraries, headers, pnm.pc, man pages, completion, models" {
    local p f
    for p in "$ROOT"/cmd/pnm-*.c; do
        p=$(basename "$p" .c)
        [[ -x $P/bin/$p ]] || fail "bin/$p not installed"
        [[ -L $P/share/bash-completion/completions/$p ]] || fail "no completion for $p"
    done
    for f in lib/libpnm.a lib/libpnm.so lib/libpnm.so.0 include/pnm/pnm.h \
        include/pnm/classifier.h lib/pkgconfig/pnm.pc share/man/man1/pnm-train.1 \
        share/man/man3/pnm_classifier_open.3 share/man/man5/pnm-model.5; do
        [[ -e $P/$f ]] || fail "$f not installed"
    done
    for f in "$ROOT"/models/*.pnm; do
        [[ -e $f ]] || continue
        cmp "$f" "$P/share/pnm/$(basename "$f")"
    done
    run -0 "$P/bin/pnm-classify" --version
    assert_output --partial "pnm"
}

@test "install: the installed programs find the installed default model" {
    [[ -f $ROOT/models/default.pnm ]] || skip "models/default.pnm not in this tree"
    run -0 env -u PNM_MODEL bash -c "echo 'play some jazz by miles davis' | $P/bin/pnm-tokenize |
        $P/bin/pnm-project | $P/bin/pnm-classify"
    assert_output PlayMusic
}

@test "install: an outside program built with pkg-config classifies as the programs do" {
    run -0 pkg-config --modversion pnm
    assert_output "$(sed -n 's/^#define PNM_VERSION "\(.*\)"/\1/p' "$ROOT/lib/pnm.h")"
    # shellcheck disable=SC2046
    cc -o classify "$ROOT/examples/classify.c" $(pkg-config --cflags --libs pnm)
    LD_LIBRARY_PATH=$P/lib run -0 ldd ./classify
    assert_output --regexp "libpnm\.so\.0 => $P/lib/libpnm\.so\.0"
    local sentence="will it rain in new york tomorrow" want
    want=$(echo "$sentence" | "$P/bin/pnm-tokenize" -m "$M" | "$P/bin/pnm-project" -m "$M" |
        "$P/bin/pnm-classify" -m "$M")
    LD_LIBRARY_PATH=$P/lib run -0 ./classify "$M" "$sentence"
    assert_output "$want"
    assert_output --regexp $'^(PlayMusic|GetWeather|AddToList)\t(O|[BI]-[a-z]+)( (O|[BI]-[a-z]+)){6}$'
}

@test "install: it links statically with pkg-config --static" {
    local libs
    libs=$(pkg-config --static --libs pnm)
    # shellcheck disable=SC2086
    cc -o classify "$ROOT/examples/classify.c" $(pkg-config --cflags pnm) ${libs/-lpnm/-l:libpnm.a}
    run -0 ldd ./classify
    refute_output --partial libpnm
    run -0 ./classify "$M" "add milk to my list"
    assert_output --regexp $'^[A-Za-z]+\t'
}

@test "install: pnm's headers live under pnm/ and hide no system header" {
    printf '#include <limits.h>\n#include <pnm/pnm.h>\nint main(void) { return INT_MAX == 0; }\n' > t.c
    # shellcheck disable=SC2046
    cc -std=c11 -pedantic -Wall -Werror -o t t.c $(pkg-config --cflags --libs pnm)
}

@test "install: every function of classifier.h has a man page" {
    local fn page
    for fn in $(grep -oE '\bpnm_[a-z_]+\(' "$ROOT/lib/classifier.h" | tr -d '(' | sort -u); do
        page=$P/share/man/man3/$fn.3
        [[ -f $page ]] || fail "no man page for $fn"
        [[ $fn == pnm_classifier_open ]] || assert_equal "$(cat "$page")" ".so man3/pnm_classifier_open.3"
    done
}

@test "install: the installed completion registers every program" {
    # shellcheck disable=SC1091
    source "$P/share/bash-completion/completions/pnm-train"
    run -0 complete -p pnm-train
    assert_output --partial "_pnm"
}

@test "install: uninstall leaves no file behind" {
    local p=$BATS_TEST_TMPDIR/p
    pnm_make install PREFIX="$p"
    [[ -n $(files_under "$p") ]]
    pnm_make uninstall PREFIX="$p"
    run -0 files_under "$p"
    assert_output ""
}

@test "install: DESTDIR stages the files, pnm.pc keeps the prefix" {
    local d=$BATS_TEST_TMPDIR/stage
    pnm_make install DESTDIR="$d" PREFIX=/opt/pnm
    [[ -x $d/opt/pnm/bin/pnm-train && -f $d/opt/pnm/lib/libpnm.so.0 ]]
    run -0 grep '^prefix=' "$d/opt/pnm/lib/pkgconfig/pnm.pc"
    assert_output "prefix=/opt/pnm"
    pnm_make uninstall DESTDIR="$d" PREFIX=/opt/pnm
    run -0 files_under "$d"
    assert_output ""
}
