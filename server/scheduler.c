/* The scheduler: bounded per-class priority queues, workers with their own execs, batch jobs in
 * steps pinned to a worker, dynamic batching of small interactive jobs, admission checks.
 * Invariants: a queued job is in exactly one heap; a job reaches a final state exactly once
 * (finish()), after which on_done runs and the queue's reference is dropped; the scheduler's
 * mutex guards the heaps and worker assignments, a job's own mutex its state and progress. */
#include "scheduler.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

struct sg_job {
  atomic_int refs;
  sg_sched *sched;
  const sg_job_ops *ops;
  void *data;
  sg_job_class cls;
  int priority;
  int64_t deadline_us;
  double cost, work; /* seconds (the estimate), the kind's units */
  int64_t busy_us;   /* time in its steps (its share of merged calls) */
  const atomic_int *cancel_src;
  atomic_int cancel;
  void (*on_done)(sg_job *, void *);
  void (*on_progress)(sg_job *, void *);
  void *arg;
  double key; /* queue order, larger first: boost + priority * step - arrival (seconds) */
  pthread_mutex_t mu;
  pthread_cond_t cv;
  sg_job_state state;
  sg_job_progress progress;
  sg_err error;
  int64_t queued_us, started_us, finished_us;
  int on_fallback; /* a step ran on the cpu fallback: the later ones do too (its state is there) */
};

typedef struct heap {
  sg_job **items;
  size_t n, cap;
} heap;

/* A worker's batch steps run on its stepper, a thread at a lower CPU priority (nice
 * cfg.batch_nice, inherited by the OpenMP team it starts) while the worker waits: the worker still
 * serves the queues between steps, and during a step the kernel scheduler prefers the pollers and
 * the other workers' interactive jobs over the batch job's threads. */
typedef struct stepper {
  pthread_t thread;
  int started;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  sg_job *job; /* the step to run, or NULL */
  int first, final, busy, quit;
} stepper;

typedef struct worker {
  sg_sched *s;
  int index;
  pthread_t thread;
  int started;
  stepper low;
  sg_exec *exec;     /* primary backend */
  sg_exec *fallback; /* cpu, for device OOM, or NULL */
  sg_job *pinned;    /* a batch job between two of its steps */
} worker;

/* A kind's measured run time per work unit (s->mu). */
typedef struct kind_rate {
  const sg_job_ops *ops;
  double s_per_unit;
} kind_rate;
#define MAX_KIND_RATES 32

struct sg_sched {
  sg_sched_config cfg;
  pthread_mutex_t mu;
  pthread_cond_t work_cv; /* a job was queued, or stopping */
  heap queue[SG_JOB_CLASSES];
  worker *workers;
  atomic_int stopping;
  uint64_t batch_calls, batch_jobs;
  atomic_uint_fast64_t done[SG_JOB_CLASSES];
  double boost;     /* seconds of waiting the interactive class is worth */
  double prio_step; /* seconds per priority level */
  kind_rate rates[MAX_KIND_RATES];
  int n_rates;
};

static double now_s(void) { return (double)sg_mono_us() * 1e-6; }

/* ---- heaps (max-heap on key) ---- */

static void heap_swap(heap *h, size_t a, size_t b) {
  sg_job *t = h->items[a];
  h->items[a] = h->items[b];
  h->items[b] = t;
}

static void heap_up(heap *h, size_t i) {
  while (i > 0 && h->items[(i - 1) / 2]->key < h->items[i]->key) {
    heap_swap(h, i, (i - 1) / 2);
    i = (i - 1) / 2;
  }
}

static void heap_down(heap *h, size_t i) {
  for (;;) {
    size_t l = 2 * i + 1, r = l + 1, m = i;
    if (l < h->n && h->items[l]->key > h->items[m]->key) m = l;
    if (r < h->n && h->items[r]->key > h->items[m]->key) m = r;
    if (m == i) return;
    heap_swap(h, i, m);
    i = m;
  }
}

