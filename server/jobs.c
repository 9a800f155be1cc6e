/* The job registry: submitted jobs by id (newest first), their Watch streams, and their files.
 * Lock order: the registry mutex, then a call's (push/reply). An entry's sg_job reference is
 * dropped when the job ends (on_done); entries leave the list only when final (TTL, close), so
 * scheduler callbacks never see a freed entry. */
#include "jobs.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "models.h"
#include "pb.h"
#include "server.h"
#include "util.h"

#define ID_LEN SG_JOB_ID_LEN
#define LABEL_MAX 256
#define LIST_DEFAULT 100
#define LIST_MAX 10000
#define JOB_FILE_MAX ((size_t)1 << 31)
#define SWEEP_EVERY_MS 200 /* expired jobs go within this of their TTL */

typedef struct watcher {
  struct watcher *next;
  sg_call *call;
} watcher;

typedef struct entry {
  struct entry *next;
  char id[ID_LEN + 1];
  const sg_submit_kind *kind;
  char label[LABEL_MAX + 1];
  int priority;
  double estimated_s; /* the scheduler's, once queued */
  int64_t created_ms, started_ms, finished_ms;
  Shopgpu__V1__JobState state;
  sg_job_progress progress;
  int error_code;
  char error_msg[SG_ERR_MSG_MAX];
  sg_job *job; /* while not final */
  watcher *watchers;
  int has_result;
  int doomed; /* picked for deletion by trim_locked */
  int pins;   /* handlers using the entry between two critical sections: not deleted meanwhile */
} entry;

struct sg_jobs {
  sg_server *srv;
  char dir[SG_PATH_MAX + 8];
  int64_t ttl_ms;   /* 0 = keep forever */
  size_t max_jobs;  /* jobs kept at most: the oldest finished ones make room */
  size_t reserved;  /* places taken by Submits still writing their files */
  int64_t swept_ms; /* the last sweep (unix ms) */
  pthread_mutex_t mu;
  entry *head;
  size_t count;
  int closed;
};

static int64_t unix_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A monotonic time of the scheduler as unix milliseconds, never later than the wall clock's
 * (truncated) milliseconds at that moment: the wall clock is read first and the elapsed time
 * rounded up, so a model a job stored (stamped from the wall clock while it ran) is never
 * stamped before the job's start (stored_model relies on it). */
static int64_t mono_to_unix_ms(int64_t mono_us) {
  if (!mono_us) return 0;
  int64_t wall = unix_ms();
  int64_t elapsed_us = sg_mono_us() - mono_us;
  /* rounded up, with 1 us more for the truncation of the two monotonic readings */
  return wall - (elapsed_us >= 0 ? (elapsed_us + 1000) / 1000 : 0);
}

/* The times a job reports keep their order (created <= started <= finished) although the
 * conversion above may put a moment up to 2 ms early. */
static int64_t later(int64_t t, int64_t floor_ms) { return t && t < floor_ms ? floor_ms : t; }

static int final_state(Shopgpu__V1__JobState st) {
  return st == SHOPGPU__V1__JOB_STATE__JOB_STATE_SUCCEEDED ||
         st == SHOPGPU__V1__JOB_STATE__JOB_STATE_FAILED ||
         st == SHOPGPU__V1__JOB_STATE__JOB_STATE_CANCELLED;
}

static Shopgpu__V1__JobState proto_state(sg_job_state st) {
  static const Shopgpu__V1__JobState map[] = {
      SHOPGPU__V1__JOB_STATE__JOB_STATE_QUEUED, SHOPGPU__V1__JOB_STATE__JOB_STATE_RUNNING,
      SHOPGPU__V1__JOB_STATE__JOB_STATE_SUCCEEDED, SHOPGPU__V1__JOB_STATE__JOB_STATE_FAILED,
      SHOPGPU__V1__JOB_STATE__JOB_STATE_CANCELLED};
  return map[st];
}

/* ---- entry <-> Job message ---- */

/* out and prog are filled with pointers into e (copy e first if it may change). */
static void to_proto(const entry *e, Shopgpu__V1__Job *out, Shopgpu__V1__JobProgress *prog) {
  shopgpu__v1__job__init(out);
  shopgpu__v1__job_progress__init(prog);
  out->id = sg_pb_str(e->id);
  out->kind = sg_pb_str(e->kind->kind);
  out->state = e->state;
  prog->done = e->progress.done;
  prog->total = e->progress.total;
  prog->has_best = e->progress.has_best != 0;
  prog->best = e->progress.best;
  prog->unit = sg_pb_str(e->kind->unit);
  out->progress = prog;
  out->error_code = e->error_code;
  out->error_message = sg_pb_str(e->error_msg);
  out->created_at_unix_ms = e->created_ms;
  out->started_at_unix_ms = e->started_ms;
  out->finished_at_unix_ms = e->finished_ms;
  out->priority = e->priority;
  out->label = sg_pb_str(e->label);
  out->estimated_s = e->estimated_s;
}

static const sg_submit_kind *kind_named(const char *name) {
  for (int i = 0; i < sg_submit_kind_count; i++)
    if (strcmp(sg_submit_kinds[i].kind, name) == 0) return &sg_submit_kinds[i];
  return NULL;
}

static void path_of(const sg_jobs *jobs, const char *id, const char *file, char *buf, size_t cap) {
  snprintf(buf, cap, "%s/%s%s%s", jobs->dir, id, file ? "/" : "", file ? file : "");
}

