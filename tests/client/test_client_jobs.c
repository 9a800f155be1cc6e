/* libshopgpu-client's Jobs functions against a real shopgpu-server: submit, watch to the end
 * (every update, in order), get with and without the result, a watch stopped by its callback,
 * cancel, list filters, server and local argument errors, and the state helpers. */
#include <ctype.h>
#include <grpc/status.h>

#include "client_test.h"
#include "shopgpu_client.h"

TestSuite(client_jobs, .fini = cleanup_all, .timeout = 60);

static shopgpu_client *open_client(void) {
  shopgpu_client_options o = {.target = srv.addr};
  shopgpu_status st;
  shopgpu_client *c = shopgpu_client_open(&o, &st);
  cr_assert_not_null(c, "open: %s", st.message);
  return c;
}

/* Submits a sleep job; returns it (the caller frees it). */
static Shopgpu__V1__Job *submit_sleep(shopgpu_client *c, uint32_t ms, uint32_t step_ms,
                                      int priority, const char *label) {
  Shopgpu__V1__SleepJobRequest sleep_req = SHOPGPU__V1__SLEEP_JOB_REQUEST__INIT;
  sleep_req.duration_ms = ms;
  sleep_req.step_ms = step_ms;
  Shopgpu__V1__SubmitJobRequest req = SHOPGPU__V1__SUBMIT_JOB_REQUEST__INIT;
  req.priority = priority;
  char label_buf[64];
  snprintf(label_buf, sizeof label_buf, "%s", label);
  req.label = label_buf;
  req.request_case = SHOPGPU__V1__SUBMIT_JOB_REQUEST__REQUEST_SLEEP;
  req.sleep = &sleep_req;
  Shopgpu__V1__Job *job = NULL;
  shopgpu_status st;
  int rc = shopgpu_job_submit(c, &req, &job, 5000, &st);
  cr_assert_eq(rc, 0, "submit: %s: %s", shopgpu_status_code_name(rc), st.message);
  cr_assert_not_null(job);
  return job;
}

static void free_job(Shopgpu__V1__Job *job) { protobuf_c_message_free_unpacked(&job->base, NULL); }

typedef struct updates {
  int n, stop_after;
  int states[64];
  uint64_t done[64], total[64];
} updates;

static int on_update(const Shopgpu__V1__Job *job, void *arg) {
  updates *u = arg;
  if (u->n < 64) {
    u->states[u->n] = job->state;
    u->done[u->n] = job->progress ? job->progress->done : 0;
    u->total[u->n] = job->progress ? job->progress->total : 0;
  }
  u->n++;
  return u->stop_after && u->n >= u->stop_after;
}

Test(client_jobs, submit_watch_to_the_end_then_get_the_result) {
  start_server(NULL);
  shopgpu_client *c = open_client();
  Shopgpu__V1__Job *job = submit_sleep(c, 200, 50, 7, "lib");
  cr_expect_eq(strlen(job->id), 32);
  for (int i = 0; i < 32; i++)
    cr_expect(isxdigit((unsigned char)job->id[i]) && !isupper((unsigned char)job->id[i]));
  cr_expect_eq(job->state, SHOPGPU__V1__JOB_STATE__JOB_STATE_QUEUED);
  cr_expect_str_eq(job->kind, "sleep");
  cr_expect_str_eq(job->label, "lib");
  cr_expect_eq(job->priority, 7);
  updates u = {0};
  shopgpu_status st;
  int rc = shopgpu_job_watch(c, job->id, on_update, &u, SHOPGPU_TIMEOUT_NONE, &st);
  cr_assert_eq(rc, 0, "watch: %s: %s", shopgpu_status_code_name(rc), st.message);
  /* 4 steps of 50 ms: the state now, at most one update per step, the final state */
  cr_assert(u.n >= 2 && u.n <= 6, "%d updates", u.n);
  for (int i = 1; i < u.n; i++)
    cr_expect_geq(u.done[i], u.done[i - 1], "progress went back at update %d", i);
  for (int i = 0; i < u.n - 1; i++)
    cr_expect(!shopgpu_job_state_final(u.states[i]), "final state before the end");
  cr_expect_eq(u.states[u.n - 1], SHOPGPU__V1__JOB_STATE__JOB_STATE_SUCCEEDED);
  cr_expect_eq(u.done[u.n - 1], 200);
  cr_expect_eq(u.total[u.n - 1], 200);
  Shopgpu__V1__Job *got = NULL;
  cr_assert_eq(shopgpu_job_get(c, job->id, 1, &got, 5000, &st), 0, "%s", st.message);
  cr_expect_eq(got->result_case, SHOPGPU__V1__JOB__RESULT_SLEEP);
  cr_expect_eq(got->sleep->steps, 4);
  cr_expect_eq(got->error_code, 0);
  cr_expect_gt(got->finished_at_unix_ms, 0);
  free_job(got);
  cr_assert_eq(shopgpu_job_get(c, job->id, 0, &got, 5000, &st), 0, "%s", st.message);
  cr_expect_eq(got->result_case, SHOPGPU__V1__JOB__RESULT__NOT_SET);
  free_job(got);
  free_job(job);
  shopgpu_client_close(c);
  stop_server_checked();
}

