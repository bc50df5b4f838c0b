#include "dump.h"

#include <inttypes.h>
#include <string.h>

#include "hash.h"

/* Bytes that would break a line of text or a JSON string are escaped. */
static void put_string(FILE *out, const uint8_t *s, size_t len, pnm_dump_format fmt)
{
    for (size_t i = 0; i < len; i++) {
        uint8_t c = s[i];
        if (c == '\\' || (fmt == PNM_DUMP_JSON && c == '"'))
            fprintf(out, "\\%c", c);
        else if (c < 0x20 || c == 0x7F)
            fprintf(out, fmt == PNM_DUMP_JSON ? "\\u%04x" : "\\x%02x", c);
        else
            putc(c, out);
    }
}

static void put_piece(FILE *out, const pnm_header *h, uint32_t id, pnm_dump_format fmt)
{
    put_string(out, h->piece_bytes + h->piece_offset[id],
               h->piece_offset[id + 1] - h->piece_offset[id], fmt);
}

void pnm_dump_header(FILE *out, const pnm_header *h, bool compressed, pnm_dump_format fmt)
{
    if (fmt == PNM_DUMP_JSON) {
        fprintf(out, "{\"kind\":\"%s\",\"version\":%" PRIu32 ",\"zstd\":%s,"
                "\"vocab_id\":\"%016" PRIx64 "\",\"vocab_size\":%" PRIu32
                ",\"max_words\":%" PRIu32,
                pnm_kind_name(h->kind), h->version, compressed ? "true" : "false",
                h->vocab_id, h->vocab_size, h->max_words);
        if (h->kind != PNM_KIND_TOKENS)
            fprintf(out, ",\"features\":%" PRIu32 ",\"hashes\":%" PRIu32
                    ",\"window\":%" PRIu32 ",\"seed\":%" PRIu64,
                    h->features, h->hashes, h->window, h->seed);
        if (h->kind == PNM_KIND_HIDDEN)
            fprintf(out, ",\"dim\":%" PRIu32 ",\"seq_len\":%" PRIu32
                    ",\"model_id\":\"%016" PRIx64 "\"", h->dim, h->seq_len, h->model_id);
        fputs("}\n", out);
        return;
    }
    fprintf(out, "# pnm %s stream, version %" PRIu32 "%s; vocabulary %016" PRIx64
            " (%" PRIu32 " pieces)", pnm_kind_name(h->kind), h->version,
            compressed ? ", zstd" : "", h->vocab_id, h->vocab_size);
    if (h->kind != PNM_KIND_TOKENS)
        fprintf(out, "; m=%" PRIu32 " n=%" PRIu32 " w=%" PRIu32 " seed=%" PRIu64,
                h->features, h->hashes, h->window, h->seed);
    if (h->kind == PNM_KIND_HIDDEN)
        fprintf(out, "; model %016" PRIx64 ", b=%" PRIu32 " s=%" PRIu32,
                h->model_id, h->dim, h->seq_len);
    if (h->max_words)
        fprintf(out, "; at most %" PRIu32 " words", h->max_words);
    fputc('\n', out);
}

