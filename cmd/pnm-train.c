/* pnm-train: labelled TSV -> a self-contained pNLP-Mixer model file. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

static const char usage[] =
    "Usage: pnm-train [OPTION]... TRAIN.tsv\n"
    "Train a pNLP-Mixer on tab-separated examples and write one model file.\n"
    "  classify: LABEL<TAB>TEXT   joint: LABEL<TAB>TEXT<TAB>TAGS   tag: TEXT<TAB>TAGS\n"
    "(TAGS: one BIO tag per word, space-separated). The task follows from the\n"
    "columns unless --task says otherwise.\n"
    "\n"
    "  -o, --output=FILE        model file to write (default model.pnm)\n"
    "  -d, --dev=FILE           dev set: scored after every epoch, best epoch kept\n"
    "      --task=TASK          classify, joint or tag\n"
    "  -m, --vocab=FILE         SentencePiece model, or a model whose vocabulary to\n"
    "                           reuse (default: learn one from TRAIN)\n"
    "      --vocab-size=N       pieces to learn (default 8000; fewer on a small corpus)\n"
    "\n"
    "Model (the paper's names; --preset sets b, h_t, h_c and L):\n"
    "  -p, --preset=NAME        x-small, small, base (default), large or x-large\n"
    "  -f, --features=M         Bloom filter size m (default 1024)\n"
    "  -n, --hashes=N           MinHash functions n (default 64)\n"
    "  -w, --window=W           context window w (default 1)\n"
    "      --hash-seed=S        hash family seed (default 0)\n"
    "  -s, --seq-len=S          words per example s (default 64)\n"
    "  -b, --bottleneck=B       bottleneck size b\n"
    "      --token-hidden=H     token-mixing hidden size h_t\n"
    "      --channel-hidden=H   channel-mixing hidden size h_c\n"
    "  -L, --layers=L           mixer blocks\n"
    "      --tag-sentence       joint task: the tagging head also sees the pooled\n"
    "                           sentence vector (slot types follow the intent)\n"
    "      --crf                tag with a linear-chain CRF: learned tag transitions,\n"
    "                           trained on whole-sentence likelihood\n"
    "\n"
    "Training:\n"
    "  -e, --epochs=N           passes over TRAIN (default 40)\n"
    "      --batch=N            examples per step (default 256)\n"
    "      --lr=F               AdamW learning rate (default 5e-4)\n"
    "      --weight-decay=F     AdamW weight decay (default 0.01)\n"
    "      --schedule=NAME      learning rate: cosine (default: warm up over the\n"
    "                           first epoch, then decay to 0) or constant\n"
    "      --dropout=F          dropout probability (default 0.1)\n"
    "      --ema=D              evaluate and keep a moving average of the weights,\n"
    "                           decay D per step (e.g. 0.999; default 0: off)\n"
    "      --seed=N             initialisation, shuffling and dropout seed (default 1)\n"
    "  -t, --threads=N          threads (default: all processors; with --resume, the\n"
    "                           checkpoint's)\n"
    "      --log=FILE           write per-epoch metrics to FILE as TSV (scripts/plot-log)\n"
    "\n"
    "Checkpoints (SIGINT or SIGTERM also writes one, then pnm-train exits):\n"
    "      --checkpoint=FILE    checkpoint file (default OUTPUT.ckpt; removed once the\n"
    "                           model is written)\n"
    "      --checkpoint-every=N write a checkpoint every N epochs (default 1; 0: only\n"
    "                           when interrupted)\n"
    "      --checkpoint-steps=N also every N steps (default 0: off)\n"
    "      --resume=CKPT        go on from a checkpoint, with the same TRAIN and dev\n"
    "                           set; it fixes the model and training settings\n"
    "  -q, --quiet              print nothing but errors\n"
    "  -h, --help               show this help and exit\n"
    "  -V, --version            show the version and exit\n"
    "\n"
    "Example:\n"
    "  pnm-train --preset base -d dev.tsv -o atis.pnm train.tsv\n";

enum {
    OPT_TASK = 256, OPT_VOCAB_SIZE, OPT_HASH_SEED, OPT_TOKEN_HIDDEN, OPT_CHANNEL_HIDDEN,
    OPT_BATCH, OPT_LR, OPT_WD, OPT_SCHEDULE, OPT_DROPOUT, OPT_EMA, OPT_SEED, OPT_LOG,
    OPT_CHECKPOINT, OPT_CHECKPOINT_EVERY, OPT_CHECKPOINT_STEPS, OPT_RESUME, OPT_TAG_SENTENCE,
    OPT_CRF
};

static const struct option options[] = {
    {"output", required_argument, NULL, 'o'},
    {"dev", required_argument, NULL, 'd'},
    {"task", required_argument, NULL, OPT_TASK},
    {"vocab", required_argument, NULL, 'm'},
    {"vocab-size", required_argument, NULL, OPT_VOCAB_SIZE},
    {"preset", required_argument, NULL, 'p'},
    {"features", required_argument, NULL, 'f'},
    {"hashes", required_argument, NULL, 'n'},
    {"window", required_argument, NULL, 'w'},
    {"hash-seed", required_argument, NULL, OPT_HASH_SEED},
    {"seq-len", required_argument, NULL, 's'},
    {"bottleneck", required_argument, NULL, 'b'},
    {"token-hidden", required_argument, NULL, OPT_TOKEN_HIDDEN},
    {"channel-hidden", required_argument, NULL, OPT_CHANNEL_HIDDEN},
    {"layers", required_argument, NULL, 'L'},
    {"tag-sentence", no_argument, NULL, OPT_TAG_SENTENCE},
    {"crf", no_argument, NULL, OPT_CRF},
    {"epochs", required_argument, NULL, 'e'},
    {"batch", required_argument, NULL, OPT_BATCH},
    {"lr", required_argument, NULL, OPT_LR},
    {"weight-decay", required_argument, NULL, OPT_WD},
    {"schedule", required_argument, NULL, OPT_SCHEDULE},
    {"dropout", required_argument, NULL, OPT_DROPOUT},
    {"ema", required_argument, NULL, OPT_EMA},
    {"seed", required_argument, NULL, OPT_SEED},
    {"threads", required_argument, NULL, 't'},
    {"log", required_argument, NULL, OPT_LOG},
    {"checkpoint", required_argument, NULL, OPT_CHECKPOINT},
    {"checkpoint-every", required_argument, NULL, OPT_CHECKPOINT_EVERY},
    {"checkpoint-steps", required_argument, NULL, OPT_CHECKPOINT_STEPS},
    {"resume", required_argument, NULL, OPT_RESUME},
    {"quiet", no_argument, NULL, 'q'},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0},
};

typedef struct config {
    pnm_fit_options fit;
    const char *output, *preset, *log_path;
    bool quiet, tty;
    FILE *log;
    pnm_trainlog trainlog;
    bool log_failed;
    pnm_error log_err;
} config;

/* The signal that asks for a stop (0: none): set by the handler only,
 * looked at by the training loop between steps. */
