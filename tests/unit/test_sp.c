/* The SentencePiece shim and the tokenizer, on a vocabulary trained here. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pnm.h"
#include "tap.h"

static const char *subjects[] = {"play", "show", "find", "book", "rate", "add", "tell"};
static const char *objects[] = {"some jazz", "the weather", "a table for two", "this album",
                                "my playlist", "movie times", "the news today"};
static const char *tails[] = {"please", "in paris", "tomorrow", "now", "for me", "at noon"};

/* Whether t is line as SentencePiece encodes it word by word, without the
 * word cache: the reference the cached tokenizer must equal. */
static bool encoded_uncached(const pnm_sp *sp, const char *line, const pnm_tokens *t)
{
    size_t pos = 0, len;
    const char *w;
    uint32_t i = 0;
    while (pnm_next_word(line, strlen(line), &pos, &w, &len)) {
        uint32_t ids[PNM_MAX_WORD_PIECES];
        size_t n;
        pnm_error err;
        if (pnm_sp_encode(sp, w, len, ids, PNM_MAX_WORD_PIECES, &n, &err))
            return false;
        if (n == 0)
            ids[0] = pnm_sp_unk_id(sp), n = 1;
        if (i >= t->n_words || t->word_start[i + 1] - t->word_start[i] != n ||
            memcmp(t->ids + t->word_start[i], ids, n * sizeof *ids) != 0)
            return false;
        i++;
    }
    return i == t->n_words;
}

/* Tokenizes lines twice with one pnm_tokens (the second time every short
 * word is in its cache) and checks each record against the reference. */
static bool cached_as_uncached(const pnm_sp *sp, pnm_tokens *t, const char *const *lines)
{
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; lines[i]; i++) {
            bool truncated;
            pnm_error err;
            if (pnm_tokenize_line(sp, lines[i], strlen(lines[i]), i + 1, 0, t, &truncated, &err) ||
                !encoded_uncached(sp, lines[i], t))
                return false;
        }
    return true;
}

/* Lines of 8000 different made-up words, more than the word cache has
 * slots: slots are overwritten and lookups must tell words apart. Each
 * line is a buffer of 64 bytes; the array ends with NULL. */
static char **many_words_lines(void)
{
    enum { LINES = 1000, PER_LINE = 8 };
    char **lines = calloc(LINES + 1, sizeof *lines);
    for (int i = 0; lines && i < LINES; i++) {
        lines[i] = malloc(PER_LINE * 8);
        char *p = lines[i];
        for (int j = 0; p && j < PER_LINE; j++) {
            int w = i * PER_LINE + j;
            p += sprintf(p, "%c%c%c%c ", 'a' + w % 26, 'a' + w / 26 % 26, 'e' + w / 676 % 20,
                         "aeiou"[w % 5]);
        }
    }
    return lines;
}

/* Whether bytes (a hand-made ModelProto) are refused with a message that
 * contains why. */
static bool refused(const char *bytes, size_t len, const char *why)
{
    pnm_error err;
    pnm_sp *sp = pnm_sp_load_bytes(bytes, len, &err);
    pnm_sp_free(sp);
    return !sp && strstr(err.msg, "not a SentencePiece model") && strstr(err.msg, why);
}

/* Loading reads the pieces from the protobuf wire format (pieces are field
 * 1 of ModelProto; in each, the string is field 1 and the type field 3,
 * UNKNOWN = 2), and refuses what SentencePiece would. */
