/* The Jobs service through the independent Python client: submit, watch, result, cancel, list,
 * priorities, bad requests, a restart on the same data dir with a finished and a running job,
 * and the TTL. */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "pyclient.h"
#include "server_fixture.h"

TestSuite(jobs, .timeout = 120);

Test(jobs, submit_watch_get_cancel_list_and_bad_requests) { sg_test_scenario("jobs", NULL, NULL); }

Test(jobs, a_higher_priority_job_starts_first) {
  const char *flags[] = {"--backend", "cpu", "--cpu-workers", "1", NULL};
  sg_test_scenario("jobs_priority", flags, NULL);
}

/* stop_sig: SIGTERM (the scheduler fails the running job as it stops) or SIGKILL (the next start
 * finds it marked running on disk and fails it then) */
static void restart_keeps_jobs(int stop_sig) {
  sg_test_server a, b;
  cr_assert_eq(sg_test_server_start(&a, NULL), 0);
  char state[320];
  snprintf(state, sizeof state, "%s/ids", a.dir);
  const char *args[] = {state, NULL};
  int rc = sg_test_pyclient(&a, "jobs_restart_before", args);
  cr_assert_eq(rc, 0, "pyclient jobs_restart_before exited %d", rc);
  if (stop_sig == SIGKILL) { /* a crash 6 s into the job, past a heartbeat, noted in ms */
    sleep(6);
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    FILE *f = fopen(state, "a");
    cr_assert_not_null(f, "%s", state);
    fprintf(f, "%lld\n", (long long)now.tv_sec * 1000 + now.tv_nsec / 1000000);
    fclose(f);
  }
  int st = sg_test_server_stop(&a, stop_sig, 20);
  cr_assert_eq(st, stop_sig == SIGTERM ? 0 : 128 + SIGKILL, "first server exit status %d", st);
  if (stop_sig == SIGKILL) sleep(3); /* the crashed job must not end at the restart */
  const char *flags[] = {"--data-dir", a.dir, NULL}; /* the same data dir */
  cr_assert_eq(sg_test_server_start(&b, flags), 0);
  const char *after[] = {state, stop_sig == SIGKILL ? "crash" : "stop", NULL};
  rc = sg_test_pyclient(&b, "jobs_restart_after", after);
  cr_expect_eq(rc, 0, "pyclient jobs_restart_after exited %d", rc);
  cr_expect_eq(sg_test_server_stop(&b, SIGTERM, 20), 0, "second server exit status");
  sg_test_server_cleanup(&b);
  sg_test_server_cleanup(&a);
}

Test(jobs, finished_jobs_survive_a_restart_and_a_running_one_is_reported_failed) {
  restart_keeps_jobs(SIGTERM);
}

Test(jobs, after_a_crash_the_job_that_was_running_is_reported_failed) {
  restart_keeps_jobs(SIGKILL);
}

/* A result that cannot be written (a full disk; here a file size limit) fails the job with
 * that reason, also after a restart: it claimed SUCCEEDED with nothing on disk, and came back
 * from a restart as "server stopped before the job started". */
Test(jobs, a_result_that_cannot_be_saved_fails_the_job) {
  sg_test_server a, b;
  cr_assert_eq(sg_test_server_start_limited(&a, NULL, 64 * 1024), 0);
  char state[320];
  snprintf(state, sizeof state, "%s/ids", a.dir);
  const char *args[] = {state, NULL};
  int rc = sg_test_pyclient(&a, "jobs_unsaved_before", args);
  cr_assert_eq(rc, 0, "pyclient jobs_unsaved_before exited %d", rc);
  cr_assert_eq(sg_test_server_stop(&a, SIGTERM, 20), 0, "first server exit status");
  const char *flags[] = {"--data-dir", a.dir, NULL};
  cr_assert_eq(sg_test_server_start(&b, flags), 0);
  rc = sg_test_pyclient(&b, "jobs_unsaved_after", args);
  cr_expect_eq(rc, 0, "pyclient jobs_unsaved_after exited %d", rc);
  cr_expect_eq(sg_test_server_stop(&b, SIGTERM, 20), 0, "second server exit status");
  sg_test_server_cleanup(&b);
  sg_test_server_cleanup(&a);
}

