/* A fixed set of worker threads over one bounded FIFO of tasks: where RPC handlers run, so
 * pollers never compute. A full queue refuses new tasks at once (the caller answers
 * RESOURCE_EXHAUSTED) instead of growing without bound. */
#ifndef SG_SERVER_POOL_H
#define SG_SERVER_POOL_H

#include <stddef.h>

#include "common/status.h"

typedef struct sg_pool sg_pool;
typedef void (*sg_task_fn)(void *arg);

/* threads >= 1 workers, at most capacity >= 1 queued tasks. NULL + err on failure. */
sg_pool *sg_pool_create(int threads, size_t capacity, sg_err *err);
/* Queues fn(arg). SG_RESOURCE_EXHAUSTED when the queue is full, SG_UNAVAILABLE once stopping.
 * Thread-safe. */
sg_status sg_pool_submit(sg_pool *pool, sg_task_fn fn, void *arg);
/* Tasks queued and not yet started. */
size_t sg_pool_depth(sg_pool *pool);
/* Runs every queued task, then joins the workers. Further submits fail. */
void sg_pool_stop(sg_pool *pool);
void sg_pool_destroy(sg_pool *pool);

#endif
