// The SentencePiece shim: C++ stays behind this file's extern "C" wall, and
// no exception or std::string crosses it.
#include "sp.h"

#include "hash.h"

#include <sentencepiece_processor.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <new>
#include <string>
#include <vector>

struct pnm_sp {
    sentencepiece::SentencePieceProcessor proc;
    std::string bytes;
    uint64_t id;
};

static pnm_sp *load(pnm_sp *sp, pnm_error *err)
{
    // A crafted model can make SentencePiece throw while it builds its trie
    // (Darts: "failed to insert key: zero-length key", found by fuzzing):
    // an error like any other invalid model, not std::terminate.
    try {
        auto st = sp->proc.LoadFromSerializedProto(sp->bytes);
        if (!st.ok()) {
            pnm_error_set(err, "not a SentencePiece model (%s)", st.ToString().c_str());
            delete sp;
            return nullptr;
        }
    } catch (const std::exception &e) {
        pnm_error_set(err, "not a SentencePiece model (%s)", e.what());
        delete sp;
        return nullptr;
    }
    if (sp->proc.GetPieceSize() <= 0) {
        pnm_error_set(err, "SentencePiece model has no pieces");
        delete sp;
        return nullptr;
    }
    sp->id = pnm_hash64(sp->bytes.data(), sp->bytes.size(), 0);
    return sp;
}

extern "C" pnm_sp *pnm_sp_load_bytes(const void *data, size_t len, pnm_error *err)
{
    pnm_sp *sp = new (std::nothrow) pnm_sp;
    if (!sp) {
        pnm_error_set(err, "out of memory");
        return nullptr;
    }
    try {
        sp->bytes.assign(static_cast<const char *>(data), len);
    } catch (const std::bad_alloc &) {
        delete sp;
        pnm_error_set(err, "out of memory");
        return nullptr;
    }
    return load(sp, err);
}

extern "C" pnm_sp *pnm_sp_load_file(const char *path, pnm_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        pnm_error_set(err, "%s: %s", path, strerror(errno));
        return nullptr;
    }
    std::string bytes;
    char buf[65536];
    size_t k;
    while ((k = fread(buf, 1, sizeof buf, f)) > 0)
        bytes.append(buf, k);
    bool failed = ferror(f);
    fclose(f);
    if (failed) {
        pnm_error_set(err, "%s: read error", path);
        return nullptr;
    }
    pnm_sp *sp = pnm_sp_load_bytes(bytes.data(), bytes.size(), err);
    if (!sp)
        pnm_error_prefix(err, "%s", path);
    return sp;
}

extern "C" void pnm_sp_free(pnm_sp *sp)
{
    delete sp;
}

extern "C" uint32_t pnm_sp_vocab_size(const pnm_sp *sp)
{
    return static_cast<uint32_t>(sp->proc.GetPieceSize());
}

extern "C" uint32_t pnm_sp_unk_id(const pnm_sp *sp)
{
    return static_cast<uint32_t>(sp->proc.unk_id());
}

extern "C" const char *pnm_sp_piece(const pnm_sp *sp, uint32_t id, size_t *len)
{
    const std::string &p = sp->proc.IdToPiece(static_cast<int>(id));
    *len = p.size();
    return p.data();
}

extern "C" const void *pnm_sp_model_bytes(const pnm_sp *sp, size_t *len)
{
    *len = sp->bytes.size();
    return sp->bytes.data();
}

extern "C" uint64_t pnm_sp_id(const pnm_sp *sp)
{
    return sp->id;
}

extern "C" int pnm_sp_encode(const pnm_sp *sp, const char *text, size_t len,
                             uint32_t *ids, size_t cap, size_t *n, pnm_error *err)
{
    // One scratch vector per thread: no allocation per call once warm.
    thread_local std::vector<int> out;
    try {
        auto st = sp->proc.Encode(absl::string_view(text, len), &out);
        if (!st.ok())
            return pnm_error_set(err, "SentencePiece: %s", st.ToString().c_str());
    } catch (const std::bad_alloc &) {
        return pnm_error_set(err, "out of memory");
    }
    *n = out.size();
    for (size_t i = 0; i < out.size() && i < cap; i++)
        ids[i] = static_cast<uint32_t>(out[i]);
    return 0;
}
