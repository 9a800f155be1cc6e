/* The scheduler with fake job kinds: priority order, batching that merges and splits, cancel,
 * deadlines, full queues, interactive work between batch steps, aging, stop, and a fake backend
 * that injects device errors (OOM, sticky) with and without the CPU fallback; batch steps at a
 * lower CPU priority. */
#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "common/backend_impl.h"
#include "rng/rng.h"
#include "rng/rng_backends.h"
#include "scheduler.h"
#include "util.h"

static void sleep_ms(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

/* ---- fake kinds ---- */

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int gate_open, gate_entered;
static int order[64], n_order;

static sg_status gate_step(sg_job *j, sg_exec *x, int *done, sg_err *err) {
  (void)j, (void)x, (void)err;
  pthread_mutex_lock(&mu);
  gate_entered = 1;
  pthread_cond_broadcast(&cv);
  while (!gate_open)
    pthread_cond_wait(&cv, &mu);
  pthread_mutex_unlock(&mu);
  *done = 1;
  return SG_OK;
}
static const sg_job_ops gate_ops = {.kind = "gate", .step = gate_step};

static sg_status record_step(sg_job *j, sg_exec *x, int *done, sg_err *err) {
  (void)x, (void)err;
  pthread_mutex_lock(&mu);
  order[n_order++] = (int)(intptr_t)sg_job_data(j);
  pthread_mutex_unlock(&mu);
  *done = 1;
  return SG_OK;
}
static const sg_job_ops record_ops = {.kind = "record", .step = record_step};

typedef struct steps_data {
  int total, done, step_ms;
} steps_data;
static sg_status steps_step(sg_job *j, sg_exec *x, int *done, sg_err *err) {
  (void)x, (void)err;
  steps_data *d = sg_job_data(j);
  sleep_ms(d->step_ms);
  d->done++;
  sg_job_progress p = {.done = (uint64_t)d->done, .total = (uint64_t)d->total};
  sg_job_set_progress(j, &p);
  *done = d->done == d->total;
  return SG_OK;
}
static const sg_job_ops steps_ops = {.kind = "steps", .step = steps_step, .cleanup = free};

typedef struct sum_data {
  int vals[8], n;
  long result;
} sum_data;
static sg_status sum_step(sg_job *j, sg_exec *x, int *done, sg_err *err) {
  (void)x, (void)err;
  sum_data *d = sg_job_data(j);
  d->result = 0;
  for (int i = 0; i < d->n; i++)
    d->result += d->vals[i];
  *done = 1;
  return SG_OK;
}
static size_t sum_units(const sg_job *j) { return (size_t)((sum_data *)sg_job_data(j))->n; }
static int sum_batchable(const sg_job *a, const sg_job *b) { return a != b; }
static sg_status sum_batch(sg_job *const *jobs, size_t n, sg_exec *x, sg_err *err) {
  (void)x, (void)err;
  int all[8 * 1024];
  size_t at = 0, start[1024];
  for (size_t k = 0; k < n; k++) { /* gather into one array, one pass, split back */
    sum_data *d = sg_job_data(jobs[k]);
    start[k] = at;
    for (int i = 0; i < d->n; i++)
      all[at++] = d->vals[i];
  }
  for (size_t k = 0; k < n; k++) {
    sum_data *d = sg_job_data(jobs[k]);
    d->result = 0;
    for (int i = 0; i < d->n; i++)
      d->result += all[start[k] + (size_t)i];
  }
  return SG_OK;
}
static const sg_job_ops sum_ops = {.kind = "sum",
                                   .step = sum_step,
                                   .cleanup = free,
                                   .batch_units = sum_units,
                                   .batchable = sum_batchable,
                                   .run_batch = sum_batch};

/* steps_step with a work rate: 1,000 units per second until a job of the kind has finished */
static const sg_job_ops timed_ops = {
    .kind = "timed", .work_rate = 1000, .step = steps_step, .cleanup = free};
/* one step of 50 ms that did 100 units, whatever the spec said (a route its time limit cut
 * short) */
static sg_status cut_step(sg_job *j, sg_exec *x, int *done, sg_err *err) {
  (void)x, (void)err;
  sleep_ms(50);
  sg_job_set_work(j, 100);
  *done = 1;
  return SG_OK;
}
static const sg_job_ops cut_ops = {
    .kind = "cut", .work_rate = 1000, .step = cut_step, .cleanup = free};
static sg_status fail_step(sg_job *j, sg_exec *x, int *done, sg_err *err) {
  (void)j, (void)x, (void)done;
  sleep_ms(30);
  return sg_err_set(err, SG_INTERNAL, "fails");
}
static const sg_job_ops timed_fail_ops = {
    .kind = "timed", .work_rate = 1000, .step = fail_step, .cleanup = free};

/* ---- harness ---- */

static sg_backend *cpu;
static int batch_nice; /* cfg.batch_nice of the next start() */
static sg_sched *start(int workers, size_t qlimit, size_t max_batch, int64_t window_us,
                       double aging_s) {
  sg_err e = {0};
  sg_backend_config bc = {.kind = SG_BACKEND_CPU, .cpu_threads = 1};
  cpu = sg_backend_open(&bc, &e);
  sg_sched_config cfg = {.backend = cpu,
                         .workers = workers,
                         .queue_limit = {qlimit, qlimit},
                         .max_batch = max_batch,
                         .batch_window_us = window_us,
                         .aging_s = aging_s,
                         .batch_nice = batch_nice};
  sg_sched *s = sg_sched_create(&cfg, &e);
  cr_assert_not_null(s, "%s", e.msg);
  gate_open = gate_entered = n_order = 0;
  return s;
}
static void finish_sched(sg_sched *s) {
  sg_sched_stop(s);
  sg_sched_destroy(s);
  sg_backend_close(cpu);
}

static sg_job *submit(sg_sched *s, const sg_job_ops *ops, void *data, sg_job_class cls, int prio) {
  sg_err e = {0};
  sg_job_spec spec = {.ops = ops, .data = data, .cls = cls, .priority = prio};
  sg_job *j = NULL;
  cr_assert_eq(sg_sched_submit(s, &spec, &j, &e), SG_OK, "%s", e.msg);
  return j;
}

/* holds the only worker until open_gate() */
static sg_job *hold_worker(sg_sched *s) {
  sg_job *g = submit(s, &gate_ops, NULL, SG_JOB_INTERACTIVE, 0);
  pthread_mutex_lock(&mu);
  while (!gate_entered)
    pthread_cond_wait(&cv, &mu);
  pthread_mutex_unlock(&mu);
  return g;
}
static void open_gate(void) {
  pthread_mutex_lock(&mu);
  gate_open = 1;
  pthread_cond_broadcast(&cv);
  pthread_mutex_unlock(&mu);
}

/* ---- tests ---- */

Test(scheduler, interactive_before_batch_then_priority_then_arrival) {
  sg_sched *s = start(1, 64, 0, 0, 5);
  sg_job *g = hold_worker(s);
  struct {
    int id;
    sg_job_class cls;
    int prio;
  } jobs[] = {
      {1, SG_JOB_BATCH, 0},   {2, SG_JOB_INTERACTIVE, 0}, {3, SG_JOB_INTERACTIVE, 50},
      {4, SG_JOB_BATCH, 100}, {5, SG_JOB_INTERACTIVE, 0}, {6, SG_JOB_INTERACTIVE, -50},
  };
  sg_job *h[6];
  for (int i = 0; i < 6; i++)
    h[i] = submit(s, &record_ops, (void *)(intptr_t)jobs[i].id, jobs[i].cls, jobs[i].prio);
  open_gate();
  for (int i = 0; i < 6; i++) {
    sg_job_wait(h[i]);
    cr_assert_eq(sg_job_state_of(h[i]), SG_JOB_SUCCEEDED);
    sg_job_unref(h[i]);
  }
  int want[] = {3, 2, 5, 6, 4, 1};
  cr_assert_eq(n_order, 6);
  for (int i = 0; i < 6; i++)
    cr_expect_eq(order[i], want[i], "position %d: job %d", i, order[i]);
  sg_job_unref(g);
  finish_sched(s);
}

Test(scheduler, batching_merges_queued_jobs_and_splits_results_like_unbatched_runs) {
  sg_sched *s = start(1, 1024, 4096, 0, 5);
  sg_job *g = hold_worker(s);
  enum { N = 200 };
  sg_job *h[N];
  for (int k = 0; k < N; k++) {
    sum_data *d = calloc(1, sizeof *d);
    d->n = 1 + k % 8;
    for (int i = 0; i < d->n; i++)
      d->vals[i] = k * 10 + i;
    h[k] = submit(s, &sum_ops, d, SG_JOB_INTERACTIVE, 0);
  }
  open_gate();
  for (int k = 0; k < N; k++) {
    sg_job_wait(h[k]);
    cr_assert_eq(sg_job_state_of(h[k]), SG_JOB_SUCCEEDED);
    sum_data *d = sg_job_data(h[k]);
    long want = 0; /* the unbatched answer */
    for (int i = 0; i < d->n; i++)
      want += k * 10 + i;
    cr_assert_eq(d->result, want, "job %d", k);
    sg_job_unref(h[k]);
  }
  uint64_t calls, jobs;
  sg_sched_batch_counts(s, &calls, &jobs);
  cr_assert_eq(jobs, N, "every job went through a merged call");
  cr_assert_leq(calls, 2, "200 queued jobs of at most 8 units fit in one or two calls of 4096");
  sg_job_unref(g);
  finish_sched(s);
}

Test(scheduler, batch_window_collects_jobs_that_arrive_within_it) {
  sg_sched *s = start(1, 1024, 4096, 300000 /* 300 ms */, 5);
  sg_job *h[5];
  for (int k = 0; k < 5; k++) {
    sum_data *d = calloc(1, sizeof *d);
    d->n = 1;
    d->vals[0] = k;
    h[k] = submit(s, &sum_ops, d, SG_JOB_INTERACTIVE, 0);
    sleep_ms(20);
  }
  for (int k = 0; k < 5; k++) {
    sg_job_wait(h[k]);
    cr_assert_eq(((sum_data *)sg_job_data(h[k]))->result, k);
    sg_job_unref(h[k]);
  }
  uint64_t calls, jobs;
  sg_sched_batch_counts(s, &calls, &jobs);
  cr_assert_eq(calls, 1, "five jobs 20 ms apart fall in one 300 ms window");
  cr_assert_eq(jobs, 5);
  finish_sched(s);
}

Test(scheduler, cancel_a_queued_job_at_once_and_a_running_one_at_a_step_boundary) {
  sg_sched *s = start(1, 64, 0, 0, 5);
  sg_job *g = hold_worker(s);
  sg_job *q = submit(s, &record_ops, (void *)(intptr_t)7, SG_JOB_INTERACTIVE, 0);
  sg_job_cancel(q);
  cr_assert_eq(sg_job_state_of(q), SG_JOB_CANCELLED, "a queued job ends at once");
  open_gate();
  steps_data *d = calloc(1, sizeof *d);
  d->total = 1000;
  d->step_ms = 2;
  sg_job *b = submit(s, &steps_ops, d, SG_JOB_BATCH, 0);
  while (sg_job_get_progress(b).done < 3)
    sleep_ms(1);
  sg_job_cancel(b);
  sg_job_wait(b);
  cr_assert_eq(sg_job_state_of(b), SG_JOB_CANCELLED);
  cr_assert_lt(d->done, 20, "stopped within a step or two, after %d steps", d->done);
  cr_assert_eq(n_order, 0, "the cancelled queued job never ran");
  sg_err e = sg_job_error(b);
  cr_assert_eq(sg_status_grpc_code(e.code), 1, "CANCELLED");
  sg_job_unref(q);
  sg_job_unref(b);
  sg_job_unref(g);
  finish_sched(s);
}

Test(scheduler, a_job_past_its_deadline_ends_deadline_exceeded_without_running) {
  sg_sched *s = start(1, 64, 0, 0, 5);
  sg_job *g = hold_worker(s);
  sg_err e = {0};
  sg_job_spec spec = {.ops = &record_ops,
                      .data = (void *)(intptr_t)9,
                      .cls = SG_JOB_INTERACTIVE,
                      .deadline_us = sg_mono_us() + 20000};
  sg_job *j;
  cr_assert_eq(sg_sched_submit(s, &spec, &j, &e), SG_OK);
  sleep_ms(40);
  open_gate();
  sg_job_wait(j);
  cr_assert_eq(sg_job_state_of(j), SG_JOB_FAILED);
  cr_assert_eq(sg_job_error(j).code, SG_DEADLINE_EXCEEDED);
  cr_assert_eq(n_order, 0, "it did not run");
  sg_job_unref(j);
  sg_job_unref(g);
  finish_sched(s);
}

Test(scheduler, a_full_queue_refuses_at_once_and_frees_the_data) {
  sg_sched *s = start(1, 3, 0, 0, 5);
  sg_job *g = hold_worker(s), *queued[3];
  for (int i = 0; i < 3; i++)
    queued[i] = submit(s, &record_ops, (void *)(intptr_t)i, SG_JOB_INTERACTIVE, 0);
  sg_err e = {0};
  steps_data *d = calloc(1, sizeof *d); /* freed by cleanup on refusal (LeakSanitizer checks) */
  sg_job_spec spec = {.ops = &steps_ops, .data = d, .cls = SG_JOB_INTERACTIVE};
  cr_assert_eq(sg_sched_submit(s, &spec, NULL, &e), SG_RESOURCE_EXHAUSTED);
  cr_assert(strstr(e.msg, "queue full"), "%s", e.msg);
  cr_assert_eq(sg_sched_queued(s, SG_JOB_INTERACTIVE), 3);
  sg_err_clear(&e);
  steps_data *d2 = calloc(1, sizeof *d2);
  d2->total = 1;
  spec = (sg_job_spec){.ops = &steps_ops, .data = d2, .cls = SG_JOB_BATCH};
  cr_assert_eq(sg_sched_submit(s, &spec, NULL, &e), SG_OK, "the batch queue is separate");
  open_gate();
  for (int i = 0; i < 3; i++)
    sg_job_unref(queued[i]);
  sg_job_unref(g);
  finish_sched(s);
}

Test(scheduler, interactive_jobs_run_between_the_steps_of_a_batch_job) {
  sg_sched *s = start(1, 64, 0, 0, 5);
  steps_data *d = calloc(1, sizeof *d);
  d->total = 200;
  d->step_ms = 5;
  sg_job *b = submit(s, &steps_ops, d, SG_JOB_BATCH, 0);
  while (sg_job_get_progress(b).done < 2)
    sleep_ms(1);
  for (int k = 0; k < 5; k++) {
    sg_job *j = submit(s, &record_ops, (void *)(intptr_t)k, SG_JOB_INTERACTIVE, 0);
    sg_job_wait(j);
    int64_t q, st, fin;
    sg_job_times(j, &q, &st, &fin);
    cr_assert_lt(st - q, 50000, "waited %lld us: more than one 5 ms step", (long long)(st - q));
    sg_job_unref(j);
  }
  cr_assert_eq(sg_job_state_of(b), SG_JOB_RUNNING, "the batch job is still going");
  sg_job_wait(b);
  cr_assert_eq(sg_job_state_of(b), SG_JOB_SUCCEEDED);
  cr_assert_eq(d->done, 200);
  sg_job_unref(b);
  finish_sched(s);
}

/* The nice value of the thread that ran the step, into the job's int. */
static sg_status nice_step(sg_job *j, sg_exec *x, int *done, sg_err *err) {
  (void)x, (void)err;
  errno = 0;
  *(int *)sg_job_data(j) = getpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid));
  cr_assert_eq(errno, 0);
  *done = 1;
  return SG_OK;
}
static const sg_job_ops nice_ops = {.kind = "nice", .step = nice_step};

