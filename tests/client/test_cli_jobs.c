/* The shopgpu CLI's jobs commands against a real server: sleep waits and exits 0, --detach
 * returns at once, cancel and watch (exit 1 naming CANCELLED), list order and filters, the exact
 * JSON shape (checked by Python's json module too), RPC and usage errors, Ctrl-C leaving the
 * job running, and a watch that outlives a server restart by polling. */
#include <ctype.h>

#include "cli_run.h"

static sg_test_server srv2; /* the restarted server */

static void cleanup_jobs(void) {
  if (srv2.pid > 0) sg_test_server_stop(&srv2, SIGKILL, 2);
  sg_test_server_cleanup(&srv2);
  cleanup_cli();
}

TestSuite(cli_jobs, .fini = cleanup_jobs, .timeout = 120);

#define ONE_WORKER ((const char *const[]){"--backend", "cpu", "--cpu-workers", "1", NULL})

static shopgpu_client *client_for(const char *addr) {
  shopgpu_client_options o = {.target = addr};
  shopgpu_status st;
  shopgpu_client *c = shopgpu_client_open(&o, &st);
  cr_assert_not_null(c, "open: %s", st.message);
  return c;
}

/* The job's state now, through the library. */
static int job_state(const char *addr, const char *id) {
  shopgpu_client *c = client_for(addr);
  Shopgpu__V1__Job *job = NULL;
  shopgpu_status st;
  int rc = shopgpu_job_get(c, id, 0, &job, 5000, &st);
  cr_assert_eq(rc, 0, "get %s: %s", id, st.message);
  int state = job->state;
  protobuf_c_message_free_unpacked(&job->base, NULL);
  shopgpu_client_close(c);
  return state;
}

static void wait_state(const char *addr, const char *id, int want) {
  int state = 0;
  for (double until = now_s() + 10; (state = job_state(addr, id)) != want && now_s() < until;)
    nanosleep(&(struct timespec){0, 10000000}, NULL);
  cr_assert_eq(state, want, "job %s: state %d, want %d", id, state, want);
}

static int is_job_id(const char *s) {
  for (int i = 0; i < 32; i++)
    if (!isxdigit((unsigned char)s[i]) || isupper((unsigned char)s[i])) return 0;
  return 1;
}

/* `--detach jobs sleep MS [more args]`: the id it prints (exactly one line of 32 hex digits). */
static void detach_sleep(char id[33], const char *ms, const char *label) {
  cli_run r;
  run_cli(&r, ARGS("--server", srv.addr, "--detach", "jobs", "sleep", ms, "--label", label), NULL);
  cr_assert_eq(r.status, 0, "stderr: %s", r.err);
  cr_assert_eq(strlen(r.out), 33, "not one id line: %s", r.out);
  cr_assert(is_job_id(r.out) && r.out[32] == '\n', "not an id: %s", r.out);
  memcpy(id, r.out, 32);
  id[32] = '\0';
}

/* The "id" of the first JSON object in text. */
static void json_id(const char *text, char id[33]) {
  const char *p = strstr(text, "\"id\":\"");
  cr_assert_not_null(p, "no id in %s", text);
  memcpy(id, p + 6, 32);
  id[32] = '\0';
  cr_assert(is_job_id(id), "bad id in %s", text);
}

