#!/usr/bin/env bats
# pnm-train checkpoints: --checkpoint, --checkpoint-every, --checkpoint-steps,
# --resume, SIGINT/SIGTERM, and determinism. Every resumed run must end with
# the very model file an uninterrupted run writes.

bats_require_minimum_version 1.5.0

load helper

setup_file() {
    need_model_programs
    make_vocab
    # 600 examples: about 0.1 s an epoch of x-small, long enough to be
    # interrupted, short enough for a test of seconds.
    local i
    for ((i = 0; i < 10; i++)); do toy_tsv; done > "$BATS_FILE_TMPDIR/big.tsv"
    toy_tsv | head -9 > "$BATS_FILE_TMPDIR/dev.tsv"
    # The uninterrupted reference run of the settings below (run_big).
    cd "$BATS_FILE_TMPDIR"
    run_big -o ref.pnm --checkpoint-every 0
    run_big -o ref2.pnm --checkpoint-every 0 -t 2
}

setup() {
    BIG="$BATS_FILE_TMPDIR/big.tsv"
    DEV="$BATS_FILE_TMPDIR/dev.tsv"
    REF="$BATS_FILE_TMPDIR/ref.pnm"
    REF2="$BATS_FILE_TMPDIR/ref2.pnm"
    mkdir "$BATS_TEST_TMPDIR/w"
    cd "$BATS_TEST_TMPDIR/w"
}

# run_big [OPTION]...: 12 epochs of x-small on big.tsv with a dev set, EMA and
# dropout, 1 thread; later options win.
run_big() {
    pnm-train "${BIG_OPTIONS[@]}" "$@" "$BATS_FILE_TMPDIR/big.tsv"
}
BIG_OPTIONS=(-m "$VOCAB" --preset x-small -s 16 -e 12 --batch 32 --ema 0.9 --dropout 0.2 -t 1 -q
             -d "$BATS_FILE_TMPDIR/dev.tsv")

# start_big [OPTION]...: run_big in the background, as a process of its own
# (not a subshell), so that $! is pnm-train and signals reach it.
start_big() {
    pnm-train "${BIG_OPTIONS[@]}" "$@" "$BATS_FILE_TMPDIR/big.tsv" &
    BIG_PID=$!
}

# crash_big CKPT [OPTION]...: start_big, and kill it (SIGKILL, a crash) once
# the checkpoint CKPT exists.
crash_big() {
    local ckpt=$1
    shift
    start_big "$@"
    wait_for -f "$ckpt"
    kill -KILL "$BIG_PID"
    wait "$BIG_PID" || true
}

# interrupt_big SIGNAL [OPTION]...: start_big with --log log.tsv and stderr
# into err.txt, send SIGNAL once an epoch is logged; STATUS: its exit status.
interrupt_big() {
    local signal=$1
    shift
    start_big "$@" --log log.tsv 2> err.txt
    wait_for_epochs log.tsv 1
    kill -"$signal" "$BIG_PID"
    STATUS=0
    wait "$BIG_PID" || STATUS=$?
}

# wait_for TEST...: polls (up to 30 s) until `test TEST...` holds.
wait_for() {
    local i
    for ((i = 0; i < 1500; i++)); do
        test "$@" && return 0
        sleep 0.02
    done
    echo "timed out waiting for: $*" >&2
    return 1
}

# wait_for_epochs FILE N: polls (up to 30 s) until the --log FILE has N epoch
# lines.
wait_for_epochs() {
    local i
    for ((i = 0; i < 1500; i++)); do
        [[ -f "$1" && $(wc -l < "$1") -gt $2 ]] && return 0
        sleep 0.02
    done
    echo "timed out waiting for epoch $2 in $1" >&2
    return 1
}

# ---- determinism ---------------------------------------------------------------

