/* Stream round trips (plain and zstd), and damage of every kind detected:
 * truncation at every byte, bit flips at every byte, trailing data, records
 * that lie about their contents, and mismatched headers. Also the line
 * reader and the UTF-8 rules the tokenizer builds on. */
#include <string.h>

#include "fixture.h"
#include "tap.h"

static const int rec1[] = {1, -1, 3, 4, -1, -2};
static const int rec2[] = {-2};
static const int rec3[] = {5, 6, -1, -2};

/* Writes a 3-record token stream into a memory buffer. */
static size_t write_tokens(const pnm_header *h, int zstd, char **mem)
{
    size_t size;
    FILE *f = open_memstream(mem, &size);
    pnm_error err;
    pnm_writer *w = pnm_writer_open(f, h, zstd, &err);
    const int *recs[] = {rec1, rec2, rec3};
    pnm_buf buf = {0};
    for (int i = 0; i < 3; i++) {
        pnm_tokens t = {0};
        make_tokens(&t, recs[i]);
        t.line = (uint64_t)i + 1;
        pnm_tokens_encode(&t, &buf, &err);
        pnm_writer_write(w, buf.data, buf.len, &err);
        pnm_tokens_free(&t);
    }
    pnm_writer_finish(w, &err);
    pnm_writer_free(w);
    pnm_buf_free(&buf);
    fclose(f);
    return size;
}

/* Reads a whole token stream: 0 when valid, -1 with err set otherwise.
 * *digest (when given) sums the hashes of the records read. */
static int read_all_digest(const char *mem, size_t size, pnm_tokens *last, uint64_t *records,
                           uint64_t *digest, pnm_error *err)
{
    FILE *f = fmemopen((void *)mem, size ? size : 1, "rb");
    if (size == 0)
        fgetc(f); /* fmemopen refuses size 0: read the one byte away */
    pnm_reader *r = pnm_reader_open(f, "test", err);
    int rc = r ? 0 : -1, got;
    pnm_buf enc = {0};
    while (r && (got = pnm_tokens_read(r, last, err)) > 0)
        if (digest && pnm_tokens_encode(last, &enc, err) == 0)
            *digest += pnm_hash64(enc.data, enc.len, 0);
    pnm_buf_free(&enc);
    if (r && got < 0)
        rc = -1;
    if (r && records)
        *records = pnm_reader_records(r);
    pnm_reader_free(r);
    fclose(f);
    return rc;
}

static int read_all(const char *mem, size_t size, pnm_tokens *last, uint64_t *records,
                    pnm_error *err)
{
    return read_all_digest(mem, size, last, records, NULL, err);
}

static void test_round_trip(const pnm_header *h, int zstd, const char *what)
{
    char *mem;
    size_t size = write_tokens(h, zstd, &mem);
    FILE *f = fmemopen(mem, size, "rb");
    pnm_error err;
    pnm_reader *r = pnm_reader_open(f, "test", &err);
    int ok = r != NULL && pnm_reader_compressed(r) == (zstd > 0);
    const pnm_header *got = r ? pnm_reader_header(r) : NULL;
    ok = ok && got->kind == PNM_KIND_TOKENS && got->vocab_id == h->vocab_id &&
         got->vocab_size == h->vocab_size &&
         memcmp(got->piece_offset, h->piece_offset, (N_PIECES + 1) * sizeof(uint32_t)) == 0 &&
         memcmp(got->piece_bytes, h->piece_bytes, h->piece_offset[N_PIECES]) == 0;
    pnm_tokens t = {0};
    const int *recs[] = {rec1, rec2, rec3};
    for (int i = 0; ok && i < 3; i++) {
        pnm_tokens want = {0};
        make_tokens(&want, recs[i]);
        ok = pnm_tokens_read(r, &t, &err) == 1 && t.line == (uint64_t)i + 1 &&
             t.n_words == want.n_words &&
             memcmp(t.word_start, want.word_start, (want.n_words + 1) * sizeof(uint32_t)) == 0 &&
             memcmp(t.ids, want.ids, want.word_start[want.n_words] * sizeof(uint32_t)) == 0;
        pnm_tokens_free(&want);
    }
    ok = ok && pnm_tokens_read(r, &t, &err) == 0;
    CHECK(ok, what);
    pnm_tokens_free(&t);
    pnm_reader_free(r);
    fclose(f);
    free(mem);
}