Test(cli_jobs, sleep_waits_and_get_reports_it_succeeded) {
  start_server(NULL);
  cli_run r;
  double t0 = now_s();
  run_cli(&r, ARGS("--server", srv.addr, "--json", "jobs", "sleep", "300"), NULL);
  double dt = now_s() - t0;
  cr_assert_eq(r.status, 0, "stderr: %s", r.err);
  cr_expect_geq(dt, 0.3, "returned after %.3f s", dt);
  cr_expect_str_eq(r.err, "", "stderr is not a terminal: nothing is drawn");
  char id[33];
  json_id(r.out, id);
  cr_expect_neq(strstr(r.out, ",\"result\":{\"steps\":30}}\n"), NULL, "%s", r.out);
  run_cli(&r, ARGS("--server", srv.addr, "jobs", "get", id, "--json"), NULL);
  cr_assert_eq(r.status, 0, "stderr: %s", r.err);
  char want[512];
  snprintf(want, sizeof want,
           "{\"id\":\"%s\",\"kind\":\"sleep\",\"state\":\"succeeded\",\"progress\":{\"done\":300,"
           "\"total\":300,\"unit\":\"ms\",\"best\":null},\"error\":null,\"label\":\"\","
           "\"priority\":0,\"estimated_s\":0.3,\"created_at_unix_ms\":",
           id);
  cr_expect_eq(strncmp(r.out, want, strlen(want)), 0, "got %s\nwant %s...", r.out, want);
  cr_expect_eq(strstr(r.out, "\"result\""), NULL, "result without --result");
  const char *script = "import json,sys\n"
                       "d=json.load(open(sys.argv[1]))\n"
                       "assert list(d)[:5]==['id','kind','state','progress','error'], list(d)\n"
                       "assert d['id']==sys.argv[2] and d['state']=='succeeded', d\n"
                       "assert d['progress']['done']==d['progress']['total']==300, d\n"
                       "assert d['error'] is None, d\n"
                       "assert d['finished_at_unix_ms']>=d['started_at_unix_ms']>="
                       "d['created_at_unix_ms']>0, d\n";
  cr_expect_eq(sg_test_run_python("-c", ARGS(script, r.out_path, id)), 0, "%s", r.out);
  /* the human view, and the result on request */
  run_cli(&r, ARGS("--server", srv.addr, "jobs", "get", id, "--result"), NULL);
  cr_assert_eq(r.status, 0, "stderr: %s", r.err);
  cr_expect_neq(strstr(r.out, "state     succeeded\nprogress  100% 300/300 ms\n"), NULL);
  cr_expect_neq(strstr(r.out, "priority  0\nestimate  0.3 s\n"), NULL, "%s", r.out);
  cr_expect_neq(strstr(r.out, "result    {\"steps\":30}\n"), NULL, "%s", r.out);
  stop_server_checked();
}

Test(cli_jobs, plain_sleep_prints_the_job_and_progress_draws_only_when_asked) {
  start_server(NULL);
  cli_run r;
  run_cli(&r, ARGS("--server", srv.addr, "jobs", "sleep", "200", "--label", "lbl"), NULL);
  cr_assert_eq(r.status, 0, "stderr: %s", r.err);
  cr_expect_str_eq(r.err, "");
  cr_expect_neq(strstr(r.out, "kind      sleep\nstate     succeeded\n"), NULL, "%s", r.out);
  cr_expect_neq(strstr(r.out, "label     lbl\n"), NULL, "%s", r.out);
  run_cli(&r, ARGS("--server", srv.addr, "--progress", "jobs", "sleep", "300", "--step-ms", "100"),
          NULL);
  cr_assert_eq(r.status, 0, "stderr: %s", r.err);
  cr_expect_eq(r.err[0], '\r', "the bar redraws in place: %s", r.err);
  cr_expect_neq(strstr(r.err, "\rsucceeded ["), NULL, "%s", r.err);
  cr_expect_neq(strstr(r.err, "] 100%  300/300 ms  0:00 elapsed\033[K\n"), NULL, "%s", r.err);
  stop_server_checked();
}

Test(cli_jobs, detach_returns_at_once_with_an_id_that_get_finds) {
  start_server(ONE_WORKER);
  double t0 = now_s();
  char id[33], id2[33];
  detach_sleep(id, "20000", "first");
  cr_expect_lt(now_s() - t0, 2.0, "--detach waited");
  cli_run r;
  run_cli(&r, ARGS("--server", srv.addr, "--json", "--detach", "jobs", "sleep", "20000"), NULL);
  cr_assert_eq(r.status, 0, "stderr: %s", r.err);
  cr_assert_eq(strlen(r.out), 42, "%s", r.out);
  json_id(r.out, id2);
  char want[64];
  snprintf(want, sizeof want, "{\"id\":\"%s\"}\n", id2);
  cr_expect_str_eq(r.out, want);
  run_cli(&r, ARGS("--server", srv.addr, "--json", "jobs", "get", id), NULL);
  cr_assert_eq(r.status, 0);
  cr_expect(strstr(r.out, "\"state\":\"running\"") || strstr(r.out, "\"state\":\"queued\""), "%s",
            r.out);
  cr_expect_neq(strstr(r.out, "\"label\":\"first\""), NULL, "%s", r.out);
  /* one worker: the second waits behind the first */
  run_cli(&r, ARGS("--server", srv.addr, "--json", "jobs", "get", id2), NULL);
  cr_expect_neq(strstr(r.out, "\"state\":\"queued\""), NULL, "%s", r.out);
  run_cli(&r, ARGS("--server", srv.addr, "jobs", "cancel", id2), NULL);
  run_cli(&r, ARGS("--server", srv.addr, "jobs", "cancel", id), NULL);
  stop_server_checked();
}

