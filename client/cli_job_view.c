/* How the CLI shows a job: the JSON object every jobs command and long-running command prints
 * with --json (a fixed shape, stable for scripts), the "key value" view of one job and the table
 * of `jobs list`. Pure formatting of a Job message (the current time is an argument). */
#include <grpc/status.h>
#include <inttypes.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "json.h"

/* The member set in the Job's result oneof, or NULL. */
static const ProtobufCMessage *job_result(const Shopgpu__V1__Job *job) {
  const ProtobufCMessageDescriptor *d = job->base.descriptor;
  for (unsigned i = 0; i < d->n_fields; i++) {
    const ProtobufCFieldDescriptor *f = &d->fields[i];
    if (!(f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) || f->type != PROTOBUF_C_TYPE_MESSAGE) continue;
    if (*(const uint32_t *)(const void *)((const char *)job + f->quantifier_offset) != f->id)
      continue;
    return *(const ProtobufCMessage *const *)(const void *)((const char *)job + f->offset);
  }
  return NULL;
}

/* A failed or cancelled job (or any with an error code) has an error to show. */
static int has_error(const Shopgpu__V1__Job *job) {
  return job->error_code != 0 || job->state == SHOPGPU__V1__JOB_STATE__JOB_STATE_FAILED ||
         job->state == SHOPGPU__V1__JOB_STATE__JOB_STATE_CANCELLED;
}

static void json_time(sg__json *j, const char *key, int64_t unix_ms) {
  sg__json_key(j, key);
  if (unix_ms > 0)
    sg__json_int(j, unix_ms);
  else
    sg__json_null(j);
}

static void json_progress(sg__json *j, const Shopgpu__V1__JobProgress *p) {
  sg__json_key(j, "progress");
  sg__json_begin_object(j);
  sg__json_key(j, "done");
  sg__json_uint(j, p ? p->done : 0);
  sg__json_key(j, "total");
  sg__json_uint(j, p ? p->total : 0);
  sg__json_key(j, "unit");
  sg__json_string(j, p ? p->unit : "");
  sg__json_key(j, "best");
  if (p && p->has_best)
    sg__json_double(j, p->best);
  else
    sg__json_null(j);
  sg__json_end_object(j);
}

static void json_error(sg__json *j, const Shopgpu__V1__Job *job) {
  sg__json_key(j, "error");
  if (!has_error(job)) {
    sg__json_null(j);
    return;
  }
  sg__json_begin_object(j);
  sg__json_key(j, "code");
  sg__json_string(
      j, shopgpu_status_code_name(job->error_code ? job->error_code : GRPC_STATUS_UNKNOWN));
  sg__json_key(j, "message");
  sg__json_string(j, job->error_message);
  sg__json_end_object(j);
}

void sg_cli_job_json(sg__json *j, const Shopgpu__V1__Job *job, int with_result) {
  sg__json_begin_object(j);
  sg__json_key(j, "id");
  sg__json_string(j, job->id);
  sg__json_key(j, "kind");
  sg__json_string(j, job->kind);
  sg__json_key(j, "state");
  sg__json_string(j, shopgpu_job_state_name(job->state));
  json_progress(j, job->progress);
  json_error(j, job);
  sg__json_key(j, "label");
  sg__json_string(j, job->label);
  sg__json_key(j, "priority");
  sg__json_int(j, job->priority);
  sg__json_key(j, "estimated_s");
  if (job->estimated_s > 0)
    sg__json_double(j, job->estimated_s);
  else
    sg__json_null(j);
  json_time(j, "created_at_unix_ms", job->created_at_unix_ms);
  json_time(j, "started_at_unix_ms", job->started_at_unix_ms);
  json_time(j, "finished_at_unix_ms", job->finished_at_unix_ms);
  if (with_result) {
    sg__json_key(j, "result");
    sg__json_message(j, job_result(job));
  }
  sg__json_end_object(j);
}

/* Free text on one line: control characters become spaces. */
static void put_clean(FILE *out, const char *s) {
  for (; s && *s; s++)
    fputc((unsigned char)*s < 0x20 || *s == 0x7f ? ' ' : *s, out);
}

