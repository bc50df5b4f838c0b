#include "output.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int pnm_output_open(pnm_output *o, const char *path, pnm_error *err)
{
    memset(o, 0, sizeof *o);
    if (!path || strcmp(path, "-") == 0) {
        o->f = stdout;
        return 0;
    }
    /* A FIFO or a device (/dev/stdout, /dev/full) is written in place:
     * only a regular file can be replaced whole by a rename. */
    struct stat st;
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
        o->f = fopen(path, "wb");
        if (!o->f)
            return pnm_error_set(err, "%s: %s", path, strerror(errno));
        o->device = true;
        return 0;
    }
    size_t n = strlen(path);
    o->path = strdup(path);
    o->tmp = malloc(n + sizeof ".tmpXXXXXX");
    if (!o->path || !o->tmp) {
        pnm_output_abort(o);
        return pnm_error_set(err, "out of memory");
    }
    memcpy(o->tmp, path, n);
    memcpy(o->tmp + n, ".tmpXXXXXX", sizeof ".tmpXXXXXX");
    int fd = mkstemp(o->tmp);
    if (fd < 0) {
        pnm_error_set(err, "%s: %s", path, strerror(errno));
        free(o->tmp), o->tmp = NULL;
        pnm_output_abort(o);
        return -1;
    }
    /* mkstemp makes the file 0600; give it the mode a plain create would. */
    mode_t mask = umask(0);
    umask(mask);
    fchmod(fd, 0666 & ~mask);
    o->f = fdopen(fd, "wb");
    if (!o->f) {
        pnm_error_set(err, "%s: %s", path, strerror(errno));
        close(fd);
        pnm_output_abort(o);
        return -1;
    }
    return 0;
}

int pnm_output_commit(pnm_output *o, pnm_error *err)
{
    if (!o->path) {
        int rc = 0;
        if (fflush(o->f) != 0 || ferror(o->f))
            rc = pnm_error_set(err, "write error: %s", strerror(errno));
        if (o->device && fclose(o->f) != 0 && rc == 0)
            rc = pnm_error_set(err, "write error: %s", strerror(errno));
        memset(o, 0, sizeof *o);
        return rc;
    }
    int rc = 0;
    if (fflush(o->f) != 0 || ferror(o->f) || fsync(fileno(o->f)) != 0)
        rc = pnm_error_set(err, "%s: write error: %s", o->path, strerror(errno));
    if (fclose(o->f) != 0 && rc == 0)
        rc = pnm_error_set(err, "%s: write error: %s", o->path, strerror(errno));
    o->f = NULL;
    if (rc == 0 && rename(o->tmp, o->path) != 0)
        rc = pnm_error_set(err, "%s: %s", o->path, strerror(errno));
    if (rc != 0) {
        pnm_output_abort(o);
        return -1;
    }
    free(o->tmp);
    free(o->path);
    memset(o, 0, sizeof *o);
    return 0;
}

void pnm_output_abort(pnm_output *o)
{
    if (o->path) {
        if (o->f)
            fclose(o->f);
        if (o->tmp)
            unlink(o->tmp);
    } else if (o->f) {
        fflush(o->f);
        if (o->device)
            fclose(o->f);
    }
    free(o->tmp);
    free(o->path);
    memset(o, 0, sizeof *o);
}