static void heap_push(heap *h, sg_job *j) {
  h->items[h->n++] = j;
  heap_up(h, h->n - 1);
}

static sg_job *heap_remove(heap *h, size_t i) {
  sg_job *j = h->items[i];
  h->items[i] = h->items[--h->n];
  if (i < h->n) {
    heap_down(h, i);
    heap_up(h, i);
  }
  return j;
}

/* ---- job objects ---- */

void sg_job_ref(sg_job *j) { atomic_fetch_add(&j->refs, 1); }

void sg_job_unref(sg_job *j) {
  if (!j || atomic_fetch_sub(&j->refs, 1) != 1) return;
  if (j->ops->cleanup) j->ops->cleanup(j->data);
  pthread_mutex_destroy(&j->mu);
  pthread_cond_destroy(&j->cv);
  free(j);
}

const char *sg_job_state_name(sg_job_state st) {
  static const char *const names[] = {"queued", "running", "succeeded", "failed", "cancelled"};
  return (unsigned)st < SG_ARRAY_LEN(names) ? names[st] : "unknown";
}

sg_job_state sg_job_state_of(sg_job *j) {
  pthread_mutex_lock(&j->mu);
  sg_job_state st = j->state;
  pthread_mutex_unlock(&j->mu);
  return st;
}

sg_job_class sg_job_class_of(const sg_job *j) { return j->cls; }
const char *sg_job_kind(const sg_job *j) { return j->ops->kind; }
double sg_job_estimate(const sg_job *j) { return j->cost; }
void *sg_job_data(const sg_job *j) { return j->data; }

sg_err sg_job_error(sg_job *j) {
  pthread_mutex_lock(&j->mu);
  sg_err e = j->error;
  pthread_mutex_unlock(&j->mu);
  return e;
}

sg_job_progress sg_job_get_progress(sg_job *j) {
  pthread_mutex_lock(&j->mu);
  sg_job_progress p = j->progress;
  pthread_mutex_unlock(&j->mu);
  return p;
}

void sg_job_set_progress(sg_job *j, const sg_job_progress *p) {
  pthread_mutex_lock(&j->mu);
  j->progress = *p;
  pthread_mutex_unlock(&j->mu);
}

void sg_job_set_work(sg_job *j, double work) { j->work = work > 0 ? work : 0; }

int sg_job_cancelled(const sg_job *j) {
  return atomic_load(&j->cancel) || (j->cancel_src && atomic_load(j->cancel_src));
}

void sg_job_times(sg_job *j, int64_t *queued_us, int64_t *started_us, int64_t *finished_us) {
  pthread_mutex_lock(&j->mu);
  if (queued_us) *queued_us = j->queued_us;
  if (started_us) *started_us = j->started_us;
  if (finished_us) *finished_us = j->finished_us;
  pthread_mutex_unlock(&j->mu);
}

void sg_job_wait(sg_job *j) {
  pthread_mutex_lock(&j->mu);
  while (j->state == SG_JOB_QUEUED || j->state == SG_JOB_RUNNING)
    pthread_cond_wait(&j->cv, &j->mu);
  pthread_mutex_unlock(&j->mu);
}

/* The kind's entry (s->mu held), added when missing and there is room; NULL otherwise. */
static kind_rate *rate_of(sg_sched *s, const sg_job_ops *ops, int add) {
  for (int i = 0; i < s->n_rates; i++)
    if (s->rates[i].ops == ops) return &s->rates[i];
  if (!add || s->n_rates == MAX_KIND_RATES) return NULL;
  s->rates[s->n_rates] = (kind_rate){.ops = ops};
  return &s->rates[s->n_rates++];
}

/* A succeeded job's measured seconds per unit, averaged into its kind's rate (the newest job
 * weighs 1/4; the first one sets it). */