static int run_nice(sg_sched *s, sg_job_class cls) {
  int seen = -100;
  sg_job *j = submit(s, &nice_ops, &seen, cls, 0);
  sg_job_wait(j);
  cr_assert_eq(sg_job_state_of(j), SG_JOB_SUCCEEDED);
  sg_job_unref(j);
  return seen;
}

Test(scheduler, batch_steps_run_at_the_batch_nice_value_and_interactive_jobs_do_not) {
  errno = 0;
  int base = getpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid));
  cr_assert_eq(errno, 0);
  if (base > 19 - 5) cr_skip_test("already at nice %d: nothing lower to go to", base);
  batch_nice = base + 5;
  sg_sched *s = start(1, 64, 0, 0, 5);
  batch_nice = 0;
  for (int k = 0; k < 2; k++) { /* the same worker, alternating */
    cr_assert_eq(run_nice(s, SG_JOB_BATCH), base + 5);
    cr_assert_eq(run_nice(s, SG_JOB_INTERACTIVE), base, "the worker itself is not lowered");
  }
  finish_sched(s);
  s = start(1, 64, 0, 0, 5); /* batch_nice 0: off */
  cr_assert_eq(run_nice(s, SG_JOB_BATCH), base);
  finish_sched(s);
}

/* The OpenMP threads of the exec that ran the step, into the job's int. */
static sg_status threads_step(sg_job *j, sg_exec *x, int *done, sg_err *err) {
  (void)err;
  *(int *)sg_job_data(j) = sg_exec_threads(x);
  *done = 1;
  return SG_OK;
}
static const sg_job_ops threads_ops = {.kind = "threads", .step = threads_step};

