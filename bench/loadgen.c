/* shopgpu-loadgen: closed-loop unary load on gRPC core. N call slots are split over T threads, each
 * draining its own completion queue; a slot runs one call at a time as a single six-op batch and
 * starts the next as soon as one completes, so N calls are always in flight, spread round-robin
 * over C channels (one TCP connection each). Calls finishing inside the measured window go into a
 * per-thread log-linear histogram; the result is one markdown table row (see --help). */
#include <grpc/byte_buffer.h>
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/slice.h>
#include <grpc/support/alloc.h>
#include <grpc/support/time.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "loadgen_hist.h"
#include "loadgen_opts.h"
#include "machine.h"

/* Shared by every thread; read-only while the workers run, except the two atomics. */
typedef struct run {
  const sg_lg_opts *o;
  const sg_lg_plan *p;
  grpc_channel **channels;
  grpc_slice path;  /* static slice over p->path */
  grpc_metadata md; /* authorization, when n_md == 1 */
  size_t n_md;
  int64_t from_ns, to_ns; /* measured window, monotonic */
  atomic_int stop;        /* set when the run must end early */
  atomic_int error_shown; /* the first error's message has been printed */
} run;

struct worker;

/* One call slot: the out-params of its current call live here until its tag arrives. */
typedef struct slot {
  struct worker *w;
  grpc_channel *ch;
  grpc_call *call;
  grpc_byte_buffer *req, *resp;
  grpc_metadata_array im, tm;
  grpc_status_code status;
  grpc_slice details;
  const char *error_string;
  int64_t start_ns;
} slot;

typedef struct worker {
  run *r;
  grpc_completion_queue *cq;
  slot *slots;
  int n_slots;
  int active; /* slots with a call in flight */
  uint64_t errors;
  pthread_t tid;
  int started;
  sg_lg_hist hist; /* OK calls that finished in the window */
} worker;

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static gpr_timespec deadline_ms(int ms) {
  return gpr_time_add(gpr_now(GPR_CLOCK_REALTIME), gpr_time_from_millis(ms, GPR_TIMESPAN));
}

static const char *status_name(grpc_status_code c) {
  static const char *const names[] = {"OK",
                                      "CANCELLED",
                                      "UNKNOWN",
                                      "INVALID_ARGUMENT",
                                      "DEADLINE_EXCEEDED",
                                      "NOT_FOUND",
                                      "ALREADY_EXISTS",
                                      "PERMISSION_DENIED",
                                      "RESOURCE_EXHAUSTED",
                                      "FAILED_PRECONDITION",
                                      "ABORTED",
                                      "OUT_OF_RANGE",
                                      "UNIMPLEMENTED",
                                      "INTERNAL",
                                      "UNAVAILABLE",
                                      "DATA_LOSS",
                                      "UNAUTHENTICATED"};
  return c >= 0 && (size_t)c < sizeof names / sizeof names[0] ? names[c] : "?";
}

static const char *state_name(grpc_connectivity_state st) {
  static const char *const names[] = {"IDLE", "CONNECTING", "READY", "TRANSIENT_FAILURE",
                                      "SHUTDOWN"};
  return st >= 0 && (size_t)st < sizeof names / sizeof names[0] ? names[st] : "?";
}

/* ---- one call ------------------------------------------------------------------------------ */

static void fill_ops(slot *s, grpc_op ops[6]) {
  run *r = s->w->r;
  memset(ops, 0, 6 * sizeof *ops);
  ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
  ops[0].data.send_initial_metadata.count = r->n_md;
  ops[0].data.send_initial_metadata.metadata = r->n_md ? &r->md : NULL;
  ops[1].op = GRPC_OP_SEND_MESSAGE;
  ops[1].data.send_message.send_message = s->req;
  ops[2].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
  ops[3].op = GRPC_OP_RECV_INITIAL_METADATA;
  ops[3].data.recv_initial_metadata.recv_initial_metadata = &s->im;
  ops[4].op = GRPC_OP_RECV_MESSAGE;
  ops[4].data.recv_message.recv_message = &s->resp;
  ops[5].op = GRPC_OP_RECV_STATUS_ON_CLIENT;
  ops[5].data.recv_status_on_client.trailing_metadata = &s->tm;
  ops[5].data.recv_status_on_client.status = &s->status;
  ops[5].data.recv_status_on_client.status_details = &s->details;
  ops[5].data.recv_status_on_client.error_string = &s->error_string;
}