Test(cli_jobs, cancel_then_watch_exits_1_naming_cancelled) {
  start_server(ONE_WORKER);
  char id[33];
  detach_sleep(id, "60000", "long");
  wait_state(srv.addr, id, SHOPGPU__V1__JOB_STATE__JOB_STATE_RUNNING);
  cli_run r;
  run_cli(&r, ARGS("--server", srv.addr, "jobs", "cancel", id), NULL);
  cr_assert_eq(r.status, 0, "stderr: %s", r.err);
  cr_expect_neq(strstr(r.out, id), NULL, "%s", r.out);
  wait_state(srv.addr, id, SHOPGPU__V1__JOB_STATE__JOB_STATE_CANCELLED);
  run_cli(&r, ARGS("--server", srv.addr, "--json", "jobs", "get", id), NULL);
  cr_expect_neq(strstr(r.out, "\"state\":\"cancelled\""), NULL, "%s", r.out);
  cr_expect_neq(strstr(r.out, "\"error\":{\"code\":\"CANCELLED\",\"message\":\"cancelled\"}"), NULL,
                "%s", r.out);
  char want[160];
  snprintf(want, sizeof want, "shopgpu: job %s cancelled: CANCELLED: cancelled\n", id);
  run_cli(&r, ARGS("--server", srv.addr, "jobs", "watch", id), NULL);
  cr_expect_eq(r.status, 1);
  cr_expect_str_eq(r.err, want);
  cr_expect_neq(strstr(r.out, "state     cancelled\n"), NULL, "%s", r.out);
  cr_expect_neq(strstr(r.out, "error     CANCELLED: cancelled\n"), NULL, "%s", r.out);
  /* --json: the final state is the one line */
  run_cli(&r, ARGS("--server", srv.addr, "--json", "jobs", "watch", id), NULL);
  cr_expect_eq(r.status, 1);
  cr_expect_str_eq(r.err, want);
  cr_expect_eq(strchr(r.out, '\n'), r.out + strlen(r.out) - 1, "not one line: %s", r.out);
  cr_expect_neq(strstr(r.out, "\"state\":\"cancelled\""), NULL, "%s", r.out);
  stop_server_checked();
}

Test(cli_jobs, watch_json_prints_each_update_and_ends_with_the_final_one) {
  start_server(NULL);
  char id[33];
  cli_run r;
  run_cli(&r, ARGS("--server", srv.addr, "--detach", "jobs", "sleep", "1000", "--step-ms", "100"),
          NULL);
  cr_assert_eq(r.status, 0, "stderr: %s", r.err);
  memcpy(id, r.out, 32);
  id[32] = '\0';
  run_cli(&r, ARGS("--server", srv.addr, "--json", "jobs", "watch", id), NULL);
  cr_assert_eq(r.status, 0, "stderr: %s", r.err);
  cr_expect_str_eq(r.err, "");
  /* JSON lines: the same job, progress that never goes back, the final state last and only
   * there, one line per change (10 steps of 100 ms: at most 1 + 10 + 1 lines) */
  const char *script =
      "import json,sys\n"
      "ls=[json.loads(l) for l in open(sys.argv[1])]\n"
      "assert 2<=len(ls)<=12, len(ls)\n"
      "assert all(d['id']==sys.argv[2] for d in ls)\n"
      "dn=[d['progress']['done'] for d in ls]\n"
      "assert dn==sorted(dn), dn\n"
      "st=[d['state'] for d in ls]\n"
      "assert st[-1]=='succeeded' and 'succeeded' not in st[:-1], st\n"
      "assert ls[-1]['progress']=={'done':1000,'total':1000,'unit':'ms','best':None}, ls[-1]\n";
  cr_expect_eq(sg_test_run_python("-c", ARGS(script, r.out_path, id)), 0, "%s", r.out);
  /* a job already final: one line */
  run_cli(&r, ARGS("--server", srv.addr, "--json", "jobs", "watch", id), NULL);
  cr_expect_eq(r.status, 0);
  cr_expect_eq(strchr(r.out, '\n'), r.out + strlen(r.out) - 1, "not one line: %s", r.out);
  stop_server_checked();
}

