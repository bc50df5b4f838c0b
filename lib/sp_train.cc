// pnm_sp_train (sp.h): SentencePiece's trainer. Its library is opened when
// a vocabulary is trained, not linked: a program linked with it loads and
// relocates it at every start (0.8 ms), and pnm-tokenize, which trains only
// with --train-vocab, would pay that on every pipeline run.
#include "sp.h"

#include <sentencepiece_trainer.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>

#include <dlfcn.h>
#include <unistd.h>

namespace {

constexpr char TRAINER_LIBRARY[] = "libsentencepiece_train.so.0";

// SentencePieceTrainer::Train(absl::string_view, SentenceIterator *,
// std::string *) by its mangled name; the cast checks that
// sentencepiece_trainer.h declares it so (unevaluated: no reference to it).
constexpr char TRAIN_SYMBOL[] =
    "_ZN13sentencepiece20SentencePieceTrainer5TrainESt17basic_string_viewIcSt11char_"
    "traitsIcEEPNS_16SentenceIteratorEPNSt7__cxx1112basic_stringIcS3_SaIcEEE";
using TrainFn = decltype(static_cast<sentencepiece::util::Status (*)(
                             absl::string_view, sentencepiece::SentenceIterator *,
                             std::string *)>(&sentencepiece::SentencePieceTrainer::Train));

// The trainer's library stays loaded once opened (RTLD_NODELETE): its
// C++ statics are not torn down and set up again from one training to the
// next. Returns the handle to dlclose, or NULL with a message.
void *open_trainer(TrainFn *train, pnm_error *err)
{
    void *lib = dlopen(TRAINER_LIBRARY, RTLD_NOW | RTLD_NODELETE);
    if (!lib) {
        pnm_error_set(err, "SentencePiece's trainer: %s", dlerror());
        return nullptr;
    }
    *train = reinterpret_cast<TrainFn>(dlsym(lib, TRAIN_SYMBOL));
    if (!*train) {
        pnm_error_set(err, "SentencePiece's trainer: %s", dlerror());
        dlclose(lib);
        return nullptr;
    }
    return lib;
}

class ArrayIterator : public sentencepiece::SentenceIterator {
public:
    ArrayIterator(const char *const *s, size_t n) : s_(s), n_(n) { load(); }
    bool done() const override { return i_ >= n_; }
    void Next() override { i_++; load(); }
    const std::string &value() const override { return cur_; }
    sentencepiece::util::Status status() const override { return {}; }

private:
    void load() { if (i_ < n_) cur_ = s_[i_]; }
    const char *const *s_;
    size_t n_, i_ = 0;
    std::string cur_;
};

// SentencePiece logs training progress to stderr with no switch to turn it
// off in this version; park it in a temporary file and show it only if the
// training fails.
class StderrCapture {
public:
    StderrCapture()
    {
        fflush(stderr);
        tmp_ = tmpfile();
        saved_ = dup(2);
        if (tmp_ && saved_ >= 0)
            dup2(fileno(tmp_), 2);
    }
    std::string release()
    {
        std::string text;
        fflush(stderr);
        if (saved_ >= 0) {
            dup2(saved_, 2);
            close(saved_);
            saved_ = -1;
        }
        if (tmp_) {
            rewind(tmp_);
            char buf[4096];
            size_t k;
            while ((k = fread(buf, 1, sizeof buf, tmp_)) > 0)
                text.append(buf, k);
            fclose(tmp_);
            tmp_ = nullptr;
        }
        return text;
    }
    ~StderrCapture() { release(); }

private:
    FILE *tmp_ = nullptr;
    int saved_ = -1;
};

// The last line SentencePiece logged before failing, which names the cause.
std::string last_line(std::string log)
{
    while (!log.empty() && log.back() == '\n')
        log.pop_back();
    size_t nl = log.rfind('\n');
    return nl == std::string::npos ? log : log.substr(nl + 1);
}

// Trains with train on sentences (args: SentencePiece's flags); the
// serialized model goes to *model (malloc'd).
int train_with(TrainFn train, const std::string &args, const char *const *sentences,
               size_t count, void **model, size_t *model_len, uint32_t seed, pnm_error *err)
{
    sentencepiece::SetRandomGeneratorSeed(seed);
    std::string out;
    ArrayIterator it(sentences, count);
    StderrCapture capture;
    sentencepiece::util::Status st;
    try {
        st = train(args, &it, &out);
    } catch (const std::exception &e) {
        capture.release();
        return pnm_error_set(err, "SentencePiece training failed: %s", e.what());
    }
    std::string log = capture.release();
    if (!st.ok()) {
        std::string why = st.ToString();
        if (why.empty())
            why = last_line(log);
        return pnm_error_set(err, "SentencePiece training failed: %s", why.c_str());
    }
    *model = malloc(out.size());
    if (!*model)
        return pnm_error_set(err, "out of memory");
    memcpy(*model, out.data(), out.size());
    *model_len = out.size();
    return 0;
}

} // namespace

extern "C" int pnm_sp_train(const char *const *sentences, size_t count,
                            const pnm_sp_train_options *opt, void **model,
                            size_t *model_len, pnm_error *err)
{
    if (count == 0)
        return pnm_error_set(err, "no text to train a vocabulary on");
    std::string args = "--model_prefix= --vocab_size=" + std::to_string(opt->vocab_size) +
        " --model_type=" + (opt->model_type == PNM_SP_BPE ? "bpe" : "unigram") +
        " --normalization_rule_name=" + opt->normalization +
        " --num_threads=" + std::to_string(opt->threads ? opt->threads : 1) +
        // A soft limit: a small corpus yields fewer pieces instead of failing.
        " --hard_vocab_limit=false" +
        // Unknown characters become byte pieces rather than one shared <unk>.
        (opt->vocab_size >= 512 ? " --byte_fallback=true" : "") +
                " --input_sentence_size=0 --max_sentence_length=65536";
    TrainFn train;
    void *lib = open_trainer(&train, err);
    if (!lib)
        return -1;
    int rc = train_with(train, args, sentences, count, model, model_len, opt->seed, err);
    dlclose(lib);
    return rc;
}