void pnm_dump_tokens(FILE *out, const pnm_header *h, const pnm_tokens *t,
                     pnm_dump_format fmt, bool ids, bool with_line)
{
    if (fmt == PNM_DUMP_JSON) {
        fprintf(out, "{\"line\":%" PRIu64 ",\"words\":[", t->line);
        for (uint32_t w = 0; w < t->n_words; w++) {
            fputs(w ? ",{\"ids\":[" : "{\"ids\":[", out);
            for (uint32_t k = t->word_start[w]; k < t->word_start[w + 1]; k++)
                fprintf(out, k > t->word_start[w] ? ",%" PRIu32 : "%" PRIu32, t->ids[k]);
            fputs("],\"pieces\":[", out);
            for (uint32_t k = t->word_start[w]; k < t->word_start[w + 1]; k++) {
                fputs(k > t->word_start[w] ? ",\"" : "\"", out);
                put_piece(out, h, t->ids[k], fmt);
                putc('"', out);
            }
            fputs("]}", out);
        }
        fputs("]}\n", out);
        return;
    }
    if (with_line)
        fprintf(out, "%" PRIu64 ":", t->line);
    for (uint32_t w = 0; w < t->n_words; w++) {
        if (w)
            fputs(" |", out);
        for (uint32_t k = t->word_start[w]; k < t->word_start[w + 1]; k++) {
            if (with_line || w || k > t->word_start[w])
                putc(' ', out);
            if (ids)
                fprintf(out, "%" PRIu32, t->ids[k]);
            else
                put_piece(out, h, t->ids[k], fmt);
        }
    }
    putc('\n', out);
}

void pnm_dump_features(FILE *out, const pnm_features *f, pnm_dump_format fmt)
{
    if (fmt == PNM_DUMP_JSON)
        fprintf(out, "{\"line\":%" PRIu64 ",\"words\":[", f->line);
    else
        fprintf(out, "%" PRIu64 ":", f->line);
    for (uint32_t w = 0; w < f->n_words; w++) {
        const uint16_t *b = f->buckets + (size_t)w * f->hashes;
        if (fmt == PNM_DUMP_JSON) {
            fputs(w ? ",[" : "[", out);
            for (uint32_t i = 0; i < f->hashes; i++)
                fprintf(out, i ? ",%u" : "%u", b[i]);
            putc(']', out);
            continue;
        }
        fputs(" {", out);
        /* Buckets are sorted: a run of equal ones is one count. */
        for (uint32_t i = 0; i < f->hashes;) {
            uint32_t j = i;
            while (j < f->hashes && b[j] == b[i])
                j++;
            fprintf(out, i ? " %u" : "%u", b[i]);
            if (j - i > 1)
                fprintf(out, ":%" PRIu32, j - i);
            i = j;
        }
        putc('}', out);
    }
    fputs(fmt == PNM_DUMP_JSON ? "]}\n" : "\n", out);
}

void pnm_dump_hidden(FILE *out, const pnm_hidden *h, pnm_dump_format fmt)
{
    if (fmt == PNM_DUMP_JSON) {
        fprintf(out, "{\"line\":%" PRIu64 ",\"words\":%" PRIu32 ",\"rows\":[",
                h->line, h->n_words);
        for (uint32_t r = 0; r < h->rows; r++) {
            const float *v = h->values + (size_t)r * h->dim;
            fputs(r ? ",[" : "[", out);
            for (uint32_t i = 0; i < h->dim; i++)
                fprintf(out, i ? ",%.9g" : "%.9g", (double)v[i]);
            putc(']', out);
        }
        fputs("]}\n", out);
        return;
    }
    fprintf(out, "%" PRIu64 ": %" PRIu32 " words, %" PRIu32 " rows x %" PRIu32 ":",
            h->line, h->n_words, h->rows, h->dim);
    uint32_t shown = h->dim < 4 ? h->dim : 4;
    for (uint32_t r = 0; r < h->rows; r++) {
        const float *v = h->values + (size_t)r * h->dim;
        if (r)
            fputs(" |", out);
        for (uint32_t i = 0; i < shown; i++)
            fprintf(out, " %.4g", (double)v[i]);
        if (shown < h->dim)
            fputs(" ...", out);
    }
    putc('\n', out);
}

void pnm_dump_end(FILE *out, uint64_t records, pnm_dump_format fmt)
{
    if (fmt == PNM_DUMP_JSON)
        fprintf(out, "{\"end\":{\"records\":%" PRIu64 "}}\n", records);
    else
        fprintf(out, "# end of stream, %" PRIu64 " records\n", records);
}

