/* shopgpu CLI commands for the Jobs service: `jobs list`, `jobs get`, `jobs watch`,
 * `jobs cancel`, and `jobs sleep`, a diagnostic job that holds a worker (submitted and waited
 * for like every long-running command: cli_wait.c). Jobs print as cli_job_view.c shows them. */
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "json.h"

static int64_t now_unix_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The job as one JSON line, or as "key value" lines. */
static void print_job(sg_cli *cli, const Shopgpu__V1__Job *job, int with_result) {
  if (cli->json) {
    sg__json j;
    sg__json_init(&j, cli->out);
    sg_cli_job_json(&j, job, with_result);
    sg__json_finish(&j);
  } else {
    sg_cli_job_print(cli->out, job, with_result, now_unix_ms());
  }
}

/* --state NAME as a JobState (0 when absent). */
static int state_option(const sg_cli *cli, int *state) {
  const char *name = sg_cli_opt_str(cli, "state");
  *state = SHOPGPU__V1__JOB_STATE__JOB_STATE_UNSPECIFIED;
  if (!name) return SG_CLI_OK;
  for (int s = SHOPGPU__V1__JOB_STATE__JOB_STATE_QUEUED;
       s <= SHOPGPU__V1__JOB_STATE__JOB_STATE_CANCELLED; s++) {
    if (strcmp(name, shopgpu_job_state_name(s)) == 0) {
      *state = s;
      return SG_CLI_OK;
    }
  }
  return sg_cli_usage("--state: \"%.64s\" is not one of queued, running, succeeded, failed, "
                      "cancelled",
                      name);
}

static void print_list(sg_cli *cli, const Shopgpu__V1__ListJobsResponse *resp) {
  if (!cli->json) {
    sg_cli_job_table(cli->out, resp->jobs, resp->n_jobs, now_unix_ms());
    return;
  }
  sg__json j;
  sg__json_init(&j, cli->out);
  sg__json_begin_object(&j);
  sg__json_key(&j, "jobs");
  sg__json_begin_array(&j);
  for (size_t i = 0; i < resp->n_jobs; i++)
    sg_cli_job_json(&j, resp->jobs[i], 0);
  sg__json_end_array(&j);
  sg__json_end_object(&j);
  sg__json_finish(&j);
}

int sg_cli_cmd_jobs_list(sg_cli *cli, int argc, char **argv) {
  (void)argc;
  (void)argv;
  int64_t limit = 0;
  int state;
  if (sg_cli_opt_int(cli, "limit", 1, UINT32_MAX, &limit) != SG_CLI_OK ||
      state_option(cli, &state) != SG_CLI_OK)
    return SG_CLI_USAGE;
  Shopgpu__V1__ListJobsResponse *resp = NULL;
  shopgpu_status st;
  if (shopgpu_job_list(cli->client, (uint32_t)limit, state, sg_cli_opt_str(cli, "kind"), &resp,
                       cli->timeout_ms, &st) != 0)
    return sg_cli_rpc_error(cli, &st);
  print_list(cli, resp);
  protobuf_c_message_free_unpacked(&resp->base, NULL);
  return SG_CLI_OK;
}

int sg_cli_cmd_jobs_get(sg_cli *cli, int argc, char **argv) {
  (void)argc;
  int with_result = sg_cli_opt_flag(cli, "result");
  Shopgpu__V1__Job *job = NULL;
  shopgpu_status st;
  if (shopgpu_job_get(cli->client, argv[0], with_result, &job, cli->timeout_ms, &st) != 0)
    return sg_cli_rpc_error(cli, &st);
  print_job(cli, job, with_result);
  protobuf_c_message_free_unpacked(&job->base, NULL);
  return SG_CLI_OK;
}

int sg_cli_cmd_jobs_cancel(sg_cli *cli, int argc, char **argv) {
  (void)argc;
  Shopgpu__V1__Job *job = NULL;
  shopgpu_status st;
  if (shopgpu_job_cancel(cli->client, argv[0], &job, cli->timeout_ms, &st) != 0)
    return sg_cli_rpc_error(cli, &st);
  print_job(cli, job, 0);
  protobuf_c_message_free_unpacked(&job->base, NULL);
  return SG_CLI_OK;
}

/* watch --json: one line per update. */
static void print_update(sg_cli *cli, const Shopgpu__V1__Job *job, void *arg) {
  (void)arg;
  print_job(cli, job, 0);
}

int sg_cli_cmd_jobs_watch(sg_cli *cli, int argc, char **argv) {
  (void)argc;
  /* with --json the lines are the progress: a bar only when asked for */
  sg_cli_wait how = {.bar = cli->json ? cli->progress_forced : cli->progress};
  if (cli->json) how.on_update = print_update;
  Shopgpu__V1__Job *final = NULL;
  int rc = sg_cli_follow_job(cli, argv[0], &how, &final);
  if (final && !cli->json) print_job(cli, final, 0);
  if (final) protobuf_c_message_free_unpacked(&final->base, NULL);
  return rc;
}

int sg_cli_cmd_jobs_sleep(sg_cli *cli, int argc, char **argv) {
  (void)argc;
  int64_t ms = 0, step_ms = 0, priority = 0;
  if (sg_cli_parse_int("MS", argv[0], 0, UINT32_MAX, &ms) != SG_CLI_OK ||
      sg_cli_opt_int(cli, "step-ms", 0, UINT32_MAX, &step_ms) != SG_CLI_OK ||
      sg_cli_opt_int(cli, "priority", INT32_MIN, INT32_MAX, &priority) != SG_CLI_OK)
    return SG_CLI_USAGE;
  const char *label = sg_cli_opt_str(cli, "label");
  Shopgpu__V1__SleepJobRequest sleep_req = SHOPGPU__V1__SLEEP_JOB_REQUEST__INIT;
  sleep_req.duration_ms = (uint32_t)ms;
  sleep_req.step_ms = (uint32_t)step_ms;
  Shopgpu__V1__SubmitJobRequest req = SHOPGPU__V1__SUBMIT_JOB_REQUEST__INIT;
  req.priority = (int32_t)priority;
  union {
    const char *c;
    char *m;
  } text = {label ? label : ""}; /* protobuf-c wants char * for strings it only reads */
  req.label = text.m;
  req.request_case = SHOPGPU__V1__SUBMIT_JOB_REQUEST__REQUEST_SLEEP;
  req.sleep = &sleep_req;
  Shopgpu__V1__Job *final = NULL;
  int rc = sg_cli_start_job(cli, &req, &final);
  if (final) {
    print_job(cli, final, 1);
    protobuf_c_message_free_unpacked(&final->base, NULL);
  }
  return rc;
}
