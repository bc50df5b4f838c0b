/* Hidden streams: round trips (plain and zstd), the header's new fields
 * and their checks, records that lie about their rows or carry NaN, damage
 * (truncation at every byte, bit flips at every byte), model identity
 * checks, and the pnm-dump renderings. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pnm.h"
#include "tap.h"

#define MODEL_ID 0xDEADBEEF12345678ull

static pnm_header hidden_header(void)
{
    pnm_header h = {.kind = PNM_KIND_HIDDEN, .version = PNM_STREAM_VERSION, .vocab_id = 7,
                    .vocab_size = 9, .features = 1000, .hashes = 3, .window = 2, .seed = 5,
                    .dim = 3, .seq_len = 4, .model_id = MODEL_ID};
    return h;
}

/* Record i of the test stream: 2 words, 0 words (1 row), 6 words (s = 4 rows). */
static void make_record(int i, pnm_hidden *r)
{
    static const uint32_t words[] = {2, 0, 6};
    pnm_error err;
    uint32_t rows = words[i] ? words[i] : 1;
    if (rows > 4)
        rows = 4;
    pnm_hidden_reserve(r, rows, 3, &err);
    r->line = (uint64_t)i + 1;
    r->n_words = words[i];
    for (uint32_t k = 0; k < rows * 3; k++)
        r->values[k] = (float)((int)k - 5) * 0.37f + (float)i;
    r->values[0] = -0.0f;
    if (i == 2)
        r->values[1] = 1e-42f, r->values[2] = 3.4e38f; /* a subnormal, near the largest */
}

static size_t write_stream(const pnm_header *h, int zstd, char **mem)
{
    size_t size;
    FILE *f = open_memstream(mem, &size);
    pnm_error err;
    pnm_writer *w = pnm_writer_open(f, h, zstd, &err);
    pnm_buf buf = {0};
    pnm_hidden r = {0};
    for (int i = 0; i < 3; i++) {
        make_record(i, &r);
        pnm_hidden_encode(&r, &buf, &err);
        pnm_writer_write(w, buf.data, buf.len, &err);
    }
    pnm_writer_finish(w, &err);
    pnm_writer_free(w);
    pnm_buf_free(&buf);
    pnm_hidden_free(&r);
    fclose(f);
    return size;
}

/* Reads a whole hidden stream: 0 when valid; *digest sums record hashes. */
static int read_all(const char *mem, size_t size, uint64_t *digest, pnm_error *err)
{
    FILE *f = fmemopen((void *)mem, size ? size : 1, "rb");
    if (size == 0)
        fgetc(f);
    pnm_reader *r = pnm_reader_open(f, "test", err);
    int rc = r ? 0 : -1, got = 0;
    pnm_hidden h = {0};
    pnm_buf enc = {0};
    while (r && (got = pnm_hidden_read(r, &h, err)) > 0)
        if (digest && pnm_hidden_encode(&h, &enc, err) == 0)
            *digest += pnm_hash64(enc.data, enc.len, 0);
    if (r && got < 0)
        rc = -1;
    pnm_buf_free(&enc);
    pnm_hidden_free(&h);
    pnm_reader_free(r);
    fclose(f);
    return rc;
}

static void test_round_trip(int zstd, const char *what)
{
    pnm_header h = hidden_header();
    char *mem;
    size_t size = write_stream(&h, zstd, &mem);
    FILE *f = fmemopen(mem, size, "rb");
    pnm_error err;
    pnm_reader *r = pnm_reader_open(f, "test", &err);
    const pnm_header *g = r ? pnm_reader_header(r) : NULL;
    int ok = g && g->kind == PNM_KIND_HIDDEN && g->dim == 3 && g->seq_len == 4 &&
             g->model_id == MODEL_ID && g->vocab_id == 7 && g->features == 1000 &&
             g->hashes == 3 && g->window == 2 && g->seed == 5 &&
             pnm_reader_compressed(r) == (zstd > 0);
    pnm_hidden got = {0}, want = {0};
    for (int i = 0; ok && i < 3; i++) {
        make_record(i, &want);
        ok = pnm_hidden_read(r, &got, &err) == 1 && got.line == want.line &&
             got.n_words == want.n_words && got.rows == want.rows && got.dim == 3 &&
             memcmp(got.values, want.values, (size_t)want.rows * 3 * sizeof(float)) == 0;
    }
    ok = ok && pnm_hidden_read(r, &got, &err) == 0;
    CHECK(ok, what);
    pnm_hidden_free(&got);
    pnm_hidden_free(&want);
    pnm_reader_free(r);
    fclose(f);
    free(mem);
}

