/* The worker pool: every task runs exactly once, a full queue refuses at once, stop drains. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

#include "pool.h"

static atomic_int ran;
static void count(void *arg) {
  (void)arg;
  atomic_fetch_add(&ran, 1);
}

Test(pool, runs_every_task_exactly_once_before_stop_returns) {
  sg_err e = {0};
  sg_pool *p = sg_pool_create(4, 100000, &e);
  cr_assert_not_null(p, "%s", e.msg);
  atomic_store(&ran, 0);
  for (int i = 0; i < 50000; i++)
    cr_assert_eq(sg_pool_submit(p, count, NULL), SG_OK);
  sg_pool_stop(p);
  cr_assert_eq(atomic_load(&ran), 50000);
  cr_assert_eq(sg_pool_submit(p, count, NULL), SG_UNAVAILABLE, "no tasks after stop");
  sg_pool_destroy(p);
}

static pthread_mutex_t gate_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cv = PTHREAD_COND_INITIALIZER;
static int gate_open;
static void wait_gate(void *arg) {
  (void)arg;
  pthread_mutex_lock(&gate_mu);
  while (!gate_open)
    pthread_cond_wait(&gate_cv, &gate_mu);
  pthread_mutex_unlock(&gate_mu);
  atomic_fetch_add(&ran, 1);
}

Test(pool, full_queue_refuses_at_once_and_depth_counts_waiting_tasks) {
  sg_err e = {0};
  sg_pool *p = sg_pool_create(1, 3, &e);
  atomic_store(&ran, 0);
  gate_open = 0;
  cr_assert_eq(sg_pool_submit(p, wait_gate, NULL), SG_OK); /* taken by the worker */
  while (sg_pool_depth(p) != 0)
    usleep(1000);
  for (int i = 0; i < 3; i++)
    cr_assert_eq(sg_pool_submit(p, wait_gate, NULL), SG_OK);
  cr_assert_eq(sg_pool_depth(p), 3);
  cr_assert_eq(sg_pool_submit(p, wait_gate, NULL), SG_RESOURCE_EXHAUSTED);
  pthread_mutex_lock(&gate_mu);
  gate_open = 1;
  pthread_cond_broadcast(&gate_cv);
  pthread_mutex_unlock(&gate_mu);
  sg_pool_stop(p);
  cr_assert_eq(atomic_load(&ran), 4);
  sg_pool_destroy(p);
}

Test(pool, rejects_zero_threads_or_capacity) {
  sg_err e = {0};
  cr_assert_null(sg_pool_create(0, 10, &e));
  cr_assert_eq(e.code, SG_INVALID_ARGUMENT);
}