/* The exec of every worker gets cfg.cpu_threads (default: the cores divided among the workers),
 * whatever the backend's own cpu_threads says (here: all the process may use). */
Test(scheduler, workers_divide_the_cores) {
  long cores = sysconf(_SC_NPROCESSORS_ONLN);
  struct {
    int workers, cpu_threads, want;
  } cases[] = {{2, 3, 3},
               {1, 0, (int)cores},
               {2, 0, cores / 2 > 0 ? (int)(cores / 2) : 1},
               {(int)cores + 1, 0, 1}};
  for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
    sg_err e = {0};
    sg_backend_config bc = {.kind = SG_BACKEND_CPU, .cpu_threads = 0};
    sg_backend *be = sg_backend_open(&bc, &e);
    cr_assert_not_null(be, "%s", e.msg);
    sg_sched_config cfg = {.backend = be,
                           .workers = cases[c].workers,
                           .cpu_threads = cases[c].cpu_threads,
                           .queue_limit = {64, 64}};
    sg_sched *s = sg_sched_create(&cfg, &e);
    cr_assert_not_null(s, "%s", e.msg);
    for (int cls = 0; cls < 2; cls++) { /* interactive on the worker, batch on its stepper */
      int seen = -1;
      sg_job_spec spec = {
          .ops = &threads_ops, .data = &seen, .cls = cls ? SG_JOB_BATCH : SG_JOB_INTERACTIVE};
      sg_job *j = NULL;
      cr_assert_eq(sg_sched_submit(s, &spec, &j, &e), SG_OK, "%s", e.msg);
      sg_job_wait(j);
      cr_assert_eq(sg_job_state_of(j), SG_JOB_SUCCEEDED);
      sg_job_unref(j);
      cr_assert_eq(seen, cases[c].want, "case %zu (%d workers, cpu_threads %d, %ld cores): %d", c,
                   cases[c].workers, cases[c].cpu_threads, cores, seen);
    }
    sg_sched_stop(s);
    sg_sched_destroy(s);
    sg_backend_close(be);
  }
}