static volatile sig_atomic_t stop_signal;

static void on_stop_signal(int sig)
{
    stop_signal = sig;
}

/* The long name of an option, for messages. */
static const char *option_name(int opt)
{
    for (const struct option *o = options; o->name; o++)
        if (o->val == opt)
            return o->name;
    return "?";
}

/* "OUTPUT.ckpt" in buf; "pnm-train.ckpt" for standard output or a device
 * (no file beside /dev/stdout). */
static const char *default_checkpoint(const char *output, char buf[static PATH_MAX])
{
    struct stat st;
    if (strcmp(output, "-") == 0 || (stat(output, &st) == 0 && !S_ISREG(st.st_mode)))
        return "pnm-train.ckpt";
    if (snprintf(buf, PATH_MAX, "%s.ckpt", output) >= PATH_MAX)
        cli_die("%s: the name is too long to add .ckpt for the checkpoint", output);
    return buf;
}

static float cli_float(const char *option, const char *arg, float min, float max)
{
    char *end;
    float v = strtof(arg, &end);
    if (*arg == '\0' || *end != '\0' || !(v >= min && v <= max))
        cli_usage_error("%s: '%s' is not a number in %g..%g", option, arg, min, max);
    return v;
}

static config parse(int argc, char **argv)
{
    config c = {.output = "model.pnm", .preset = "base"};
    pnm_fit_options *f = &c.fit;
    f->vocab_size = 8000;
    f->config.projection = PNM_PROJECTION_DEFAULT;
    f->config.seq_len = 64;
    f->train_options = (pnm_train_options){40, 256, 0, 0.1f, PNM_ADAMW_DEFAULT, 1,
                                           PNM_SCHEDULE_COSINE, 0};
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    f->train_options.threads = cpus > 0 ? (uint32_t)cpus : 1;
    f->checkpoint_epochs = 1;
    /* The first option that shapes the model or training: a checkpoint
     * being resumed fixes those. */
    int shaping = 0;
    /* Sizes given explicitly win over the preset, whatever the order. */
    uint32_t b = 0, ht = 0, hc = 0, layers = 0;
    pnm_config *m = &f->config;
    int opt;
    while ((opt = getopt_long(argc, argv, "o:d:m:p:f:n:w:s:b:L:e:t:qhV", options, NULL)) != -1) {
        if (!shaping && !strchr("odtqhV", opt) && opt != OPT_LOG && opt != OPT_CHECKPOINT &&
            opt != OPT_CHECKPOINT_EVERY && opt != OPT_CHECKPOINT_STEPS && opt != OPT_RESUME)
            shaping = opt;
        switch (opt) {
        case 'o': c.output = optarg; break;
        case 'd': f->dev_name = optarg; break;
        case OPT_TASK:
            if (pnm_task_parse(optarg, &f->task))
                cli_usage_error("--task: '%s' is not classify, joint or tag", optarg);
            f->task_given = true;
            break;
        case 'm': f->vocab_path = optarg; break;
        case OPT_VOCAB_SIZE:
            f->vocab_size = (uint32_t)cli_uint("--vocab-size", optarg, 8, PNM_MAX_VOCAB);
            break;
        case 'p': c.preset = optarg; break;
        case 'f': m->projection.features = (uint32_t)cli_uint("--features", optarg, 1, PNM_MAX_FEATURES); break;
        case 'n': m->projection.hashes = (uint32_t)cli_uint("--hashes", optarg, 1, PNM_MAX_HASHES); break;
        case 'w': m->projection.window = (uint32_t)cli_uint("--window", optarg, 0, PNM_MAX_WINDOW); break;
        case OPT_HASH_SEED: m->projection.seed = cli_uint("--hash-seed", optarg, 0, UINT64_MAX); break;
        case 's': m->seq_len = (uint32_t)cli_uint("--seq-len", optarg, 1, PNM_MAX_SEQ_LEN); break;
        case 'b': b = (uint32_t)cli_uint("--bottleneck", optarg, 1, PNM_MAX_DIM); break;
        case OPT_TOKEN_HIDDEN: ht = (uint32_t)cli_uint("--token-hidden", optarg, 1, PNM_MAX_DIM); break;
        case OPT_CHANNEL_HIDDEN: hc = (uint32_t)cli_uint("--channel-hidden", optarg, 1, PNM_MAX_DIM); break;
        case 'L': layers = (uint32_t)cli_uint("--layers", optarg, 1, PNM_MAX_LAYERS); break;
        case OPT_TAG_SENTENCE: m->tag_sentence = 1; break;
        case OPT_CRF: m->crf = 1; break;
        case 'e': f->train_options.epochs = (uint32_t)cli_uint("--epochs", optarg, 1, 100000); break;
        case OPT_BATCH: f->train_options.batch = (uint32_t)cli_uint("--batch", optarg, 1, 1 << 20); break;
        case OPT_LR: f->train_options.adamw.lr = cli_float("--lr", optarg, 0, 10); break;
        case OPT_WD: f->train_options.adamw.weight_decay = cli_float("--weight-decay", optarg, 0, 10); break;
        case OPT_SCHEDULE:
            if (strcmp(optarg, "cosine") == 0)
                f->train_options.schedule = PNM_SCHEDULE_COSINE;
            else if (strcmp(optarg, "constant") == 0)
                f->train_options.schedule = PNM_SCHEDULE_CONSTANT;
            else
                cli_usage_error("--schedule: '%s' is not cosine or constant", optarg);
            break;
        case OPT_DROPOUT: f->train_options.dropout = cli_float("--dropout", optarg, 0, 0.95f); break;
        case OPT_EMA: f->train_options.ema = cli_float("--ema", optarg, 0, 0.99999f); break;
        case OPT_SEED: f->train_options.seed = cli_uint("--seed", optarg, 0, UINT64_MAX); break;
        case 't':
            f->train_options.threads = (uint32_t)cli_uint("--threads", optarg, 1, 256);
            f->threads_given = true;
            break;
        case OPT_LOG: c.log_path = optarg; break;
        case OPT_CHECKPOINT: f->checkpoint_path = optarg; break;
        case OPT_CHECKPOINT_EVERY:
            f->checkpoint_epochs = (uint32_t)cli_uint("--checkpoint-every", optarg, 0, 100000);
            break;
        case OPT_CHECKPOINT_STEPS:
            f->checkpoint_steps = cli_uint("--checkpoint-steps", optarg, 0, UINT64_MAX);
            break;
        case OPT_RESUME: f->resume_path = optarg; break;
        case 'q': c.quiet = true; break;
        case 'h': fputs(usage, stdout); exit(0);
        case 'V': cli_version();
        default: cli_try_help();
        }
    }
    if (f->resume_path && shaping)
        cli_usage_error("--%s: the checkpoint of --resume fixes the model and training settings",
                        option_name(shaping));
    if (pnm_config_preset(m, c.preset))
        cli_usage_error("--preset: '%s' is not x-small, small, base, large or x-large", c.preset);
    if (b) m->bottleneck = b;
    if (ht) m->token_hidden = ht;
    if (hc) m->channel_hidden = hc;
    if (layers) m->layers = layers;
    if (argc - optind != 1)
        cli_usage_error(argc == optind ? "no training file" : "one training file only");
    f->train_name = argv[optind];
    c.tty = isatty(STDERR_FILENO);
    return c;
}