static sg_status write_message(const sg_jobs *jobs, const char *id, const char *file,
                               const ProtobufCMessage *m, sg_err *err) {
  size_t n = protobuf_c_message_get_packed_size(m);
  uint8_t *buf = malloc(n ? n : 1);
  if (!buf) return sg_err_set(err, SG_OUT_OF_MEMORY, "job %s: out of memory", id);
  protobuf_c_message_pack(m, buf);
  char path[SG_PATH_MAX + 64];
  path_of(jobs, id, file, path, sizeof path);
  sg_status st = sg_write_file_atomic(path, buf, n, err);
  free(buf);
  return st;
}

/* Writes job.pb from e's metadata (and result, when given). */
static sg_status persist(const sg_jobs *jobs, const entry *e, Shopgpu__V1__Job *with_result,
                         sg_err *err) {
  Shopgpu__V1__Job job;
  Shopgpu__V1__JobProgress prog;
  to_proto(e, &job, &prog);
  if (with_result) { /* the oneof's members are message pointers sharing one union */
    job.result_case = with_result->result_case;
    job.sleep = with_result->sleep; /* any member: they alias */
  }
  return write_message(jobs, e->id, "job.pb", &job.base, err);
}

/* Removes the job's directory with every file in it: job.pb, request.pb and whatever its kind
 * stored there (recommend-all's lists), temp files of an interrupted write too. */
static void remove_files(const sg_jobs *jobs, const char *id) {
  char dir[SG_PATH_MAX + 64], path[SG_PATH_MAX + 128];
  path_of(jobs, id, NULL, dir, sizeof dir);
  DIR *d = opendir(dir);
  if (!d) {
    if (errno != ENOENT) SG_WARN("jobs", "cannot open %s: %s", dir, strerror(errno));
    return;
  }
  for (struct dirent *de; (de = readdir(d));) {
    if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
    snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
    if (unlink(path) != 0 && errno != ENOENT)
      SG_WARN("jobs", "cannot remove %s: %s", path, strerror(errno));
  }
  closedir(d);
  if (rmdir(dir) != 0 && errno != ENOENT)
    SG_WARN("jobs", "cannot remove %s: %s", dir, strerror(errno));
}

/* ---- watchers ---- */

static void push_all(entry *e) {
  Shopgpu__V1__Job job;
  Shopgpu__V1__JobProgress prog;
  to_proto(e, &job, &prog);
  for (watcher *w = e->watchers; w; w = w->next)
    sg_call_push(w->call, &job.base, NULL);
}

/* Ends every watcher of e (the final state was pushed before). Registry mutex held. */
static void end_watchers(entry *e, const sg_err *err) {
  for (watcher *w = e->watchers, *next; w; w = next) {
    next = w->next;
    sg_call_on_done(w->call, NULL, NULL);
    sg_call_reply(w->call, NULL, err);
    sg_call_unref(w->call);
    free(w);
  }
  e->watchers = NULL;
}

/* By id, not by entry: once the job ended its watchers are ended with it, and the entry may be
 * deleted (TTL, --max-jobs) before the call's on_done runs. */
typedef struct watch_ref {
  sg_jobs *jobs;
  char id[ID_LEN + 1];
} watch_ref;

static entry *find(sg_jobs *jobs, const char *id, sg_err *err);

static void on_watch_done(sg_call *call, void *arg) {
  watch_ref *ref = arg;
  sg_jobs *jobs = ref->jobs;
  pthread_mutex_lock(&jobs->mu);
  entry *en = find(jobs, ref->id, NULL);
  for (watcher **pp = en ? &en->watchers : NULL; pp && *pp; pp = &(*pp)->next) {
    if ((*pp)->call != call) continue;
    watcher *w = *pp;
    *pp = w->next;
    sg_err e = {0};
    sg_err_set(&e, SG_CANCELLED, "watch ended");
    sg_call_reply(call, NULL, &e);
    sg_call_unref(call);
    free(w);
    break;
  }
  pthread_mutex_unlock(&jobs->mu);
}

/* ---- scheduler callbacks ---- */

typedef struct job_arg {
  sg_jobs *jobs;
  entry *e;
} job_arg;

static void on_job_progress(sg_job *job, void *arg) {
  job_arg *a = arg;
  pthread_mutex_lock(&a->jobs->mu);
  a->e->progress = sg_job_get_progress(job);
  int started_now = a->e->state == SHOPGPU__V1__JOB_STATE__JOB_STATE_QUEUED;
  if (started_now) {
    a->e->state = SHOPGPU__V1__JOB_STATE__JOB_STATE_RUNNING;
    int64_t started;
    sg_job_times(job, NULL, &started, NULL);
    a->e->started_ms = later(mono_to_unix_ms(started), a->e->created_ms);
  }
  push_all(a->e);
  entry copy = *a->e;
  pthread_mutex_unlock(&a->jobs->mu);
  sg_err err = {0}; /* on disk too, so a crash later is reported as "while running" */
  if (started_now && persist(a->jobs, &copy, NULL, &err) != SG_OK)
    SG_WARN("jobs", "job %s: %s", copy.id, sg_err_message(&err));
}

/* The final state is written to disk (with the result) before readers can see it, so a Get
 * that sees SUCCEEDED finds the result too. */
