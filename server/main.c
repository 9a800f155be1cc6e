/* shopgpu-server: configuration, start, and the graceful stop on SIGTERM/SIGINT.
 * Signals are taken by a handler that writes the signal number to a pipe, and the main thread
 * reads the pipe: whichever thread the kernel picks (libraries such as OpenBLAS start threads
 * before main, so a blocked mask is not inherited by all) the stop runs on the main thread. */
#include <errno.h>
#include <fcntl.h>
#include <grpc/grpc.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cache.h"
#include "jobs.h"
#include "log.h"
#include "metrics.h"
#include "models.h"
#include "server.h"
#include "sg_version.h"
#include "util.h"

#define MAX_TOKENS 64

typedef struct secrets {
  char *tls_cert, *tls_key;
  char *redis_password;
  char *token_text;
  const char *tokens[MAX_TOKENS];
  int n_tokens;
} secrets;

/* Tokens: one per line; blank lines and lines starting with '#' are ignored. */
static sg_status load_tokens(const char *path, secrets *s, sg_err *err) {
  size_t len;
  SG_TRY(sg_read_file(path, 1 << 20, &s->token_text, &len, err));
  for (char *line = strtok(s->token_text, "\r\n"); line; line = strtok(NULL, "\r\n")) {
    while (*line == ' ' || *line == '\t')
      line++;
    size_t n = strlen(line);
    while (n && (line[n - 1] == ' ' || line[n - 1] == '\t'))
      line[--n] = '\0';
    if (!n || line[0] == '#') continue;
    if (s->n_tokens == MAX_TOKENS)
      return sg_err_set(err, SG_INVALID_ARGUMENT, "%s: more than %d tokens", path, MAX_TOKENS);
    s->tokens[s->n_tokens++] = line;
  }
  if (!s->n_tokens) return sg_err_set(err, SG_INVALID_ARGUMENT, "%s: no token in the file", path);
  return SG_OK;
}

/* st, with err's message led by the option that named the file. */
static sg_status named(sg_status st, const char *option, sg_err *err) {
  if (st != SG_OK) sg_err_prefix(err, "%s", option);
  return st;
}

static sg_status load_secrets(const sg_config *cfg, secrets *s, sg_err *err) {
  size_t len;
  if (cfg->tls_cert[0]) {
    SG_TRY(named(sg_read_file(cfg->tls_cert, 1 << 20, &s->tls_cert, &len, err), "--tls-cert", err));
    SG_TRY(named(sg_read_file(cfg->tls_key, 1 << 20, &s->tls_key, &len, err), "--tls-key", err));
  }
  if (cfg->auth_token_file[0])
    SG_TRY(named(load_tokens(cfg->auth_token_file, s, err), "--auth-token-file", err));
  if (cfg->redis_password_file[0]) {
    SG_TRY(named(sg_read_file(cfg->redis_password_file, 4096, &s->redis_password, &len, err),
                 "--redis-password-file", err));
    s->redis_password[strcspn(s->redis_password, "\r\n")] = '\0';
    if (!s->redis_password[0]) /* AUTH "" would fail on every connect, for a reason not logged */
      return sg_err_set(err, SG_INVALID_ARGUMENT,
                        "--redis-password-file: %s: the first line is empty",
                        cfg->redis_password_file);
  }
  return SG_OK;
}

static void free_secrets(secrets *s) {
  free(s->tls_cert);
  free(s->tls_key);
  free(s->redis_password);
  free(s->token_text);
}

static int64_t unix_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One server per data dir: a second one would fail the first one's running jobs as "stopped"
 * and write models and jobs beside it. An flock on DATA_DIR/.lock, held (the descriptor left
 * open) until the process ends. The file's mtime is also the server's heartbeat (see
 * wait_signal): *last_alive_ms gets the previous server's last one (a crashed job ended then,
 * not when the next server started), 0 for a new file. Returns the descriptor, or -1 with err
 * set. */
static int lock_data_dir(const char *dir, int64_t *last_alive_ms, sg_err *err) {
  char path[4200];
  snprintf(path, sizeof path, "%s/.lock", dir);
  int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    sg_err_set(err, SG_IO, "%s: %s", path, strerror(errno));
    return -1;
  }
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int e = errno;
    sg_err_set(err, SG_FAILED_PRECONDITION,
               e == EWOULDBLOCK ? "%s is in use by another shopgpu-server (%s is locked)"
                                : "%s: cannot lock %s",
               dir, e == EWOULDBLOCK ? path : strerror(e));
    close(fd);
    return -1;
  }
  struct stat st;
  *last_alive_ms = fstat(fd, &st) == 0 && st.st_mtim.tv_sec > 0
                       ? (int64_t)st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000
                       : 0;
  if (futimens(fd, NULL) != 0)
    SG_WARN("main", "%s: cannot update its time (%s): a crash's jobs will end at the next start",
            path, strerror(errno));
  return fd;
}

static int fail(const char *what, const sg_err *err) {
  SG_ERROR("main", "%s: %s", what, sg_err_message(err));
  return 1;
}

