#!/usr/bin/env bats
# pnm-train --log: per-epoch metrics as TSV; scripts/plot-log draws them.

bats_require_minimum_version 1.5.0

load helper

setup_file() {
    need_model_programs
    make_vocab
    toy_tsv > "$BATS_FILE_TMPDIR/toy.tsv"
    head -9 "$BATS_FILE_TMPDIR/toy.tsv" > "$BATS_FILE_TMPDIR/dev.tsv"
}

setup() {
    TOY="$BATS_FILE_TMPDIR/toy.tsv"
    DEV="$BATS_FILE_TMPDIR/dev.tsv"
    PLOT="$BATS_TEST_DIRNAME/../scripts/plot-log"
    mkdir "$BATS_TEST_TMPDIR/w"
    cd "$BATS_TEST_TMPDIR/w"
}

# assert_log_shape FILE EPOCHS HEADER: the header line, then one line per
# epoch numbered 1..EPOCHS, each with as many fields as the header, all
# numbers.
assert_log_shape() {
    local file=$1 epochs=$2 header=$3
    [ "$(head -n 1 "$file")" = "$header" ]
    [ "$(wc -l < "$file")" -eq $((epochs + 1)) ]
    awk -F'\t' -v n="$(awk -F'\t' 'NR == 1 { print NF }' "$file")" '
        NR > 1 && (NF != n || $1 != NR - 1) { print "line " NR ": " $0; bad = 1 }
        NR > 1 { for (i = 2; i <= NF; i++) if ($i !~ /^[0-9.e+-]+$/) { print "line " NR " field " i ": " $i; bad = 1 } }
        END { exit bad }' "$file"
}

@test "trainlog: joint task with a dev set: a header and one line per epoch, scores in 0..1" {
    train_tiny "$TOY" m.pnm -m "$VOCAB" -e 4 -d "$DEV" --log log.tsv
    assert_log_shape log.tsv 4 \
        $'epoch\tloss\tdev_accuracy\tdev_slot_f1\tdev_exact\tlr\texamples_per_s\telapsed_s\tbest'
    # Scores are fractions, best is 0 or 1 and epoch 1 is always the best so far.
    awk -F'\t' 'NR > 1 && ($3 > 1 || $4 > 1 || $5 > 1 || ($9 != 0 && $9 != 1)) { exit 1 }' log.tsv
    [ "$(sed -n 2p log.tsv | cut -f9)" = 1 ]
    # Elapsed time only grows; the cosine schedule ends at a learning rate of 0.
    awk -F'\t' 'NR > 2 && $8 < last { exit 1 } { last = $8 }' log.tsv
    [ "$(tail -n 1 log.tsv | cut -f6)" = 0 ]
}

@test "trainlog: the columns follow the task; without a dev set there are no scores" {
    cut -f1,2 "$TOY" > two.tsv
    train_tiny two.tsv c.pnm -m "$VOCAB" -e 2 -d <(cut -f1,2 "$DEV") --log c.tsv
    assert_log_shape c.tsv 2 $'epoch\tloss\tdev_accuracy\tlr\texamples_per_s\telapsed_s\tbest'
    cut -f2,3 "$TOY" > tag.tsv
    train_tiny tag.tsv t.pnm --task tag -m "$VOCAB" -e 2 -d <(cut -f2,3 "$DEV") --log t.tsv
    assert_log_shape t.tsv 2 $'epoch\tloss\tdev_slot_f1\tlr\texamples_per_s\telapsed_s\tbest'
    train_tiny "$TOY" n.pnm -m "$VOCAB" -e 3 --log n.tsv
    assert_log_shape n.tsv 3 $'epoch\tloss\tlr\texamples_per_s\telapsed_s'
}

@test "trainlog: the log does not change the model; a new run replaces an old log" {
    train_tiny "$TOY" a.pnm -m "$VOCAB" -e 3
    printf 'old\tcontent\n' > log.tsv
    train_tiny "$TOY" b.pnm -m "$VOCAB" -e 3 --log log.tsv
    cmp a.pnm b.pnm
    assert_log_shape log.tsv 3 $'epoch\tloss\tlr\texamples_per_s\telapsed_s'
}

@test "trainlog: a log that cannot be opened fails at once (exit 1), before training" {
    run --separate-stderr train_tiny "$TOY" m.pnm -m "$VOCAB" --log no/such/dir/log.tsv
    assert_failure 1
    assert_stderr_contains "no/such/dir/log.tsv"
    [ ! -e m.pnm ]
}

@test "trainlog: scripts/plot-log renders a log as a PNG" {
    if ! command -v gnuplot > /dev/null; then
        skip "gnuplot not found (make deps installs gnuplot-nox): plot test skipped"
    fi
    train_tiny "$TOY" m.pnm -m "$VOCAB" -e 3 -d "$DEV" --log log.tsv
    run "$PLOT" log.tsv curves.png
    assert_success
    # The PNG signature: 89 50 4E 47 0D 0A 1A 0A.
    [ "$(head -c 8 curves.png | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ]
    # Not a log, or no epochs yet: an error, and no PNG.
    run "$PLOT" "$TOY" bad.png
    assert_failure 1
    assert_output --partial "not a pnm-train --log file"
    head -n 1 log.tsv > empty.tsv
    run "$PLOT" empty.tsv bad.png
    assert_failure 1
    assert_output --partial "no epochs yet"
    [ ! -e bad.png ]
    run "$PLOT" log.tsv
    assert_failure 2
}