static void test_features_round_trip(int zstd, const char *what)
{
    pnm_header h = {.kind = PNM_KIND_FEATURES, .version = 1, .vocab_id = 7, .vocab_size = 9,
                    .features = 1000, .hashes = 3, .window = 2, .seed = 5};
    pnm_features f = {0};
    pnm_error err;
    pnm_features_reserve(&f, 2, 3, &err);
    uint16_t b[6] = {1, 1, 999, 0, 500, 501};
    memcpy(f.buckets, b, sizeof b);
    f.n_words = 2, f.line = 42;
    char *mem;
    size_t size;
    FILE *out = open_memstream(&mem, &size);
    pnm_writer *w = pnm_writer_open(out, &h, zstd, &err);
    pnm_buf buf = {0};
    pnm_features_encode(&f, &buf, &err);
    pnm_writer_write(w, buf.data, buf.len, &err);
    pnm_writer_finish(w, &err);
    pnm_writer_free(w);
    fclose(out);
    FILE *in = fmemopen(mem, size, "rb");
    pnm_reader *r = pnm_reader_open(in, "test", &err);
    pnm_features g = {0};
    int ok = r && pnm_reader_header(r)->features == 1000 && pnm_reader_header(r)->seed == 5 &&
             pnm_features_read(r, &g, &err) == 1 && g.line == 42 && g.n_words == 2 &&
             memcmp(g.buckets, b, sizeof b) == 0 && pnm_features_read(r, &g, &err) == 0;
    CHECK(ok, what);

    /* A record whose buckets are out of order or out of range is corrupt. */
    buf.data[12 + 2 * 1] = 0, buf.data[12 + 2 * 1 + 1] = 0; /* 1, 0, 999 */
    CHECK(pnm_features_decode(&h, buf.data, (uint32_t)buf.len, &g, &err) < 0 &&
          strstr(err.msg, "out of order"), "features decode: unsorted buckets refused");
    pnm_put_u16(buf.data + 12 + 2, 1000);
    CHECK(pnm_features_decode(&h, buf.data, (uint32_t)buf.len, &g, &err) < 0 &&
          strstr(err.msg, "outside"), "features decode: bucket >= m refused");
    CHECK(pnm_features_decode(&h, buf.data, (uint32_t)buf.len - 2, &g, &err) < 0,
          "features decode: length that does not fit the word count refused");
    pnm_reader_free(r);
    fclose(in);
    free(mem);
    pnm_buf_free(&buf);
    pnm_features_free(&f);
    pnm_features_free(&g);
}