static void on_job_done(sg_job *job, void *arg) {
  job_arg *a = arg;
  sg_jobs *jobs = a->jobs;
  entry *e = a->e;
  free(a);
  pthread_mutex_lock(&jobs->mu);
  entry copy = *e;
  pthread_mutex_unlock(&jobs->mu);
  copy.state = proto_state(sg_job_state_of(job));
  copy.progress = sg_job_get_progress(job);
  int64_t started, finished;
  sg_job_times(job, NULL, &started, &finished);
  if (!copy.started_ms) copy.started_ms = later(mono_to_unix_ms(started), copy.created_ms);
  copy.finished_ms =
      later(mono_to_unix_ms(finished), copy.started_ms ? copy.started_ms : copy.created_ms);
  sg_err err = sg_job_error(job);
  copy.error_code = err.code == SG_OK ? 0 : sg_status_grpc_code(err.code);
  snprintf(copy.error_msg, sizeof copy.error_msg, "%s",
           err.code == SG_OK ? "" : sg_err_message(&err));
  sg_utf8_sanitize(copy.error_msg); /* a protobuf string: it may quote input or be cut short */

  Shopgpu__V1__Job result;
  shopgpu__v1__job__init(&result);
  int with_result = copy.state == SHOPGPU__V1__JOB_STATE__JOB_STATE_SUCCEEDED;
  if (with_result) copy.kind->result(job, &result);
  sg_err perr = {0};
  if (persist(jobs, &copy, with_result ? &result : NULL, &perr) != SG_OK) {
    SG_ERROR("jobs", "job %s: %s not saved: %s", copy.id, with_result ? "result" : "final state",
             sg_err_message(&perr));
    if (with_result) { /* never "succeeded" without the result on disk: failed, saying why */
      copy.state = SHOPGPU__V1__JOB_STATE__JOB_STATE_FAILED;
      copy.error_code = sg_status_grpc_code(perr.code);
      snprintf(copy.error_msg, sizeof copy.error_msg, "result not saved: %s",
               sg_err_message(&perr));
      sg_utf8_sanitize(copy.error_msg);
      sg_err again = {0}; /* the small job.pb without the result may still fit */
      if (persist(jobs, &copy, NULL, &again) != SG_OK)
        SG_ERROR("jobs", "job %s: final state not saved either: %s", copy.id,
                 sg_err_message(&again));
    }
  }
  if (with_result) copy.kind->free_result(&result);

  pthread_mutex_lock(&jobs->mu);
  e->state = copy.state;
  e->progress = copy.progress;
  e->started_ms = copy.started_ms;
  e->finished_ms = copy.finished_ms;
  e->error_code = copy.error_code;
  memcpy(e->error_msg, copy.error_msg, sizeof e->error_msg);
  e->has_result = copy.state == SHOPGPU__V1__JOB_STATE__JOB_STATE_SUCCEEDED;
  sg_job *held = e->job;
  e->job = NULL;
  push_all(e);
  end_watchers(e, NULL);
  pthread_mutex_unlock(&jobs->mu);
  char took[64] = "";
  if (copy.state == SHOPGPU__V1__JOB_STATE__JOB_STATE_SUCCEEDED)
    snprintf(took, sizeof took, " in %.3g s (estimate %.3g s)", (double)(finished - started) * 1e-6,
             copy.estimated_s);
  SG_INFO("jobs", "job %s (%s) %s%s%s%s", copy.id, copy.kind->kind,
          copy.state == proto_state(sg_job_state_of(job)) ? sg_job_state_name(sg_job_state_of(job))
                                                          : "failed",
          took, copy.error_msg[0] ? ": " : "", copy.error_msg);
  if (held) sg_job_unref(held);
}

/* ---- lookups ---- */

