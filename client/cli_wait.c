/* Waiting for a job, shared by every command that starts one: follow it with Jobs.Watch (polling
 * Jobs.Get every second when the stream breaks), draw the progress bar on stderr, fetch the
 * result, report how it ended; --detach and Ctrl-C (which leaves the job running). Invariant:
 * follower.last is the newest Job seen, owned, NULL until the first update. */
#include <grpc/status.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "json.h"

#define REDRAW_S 0.1 /* at most 10 redraws a second */
#define POLL_S 1.0

typedef struct follower {
  sg_cli *cli;
  const char *id;
  const sg_cli_wait *how;
  Shopgpu__V1__Job *last;
  int n_seen;
  double t_begin; /* monotonic seconds when following began */
  int have_base;  /* the ETA's baseline: the first update seen running */
  double t0;      /* (its time and progress) */
  uint64_t done0;
  double t_drawn; /* when the bar was drawn last */
  int drawn;      /* the bar is on screen */
} follower;

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void sleep_s(double s) {
  struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
  nanosleep(&ts, NULL);
}

static Shopgpu__V1__Job *job_copy(const Shopgpu__V1__Job *job) {
  size_t n = protobuf_c_message_get_packed_size(&job->base);
  uint8_t *buf = malloc(n ? n : 1);
  if (!buf) return NULL;
  protobuf_c_message_pack(&job->base, buf);
  Shopgpu__V1__Job *copy = shopgpu__v1__job__unpack(NULL, n, buf);
  free(buf);
  return copy;
}

static void job_free(Shopgpu__V1__Job *job) {
  if (job) protobuf_c_message_free_unpacked(&job->base, NULL);
}

/* ---- Ctrl-C: a signal handler can only use what is ready before it runs, hence the one
 * file-level buffer, written before the handler is installed and only read by it. ---- */

static char interrupt_text[1024];
static size_t interrupt_len;

static void on_interrupt(int sig) {
  (void)sig;
  if (write(STDERR_FILENO, interrupt_text, interrupt_len) < 0) {
  }
  _exit(SG_CLI_INTERRUPTED);
}

static void catch_interrupt(const follower *f, struct sigaction *old) {
  int n = snprintf(interrupt_text, sizeof interrupt_text,
                   "%sshopgpu: interrupted; job %s keeps running on the server\n"
                   "shopgpu: follow it again with: shopgpu --server %s jobs watch %s\n",
                   f->how->bar ? "\n" : "", f->id, shopgpu_client_target(f->cli->client), f->id);
  interrupt_len = n < 0 ? 0 : strlen(interrupt_text); /* cut to the buffer, if it came to that */
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_interrupt;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, old);
}

/* ---- the bar ---- */

static int terminal_columns(void) {
  struct winsize ws;
  if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
  return 80;
}

/* What the server's estimate leaves of the run: all of it while queued, less the time since it
 * started while running (wall clock: the server's start time is a unix time); 0 = none. */
