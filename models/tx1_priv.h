/* Internals shared by the Tahoe X1 model files. */
#ifndef SG_MODELS_TX1_PRIV_H
#define SG_MODELS_TX1_PRIV_H

#include "models/tahoe_x1.h"

/* A model whose weight tensors are created and allocated on dev (Linear weights BF16 when dtype
 * resolves to BF16, everything else F32), contents undefined. */
sg_status tx1_model_alloc(const struct tx1_config *cfg, struct sg_device *dev, enum tx1_dtype dtype,
                          struct tx1_model **out);

#endif