@test "checkpoint: same seed and threads give byte-identical models, checkpoints or not" {
    run_big -o a.pnm
    sleep 1 # nothing time-dependent may reach the file
    run_big -o b.pnm --checkpoint-every 1 --checkpoint-steps 5
    cmp a.pnm b.pnm
    cmp a.pnm "$REF"
    run_big -o c.pnm -t 2
    cmp c.pnm "$REF2"
    # Another seed is another model: the comparison can fail.
    run_big -o d.pnm --seed 9
    run cmp -s d.pnm "$REF"
    assert_failure 1
    # Checkpoints are removed once the model is written.
    only_files a.pnm b.pnm c.pnm d.pnm
}

# ---- interrupted and resumed -----------------------------------------------------

@test "checkpoint: killed after an epoch checkpoint, --resume ends with the same model" {
    crash_big m.pnm.ckpt -o m.pnm --checkpoint-every 2
    [ ! -e m.pnm ]
    run --separate-stderr pnm-train --resume m.pnm.ckpt -d "$DEV" -o m.pnm "$BIG"
    assert_success
    # The checkpoint was written at an epoch boundary, every second epoch.
    [[ "$stderr" =~ pnm-train:\ resuming\ m\.pnm\.ckpt\ after\ epoch\ ([0-9]+)\ of\ 12 ]]
    [ $(( BASH_REMATCH[1] % 2 )) -eq 0 ]
    cmp m.pnm "$REF"
    [ ! -e m.pnm.ckpt ]
}

@test "checkpoint: a mid-epoch step checkpoint (--checkpoint-steps) resumes to the same model" {
    # 600 examples in batches of 32: 19 steps an epoch; step 7k is mid-epoch.
    crash_big m.pnm.ckpt -o m.pnm --checkpoint-every 0 --checkpoint-steps 7
    run --separate-stderr pnm-train --resume m.pnm.ckpt -d "$DEV" -o m.pnm "$BIG"
    assert_success
    # It says where: in epoch E, after step S > 0, at a multiple of 7 in all.
    [[ "$stderr" =~ pnm-train:\ resuming\ m\.pnm\.ckpt\ in\ epoch\ ([0-9]+)\ of\ 12,\ after\ step\ ([0-9]+)\ of\ 19 ]]
    [ "${BASH_REMATCH[2]}" -gt 0 ]
    [ $(( ((BASH_REMATCH[1] - 1) * 19 + BASH_REMATCH[2]) % 7 )) -eq 0 ]
    cmp m.pnm "$REF"
}

@test "checkpoint: SIGTERM mid-run checkpoints, says how to resume, exits 143; resume is exact" {
    interrupt_big TERM -o m.pnm --checkpoint-every 0
    [ "$STATUS" -eq 143 ]
    grep -q '^pnm-train: stopped by SIGTERM \(after epoch\|in epoch\) [0-9]* of 12' err.txt
    grep -q "checkpoint written to m.pnm.ckpt$" err.txt
    grep -qF "pnm-train: resume with: pnm-train --resume m.pnm.ckpt -d $DEV --log log.tsv -o m.pnm $BIG" err.txt
    # No model file, whole or half-written, and no temporary left.
    only_files m.pnm.ckpt log.tsv err.txt
    run --separate-stderr pnm-train --resume m.pnm.ckpt -d "$DEV" --log log.tsv -o m.pnm "$BIG"
    assert_success
    cmp m.pnm "$REF"
    only_files m.pnm log.tsv err.txt
    # The log reads as one run: epochs 1 to 12, once each.
    [ "$(cut -f1 log.tsv | tail -n +2 | tr '\n' ' ')" = "1 2 3 4 5 6 7 8 9 10 11 12 " ]
}

@test "checkpoint: SIGINT with 2 threads exits 130; resumed with 2 threads it is exact" {
    interrupt_big INT -o m.pnm -t 2 --checkpoint-every 0
    [ "$STATUS" -eq 130 ]
    grep -q '^pnm-train: stopped by SIGINT' err.txt
    [ ! -e m.pnm ]
    # The thread count comes from the checkpoint.
    run --separate-stderr pnm-train --resume m.pnm.ckpt -d "$DEV" -o m.pnm "$BIG"
    assert_success
    assert_stderr_contains "; 2 threads"
    cmp m.pnm "$REF2"
}