static void test_records(void)
{
    pnm_header h = hidden_header();
    pnm_hidden r = {0}, got = {0};
    pnm_buf buf = {0};
    pnm_error err;
    make_record(0, &r);
    pnm_hidden_encode(&r, &buf, &err);
    CHECK(buf.len == 16 + 2 * 3 * 4 && pnm_get_u64(buf.data) == 1 && pnm_get_u32(buf.data + 8) == 2 &&
          pnm_get_u32(buf.data + 12) == 2 && pnm_get_u32(buf.data + 16) == 0x80000000u &&
          pnm_get_u32(buf.data + 20) == 0xBFBD70A4u,
          "payload: line, words, rows, then little-endian float bits");

    make_record(2, &r);
    r.rows = 6; /* 6 words, s = 4: the writer does not know s, the reader does */
    pnm_hidden_reserve(&r, 6, 3, &err);
    for (int k = 0; k < 18; k++)
        r.values[k] = 0.5f;
    CHECK(pnm_hidden_encode(&r, &buf, &err) == 0 &&
          pnm_hidden_decode(&h, buf.data, (uint32_t)buf.len, &got, &err) < 0 &&
          strstr(err.msg, "record has 6 rows for 6 words, expected 4 (sequence length 4)"),
          "decode: rows other than min(max(words, 1), s) refused");
    make_record(1, &r);
    pnm_hidden_encode(&r, &buf, &err);
    pnm_put_u32(buf.data + 12, 0);
    CHECK(pnm_hidden_decode(&h, buf.data, (uint32_t)buf.len, &got, &err) < 0 &&
          strstr(err.msg, "0 rows for 0 words, expected 1"), "decode: an empty line has one row");
    pnm_hidden_encode(&r, &buf, &err);
    CHECK(pnm_hidden_decode(&h, buf.data, (uint32_t)buf.len - 4, &got, &err) < 0 &&
          strstr(err.msg, "cannot hold 1 rows of 3 values"), "decode: a short payload refused");
    pnm_put_u32(buf.data + 20, 0x7FC00000u); /* NaN */
    CHECK(pnm_hidden_decode(&h, buf.data, (uint32_t)buf.len, &got, &err) < 0 &&
          strstr(err.msg, "value 1 of row 0 is not finite"), "decode: NaN refused");
    pnm_put_u32(buf.data + 20, 0xFF800000u); /* -Inf */
    CHECK(pnm_hidden_decode(&h, buf.data, (uint32_t)buf.len, &got, &err) < 0 &&
          strstr(err.msg, "not finite"), "decode: infinity refused");
    CHECK(pnm_hidden_decode(&h, buf.data, 15, &got, &err) < 0 && strstr(err.msg, "too short"),
          "decode: a payload shorter than its head refused");
    make_record(2, &r);
    pnm_hidden_encode(&r, &buf, &err);
    h.max_words = 5;
    CHECK(pnm_hidden_decode(&h, buf.data, (uint32_t)buf.len, &got, &err) < 0 &&
          strstr(err.msg, "the header allows 5"), "decode: more words than max_words refused");
    h.max_words = 0;
    pnm_put_u32(buf.data + 8, 0xFFFFFFFFu);
    CHECK(pnm_hidden_decode(&h, buf.data, (uint32_t)buf.len, &got, &err) < 0 &&
          strstr(err.msg, "above the limit"), "decode: a word count above the limit refused");

    make_record(0, &r);
    r.values[4] = NAN;
    CHECK(pnm_hidden_encode(&r, &buf, &err) < 0 && buf.len == 0 &&
          strstr(err.msg, "line 1: value 1 of row 1 is not finite"),
          "encode: NaN refused, nothing written");
    make_record(0, &r);
    r.rows = 3;
    CHECK(pnm_hidden_encode(&r, &buf, &err) < 0 && strstr(err.msg, "3 rows for 2 words"),
          "encode: more rows than words refused");
    r.rows = 0;
    CHECK(pnm_hidden_encode(&r, &buf, &err) < 0, "encode: zero rows refused");
    pnm_hidden_free(&r);
    pnm_hidden_free(&got);
    pnm_buf_free(&buf);
}

