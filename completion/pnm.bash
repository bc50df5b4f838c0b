# bash completion for the pnm programs (installed by make install into
# share/bash-completion/completions as pnm, with a link per program name).
#
# The options are read from the program's own --help when completing, so
# they cannot drift from the program. Values are completed for options that
# take a file (FILE) and for those that take one of a few words, listed in
# _pnm_choices; tests/completion.bats checks those words against --help.

_pnm_choices=(
    "pnm-classify --format text tsv json"
    "pnm-eval --format text tsv"
    "pnm-eval --task classify joint tag"
    "pnm-tokenize --model-type unigram bpe"
    "pnm-train --task classify joint tag"
    "pnm-train --preset x-small small base large x-large"
    "pnm-train --schedule cosine constant"
)

# _pnm_options PROGRAM: one line "SHORT LONG ARG" per option in PROGRAM's
# --help: SHORT is - when there is none; ARG is the value's name, or - when
# the option takes no value or takes it only as --option=VALUE (--zstd[=N]).
_pnm_options() {
    local line arg re='^ +(-([[:alnum:]]), )?(--[[:alnum:]-]+)(\[?=([[:upper:]]+))?'
    while IFS= read -r line; do
        [[ $line =~ $re ]] || continue
        arg=${BASH_REMATCH[5]:--}
        [[ ${BASH_REMATCH[4]} == '['* ]] && arg=-
        printf '%s %s %s\n' "${BASH_REMATCH[2]:+-${BASH_REMATCH[2]}}" "${BASH_REMATCH[3]}" "$arg"
    done < <("$1" --help 2>/dev/null) | sed 's/^ /- /'
}

# _pnm_values PROGRAM OPTION ARG CUR: the values of OPTION starting CUR.
_pnm_values() {
    local entry name=${1##*/}
    for entry in "${_pnm_choices[@]}"; do
        read -r -a entry <<< "$entry"
        if [[ ${entry[0]} == "$name" && ${entry[1]} == "$2" ]]; then
            mapfile -t COMPREPLY < <(compgen -W "${entry[*]:2}" -- "$4")
            return
        fi
    done
    if [[ $3 == FILE ]]; then
        compopt -o filenames 2>/dev/null
        mapfile -t COMPREPLY < <(compgen -f -- "$4")
    fi
}

_pnm() {
    local cmd=${COMP_WORDS[0]} cur=${COMP_WORDS[COMP_CWORD]} prev="" opt="" short long arg
    COMPREPLY=()
    ((COMP_CWORD > 0)) && prev=${COMP_WORDS[COMP_CWORD - 1]}
    # --option=VALUE arrives as three words when = breaks words (the default)
    if [[ $cur == = ]]; then
        opt=$prev cur=""
    elif [[ $prev == = ]] && ((COMP_CWORD > 1)); then
        opt=${COMP_WORDS[COMP_CWORD - 2]}
    elif [[ $cur == --*=* ]]; then
        opt=${cur%%=*} cur=${cur#*=}
    elif [[ $prev == -* ]]; then
        opt=$prev
    fi
    local options
    options=$(_pnm_options "$cmd")
    if [[ -n $opt ]]; then
        while read -r short long arg; do
            if [[ $arg != - && ($opt == "$short" || $opt == "$long") ]]; then
                _pnm_values "$cmd" "$long" "$arg" "$cur"
                return
            fi
        done <<< "$options"
    fi
    if [[ $cur == -* ]]; then
        mapfile -t COMPREPLY < <(compgen -W "$(awk '{ print $2; if ($1 != "-") print $1 }' \
            <<< "$options")" -- "$cur")
        return
    fi
    compopt -o filenames 2>/dev/null
    mapfile -t COMPREPLY < <(compgen -f -- "$cur")
}

complete -F _pnm pnm-classify pnm-dump pnm-eval pnm-mix pnm-project pnm-quantize pnm-tokenize pnm-train
