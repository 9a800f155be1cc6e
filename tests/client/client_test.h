/* Helpers shared by the client and CLI suites: one real server per test (file-static so the
 * suite's .fini stops it even when an assertion ends the test early), an auxiliary temp dir for
 * files the server needs before it starts (certificates, sockets), a client opened on it,
 * a port nobody listens on, and a monotonic clock. */
#ifndef SG_TEST_CLIENT_TEST_H
#define SG_TEST_CLIENT_TEST_H

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "server_fixture.h"
#include "shopgpu_client.h"

static sg_test_server srv;
static char aux_dir[64];

static inline double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Starts the test's server with extra flags (NULL-terminated, may be NULL) and waits until it
 * reports SERVING (the server writes its ready file a moment before it marks itself SERVING).
 * tls_ca: the server's certificate when it serves TLS, else NULL. */
static inline void start_server_tls(const char *const *extra, const char *tls_ca) {
  cr_assert_eq(sg_test_server_start(&srv, extra), 0, "server did not start");
  shopgpu_client_options o = {
      .target = srv.addr, .tls_ca_file = tls_ca, .tls_server_name = tls_ca ? "localhost" : NULL};
  shopgpu_client *c = shopgpu_client_open(&o, NULL);
  cr_assert_not_null(c);
  int serving = 0;
  for (double until = now_s() + 5; serving != 1 && now_s() < until;) {
    if (shopgpu_health_check(c, "", &serving, 1000, NULL) != 0) serving = 0;
    if (serving != 1) nanosleep(&(struct timespec){0, 10000000}, NULL);
  }
  shopgpu_client_close(c);
  cr_assert_eq(serving, 1, "server not SERVING 5 s after its ready file");
}

static inline void start_server(const char *const *extra) { start_server_tls(extra, NULL); }

/* A fresh temp dir (aux_dir) for files the server reads at start. */
static inline const char *make_aux_dir(void) {
  snprintf(aux_dir, sizeof aux_dir, "/tmp/shopgpu-client-XXXXXX");
  cr_assert_not_null(mkdtemp(aux_dir), "mkdtemp");
  return aux_dir;
}

/* Writes text to aux_dir/name; returns the path (static storage per call site is the caller's). */
static inline void write_aux_file(const char *name, const char *text, char *path, size_t size) {
  snprintf(path, size, "%s/%s", aux_dir, name);
  FILE *f = fopen(path, "w");
  cr_assert_not_null(f, "cannot write %s", path);
  fputs(text, f);
  fclose(f);
}

/* Graceful stop at the end of a passing test: the server (sanitized in the ASan build) must
 * exit 0, so a leak or a crash in it fails the test. */
static inline void stop_server_checked(void) {
  cr_assert_eq(sg_test_server_stop(&srv, SIGTERM, 10), 0, "server exit status");
}

/* The suite's .fini: whatever the test left behind. */
static inline void cleanup_all(void) {
  if (srv.pid > 0) sg_test_server_stop(&srv, SIGKILL, 2);
  sg_test_server_cleanup(&srv);
  if (aux_dir[0]) {
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", aux_dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", aux_dir);
  }
}

/* A TCP port on 127.0.0.1 that was free a moment ago (nothing listens on it). */
static inline int dead_port(void) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t len = sizeof a;
  cr_assert(fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
            getsockname(fd, (struct sockaddr *)&a, &len) == 0);
  close(fd);
  return ntohs(a.sin_port);
}

#endif