/* `--json jobs list ARGS...` must list exactly the ids given, in that order. */
static void expect_list(const char *const *args, const char *const *ids) {
  const char *argv[16] = {"--server", srv.addr, "--json", "jobs", "list"};
  int n = 5;
  for (int i = 0; args[i]; i++)
    argv[n++] = args[i];
  argv[n] = NULL;
  cli_run r;
  run_cli(&r, argv, NULL);
  cr_assert_eq(r.status, 0, "stderr: %s", r.err);
  char want[1024] = "{\"jobs\":[";
  const char *p = r.out;
  for (int i = 0; ids[i]; i++) {
    char id[33];
    cr_assert_not_null(p = strstr(p, "{\"id\":\""), "job %d missing: %s", i, r.out);
    json_id(p, id);
    cr_expect_str_eq(id, ids[i], "job %d", i);
    p += 7;
  }
  cr_expect_null(strstr(p, "{\"id\":\""), "more jobs than expected: %s", r.out);
  if (!ids[0]) cr_expect_str_eq(r.out, strcat(want, "]}\n"));
}

Test(cli_jobs, list_is_newest_first_and_filters_by_state_kind_and_limit) {
  start_server(ONE_WORKER);
  char a[33], b[33], c[33];
  detach_sleep(a, "60000", "a");
  wait_state(srv.addr, a, SHOPGPU__V1__JOB_STATE__JOB_STATE_RUNNING);
  detach_sleep(b, "100", "b");
  detach_sleep(c, "100", "c");
  expect_list(ARGS(NULL), ARGS(c, b, a));
  expect_list(ARGS("--state", "running"), ARGS(a));
  expect_list(ARGS("--state", "queued"), ARGS(c, b));
  expect_list(ARGS("--kind", "sleep", "--limit", "2"), ARGS(c, b));
  expect_list(ARGS("--limit=1"), ARGS(c));
  expect_list(ARGS("--state", "succeeded"), ARGS(NULL));
  /* a kind that does not exist is an error naming the kinds (not an empty list) */
  cli_run r;
  run_cli(&r, ARGS("--server", srv.addr, "jobs", "list", "--kind", "nope"), NULL);
  cr_expect_eq(r.status, 1);
  cr_expect_neq(strstr(r.err, "INVALID_ARGUMENT: kind: \"nope\" is not a job kind (sleep, "), NULL,
                "%s", r.err);
  /* the table: a header, then one row per job, newest first */
  run_cli(&r, ARGS("--server", srv.addr, "jobs", "list"), NULL);
  cr_assert_eq(r.status, 0, "stderr: %s", r.err);
  const char *header = "ID                                KIND           STATE      PROGRESS"
                       "                    AGE  LABEL\n";
  cr_expect_eq(strncmp(r.out, header, strlen(header)), 0, "%s", r.out);
  char row[160]; /* then AGE, right-aligned in 5 ("   0s", or more on a slow machine) */
  snprintf(row, sizeof row, "\n%s  sleep          queued     -                         ", c);
  const char *at = strstr(r.out, row);
  cr_expect_not_null(at, "no row %s in %s", row, r.out);
  if (at) cr_expect_eq(strncmp(at + strlen(row) + 4, "s  c\n", 5), 0, "row: %.120s", at);
  cr_expect_lt(strstr(r.out, c), strstr(r.out, b));
  cr_expect_lt(strstr(r.out, b), strstr(r.out, a));
  /* cancel a: b and c run and succeed */
  run_cli(&r, ARGS("--server", srv.addr, "jobs", "cancel", a), NULL);
  run_cli(&r, ARGS("--server", srv.addr, "jobs", "watch", c), NULL);
  cr_expect_eq(r.status, 0, "stderr: %s", r.err);
  wait_state(srv.addr, b, SHOPGPU__V1__JOB_STATE__JOB_STATE_SUCCEEDED);
  expect_list(ARGS("--state", "succeeded"), ARGS(c, b));
  expect_list(ARGS("--state", "cancelled"), ARGS(a));
  stop_server_checked();
}