static void test_damage(const pnm_header *h, int zstd)
{
    char *mem;
    size_t size = write_tokens(h, zstd, &mem);
    pnm_error err;
    pnm_tokens t = {0};
    uint64_t records = 0;
    CHECK(read_all(mem, size, &t, &records, &err) == 0 && records == 3, "intact stream reads");

    size_t undetected = size;
    for (size_t cut = 0; cut < size; cut++)
        if (read_all(mem, cut, &t, NULL, &err) == 0)
            undetected = cut;
    CHECK(undetected == size, zstd ? "zstd stream truncated at every offset: all detected"
                                   : "stream truncated at every offset: all detected");
    if (!zstd) {
        read_all(mem, size - 16, &t, &records, &err);
        CHECK(records == 3 && strstr(err.msg, "no end marker"),
              "cut at the end marker: complete records read, then 'no end marker'");
        read_all(mem, 100, &t, NULL, &err);
        CHECK(strstr(err.msg, "truncated") && strstr(err.msg, "byte offset"),
              "truncation message names the byte offset");
    }
    /* A flip may only go unnoticed where it changes nothing read (in zstd's
     * framing, say); a plain stream has no such byte. */
    uint64_t intact = 0;
    read_all_digest(mem, size, &t, NULL, &intact, &err);
    size_t flips_missed = 0, flips_harmless = 0;
    for (size_t i = 0; i < size; i++) {
        for (int bit = 0; bit < 8; bit++) {
            uint64_t digest = 0;
            mem[i] ^= (char)(1 << bit);
            if (read_all_digest(mem, size, &t, NULL, &digest, &err) == 0) {
                if (digest == intact)
                    flips_harmless++;
                else
                    flips_missed++;
            }
            mem[i] ^= (char)(1 << bit);
        }
    }
    CHECK(flips_missed == 0 && (zstd || flips_harmless == 0),
          zstd ? "no single-bit flip of a zstd stream changes what is read unnoticed"
               : "every single-bit flip of a stream is detected");
    char *longer = malloc(size + 1);
    memcpy(longer, mem, size);
    longer[size] = 'x';
    if (!zstd)
        CHECK(read_all(longer, size + 1, &t, NULL, &err) < 0 && strstr(err.msg, "after the end marker"),
              "data after the end marker is refused");
    free(longer);
    pnm_tokens_free(&t);
    free(mem);
}

static void test_header_errors(const pnm_header *h)
{
    char *mem;
    size_t size = write_tokens(h, 0, &mem);
    pnm_error err;
    pnm_tokens t = {0};
    CHECK(read_all("hello world\n", 12, &t, NULL, &err) < 0 && strstr(err.msg, "not a pnm stream"),
          "text is not a stream");
    CHECK(read_all(mem, 0, &t, NULL, &err) < 0 && strstr(err.msg, "empty input"),
          "empty input is named as such");
    mem[4] = 2;
    CHECK(read_all(mem, size, &t, NULL, &err) < 0 && strstr(err.msg, "version 2"),
          "another version is refused by number");
    mem[4] = 1;
    mem[3] = 'Q';
    CHECK(read_all(mem, size, &t, NULL, &err) < 0 && strstr(err.msg, "unknown pnm stream kind"),
          "unknown kind is refused");
    free(mem);

    pnm_header a = {.kind = PNM_KIND_FEATURES, .vocab_id = 1, .vocab_size = 10,
                    .features = 1024, .hashes = 64, .window = 1, .seed = 0};
    pnm_header b = a;
    CHECK(pnm_header_check_match(&a, &b, &err) == 0, "identical settings match");
    b.vocab_id = 2;
    CHECK(pnm_header_check_match(&a, &b, &err) < 0 && strstr(err.msg, "another vocabulary"),
          "another vocabulary is named");
    b = a;
    b.features = 2048;
    CHECK(pnm_header_check_match(&a, &b, &err) < 0 && strstr(err.msg, "m=2048") &&
          strstr(err.msg, "expected m=1024"), "other projection settings are spelled out");
}

static void test_tokens_decode(const pnm_header *h)
{
    pnm_tokens t = {0};
    make_tokens(&t, rec1);
    pnm_buf buf = {0};
    pnm_error err;
    pnm_tokens_encode(&t, &buf, &err);
    pnm_tokens got = {0};
    pnm_put_u32(buf.data + 14, 99); /* first piece id */
    CHECK(pnm_tokens_decode(h, buf.data, (uint32_t)buf.len, &got, &err) < 0 &&
          strstr(err.msg, "outside the vocabulary"), "piece id beyond the vocabulary refused");
    pnm_tokens_encode(&t, &buf, &err);
    pnm_put_u32(buf.data + 8, 1000000); /* word count */
    CHECK(pnm_tokens_decode(h, buf.data, (uint32_t)buf.len, &got, &err) < 0 &&
          strstr(err.msg, "claims"), "word count beyond the record refused before allocating");
    pnm_tokens_encode(&t, &buf, &err);
    pnm_put_u16(buf.data + 12, 0);
    CHECK(pnm_tokens_decode(h, buf.data, (uint32_t)buf.len, &got, &err) < 0,
          "a word of zero pieces refused");
    pnm_tokens_free(&t);
    pnm_tokens_free(&got);
    pnm_buf_free(&buf);
}