/* The backend (and the cpu fallback), the scheduler and the job registry. */
static sg_status open_compute(sg_server *srv, sg_err *err) {
  sg_backend_config bcfg = {
      .kind = srv->cfg.backend, .log = sg_log_backend_sink, .log_ctx = "backend"};
  srv->backend = sg_backend_open(&bcfg, err);
  if (!srv->backend) return err->code;
  int cuda = sg_backend_kind_of(srv->backend) == SG_BACKEND_CUDA;
  int workers = cuda ? srv->cfg.streams : srv->cfg.cpu_workers;
  long cores = sysconf(_SC_NPROCESSORS_ONLN);
  int threads = cores / workers > 0 ? (int)(cores / workers) : 1;
  if (cuda && strcmp(srv->cfg.fallback, "cpu") == 0) {
    sg_backend_config fcfg = {.kind = SG_BACKEND_CPU, .cpu_threads = threads};
    srv->fallback = sg_backend_open(&fcfg, err);
    if (!srv->fallback) return err->code;
  }
  sg_sched_config scfg = {
      .backend = srv->backend,
      .fallback = srv->fallback,
      .workers = workers,
      .cpu_threads = threads,
      .queue_limit = {(size_t)srv->cfg.queue_limit, (size_t)srv->cfg.queue_limit},
      .batch_window_us = srv->cfg.batch_window_us,
      .max_batch = (size_t)srv->cfg.max_batch,
      .aging_s = srv->cfg.aging_s,
      .batch_nice = srv->cfg.batch_nice,
  };
  srv->sched = sg_sched_create(&scfg, err);
  if (!srv->sched) return err->code;
  if (cuda)
    SG_INFO("main", "scheduler: %d cuda stream worker(s)%s", workers,
            srv->fallback ? ", cpu fallback" : "");
  else
    SG_INFO("main", "scheduler: %d cpu worker(s), %d OpenMP thread(s) each", workers, threads);
  srv->models = sg_models_open(srv->cfg.data_dir, srv->backend, srv->fallback, err);
  if (!srv->models) return err->code;
  srv->jobs =
      sg_jobs_open(srv, srv->cfg.data_dir, srv->cfg.job_ttl_s, (size_t)srv->cfg.max_jobs, err);
  return srv->jobs ? SG_OK : err->code;
}

static sg_status start_rpc(sg_server *srv, const secrets *sec, sg_err *err) {
  srv->health = sg_health_create(sg_methods, sg_method_count, err);
  if (!srv->health) return err->code;
  sg_rpc_config rcfg = {
      .listen = srv->cfg.listen,
      .pollers = srv->cfg.pollers,
      .workers = srv->cfg.threads,
      .stream_workers = srv->cfg.stream_threads,
      .stream_idle_ms = (int64_t)ceil(srv->cfg.stream_idle_s * 1000), /* 0.0001 s is not never */
      .queue_limit = srv->cfg.queue_limit,
      .max_message_bytes = srv->cfg.max_message_mb << 20,
      .max_inflight_bytes = (size_t)srv->cfg.max_inflight_mb << 20,
      .tls_cert_pem = sec->tls_cert,
      .tls_key_pem = sec->tls_key,
      .tokens = sec->n_tokens ? sec->tokens : NULL,
      .n_tokens = sec->n_tokens,
      .methods = sg_methods,
      .n_methods = sg_method_count,
      .app = srv,
  };
  srv->rpc = sg_rpc_start(&rcfg, err);
  if (!srv->rpc) return err->code;
  if (srv->cfg.metrics_listen[0]) {
    srv->metrics = sg_metrics_start(srv, srv->cfg.metrics_listen, err);
    if (!srv->metrics) return err->code;
  }
  sg_health_set_all(srv->health, SG_HEALTH_SERVING); /* before the ready file says so */
  if (!srv->cfg.ready_file[0]) return SG_OK;
  char ready[512]; /* line 1: gRPC address; line 2: metrics address, if on */
  int n = snprintf(ready, sizeof ready, "%s\n%s%s", sg_rpc_address(srv->rpc),
                   srv->metrics ? sg_metrics_address(srv->metrics) : "", srv->metrics ? "\n" : "");
  return sg_write_file_atomic(srv->cfg.ready_file, ready, (size_t)n, err);
}

/* Graceful stop: refuse new work, let calls and jobs run for the grace period, cancel the rest,
 * then take everything down in the reverse order of creation. */
static void stop(sg_server *srv, double grace_s) {
  if (srv->health) {
    sg_health_set_all(srv->health, SG_HEALTH_NOT_SERVING);
    sg_health_finish_watches(srv->health);
  }
  if (srv->jobs) sg_jobs_end_watches(srv->jobs);
  if (srv->rpc && !sg_rpc_drain(srv->rpc, grace_s)) sg_rpc_cancel_all(srv->rpc);
  if (srv->sched) sg_sched_stop(srv->sched); /* jobs end; their replies go out */
  sg_metrics_stop(srv->metrics);
  sg_rpc_destroy(srv->rpc);
  sg_jobs_close(srv->jobs);
  sg_sched_destroy(srv->sched);
  sg_models_close(srv->models);
  sg_cache_close(srv->cache);
  sg_health_destroy(srv->health);
  sg_backend_close(srv->fallback);
  if (srv->backend) sg_backend_close(srv->backend);
  if (srv->cfg.ready_file[0]) unlink(srv->cfg.ready_file);
}

