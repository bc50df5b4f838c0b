#include "adamw.h"

#include <math.h>

void pnm_adamw_step(const pnm_adamw *o, float lr, uint64_t t, float *params,
                    const float *grads, float *m, float *v, size_t n)
{
    float c1 = 1.0f - powf(o->beta1, (float)t), c2 = 1.0f - powf(o->beta2, (float)t);
    for (size_t i = 0; i < n; i++) {
        float g = grads[i];
        m[i] = o->beta1 * m[i] + (1.0f - o->beta1) * g;
        v[i] = o->beta2 * v[i] + (1.0f - o->beta2) * g * g;
        float step = (m[i] / c1) / (sqrtf(v[i] / c2) + o->eps);
        params[i] -= lr * (step + o->weight_decay * params[i]);
    }
}
