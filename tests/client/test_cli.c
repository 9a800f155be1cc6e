/* The shopgpu CLI binary against a real server: info (table and --json, checked by Python's
 * json module as an independent parser), health exit codes, the error line and exit code for
 * RPC failures, usage errors (exit 2), environment defaults and the token file. */
#include "cli_run.h"

TestSuite(cli, .fini = cleanup_cli, .timeout = 60);

Test(cli, info_json_is_one_valid_object_with_the_proto_keys) {
  start_server(NULL);
  cli_run r;
  run_cli(&r, ARGS("--server", srv.addr, "--json", "info"), NULL);
  cr_assert_eq(r.status, 0, "stderr: %s", r.err);
  cr_expect_eq(r.err[0], '\0', "stderr not empty: %s", r.err);
  cr_expect_eq(r.out[0], '{');
  cr_expect_eq(strchr(r.out, '\n'), r.out + strlen(r.out) - 1, "not one line");
  const char *keys[] = {"\"version\":\"",
                        "\"commit\":\"",
                        "\"backend\":{\"name\":\"",
                        "\"uptime_s\":",
                        "\"listen\":\"",
                        "\"worker_threads\":",
                        "\"methods\":[{\"method\":\"",
                        "\"latency_p99_ms\":",
                        "\"/shopgpu.v1.Admin/GetServerInfo\""};
  for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
    cr_expect_neq(strstr(r.out, keys[i]), NULL, "missing %s", keys[i]);
  /* an independent parser checks the syntax and the values */
  const char *script =
      "import json,sys\n"
      "d=json.load(open(sys.argv[1]))\n"
      "assert d['backend']['name'] in ('cpu','cuda'), d['backend']\n"
      "assert d['version'] and d['listen']==sys.argv[2], d\n"
      "assert d['worker_threads']>0 and d['uptime_s']>=0\n"
      "m=[x['method'] for x in d['methods']]\n"
      "assert '/shopgpu.v1.Admin/GetServerInfo' in m and '/grpc.health.v1.Health/Check' in m, m\n"
      "assert all(x['calls']==x['ok']+x['rejected']+x['failed'] for x in d['methods'])\n";
  cr_expect_eq(sg_test_run_python("-c", ARGS(script, r.out_path, srv.addr)), 0,
               "python json check failed: %s", r.out);
  stop_server_checked();
}

Test(cli, info_table_lists_methods) {
  start_server(NULL);
  cli_run r;
  run_cli(&r, ARGS("info", "--server", srv.addr), NULL);
  cr_assert_eq(r.status, 0, "stderr: %s", r.err);
  cr_expect_neq(strstr(r.out, "version"), NULL);
  cr_expect_neq(strstr(r.out, "backend"), NULL);
  cr_expect_neq(strstr(r.out, srv.addr), NULL, "listen address missing");
  /* the handler threads (not the scheduler's workers: those are on the jobs line); this call */
  cr_expect_neq(strstr(r.out, "handler threads, 2 pollers; calls: 1 in flight, 0 queued\n"), NULL,
                "%s", r.out);
  cr_expect_neq(strstr(r.out, " scheduler workers; queued: "), NULL, "%s", r.out);
  cr_expect_neq(strstr(r.out, "METHOD"), NULL);
  cr_expect_neq(strstr(r.out, "/shopgpu.v1.Admin/GetServerInfo"), NULL);
  stop_server_checked();
}