/* A log that cannot be written is said once; training goes on, and the
 * exit status says so at the end. */
static void log_failed(config *c)
{
    if (!c->log_failed)
        cli_error("%s: %s; the log stops here, training goes on", c->log_path, c->log_err.msg);
    c->log_failed = true;
}

/* "after epoch E of N" at an epoch boundary, else "in epoch E of N, after
 * step S of T". */
static void print_position(const pnm_fit_info *info)
{
    if (info->epoch_step == 0)
        fprintf(stderr, "after epoch %" PRIu32 " of %" PRIu32, info->epoch, info->train.epochs);
    else
        fprintf(stderr, "in epoch %" PRIu32 " of %" PRIu32 ", after step %" PRIu64 " of %" PRIu64,
                info->epoch + 1, info->train.epochs, info->epoch_step, info->steps_per_epoch);
}

static void on_ready(void *ctx, const pnm_fit_info *info, const pnm_config *m)
{
    config *c = ctx;
    if (c->log && pnm_trainlog_start(&c->trainlog, c->log, m, info->dev_examples > 0 ||
                                     c->fit.dev != NULL, info->epoch, &c->log_err))
        log_failed(c);
    if (c->quiet)
        return;
    fprintf(stderr,
            "pnm-train: %zu parameters (b=%" PRIu32 " h_t=%" PRIu32 " h_c=%" PRIu32 " L=%" PRIu32
            " s=%" PRIu32 " m=%" PRIu32 " n=%" PRIu32 " w=%" PRIu32 "); task %s, %" PRIu32
            " labels, %" PRIu32 " tags; %s vocabulary of %" PRIu32 " pieces; %zu training"
            " examples, %zu dev examples; %" PRIu32 " threads\n",
            info->params, m->bottleneck, m->token_hidden, m->channel_hidden, m->layers,
            m->seq_len, m->projection.features, m->projection.hashes, m->projection.window,
            pnm_task_name(info->task), m->n_labels, m->n_tags,
            info->vocab_trained ? "learned a" : "a", info->vocab_pieces, info->train_examples,
            info->dev_examples, info->train.threads);
    if (info->resumed) {
        fprintf(stderr, "pnm-train: resuming %s ", c->fit.resume_path);
        print_position(info);
        fputc('\n', stderr);
    }
}

