/* Running the shopgpu binary from a test: to the end (exit status, stdout and stderr captured in
 * files of a per-suite temp dir) or in the background (then signalled, waited for, read). The
 * suite's .fini must call cleanup_cli(). Include after client_test.h. */
#ifndef SG_TEST_CLI_RUN_H
#define SG_TEST_CLI_RUN_H

#include <fcntl.h>
#include <stdint.h>
#include <sys/wait.h>

#include "client_test.h"

#ifndef SG_CLI_BIN
#error "SG_CLI_BIN must name the shopgpu binary"
#endif

static char cli_dir[] = "/tmp/shopgpu-cli-XXXXXX"; /* outputs of the runs, one dir per test */

static inline void cleanup_cli(void) {
  cleanup_all();
  if (strcmp(cli_dir + sizeof cli_dir - 7, "XXXXXX") == 0) return; /* never created */
  char cmd[64];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", cli_dir);
  if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", cli_dir);
}

typedef struct cli_run {
  pid_t pid;  /* while running in the background */
  int status; /* exit status, 128+signal when killed */
  char out[65536], err[8192];
  char out_path[128], err_path[128];
} cli_run;

static inline void slurp(const char *path, char *buf, size_t size) {
  FILE *f = fopen(path, "r");
  size_t n = f ? fread(buf, 1, size - 1, f) : 0;
  buf[n] = '\0';
  if (f) fclose(f);
}

/* Starts shopgpu with args (NULL-terminated) and env entries "NAME=VALUE"; its output goes to
 * files named by tag (runs in the background at the same time need different tags). */
static inline void start_cli(cli_run *r, const char *tag, const char *const *args,
                             const char *const *env) {
  if (strcmp(cli_dir + sizeof cli_dir - 7, "XXXXXX") == 0) cr_assert_not_null(mkdtemp(cli_dir));
  snprintf(r->out_path, sizeof r->out_path, "%s/%s.out", cli_dir, tag);
  snprintf(r->err_path, sizeof r->err_path, "%s/%s.err", cli_dir, tag);
  const char *argv[40] = {SG_CLI_BIN};
  int n = 1;
  for (int i = 0; args[i] && n < 39; i++)
    argv[n++] = args[i];
  r->pid = fork();
  if (r->pid == 0) {
    unsetenv("SHOPGPU_SERVER");
    unsetenv("SHOPGPU_TOKEN_FILE");
    for (int i = 0; env && env[i]; i++)
      putenv((char *)(uintptr_t)env[i]);
    int out = open(r->out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int err = open(r->err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    dup2(out, STDOUT_FILENO);
    dup2(err, STDERR_FILENO);
    execv(SG_CLI_BIN, (char *const *)(uintptr_t)argv);
    _exit(127);
  }
  cr_assert(r->pid > 0, "fork");
}

/* Waits for a background run and reads its output. */
static inline void finish_cli(cli_run *r) {
  int status = 0;
  cr_assert(waitpid(r->pid, &status, 0) == r->pid);
  r->pid = 0;
  r->status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  slurp(r->out_path, r->out, sizeof r->out);
  slurp(r->err_path, r->err, sizeof r->err);
  printf("$ shopgpu ...: exit %d\nstdout: %sstderr: %s\n", r->status, r->out, r->err);
}

/* Runs shopgpu to the end (see start_cli). */
static inline void run_cli(cli_run *r, const char *const *args, const char *const *env) {
  start_cli(r, "run", args, env);
  finish_cli(r);
}

#define ARGS(...) ((const char *const[]){__VA_ARGS__, NULL})

#endif