static atomic_int flood_stop;
static void *flood(void *arg) {
  sg_sched *s = arg;
  while (!atomic_load(&flood_stop)) {
    steps_data *d = calloc(1, sizeof *d);
    d->total = 1;
    d->step_ms = 2;
    sg_job_spec spec = {.ops = &steps_ops, .data = d, .cls = SG_JOB_INTERACTIVE};
    sg_err e = {0};
    if (sg_sched_submit(s, &spec, NULL, &e) != SG_OK) sleep_ms(1);
  }
  return NULL;
}

Test(scheduler, aging_lets_a_batch_job_progress_under_a_flood_of_interactive_work) {
  sg_sched *s = start(1, 8, 0, 0, 0.05 /* 50 ms */);
  steps_data *d = calloc(1, sizeof *d);
  d->total = 1000000;
  d->step_ms = 1;
  sg_job *b = submit(s, &steps_ops, d, SG_JOB_BATCH, 0);
  atomic_store(&flood_stop, 0);
  pthread_t t;
  pthread_create(&t, NULL, flood, s);
  sleep_ms(100);
  uint64_t before = sg_job_get_progress(b).done;
  sleep_ms(600);
  uint64_t after = sg_job_get_progress(b).done;
  atomic_store(&flood_stop, 1);
  pthread_join(t, NULL);
  cr_assert_geq(after - before, 3, "only %llu batch steps in 600 ms of flood",
                (unsigned long long)(after - before));
  cr_assert_lt(after - before, 500, "the flood was not served first (%llu batch steps)",
               (unsigned long long)(after - before));
  sg_job_cancel(b);
  sg_job_wait(b);
  sg_job_unref(b);
  finish_sched(s);
}