static void print_scores(const pnm_config *unused, const pnm_scores *s)
{
    (void)unused;
    fprintf(stderr, "accuracy %.2f%%, slot F1 %.2f%%, exact %.2f%%", 100 * s->accuracy,
            100 * s->slot_f1, 100 * s->exact_match);
}

static void on_progress(void *ctx, const pnm_progress *p)
{
    config *c = ctx;
    if (p->epoch_end && c->log && !c->log_failed &&
        pnm_trainlog_epoch(&c->trainlog, p, &c->log_err))
        log_failed(c);
    if (c->quiet)
        return;
    if (!p->epoch_end) {
        if (!c->tty)
            return;
        int width = 30, filled = (int)(width * p->done / (p->total ? p->total : 1));
        double left = p->rate > 0 ? ((double)(p->total - p->done) +
                                     (double)(p->epochs - p->epoch) * p->total) / p->rate : 0;
        fprintf(stderr, "\r\033[Kepoch %" PRIu32 "/%" PRIu32 " [%.*s%*s] %.0f ex/s loss %.4f"
                " ETA %dm%02ds", p->epoch, p->epochs, filled, "##############################",
                width - filled, "", p->rate, p->loss, (int)left / 60, (int)left % 60);
        return;
    }
    fprintf(stderr, "%sepoch %" PRIu32 "/%" PRIu32 ": loss %.4f, %.0f examples/s",
            c->tty ? "\r\033[K" : "", p->epoch, p->epochs, p->loss, p->rate);
    if (p->has_dev) {
        fputs("; dev ", stderr);
        print_scores(NULL, &p->dev);
        if (p->best)
            fputs(" (best)", stderr);
    }
    fputc('\n', stderr);
}

