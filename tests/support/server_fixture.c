/* Real-server fixture: fork+exec shopgpu-server, wait for its ready file, stop it by signal. */
#include "server_fixture.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef SG_SERVER_BIN
#error "SG_SERVER_BIN must name the shopgpu-server binary"
#endif

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void sleep_ms(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

static void dump_log(const sg_test_server *s) {
  FILE *f = fopen(s->log_path, "r");
  if (!f) return;
  char line[1024];
  fprintf(stderr, "---- server log (%s) ----\n", s->log_path);
  while (fgets(line, sizeof line, f))
    fputs(line, stderr);
  fclose(f);
}

static int read_ready(sg_test_server *s, const char *path) {
  FILE *f = fopen(path, "r");
  if (!f) return 0;
  int ok = fgets(s->addr, sizeof s->addr, f) != NULL;
  if (ok) s->addr[strcspn(s->addr, "\n")] = '\0';
  if (ok && fgets(s->metrics, sizeof s->metrics, f)) s->metrics[strcspn(s->metrics, "\n")] = '\0';
  fclose(f);
  return ok;
}

int sg_test_server_start(sg_test_server *s, const char *const *extra) {
  return sg_test_server_start_limited(s, extra, 0);
}

int sg_test_server_start_limited(sg_test_server *s, const char *const *extra,
                                 long long file_size_limit) {
  memset(s, 0, sizeof *s);
  snprintf(s->dir, sizeof s->dir, "/tmp/shopgpu-test-XXXXXX");
  if (!mkdtemp(s->dir)) {
    perror("mkdtemp");
    return -1;
  }
  char ready[300];
  snprintf(ready, sizeof ready, "%s/ready", s->dir);
  snprintf(s->log_path, sizeof s->log_path, "%s/server.log", s->dir);
  const char *argv[64];
  int n = 0;
  argv[n++] = SG_SERVER_BIN;
  argv[n++] = "--listen";
  argv[n++] = "127.0.0.1:0";
  argv[n++] = "--ready-file";
  argv[n++] = ready;
  argv[n++] = "--data-dir";
  argv[n++] = s->dir;
  argv[n++] = "--redis";
  argv[n++] = "none";
  argv[n++] = "--shutdown-grace";
  argv[n++] = "5";
  for (int i = 0; extra && extra[i] && n < 63; i++)
    argv[n++] = extra[i];
  argv[n] = NULL;
  pid_t parent = getpid();
  s->pid = fork();
  if (s->pid == 0) {
    /* dies with the test process, so a failed assertion (which skips the cleanup) leaves no
     * server behind; fork and exec run on the test's own thread */
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent) _exit(127);
    int fd = open(s->log_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
      dup2(fd, STDERR_FILENO);
      dup2(fd, STDOUT_FILENO);
    }
    if (file_size_limit > 0) {
      struct rlimit rl = {(rlim_t)file_size_limit, (rlim_t)file_size_limit};
      if (setrlimit(RLIMIT_FSIZE, &rl) != 0) _exit(127);
    }
    execv(SG_SERVER_BIN, (char *const *)(void *)argv);
    _exit(127);
  }
  if (s->pid < 0) return -1;
  double until = now_s() + 10;
  while (now_s() < until) {
    if (read_ready(s, ready)) return 0;
    int status;
    if (waitpid(s->pid, &status, WNOHANG) == s->pid) {
      fprintf(stderr, "server exited during start (status %d)\n", status);
      dump_log(s);
      s->pid = 0;
      return -1;
    }
    sleep_ms(10);
  }
  fprintf(stderr, "server not ready after 10 s\n");
  dump_log(s);
  sg_test_server_stop(s, SIGKILL, 1);
  return -1;
}

int sg_test_server_alive(sg_test_server *s) {
  if (s->pid <= 0 || s->reaped) return 0;
  if (waitpid(s->pid, &s->status, WNOHANG) == 0) return 1;
  s->reaped = 1; /* keep the status for sg_test_server_stop */
  return 0;
}

int sg_test_server_stop(sg_test_server *s, int sig, double timeout_s) {
  if (s->pid <= 0) return -1;
  int status = s->status;
  if (!s->reaped) kill(s->pid, sig);
  double until = now_s() + timeout_s;
  for (; !s->reaped;) {
    pid_t r = waitpid(s->pid, &status, WNOHANG);
    if (r == s->pid) break;
    if (r < 0 && errno != EINTR) return -1;
    if (now_s() > until) {
      fprintf(stderr, "server did not stop within %.1f s: killing it\n", timeout_s);
      dump_log(s);
      kill(s->pid, SIGKILL);
      waitpid(s->pid, &status, 0);
      s->pid = 0;
      return -1;
    }
    sleep_ms(5);
  }
  s->pid = 0;
  if (WIFEXITED(status)) {
    if (WEXITSTATUS(status) != 0) dump_log(s);
    return WEXITSTATUS(status);
  }
  dump_log(s);
  return 128 + WTERMSIG(status);
}

void sg_test_server_cleanup(sg_test_server *s) {
  if (s->pid > 0) sg_test_server_stop(s, SIGKILL, 1);
  if (!s->dir[0]) return;
  char cmd[300];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", s->dir);
  if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", s->dir);
}

int sg_test_run_python(const char *script, const char *const *args) {
  const char *python = getenv("SHOPGPU_TEST_PYTHON");
  if (!python || !*python) python = "/usr/bin/python3";
  pid_t pid = fork();
  if (pid == 0) {
    const char *argv[32];
    int n = 0;
    argv[n++] = python;
    argv[n++] = script;
    for (int i = 0; args && args[i] && n < 31; i++)
      argv[n++] = args[i];
    argv[n] = NULL;
    setenv("PYTHONPATH", SG_PYTHON_DIR, 1);
    execv(python, (char *const *)(void *)argv);
    _exit(127);
  }
  int status;
  if (pid < 0 || waitpid(pid, &status, 0) < 0) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
