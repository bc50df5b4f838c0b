/* AdamW (Loshchilov and Hutter), one loop over the whole parameter arena:
 * gradients and both moments share the parameters' layout. */
#ifndef PNM_ADAMW_H
#define PNM_ADAMW_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pnm_adamw {
    float lr, beta1, beta2, eps, weight_decay;
} pnm_adamw;

#define PNM_ADAMW_DEFAULT ((pnm_adamw){5e-4f, 0.9f, 0.999f, 1e-8f, 0.01f})

/* Step number t (from 1) over n parameters, with learning rate lr (the
 * schedule's value for this step). */
void pnm_adamw_step(const pnm_adamw *o, float lr, uint64_t t, float *params,
                    const float *grads, float *m, float *v, size_t n);

#ifdef __cplusplus
}
#endif
#endif