static void learn_rate(sg_sched *s, const sg_job *j) {
  if (!(j->work > 0) || j->busy_us <= 0) return;
  double x = (double)j->busy_us * 1e-6 / j->work;
  pthread_mutex_lock(&s->mu);
  kind_rate *r = rate_of(s, j->ops, 1);
  if (r) r->s_per_unit = r->s_per_unit > 0 ? 0.75 * r->s_per_unit + 0.25 * x : x;
  pthread_mutex_unlock(&s->mu);
}

/* The estimate at submit (s->mu held): the lower of the spec's cost and its work over the
 * kind's rate, where it gives both. */
static double estimate(sg_sched *s, const sg_job_spec *spec) {
  double by_work = 0;
  if (spec->work > 0) {
    const kind_rate *r = rate_of(s, spec->ops, 0);
    by_work = r && r->s_per_unit > 0     ? spec->work * r->s_per_unit
              : spec->ops->work_rate > 0 ? spec->work / spec->ops->work_rate
                                         : 0;
  }
  if (!(spec->cost > 0)) return by_work;
  return by_work > 0 && by_work < spec->cost ? by_work : spec->cost;
}

/* The one way a job ends: records the state, wakes waiters, calls on_done, drops the queue's
 * reference. err may be NULL for success. */
static void finish(sg_job *j, sg_job_state st, const sg_err *err) {
  atomic_fetch_add(&j->sched->done[j->cls], 1);
  if (st == SG_JOB_SUCCEEDED && !j->on_fallback) learn_rate(j->sched, j);
  pthread_mutex_lock(&j->mu);
  j->state = st;
  j->finished_us = sg_mono_us();
  if (err) j->error = *err;
  pthread_cond_broadcast(&j->cv);
  pthread_mutex_unlock(&j->mu);
  if (j->on_done) j->on_done(j, j->arg);
  sg_job_unref(j);
}

static void finish_status(sg_job *j, sg_job_state st, sg_status code, const char *msg) {
  sg_err e = {0};
  sg_err_set(&e, code, "%s", msg);
  finish(j, st, &e);
}

void sg_job_cancel(sg_job *j) {
  atomic_store(&j->cancel, 1);
  sg_sched *s = j->sched;
  pthread_mutex_lock(&s->mu);
  heap *h = &s->queue[j->cls];
  for (size_t i = 0; i < h->n; i++) {
    if (h->items[i] != j) continue;
    heap_remove(h, i);
    pthread_mutex_unlock(&s->mu);
    finish_status(j, SG_JOB_CANCELLED, SG_CANCELLED, "cancelled while queued");
    return;
  }
  pthread_mutex_unlock(&s->mu); /* running: it stops at the next step boundary */
}

/* ---- submit ---- */

sg_status sg_sched_submit(sg_sched *s, const sg_job_spec *spec, sg_job **out, sg_err *err) {
  if (out) *out = NULL;
  sg_job *j = calloc(1, sizeof *j);
  if (!j) {
    if (spec->ops->cleanup) spec->ops->cleanup(spec->data);
    return sg_err_set(err, SG_OUT_OF_MEMORY, "scheduler: out of memory");
  }
  atomic_init(&j->refs, out ? 2 : 1); /* the queue's, and the caller's */
  j->sched = s;
  j->ops = spec->ops;
  j->data = spec->data;
  j->cls = spec->cls;
  j->priority = spec->priority < SG_PRIORITY_MIN   ? SG_PRIORITY_MIN
                : spec->priority > SG_PRIORITY_MAX ? SG_PRIORITY_MAX
                                                   : spec->priority;
  j->deadline_us = spec->deadline_us > 0 ? spec->deadline_us : INT64_MAX;
  j->work = spec->work > 0 ? spec->work : 0;
  j->cancel_src = spec->cancel_src;
  j->on_done = spec->on_done;
  j->on_progress = spec->on_progress;
  j->arg = spec->arg;
  pthread_mutex_init(&j->mu, NULL);
  pthread_cond_init(&j->cv, NULL);
  j->queued_us = sg_mono_us();
  j->key = (j->cls == SG_JOB_INTERACTIVE ? s->boost : 0) + j->priority * s->prio_step -
           (double)j->queued_us * 1e-6;
  pthread_mutex_lock(&s->mu);
  j->cost = estimate(s, spec);
  heap *h = &s->queue[j->cls];
  sg_status st = SG_OK;
  if (atomic_load(&s->stopping)) {
    st = sg_err_set(err, SG_UNAVAILABLE, "server is shutting down");
  } else if (h->n == h->cap) {
    st = sg_err_set(err, SG_RESOURCE_EXHAUSTED, "%s queue full: %zu jobs waiting (--queue-limit)",
                    j->cls == SG_JOB_INTERACTIVE ? "interactive" : "batch", h->n);
  } else {
    heap_push(h, j);
    pthread_cond_broadcast(&s->work_cv);
  }
  pthread_mutex_unlock(&s->mu);
  if (st != SG_OK) {
    atomic_store(&j->refs, 1);
    sg_job_unref(j);
    return st;
  }
  if (out) *out = j;
  return SG_OK;
}

