#include "trainlog.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bytes.h"

static int write_error(pnm_error *err)
{
    return pnm_error_set(err, "write error: %s", strerror(errno));
}

static void header(const pnm_trainlog *log, char *out, size_t cap)
{
    snprintf(out, cap, "epoch\tloss%s%s%s\tlr\texamples_per_s\telapsed_s%s",
             log->dev && log->labels ? "\tdev_accuracy" : "",
             log->dev && log->tags ? "\tdev_slot_f1" : "",
             log->dev && log->labels && log->tags ? "\tdev_exact" : "", log->dev ? "\tbest" : "");
}

/* The lines of the log in f to keep for a run resumed after epoch: the
 * header and the complete lines of epochs up to it, or nothing when f does
 * not start with head. */
static int kept_lines(FILE *f, const char *head, uint32_t epoch, pnm_buf *keep, pnm_error *err)
{
    pnm_buf old = {0};
    char chunk[4096];
    size_t got;
    int rc = 0;
    rewind(f);
    while (rc == 0 && (got = fread(chunk, 1, sizeof chunk, f)) > 0)
        if (pnm_buf_append(&old, chunk, got))
            rc = pnm_error_set(err, "out of memory");
    if (rc == 0 && ferror(f))
        rc = pnm_error_set(err, "read error: %s", strerror(errno));
    size_t head_len = strlen(head);
    if (rc == 0 && old.len > head_len && memcmp(old.data, head, head_len) == 0 &&
        old.data[head_len] == '\n') {
        size_t at = 0;
        for (;;) {
            uint8_t *nl = memchr(old.data + at, '\n', old.len - at);
            if (!nl)
                break; /* a line cut short by a crash */
            size_t end = (size_t)(nl - old.data) + 1;
            if (at == 0 || strtoul((const char *)old.data + at, NULL, 10) <= epoch)
                if (pnm_buf_append(keep, old.data + at, end - at)) {
                    rc = pnm_error_set(err, "out of memory");
                    break;
                }
            at = end;
        }
    }
    pnm_buf_free(&old);
    return rc;
}

int pnm_trainlog_start(pnm_trainlog *log, FILE *f, const pnm_config *c, bool has_dev,
                       uint32_t resume_epoch, pnm_error *err)
{
    *log = (pnm_trainlog){f, c->n_labels > 0, c->n_tags > 0, has_dev};
    char head[160];
    header(log, head, sizeof head);
    struct stat st;
    pnm_buf keep = {0};
    bool regular = fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode);
    if (resume_epoch > 0 && regular) {
        if (kept_lines(f, head, resume_epoch, &keep, err))
            return -1;
        if (fflush(f) != 0 || ftruncate(fileno(f), 0) != 0) {
            pnm_buf_free(&keep);
            return write_error(err);
        }
    }
    int rc = 0;
    if (keep.len ? fwrite(keep.data, 1, keep.len, f) != keep.len : fprintf(f, "%s\n", head) < 0)
        rc = write_error(err);
    pnm_buf_free(&keep);
    if (rc == 0 && fflush(f) != 0)
        rc = write_error(err);
    return rc;
}

int pnm_trainlog_epoch(const pnm_trainlog *log, const pnm_progress *p, pnm_error *err)
{
    FILE *f = log->f;
    int bad = fprintf(f, "%u\t%.6f", (unsigned)p->epoch, p->loss) < 0;
    if (log->dev && log->labels)
        bad |= fprintf(f, "\t%.6f", p->dev.accuracy) < 0;
    if (log->dev && log->tags)
        bad |= fprintf(f, "\t%.6f", p->dev.slot_f1) < 0;
    if (log->dev && log->labels && log->tags)
        bad |= fprintf(f, "\t%.6f", p->dev.exact_match) < 0;
    bad |= fprintf(f, "\t%.6g\t%.1f\t%.3f", (double)p->lr, p->rate, p->elapsed) < 0;
    if (log->dev)
        bad |= fprintf(f, "\t%d", p->best ? 1 : 0) < 0;
    bad |= fputc('\n', f) == EOF;
    bad |= fflush(f) != 0;
    return bad ? write_error(err) : 0;
}