Test(scheduler, stop_fails_queued_and_running_jobs_with_the_reason) {
  sg_sched *s = start(1, 64, 0, 0, 5);
  steps_data *d = calloc(1, sizeof *d);
  d->total = 100000;
  d->step_ms = 2;
  sg_job *running = submit(s, &steps_ops, d, SG_JOB_BATCH, 0);
  while (sg_job_get_progress(running).done < 1)
    sleep_ms(1);
  steps_data *d2 = calloc(1, sizeof *d2);
  d2->total = 1;
  sg_job *queued = submit(s, &steps_ops, d2, SG_JOB_BATCH, 0);
  sg_sched_stop(s);
  cr_assert_eq(sg_job_state_of(running), SG_JOB_FAILED);
  cr_assert(strstr(sg_job_error(running).msg, "stopped while the job was running"));
  cr_assert_eq(sg_job_state_of(queued), SG_JOB_FAILED);
  cr_assert(strstr(sg_job_error(queued).msg, "before the job started"));
  sg_err e = {0};
  sg_job_spec spec = {.ops = &record_ops, .cls = SG_JOB_INTERACTIVE};
  cr_assert_eq(sg_sched_submit(s, &spec, NULL, &e), SG_UNAVAILABLE);
  sg_job_unref(running);
  sg_job_unref(queued);
  sg_sched_destroy(s);
  sg_backend_close(cpu);
}