Test(cli, health_exit_codes_and_json) {
  start_server(NULL);
  cli_run r;
  run_cli(&r, ARGS("--server", srv.addr, "health"), NULL);
  cr_expect_eq(r.status, 0);
  cr_expect_str_eq(r.out, "SERVING\n");
  run_cli(&r, ARGS("--server", srv.addr, "--json", "health", "shopgpu.v1.Admin"), NULL);
  cr_expect_eq(r.status, 0);
  cr_expect_str_eq(r.out, "{\"service\":\"shopgpu.v1.Admin\",\"status\":\"SERVING\"}\n");
  run_cli(&r, ARGS("--server", srv.addr, "health", "no.such.Service"), NULL);
  cr_expect_eq(r.status, 1);
  cr_expect_str_eq(r.out, "");
  cr_expect_eq(strncmp(r.err, "shopgpu: NOT_FOUND: ", 20), 0, "stderr: %s", r.err);
  /* the server from the environment */
  char env[300];
  snprintf(env, sizeof env, "SHOPGPU_SERVER=%s", srv.addr);
  run_cli(&r, ARGS("health"), ARGS(env));
  cr_expect_eq(r.status, 0, "stderr: %s", r.err);
  stop_server_checked();
}

/* output that never arrived (a full disk) is a failure, not exit 0 */
Test(cli, a_stdout_that_cannot_be_written_exits_1) {
  int rc = system(SG_CLI_BIN " --version > /dev/full 2>/dev/null");
  cr_assert(WIFEXITED(rc));
  cr_expect_eq(WEXITSTATUS(rc), 1, "--version into /dev/full exited %d", WEXITSTATUS(rc));
  rc = system(SG_CLI_BIN " --version > /dev/null");
  cr_expect_eq(WEXITSTATUS(rc), 0, "and 0 when it can write");
}

Test(cli, dead_server_prints_the_code_and_exits_1) {
  char addr[64];
  snprintf(addr, sizeof addr, "127.0.0.1:%d", dead_port());
  cli_run r;
  double t0 = now_s();
  run_cli(&r, ARGS("--server", addr, "--timeout", "5", "info"), NULL);
  cr_expect_eq(r.status, 1);
  cr_expect_lt(now_s() - t0, 4.0);
  cr_expect_eq(strncmp(r.err, "shopgpu: UNAVAILABLE: ", 22), 0, "stderr: %s", r.err);
  cr_expect_eq(strchr(r.err, '\n'), r.err + strlen(r.err) - 1, "not one line: %s", r.err);
  cr_expect_str_eq(r.out, "");
  run_cli(&r, ARGS("--server", addr, "--json", "health"), NULL);
  cr_expect_eq(r.status, 1);
  cr_expect_eq(strncmp(r.err, "shopgpu: UNAVAILABLE: ", 22), 0, "stderr: %s", r.err);
}

Test(cli, usage_errors_exit_2) {
  const char *const *cases[] = {
      ARGS("--server", "127.0.0.1:1"),   /* no command */
      ARGS("frobnicate"),                /* unknown command */
      ARGS("--bogus", "info"),           /* unknown option */
      ARGS("-x", "info"),                /* unknown short option */
      ARGS("health", "a", "b"),          /* too many arguments */
      ARGS("info", "extra"),             /* info takes none */
      ARGS("--timeout", "soon", "info"), /* not a number */
      ARGS("--timeout", "-1", "info"),   /* negative */
      ARGS("info", "--server"),          /* missing value */
      ARGS("--json=1", "info"),          /* flag with a value */
      ARGS("--token-file", "/no/such/token", "info"),
      ARGS("--tls-ca", "/no/such/ca.pem", "info"),
      ARGS("--detach", "info"),                            /* starts no job */
      ARGS("--detach", "jobs", "get", "0123456789abcdef"), /* nor does this */
      ARGS("--server", "127.0.0.1:99999", "info"),         /* was port 34463 (modulo 65536) */
      ARGS("--server", "unix:", "info"),                   /* an empty path */
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    cli_run r;
    run_cli(&r, cases[i], NULL);
    cr_expect_eq(r.status, 2, "case %zu: exit %d", i, r.status);
    cr_expect_eq(strncmp(r.err, "shopgpu: ", 9), 0, "case %zu: stderr: %s", i, r.err);
    cr_expect_str_eq(r.out, "", "case %zu", i);
  }
}

