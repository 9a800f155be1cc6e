/* The job scheduler: every compute request becomes a job that workers run on the backend.
 *
 * Classes: interactive (scoring, recommendations: latency matters) and batch (training,
 * forecasts, routing, recommend-all: throughput matters). Each class has a bounded queue; a full
 * queue refuses at once. Workers (one per CUDA stream, or CPU workers with a share of the cores)
 * pick the job with the highest effective priority, in seconds of waiting:
 *     waiting time + priority × aging/400 + (interactive ? aging : 0)
 * so interactive work goes first and a batch job that waited `aging` seconds goes anyway (no
 * starvation); priorities (-100..100) shift a job by at most a quarter of that. Batch jobs run in
 * steps; between two steps a worker serves the interactive jobs that outrank its batch job, so
 * interactive latency holds while long work runs. A batch job stays on the worker that started it
 * (its device state lives on that worker's stream).
 *
 * Dynamic batching: when a worker takes a job whose kind can batch (small scoring calls), it
 * also takes the compatible queued jobs of that kind, waiting up to batch_window_us for more
 * while fewer than max_batch units are queued, and runs them as one kernel call.
 *
 * Admission: a job whose deadline passed before it starts ends DEADLINE_EXCEEDED without
 * running; a cancelled job (sg_job_cancel, or its cancel source such as an RPC's cancel flag)
 * ends CANCELLED at the next step boundary. On SG_DEVICE_OOM a step may be retried on the CPU
 * (fallback backend) when one is configured. */
#ifndef SG_SERVER_SCHEDULER_H
#define SG_SERVER_SCHEDULER_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "common/backend.h"

typedef struct sg_sched sg_sched;
typedef struct sg_job sg_job;

typedef enum sg_job_class { SG_JOB_INTERACTIVE, SG_JOB_BATCH, SG_JOB_CLASSES } sg_job_class;

typedef enum sg_job_state {
  SG_JOB_QUEUED,
  SG_JOB_RUNNING,
  SG_JOB_SUCCEEDED,
  SG_JOB_FAILED,
  SG_JOB_CANCELLED,
} sg_job_state;

#define SG_PRIORITY_MIN (-100)
#define SG_PRIORITY_MAX 100
/* SG_OK, or INVALID_ARGUMENT naming `priority` when it is outside MIN..MAX. */
sg_status sg_priority_check(int priority, sg_err *err);

typedef struct sg_job_progress {
  uint64_t done, total; /* in the kind's unit (series, iterations, users, minibatches) */
  double best;          /* best-so-far objective where it applies (route cost, loss) */
  int has_best;
} sg_job_progress;

/* What a job kind does. step and cleanup are required; the batch slots are optional (all three
 * or none). Called on worker threads; a job's slots are never called concurrently. */
typedef struct sg_job_ops {
  const char *kind; /* "score_pairs", "sleep", ... */
  /* Work units (the spec's `work`) per second assumed for the run-time estimate until a job of
   * this kind has finished on this scheduler; from then on the measured rate is used. A rough
   * default for one CPU core; 0 = the kind gives no work figure. */
  double work_rate;
  /* One step on exec x (tens of ms at most for batch jobs). Set *done = 1 when the job is
   * complete; report progress with sg_job_set_progress. A non-OK status fails the job (the
   * status, via sg_status_grpc_code, is what its caller sees). */
  sg_status (*step)(sg_job *job, sg_exec *x, int *done, sg_err *err);
  /* Frees the kind's state (sg_job_data); called once when the job object is destroyed. */
  void (*cleanup)(void *data);
  /* Batching: units this job contributes (e.g. pairs); whether two jobs can share a call; and
   * the merged run, which must leave each job's own result in its data. */
  size_t (*batch_units)(const sg_job *job);
  int (*batchable)(const sg_job *a, const sg_job *b);
  sg_status (*run_batch)(sg_job *const *jobs, size_t n, sg_exec *x, sg_err *err);
} sg_job_ops;

typedef struct sg_job_spec {
  const sg_job_ops *ops;
  void *data; /* the kind's state; owned by the job from submit on */
  sg_job_class cls;
  int priority;        /* SG_PRIORITY_MIN..MAX, default 0 */
  int64_t deadline_us; /* monotonic (sg_mono_us); 0 or INT64_MAX = none */
  /* The run-time estimate (Job.estimated_s, ServerInfo's queued seconds, the logs): `cost` in
   * seconds when the kind knows it (a sleep, a route's time limit), and/or `work` (the job's size
   * in its kind's units: multiply-adds, points x orders) over the kind's measured rate; with both,
   * cost is a bound (a route with a time limit and an iteration limit) and the lower one counts. */
  double cost;
  double work;
  const atomic_int *cancel_src; /* e.g. sg_call_cancel_flag(call); must outlive the job's run */
  /* Called once when the job reaches a final state (on a worker thread, or in sg_sched_submit's
   * caller for a job refused at admission... never: refused jobs are not created). */
  void (*on_done)(sg_job *job, void *arg);
  /* Called after every step that changed progress (on the worker thread). */
  void (*on_progress)(sg_job *job, void *arg);
  void *arg;
} sg_job_spec;