Test(client_jobs, a_stopped_watch_is_cancelled_and_the_job_runs_on_until_cancelled) {
  start_server(NULL);
  shopgpu_client *c = open_client();
  Shopgpu__V1__Job *job = submit_sleep(c, 60000, 0, 0, "");
  updates u = {.stop_after = 1};
  shopgpu_status st;
  double t0 = now_s();
  cr_expect_eq(shopgpu_job_watch(c, job->id, on_update, &u, 10000, &st), 1, "%s", st.message);
  cr_expect_lt(now_s() - t0, 2.0);
  cr_expect_eq(u.n, 1);
  Shopgpu__V1__Job *got = NULL;
  cr_assert_eq(shopgpu_job_get(c, job->id, 0, &got, 5000, &st), 0);
  cr_expect(!shopgpu_job_state_final(got->state), "state %d", got->state);
  free_job(got);
  cr_assert_eq(shopgpu_job_cancel(c, job->id, &got, 5000, &st), 0, "%s", st.message);
  cr_expect_str_eq(got->id, job->id);
  free_job(got);
  updates end = {0}; /* the watch ends with the cancelled state */
  cr_assert_eq(shopgpu_job_watch(c, job->id, on_update, &end, 10000, &st), 0, "%s", st.message);
  cr_expect_eq(end.states[end.n - 1], SHOPGPU__V1__JOB_STATE__JOB_STATE_CANCELLED);
  cr_assert_eq(shopgpu_job_get(c, job->id, 1, &got, 5000, &st), 0);
  cr_expect_eq(got->error_code, 1); /* CANCELLED */
  cr_expect_eq(got->result_case, SHOPGPU__V1__JOB__RESULT__NOT_SET);
  free_job(got);
  free_job(job);
  shopgpu_client_close(c);
  stop_server_checked();
}

Test(client_jobs, list_filters_by_limit_state_and_kind) {
  const char *flags[] = {"--backend", "cpu", "--cpu-workers", "1", NULL};
  start_server(flags);
  shopgpu_client *c = open_client();
  Shopgpu__V1__Job *a = submit_sleep(c, 60000, 0, 0, "a");
  Shopgpu__V1__Job *b = submit_sleep(c, 60000, 0, 0, "b"); /* waits behind a */
  Shopgpu__V1__ListJobsResponse *l = NULL;
  shopgpu_status st;
  cr_assert_eq(shopgpu_job_list(c, 0, 0, NULL, &l, 5000, &st), 0, "%s", st.message);
  cr_assert_eq(l->n_jobs, 2);
  cr_expect_str_eq(l->jobs[0]->id, b->id);
  cr_expect_str_eq(l->jobs[1]->id, a->id);
  protobuf_c_message_free_unpacked(&l->base, NULL);
  cr_assert_eq(shopgpu_job_list(c, 1, 0, "sleep", &l, 5000, &st), 0);
  cr_assert_eq(l->n_jobs, 1);
  cr_expect_str_eq(l->jobs[0]->id, b->id);
  protobuf_c_message_free_unpacked(&l->base, NULL);
  cr_assert_eq(
      shopgpu_job_list(c, 0, SHOPGPU__V1__JOB_STATE__JOB_STATE_SUCCEEDED, "", &l, 5000, &st), 0);
  cr_expect_eq(l->n_jobs, 0);
  protobuf_c_message_free_unpacked(&l->base, NULL);
  l = NULL;
  cr_expect_eq(shopgpu_job_list(c, 0, 0, "no_such_kind", &l, 5000, &st),
               GRPC_STATUS_INVALID_ARGUMENT);
  cr_expect_null(l);
  cr_expect_neq(strstr(st.message, "kind: \"no_such_kind\""), NULL, "%s", st.message);
  cr_expect_eq(shopgpu_job_list(c, 20000, 0, NULL, &l, 5000, &st), 3);
  cr_expect_null(l);
  cr_assert_eq(shopgpu_job_cancel(c, b->id, NULL, 5000, &st), 0);
  cr_assert_eq(shopgpu_job_cancel(c, a->id, NULL, 5000, &st), 0);
  free_job(a);
  free_job(b);
  shopgpu_client_close(c);
  stop_server_checked();
}