static void check_crafted_models(void)
{
#define PIECE_UNK "\x0a\x09\x0a\x05<unk>\x18\x02"
#define PIECE_ABC "\x0a\x05\x0a\x03" "abc"
    static const char two[] = PIECE_UNK "\x12\x02\x08\x01" PIECE_ABC;
    pnm_error err;
    pnm_sp *sp = pnm_sp_load_bytes(two, sizeof two - 1, &err);
    size_t len = 0;
    const char *p = sp ? pnm_sp_piece(sp, 1, &len) : NULL;
    CHECK(sp && pnm_sp_vocab_size(sp) == 2 && pnm_sp_unk_id(sp) == 0 && len == 3 &&
          memcmp(p, "abc", 3) == 0, "pieces and the unknown piece read from the wire format,"
          " other fields skipped");
    pnm_sp_free(sp);
    CHECK(refused("", 0, "no pieces") && refused(NULL, 0, "no pieces"),
          "an empty model is refused (an empty file's bytes may be NULL)");
    CHECK(refused(PIECE_ABC, sizeof PIECE_ABC - 1, "no unknown piece"),
          "a model without an unknown piece is refused");
    CHECK(refused(PIECE_UNK PIECE_UNK, 2 * (sizeof PIECE_UNK - 1), "a second unknown"),
          "a model with two unknown pieces is refused");
    CHECK(refused(PIECE_UNK "\x0a\x02\x18\x01", sizeof PIECE_UNK - 1 + 4, "piece 1 is empty"),
          "an empty piece is refused");
    CHECK(refused(PIECE_UNK "\x0a\x09\x0a\x03", sizeof PIECE_UNK - 1 + 4, "malformed"),
          "a piece that runs past the end is refused");
    CHECK(refused("\x0b\x00", 2, "malformed") && refused("\x0a\xff", 2, "malformed"),
          "a group, a truncated length: refused");
#undef PIECE_UNK
#undef PIECE_ABC
}

static pnm_corpus make_corpus(void)
{
    pnm_corpus c = {0};
    pnm_error err;
    char line[256];
    uint64_t no = 0;
    for (int i = 0; i < 7; i++)
        for (int j = 0; j < 7; j++)
            for (int k = 0; k < 6; k++) {
                int n = snprintf(line, sizeof line, "%s  %s\t%s", subjects[i], objects[j], tails[k]);
                pnm_corpus_add(&c, line, (size_t)n, ++no, &err);
            }
    return c;
}