size_t sg_sched_queued(sg_sched *s, sg_job_class cls) {
  pthread_mutex_lock(&s->mu);
  size_t n = s->queue[cls].n;
  pthread_mutex_unlock(&s->mu);
  return n;
}

double sg_sched_estimate(sg_sched *s, const sg_job_spec *spec) {
  pthread_mutex_lock(&s->mu);
  double e = estimate(s, spec);
  pthread_mutex_unlock(&s->mu);
  return e;
}

double sg_sched_queued_estimate(sg_sched *s, sg_job_class cls) {
  double sum = 0;
  pthread_mutex_lock(&s->mu);
  for (size_t i = 0; i < s->queue[cls].n; i++)
    sum += s->queue[cls].items[i]->cost;
  pthread_mutex_unlock(&s->mu);
  return sum;
}

sg_status sg_priority_check(int priority, sg_err *err) {
  if (priority >= SG_PRIORITY_MIN && priority <= SG_PRIORITY_MAX) return SG_OK;
  return sg_err_set(err, SG_INVALID_ARGUMENT, "priority: %d is outside %d..%d", priority,
                    SG_PRIORITY_MIN, SG_PRIORITY_MAX);
}

uint64_t sg_sched_done(sg_sched *s, sg_job_class cls) { return atomic_load(&s->done[cls]); }

void sg_sched_batch_counts(sg_sched *s, uint64_t *calls, uint64_t *jobs) {
  pthread_mutex_lock(&s->mu);
  *calls = s->batch_calls;
  *jobs = s->batch_jobs;
  pthread_mutex_unlock(&s->mu);
}

/* ---- running ---- */

/* Admission at start: cancelled or past its deadline → final without running. */
static int admit(sg_job *j) {
  if (sg_job_cancelled(j)) {
    finish_status(j, SG_JOB_CANCELLED, SG_CANCELLED, "cancelled before it started");
    return 0;
  }
  if (j->deadline_us != INT64_MAX && sg_mono_us() >= j->deadline_us) {
    finish_status(j, SG_JOB_FAILED, SG_DEADLINE_EXCEEDED, "deadline passed before it started");
    return 0;
  }
  pthread_mutex_lock(&j->mu);
  j->state = SG_JOB_RUNNING;
  if (!j->started_us) j->started_us = sg_mono_us();
  pthread_mutex_unlock(&j->mu);
  return 1;
}

/* The exec for w's next call: the fallback once the primary backend is lost. */
static sg_exec *exec_for(const worker *w) {
  if (w->fallback && !sg_backend_healthy(sg_exec_backend(w->exec))) return w->fallback;
  return w->exec;
}

/* Runs one step, retrying on the fallback exec after a device OOM in a job's first step (no
 * device state exists yet) or when the primary backend is lost; a job that went to the fallback
 * stays there. */
