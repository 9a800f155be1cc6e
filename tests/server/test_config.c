/* Flag parsing: defaults, environment, flags winning over the environment, and errors that name
 * the flag and the value. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

static sg_status load(sg_config *cfg, sg_config_action *act, sg_err *e, int argc, char **argv) {
  FILE *devnull = fopen("/dev/null", "w");
  sg_status st = sg_config_load(cfg, argc, argv, devnull, act, e);
  fclose(devnull);
  return st;
}

Test(config, defaults) {
  unsetenv("SHOPGPU_LISTEN");
  sg_config cfg;
  sg_config_action act;
  sg_err e = {0};
  char *argv[] = {"shopgpu-server"};
  cr_assert_eq(load(&cfg, &act, &e, 1, argv), SG_OK, "%s", e.msg);
  cr_assert_eq(act, SG_CONFIG_RUN);
  cr_assert_str_eq(cfg.listen, "127.0.0.1:50051");
  cr_assert_eq(cfg.backend, SG_BACKEND_AUTO);
  cr_assert_str_eq(cfg.redis, "127.0.0.1:6379");
  cr_assert_eq(cfg.max_message_mb, 64);
  cr_assert_geq(cfg.threads, 2, "0 means the number of cores, at least 2");
  cr_assert_eq(cfg.log_level, SG_LOG_INFO);
}

Test(config, environment_then_flags_win) {
  setenv("SHOPGPU_LISTEN", "127.0.0.1:6000", 1);
  setenv("SHOPGPU_THREADS", "3", 1);
  setenv("SHOPGPU_BACKEND", "cpu", 1);
  sg_config cfg;
  sg_config_action act;
  sg_err e = {0};
  char *argv[] = {"s", "--listen", "unix:/tmp/x.sock", "--threads=7", "--log-level", "debug"};
  cr_assert_eq(load(&cfg, &act, &e, 6, argv), SG_OK, "%s", e.msg);
  cr_assert_str_eq(cfg.listen, "unix:/tmp/x.sock");
  cr_assert_eq(cfg.threads, 7);
  cr_assert_eq(cfg.backend, SG_BACKEND_CPU, "from the environment");
  cr_assert_eq(cfg.log_level, SG_LOG_DEBUG);
}

Test(config, bad_values_name_the_flag_and_value) {
  struct {
    char *flag, *value, *want;
  } cases[] = {
      {"--threads", "many", "threads: \"many\""},  {"--threads", "-1", "threads: \"-1\""},
      {"--max-message-mb", "0", "max-message-mb"}, {"--backend", "gpu", "\"gpu\""},
      {"--log-level", "loud", "log-level"},        {"--shutdown-grace", "nan", "shutdown-grace"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    sg_config cfg;
    sg_config_action act;
    sg_err e = {0};
    char *argv[] = {"s", cases[i].flag, cases[i].value};
    cr_expect_eq(load(&cfg, &act, &e, 3, argv), SG_INVALID_ARGUMENT, "%s %s", cases[i].flag,
                 cases[i].value);
    cr_expect(strstr(e.msg, cases[i].want), "message \"%s\" lacks \"%s\"", e.msg, cases[i].want);
  }
}

Test(config, bad_environment_names_the_variable) {
  setenv("SHOPGPU_POLLERS", "zero", 1);
  sg_config cfg;
  sg_config_action act;
  sg_err e = {0};
  char *argv[] = {"s"};
  cr_assert_eq(load(&cfg, &act, &e, 1, argv), SG_INVALID_ARGUMENT);
  cr_assert(strstr(e.msg, "SHOPGPU_POLLERS"), "%s", e.msg);
}

Test(config, unknown_flags_missing_values_and_lonely_tls_are_errors) {
  sg_config cfg;
  sg_config_action act;
  sg_err e = {0};
  char *a1[] = {"s", "--listne", "x"};
  cr_expect_eq(load(&cfg, &act, &e, 3, a1), SG_INVALID_ARGUMENT);
  cr_expect(strstr(e.msg, "--listne"), "%s", e.msg);
  sg_err_clear(&e);
  char *a2[] = {"s", "--listen"};
  cr_expect_eq(load(&cfg, &act, &e, 2, a2), SG_INVALID_ARGUMENT);
  cr_expect(strstr(e.msg, "missing value"), "%s", e.msg);
  sg_err_clear(&e);
  char *a3[] = {"s", "--tls-cert", "c.pem"};
  cr_expect_eq(load(&cfg, &act, &e, 3, a3), SG_INVALID_ARGUMENT);
  cr_expect(strstr(e.msg, "--tls-key"), "%s", e.msg);
}

Test(config, help_and_version_exit_ok) {
  sg_config cfg;
  sg_config_action act;
  sg_err e = {0};
  char *a1[] = {"s", "--help"};
  cr_assert_eq(load(&cfg, &act, &e, 2, a1), SG_OK);
  cr_assert_eq(act, SG_CONFIG_EXIT_OK);
  char *a2[] = {"s", "--version"};
  cr_assert_eq(load(&cfg, &act, &e, 2, a2), SG_OK);
  cr_assert_eq(act, SG_CONFIG_EXIT_OK);
}

Test(config, usage_lists_every_flag_with_its_variable) {
  char *text = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&text, &len);
  sg_config_usage(f);
  fclose(f);
  const char *want[] = {"--listen",
                        "SHOPGPU_LISTEN",
                        "--backend",
                        "--data-dir",
                        "--redis",
                        "--threads",
                        "--max-message-mb",
                        "--tls-cert",
                        "--tls-key",
                        "--auth-token-file",
                        "--metrics-listen",
                        "--log-level",
                        "SHOPGPU_AUTH_TOKEN_FILE"};
  for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
    cr_expect(strstr(text, want[i]), "usage lacks %s", want[i]);
  free(text);
}

Test(config, every_flag_is_documented_in_the_readme_with_its_variable) {
  char *usage = NULL, *readme = NULL;
  size_t ulen = 0, rlen = 0;
  FILE *f = open_memstream(&usage, &ulen);
  sg_config_usage(f);
  fclose(f);
  FILE *r = fopen(SG_TEST_SOURCE_DIR "/../README.md", "r");
  cr_assert_not_null(r, "README.md");
  f = open_memstream(&readme, &rlen);
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, r)) > 0)
    fwrite(buf, 1, n, f);
  fclose(f);
  fclose(r);
  int flags = 0;
  for (char *line = strtok(usage, "\n"); line; line = strtok(NULL, "\n")) {
    char name[64], env[64];
    if (sscanf(line, " --%63[a-z-]", name) == 1 && strcmp(name, "help") &&
        strcmp(name, "version")) {
      char want[80];
      snprintf(want, sizeof want, "`--%s", name);
      cr_expect(strstr(readme, want), "README lacks the flag --%s", name);
      flags++;
    }
    if (sscanf(line, " [%63[A-Z_]", env) == 1) {
      cr_expect(strstr(readme, env), "README lacks the variable %s", env);
    }
  }
  cr_assert_gt(flags, 15);
  free(usage);
  free(readme);
}