void sg_cli_format_job_progress(char *buf, size_t size, const Shopgpu__V1__JobProgress *p) {
  const char *unit = p && p->unit[0] ? p->unit : NULL;
  if (p && p->total) {
    uint64_t pct = p->done >= p->total ? 100 : (uint64_t)((long double)p->done * 100 / p->total);
    snprintf(buf, size, "%" PRIu64 "%% %" PRIu64 "/%" PRIu64 "%s%s", pct, p->done, p->total,
             unit ? " " : "", unit ? unit : "");
  } else if (p && p->done) {
    snprintf(buf, size, "%" PRIu64 "%s%s", p->done, unit ? " " : "", unit ? unit : "");
  } else {
    snprintf(buf, size, "-");
  }
}

/* "2024-05-01T12:00:00.250Z" */
static void print_time(FILE *out, const char *key, int64_t unix_ms) {
  time_t t = (time_t)(unix_ms / 1000);
  struct tm tm;
  char buf[32];
  if (!gmtime_r(&t, &tm) || !strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm)) return;
  fprintf(out, "%-9s %s.%03dZ", key, buf, (int)(unix_ms % 1000));
}

static void print_times(FILE *out, const Shopgpu__V1__Job *job, int64_t now_ms) {
  char age[32];
  sg_cli_format_age(age, sizeof age, now_ms - job->created_at_unix_ms);
  print_time(out, "created", job->created_at_unix_ms);
  fprintf(out, " (%s ago)\n", age);
  if (job->started_at_unix_ms > 0) {
    print_time(out, "started", job->started_at_unix_ms);
    fputc('\n', out);
  }
  if (job->finished_at_unix_ms > 0) {
    print_time(out, "finished", job->finished_at_unix_ms);
    if (job->started_at_unix_ms > 0)
      fprintf(out, " (ran %.3f s)",
              (double)(job->finished_at_unix_ms - job->started_at_unix_ms) / 1000);
    fputc('\n', out);
  }
}

static void print_result(FILE *out, const Shopgpu__V1__Job *job) {
  fprintf(out, "%-9s ", "result");
  sg__json j;
  sg__json_init(&j, out);
  sg__json_message(&j, job_result(job));
  fputc('\n', out);
}

void sg_cli_job_print(FILE *out, const Shopgpu__V1__Job *job, int with_result, int64_t now_ms) {
  char progress[96];
  sg_cli_format_job_progress(progress, sizeof progress, job->progress);
  fprintf(out, "%-9s %s\n%-9s %s\n%-9s %s\n%-9s %s\n", "id", job->id, "kind", job->kind, "state",
          shopgpu_job_state_name(job->state), "progress", progress);
  if (job->progress && job->progress->has_best)
    fprintf(out, "%-9s %.6g\n", "best", job->progress->best);
  fprintf(out, "%-9s %d\n", "priority", (int)job->priority);
  if (job->estimated_s > 0) fprintf(out, "%-9s %.3g s\n", "estimate", job->estimated_s);
  if (job->label[0]) {
    fprintf(out, "%-9s ", "label");
    put_clean(out, job->label);
    fputc('\n', out);
  }
  print_times(out, job, now_ms);
  if (has_error(job)) {
    fprintf(out, "%-9s %s: ", "error",
            shopgpu_status_code_name(job->error_code ? job->error_code : GRPC_STATUS_UNKNOWN));
    put_clean(out, job->error_message);
    fputc('\n', out);
  }
  if (with_result) print_result(out, job);
}

void sg_cli_job_table(FILE *out, Shopgpu__V1__Job *const *jobs, size_t n, int64_t now_ms) {
  fprintf(out, "%-32s  %-13s  %-9s  %-24s  %5s  %s\n", "ID", "KIND", "STATE", "PROGRESS", "AGE",
          "LABEL");
  for (size_t i = 0; i < n; i++) {
    const Shopgpu__V1__Job *job = jobs[i];
    char progress[96], age[32];
    sg_cli_format_job_progress(progress, sizeof progress, job->progress);
    sg_cli_format_age(age, sizeof age, now_ms - job->created_at_unix_ms);
    fprintf(out, "%-32s  %-13s  %-9s  %-24s  %5s", job->id, job->kind,
            shopgpu_job_state_name(job->state), progress, age);
    if (job->label[0]) fputs("  ", out);
    put_clean(out, job->label);
    fputc('\n', out);
  }
}