Test(cli_jobs, unknown_and_malformed_ids_and_bad_requests_exit_1) {
  start_server(NULL);
  const char *cmds[] = {"get", "watch", "cancel"};
  for (size_t i = 0; i < 3; i++) {
    cli_run r;
    run_cli(&r, ARGS("--server", srv.addr, "jobs", cmds[i], "0123456789abcdef0123456789abcdef"),
            NULL);
    cr_expect_eq(r.status, 1, "%s", cmds[i]);
    cr_expect_str_eq(r.err,
                     "shopgpu: NOT_FOUND: id: no job 0123456789abcdef0123456789abcdef (unknown, "
                     "or deleted: --job-ttl, --max-jobs)\n",
                     "%s", cmds[i]);
    cr_expect_str_eq(r.out, "");
    run_cli(&r, ARGS("--server", srv.addr, "--json", "jobs", cmds[i], "not-an-id"), NULL);
    cr_expect_eq(r.status, 1, "%s", cmds[i]);
    cr_expect_str_eq(r.err, "shopgpu: INVALID_ARGUMENT: id: \"not-an-id\" is not a job id\n");
    cr_expect_str_eq(r.out, "");
  }
  cli_run r;
  run_cli(&r, ARGS("--server", srv.addr, "jobs", "sleep", "10", "--priority", "500"), NULL);
  cr_expect_eq(r.status, 1);
  cr_expect_str_eq(r.err, "shopgpu: INVALID_ARGUMENT: priority: 500 is outside -100..100\n");
  run_cli(&r, ARGS("--server", srv.addr, "jobs", "list", "--limit", "20000"), NULL);
  cr_expect_eq(r.status, 1);
  cr_expect_str_eq(r.err, "shopgpu: INVALID_ARGUMENT: limit: 20000 > 10000\n");
  stop_server_checked();
}

Test(cli_jobs, usage_errors_exit_2) {
  char addr[64];
  snprintf(addr, sizeof addr, "127.0.0.1:%d", dead_port()); /* never reached */
  const char *id = "0123456789abcdef0123456789abcdef";
  const char *const *cases[] = {
      ARGS("jobs"),                                  /* no subcommand */
      ARGS("jobs", "frobnicate"),                    /* unknown subcommand */
      ARGS("jobs", "get"),                           /* no id */
      ARGS("jobs", "get", id, id),                   /* two ids */
      ARGS("jobs", "list", "extra"),                 /* list takes no argument */
      ARGS("jobs", "list", "--state", "bogus"),      /* not a state */
      ARGS("jobs", "list", "--limit", "0"),          /* below 1 */
      ARGS("jobs", "list", "--limit", "ten"),        /* not a number */
      ARGS("jobs", "list", "--limit"),               /* missing value */
      ARGS("jobs", "get", id, "--state", "queued"),  /* not an option of get */
      ARGS("jobs", "get", id, "--result=yes"),       /* a flag with a value */
      ARGS("info", "--result"),                      /* info takes no options */
      ARGS("jobs", "sleep", "soon"),                 /* MS not a number */
      ARGS("jobs", "sleep", "-5"),                   /* an unknown short option */
      ARGS("jobs", "sleep", "99999999999"),          /* over uint32 */
      ARGS("jobs", "sleep", "10", "--step-ms", "x"), /* not a number */
      ARGS("jobs", "sleep", "10", "--priority", "1.5"),
      ARGS("jobs", "sleep", "10", "--label"), /* missing value */
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    const char *argv[16] = {"--server", addr};
    int n = 2;
    for (int k = 0; cases[i][k]; k++)
      argv[n++] = cases[i][k];
    argv[n] = NULL;
    cli_run r;
    run_cli(&r, argv, NULL);
    cr_expect_eq(r.status, 2, "case %zu: exit %d", i, r.status);
    cr_expect_eq(strncmp(r.err, "shopgpu: ", 9), 0, "case %zu: stderr: %s", i, r.err);
    cr_expect_neq(strstr(r.err, "Try 'shopgpu --help'."), NULL, "case %zu: %s", i, r.err);
    cr_expect_str_eq(r.out, "", "case %zu", i);
  }
}