void pnm_json_put_string(FILE *out, const char *s, size_t len)
{
    putc('"', out);
    put_string(out, (const uint8_t *)s, len, PNM_DUMP_JSON);
    putc('"', out);
}

/* The names of one kind, as "WHAT I NAME" lines or a JSON array member. */
static void put_names(FILE *out, const char *what, char *const *names, uint32_t n,
                      pnm_dump_format fmt)
{
    if (fmt == PNM_DUMP_JSON)
        fprintf(out, ",\"%ss\":[", what);
    for (uint32_t i = 0; i < n; i++) {
        if (fmt == PNM_DUMP_JSON) {
            if (i)
                putc(',', out);
            pnm_json_put_string(out, names[i], strlen(names[i]));
        } else {
            fprintf(out, "%s %" PRIu32 " ", what, i);
            put_string(out, (const uint8_t *)names[i], strlen(names[i]), fmt);
            putc('\n', out);
        }
    }
    if (fmt == PNM_DUMP_JSON)
        putc(']', out);
}

void pnm_dump_model(FILE *out, const pnm_model *m, bool header_only, pnm_dump_format fmt)
{
    const pnm_config *c = &m->config;
    const pnm_projection *p = &c->projection;
    uint64_t vocab_id = pnm_hash64(m->vocab, m->vocab_len, 0);
    const char *weights = m->qw ? "int8" : "float";
    bool int8_tags = m->qw && m->qw->tags;
    if (fmt == PNM_DUMP_JSON) {
        fprintf(out, "{\"kind\":\"model\",\"weights\":\"%s\",\"model_id\":\"%016" PRIx64
                "\",\"vocab_id\":\"%016" PRIx64 "\",\"vocab_size\":%" PRIu32
                ",\"features\":%" PRIu32 ",\"hashes\":%" PRIu32 ",\"window\":%" PRIu32
                ",\"seed\":%" PRIu64 ",\"seq_len\":%" PRIu32 ",\"bottleneck\":%" PRIu32
                ",\"token_hidden\":%" PRIu32 ",\"channel_hidden\":%" PRIu32
                ",\"layers\":%" PRIu32 ",\"tag_sentence\":%s,\"crf\":%s,\"int8_tags\":%s"
                ",\"parameters\":%zu",
                weights, m->id, vocab_id, pnm_sp_vocab_size(m->sp), p->features, p->hashes,
                p->window, p->seed, c->seq_len, c->bottleneck, c->token_hidden,
                c->channel_hidden, c->layers, c->tag_sentence ? "true" : "false",
                c->crf ? "true" : "false", int8_tags ? "true" : "false", pnm_params_count(c));
        put_names(out, "label", m->labels, c->n_labels, fmt);
        put_names(out, "tag", m->tags, c->n_tags, fmt);
        fputs("}\n", out);
        return;
    }
    fprintf(out, "# pnm model %016" PRIx64 ", %s weights; vocabulary %016" PRIx64
            " (%" PRIu32 " pieces); m=%" PRIu32 " n=%" PRIu32 " w=%" PRIu32 " seed=%" PRIu64
            "; s=%" PRIu32 " b=%" PRIu32 " h_t=%" PRIu32 " h_c=%" PRIu32 " L=%" PRIu32
            "; %zu parameters; %" PRIu32 " labels, %" PRIu32 " tags%s%s%s\n",
            m->id, weights, vocab_id, pnm_sp_vocab_size(m->sp), p->features, p->hashes,
            p->window, p->seed, c->seq_len, c->bottleneck, c->token_hidden, c->channel_hidden,
            c->layers, pnm_params_count(c), c->n_labels, c->n_tags,
            c->tag_sentence ? ", sentence-aware tagging" : "", c->crf ? ", CRF" : "",
            int8_tags ? ", int8 tagging head" : "");
    if (header_only)
        return;
    put_names(out, "label", m->labels, c->n_labels, fmt);
    put_names(out, "tag", m->tags, c->n_tags, fmt);
}
