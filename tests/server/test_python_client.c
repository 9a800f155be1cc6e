/* The whole server through an independent client: each test starts its own shopgpu-server with
 * the flags it needs and runs one scenario of pyclient.py (grpcio + protoc's modules) against it.
 * Stopping with SIGTERM and expecting exit status 0 is also the leak check under ASan/LSan. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pyclient.h"
#include "server_fixture.h"

TestSuite(pyclient, .timeout = 120);

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* A fresh temp dir for files the server needs before it starts (certs, tokens, sockets). */
static void make_tmpdir(char *dir, size_t size) {
  snprintf(dir, size, "/tmp/shopgpu-py-XXXXXX");
  cr_assert_not_null(mkdtemp(dir), "mkdtemp: %s", strerror(errno));
}

static void remove_tree(const char *dir) {
  char cmd[300];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
}

static void write_text(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  cr_assert_not_null(f, "%s: %s", path, strerror(errno));
  fputs(text, f);
  fclose(f);
}

Test(pyclient, every_method_answers) { sg_test_scenario("all_methods", NULL, NULL); }

Test(pyclient, garbage_request_is_invalid_argument_naming_the_type) {
  sg_test_scenario("garbage", NULL, NULL);
}

Test(pyclient, unknown_path_is_unimplemented) { sg_test_scenario("unknown", NULL, NULL); }

Test(pyclient, delayed_echoes_leave_a_handler_thread_free) {
  const char *flags[] = {"--threads", "2", "--stream-threads", "2", NULL};
  sg_test_scenario("echo_waits_leave_a_thread", flags, NULL);
}

Test(pyclient, bearer_token_required_except_for_health) {
  char dir[64], tokens[128];
  make_tmpdir(dir, sizeof dir);
  snprintf(tokens, sizeof tokens, "%s/tokens", dir);
  write_text(tokens, "# test tokens\nother-token-0\n\n  s3cret-token-1  \n");
  const char *flags[] = {"--auth-token-file", tokens, NULL};
  const char *args[] = {"s3cret-token-1", NULL};
  sg_test_scenario("auth", flags, args);
  remove_tree(dir);
}

Test(pyclient, oversized_request_is_resource_exhausted_and_server_goes_on) {
  const char *flags[] = {"--max-message-mb", "1", NULL};
  sg_test_scenario("oversized", flags, NULL);
}

/* Requests whose decoding or answer would take far more memory than they carry (unknown fields
 * by the hundred thousand, a forecast horizon, pairs, lists, colonies) are refused up front. */
Test(pyclient, requests_that_would_blow_up_memory_are_refused_naming_the_field) {
  const char *flags[] = {"--max-message-mb", "2", NULL};
  sg_test_scenario("limits", flags, NULL);
}

Test(pyclient, requests_held_at_once_are_bounded_by_max_inflight_mb) {
  const char *flags[] = {"--max-inflight-mb", "1", "--threads", "1", NULL};
  sg_test_scenario("inflight", flags, NULL);
}

Test(pyclient, deadline_ends_the_call_and_is_counted) { sg_test_scenario("deadline", NULL, NULL); }

Test(pyclient, five_hundred_concurrent_calls_all_answer) {
  const char *flags[] = {"--queue-limit", "4096", NULL};
  const char *args[] = {"500", NULL};
  sg_test_scenario("concurrent", flags, args);
}

Test(pyclient, client_cancel_reaches_every_kind_of_handler) {
  sg_test_scenario("cancel", NULL, NULL);
}

Test(pyclient, stalled_streams_neither_starve_unary_calls_nor_keep_their_thread) {
  const char *flags[] = {"--threads", "2", "--stream-threads", "2", "--stream-idle-timeout",
                         "1.5",       NULL};
  sg_test_scenario("stream_stall", flags, NULL);
}

Test(pyclient, full_queue_answers_resource_exhausted) {
  const char *flags[] = {"--threads",   "1", "--queue-limit", "1", "--metrics-listen",
                         "127.0.0.1:0", NULL};
  sg_test_scenario("queue_full", flags, NULL);
}

/* pyclient sends the SIGTERM itself (it knows when its call is in flight); the server must then
 * finish that call, end on its own and exit 0. */
static void sigterm_scenario(const char *name, const char *const *flags, double max_exit_s) {
  sg_test_server s;
  int started = sg_test_server_start(&s, flags);
  if (started != 0) sg_test_server_cleanup(&s);
  cr_assert_eq(started, 0, "server did not start");
  char pid[32];
  snprintf(pid, sizeof pid, "%d", (int)s.pid);
  const char *args[] = {pid, NULL};
  int rc = sg_test_pyclient(&s, name, args);
  /* the server got its SIGTERM from pyclient: it should end by itself soon */
  int st = sg_test_wait_exit(&s, max_exit_s);
  int exited = st >= 0;
  if (!exited) st = sg_test_server_stop(&s, SIGTERM, 15); /* pyclient failed before its kill? */
  sg_test_server_cleanup(&s);
  cr_expect_eq(rc, 0, "pyclient %s exited %d", name, rc);
  cr_expect(exited, "the server still ran %.1f s after pyclient %s ended", max_exit_s, name);
  cr_expect_eq(st, 0, "the server exited %d after SIGTERM (ASan/LSan report above?)", st);
}