Test(client_jobs, unknown_malformed_and_missing_arguments) {
  start_server(NULL);
  shopgpu_client *c = open_client();
  Shopgpu__V1__Job *job = (Shopgpu__V1__Job *)(uintptr_t)1; /* must be reset */
  shopgpu_status st;
  cr_expect_eq(shopgpu_job_get(c, "0123456789abcdef0123456789abcdef", 0, &job, 5000, &st), 5);
  cr_expect_null(job);
  cr_expect_eq(strncmp(st.message, "id: no job ", 11), 0, "%s", st.message);
  cr_expect_eq(shopgpu_job_cancel(c, "xyz", &job, 5000, &st), 3);
  cr_expect_str_eq(st.message, "id: \"xyz\" is not a job id");
  updates u = {0};
  cr_expect_eq(shopgpu_job_watch(c, "xyz", on_update, &u, 5000, &st), 3);
  cr_expect_eq(u.n, 0);
  cr_expect_eq(shopgpu_job_get(c, NULL, 0, &job, 5000, &st), 3);
  cr_expect_str_eq(st.message, "id: NULL");
  cr_expect_eq(shopgpu_job_watch(c, "xyz", NULL, NULL, 5000, &st), 3);
  cr_expect_str_eq(st.message, "on_job: NULL");
  cr_expect_eq(shopgpu_job_submit(c, NULL, &job, 5000, &st), 3);
  Shopgpu__V1__SubmitJobRequest empty = SHOPGPU__V1__SUBMIT_JOB_REQUEST__INIT;
  cr_expect_eq(shopgpu_job_submit(c, &empty, &job, 5000, &st), 3);
  cr_expect_str_eq(st.message, "request: no job request is set");
  shopgpu_client_close(c);
  stop_server_checked();
}

Test(client_jobs, state_names_and_final_states) {
  const char *names[] = {"unspecified", "queued", "running", "succeeded", "failed", "cancelled"};
  for (int s = 0; s < 6; s++)
    cr_expect_str_eq(shopgpu_job_state_name(s), names[s]);
  cr_expect_str_eq(shopgpu_job_state_name(6), "unspecified");
  cr_expect_str_eq(shopgpu_job_state_name(-1), "unspecified");
  int final[] = {0, 0, 0, 1, 1, 1, 0};
  for (int s = 0; s < 7; s++)
    cr_expect_eq(shopgpu_job_state_final(s), final[s], "state %d", s);
}

Test(client_jobs, reconnect_backoff_option_is_checked) {
  shopgpu_client_options o = {.target = "127.0.0.1:1", .reconnect_backoff_max_ms = -1};
  shopgpu_status st;
  cr_expect_null(shopgpu_client_open(&o, &st));
  cr_expect_eq(st.code, 3);
  cr_expect_str_eq(st.message, "reconnect_backoff_max_ms: -1 < 0");
  o.reconnect_backoff_max_ms = 500;
  shopgpu_client *c = shopgpu_client_open(&o, &st);
  cr_expect_not_null(c, "%s", st.message);
  shopgpu_client_close(c);
}