/* field: the request's name for it ("id", "job_id"), for the message */
static sg_status check_id_named(const char *id, const char *field, sg_err *err) {
  size_t n = strlen(id);
  int ok = n == ID_LEN;
  for (size_t i = 0; ok && i < n; i++)
    ok = (id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f');
  return ok ? SG_OK
            : sg_err_set(err, SG_INVALID_ARGUMENT, "%s: \"%.40s\" is not a job id", field, id);
}

static sg_status check_id(const char *id, sg_err *err) { return check_id_named(id, "id", err); }

/* The entry for id (registry mutex held), or NULL with NOT_FOUND. */
static entry *find_named(sg_jobs *jobs, const char *id, const char *field, sg_err *err) {
  if (check_id_named(id, field, err) != SG_OK) return NULL;
  for (entry *e = jobs->head; e; e = e->next)
    if (strcmp(e->id, id) == 0) return e;
  sg_err_set(err, SG_NOT_FOUND, "%s: no job %s (unknown, or deleted: --job-ttl, --max-jobs)", field,
             id);
  return NULL;
}

static entry *find(sg_jobs *jobs, const char *id, sg_err *err) {
  return find_named(jobs, id, "id", err);
}

static void reply_entry(sg_call *call, const entry *copy) {
  Shopgpu__V1__Job job;
  Shopgpu__V1__JobProgress prog;
  to_proto(copy, &job, &prog);
  sg_call_reply(call, &job.base, NULL);
}

/* ---- TTL ---- */

/* Deletes the files of entries taken off the list (chained by next) and frees them, with mu
 * not held: a large output takes a while to unlink, and Get, List and Submit need not wait. */
static void bury(sg_jobs *jobs, entry *dead) {
  while (dead) {
    entry *next = dead->next;
    remove_files(jobs, dead->id);
    free(dead);
    dead = next;
  }
}

void sg_jobs_sweep(sg_jobs *jobs) {
  if (jobs->ttl_ms <= 0) return;
  int64_t now = unix_ms(), cutoff = now - jobs->ttl_ms;
  entry *dead = NULL;
  pthread_mutex_lock(&jobs->mu);
  if (now - jobs->swept_ms < SWEEP_EVERY_MS) { /* a busy Get poller need not walk the list */
    pthread_mutex_unlock(&jobs->mu);
    return;
  }
  jobs->swept_ms = now;
  for (entry **pp = &jobs->head; *pp;) {
    entry *e = *pp;
    if (final_state(e->state) && !e->watchers && !e->pins && e->finished_ms < cutoff) {
      *pp = e->next;
      jobs->count--;
      e->next = dead;
      dead = e;
    } else {
      pp = &e->next;
    }
  }
  pthread_mutex_unlock(&jobs->mu);
  bury(jobs, dead);
}

static int by_finished(const void *a, const void *b) {
  int64_t x = (*(entry *const *)a)->finished_ms, y = (*(entry *const *)b)->finished_ms;
  return (x > y) - (x < y);
}

/* Takes the oldest finished jobs no one watches off the list until at most `keep` jobs are left
 * (mu held), chaining them onto *dead for bury() once mu is released; 0 when that many could not
 * go (the rest are queued, running or watched). */
static int trim_locked(sg_jobs *jobs, size_t keep, entry **dead) {
  if (jobs->count <= keep) return 1;
  size_t n = 0, want = jobs->count - keep;
  entry **done = malloc(jobs->count * sizeof *done);
  if (!done) return 0;
  for (entry *e = jobs->head; e; e = e->next)
    if (final_state(e->state) && !e->watchers && !e->pins) done[n++] = e;
  qsort(done, n, sizeof *done, by_finished);
  for (size_t i = 0; i < n && i < want; i++)
    done[i]->doomed = 1;
  for (entry **pp = &jobs->head; *pp;) {
    entry *e = *pp;
    if (e->doomed) {
      *pp = e->next;
      jobs->count--;
      e->next = *dead;
      *dead = e;
    } else {
      pp = &e->next;
    }
  }
  free(done);
  return jobs->count <= keep;
}

/* ---- handlers ---- */

static sg_status new_id(char *id, sg_err *err) {
  unsigned char raw[ID_LEN / 2];
  if (getrandom(raw, sizeof raw, 0) != (ssize_t)sizeof raw)
    return sg_err_set(err, SG_INTERNAL, "jobs: no randomness for an id: %s", strerror(errno));
  for (size_t i = 0; i < sizeof raw; i++)
    sprintf(id + 2 * i, "%02x", raw[i]);
  return SG_OK;
}

/* The request's own priority (0 when its kind has none): the job's priority when the
 * SubmitJobRequest sets none. */
static int inner_priority(const Shopgpu__V1__SubmitJobRequest *req, const char **field) {
  switch (req->request_case) {
  case SHOPGPU__V1__SUBMIT_JOB_REQUEST__REQUEST_TRAIN_MODEL:
    *field = "train_model.priority";
    return req->train_model ? req->train_model->priority : 0;
  case SHOPGPU__V1__SUBMIT_JOB_REQUEST__REQUEST_RECOMMEND_ALL:
    *field = "recommend_all.priority";
    return req->recommend_all ? req->recommend_all->priority : 0;
  case SHOPGPU__V1__SUBMIT_JOB_REQUEST__REQUEST_FORECAST:
    *field = "forecast.priority";
    return req->forecast ? req->forecast->priority : 0;
  case SHOPGPU__V1__SUBMIT_JOB_REQUEST__REQUEST_SOLVE_ROUTES:
    *field = "solve_routes.priority";
    return req->solve_routes ? req->solve_routes->priority : 0;
  default: *field = ""; return 0;
  }
}

/* The job's priority: the SubmitJobRequest's, else its request's; two different ones are an
 * error (neither would be what the caller meant). */
static sg_status job_priority(const Shopgpu__V1__SubmitJobRequest *req, int *out, sg_err *err) {
  const char *field;
  int inner = inner_priority(req, &field);
  SG_TRY(sg_priority_check(req->priority, err));
  if (inner < SG_PRIORITY_MIN || inner > SG_PRIORITY_MAX)
    return sg_err_set(err, SG_INVALID_ARGUMENT, "%s: %d is outside %d..%d", field, inner,
                      SG_PRIORITY_MIN, SG_PRIORITY_MAX);
  if (req->priority && inner && req->priority != inner)
    return sg_err_set(err, SG_INVALID_ARGUMENT, "priority: %d, but %s is %d", req->priority, field,
                      inner);
  *out = req->priority ? req->priority : inner;
  return SG_OK;
}

static sg_status validate_submit(const Shopgpu__V1__SubmitJobRequest *req,
                                 const sg_submit_kind **kind, sg_err *err) {
  int priority;
  SG_TRY(job_priority(req, &priority, err));
  if (strlen(req->label) > LABEL_MAX)
    return sg_err_set(err, SG_INVALID_ARGUMENT, "label: longer than %d bytes", LABEL_MAX);
  SG_TRY(sg_utf8_check(req->label, "label", err)); /* echoed by Get and List to every client */
  for (int i = 0; i < sg_submit_kind_count; i++) {
    if (sg_submit_kinds[i].request == req->request_case) {
      *kind = &sg_submit_kinds[i];
      return SG_OK;
    }
  }
  return sg_err_set(err, SG_INVALID_ARGUMENT, "request: no job request is set");
}

/* Registers e, writes its files and queues its job; on failure nothing is left behind. */
static sg_status start_entry(sg_jobs *jobs, entry *e, const Shopgpu__V1__SubmitJobRequest *req,
                             sg_job_spec *spec, sg_err *err) {
  job_arg *a = malloc(sizeof *a);
  /* a place under --max-jobs before anything is written (the oldest finished jobs go to make
   * it), so neither the jobs kept nor their directories pass the cap, concurrent Submits too */
  entry *dead = NULL;
  pthread_mutex_lock(&jobs->mu);
  int room = a && jobs->reserved < jobs->max_jobs &&
             trim_locked(jobs, jobs->max_jobs - 1 - jobs->reserved, &dead);
  size_t held = jobs->count + jobs->reserved;
  if (room) jobs->reserved++;
  pthread_mutex_unlock(&jobs->mu);
  bury(jobs, dead); /* before this job's directory is made: never more than --max-jobs */
  if (!room) {
    if (spec->ops->cleanup) spec->ops->cleanup(spec->data);
    free(a);
    if (!a) return sg_err_set(err, SG_OUT_OF_MEMORY, "jobs: out of memory");
    return sg_err_set(err, SG_RESOURCE_EXHAUSTED,
                      "jobs: %zu jobs kept and none finished to make room (--max-jobs %zu)", held,
                      jobs->max_jobs);
  }
  char dir[SG_PATH_MAX + 64];
  path_of(jobs, e->id, NULL, dir, sizeof dir);
  sg_status st = sg_mkdir_p(dir, err);
  if (st == SG_OK && e->kind->bind) st = e->kind->bind(spec->data, dir, err);
  spec->cost = e->estimated_s = sg_sched_estimate(jobs->srv->sched, spec); /* in job.pb too */
  if (st == SG_OK) st = write_message(jobs, e->id, "request.pb", &req->base, err);
  if (st == SG_OK) st = persist(jobs, e, NULL, err);
  pthread_mutex_lock(&jobs->mu);
  jobs->reserved--;
  if (st == SG_OK) { /* pinned until start() has copied it */
    e->pins = 1;
    e->next = jobs->head;
    jobs->head = e;
    jobs->count++;
  }
  pthread_mutex_unlock(&jobs->mu);
  if (st != SG_OK) {
    if (spec->ops->cleanup) spec->ops->cleanup(spec->data);
    remove_files(jobs, e->id);
    free(a);
    return st;
  }
  *a = (job_arg){jobs, e};
  job_priority(req, &spec->priority, NULL); /* checked by validate_submit */
  spec->on_done = on_job_done;
  spec->on_progress = on_job_progress;
  spec->arg = a;
  sg_job *job = NULL;
  st = sg_sched_submit(jobs->srv->sched, spec, &job, err);
  pthread_mutex_lock(&jobs->mu);
  if (st != SG_OK) {
    for (entry **pp = &jobs->head; *pp; pp = &(*pp)->next)
      if (*pp == e) {
        *pp = e->next;
        jobs->count--;
        break;
      }
    /* List showed it meanwhile: a Watch may have attached (ended here, with the submit's
     * error) and a Get or Cancel may hold a pin (its critical sections are short: wait them
     * out) before the caller frees it */
    end_watchers(e, err);
    while (e->pins > 1) {
      pthread_mutex_unlock(&jobs->mu);
      struct timespec ms = {0, 1000000};
      nanosleep(&ms, NULL);
      pthread_mutex_lock(&jobs->mu);
    }
  } else if (!final_state(e->state)) {
    e->job = job; /* on_done drops it */
    job = NULL;
  }
  pthread_mutex_unlock(&jobs->mu);
  if (job) sg_job_unref(job); /* it already finished */
  if (st != SG_OK) {
    free(a);
    remove_files(jobs, e->id);
  }
  return st;
}

/* Validates and queues req; *copy gets the entry as queued. */
static sg_status start(sg_jobs *jobs, const Shopgpu__V1__SubmitJobRequest *req, entry *copy,
                       sg_err *err) {
  const sg_submit_kind *kind = NULL;
  sg_jobs_sweep(jobs);
  entry *e = calloc(1, sizeof *e);
  sg_job_spec spec = {0};
  if (!e) return sg_err_set(err, SG_OUT_OF_MEMORY, "jobs: out of memory");
  sg_status st = validate_submit(req, &kind, err);
  if (st == SG_OK) st = kind->prepare(jobs->srv, req, &spec, err);
  if (st == SG_OK && (st = new_id(e->id, err)) != SG_OK && spec.ops->cleanup)
    spec.ops->cleanup(spec.data);
  if (st != SG_OK) {
    free(e);
    return st;
  }
  e->kind = kind;
  snprintf(e->label, sizeof e->label, "%s", req->label);
  job_priority(req, &e->priority, NULL);
  e->created_ms = unix_ms();
  e->state = SHOPGPU__V1__JOB_STATE__JOB_STATE_QUEUED;
  if ((st = start_entry(jobs, e, req, &spec, err)) != SG_OK) {
    free(e);
    return st;
  }
  pthread_mutex_lock(&jobs->mu);
  *copy = *e;
  e->pins--; /* start_entry's */
  pthread_mutex_unlock(&jobs->mu);
  if (copy->estimated_s > 0)
    SG_INFO("jobs", "job %s (%s) queued, estimate %.3g s", copy->id, kind->kind, copy->estimated_s);
  else
    SG_INFO("jobs", "job %s (%s) queued", copy->id, kind->kind);
  return SG_OK;
}

void sg_jobs_submit(sg_jobs *jobs, sg_call *call, const Shopgpu__V1__SubmitJobRequest *req) {
  sg_err err = {0};
  entry copy;
  if (start(jobs, req, &copy, &err) == SG_OK)
    reply_entry(call, &copy);
  else
    sg_call_reply(call, NULL, &err);
}

sg_status sg_jobs_start(sg_jobs *jobs, const Shopgpu__V1__SubmitJobRequest *req,
                        char id[SG_JOB_ID_LEN + 1], sg_err *err) {
  entry copy;
  SG_TRY(start(jobs, req, &copy, err));
  memcpy(id, copy.id, SG_JOB_ID_LEN + 1);
  return SG_OK;
}

sg_status sg_jobs_result_dir(sg_jobs *jobs, const char *id, const char *kind, char *dir, size_t cap,
                             sg_err *err) {
  pthread_mutex_lock(&jobs->mu);
  entry *e = find_named(jobs, id, "job_id", err);
  entry copy;
  if (e) copy = *e;
  pthread_mutex_unlock(&jobs->mu);
  if (!e) return err->code;
  if (strcmp(copy.kind->kind, kind) != 0)
    return sg_err_set(err, SG_INVALID_ARGUMENT, "job_id: job %s is a %s job, not %s", id,
                      copy.kind->kind, kind);
  if (copy.state != SHOPGPU__V1__JOB_STATE__JOB_STATE_SUCCEEDED)
    return sg_err_set(err, SG_FAILED_PRECONDITION, "job_id: job %s has not succeeded", id);
  path_of(jobs, id, NULL, dir, cap);
  return SG_OK;
}

void sg_jobs_get(sg_jobs *jobs, sg_call *call, const Shopgpu__V1__GetJobRequest *req) {
  sg_err err = {0};
  sg_jobs_sweep(jobs);
  pthread_mutex_lock(&jobs->mu);
  entry *e = find(jobs, req->id, &err);
  entry copy;
  if (e) copy = *e;
  int read_result = e && req->include_result && copy.has_result;
  if (read_result) e->pins++; /* its files stay while they are read (TTL, --max-jobs) */
  pthread_mutex_unlock(&jobs->mu);
  if (!e) {
    sg_call_reply(call, NULL, &err);
    return;
  }
  if (!read_result) {
    reply_entry(call, &copy);
    return;
  }
  char path[SG_PATH_MAX + 64], *buf;
  size_t len;
  path_of(jobs, copy.id, "job.pb", path, sizeof path);
  ProtobufCMessage *m = NULL;
  if (sg_read_file(path, JOB_FILE_MAX, &buf, &len, &err) == SG_OK) {
    m = protobuf_c_message_unpack(&shopgpu__v1__job__descriptor, NULL, len, (uint8_t *)buf);
    free(buf);
    if (!m) sg_err_set(&err, SG_DATA_LOSS, "job %s: stored result is unreadable", copy.id);
  }
  pthread_mutex_lock(&jobs->mu);
  e->pins--;
  pthread_mutex_unlock(&jobs->mu);
  sg_call_reply(call, m, &err);
  if (m) protobuf_c_message_free_unpacked(m, NULL);
}

void sg_jobs_cancel(sg_jobs *jobs, sg_call *call, const Shopgpu__V1__GetJobRequest *req) {
  sg_err err = {0};
  sg_jobs_sweep(jobs);
  pthread_mutex_lock(&jobs->mu);
  entry *e = find(jobs, req->id, &err);
  sg_job *job = e ? e->job : NULL;
  if (job) sg_job_ref(job);
  if (e) e->pins++; /* a queued job ends inside sg_job_cancel: a Submit must not delete it then */
  pthread_mutex_unlock(&jobs->mu);
  if (!e) {
    sg_call_reply(call, NULL, &err);
    return;
  }
  int running = 0;
  if (job) {
    sg_job_cancel(job); /* a queued job ends here (on_done runs now) */
    running = sg_job_state_of(job) == SG_JOB_RUNNING;
    sg_job_unref(job);
  }
  pthread_mutex_lock(&jobs->mu);
  entry copy = *e;
  e->pins--;
  pthread_mutex_unlock(&jobs->mu);
  /* started, but its first step has not ended yet (the entry learns of it then) */
  if (running && copy.state == SHOPGPU__V1__JOB_STATE__JOB_STATE_QUEUED)
    copy.state = SHOPGPU__V1__JOB_STATE__JOB_STATE_RUNNING;
  reply_entry(call, &copy);
}

void sg_jobs_list(sg_jobs *jobs, sg_call *call, const Shopgpu__V1__ListJobsRequest *req) {
  sg_err err = {0};
  sg_jobs_sweep(jobs);
  size_t limit = req->limit ? req->limit : LIST_DEFAULT;
  if (limit > LIST_MAX)
    sg_err_set(&err, SG_INVALID_ARGUMENT, "limit: %u > %d", req->limit, LIST_MAX);
  else if ((int)req->state < 0 || req->state > SHOPGPU__V1__JOB_STATE__JOB_STATE_CANCELLED)
    sg_err_set(&err, SG_INVALID_ARGUMENT, "state: %d is not a JobState", (int)req->state);
  else if (req->kind[0] && !kind_named(req->kind)) {
    char known[160] = "";
    for (int i = 0; i < sg_submit_kind_count; i++)
      snprintf(known + strlen(known), sizeof known - strlen(known), "%s%s", i ? ", " : "",
               sg_submit_kinds[i].kind);
    sg_err_set(&err, SG_INVALID_ARGUMENT, "kind: \"%.40s\" is not a job kind (%s)", req->kind,
               known);
  }
  if (err.code != SG_OK) {
    sg_call_reply(call, NULL, &err);
    return;
  }
  Shopgpu__V1__ListJobsResponse resp = SHOPGPU__V1__LIST_JOBS_RESPONSE__INIT;
  pthread_mutex_lock(&jobs->mu);
  size_t cap = jobs->count < limit ? jobs->count : limit;
  entry *copies = sg_call_alloc(call, cap * sizeof *copies + 1);
  Shopgpu__V1__Job *msgs = sg_call_alloc(call, cap * sizeof *msgs + 1);
  Shopgpu__V1__JobProgress *progs = sg_call_alloc(call, cap * sizeof *progs + 1);
  Shopgpu__V1__Job **ptrs = sg_call_alloc(call, cap * sizeof *ptrs + 1);
  size_t n = 0;
  for (entry *e = jobs->head; e && copies && msgs && progs && ptrs && n < cap; e = e->next) {
    if (req->state && e->state != req->state) continue;
    if (req->kind[0] && strcmp(req->kind, e->kind->kind) != 0) continue;
    copies[n] = *e;
    to_proto(&copies[n], &msgs[n], &progs[n]);
    ptrs[n] = &msgs[n];
    n++;
  }
  pthread_mutex_unlock(&jobs->mu);
  if (cap && !(copies && msgs && progs && ptrs)) {
    sg_err_set(&err, SG_OUT_OF_MEMORY, "jobs: out of memory");
    sg_call_reply(call, NULL, &err);
    return;
  }
  resp.jobs = ptrs;
  resp.n_jobs = n;
  sg_call_reply(call, &resp.base, NULL);
}

void sg_jobs_watch(sg_jobs *jobs, sg_call *call, const Shopgpu__V1__GetJobRequest *req) {
  sg_err err = {0};
  sg_jobs_sweep(jobs);
  watcher *w = calloc(1, sizeof *w);
  watch_ref *ref = sg_call_alloc(call, sizeof *ref);
  pthread_mutex_lock(&jobs->mu);
  entry *e = w && ref ? find(jobs, req->id, &err) : NULL;
  if (!w || !ref) sg_err_set(&err, SG_OUT_OF_MEMORY, "jobs: out of memory");
  if (!e || final_state(e->state) || jobs->closed) {
    entry copy;
    if (e) copy = *e;
    pthread_mutex_unlock(&jobs->mu);
    free(w);
    if (e) { /* already final: the state, then the end */
      Shopgpu__V1__Job job;
      Shopgpu__V1__JobProgress prog;
      to_proto(&copy, &job, &prog);
      sg_call_push(call, &job.base, NULL);
    }
    sg_call_reply(call, NULL, &err);
    return;
  }
  sg_call_ref(call);
  w->call = call;
  w->next = e->watchers;
  e->watchers = w;
  ref->jobs = jobs;
  memcpy(ref->id, e->id, sizeof ref->id);
  Shopgpu__V1__Job job;
  Shopgpu__V1__JobProgress prog;
  to_proto(e, &job, &prog);
  sg_call_push(call, &job.base, NULL);
  sg_call_ref(call); /* if the job ends now, end_watchers drops the call's other references */
  pthread_mutex_unlock(&jobs->mu);
  sg_call_on_done(call, on_watch_done, ref);
  sg_call_unref(call);
}

size_t sg_jobs_count(sg_jobs *jobs) {
  pthread_mutex_lock(&jobs->mu);
  size_t n = jobs->count;
  pthread_mutex_unlock(&jobs->mu);
  return n;
}

/* ---- open and close ---- */

/* A job directory without job.pb (a crash between creating it and the first write, or a
 * deletion cut short) holds nothing a client can reach: removed. 1 when id was one. */
static int orphan(sg_jobs *jobs, const char *id) {
  char path[SG_PATH_MAX + 64];
  sg_err err = {0};
  path_of(jobs, id, "job.pb", path, sizeof path);
  if (check_id(id, &err) != SG_OK || access(path, F_OK) == 0 || errno != ENOENT) return 0;
  SG_WARN("jobs", "%s: a job directory without job.pb; removed", id);
  remove_files(jobs, id);
  return 1;
}

/* Loads DIR/<id>/job.pb into a new entry; marks jobs that never finished as failed. One that
 * cannot be read is logged and ignored (its files stay for a person to look at). */
/* A training the server stopped in may have stored its model already (the last step stores
 * it, then the job's end is written): then *out says which, so that a client does not train it
 * again. The newest trained version of the name, created after the job started, is taken for
 * it. */
static void stored_model(sg_jobs *jobs, const entry *e, char *out, size_t cap) {
  char path[SG_PATH_MAX + 64], *buf;
  size_t len;
  path_of(jobs, e->id, "request.pb", path, sizeof path);
  if (!jobs->srv->models || sg_read_file(path, JOB_FILE_MAX, &buf, &len, NULL) != SG_OK) return;
  Shopgpu__V1__SubmitJobRequest *req = (Shopgpu__V1__SubmitJobRequest *)protobuf_c_message_unpack(
      &shopgpu__v1__submit_job_request__descriptor, NULL, len, (uint8_t *)buf);
  free(buf);
  sg_model *m = NULL;
  if (req && req->request_case == SHOPGPU__V1__SUBMIT_JOB_REQUEST__REQUEST_TRAIN_MODEL &&
      sg_models_get(jobs->srv->models, req->train_model->name, 0, &m, NULL) == SG_OK) {
    if (strcmp(m->source, "trained") == 0 && m->created_ms >= e->started_ms)
      snprintf(out, cap,
               ", after it stored model %s v%u (`model list` shows it: no need to train again)",
               m->name, m->version);
    sg_model_unref(m);
  }
  if (req) protobuf_c_message_free_unpacked(&req->base, NULL);
}

/* When a job the last server left unfinished ended: that server's last heartbeat (to within
 * SG_HEARTBEAT_MS), not after now and not before the job was created or started. */
static int64_t cut_at(const sg_jobs *jobs, const entry *e) {
  int64_t now = unix_ms(), t = jobs->srv->last_alive_unix_ms;
  int64_t lo = e->started_ms > e->created_ms ? e->started_ms : e->created_ms;
  if (t <= 0 || t > now) t = now;
  return t < lo ? lo : t;
}

static entry *load_entry(sg_jobs *jobs, const char *id) {
  char path[SG_PATH_MAX + 64], *buf;
  size_t len;
  sg_err err = {0};
  path_of(jobs, id, "job.pb", path, sizeof path);
  if (check_id(id, &err) != SG_OK) return NULL; /* not a job's name: not ours */
  if (sg_read_file(path, JOB_FILE_MAX, &buf, &len, &err) != SG_OK) {
    SG_WARN("jobs", "%s: %s; ignored", id, sg_err_message(&err));
    return NULL;
  }
  Shopgpu__V1__Job *m = (Shopgpu__V1__Job *)protobuf_c_message_unpack(&shopgpu__v1__job__descriptor,
                                                                      NULL, len, (uint8_t *)buf);
  free(buf);
  const sg_submit_kind *kind = m ? kind_named(m->kind) : NULL;
  entry *e = kind ? calloc(1, sizeof *e) : NULL;
  if (!e) {
    SG_WARN("jobs", "%s: unreadable or of an unknown kind; ignored", path);
    if (m) protobuf_c_message_free_unpacked(&m->base, NULL);
    return NULL;
  }
  snprintf(e->id, sizeof e->id, "%s", id);
  e->kind = kind;
  snprintf(e->label, sizeof e->label, "%s", m->label);
  e->priority = m->priority;
  e->estimated_s = m->estimated_s;
  e->created_ms = m->created_at_unix_ms;
  e->started_ms = m->started_at_unix_ms;
  e->finished_ms = m->finished_at_unix_ms;
  e->state = m->state;
  if (m->progress) {
    e->progress.done = m->progress->done;
    e->progress.total = m->progress->total;
    e->progress.has_best = m->progress->has_best;
    e->progress.best = m->progress->best;
  }
  e->error_code = m->error_code;
  snprintf(e->error_msg, sizeof e->error_msg, "%s", m->error_message);
  sg_utf8_sanitize(e->error_msg);
  e->has_result = m->result_case != SHOPGPU__V1__JOB__RESULT__NOT_SET;
  protobuf_c_message_free_unpacked(&m->base, NULL);
  if (!final_state(e->state)) {
    int ran = e->state == SHOPGPU__V1__JOB_STATE__JOB_STATE_RUNNING;
    char stored[160] = "";
    if (ran && strcmp(kind->kind, "train_model") == 0) stored_model(jobs, e, stored, sizeof stored);
    e->state = SHOPGPU__V1__JOB_STATE__JOB_STATE_FAILED;
    e->error_code = sg_status_grpc_code(SG_UNAVAILABLE);
    snprintf(e->error_msg, sizeof e->error_msg, "%s%s",
             ran ? "server stopped while the job was running"
                 : "server stopped before the job started",
             stored);
    e->finished_ms = cut_at(jobs, e);
    if (persist(jobs, e, NULL, &err) != SG_OK) SG_WARN("jobs", "%s", sg_err_message(&err));
    SG_WARN("jobs", "job %s (%s): %s", e->id, kind->kind, e->error_msg);
  }
  return e;
}

/* Inserts e keeping the list newest first. */
static void insert_sorted(sg_jobs *jobs, entry *e) {
  entry **pp = &jobs->head;
  while (*pp && (*pp)->created_ms > e->created_ms)
    pp = &(*pp)->next;
  e->next = *pp;
  *pp = e;
  jobs->count++;
}

sg_jobs *sg_jobs_open(sg_server *srv, const char *data_dir, double ttl_s, size_t max_jobs,
                      sg_err *err) {
  sg_jobs *jobs = calloc(1, sizeof *jobs);
  if (!jobs) {
    sg_err_set(err, SG_OUT_OF_MEMORY, "jobs: out of memory");
    return NULL;
  }
  jobs->srv = srv;
  jobs->ttl_ms = ttl_s > 0 ? (int64_t)(ttl_s * 1000 + 0.5) : 0;
  jobs->max_jobs = max_jobs ? max_jobs : 1;
  pthread_mutex_init(&jobs->mu, NULL);
  snprintf(jobs->dir, sizeof jobs->dir, "%s/jobs", data_dir);
  DIR *d = sg_mkdir_p(jobs->dir, err) == SG_OK ? opendir(jobs->dir) : NULL;
  if (!d) {
    if (err && err->code == SG_OK) sg_err_set(err, SG_IO, "%s: %s", jobs->dir, strerror(errno));
    sg_jobs_close(jobs);
    return NULL;
  }
  for (struct dirent *de; (de = readdir(d));) {
    if (de->d_name[0] == '.') continue;
    if (orphan(jobs, de->d_name)) continue;
    entry *e = load_entry(jobs, de->d_name);
    if (e) insert_sorted(jobs, e);
  }
  closedir(d);
  sg_jobs_sweep(jobs);
  entry *dead = NULL;
  pthread_mutex_lock(&jobs->mu);
  trim_locked(jobs, jobs->max_jobs, &dead); /* a lower --max-jobs than the last run's */
  pthread_mutex_unlock(&jobs->mu);
  bury(jobs, dead);
  SG_INFO("jobs", "%zu job(s) in %s", jobs->count, jobs->dir);
  return jobs;
}

void sg_jobs_end_watches(sg_jobs *jobs) {
  sg_err gone = {0};
  sg_err_set(&gone, SG_UNAVAILABLE, "server shutting down");
  pthread_mutex_lock(&jobs->mu);
  jobs->closed = 1;
  for (entry *e = jobs->head; e; e = e->next)
    end_watchers(e, &gone);
  pthread_mutex_unlock(&jobs->mu);
}

void sg_jobs_close(sg_jobs *jobs) {
  if (!jobs) return;
  sg_jobs_end_watches(jobs);
  pthread_mutex_lock(&jobs->mu);
  entry *e = jobs->head;
  jobs->head = NULL;
  pthread_mutex_unlock(&jobs->mu);
  while (e) {
    entry *next = e->next;
    if (e->job) sg_job_unref(e->job);
    free(e);
    e = next;
  }
  pthread_mutex_destroy(&jobs->mu);
  free(jobs);
}