static void test_damage(int zstd)
{
    pnm_header h = hidden_header();
    char *mem;
    size_t size = write_stream(&h, zstd, &mem);
    pnm_error err;
    uint64_t intact = 0;
    CHECK(read_all(mem, size, &intact, &err) == 0, zstd ? "intact zstd hidden stream reads"
                                                       : "intact hidden stream reads");
    size_t undetected = 0;
    for (size_t cut = 0; cut < size; cut++)
        undetected += read_all(mem, cut, NULL, &err) == 0;
    CHECK(undetected == 0, zstd ? "zstd hidden stream truncated at every offset: all detected"
                                : "hidden stream truncated at every offset: all detected");
    size_t missed = 0, harmless = 0;
    for (size_t i = 0; i < size; i++) {
        for (int bit = 0; bit < 8; bit++) {
            uint64_t digest = 0;
            mem[i] ^= (char)(1 << bit);
            if (read_all(mem, size, &digest, &err) == 0) {
                if (digest == intact)
                    harmless++;
                else
                    missed++;
            }
            mem[i] ^= (char)(1 << bit);
        }
    }
    CHECK(missed == 0 && (zstd || harmless == 0),
          zstd ? "no single-bit flip of a zstd hidden stream changes what is read unnoticed"
               : "every single-bit flip of a hidden stream is detected");
    free(mem);
}

static void test_headers(void)
{
    pnm_header h = hidden_header();
    pnm_error err;
    char *mem;
    size_t size;

    h.dim = 0;
    size = write_stream(&h, 0, &mem);
    CHECK(read_all(mem, size, NULL, &err) < 0 && strstr(err.msg, "dimension b=0 is outside 1..4096"),
          "header: dimension 0 refused");
    free(mem);
    h = hidden_header(), h.seq_len = 5000;
    size = write_stream(&h, 0, &mem);
    CHECK(read_all(mem, size, NULL, &err) < 0 &&
          strstr(err.msg, "sequence length s=5000 is outside 1..4096"),
          "header: sequence length above the limit refused");
    free(mem);
    h = hidden_header(), h.hashes = 0;
    size = write_stream(&h, 0, &mem);
    CHECK(read_all(mem, size, NULL, &err) < 0 && strstr(err.msg, "hash count n=0"),
          "header: a hidden stream needs projection settings");
    free(mem);

    /* Other kinds keep bytes 48..63 reserved: writers leave them zero... */
    pnm_header f = hidden_header();
    f.kind = PNM_KIND_FEATURES;
    FILE *out = open_memstream(&mem, &size);
    pnm_writer *w = pnm_writer_open(out, &f, 0, &err);
    pnm_writer_finish(w, &err);
    pnm_writer_free(w);
    fclose(out);
    int zero = 1;
    for (int i = 48; i < 64; i++)
        zero &= mem[i] == 0;
    FILE *in = fmemopen(mem, size, "rb");
    pnm_reader *r = pnm_reader_open(in, "test", &err);
    CHECK(zero && r && pnm_reader_header(r)->dim == 0 && pnm_reader_header(r)->model_id == 0,
          "features header: dim, seq_len and model_id are not written");
    pnm_reader_free(r);
    fclose(in);
    /* ...and readers refuse them set. */
    mem[56] = 1;
    in = fmemopen(mem, size, "rb");
    CHECK(!pnm_reader_open(in, "test", &err) && strstr(err.msg, "reserved byte 56 is not zero"),
          "features header: a set reserved byte is refused");
    fclose(in);
    free(mem);

    pnm_header a = hidden_header(), b = hidden_header();
    CHECK(pnm_header_check_match(&a, &b, &err) == 0, "match: same model");
    b.model_id = 1;
    CHECK(pnm_header_check_match(&a, &b, &err) < 0 &&
          strstr(err.msg, "made by another model: 0000000000000001 (b=3 s=4), expected "
                          "deadbeef12345678"), "match: another model is spelled out");
    f = hidden_header();
    f.kind = PNM_KIND_FEATURES, f.dim = 0, f.seq_len = 0, f.model_id = 0;
    CHECK(pnm_header_check_match(&f, &a, &err) == 0,
          "match: a hidden stream against the features header it came from");
    b = hidden_header(), b.window = 1;
    CHECK(pnm_header_check_match(&a, &b, &err) < 0 && strstr(err.msg, "projection settings"),
          "match: hidden streams compare projection settings too");
    CHECK(pnm_header_check_model(&a, MODEL_ID, &err) == 0, "check model: the same model");
    CHECK(pnm_header_check_model(&a, 42, &err) < 0 &&
          strcmp(err.msg, "made by another model: deadbeef12345678, expected 000000000000002a") == 0,
          "check model: another model");
    CHECK(pnm_header_check_model(&f, MODEL_ID, &err) < 0 &&
          strstr(err.msg, "expected a hidden stream, got a features stream"),
          "check model: a features stream has no model");
    CHECK(strcmp(pnm_kind_name(PNM_KIND_HIDDEN), "hidden") == 0, "kind name");
}