int main(void)
{
    pnm_corpus corpus = make_corpus();
    pnm_error err;
    CHECK(corpus.count == 294 && strcmp(corpus.sentences[0], "play some jazz please") == 0,
          "corpus lines are words joined by single spaces");
    CHECK(pnm_corpus_add(&corpus, "ok \xC3", 4, 9, &err) < 0 && strstr(err.msg, "line 9, byte 4"),
          "corpus: invalid UTF-8 named by line and byte");

    pnm_sp_train_options opt = {8000, PNM_SP_UNIGRAM, "nmt_nfkc_cf", 1, 0};
    void *model = NULL, *again = NULL;
    size_t len = 0, len2 = 0;
    int rc = pnm_sp_train((const char *const *)corpus.sentences, corpus.count, &opt, &model,
                          &len, &err);
    CHECK(rc == 0, "a small corpus trains with a vocabulary size it cannot fill");
    if (rc != 0) {
        printf("# %s\n", err.msg);
        return tap_done();
    }
    rc = pnm_sp_train((const char *const *)corpus.sentences, corpus.count, &opt, &again,
                      &len2, &err);
    CHECK(rc == 0 && len == len2 && memcmp(model, again, len) == 0,
          "training is deterministic for one seed and thread count");
    CHECK(pnm_sp_train(NULL, 0, &opt, &again, &len2, &err) < 0 && strstr(err.msg, "no text"),
          "training on nothing is a clear error");

    pnm_sp *sp = pnm_sp_load_bytes(model, len, &err);
    CHECK(sp && pnm_sp_vocab_size(sp) > 20 && pnm_sp_vocab_size(sp) < 8000,
          "the trained model loads, with fewer pieces than asked for");
    CHECK(!pnm_sp_load_bytes("garbage", 7, &err) && strstr(err.msg, "not a SentencePiece model"),
          "garbage is not a model");
    CHECK(!pnm_sp_load_file("/nonexistent/v.model", &err) && strstr(err.msg, "/nonexistent/v.model"),
          "a missing file is named");
    CHECK(pnm_sp_encoder_ready(sp, &err) == 0, "the trained model's encoder builds");
    check_crafted_models();

    uint32_t ids[16];
    size_t n;
    CHECK(pnm_sp_encode(sp, "Playing", 7, ids, 16, &n, &err) == 0 && n >= 1,
          "encode a word");
    size_t plen;
    const char *p = pnm_sp_piece(sp, ids[0], &plen);
    CHECK(plen >= 3 && memcmp(p, "\xE2\x96\x81", 3) == 0, "a word's first piece carries the mark");
    uint32_t ids2[16];
    size_t n2;
    pnm_sp_encode(sp, "playing", 7, ids2, 16, &n2, &err);
    CHECK(n == n2 && memcmp(ids, ids2, n * sizeof *ids) == 0, "nmt_nfkc_cf folds case");

    pnm_header h;
    CHECK(pnm_tokens_header(sp, 0, &h, &err) == 0 && h.vocab_size == pnm_sp_vocab_size(sp) &&
          h.vocab_id == pnm_hash64(model, len, 0),
          "the stream's vocabulary identity is XXH64 of the model bytes");
    p = pnm_sp_piece(sp, ids[0], &plen);
    CHECK(h.piece_offset[ids[0] + 1] - h.piece_offset[ids[0]] == plen &&
          memcmp(h.piece_bytes + h.piece_offset[ids[0]], p, plen) == 0,
          "the piece table holds the vocabulary's pieces");

    pnm_tokens t = {0};
    bool truncated;
    static const char line[] = "play  some\tjazz \xE2\x80\x8B now";
    rc = pnm_tokenize_line(sp, line, sizeof line - 1, 3, 0, &t, &truncated, &err);
    CHECK(rc == 0 && t.n_words == 5 && t.line == 3 && !truncated,
          "tokenize: one record word per whitespace-separated word");
    CHECK(t.word_start[4] - t.word_start[3] == 1 && t.ids[t.word_start[3]] == pnm_sp_unk_id(sp),
          "a word with no pieces (zero-width space) becomes the unknown piece");
    rc = pnm_tokenize_line(sp, line, sizeof line - 1, 3, 2, &t, &truncated, &err);
    CHECK(rc == 0 && t.n_words == 2 && truncated, "max words truncates and says so");
    rc = pnm_tokenize_line(sp, "", 0, 4, 0, &t, &truncated, &err);
    CHECK(rc == 0 && t.n_words == 0 && t.line == 4, "an empty line is an empty record");
    rc = pnm_tokenize_line(sp, "ok \xFF", 4, 7, 0, &t, &truncated, &err);
    CHECK(rc < 0 && strstr(err.msg, "line 7, byte 4: invalid UTF-8"), "invalid UTF-8 names line and byte");

    /* Words repeated within and across lines; case variants (normalized
     * alike, cached apart); a word longer than a cache slot; words of many
     * pieces (rare letters, byte pieces); a word of no pieces. */
    static const char *const lines[] = {
        "play play some jazz jazz jazz", "Play PLAY play", "tell me the news today please",
        "supercalifragilisticexpialidocious-and-then-some more", "zqxjkvbwqzxj vbwk",
        "qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq", "caf\xC3\xA9 \xE2\x80\x8B \xF0\x9F\x8E\xB5 ok",
        NULL};
    CHECK(cached_as_uncached(sp, &t, lines),
          "tokenize: the word cache gives SentencePiece's pieces, word by word");
    char **many = many_words_lines();
    CHECK(many && cached_as_uncached(sp, &t, (const char *const *)many),
          "tokenize: the word cache tells apart words that share a slot");
    for (size_t i = 0; many && many[i]; i++)
        free(many[i]);
    free(many);
    opt.vocab_size = 60;
    void *small = NULL;
    size_t small_len = 0;
    pnm_sp *sp2 = NULL;
    rc = pnm_sp_train((const char *const *)corpus.sentences, corpus.count, &opt, &small,
                      &small_len, &err);
    if (rc == 0)
        sp2 = pnm_sp_load_bytes(small, small_len, &err);
    CHECK(sp2 && pnm_sp_id(sp2) != pnm_sp_id(sp) && pnm_sp_id(sp) == pnm_hash64(model, len, 0),
          "a vocabulary's identity is XXH64 of its bytes");
    CHECK(sp2 && cached_as_uncached(sp2, &t, lines) && cached_as_uncached(sp, &t, lines),
          "tokenize: one pnm_tokens through two vocabularies, the cache follows");
    pnm_sp_free(sp2);
    free(small);

    pnm_tokens_free(&t);
    pnm_header_free(&h);
    pnm_sp_free(sp);
    pnm_corpus_free(&corpus);
    free(model);
    free(again);
    return tap_done();
}