/* ---- device faults through a fake "gpu" backend ---- */

static sg_status fake_rng(sg_exec *x, uint64_t seed, uint64_t stream, uint64_t offset, size_t n,
                          float *out, sg_err *err) {
  (void)x, (void)seed, (void)stream, (void)offset, (void)n, (void)out;
  return sg_err_set(err, getenv("SG_FAKE") ? SG_DEVICE_LOST : SG_DEVICE_OOM,
                    "injected device error");
}
static const sg_rng_ops fake_rng_ops = {.uniform = fake_rng};
static const sg_backend_ops fake_gpu = {.name = "fake-gpu", .rng = &fake_rng_ops};

static sg_status draw_step(sg_job *j, sg_exec *x, int *done, sg_err *err) {
  float *out = sg_job_data(j);
  *done = 1;
  return sg_rng_uniform(x, 1, 0, 0, 4, out, err);
}
static const sg_job_ops draw_ops = {.kind = "draw", .step = draw_step, .cleanup = free};

static sg_job *run_draw(sg_sched *s) {
  sg_job *j = submit(s, &draw_ops, calloc(4, sizeof(float)), SG_JOB_INTERACTIVE, 0);
  sg_job_wait(j);
  return j;
}

/* three steps, each drawing on the exec it is given */
typedef struct draws_data {
  float out[4];
  int steps;
} draws_data;
static sg_status draws_step(sg_job *j, sg_exec *x, int *done, sg_err *err) {
  draws_data *d = sg_job_data(j);
  *done = ++d->steps == 3;
  return sg_rng_uniform(x, 1, 0, 0, 4, d->out, err);
}
static size_t draw_units(const sg_job *j) { return (void)j, 1; }
static int draw_batchable(const sg_job *a, const sg_job *b) { return a != b; }
static sg_status draw_batch(sg_job *const *jobs, size_t n, sg_exec *x, sg_err *err) {
  for (size_t k = 0; k < n; k++) {
    draws_data *d = sg_job_data(jobs[k]);
    SG_TRY(sg_rng_uniform(x, 1, 0, 0, 4, d->out, err));
    d->steps = 3;
  }
  return SG_OK;
}
static const sg_job_ops draws_ops = {.kind = "draws",
                                     .step = draws_step,
                                     .cleanup = free,
                                     .batch_units = draw_units,
                                     .batchable = draw_batchable,
                                     .run_batch = draw_batch};

static sg_sched *start_fake(sg_backend **gpu, int with_fallback) {
  sg_err e = {0};
  sg_backend_config bc = {.kind = SG_BACKEND_CPU, .cpu_threads = 1};
  cpu = sg_backend_open(&bc, &e);
  *gpu = sg_backend_open_ops(&fake_gpu, SG_BACKEND_CUDA, NULL, &e);
  sg_sched_config cfg = {.backend = *gpu,
                         .fallback = with_fallback ? cpu : NULL,
                         .workers = 1,
                         .queue_limit = {8, 8},
                         .max_batch = 64,
                         .batch_window_us = 1000};
  gate_open = gate_entered = 0;
  return sg_sched_create(&cfg, &e);
}

Test(scheduler, device_oom_is_resource_exhausted_without_fallback_and_cpu_with_it) {
  unsetenv("SG_FAKE");
  sg_backend *gpu;
  sg_sched *s = start_fake(&gpu, 0);
  sg_job *j = run_draw(s);
  cr_assert_eq(sg_job_state_of(j), SG_JOB_FAILED);
  cr_assert_eq(sg_status_grpc_code(sg_job_error(j).code), 8, "RESOURCE_EXHAUSTED");
  sg_job_unref(j);
  sg_sched_stop(s);
  sg_sched_destroy(s);
  sg_backend_close(gpu);
  sg_backend_close(cpu);

  s = start_fake(&gpu, 1);
  j = run_draw(s);
  cr_assert_eq(sg_job_state_of(j), SG_JOB_SUCCEEDED, "%s", sg_job_error(j).msg);
  float *out = sg_job_data(j);
  cr_assert(out[0] > 0 || out[1] > 0, "the cpu computed the draws");
  sg_job_unref(j);
  sg_sched_stop(s);
  sg_sched_destroy(s);
  sg_backend_close(gpu);
  sg_backend_close(cpu);
}