static void test_lines(void)
{
    static const char text[] = "one\n\ntwo\0nul\r\nlast";
    FILE *f = fmemopen((void *)text, sizeof text - 1, "rb");
    pnm_lines in;
    pnm_error err;
    pnm_lines_init(&in, f, &err);
    const char *line;
    size_t len;
    int ok = pnm_lines_next(&in, &line, &len, &err) == 1 && len == 3 && !memcmp(line, "one", 3);
    ok = ok && pnm_lines_next(&in, &line, &len, &err) == 1 && len == 0;
    ok = ok && pnm_lines_next(&in, &line, &len, &err) == 1 && len == 8 &&
         !memcmp(line, "two\0nul\r", 8);
    ok = ok && pnm_lines_next(&in, &line, &len, &err) == 1 && len == 4 && in.number == 4;
    ok = ok && pnm_lines_next(&in, &line, &len, &err) == 0;
    CHECK(ok, "lines: empty lines, NUL bytes, CR kept, last line without newline");
    pnm_lines_free(&in);
    fclose(f);
}

static void test_utf8_and_words(void)
{
    uint32_t cp;
    CHECK(pnm_utf8_decode("\xC3\xA9", 2, &cp) == 2 && cp == 0xE9, "utf8: 2-byte character");
    CHECK(pnm_utf8_decode("\xF0\x9F\x8E\xB5", 4, &cp) == 4 && cp == 0x1F3B5, "utf8: 4-byte character");
    CHECK(pnm_utf8_decode("\xC0\x80", 2, &cp) == 0, "utf8: overlong refused");
    CHECK(pnm_utf8_decode("\xED\xA0\x80", 3, &cp) == 0, "utf8: surrogate refused");
    CHECK(pnm_utf8_decode("\xF4\x90\x80\x80", 4, &cp) == 0, "utf8: above U+10FFFF refused");
    CHECK(pnm_utf8_decode("\xE2\x82", 2, &cp) == 0, "utf8: cut sequence refused");
    CHECK(pnm_utf8_find_invalid("ok \xFF", 4) == 3, "utf8: first invalid byte found");

    static const char line[] = " play\tsome\xC2\xA0jazz\r\x01x\xE3\x80\x80y ";
    const char *want[] = {"play", "some", "jazz", "x", "y"};
    size_t pos = 0, wl, n = 0;
    const char *w;
    int ok = 1;
    while (pnm_next_word(line, sizeof line - 1, &pos, &w, &wl))
        ok &= n < 5 && wl == strlen(want[n]) && memcmp(w, want[n], wl) == 0, n++;
    CHECK(ok && n == 5, "words split on tab, NBSP, CR, control characters, ideographic space");

    char big[2000];
    memset(big, 'a', sizeof big);
    memcpy(big + 510, "\xC3\xA9", 2);  /* é across... */
    memcpy(big + 511, "\xC3\xA9", 2);  /* ...the 512-byte cut */
    pos = 0;
    ok = pnm_next_word(big, sizeof big, &pos, &w, &wl) && wl == 511 && pos == sizeof big &&
         !pnm_next_word(big, sizeof big, &pos, &w, &wl);
    CHECK(ok, "a long word is cut at a character boundary and its rest skipped");
}

int main(void)
{
    pnm_header h;
    make_tokens_header(&h);
    test_round_trip(&h, 0, "tokens round trip, plain");
    test_round_trip(&h, 3, "tokens round trip, zstd");
    test_features_round_trip(0, "features round trip, plain");
    test_features_round_trip(19, "features round trip, zstd level 19");
    test_damage(&h, 0);
    test_damage(&h, 3);
    test_header_errors(&h);
    test_tokens_decode(&h);
    test_lines();
    test_utf8_and_words();
    pnm_header_free(&h);
    return tap_done();
}
