/* Private glue between the CPU backend's device, memory and stream files. */
#ifndef SG_CPU_INTERNAL_H
#define SG_CPU_INTERNAL_H

#include "core/backend_impl.h"

/* The host buffer type ("cpu"): 64-byte aligned malloc'd memory. Called once by the device. */
struct sg_buffer_type *sg_cpu_buffer_type(struct sg_device *dev);

/* Opens a stream with n_threads threads (0: sg_cpu_default_threads()). */
sg_status sg_cpu_stream_open(struct sg_device *dev, int n_threads, struct sg_stream **out);

#endif