@test "checkpoint: --checkpoint FILE puts it elsewhere" {
    mkdir c
    crash_big c/x.ck -o m.pnm --checkpoint c/x.ck --checkpoint-every 3
    run --separate-stderr pnm-train --resume c/x.ck --checkpoint c/x.ck -d "$DEV" -o m.pnm "$BIG"
    assert_success
    cmp m.pnm "$REF"
    [ ! -e c/x.ck ]
}

@test "checkpoint: a model that cannot be written leaves the run's checkpoint, which writes it" {
    run --separate-stderr run_big -o /dev/full -e 3
    assert_failure 1
    assert_stderr_contains "/dev/full: write error"
    assert_stderr_contains "the trained run is kept in pnm-train.ckpt"
    run --separate-stderr pnm-train --resume pnm-train.ckpt -d "$DEV" -o m.pnm "$BIG"
    assert_success
    assert_stderr_contains "resuming pnm-train.ckpt after epoch 3 of 3"
    [[ "$stderr" != *"epoch 3/3"* ]]
    run_big -o ref3.pnm -e 3
    cmp m.pnm ref3.pnm
}

# ---- what --resume refuses --------------------------------------------------------

@test "checkpoint: --resume refuses settings, other data, a missing dev set, damaged files" {
    crash_big m.pnm.ckpt -o m.pnm --checkpoint-every 0 --checkpoint-steps 3
    cp m.pnm.ckpt keep.ckpt
    # Settings are the checkpoint's: exit 2, naming the option.
    run --separate-stderr pnm-train --resume m.pnm.ckpt --lr 0.1 -d "$DEV" -o m.pnm "$BIG"
    assert_failure 2
    assert_stderr_contains "--lr: the checkpoint of --resume fixes"
    run --separate-stderr pnm-train --resume m.pnm.ckpt -p small -d "$DEV" -o m.pnm "$BIG"
    assert_failure 2
    assert_stderr_contains "--preset"
    # Other training data, or none of the dev set it was made with.
    head -n 500 "$BIG" > other.tsv
    run --separate-stderr pnm-train -q --resume m.pnm.ckpt -d "$DEV" -o m.pnm other.tsv
    assert_failure 1
    assert_stderr_contains "other.tsv is not the training data that m.pnm.ckpt was made with"
    run --separate-stderr pnm-train -q --resume m.pnm.ckpt -o m.pnm "$BIG"
    assert_failure 1
    assert_stderr_contains "m.pnm.ckpt was made with a dev set"
    # A model file, a truncated checkpoint, a flipped byte.
    run_big -o model.pnm -e 1
    run --separate-stderr pnm-train -q --resume model.pnm -d "$DEV" -o m.pnm "$BIG"
    assert_failure 1
    assert_stderr_contains "model.pnm: not a pnm checkpoint"
    head -c 5000 keep.ckpt > cut.ckpt
    run --separate-stderr pnm-train -q --resume cut.ckpt -d "$DEV" -o m.pnm "$BIG"
    assert_failure 1
    assert_stderr_contains "cut.ckpt: corrupt checkpoint"
    flip_byte keep.ckpt 300 1 flip.ckpt
    run --separate-stderr pnm-train -q --resume flip.ckpt -d "$DEV" -o m.pnm "$BIG"
    assert_failure 1
    assert_stderr_contains "flip.ckpt: corrupt checkpoint"
    run --separate-stderr pnm-train -q --resume missing.ckpt -d "$DEV" -o m.pnm "$BIG"
    assert_failure 1
    assert_stderr_contains "missing.ckpt: No such file"
    # Nothing refused wrote a model; the checkpoint is still whole.
    [ ! -e m.pnm ]
    cmp m.pnm.ckpt keep.ckpt
}

@test "checkpoint: --help lists the options" {
    run --separate-stderr pnm-train --help
    assert_success
    assert_output --partial "--checkpoint=FILE"
    assert_output --partial "--checkpoint-every=N"
    assert_output --partial "--checkpoint-steps=N"
    assert_output --partial "--resume=CKPT"
    assert_output --partial "--log=FILE"
}