Test(cli_jobs, ctrl_c_stops_waiting_but_not_the_job) {
  start_server(NULL);
  cli_run r;
  start_cli(&r, "sleep", ARGS("--server", srv.addr, "jobs", "sleep", "30000"), NULL);
  /* the job the CLI started, once it runs */
  shopgpu_client *c = client_for(srv.addr);
  Shopgpu__V1__ListJobsResponse *list = NULL;
  for (double until = now_s() + 10; now_s() < until;) {
    cr_assert_eq(
        shopgpu_job_list(c, 0, SHOPGPU__V1__JOB_STATE__JOB_STATE_RUNNING, NULL, &list, 5000, NULL),
        0);
    if (list->n_jobs) break;
    protobuf_c_message_free_unpacked(&list->base, NULL);
    list = NULL;
    nanosleep(&(struct timespec){0, 20000000}, NULL);
  }
  cr_assert(list && list->n_jobs == 1, "the job never ran");
  char id[33];
  snprintf(id, sizeof id, "%s", list->jobs[0]->id);
  protobuf_c_message_free_unpacked(&list->base, NULL);
  nanosleep(&(struct timespec){0, 200000000}, NULL); /* the CLI is watching by now */
  kill(r.pid, SIGINT);
  finish_cli(&r);
  cr_expect_eq(r.status, 130);
  char want[400];
  snprintf(want, sizeof want,
           "shopgpu: interrupted; job %s keeps running on the server\n"
           "shopgpu: follow it again with: shopgpu --server %s jobs watch %s\n",
           id, srv.addr, id);
  cr_expect_str_eq(r.err, want);
  cr_expect_str_eq(r.out, "");
  cr_expect_eq(job_state(srv.addr, id), SHOPGPU__V1__JOB_STATE__JOB_STATE_RUNNING);
  cr_assert_eq(shopgpu_job_cancel(c, id, NULL, 5000, NULL), 0);
  shopgpu_client_close(c);
  stop_server_checked();
}

Test(cli_jobs, watch_outlives_a_server_restart_by_polling) {
  start_server(NULL);
  char id[33];
  detach_sleep(id, "60000", "restart");
  cli_run r;
  start_cli(&r, "watch", ARGS("--server", srv.addr, "--json", "jobs", "watch", id), NULL);
  char out[4096] = "";
  for (double until = now_s() + 10; !strchr(out, '\n') && now_s() < until;) {
    nanosleep(&(struct timespec){0, 20000000}, NULL);
    slurp(r.out_path, out, sizeof out);
  }
  cr_assert_neq(strchr(out, '\n'), NULL, "the watch printed nothing");
  cr_assert_eq(sg_test_server_stop(&srv, SIGKILL, 5), 128 + SIGKILL);
  nanosleep(&(struct timespec){0, 300000000}, NULL);
  cr_assert_eq(waitpid(r.pid, NULL, WNOHANG), 0, "the CLI gave up when the server went away");
  /* the same address and data dir: the job that was running is now failed */
  const char *flags[] = {"--data-dir", srv.dir, "--listen", srv.addr, NULL};
  cr_assert_eq(sg_test_server_start(&srv2, flags), 0);
  double t0 = now_s();
  finish_cli(&r);
  cr_expect_lt(now_s() - t0, 30.0, "took %.1f s after the restart", now_s() - t0);
  cr_expect_eq(r.status, 1);
  char want[200];
  snprintf(want, sizeof want,
           "shopgpu: job %s failed: UNAVAILABLE: server stopped while the job was running\n", id);
  cr_expect_str_eq(r.err, want);
  const char *last = r.out + strlen(r.out) - 1;
  while (last > r.out && last[-1] != '\n')
    last--;
  cr_expect_neq(strstr(last, "\"state\":\"failed\""), NULL, "last line: %s", last);
  cr_expect_neq(strstr(last, "\"error\":{\"code\":\"UNAVAILABLE\""), NULL, "last line: %s", last);
  cr_expect_eq(sg_test_server_stop(&srv2, SIGTERM, 10), 0);
}
