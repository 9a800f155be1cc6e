/* shopgpu-probe: opens the backend the way the server does and says which one it got and why.
 *   shopgpu-probe [--backend auto|cpu|cuda] [--device N]
 * Exit 0 when a backend opened, 1 when the requested one is unusable, 2 on a usage error. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/backend.h"
#include "machine.h"

static void log_to_stderr(void *ctx, sg_log_level level, const char *msg) {
  (void)ctx;
  static const char *names[] = {"debug", "info", "warn", "error"};
  fprintf(stderr, "%s: %s\n", names[level], msg);
}

int main(int argc, char **argv) {
  sg_backend_config cfg = {.kind = SG_BACKEND_AUTO, .log = log_to_stderr};
  sg_err err = {0};
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--backend") == 0 && i + 1 < argc) {
      if (sg_backend_kind_parse(argv[++i], &cfg.kind, &err) != SG_OK) {
        fprintf(stderr, "shopgpu-probe: %s\n", err.msg);
        return 2;
      }
    } else if (strcmp(argv[i], "--device") == 0 && i + 1 < argc) {
      cfg.device = atoi(argv[++i]);
    } else {
      fprintf(stderr, "usage: shopgpu-probe [--backend auto|cpu|cuda] [--device N]\n");
      return 2;
    }
  }
  sg_bench_print_machine(stdout);
  sg_backend *be = sg_backend_open(&cfg, &err);
  if (!be) {
    printf("backend: none (%s requested)\nreason: %s\n", sg_backend_kind_name(cfg.kind),
           sg_err_message(&err));
    return 1;
  }
  printf("backend: %s\nreason: %s\n", sg_backend_name(be), sg_backend_reason(be));
  sg_backend_close(be);
  return 0;
}
