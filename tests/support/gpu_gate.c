/* main() for test suites labelled 'gpu': runs the Criterion suite only when a usable CUDA device
 * is there. Without one it exits 77 (ctest: skipped), or 1 when SHOPGPU_REQUIRE_GPU=1, so a GPU
 * machine can never pass by skipping. The probe runs in a child process: the parent never
 * initialises CUDA before Criterion starts its test processes. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/backend.h"

/* 1 when a device is usable; reason filled either way */
static int probe_in_child(char *reason, size_t cap) {
  int fds[2];
  if (pipe(fds) != 0) {
    snprintf(reason, cap, "pipe failed");
    return 0;
  }
  pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    sg_device_info info;
    sg_err err = {0};
    sg_status st = sg_cuda_probe(0, 0, &info, &err);
    char msg[512];
    int n = st == SG_OK ? snprintf(msg, sizeof msg, "%s (cc %d.%d)", info.name, info.cc_major,
                                   info.cc_minor)
                        : snprintf(msg, sizeof msg, "%s", sg_err_message(&err));
    if (write(fds[1], msg, (size_t)n) < 0) _exit(2);
    _exit(st == SG_OK ? 0 : 1);
  }
  close(fds[1]);
  ssize_t got = pid > 0 ? read(fds[0], reason, cap - 1) : -1;
  reason[got > 0 ? got : 0] = '\0';
  close(fds[0]);
  int status = 0;
  if (pid < 0 || waitpid(pid, &status, 0) < 0) return 0;
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

int main(int argc, char *argv[]) {
  char reason[512] = "";
  const char *require = getenv("SHOPGPU_REQUIRE_GPU");
  if (!probe_in_child(reason, sizeof reason)) {
    if (require && strcmp(require, "1") == 0) {
      fprintf(stderr, "FAIL: SHOPGPU_REQUIRE_GPU=1 but no usable GPU: %s\n", reason);
      return 1;
    }
    fprintf(stderr, "skipped: no usable GPU: %s\n", reason);
    return 77;
  }
  fprintf(stderr, "gpu: %s\n", reason);
  struct criterion_test_set *tests = criterion_initialize();
  int result = 0;
  if (criterion_handle_args(argc, argv, true)) result = !criterion_run_all_tests(tests);
  criterion_finalize(tests);
  return result;
}
