/* The shopgpu CLI's shared pieces: the context every command runs with, the command table's
 * row type, exit codes, the helpers commands use to read their options and report errors, and
 * the job helpers every long-running command uses (start, wait with a progress bar, detach).
 * A new subcommand is one row in cli.c's table plus one sg_cli_cmd_* function (in a
 * cli_<area>.c file). */
#ifndef SG_CLI_H
#define SG_CLI_H

#include <stdint.h>
#include <stdio.h>

#include "shopgpu_client.h"

enum {
  SG_CLI_OK = 0,    /* success (health: SERVING; a job: SUCCEEDED) */
  SG_CLI_FAIL = 1,  /* the RPC failed, or the answer is a negative one (health: not SERVING; a
                       job that failed or was cancelled) */
  SG_CLI_USAGE = 2, /* bad command line, unreadable token file */
  SG_CLI_INTERRUPTED = 130, /* Ctrl-C while waiting for a job (which keeps running) */
};

#define SG_CLI_MAX_OPTS 16

/* A command option given on the line ("--state running"): value NULL for a flag. */
typedef struct sg_cli_opt {
  const char *name; /* without the dashes */
  const char *value;
} sg_cli_opt;

typedef struct sg_cli {
  shopgpu_client *client;
  int json;            /* --json: one JSON document on stdout */
  int detach;          /* --detach: commands that start a job print its id and return */
  int progress;        /* draw progress bars on stderr: it is a terminal, or --progress */
  int progress_forced; /* --progress was given */
  int64_t timeout_ms;  /* per call */
  int timeout_given;   /* --timeout was given (streams are unbounded otherwise) */
  FILE *out;           /* stdout */
  FILE *err;           /* stderr */
  int n_opts;          /* the command's options, in the order given */
  sg_cli_opt opts[SG_CLI_MAX_OPTS];
} sg_cli;

typedef struct sg_cli_command {
  const char *name; /* one word, or two for a subcommand ("jobs list") */
  const char *args; /* argument synopsis for --help, e.g. "[SERVICE]" */
  int min_args, max_args;
  const char *summary;                            /* one line for --help */
  int (*run)(sg_cli *cli, int argc, char **argv); /* returns an exit code */
  const char *options; /* the command options it takes, space-separated ("state kind"), a '!'
                          after the required ones ("name! version"), or NULL */
} sg_cli_command;

/* Prints "shopgpu: CODE_NAME: message" to stderr; returns SG_CLI_FAIL. */
int sg_cli_rpc_error(const sg_cli *cli, const shopgpu_status *st);
/* Prints "shopgpu: <message>" and the --help hint to stderr; returns SG_CLI_USAGE. */
int sg_cli_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Command options. sg_cli_opt_str: the value of --name (the last one given), or NULL when absent;
 * sg_cli_opt_flag: 1 when --name was given. The number readers leave *out alone when the option is
 * absent and return SG_CLI_USAGE (message printed) when its value is not an integer in
 * min..max. */
const char *sg_cli_opt_str(const sg_cli *cli, const char *name);
int sg_cli_opt_flag(const sg_cli *cli, const char *name);
int sg_cli_opt_int(const sg_cli *cli, const char *name, int64_t min, int64_t max, int64_t *out);
/* Parses text as a decimal integer in min..max; what names it in the error message. */
int sg_cli_parse_int(const char *what, const char *text, int64_t min, int64_t max, int64_t *out);
/* The value of --name as an unsigned 64-bit integer (ids): like sg_cli_opt_int. */
int sg_cli_opt_u64(const sg_cli *cli, const char *name, uint64_t *out);
/* The same for a finite decimal number. */
int sg_cli_opt_double(const sg_cli *cli, const char *name, double min, double max, double *out);
/* --name as one of two words: the first (the default, also when absent) is 0, the second 1. */
int sg_cli_opt_choice(const sg_cli *cli, const char *name, const char *first, const char *second,
                      int *out);

/* The deadline of a call that streams data as long as it takes (score, model upload, reading
 * recommendations): --timeout when it was given, else none. */
int64_t sg_cli_stream_timeout(const sg_cli *cli);

/* ---- output files (cli_out.c) ---- */

/* An output file: stdout for "-", else a temp file beside path, renamed over it by
 * sg_cli_out_commit, so a failed run leaves no half file. flag names it in messages ("--out"). */