/* Frees what the finished (or refused) call left in the slot. */
static void release_call(slot *s) {
  grpc_byte_buffer_destroy(s->req);
  if (s->resp) grpc_byte_buffer_destroy(s->resp);
  grpc_metadata_array_destroy(&s->im);
  grpc_metadata_array_destroy(&s->tm);
  grpc_slice_unref(s->details);
  if (s->error_string) { /* core hands it out as const char *, but it is ours to gpr_free */
    void *mem;
    memcpy(&mem, &s->error_string, sizeof mem);
    gpr_free(mem);
  }
  grpc_call_unref(s->call);
  s->call = NULL, s->req = s->resp = NULL, s->error_string = NULL;
}

/* Starts the slot's next call. Returns 0, or -1 if core refused the batch (reported, freed). */
static int start_call(slot *s) {
  const run *r = s->w->r;
  s->start_ns = now_ns();
  s->call = grpc_channel_create_call(s->ch, NULL, GRPC_PROPAGATE_DEFAULTS, s->w->cq, r->path, NULL,
                                     deadline_ms(r->o->timeout_ms), NULL);
  grpc_slice body = grpc_slice_from_static_buffer(r->p->request, r->p->request_len);
  s->req = grpc_raw_byte_buffer_create(&body, 1);
  s->resp = NULL;
  grpc_metadata_array_init(&s->im);
  grpc_metadata_array_init(&s->tm);
  s->status = GRPC_STATUS_UNKNOWN;
  s->details = grpc_empty_slice();
  s->error_string = NULL;
  grpc_op ops[6];
  fill_ops(s, ops);
  grpc_call_error e = grpc_call_start_batch(s->call, ops, 6, s, NULL);
  if (e == GRPC_CALL_OK) return 0;
  fprintf(stderr, "shopgpu-loadgen: start_batch: %s\n", grpc_call_error_to_string(e));
  grpc_call_cancel(s->call, NULL);
  release_call(s);
  return -1;
}

/* Prints the first error of the run (any thread) to stderr. */
static void show_first_error(run *r, const slot *s, int success, const char *why) {
  if (atomic_exchange(&r->error_shown, 1)) return;
  char *details = grpc_slice_to_c_string(s->details);
  if (!success) why = "batch failed";
  fprintf(stderr, "shopgpu-loadgen: first error: %s: status %d %s: %s%s%s\n", r->p->path,
          (int)s->status, status_name(s->status), why ? why : details, s->error_string ? " | " : "",
          s->error_string ? s->error_string : "");
  gpr_free(details);
}

/* Checks and records the call whose tag arrived, then releases it. */
static void finish_call(slot *s, int success) {
  worker *w = s->w;
  int64_t end = now_ns();
  const char *why = NULL;
  size_t want = w->r->p->expect_response_len;
  if (success && s->status == GRPC_STATUS_OK && !s->resp)
    why = "OK without a response";
  else if (success && s->status == GRPC_STATUS_OK && want &&
           grpc_byte_buffer_length(s->resp) != want)
    why = "echo response of the wrong size";
  int ok = success && s->status == GRPC_STATUS_OK && !why;
  if (end >= w->r->from_ns && end < w->r->to_ns) {
    if (ok)
      sg_lg_hist_record(&w->hist, (uint64_t)(end - s->start_ns));
    else
      w->errors++;
  }
  if (!ok) show_first_error(w->r, s, success, why);
  release_call(s);
}

/* ---- threads ------------------------------------------------------------------------------- */

static int keep_going(const run *r) { return !atomic_load(&r->stop) && now_ns() < r->to_ns; }

/* Drains a shut-down completion queue and destroys it. */
static void destroy_cq(grpc_completion_queue *cq) {
  grpc_completion_queue_shutdown(cq);
  while (grpc_completion_queue_next(cq, gpr_inf_future(GPR_CLOCK_REALTIME), NULL).type !=
         GRPC_QUEUE_SHUTDOWN) {
  }
  grpc_completion_queue_destroy(cq);
}