static sg_status run_step(worker *w, sg_job *j, int first, int *done, sg_err *err) {
  sg_exec *x = j->on_fallback && w->fallback ? w->fallback : exec_for(w);
  if (x == w->fallback) j->on_fallback = 1;
  sg_status st = j->ops->step(j, x, done, err);
  if (st == SG_DEVICE_OOM && first && w->fallback && x != w->fallback) {
    /* at most one line in 10 s: a model served from the fallback does this on every call */
    static _Atomic int64_t last_us = INT64_MIN / 2;
    int64_t now = sg_mono_us(), seen = atomic_load(&last_us);
    if (now - seen >= 10000000 && atomic_compare_exchange_strong(&last_us, &seen, now))
      SG_WARN("sched", "%s job: %s; retrying on the cpu (--fallback cpu; logged once in 10 s)",
              j->ops->kind, sg_err_message(err));
    sg_err_clear(err);
    j->on_fallback = 1;
    st = j->ops->step(j, w->fallback, done, err);
  }
  return st;
}

/* One step of j; returns 1 when the job is final (finished here), 0 when it has more steps. */
static int step_job(worker *w, sg_job *j, int first) {
  if (!first && sg_job_cancelled(j)) {
    finish_status(j, SG_JOB_CANCELLED, SG_CANCELLED, "cancelled");
    return 1;
  }
  if (!first && atomic_load(&w->s->stopping)) {
    finish_status(j, SG_JOB_FAILED, SG_UNAVAILABLE, "server stopped while the job was running");
    return 1;
  }
  if (!first && j->deadline_us != INT64_MAX && sg_mono_us() >= j->deadline_us) {
    finish_status(j, SG_JOB_FAILED, SG_DEADLINE_EXCEEDED, "deadline exceeded while running");
    return 1;
  }
  int done = 0;
  sg_err err = {0};
  int64_t t0 = sg_mono_us();
  sg_status st = run_step(w, j, first, &done, &err);
  j->busy_us += sg_mono_us() - t0;
  if (j->on_progress) j->on_progress(j, j->arg);
  if (st != SG_OK) {
    finish(j, SG_JOB_FAILED, &err);
    return 1;
  }
  if (done) {
    finish(j, SG_JOB_SUCCEEDED, NULL);
    return 1;
  }
  return 0;
}

/* Interactive jobs run to the end (their steps are short), checking cancellation between. */
static void run_interactive(worker *w, sg_job *j) {
  if (!admit(j)) return;
  for (int first = 1; !step_job(w, j, first); first = 0) {
  }
}

/* Takes queued jobs batchable with lead (s->mu held), up to max_batch units, into jobs[]. */
static size_t gather_batch(sg_sched *s, sg_job *lead, sg_job **jobs, size_t cap, size_t *units) {
  heap *h = &s->queue[SG_JOB_INTERACTIVE];
  size_t n = 0;
  for (size_t i = 0; i < h->n && n < cap;) {
    sg_job *c = h->items[i];
    size_t u = c->ops == lead->ops ? c->ops->batch_units(c) : 0;
    if (u && *units + u <= s->cfg.max_batch && c->ops->batchable(lead, c)) {
      jobs[n++] = heap_remove(h, i);
      *units += u;
      i = 0; /* the heap moved: rescan (queues are small) */
    } else {
      i++;
    }
  }
  return n;
}