Test(cli, help_and_version) {
  cli_run r;
  run_cli(&r, ARGS("--help"), NULL);
  cr_expect_eq(r.status, 0);
  const char *want[] = {"usage: shopgpu", "info",           "health",      "--server",
                        "--token-file",   "--timeout",      "--tls-ca",    "--tls-server-name",
                        "--json",         "--detach",       "--progress",  "jobs list",
                        "jobs get",       "jobs watch",     "jobs cancel", "jobs sleep",
                        "Exit status",    "130 interrupted"};
  for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
    cr_expect_neq(strstr(r.out, want[i]), NULL, "--help lacks %s", want[i]);
  run_cli(&r, ARGS("--version"), NULL);
  cr_expect_eq(r.status, 0);
  cr_expect_eq(strncmp(r.out, "shopgpu ", 8), 0, "%s", r.out);
}

Test(cli, help_prints_every_synopsis_whole) {
  cli_run r;
  run_cli(&r, ARGS("--help"), NULL);
  cr_assert_eq(r.status, 0);
  /* model train's synopsis is the longest: it wraps, and ends with --priority before its summary */
  const char *train = strstr(r.out, "  model train --name NAME");
  cr_assert_not_null(train, "%s", r.out);
  const char *summary = strstr(train, "train a click model from");
  const char *priority = strstr(train, "[--item-features V.npy] [--priority P]\n");
  cr_assert_not_null(summary, "%s", train);
  cr_expect(priority && priority < summary, "model train's synopsis is cut: %.*s",
            (int)(summary - train), train);
}

Test(cli, short_option_errors_name_it_with_one_dash) {
  char addr[64];
  snprintf(addr, sizeof addr, "127.0.0.1:%d", dead_port());
  const struct {
    const char *const *args;
    const char *want;
  } cases[] = {
      {ARGS("--server", addr, "recommend", "--model", "m", "--user", "1", "-k", "0"),
       "shopgpu: -k: \"0\" is not an integer in 1..1024\n"},
      {ARGS("--server", addr, "recommend", "--model", "m", "--user", "1", "-k"),
       "shopgpu: -k: missing value\n"},
      {ARGS("--server", addr, "info", "-k", "3"), "shopgpu: info: takes no option -k\n"},
      {ARGS("--server", addr, "recommend", "--model", "m", "--user", "1", "--chunk", "3"),
       "shopgpu: recommend: takes no option --chunk\n"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    cli_run r;
    run_cli(&r, cases[i].args, NULL);
    cr_expect_eq(r.status, 2, "case %zu: exit %d", i, r.status);
    cr_expect_eq(strncmp(r.err, cases[i].want, strlen(cases[i].want)), 0, "case %zu: stderr: %s", i,
                 r.err);
  }
}

Test(cli, token_file_from_flag_or_environment) {
  make_aux_dir();
  char token_file[128], wrong_file[128];
  write_aux_file("token", "  cli-token \n", token_file, sizeof token_file);
  write_aux_file("wrong", "other\n", wrong_file, sizeof wrong_file);
  const char *flags[] = {"--auth-token-file", token_file, NULL};
  start_server(flags);
  cli_run r;
  run_cli(&r, ARGS("--server", srv.addr, "info"), NULL);
  cr_expect_eq(r.status, 1);
  cr_expect_eq(strncmp(r.err, "shopgpu: UNAUTHENTICATED: ", 26), 0, "stderr: %s", r.err);
  run_cli(&r, ARGS("--server", srv.addr, "--token-file", wrong_file, "info"), NULL);
  cr_expect_eq(r.status, 1);
  run_cli(&r, ARGS("--server", srv.addr, "--token-file", token_file, "--json", "info"), NULL);
  cr_expect_eq(r.status, 0, "stderr: %s", r.err);
  char env[200];
  snprintf(env, sizeof env, "SHOPGPU_TOKEN_FILE=%s", token_file);
  run_cli(&r, ARGS("--server", srv.addr, "info"), ARGS(env));
  cr_expect_eq(r.status, 0, "stderr: %s", r.err);
  run_cli(&r, ARGS("--server", srv.addr, "health"), NULL); /* health needs no token */
  cr_expect_eq(r.status, 0, "stderr: %s", r.err);
  stop_server_checked();
}
