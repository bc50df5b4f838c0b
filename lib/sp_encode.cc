// pnm_sp_encode (sp.h): SentencePiece's processor, built on first use by
// way of lib/sp_encoder.h. C++ stays behind this file's extern "C" wall,
// and no exception or std::string crosses it.
#include "sp_encoder.h"

#include <sentencepiece_processor.h>

#include <exception>
#include <new>
#include <vector>

namespace {

struct Encoder {
    sentencepiece::SentencePieceProcessor proc;
};

void *build(const void *model, size_t len, pnm_error *err)
{
    Encoder *e = new (std::nothrow) Encoder;
    if (!e) {
        pnm_error_set(err, "out of memory");
        return nullptr;
    }
    // A crafted model can make SentencePiece throw while it builds its trie
    // (Darts: "failed to insert key: zero-length key", found by fuzzing):
    // an error like any other invalid model, not std::terminate.
    try {
        auto st = e->proc.LoadFromSerializedProto(
            absl::string_view(static_cast<const char *>(model), len));
        if (st.ok())
            return e;
        pnm_error_set(err, "not a SentencePiece model (%s)", st.ToString().c_str());
    } catch (const std::exception &ex) {
        pnm_error_set(err, "not a SentencePiece model (%s)", ex.what());
    }
    delete e;
    return nullptr;
}

void encoder_free(void *e)
{
    delete static_cast<Encoder *>(e);
}

} // namespace

extern "C" int pnm_sp_encoder_ready(const pnm_sp *sp, pnm_error *err)
{
    return pnm_sp_encoder(sp, build, encoder_free, err) ? 0 : -1;
}

extern "C" int pnm_sp_encode(const pnm_sp *sp, const char *text, size_t len,
                             uint32_t *ids, size_t cap, size_t *n, pnm_error *err)
{
    auto *e = static_cast<Encoder *>(pnm_sp_encoder(sp, build, encoder_free, err));
    if (!e)
        return -1;
    // One scratch vector per thread: no allocation per call once warm.
    thread_local std::vector<int> out;
    try {
        auto st = e->proc.Encode(absl::string_view(text, len), &out);
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
