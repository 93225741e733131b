/* Internals shared by the Tahoe X1 model files. */
#ifndef SG_MODELS_TX1_PRIV_H
#define SG_MODELS_TX1_PRIV_H

#include "models/tahoe_x1.h"

/* A model whose F32 weight tensors are created and allocated on dev, contents undefined. */
sg_status tx1_model_alloc(const struct tx1_config *cfg, struct sg_device *dev, struct tx1_model **out);

#endif