Test(pyclient, sigterm_lets_the_call_in_flight_finish) {
  sigterm_scenario("sigterm_inflight", NULL, 5);
}

Test(pyclient, sigterm_cancels_calls_after_the_grace_period) {
  /* three handlers stay busy: enough workers for them and for the GetServerInfo polls */
  const char *flags[] = {"--shutdown-grace", "0.5", "--threads", "6", NULL};
  sigterm_scenario("sigterm_grace", flags, 5);
}

Test(pyclient, tls_serves_secure_channels_only) {
  char dir[64], cert[128], key[128], cmd[512];
  make_tmpdir(dir, sizeof dir);
  snprintf(cert, sizeof cert, "%s/server.crt", dir);
  snprintf(key, sizeof key, "%s/server.key", dir);
  snprintf(cmd, sizeof cmd,
           "openssl req -x509 -newkey rsa:2048 -nodes -keyout '%s' -out '%s' -days 2 "
           "-subj /CN=localhost -addext 'subjectAltName=DNS:localhost,IP:127.0.0.1' "
           ">/dev/null 2>&1",
           key, cert);
  int gen = system(cmd);
  if (gen != 0) remove_tree(dir);
  cr_assert_eq(gen, 0, "openssl could not make a test certificate: %s", cmd);
  const char *flags[] = {"--tls-cert", cert, "--tls-key", key, NULL};
  const char *args[] = {cert, NULL};
  sg_test_scenario("tls", flags, args);
  remove_tree(dir);
}

Test(pyclient, unix_socket_serves) {
  char dir[64], listen[128];
  make_tmpdir(dir, sizeof dir);
  snprintf(listen, sizeof listen, "unix:%s/sock", dir);
  const char *flags[] = {"--listen", listen, NULL};
  sg_test_scenario("unix", flags, NULL);
  remove_tree(dir);
}

Test(pyclient, metrics_count_calls_by_code) {
  const char *flags[] = {"--metrics-listen", "127.0.0.1:0", NULL};
  const char *args[] = {"7", NULL};
  sg_test_scenario("metrics", flags, args);
}

/* No Python here: a second server on the first one's exact address must fail fast and say why. */
Test(pyclient, port_in_use_fails_fast_naming_the_address) {
  sg_test_server first;
  int started = sg_test_server_start(&first, NULL);
  if (started != 0) sg_test_server_cleanup(&first);
  cr_assert_eq(started, 0, "server did not start");

  char dir[64], log_path[128];
  make_tmpdir(dir, sizeof dir);
  snprintf(log_path, sizeof log_path, "%s/second.log", dir);
  double t0 = now_s();
  pid_t pid = fork();
  if (pid == 0) {
    int fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
      dup2(fd, STDOUT_FILENO);
      dup2(fd, STDERR_FILENO);
    }
    execl(SG_SERVER_BIN, SG_SERVER_BIN, "--listen", first.addr, "--data-dir", dir, "--redis",
          "none", (char *)NULL);
    _exit(127);
  }
  cr_assert_gt(pid, 0, "fork failed");
  int status = 0;
  pid_t r = 0;
  while ((r = waitpid(pid, &status, WNOHANG)) == 0 && now_s() - t0 < 10)
    usleep(10000);
  double took = now_s() - t0;
  if (r == 0) { /* it is serving (or hanging): a failure, but don't leave it behind */
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
  }
  char log[4096] = "";
  FILE *f = fopen(log_path, "r");
  if (f) {
    log[fread(log, 1, sizeof log - 1, f)] = '\0';
    fclose(f);
  }
  int first_died = sg_test_wait_exit(&first, 0);
  int st = first_died >= 0 ? first_died : sg_test_server_stop(&first, SIGTERM, 15);
  sg_test_server_cleanup(&first);
  remove_tree(dir);

  printf("second server on %s: exit status %d after %.2f s, log:\n%s", first.addr,
         WIFEXITED(status) ? WEXITSTATUS(status) : -1, took, log);
  cr_expect_neq(r, 0, "the second server did not exit within 10 s");
  /* 1 = could not start; anything else (LSan's 23, a signal) is a bug on the error path */
  cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 1, "the second server's exit status %d",
            status);
  cr_expect_null(strstr(log, "Sanitizer"), "a sanitizer report on the error path");
  cr_expect_lt(took, 5.0, "the second server took %.2f s to fail", took);
  cr_expect_not_null(strstr(log, first.addr), "its message does not name %s", first.addr);
  cr_expect_eq(first_died, -1, "the first server died (status %d)", first_died);
  cr_expect_eq(st, 0, "the first server exited %d after SIGTERM", st);
}