typedef struct sg_sched_config {
  sg_backend *backend;  /* primary: cuda or cpu */
  sg_backend *fallback; /* cpu backend for device OOM retries, or NULL */
  int workers;          /* one exec each: CUDA streams, or CPU workers */
  int cpu_threads;      /* OpenMP threads per CPU worker (0 = cores / workers, at least 1) */
  size_t queue_limit[SG_JOB_CLASSES];
  int64_t batch_window_us; /* 0 = do not wait for more batchable jobs */
  size_t max_batch;        /* most units in one merged call; 0 = batching off */
  double aging_s;          /* a batch job waits at most about this long while interactive work keeps
                            * arriving (the interactive class boost); default 5 */
  int batch_nice;          /* nice value of the threads running batch steps (1..19), 0 = as the
                            * worker's own */
} sg_sched_config;

/* Starts the workers (each creates its exec; a failure is returned with the reason). */
sg_sched *sg_sched_create(const sg_sched_config *cfg, sg_err *err);
/* Stops taking jobs, cancels queued and running ones, joins the workers. */
void sg_sched_stop(sg_sched *s);
void sg_sched_destroy(sg_sched *s);

/* Queues a job. On success *out is a reference the caller must drop with sg_job_unref (pass
 * out = NULL to keep none). SG_RESOURCE_EXHAUSTED when the class's queue is full,
 * SG_UNAVAILABLE once stopping; on failure the spec's data is freed with ops->cleanup and
 * on_done is not called. */
sg_status sg_sched_submit(sg_sched *s, const sg_job_spec *spec, sg_job **out, sg_err *err);

/* Jobs waiting now, per class, and the sum of their run-time estimates in seconds (jobs without
 * one count 0). */
size_t sg_sched_queued(sg_sched *s, sg_job_class cls);
double sg_sched_queued_estimate(sg_sched *s, sg_job_class cls);
/* The run-time estimate in seconds that submitting spec would give its job now (0 = none). */
double sg_sched_estimate(sg_sched *s, const sg_job_spec *spec);
/* Jobs of a class that reached a final state after they started or were refused at start. */
uint64_t sg_sched_done(sg_sched *s, sg_job_class cls);
/* Merged batch calls run and jobs they carried (for tests and metrics). */
void sg_sched_batch_counts(sg_sched *s, uint64_t *calls, uint64_t *jobs);

void sg_job_ref(sg_job *j);
void sg_job_unref(sg_job *j);
/* Asks the job to stop: queued → CANCELLED at once; running → at the next step boundary. */
void sg_job_cancel(sg_job *j);
sg_job_state sg_job_state_of(sg_job *j);
sg_job_class sg_job_class_of(const sg_job *j);
/* A job's run-time estimate in seconds, fixed at submit; 0 = unknown. Rates are learned from
 * finished jobs: a kind's seconds per work unit is a moving average over its jobs that
 * succeeded on the primary backend, timed over their steps only (the time a batch job waited
 * between steps is left out; a merged call's time is shared by units). */
double sg_job_estimate(const sg_job *j);
const char *sg_job_kind(const sg_job *j);
void *sg_job_data(const sg_job *j);
/* The error a failed or cancelled job ended with (code SG_OK otherwise). */
sg_err sg_job_error(sg_job *j);
sg_job_progress sg_job_get_progress(sg_job *j);
void sg_job_set_progress(sg_job *j, const sg_job_progress *p);
/* The work the job did, when it was not the spec's (a route its time limit cut short), so that
 * the kind's rate learns from what ran; called from a step (the worker thread). */
void sg_job_set_work(sg_job *j, double work);
/* 1 once cancellation was asked (by sg_job_cancel or the cancel source). */
int sg_job_cancelled(const sg_job *j);
/* Monotonic microseconds: queued, started (0 if never), finished (0 if not yet). */
void sg_job_times(sg_job *j, int64_t *queued_us, int64_t *started_us, int64_t *finished_us);
/* Blocks until the job is final (for tests and synchronous callers). */
void sg_job_wait(sg_job *j);

const char *sg_job_state_name(sg_job_state st); /* "queued" ... "cancelled" */

#endif