static double estimate_left(const Shopgpu__V1__Job *job) {
  if (job->estimated_s <= 0) return 0;
  if (job->state == SHOPGPU__V1__JOB_STATE__JOB_STATE_QUEUED) return job->estimated_s;
  if (job->state != SHOPGPU__V1__JOB_STATE__JOB_STATE_RUNNING || job->started_at_unix_ms <= 0)
    return 0;
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  double ran = (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9 - job->started_at_unix_ms * 1e-3;
  return job->estimated_s - ran;
}

static void draw(follower *f, int force) {
  double t = now_s();
  if (!f->how->bar || !f->last || (!force && f->drawn && t - f->t_drawn < REDRAW_S)) return;
  const Shopgpu__V1__Job *job = f->last;
  const Shopgpu__V1__JobProgress *p = job->progress;
  int running = job->state == SHOPGPU__V1__JOB_STATE__JOB_STATE_RUNNING;
  sg_cli_progress view = {
      .state = shopgpu_job_state_name(job->state),
      .done = p ? p->done : 0,
      .total = p ? p->total : 0,
      .unit = p ? p->unit : NULL,
      .has_best = p && p->has_best,
      .best = p ? p->best : 0,
      .elapsed_s = t - f->t_begin,
      .eta_s =
          running && f->have_base && p ? sg_cli_eta(f->done0, f->t0, p->done, t, p->total) : -1,
      .estimate_left_s = estimate_left(job),
  };
  char line[512];
  sg_cli_progress_line(line, sizeof line, &view, terminal_columns());
  fprintf(f->cli->err, "\r%s\033[K", line);
  fflush(f->cli->err);
  f->t_drawn = t;
  f->drawn = 1;
}

/* ---- updates ---- */

static int same_progress(const Shopgpu__V1__JobProgress *a, const Shopgpu__V1__JobProgress *b) {
  if (!a || !b) return a == b;
  return a->done == b->done && a->total == b->total && a->has_best == b->has_best &&
         (!a->has_best || a->best == b->best);
}

/* Takes in a new state of the job (Watch message or poll). */
static void update(follower *f, const Shopgpu__V1__Job *job) {
  int changed =
      !f->last || f->last->state != job->state || !same_progress(f->last->progress, job->progress);
  Shopgpu__V1__Job *copy = job_copy(job);
  if (!copy) return; /* out of memory: keep the older state */
  job_free(f->last);
  f->last = copy;
  f->n_seen++;
  if (!f->have_base && job->state == SHOPGPU__V1__JOB_STATE__JOB_STATE_RUNNING) {
    f->have_base = 1;
    f->t0 = now_s();
    f->done0 = job->progress ? job->progress->done : 0;
  }
  if (changed && f->how->on_update) f->how->on_update(f->cli, job, f->how->arg);
  draw(f, changed && shopgpu_job_state_final(job->state));
}

static int on_watch(const Shopgpu__V1__Job *job, void *arg) {
  update(arg, job);
  return 0;
}

static int is_final(const follower *f) {
  return f->last && shopgpu_job_state_final(f->last->state);
}

static int transient(int code) {
  return code == GRPC_STATUS_UNAVAILABLE || code == GRPC_STATUS_DEADLINE_EXCEEDED;
}

/* After the stream broke: Get every second until the job is final, giving up after
 * SG_CLI_RECONNECT_S without an answer (or at once on an error that is not transient). */
static int poll_until_final(follower *f, shopgpu_status *st) {
  if (f->how->bar) /* under the bar, which goes on below */
    fprintf(f->cli->err, "%sshopgpu: the job's stream broke (%s: %s); polling it every second\n",
            f->drawn ? "\n" : "", shopgpu_status_code_name(st->code), st->message);
  double answered = now_s();
  while (!is_final(f)) {
    sleep_s(POLL_S);
    Shopgpu__V1__Job *job = NULL;
    int rc = shopgpu_job_get(f->cli->client, f->id, 0, &job, f->cli->timeout_ms, st);
    if (rc == GRPC_STATUS_OK) {
      update(f, job);
      job_free(job);
      answered = now_s();
    } else if (!transient(rc) || now_s() - answered > SG_CLI_RECONNECT_S) {
      return rc;
    }
    draw(f, 0);
  }
  return GRPC_STATUS_OK;
}

/* Watch, then poll if needed, until final; returns the status code (st set on errors). */
static int follow(follower *f, shopgpu_status *st) {
  int rc = shopgpu_job_watch(f->cli->client, f->id, on_watch, f, SHOPGPU_TIMEOUT_NONE, st);
  if (rc != GRPC_STATUS_OK && f->n_seen == 0) return rc; /* never followed: e.g. NOT_FOUND */
  if (is_final(f)) return GRPC_STATUS_OK;
  if (rc == GRPC_STATUS_OK) { /* ended before the final state: the server is stopping */
    st->code = GRPC_STATUS_UNAVAILABLE;
    snprintf(st->message, sizeof st->message, "the stream ended before the job did");
  }
  return poll_until_final(f, st);
}

/* The job again, with its result. */
static int fetch_result(follower *f, shopgpu_status *st) {
  Shopgpu__V1__Job *job = NULL;
  int rc = shopgpu_job_get(f->cli->client, f->id, 1, &job, f->cli->timeout_ms, st);
  if (rc == GRPC_STATUS_OK) {
    job_free(f->last);
    f->last = job;
  }
  return rc;
}

/* The exit code for how the job ended, with the error line of one that did not succeed. */
static int outcome(const sg_cli *cli, const Shopgpu__V1__Job *job) {
  if (job->state == SHOPGPU__V1__JOB_STATE__JOB_STATE_SUCCEEDED) return SG_CLI_OK;
  fprintf(cli->err, "shopgpu: job %s %s: %s: %s\n", job->id, shopgpu_job_state_name(job->state),
          shopgpu_status_code_name(job->error_code ? job->error_code : GRPC_STATUS_UNKNOWN),
          job->error_message[0] ? job->error_message : "(no message)");
  return SG_CLI_FAIL;
}

int sg_cli_follow_job(sg_cli *cli, const char *job_id, const sg_cli_wait *how,
                      Shopgpu__V1__Job **final) {
  sg_cli_wait defaults = {.with_result = 1, .bar = cli->progress};
  follower f = {.cli = cli, .id = job_id, .how = how ? how : &defaults, .t_begin = now_s()};
  struct sigaction old;
  catch_interrupt(&f, &old);
  shopgpu_status st = {0};
  int rc = follow(&f, &st);
  if (rc == GRPC_STATUS_OK && f.how->with_result &&
      f.last->state == SHOPGPU__V1__JOB_STATE__JOB_STATE_SUCCEEDED)
    rc = fetch_result(&f, &st);
  if (f.drawn) fputc('\n', cli->err); /* the final state was drawn as it came */
  sigaction(SIGINT, &old, NULL);
  int exit_code = rc != GRPC_STATUS_OK ? sg_cli_rpc_error(cli, &st) : outcome(cli, f.last);
  if (rc != GRPC_STATUS_OK) {
    job_free(f.last);
    f.last = NULL;
  }
  if (final)
    *final = f.last;
  else
    job_free(f.last);
  return exit_code;
}

int sg_cli_wait_job(sg_cli *cli, const char *job_id, Shopgpu__V1__Job **final) {
  return sg_cli_follow_job(cli, job_id, NULL, final);
}

int sg_cli_print_detached(sg_cli *cli, const char *job_id) {
  if (cli->json) {
    sg__json j;
    sg__json_init(&j, cli->out);
    sg__json_begin_object(&j);
    sg__json_key(&j, "id");
    sg__json_string(&j, job_id);
    sg__json_end_object(&j);
    sg__json_finish(&j);
  } else {
    fprintf(cli->out, "%s\n", job_id);
  }
  return SG_CLI_OK;
}

int sg_cli_job_started(sg_cli *cli, const char *job_id, Shopgpu__V1__Job **final) {
  if (final) *final = NULL;
  return cli->detach ? sg_cli_print_detached(cli, job_id) : sg_cli_wait_job(cli, job_id, final);
}

int sg_cli_start_job(sg_cli *cli, const Shopgpu__V1__SubmitJobRequest *request,
                     Shopgpu__V1__Job **final) {
  if (final) *final = NULL;
  Shopgpu__V1__Job *job = NULL;
  shopgpu_status st;
  if (shopgpu_job_submit(cli->client, request, &job, cli->timeout_ms, &st) != GRPC_STATUS_OK)
    return sg_cli_rpc_error(cli, &st);
  int rc = sg_cli_job_started(cli, job->id, final);
  job_free(job);
  return rc;
}