static void *worker_main(void *arg) {
  worker *w = arg;
  for (int i = 0; i < w->n_slots; i++)
    if (start_call(&w->slots[i]) == 0) w->active++;
  while (w->active > 0) { /* every call has a deadline, so this ends */
    grpc_event ev = grpc_completion_queue_next(w->cq, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
    if (ev.type != GRPC_OP_COMPLETE) continue;
    slot *s = ev.tag;
    finish_call(s, ev.success);
    w->active--;
    if (keep_going(w->r) && start_call(s) == 0) w->active++;
  }
  return NULL;
}

/* Worker t of T gets the global slots g = t, t+T, ...; slot g uses channel g mod C. */
static worker *worker_create(run *r, int t) {
  const sg_lg_opts *o = r->o;
  worker *w = calloc(1, sizeof *w);
  if (!w) return NULL;
  w->r = r;
  w->n_slots = (o->concurrency - t + o->threads - 1) / o->threads;
  w->slots = calloc((size_t)w->n_slots, sizeof *w->slots);
  if (!w->slots) {
    free(w);
    return NULL;
  }
  for (int i = 0; i < w->n_slots; i++) {
    int g = t + i * o->threads;
    w->slots[i] = (slot){.w = w, .ch = r->channels[g % o->connections]};
  }
  sg_lg_hist_init(&w->hist);
  w->cq = grpc_completion_queue_create_for_next(NULL);
  return w;
}

static void worker_destroy(worker *w) {
  if (!w) return;
  destroy_cq(w->cq);
  free(w->slots);
  free(w);
}

/* ---- channels ------------------------------------------------------------------------------ */

static grpc_channel *channel_create(const char *target) {
  grpc_arg args[2] = {
      /* a private subchannel pool: otherwise identical channels share one TCP connection */
      {.type = GRPC_ARG_INTEGER, .key = GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, .value.integer = 1},
      {.type = GRPC_ARG_INTEGER, .key = GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH, .value.integer = -1},
  };
  grpc_channel_args ca = {.num_args = 2, .args = args};
  grpc_channel_credentials *creds = grpc_insecure_credentials_create();
  grpc_channel *ch = grpc_channel_create(target, creds, &ca);
  grpc_channel_credentials_release(creds);
  return ch;
}

/* Waits until ch is READY or the deadline passes; returns the last state seen. */
static grpc_connectivity_state wait_ready(grpc_channel *ch, grpc_completion_queue *cq,
                                          gpr_timespec deadline) {
  grpc_connectivity_state st = grpc_channel_check_connectivity_state(ch, 1);
  while (st != GRPC_CHANNEL_READY && st != GRPC_CHANNEL_SHUTDOWN) {
    grpc_channel_watch_connectivity_state(ch, st, deadline, cq, ch);
    grpc_event ev = grpc_completion_queue_next(cq, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
    st = grpc_channel_check_connectivity_state(ch, 1);
    if (!ev.success) break; /* deadline */
  }
  return st;
}

/* Creates the C channels and connects each; returns 0, or -1 (message on stderr). */
static int channels_open(run *r) {
  const sg_lg_opts *o = r->o;
  r->channels = calloc((size_t)o->connections, sizeof *r->channels);
  if (!r->channels) return -1;
  grpc_completion_queue *cq = grpc_completion_queue_create_for_next(NULL);
  gpr_timespec deadline = deadline_ms(o->timeout_ms);
  int rc = 0;
  for (int i = 0; i < o->connections && rc == 0; i++) {
    r->channels[i] = channel_create(o->server);
    grpc_connectivity_state st = wait_ready(r->channels[i], cq, deadline);
    if (st != GRPC_CHANNEL_READY) {
      fprintf(stderr, "shopgpu-loadgen: --server %s: connection %d not ready after %d ms (%s)\n",
              o->server, i + 1, o->timeout_ms, state_name(st));
      rc = -1;
    }
  }
  destroy_cq(cq);
  return rc;
}

static void channels_close(run *r) {
  if (!r->channels) return;
  for (int i = 0; i < r->o->connections; i++)
    if (r->channels[i]) grpc_channel_destroy(r->channels[i]);
  free(r->channels);
  r->channels = NULL;
}

/* ---- the run ------------------------------------------------------------------------------- */

/* Starts T workers over the window, waits for them and merges their results into h. */
static int drive(run *r, worker **ws, sg_lg_hist *h, uint64_t *errors) {
  const sg_lg_opts *o = r->o;
  int rc = 0;
  for (int t = 0; t < o->threads && rc == 0; t++)
    if (!(ws[t] = worker_create(r, t))) rc = -1;
  r->from_ns = now_ns() + (int64_t)(o->warmup_s * 1e9);
  r->to_ns = r->from_ns + (int64_t)(o->duration_s * 1e9);
  for (int t = 0; t < o->threads && rc == 0; t++) {
    ws[t]->started = pthread_create(&ws[t]->tid, NULL, worker_main, ws[t]) == 0;
    if (!ws[t]->started) rc = -1;
  }
  if (rc) {
    fprintf(stderr, "shopgpu-loadgen: cannot start %d workers\n", o->threads);
    atomic_store(&r->stop, 1);
  }
  for (int t = 0; t < o->threads; t++) {
    if (!ws[t]) continue;
    if (ws[t]->started) pthread_join(ws[t]->tid, NULL);
    sg_lg_hist_merge(h, &ws[t]->hist);
    *errors += ws[t]->errors;
    worker_destroy(ws[t]);
  }
  return rc;
}

static void print_header(const sg_lg_opts *o) {
  sg_bench_print_machine(stdout);
  printf("loadgen: server %s, %.3g s measured after %.3g s warmup, %d client thread%s, "
         "deadline %d ms%s\n\n",
         o->server, o->duration_s, o->warmup_s, o->threads, o->threads == 1 ? "" : "s",
         o->timeout_ms, o->token_file ? ", bearer token" : "");
  printf("| method | payload B | concurrency | connections | calls | errors | QPS | p50 ms | "
         "p90 ms | p99 ms | max ms |\n");
  printf("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
}

/* One table row, plus the Little's law check (QPS x mean latency ~ concurrency) on stderr. */
static void print_row(const sg_lg_opts *o, const sg_lg_plan *p, const sg_lg_hist *h,
                      uint64_t errors) {
  char payload[32] = "-";
  if (o->method == SG_LG_ECHO) snprintf(payload, sizeof payload, "%zu", o->payload);
  if (o->method == SG_LG_SCORE) snprintf(payload, sizeof payload, "%zu pairs", o->pairs);
  if (o->method == SG_LG_RECOMMEND) snprintf(payload, sizeof payload, "%zu users", o->pairs);
  double qps = (double)h->count / o->duration_s;
  printf("| %s | %s | %d | %d | %llu | %llu | %.0f | %.3f | %.3f | %.3f | %.3f |\n", p->method_name,
         payload, o->concurrency, o->connections, (unsigned long long)(h->count + errors),
         (unsigned long long)errors, qps, sg_lg_hist_quantile(h, 0.50) / 1e6,
         sg_lg_hist_quantile(h, 0.90) / 1e6, sg_lg_hist_quantile(h, 0.99) / 1e6,
         (double)h->max_ns / 1e6);
  fflush(stdout);
  if (!h->count) return;
  double mean_s = sg_lg_hist_mean(h) / 1e9;
  fprintf(stderr,
          "shopgpu-loadgen: %s concurrency %d: mean %.3f ms, QPS x mean = %.2f "
          "(Little's law: about %d%s)\n",
          p->method_name, o->concurrency, mean_s * 1e3, qps * mean_s, o->concurrency,
          errors ? ", less the share of failed calls" : "");
}

static int run_load(const sg_lg_opts *o, const sg_lg_plan *p) {
  run r = {.o = o, .p = p, .path = grpc_slice_from_static_string(p->path)};
  if (p->authorization) {
    r.md.key = grpc_slice_from_static_string("authorization");
    r.md.value = grpc_slice_from_static_string(p->authorization);
    r.n_md = 1;
  }
  atomic_init(&r.stop, 0);
  atomic_init(&r.error_shown, 0);
  worker **ws = calloc((size_t)o->threads, sizeof *ws);
  sg_lg_hist *h = malloc(sizeof *h);
  uint64_t errors = 0;
  int rc = ws && h ? 0 : -1;
  if (rc == 0) rc = channels_open(&r);
  if (rc == 0) {
    sg_lg_hist_init(h);
    rc = drive(&r, ws, h, &errors);
  }
  channels_close(&r);
  if (rc == 0) {
    if (!o->no_header) print_header(o);
    print_row(o, p, h, errors);
    if (errors || !h->count) rc = -1;
  }
  free(ws);
  free(h);
  return rc;
}

int main(int argc, char **argv) {
  sg_lg_opts o;
  int parsed = sg_lg_opts_parse(&o, argc, argv, stdout);
  if (parsed) return parsed > 0 ? 0 : 2;
  sg_lg_plan p;
  if (sg_lg_plan_make(&o, &p)) return 2;
  grpc_init();
  int rc = run_load(&o, &p);
  grpc_shutdown_blocking(); /* not the async grpc_shutdown: LSan would see its late cleanup */
  sg_lg_plan_free(&p);
  return rc ? 1 : 0;
}