static sg_status open_cache(sg_server *srv, const secrets *sec, sg_err *err) {
  sg_cache_config cc = {.addr = srv->cfg.redis,
                        .password = sec->redis_password,
                        .db = srv->cfg.redis_db,
                        .ttl_s = srv->cfg.cache_ttl_s};
  srv->cache = sg_cache_open(&cc, err);
  return srv->cache ? SG_OK : err->code;
}

/* The write end of the signal pipe: the one process-wide mutable besides the method counters,
 * because a signal handler has no other way to reach the main thread. */
static int signal_fd = -1;

static void on_signal(int sig) {
  unsigned char b = (unsigned char)sig;
  ssize_t w = write(signal_fd, &b, 1); /* async-signal-safe; a full pipe already holds a stop */
  (void)w;
}

/* Installs the handlers; returns the read end of the pipe, or -1. */
static int catch_signals(void) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) return -1;
  signal_fd = fds[1];
  struct sigaction sa = {.sa_handler = on_signal, .sa_flags = SA_RESTART};
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);
  signal(SIGXFSZ, SIG_IGN); /* a file size limit fails the write (EFBIG), as a full disk does */
  return fds[0];
}

/* Blocks until a signal arrived (possibly before this call); returns its number. Meanwhile,
 * every SG_HEARTBEAT_MS, it deletes expired jobs (so an idle server frees their disk space too)
 * and touches the data dir's lock file, the time the next server gives the jobs a crash cut. */
static int wait_signal(int fd, sg_jobs *jobs, int lock_fd) {
  struct pollfd p = {.fd = fd, .events = POLLIN};
  unsigned char b = 0;
  for (;;) {
    if (read(fd, &b, 1) == 1) return b;
    if (errno != EAGAIN && errno != EINTR) return SIGTERM;
    if (poll(&p, 1, SG_HEARTBEAT_MS) == 0) {
      if (jobs) sg_jobs_sweep(jobs);
      if (lock_fd >= 0) (void)futimens(lock_fd, NULL);
    }
  }
}

static int serve(sg_server *srv, const secrets *sec, int sig_fd) {
  sg_err err = {0};
  if (open_cache(srv, sec, &err) != SG_OK || open_compute(srv, &err) != SG_OK ||
      start_rpc(srv, sec, &err) != SG_OK) {
    fail("start", &err);
    stop(srv, 0);
    return 1;
  }
  SG_INFO("main", "shopgpu %s (%s) serving on %s%s, backend %s, %d handler threads%s%s", SG_VERSION,
          SG_COMMIT, sg_rpc_address(srv->rpc), sec->tls_cert ? " (tls)" : "",
          sg_backend_name(srv->backend), srv->cfg.threads,
          sec->n_tokens ? ", bearer tokens required" : "", srv->metrics ? ", metrics on" : "");
  int sig = wait_signal(sig_fd, srv->jobs, srv->lock_fd);
  SG_INFO("main", "%s: shutting down (grace %.1f s)", strsignal(sig), srv->cfg.shutdown_grace_s);
  stop(srv, srv->cfg.shutdown_grace_s);
  return 0;
}

int main(int argc, char **argv) {
  int sig_fd = catch_signals();
  if (sig_fd < 0) {
    fprintf(stderr, "shopgpu-server: cannot set up signal handling: %s\n", strerror(errno));
    return 1;
  }

  sg_server srv = {0};
  sg_err err = {0};
  sg_config_action action;
  if (sg_config_load(&srv.cfg, argc, argv, stdout, &action, &err) != SG_OK) {
    fprintf(stderr, "shopgpu-server: %s\n", sg_err_message(&err));
    return 2;
  }
  if (action == SG_CONFIG_EXIT_OK) return 0;
  sg_log_set_level(srv.cfg.log_level);
  if (sg_mkdir_p(srv.cfg.data_dir, &err) != SG_OK) return fail("--data-dir", &err);
  srv.lock_fd = lock_data_dir(srv.cfg.data_dir, &srv.last_alive_unix_ms, &err);
  if (srv.lock_fd < 0) return fail("--data-dir", &err);
  secrets sec = {0};
  if (load_secrets(&srv.cfg, &sec, &err) != SG_OK) {
    free_secrets(&sec);
    return fail("config", &err);
  }
  srv.started_unix_ms = unix_ms();
  srv.started_mono_us = sg_mono_us();
  grpc_init();
  int rc = serve(&srv, &sec, sig_fd);
  grpc_shutdown();
  free_secrets(&sec);
  if (rc == 0) SG_INFO("main", "bye");
  return rc;
}