static char *dump_to_string(const pnm_header *h, const pnm_hidden *r, pnm_dump_format fmt)
{
    char *mem;
    size_t size;
    FILE *out = open_memstream(&mem, &size);
    pnm_dump_header(out, h, true, fmt);
    pnm_dump_hidden(out, r, fmt);
    fclose(out);
    return mem;
}

static void test_dump(void)
{
    pnm_header h = hidden_header();
    pnm_hidden r = {0};
    pnm_error err;
    pnm_hidden_reserve(&r, 2, 5, &err);
    r.line = 9, r.n_words = 2;
    float v[] = {1, -0.5f, 0.1f, 123456.789f, 7, 0, 2, 3, 4, 5};
    memcpy(r.values, v, sizeof v);
    char *text = dump_to_string(&h, &r, PNM_DUMP_TEXT);
    CHECK(strcmp(text, "# pnm hidden stream, version 1, zstd; vocabulary 0000000000000007 (9 pieces); "
                       "m=1000 n=3 w=2 seed=5; model deadbeef12345678, b=3 s=4\n"
                       "9: 2 words, 2 rows x 5: 1 -0.5 0.1 1.235e+05 ... | 0 2 3 4 ...\n") == 0,
          "dump text: header with the model, first 4 values of every row");
    if (strstr(text, "pnm hidden") == NULL)
        printf("# %s", text);
    free(text);
    char *json = dump_to_string(&h, &r, PNM_DUMP_JSON);
    CHECK(strcmp(json, "{\"kind\":\"hidden\",\"version\":1,\"zstd\":true,\"vocab_id\":\"0000000000000007\","
                       "\"vocab_size\":9,\"max_words\":0,\"features\":1000,\"hashes\":3,\"window\":2,"
                       "\"seed\":5,\"dim\":3,\"seq_len\":4,\"model_id\":\"deadbeef12345678\"}\n"
                       "{\"line\":9,\"words\":2,\"rows\":[[1,-0.5,0.100000001,123456.789,7],"
                       "[0,2,3,4,5]]}\n") == 0,
          "dump JSON: header fields, every value with 9 significant digits");
    free(json);
    pnm_hidden_free(&r);
}

int main(void)
{
    test_round_trip(0, "hidden round trip, plain");
    test_round_trip(3, "hidden round trip, zstd");
    test_records();
    test_damage(0);
    test_damage(3);
    test_headers();
    test_dump();
    return tap_done();
}