typedef struct sg_cli_out {
  FILE *f;
  const char *path, *flag;
  char tmp[1100];
} sg_cli_out;

/* Opens the temp file (or takes stdout); SG_CLI_OK or the error printed. */
int sg_cli_out_open(sg_cli *cli, sg_cli_out *o, const char *flag, const char *path);
/* Closes the file; renames it over path when ok (and every write went through), else removes
 * it. Returns SG_CLI_OK or the error printed (none when !ok: the caller reports its own). */
int sg_cli_out_commit(sg_cli *cli, sg_cli_out *o, int ok);

/* Writes s as one CSV field: as it is, or in double quotes (quotes doubled) when it holds a
 * comma, a quote, a line break or surrounding spaces. */
void sg_cli_csv_field(FILE *f, const char *s);
/* Prints "shopgpu: INVALID_ARGUMENT: <fmt ...>" (input file errors); returns SG_CLI_FAIL. */
int sg_cli_input_error(const sg_cli *cli, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* ---- jobs (cli_wait.c) ---- */

/* How sg_cli_follow_job follows a job. */
typedef struct sg_cli_wait {
  int with_result; /* once SUCCEEDED, fetch the job with its result (Get include_result) */
  int bar;         /* draw the progress bar on stderr */
  /* called with each new state of the job (Watch updates, or polls that changed something),
   * the final one last; NULL = none */
  void (*on_update)(sg_cli *cli, const Shopgpu__V1__Job *job, void *arg);
  void *arg;
} sg_cli_wait;

/* Follows job_id with Jobs.Watch until it is final. If the stream breaks after it started (a
 * server restart), polls Jobs.Get every second instead, for as long as the server answers within
 * SG_CLI_RECONNECT_S of silence. Ctrl-C meanwhile cancels nothing: it prints the job id and how
 * to follow it again, and exits the process with SG_CLI_INTERRUPTED. Returns SG_CLI_OK when the
 * job succeeded; SG_CLI_FAIL when it failed or was cancelled ("shopgpu: job ID STATE: CODE:
 * message" on stderr) or when following it failed (the RPC error printed). *final: the final
 * job (the caller frees it), or NULL when it is not known. how NULL: sg_cli_wait_job's defaults.
 */
int sg_cli_follow_job(sg_cli *cli, const char *job_id, const sg_cli_wait *how,
                      Shopgpu__V1__Job **final);
#define SG_CLI_RECONNECT_S 60

/* sg_cli_follow_job with the result fetched and the bar drawn when cli->progress: the wait of
 * every command that starts a long job. */
int sg_cli_wait_job(sg_cli *cli, const char *job_id, Shopgpu__V1__Job **final);

/* Prints what --detach prints for a started job: the id alone, or {"id":"..."} with --json.
 * Returns SG_CLI_OK. */
int sg_cli_print_detached(sg_cli *cli, const char *job_id);

/* Submits request; with --detach prints the id (sg_cli_print_detached) and returns SG_CLI_OK
 * with *final NULL; otherwise waits for it (sg_cli_wait_job). final may be NULL. */
int sg_cli_start_job(sg_cli *cli, const Shopgpu__V1__SubmitJobRequest *request,
                     Shopgpu__V1__Job **final);

/* The same for a job some other call started (TrainModel, RecommendAll answer its id). */
int sg_cli_job_started(sg_cli *cli, const char *job_id, Shopgpu__V1__Job **final);

/* ---- views (cli_progress.c, cli_job_view.c): pure formatting, unit-tested on fixed inputs ---- */

/* What the progress line shows. */
typedef struct sg_cli_progress {
  const char *state; /* "queued", "running", ... */
  uint64_t done, total;
  const char *unit; /* "ms", "series", ...; NULL or "" = none */
  int has_best;
  double best;
  double elapsed_s; /* since the wait began */
  double eta_s;     /* < 0: unknown or not to be shown */
  /* what the server's run-time estimate leaves, shown as "eta ~0:03" while eta_s is unknown
   * (queued, or running without measured progress yet); <= 0: none */
  double estimate_left_s;
} sg_cli_progress;

#define SG_CLI_BAR_MIN 10
#define SG_CLI_BAR_MAX 40

/* The one-line progress display for a terminal `columns` wide, e.g.
 * "running   [##########----------]  50%  150/300 ms  0:01 elapsed  eta 0:01  best 12.5":
 * the bar takes what the rest leaves (SG_CLI_BAR_MIN..SG_CLI_BAR_MAX cells, '#' for each
 * done/total of the width, rounded down), the percent is rounded down; without a total there is
 * no bar, percent nor ETA; the ETA only when eta_s >= 0 ("eta ~" from estimate_left_s when it is
 * not, with or without a total), the best only when has_best. The line is
 * cut to columns - 1 characters (and to size - 1). Returns its length. */
size_t sg_cli_progress_line(char *buf, size_t size, const sg_cli_progress *p, int columns);

/* Seconds left at the rate seen since (t0, done0): -1 when unknown (no total, no progress since,
 * no time passed); 0 once done >= total. */
double sg_cli_eta(uint64_t done0, double t0, uint64_t done, double t, uint64_t total);

/* "m:ss" under an hour, else "h:mm:ss" (seconds rounded down); "--:--" for s < 0. */
void sg_cli_format_clock(char *buf, size_t size, double s);
/* "42s", "5m", "3h", "2d" (rounded down); "0s" for ms <= 0. */
void sg_cli_format_age(char *buf, size_t size, int64_t ms);

/* The job as JSON: {"id","kind","state","progress":{"done","total","unit","best"},"error": null
 * or {"code","message"},"label","priority","created_at_unix_ms","started_at_unix_ms",
 * "finished_at_unix_ms"} (times null when unset) and, when with_result, "result": the result
 * message (null when there is none). One object, no newline. */
struct sg__json;
void sg_cli_job_json(struct sg__json *j, const Shopgpu__V1__Job *job, int with_result);
/* The job as "key value" lines (times relative to now_ms, unix milliseconds). */
void sg_cli_job_print(FILE *out, const Shopgpu__V1__Job *job, int with_result, int64_t now_ms);
/* The jobs as a table: ID, KIND, STATE, PROGRESS, AGE (relative to now_ms), LABEL. */
void sg_cli_job_table(FILE *out, Shopgpu__V1__Job *const *jobs, size_t n, int64_t now_ms);
/* The progress column: "50% 150/300 ms", "150 ms" without a total, "-" with nothing done. */
void sg_cli_format_job_progress(char *buf, size_t size, const Shopgpu__V1__JobProgress *p);

/* ---- commands (cli_admin.c, cli_jobs.c, ...). argv holds the command's arguments only. ---- */
int sg_cli_cmd_info(sg_cli *cli, int argc, char **argv);
int sg_cli_cmd_health(sg_cli *cli, int argc, char **argv);
int sg_cli_cmd_jobs_list(sg_cli *cli, int argc, char **argv);
int sg_cli_cmd_jobs_get(sg_cli *cli, int argc, char **argv);
int sg_cli_cmd_jobs_watch(sg_cli *cli, int argc, char **argv);
int sg_cli_cmd_jobs_cancel(sg_cli *cli, int argc, char **argv);
int sg_cli_cmd_jobs_sleep(sg_cli *cli, int argc, char **argv);
/* cli_model.c */
int sg_cli_cmd_model_train(sg_cli *cli, int argc, char **argv);
int sg_cli_cmd_model_upload(sg_cli *cli, int argc, char **argv);
int sg_cli_cmd_model_list(sg_cli *cli, int argc, char **argv);
int sg_cli_cmd_model_delete(sg_cli *cli, int argc, char **argv);
/* cli_score.c */
int sg_cli_cmd_score(sg_cli *cli, int argc, char **argv);
int sg_cli_cmd_recommend(sg_cli *cli, int argc, char **argv);
int sg_cli_cmd_recommend_all(sg_cli *cli, int argc, char **argv);
/* cli_rec_get.c */
int sg_cli_cmd_rec_get(sg_cli *cli, int argc, char **argv);
/* cli_forecast.c, cli_replenish.c */
int sg_cli_cmd_forecast(sg_cli *cli, int argc, char **argv);
int sg_cli_cmd_replenish(sg_cli *cli, int argc, char **argv);
/* cli_route.c */
int sg_cli_cmd_route(sg_cli *cli, int argc, char **argv);

#endif
