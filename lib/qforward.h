/* The network's mixer over int8 weights (quant.h): what the runner
 * (infer.h) and so pnm-mix, pnm-classify and the embedding API use for a
 * quantized model. Each product is integer: the float activation entering
 * it is quantized on the fly (symmetric, the scale from its largest |value|)
 * along the dimension that factors out of the product, shifted by 128 to
 * the unsigned bytes vpdpbusd takes, multiplied in int32 (qkernels.h), and
 * turned back into floats with both scales and the shift's correction. So:
 *   token mixing  H = W1[:, :L] Y: Y (L x b) by column, W1 by row;
 *                 Z = W2[:L] G:    G (h_t x b) by column, W2 by row;
 *   channel mixing  Y W1^T, G W2^T: activations by row, weights by row;
 *   bottleneck    int8 rows summed in int32, times the column scales.
 * LayerNorm, GELU, the residual sums and the heads stay float. */
#ifndef PNM_QFORWARD_H
#define PNM_QFORWARD_H

#include "error.h"
#include "model.h"
#include "qkernels.h"
#include "quant.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The buffers of one example's forward (rows up to seq_len); one per
 * thread. kernels: NULL for pnm_qkernels_best(). */
typedef struct pnm_qworkspace pnm_qworkspace;
pnm_qworkspace *pnm_qworkspace_new(const pnm_config *c, const pnm_qkernels *kernels);
void pnm_qworkspace_free(pnm_qworkspace *ws);

/* The mixer's output O (rows x b, final LayerNorm applied) for example e:
 * the bottleneck and every layer with the weights of q, the float tensors
 * (biases, LayerNorms) of p (pnm_params_bind_unquantized's views). The
 * result lives in ws until its next use; *rows is set. */
const float *pnm_qforward(pnm_qworkspace *ws, const pnm_qweights *q, const pnm_params *p,
                          const pnm_example *e, uint32_t *rows);

#ifdef __cplusplus
}
#endif
#endif