static void run_merged(worker *w, sg_job **jobs, size_t n) {
  size_t live = 0;
  for (size_t i = 0; i < n; i++)
    if (admit(jobs[i])) jobs[live++] = jobs[i];
  if (!live) return;
  sg_err err = {0};
  sg_exec *x = exec_for(w);
  int64_t t0 = sg_mono_us();
  sg_status st = jobs[0]->ops->run_batch(jobs, live, x, &err);
  if (st == SG_DEVICE_OOM && w->fallback && x != w->fallback) {
    sg_err_clear(&err);
    for (size_t i = 0; i < live; i++)
      jobs[i]->on_fallback = 1;
    t0 = sg_mono_us();
    st = jobs[0]->ops->run_batch(jobs, live, w->fallback, &err);
  }
  if (x == w->fallback)
    for (size_t i = 0; i < live; i++)
      jobs[i]->on_fallback = 1;
  /* the call's time, shared by units */
  double units = 0, took = (double)(sg_mono_us() - t0);
  for (size_t i = 0; i < live; i++)
    units += (double)jobs[0]->ops->batch_units(jobs[i]);
  for (size_t i = 0; i < live && units > 0; i++)
    jobs[i]->busy_us = (int64_t)(took * (double)jobs[0]->ops->batch_units(jobs[i]) / units);
  pthread_mutex_lock(&w->s->mu);
  w->s->batch_calls++;
  w->s->batch_jobs += live;
  pthread_mutex_unlock(&w->s->mu);
  for (size_t i = 0; i < live; i++)
    finish(jobs[i], st == SG_OK ? SG_JOB_SUCCEEDED : SG_JOB_FAILED, st == SG_OK ? NULL : &err);
}

/* lead was just popped (s->mu held): waits up to the batch window for company, then runs the
 * merged call (releases and retakes s->mu). */
static void run_batched(worker *w, sg_job *lead) {
  sg_sched *s = w->s;
  enum { MAX_JOBS = 1024 };
  sg_job *jobs[MAX_JOBS];
  jobs[0] = lead;
  size_t units = lead->ops->batch_units(lead), n = 1;
  int64_t until = lead->queued_us + s->cfg.batch_window_us;
  for (;;) {
    n += gather_batch(s, lead, jobs + n, MAX_JOBS - n, &units);
    int64_t now = sg_mono_us();
    if (units >= s->cfg.max_batch || n == MAX_JOBS || now >= until || atomic_load(&s->stopping))
      break;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t ns = ts.tv_nsec + (until - now) * 1000;
    ts.tv_sec += ns / 1000000000;
    ts.tv_nsec = ns % 1000000000;
    pthread_cond_timedwait(&s->work_cv, &s->mu, &ts);
  }
  pthread_mutex_unlock(&s->mu);
  if (n == 1)
    run_interactive(w, lead);
  else
    run_merged(w, jobs, n);
  pthread_mutex_lock(&s->mu);
}

/* The next thing for w (s->mu held): the better of the interactive head and, for batch work,
 * its pinned job (aged from its last step) or the batch head. NULL when there is nothing. */
static sg_job *pick(worker *w, int *is_pinned) {
  sg_sched *s = w->s;
  heap *hi = &s->queue[SG_JOB_INTERACTIVE], *hb = &s->queue[SG_JOB_BATCH];
  sg_job *best = hi->n ? hi->items[0] : NULL;
  sg_job *batch = w->pinned ? w->pinned : (hb->n ? hb->items[0] : NULL);
  *is_pinned = 0;
  if (batch && (!best || batch->key > best->key)) {
    *is_pinned = batch == w->pinned;
    best = batch;
  }
  if (best && !*is_pinned) heap_remove(best->cls == SG_JOB_INTERACTIVE ? hi : hb, 0);
  return best;
}

static void *stepper_main(void *arg) {
  worker *w = arg;
  stepper *t = &w->low;
  /* Linux: a thread's nice value is its own (setpriority on the thread id) */
  if (setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), w->s->cfg.batch_nice) != 0)
    SG_WARN("sched", "worker %d: cannot lower the batch steps' CPU priority to nice %d", w->index,
            w->s->cfg.batch_nice);
  pthread_mutex_lock(&t->mu);
  for (;;) {
    while (!t->busy && !t->quit)
      pthread_cond_wait(&t->cv, &t->mu);
    if (!t->busy) break;
    pthread_mutex_unlock(&t->mu);
    int final = step_job(w, t->job, t->first);
    pthread_mutex_lock(&t->mu);
    t->final = final;
    t->busy = 0;
    pthread_cond_broadcast(&t->cv);
  }
  pthread_mutex_unlock(&t->mu);
  return NULL;
}

