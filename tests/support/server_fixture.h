/* Starts a real shopgpu-server process for a test and stops it. The server listens on
 * 127.0.0.1:0 (a free port it picks) and writes its address to a ready file in a fresh temp
 * directory, which is also its --data-dir; --redis none unless the test passes --redis. */
#ifndef SG_TEST_SERVER_FIXTURE_H
#define SG_TEST_SERVER_FIXTURE_H

#include <sys/types.h>

typedef struct sg_test_server {
  pid_t pid;
  char dir[256];      /* temp dir: data dir, ready file, log */
  char addr[256];     /* "127.0.0.1:PORT" (or the unix: address asked for) */
  char metrics[256];  /* "127.0.0.1:PORT" when --metrics-listen was given, else "" */
  char log_path[300]; /* the server's stderr */
  int reaped;         /* sg_test_server_alive saw it exit: status below */
  int status;
} sg_test_server;

/* extra: NULL-terminated flags appended to the defaults (a later flag wins). Returns 0 once the
 * server is ready (10 s at most), -1 on failure (log printed to stderr). */
int sg_test_server_start(sg_test_server *s, const char *const *extra);
/* The same with RLIMIT_FSIZE set to file_size_limit bytes (0: none) in the server: a write past
 * it fails with EFBIG, as a full disk fails one with ENOSPC. */
int sg_test_server_start_limited(sg_test_server *s, const char *const *extra,
                                 long long file_size_limit);
/* Sends sig (SIGTERM for a graceful stop), waits up to timeout_s, SIGKILLs after that. Returns
 * the exit status (0..255), 128+signal when killed by a signal, -1 when it had to be killed. */
int sg_test_server_stop(sg_test_server *s, int sig, double timeout_s);
/* Removes the temp directory. */
void sg_test_server_cleanup(sg_test_server *s);
/* 1 when the server process is still running. */
int sg_test_server_alive(sg_test_server *s);
/* Runs `python3 SCRIPT args...` (Debian's /usr/bin/python3, or $SHOPGPU_TEST_PYTHON where a
 * machine's own Python has grpc and protobuf and Debian's has not, with the generated modules on
 * PYTHONPATH) and returns its exit status; its output goes to the test's stdout. */
int sg_test_run_python(const char *script, const char *const *args);

#endif