Test(scheduler, a_job_moved_to_the_fallback_by_an_oom_runs_its_later_steps_there_too) {
  unsetenv("SG_FAKE");
  sg_backend *gpu;
  sg_sched *s = start_fake(&gpu, 1);
  draws_data *d = calloc(1, sizeof *d);
  sg_job *j = submit(s, &draws_ops, d, SG_JOB_BATCH, 0);
  sg_job_wait(j);
  cr_assert_eq(sg_job_state_of(j), SG_JOB_SUCCEEDED, "%s", sg_job_error(j).msg);
  cr_expect_eq(d->steps, 3);
  sg_job_unref(j);
  sg_sched_stop(s);
  sg_sched_destroy(s);
  sg_backend_close(gpu);
  sg_backend_close(cpu);
}

Test(scheduler, merged_calls_use_the_fallback_once_the_device_is_lost) {
  setenv("SG_FAKE", "lost", 1);
  sg_backend *gpu;
  sg_sched *s = start_fake(&gpu, 1);
  sg_job *j = run_draw(s);
  cr_assert_not(sg_backend_healthy(gpu));
  sg_job_unref(j);
  sg_job *g = hold_worker(s), *h[3];
  for (int k = 0; k < 3; k++)
    h[k] = submit(s, &draws_ops, calloc(1, sizeof(draws_data)), SG_JOB_INTERACTIVE, 0);
  open_gate();
  sg_job_wait(g);
  sg_job_unref(g);
  for (int k = 0; k < 3; k++) {
    sg_job_wait(h[k]);
    cr_expect_eq(sg_job_state_of(h[k]), SG_JOB_SUCCEEDED, "%d: %s", k, sg_job_error(h[k]).msg);
    sg_job_unref(h[k]);
  }
  uint64_t calls, merged;
  sg_sched_batch_counts(s, &calls, &merged);
  cr_expect_eq(merged, 3, "the three ran as one merged call (%llu calls, %llu jobs)",
               (unsigned long long)calls, (unsigned long long)merged);
  sg_sched_stop(s);
  sg_sched_destroy(s);
  sg_backend_close(gpu);
  sg_backend_close(cpu);
  unsetenv("SG_FAKE");
}

Test(scheduler, a_sticky_device_error_marks_the_backend_lost_and_later_jobs_use_the_fallback) {
  setenv("SG_FAKE", "lost", 1);
  sg_backend *gpu;
  sg_sched *s = start_fake(&gpu, 1);
  sg_job *j = run_draw(s);
  cr_assert_eq(sg_job_state_of(j), SG_JOB_FAILED, "the job that hit the fault fails");
  cr_assert_eq(sg_status_grpc_code(sg_job_error(j).code), 14, "UNAVAILABLE");
  cr_assert_not(sg_backend_healthy(gpu));
  sg_job_unref(j);
  j = run_draw(s);
  cr_assert_eq(sg_job_state_of(j), SG_JOB_SUCCEEDED, "later jobs run on the cpu");
  sg_job_unref(j);
  sg_sched_stop(s);
  sg_sched_destroy(s);
  sg_backend_close(gpu);
  sg_backend_close(cpu);
  unsetenv("SG_FAKE");
}

/* A job of `work` units on ops that sleeps step_ms in each of its steps. */
static sg_job *submit_work(sg_sched *s, const sg_job_ops *ops, double work, double cost, int steps,
                           int step_ms) {
  steps_data *d = calloc(1, sizeof *d);
  d->total = steps, d->step_ms = step_ms;
  sg_err e = {0};
  sg_job_spec spec = {.ops = ops, .data = d, .cls = SG_JOB_BATCH, .work = work, .cost = cost};
  sg_job *j = NULL;
  cr_assert_eq(sg_sched_submit(s, &spec, &j, &e), SG_OK, "%s", e.msg);
  return j;
}