/* One step of a batch job: on the worker's stepper when it has one, else here. */
static int batch_step(worker *w, sg_job *j, int first) {
  stepper *t = &w->low;
  if (!t->started) return step_job(w, j, first);
  pthread_mutex_lock(&t->mu);
  t->job = j;
  t->first = first;
  t->busy = 1;
  pthread_cond_broadcast(&t->cv);
  while (t->busy)
    pthread_cond_wait(&t->cv, &t->mu);
  int final = t->final;
  t->job = NULL;
  pthread_mutex_unlock(&t->mu);
  return final;
}

static void run_batch_step(worker *w, sg_job *j, int first) {
  sg_sched *s = w->s;
  pthread_mutex_unlock(&s->mu);
  int final = first && !admit(j) ? 1 : batch_step(w, j, first);
  pthread_mutex_lock(&s->mu);
  w->pinned = final ? NULL : j;
  /* between steps it waits like a job queued now, so older interactive work goes first */
  if (!final) j->key = j->priority * s->prio_step - now_s();
}

static void *worker_main(void *arg) {
  worker *w = arg;
  sg_sched *s = w->s;
  pthread_mutex_lock(&s->mu);
  for (;;) {
    int pinned;
    sg_job *j = pick(w, &pinned);
    if (!j) {
      if (atomic_load(&s->stopping)) break;
      pthread_cond_wait(&s->work_cv, &s->mu);
      continue;
    }
    if (j->cls == SG_JOB_BATCH) {
      run_batch_step(w, j, !pinned);
    } else if (j->ops->run_batch && s->cfg.max_batch > 0 && j->ops->batch_units(j) > 0) {
      run_batched(w, j);
    } else {
      pthread_mutex_unlock(&s->mu);
      run_interactive(w, j);
      pthread_mutex_lock(&s->mu);
    }
  }
  pthread_mutex_unlock(&s->mu);
  return NULL;
}

/* ---- lifecycle ---- */

static sg_status start_worker(sg_sched *s, worker *w, sg_err *err) {
  w->s = s;
  w->exec = sg_exec_create(s->cfg.backend, err);
  if (!w->exec) return err ? err->code : SG_INTERNAL;
  /* the cores divided among the workers: each worker's OpenMP team (the batch steps' included)
   * gets its share, so that a batch job leaves the other workers' cores to interactive work */
  sg_exec_set_threads(w->exec, s->cfg.cpu_threads);
  if (s->cfg.fallback) {
    w->fallback = sg_exec_create(s->cfg.fallback, err);
    if (!w->fallback) return err ? err->code : SG_INTERNAL;
    sg_exec_set_threads(w->fallback, s->cfg.cpu_threads);
  }
  if (s->cfg.batch_nice > 0 && pthread_create(&w->low.thread, NULL, stepper_main, w) == 0)
    w->low.started = 1; /* without it, batch steps run on the worker itself */
  if (pthread_create(&w->thread, NULL, worker_main, w) != 0)
    return sg_err_set(err, SG_RESOURCE_EXHAUSTED, "scheduler: cannot start worker %d", w->index);
  w->started = 1;
  return SG_OK;
}