/* Where the run stopped and the command that goes on from there; the exit
 * status is the shell's for death by that signal. */
static int stopped(const config *c, const pnm_fit_info *info)
{
    const pnm_fit_options *f = &c->fit;
    fprintf(stderr, "%spnm-train: stopped by %s ", c->tty ? "\r\033[K" : "",
            stop_signal == SIGINT ? "SIGINT" : "SIGTERM");
    print_position(info);
    fprintf(stderr, "; checkpoint written to %s\n", f->checkpoint_path);
    fprintf(stderr, "pnm-train: resume with: pnm-train --resume %s%s%s%s%s -o %s %s\n",
            f->checkpoint_path, f->dev_name ? " -d " : "", f->dev_name ? f->dev_name : "",
            c->log_path ? " --log " : "", c->log_path ? c->log_path : "", c->output,
            f->train_name);
    return 128 + stop_signal;
}

int main(int argc, char **argv)
{
    cli_init(argv);
    config c = parse(argc, argv);
    char checkpoint[PATH_MAX];
    if (!c.fit.checkpoint_path)
        c.fit.checkpoint_path = default_checkpoint(c.output, checkpoint);
    pnm_error err;
    FILE *train = cli_open_input(c.fit.train_name, &err), *dev = NULL;
    if (!train)
        cli_die("%s", err.msg);
    if (c.fit.dev_name && !(dev = cli_open_input(c.fit.dev_name, &err)))
        cli_die("%s", err.msg);
    /* A resumed run's log goes on from the checkpoint's epoch. */
    if (c.log_path && !(c.log = fopen(c.log_path, c.fit.resume_path ? "a+" : "w")))
        cli_die("%s: %s", c.log_path, strerror(errno));
    struct sigaction sa = {.sa_handler = on_stop_signal};
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGINT, &sa, NULL) != 0 || sigaction(SIGTERM, &sa, NULL) != 0)
        cli_die("cannot handle SIGINT and SIGTERM: %s", strerror(errno));
    c.fit.stop = &stop_signal;
    c.fit.train = train;
    c.fit.dev = dev;
    pnm_fit_info info;
    pnm_model *model = pnm_fit(&c.fit, on_ready, on_progress, &c, &info, &err);
    cli_close_input(train);
    cli_close_input(dev);
    if (info.stopped)
        return stopped(&c, &info);
    if (!model)
        cli_die("%s", err.msg);
    int unsaved = pnm_model_save(model, c.output, &err);
    pnm_model_free(model);
    if (unsaved) {
        cli_error("%s", err.msg);
        /* A run that checkpointed its last epoch needs no training again. */
        if (info.checkpoints > 0 && info.epoch == info.train.epochs)
            cli_error("the trained run is kept in %s: pnm-train --resume %s writes the model"
                      " without training", c.fit.checkpoint_path, c.fit.checkpoint_path);
        return 1;
    }
    /* The model holds the work now; the checkpoint of this run is obsolete. */
    if ((info.checkpoints > 0 || (c.fit.resume_path &&
                                  strcmp(c.fit.resume_path, c.fit.checkpoint_path) == 0)) &&
        unlink(c.fit.checkpoint_path) != 0 && errno != ENOENT)
        cli_die("%s: %s", c.fit.checkpoint_path, strerror(errno));
    if (!c.quiet) {
        fprintf(stderr, "pnm-train: wrote %s", c.output);
        if (dev) {
            fputs("; kept the best dev epoch: ", stderr);
            print_scores(NULL, &info.dev);
        }
        fputc('\n', stderr);
    }
    if (c.log && fclose(c.log) != 0 && !c.log_failed) {
        c.log_err = (pnm_error){{0}};
        pnm_error_set(&c.log_err, "write error: %s", strerror(errno));
        log_failed(&c);
    }
    return c.log_failed ? 1 : 0;
}
