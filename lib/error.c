#include "error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int pnm_error_set(pnm_error *err, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return -1;
}

int pnm_error_prefix(pnm_error *err, const char *fmt, ...)
{
    if (err) {
        char prefix[256], old[sizeof err->msg];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(prefix, sizeof prefix, fmt, ap);
        va_end(ap);
        memcpy(old, err->msg, sizeof old);
        int k = snprintf(err->msg, sizeof err->msg, "%s: ", prefix);
        if (k > 0 && (size_t)k < sizeof err->msg)
            memcpy(err->msg + k, old, sizeof err->msg - (size_t)k - 1);
        err->msg[sizeof err->msg - 1] = '\0';
    }
    return -1;
}