Test(scheduler, estimates_come_from_the_kinds_default_rate_then_from_measured_steps) {
  sg_sched *s = start(1, 64, 0, 0, 5);
  sg_job *g = hold_worker(s);
  /* nothing measured yet: work over the kind's default rate; a given cost as it is */
  sg_job *a = submit_work(s, &timed_ops, 500, 0, 4, 25);
  sg_job *b = submit_work(s, &timed_ops, 0, 2.5, 1, 0); /* a cost only: teaches no rate */
  sg_job *c = submit_work(s, &steps_ops, 100, 0, 1, 0); /* no rate: no estimate */
  cr_expect_float_eq(sg_job_estimate(a), 0.5, 1e-12);
  cr_expect_float_eq(sg_job_estimate(b), 2.5, 1e-12);
  cr_expect_eq(sg_job_estimate(c), 0);
  cr_expect_float_eq(sg_sched_queued_estimate(s, SG_JOB_BATCH), 3.0, 1e-9);
  cr_expect_eq(sg_sched_queued_estimate(s, SG_JOB_INTERACTIVE), 0);
  /* a failed job teaches nothing */
  sg_job *f = submit_work(s, &timed_fail_ops, 1e6, 0, 1, 0);
  open_gate();
  sg_job *all[] = {a, b, c, f};
  for (int i = 0; i < 4; i++)
    sg_job_wait(all[i]);
  cr_assert_eq(sg_job_state_of(a), SG_JOB_SUCCEEDED);
  cr_assert_eq(sg_job_state_of(f), SG_JOB_FAILED);
  cr_expect_eq(sg_sched_queued_estimate(s, SG_JOB_BATCH), 0);
  /* a took 4 steps of 25 ms for 500 units (the same kind as f): about 0.2 ms per unit, so 1,000
   * units are about 0.2 s; the steps' sleep is a lower bound, a loaded machine only adds */
  sg_job_spec probe = {.ops = &timed_ops, .work = 1000};
  double e1 = sg_sched_estimate(s, &probe);
  cr_expect(e1 >= 0.2 && e1 < 1.0, "estimate %g s for 4 x 25 ms per 500 units, x2", e1);
  /* a slower job moves it by a quarter of the difference: 250 units in 400 ms is at least
   * 1.6 s per 1,000 units (above e1 < 1 s); replacing the rate would give >= 1.6 s, averaging
   * 0.75 e1 + 0.25 x (< 1.6 s unless the 400 ms step took over 850 ms) */
  sg_job *d = submit_work(s, &timed_ops, 250, 0, 1, 400);
  sg_job_wait(d);
  double e2 = sg_sched_estimate(s, &probe);
  cr_expect(e2 >= 0.75 * e1 + 0.25 * 1.6 - 1e-9, "%g s after a slower job, %g s before", e2, e1);
  cr_expect(e2 < 1.6, "%g s: the newest job weighs a quarter (e1 %g s)", e2, e1);
  for (int i = 0; i < 4; i++)
    sg_job_unref(all[i]);
  sg_job_unref(d);
  sg_job_unref(g);
  finish_sched(s);
}

/* A route has a time limit (a cost) and an iteration limit (work): the estimate is the lower;
 * one its time limit cut reports the work it did, and the rate learns from that. */
Test(scheduler, a_cost_with_work_is_a_bound_and_the_work_done_teaches_the_rate) {
  sg_sched *s = start(1, 64, 0, 0, 5);
  sg_job_spec shorter = {.ops = &cut_ops, .work = 500, .cost = 2.5};
  cr_expect_float_eq(sg_sched_estimate(s, &shorter), 0.5, 1e-12, "500 units at 1,000/s");
  sg_job_spec bounded = {.ops = &cut_ops, .work = 500, .cost = 0.1};
  cr_expect_float_eq(sg_sched_estimate(s, &bounded), 0.1, 1e-12, "the time limit first");
  /* 1e6 units asked, 100 done in one step of 50 ms: 0.5 ms per unit, not 50 ns */
  sg_job *j = submit_work(s, &cut_ops, 1e6, 5, 1, 50);
  sg_job_wait(j);
  cr_assert_eq(sg_job_state_of(j), SG_JOB_SUCCEEDED, "%s", sg_job_error(j).msg);
  sg_job_unref(j);
  sg_job_spec probe = {.ops = &cut_ops, .work = 1000};
  double e = sg_sched_estimate(s, &probe);
  cr_expect(e >= 0.45 && e < 5, "1,000 units: %g s (50 ms per 100 units done)", e);
  finish_sched(s);
}