/* A training stores its model in its last step and then writes its end: a server that died in
 * between reports the job failed, and says which model it had stored (a client would else train
 * it again). The window is made by rewriting job.pb as it was then. */
Test(jobs, a_training_cut_after_storing_its_model_names_the_model) {
  sg_test_server a, b;
  cr_assert_eq(sg_test_server_start(&a, NULL), 0);
  const char *args[] = {a.dir, NULL};
  cr_assert_eq(sg_test_pyclient(&a, "jobs_trained_before", args), 0);
  cr_assert_eq(sg_test_server_stop(&a, SIGTERM, 20), 0);
  cr_assert_eq(sg_test_pyclient(&a, "jobs_trained_rewind", args), 0);
  const char *flags[] = {"--data-dir", a.dir, NULL};
  cr_assert_eq(sg_test_server_start(&b, flags), 0);
  cr_expect_eq(sg_test_pyclient(&b, "jobs_trained_after", args), 0);
  cr_expect_eq(sg_test_server_stop(&b, SIGTERM, 20), 0);
  sg_test_server_cleanup(&b);
  sg_test_server_cleanup(&a);
}

/* --job-ttl deletes a finished job's directory with every file in it, on an idle server too; a
 * directory without job.pb (a crash mid-create, or the files an older build failed to delete) is
 * removed at start. */
Test(jobs, max_jobs_deletes_the_oldest_finished_and_refuses_when_none_is) {
  sg_test_server s;
  const char *flags[] = {"--max-jobs", "3", "--backend", "cpu", "--cpu-workers", "1", NULL};
  cr_assert_eq(sg_test_server_start(&s, flags), 0);
  const char *args[] = {s.dir, NULL};
  int rc = sg_test_pyclient(&s, "jobs_cap", args);
  cr_expect_eq(rc, 0, "pyclient jobs_cap exited %d", rc);
  rc = sg_test_pyclient(&s, "jobs_cap_churn", args);
  cr_expect_eq(rc, 0, "pyclient jobs_cap_churn exited %d", rc);
  cr_expect_eq(sg_test_server_stop(&s, SIGTERM, 20), 0, "server exit status");
  sg_test_server_cleanup(&s);
}

Test(jobs, the_ttl_deletes_finished_jobs_with_their_files) {
  sg_test_server a, b;
  cr_assert_eq(sg_test_server_start(&a, NULL), 0);
  cr_assert_eq(sg_test_server_stop(&a, SIGTERM, 20), 0);
  static const char orphan[] = "0123456789abcdef0123456789abcdef";
  char path[512];
  snprintf(path, sizeof path, "%s/jobs/%s", a.dir, orphan);
  cr_assert_eq(mkdir(path, 0755), 0, "%s", path);
  snprintf(path, sizeof path, "%s/jobs/%s/recommendations.bin", a.dir, orphan);
  FILE *f = fopen(path, "w");
  cr_assert_not_null(f);
  fputs("left over", f);
  fclose(f);
  const char *flags[] = {"--data-dir", a.dir, "--job-ttl", "0.8", "--backend", "cpu", NULL};
  cr_assert_eq(sg_test_server_start(&b, flags), 0);
  const char *args[] = {a.dir, orphan, NULL};
  int rc = sg_test_pyclient(&b, "jobs_ttl", args);
  cr_expect_eq(rc, 0, "pyclient jobs_ttl exited %d", rc);
  cr_expect_eq(sg_test_server_stop(&b, SIGTERM, 20), 0, "server exit status");
  sg_test_server_cleanup(&b);
  sg_test_server_cleanup(&a);
}
