/* Worker pool: a ring buffer of tasks under one mutex; workers sleep on a condition variable.
 * Invariant: head..head+count (mod capacity) are queued tasks, in arrival order. */
#include "pool.h"

#include <pthread.h>
#include <stdlib.h>

typedef struct task {
  sg_task_fn fn;
  void *arg;
} task;

struct sg_pool {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  task *ring;
  size_t capacity, head, count;
  int stopping;
  int n_threads;
  pthread_t *threads;
};

static void *worker_main(void *arg) {
  sg_pool *p = arg;
  pthread_mutex_lock(&p->mu);
  for (;;) {
    while (p->count == 0 && !p->stopping)
      pthread_cond_wait(&p->cv, &p->mu);
    if (p->count == 0) break; /* stopping and drained */
    task t = p->ring[p->head];
    p->head = (p->head + 1) % p->capacity;
    p->count--;
    pthread_mutex_unlock(&p->mu);
    t.fn(t.arg);
    pthread_mutex_lock(&p->mu);
  }
  pthread_mutex_unlock(&p->mu);
  return NULL;
}

sg_pool *sg_pool_create(int threads, size_t capacity, sg_err *err) {
  if (threads < 1 || capacity < 1) {
    sg_err_set(err, SG_INVALID_ARGUMENT, "pool: %d threads, capacity %zu (both must be >= 1)",
               threads, capacity);
    return NULL;
  }
  sg_pool *p = calloc(1, sizeof *p);
  if (!p) goto fail;
  p->ring = calloc(capacity, sizeof *p->ring);
  p->threads = calloc((size_t)threads, sizeof *p->threads);
  if (!p->ring || !p->threads) goto fail;
  p->capacity = capacity;
  pthread_mutex_init(&p->mu, NULL);
  pthread_cond_init(&p->cv, NULL);
  for (; p->n_threads < threads; p->n_threads++) {
    if (pthread_create(&p->threads[p->n_threads], NULL, worker_main, p) != 0) {
      sg_err_set(err, SG_RESOURCE_EXHAUSTED, "pool: cannot start worker %d", p->n_threads);
      sg_pool_stop(p);
      sg_pool_destroy(p);
      return NULL;
    }
  }
  return p;
fail:
  sg_err_set(err, SG_OUT_OF_MEMORY, "pool: out of memory for %d workers", threads);
  if (p) {
    free(p->ring);
    free(p->threads);
    free(p);
  }
  return NULL;
}

sg_status sg_pool_submit(sg_pool *p, sg_task_fn fn, void *arg) {
  sg_status st = SG_OK;
  pthread_mutex_lock(&p->mu);
  if (p->stopping) {
    st = SG_UNAVAILABLE;
  } else if (p->count == p->capacity) {
    st = SG_RESOURCE_EXHAUSTED;
  } else {
    p->ring[(p->head + p->count) % p->capacity] = (task){fn, arg};
    p->count++;
    pthread_cond_signal(&p->cv);
  }
  pthread_mutex_unlock(&p->mu);
  return st;
}

size_t sg_pool_depth(sg_pool *p) {
  pthread_mutex_lock(&p->mu);
  size_t n = p->count;
  pthread_mutex_unlock(&p->mu);
  return n;
}

void sg_pool_stop(sg_pool *p) {
  pthread_mutex_lock(&p->mu);
  int already = p->stopping;
  p->stopping = 1;
  pthread_cond_broadcast(&p->cv);
  pthread_mutex_unlock(&p->mu);
  if (already) return;
  for (int i = 0; i < p->n_threads; i++)
    pthread_join(p->threads[i], NULL);
}

void sg_pool_destroy(sg_pool *p) {
  if (!p) return;
  pthread_mutex_destroy(&p->mu);
  pthread_cond_destroy(&p->cv);
  free(p->ring);
  free(p->threads);
  free(p);
}
