/* pyclient.py scenarios against fixture servers (see pyclient.h). */
#include "pyclient.h"

#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PYCLIENT SG_TEST_SOURCE_DIR "/server/pyclient.py"

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void dump_log(const char *path) {
  FILE *f = fopen(path, "r");
  if (!f) return;
  char line[1024];
  fprintf(stderr, "---- %s ----\n", path);
  while (fgets(line, sizeof line, f))
    fputs(line, stderr);
  fclose(f);
}

/* Waits up to timeout_s for the server to exit by itself (no signal). Returns its exit status
 * (0..255, 128+signal) and forgets the process, or -1 while it still runs. The fixture's
 * (Unlike sg_test_server_alive, this also collects the status and forgets the process.) */
int sg_test_wait_exit(sg_test_server *s, double timeout_s) {
  double t0 = now_s();
  for (;;) {
    int status;
    pid_t r = s->pid > 0 ? waitpid(s->pid, &status, WNOHANG) : -1;
    if (r == s->pid) {
      s->pid = 0;
      int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      if (code != 0) dump_log(s->log_path);
      return code;
    }
    if (r < 0 || now_s() - t0 >= timeout_s) return -1;
    usleep(10000);
  }
}

/* Runs `pyclient.py scenario ADDR [METRICS_ADDR] args...` against a running server (METRICS_ADDR
 * when it was started with --metrics-listen); returns pyclient's exit status. */
int sg_test_pyclient(const sg_test_server *s, const char *scenario, const char *const *args) {
  const char *argv[16] = {scenario, s->addr};
  int n = 2;
  if (s->metrics[0]) argv[n++] = s->metrics;
  for (int i = 0; args && args[i] && n < 15; i++)
    argv[n++] = args[i];
  argv[n] = NULL;
  fflush(stdout);
  return sg_test_run_python(PYCLIENT, argv);
}

/* Starts a server with flags, runs one scenario, stops the server with SIGTERM. Checks that the
 * scenario passed and that the server exited 0 (no leak, no crash, no hang). */
void sg_test_scenario(const char *name, const char *const *flags, const char *const *args) {
  sg_test_server s;
  int started = sg_test_server_start(&s, flags);
  if (started != 0) sg_test_server_cleanup(&s);
  cr_assert_eq(started, 0, "server did not start");
  int rc = sg_test_pyclient(&s, name, args);
  int died = sg_test_wait_exit(&s, 0);
  int st = died >= 0 ? died : sg_test_server_stop(&s, SIGTERM, 15);
  sg_test_server_cleanup(&s);
  cr_expect_eq(rc, 0, "pyclient %s exited %d", name, rc);
  cr_expect_eq(died, -1, "the server died (status %d) during pyclient %s", died, name);
  cr_expect_eq(st, 0, "the server exited %d after SIGTERM (ASan/LSan report above?)", st);
}