sg_sched *sg_sched_create(const sg_sched_config *cfg, sg_err *err) {
  sg_sched *s = calloc(1, sizeof *s);
  if (!s) {
    sg_err_set(err, SG_OUT_OF_MEMORY, "scheduler: out of memory");
    return NULL;
  }
  s->cfg = *cfg;
  if (s->cfg.workers < 1) s->cfg.workers = 1;
  if (s->cfg.cpu_threads <= 0) {
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    s->cfg.cpu_threads = cores / s->cfg.workers > 0 ? (int)(cores / s->cfg.workers) : 1;
  }
  if (s->cfg.aging_s <= 0) s->cfg.aging_s = 5;
  s->boost = s->cfg.aging_s;
  s->prio_step = s->cfg.aging_s / 400; /* priorities shift ±aging/4 */
  pthread_mutex_init(&s->mu, NULL);
  pthread_cond_init(&s->work_cv, NULL);
  s->workers = calloc((size_t)s->cfg.workers, sizeof *s->workers);
  int ok = s->workers != NULL;
  for (int c = 0; c < SG_JOB_CLASSES; c++) {
    s->queue[c].cap = s->cfg.queue_limit[c] ? s->cfg.queue_limit[c] : 1024;
    s->queue[c].items = calloc(s->queue[c].cap, sizeof(sg_job *));
    ok = ok && s->queue[c].items;
  }
  if (!ok) {
    sg_err_set(err, SG_OUT_OF_MEMORY, "scheduler: out of memory");
    sg_sched_destroy(s);
    return NULL;
  }
  for (int i = 0; i < s->cfg.workers; i++) {
    pthread_mutex_init(&s->workers[i].low.mu, NULL);
    pthread_cond_init(&s->workers[i].low.cv, NULL);
  }
  for (int i = 0; i < s->cfg.workers; i++) {
    s->workers[i].index = i;
    if (start_worker(s, &s->workers[i], err) != SG_OK) {
      sg_sched_stop(s);
      sg_sched_destroy(s);
      return NULL;
    }
  }
  return s;
}

void sg_sched_stop(sg_sched *s) {
  pthread_mutex_lock(&s->mu);
  if (atomic_load(&s->stopping)) {
    pthread_mutex_unlock(&s->mu);
    return;
  }
  atomic_store(&s->stopping, 1);
  sg_job *drained[2][64];
  for (;;) { /* end queued jobs in chunks, outside the lock */
    size_t n[2] = {0, 0};
    for (int c = 0; c < SG_JOB_CLASSES; c++)
      while (s->queue[c].n && n[c] < 64)
        drained[c][n[c]++] = heap_remove(&s->queue[c], 0);
    if (!n[0] && !n[1]) break;
    pthread_mutex_unlock(&s->mu);
    for (int c = 0; c < SG_JOB_CLASSES; c++)
      for (size_t i = 0; i < n[c]; i++)
        finish_status(drained[c][i], SG_JOB_FAILED, SG_UNAVAILABLE,
                      "server stopped before the job started");
    pthread_mutex_lock(&s->mu);
  }
  /* pinned batch jobs end at their next step boundary (step_job sees stopping) */
  pthread_cond_broadcast(&s->work_cv);
  pthread_mutex_unlock(&s->mu);
  for (int i = 0; i < s->cfg.workers; i++)
    if (s->workers[i].started) pthread_join(s->workers[i].thread, NULL);
  for (int i = 0; i < s->cfg.workers; i++) {
    stepper *t = &s->workers[i].low;
    if (!t->started) continue;
    pthread_mutex_lock(&t->mu);
    t->quit = 1;
    pthread_cond_broadcast(&t->cv);
    pthread_mutex_unlock(&t->mu);
    pthread_join(t->thread, NULL);
    t->started = 0;
  }
}

void sg_sched_destroy(sg_sched *s) {
  if (!s) return;
  for (int i = 0; s->workers && i < s->cfg.workers; i++) {
    pthread_mutex_destroy(&s->workers[i].low.mu);
    pthread_cond_destroy(&s->workers[i].low.cv);
    sg_exec_destroy(s->workers[i].exec);
    sg_exec_destroy(s->workers[i].fallback);
  }
  for (int c = 0; c < SG_JOB_CLASSES; c++)
    free(s->queue[c].items);
  free(s->workers);
  pthread_mutex_destroy(&s->mu);
  pthread_cond_destroy(&s->work_cv);
  free(s);
}
