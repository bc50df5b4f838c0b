#!/usr/bin/env bats
# Bash completion (completion/pnm.bash): options from each program's --help,
# the listed choices checked against --help so that they cannot drift.

bats_require_minimum_version 1.5.0

load helper

setup() {
    # shellcheck source=../completion/pnm.bash
    source "$BATS_TEST_DIRNAME/../completion/pnm.bash"
    cd "$BATS_TEST_TMPDIR"
}

# complete_line WORD...: what completing the last WORD offers, one a line
# (bash splits "--opt=" into "--opt" "=" and "", as here).
complete_line() {
    COMP_WORDS=("$@")
    COMP_CWORD=$(($# - 1))
    _pnm
    printf '%s\n' "${COMPREPLY[@]}"
}

# help_of PROGRAM OPTION: the lines of PROGRAM's --help that describe OPTION,
# from its line to the next option or blank line.
help_of() {
    "$1" --help | awk -v opt="$2" '
        found && (/^ *-/ || /^$/) { exit }
        index($0, opt "=") && /^ *-/ { found = 1 }
        found'
}

@test "completion: every program is registered, and nothing else" {
    local registered programs
    registered=$(complete -p | awk '$NF ~ /^pnm-/ && /-F _pnm / { print $NF }' | sort)
    programs=$(cd "$BATS_TEST_DIRNAME/../cmd" && ls pnm-*.c | sed 's/\.c$//' | sort)
    assert_equal "$registered" "$programs"
}

@test "completion: pnm-train --pre completes to --preset" {
    run -0 complete_line pnm-train --pre
    assert_output "--preset"
}

@test "completion: pnm-train --preset offers the preset names" {
    run -0 complete_line pnm-train --preset ""
    assert_output "$(printf '%s\n' x-small small base large x-large)"
    run -0 complete_line pnm-train -p ""
    assert_line small
    run -0 complete_line pnm-train --preset = s
    assert_output small
}

@test "completion: --format offers each program's formats" {
    run -0 complete_line pnm-classify --format ""
    assert_output "$(printf '%s\n' text tsv json)"
    run -0 complete_line pnm-eval --format = t
    assert_output "$(printf '%s\n' text tsv)"
}

@test "completion: a dash offers every option of --help, long and short" {
    local want
    run -0 complete_line pnm-classify -
    want=$(pnm-classify --help | grep -oE '^ +(-[a-zA-Z], )?--[a-z-]+' |
        grep -oE -- '--?[a-zA-Z][a-z-]*' | sort)
    assert_equal "$(sort <<< "$output")" "$want"
}

@test "completion: FILE values and arguments complete file names, others nothing" {
    touch model.pnm queries.txt
    run -0 complete_line pnm-classify -m mo
    assert_output model.pnm
    run -0 complete_line pnm-tokenize --vocab = q
    assert_output queries.txt
    run -0 complete_line pnm-classify --probs q
    assert_output queries.txt
    run -0 complete_line pnm-project --zstd q
    assert_output queries.txt
    run -0 complete_line pnm-train --seq-len ""
    assert_output ""
}

@test "completion: every listed choice is an option whose --help names each value" {
    local entry words value block
    for entry in "${_pnm_choices[@]}"; do
        read -r -a words <<< "$entry"
        block=$(help_of "${words[0]}" "${words[1]}")
        [[ -n $block ]] || fail "${words[0]} --help has no ${words[1]}=VALUE"
        for value in "${words[@]:2}"; do
            [[ " $block " =~ [^a-z-]${value}[^a-z-] ]] ||
                fail "${words[0]} --help does not name '$value' for ${words[1]}: $block"
        done
    done
}
