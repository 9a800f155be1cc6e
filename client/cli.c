/* shopgpu: the command-line client. Parses the global options and the commands' own options
 * (anywhere on the line), opens a libshopgpu-client channel and runs one command from the table
 * below. Exit codes: 0 ok, 1 RPC error or negative answer, 2 usage error, 130 interrupted while
 * waiting for a job (see --help). */
#include "cli.h"

#include <errno.h>
#include <grpc/support/log.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sg_version.h"

#define DEFAULT_SERVER "127.0.0.1:50051"
#define DEFAULT_TIMEOUT_S 10.0
#define MAX_TOKEN_BYTES 4096
#define RECONNECT_BACKOFF_MS 1000 /* a job being waited for is polled each second after a break */

/* THE command table: one row per subcommand. */
static const sg_cli_command commands[] = {
    {"info", "", 0, 0, "server version, backend, uptime and per-method counters", sg_cli_cmd_info,
     NULL},
    {"health", "[SERVICE]", 0, 1, "serving status of the server (or SERVICE); exit 0 if SERVING",
     sg_cli_cmd_health, NULL},
    {"jobs list", "[--state STATE] [--kind KIND] [--limit N]", 0, 0,
     "jobs, newest first; STATE is queued|running|succeeded|failed|cancelled", sg_cli_cmd_jobs_list,
     "state kind limit"},
    {"jobs get", "ID [--result]", 1, 1, "one job: state, progress, error (and its result)",
     sg_cli_cmd_jobs_get, "result"},
    {"jobs watch", "ID", 1, 1, "follow a job to its end; exit 0 if it succeeded, else 1",
     sg_cli_cmd_jobs_watch, NULL},
    {"jobs cancel", "ID", 1, 1, "ask a job to stop (a running one stops at its next step)",
     sg_cli_cmd_jobs_cancel, NULL},
    {"jobs sleep", "MS [--step-ms S] [--priority P] [--label L]", 1, 1,
     "diagnostic job holding a worker MS milliseconds; waits for it", sg_cli_cmd_jobs_sleep,
     "step-ms priority label"},
    {"model train",
     "--name NAME --interactions FILE.csv [--dim D] [--epochs E] [--negatives N] "
     "[--negative-candidates M] [--seed S] [--learning-rate LR] [--lr-schedule constant|cosine] "
     "[--l2 L] [--batch-size B] [--optimizer adam|sgd] [--valid-fraction F] [--patience P] "
     "[--user-features U.npy] [--item-features V.npy] [--priority P]",
     0, 0, "train a click model from a user_id,item_id[,label] CSV (a job)", sg_cli_cmd_model_train,
     "name! interactions! dim epochs negatives negative-candidates seed learning-rate lr-schedule "
     "l2 batch-size optimizer valid-fraction patience priority user-features item-features"},
    {"model upload",
     "--name NAME --user-vectors U.npy --item-vectors V.npy --weights W.npy --bias B "
     "[--no-interaction]",
     0, 0, "upload a click model from .npy matrices (ids are row numbers)", sg_cli_cmd_model_upload,
     "name! user-vectors! item-vectors! weights! bias! no-interaction"},
    {"model list", "", 0, 0, "the served models, the latest version of each", sg_cli_cmd_model_list,
     NULL},
    {"model delete", "--name NAME [--version V]", 0, 0,
     "delete a model's version V, or every version", sg_cli_cmd_model_delete, "name! version"},
    {"score", "--model NAME --pairs FILE.csv --out FILE.csv [--chunk N] [--version V]", 0, 0,
     "P(click) of user_id,item_id pairs into user_id,item_id,score (streamed)", sg_cli_cmd_score,
     "model! pairs! out! chunk version"},
    {"recommend", "--model NAME --user ID [-k K] [--include-seen] [--version V]", 0, 0,
     "a user's top K items (default 10), best first", sg_cli_cmd_recommend,
     "model! user! k include-seen version"},
    {"recommend-all",
     "--model NAME -k K [--out FILE.csv] [--no-publish] [--version V] [--priority P]", 0, 0,
     "top K of every user, published to Redis (a job); --out writes them", sg_cli_cmd_recommend_all,
     "model! k! out no-publish version priority"},
    {"rec-get", "--redis ADDR --model M --user U [--redis-password-file FILE] [--redis-db N]", 0, 0,
     "a user's list read from Redis as a storefront does; exit 1 on a miss", sg_cli_cmd_rec_get,
     "redis! model! user! redis-password-file redis-db"},
    {"forecast",
     "FILE.csv --horizon H --out F.csv [--season M] [--level 80,95] [--search grid|stepwise] "
     "[--optimizer bfgs|lm] [--exog COL,...] [--models M.csv] [--priority P] | --job ID --out "
     "F.csv [FILE.csv]",
     0, 1, "ARIMA forecasts of a unique_id,ds,y CSV (a job past 1,000 series)", sg_cli_cmd_forecast,
     "horizon season level search optimizer exog out models job priority"},
    {"replenish", "F.csv --inventory INV.csv --out ORDERS.csv [--error-correlation RHO]", 1, 1,
     "safety stock, reorder point and order quantity per SKU from a forecast", sg_cli_cmd_replenish,
     "inventory! out! error-correlation"},
    {"route",
     "FILE.tsp|FILE.vrp [--time-limit S] [--seed N] [--iterations N] [--exact] [--priority P] "
     "| --job ID",
     0, 1, "a TSP tour or CVRP routes by ant colony (a job past 60 s)", sg_cli_cmd_route,
     "time-limit seed iterations exact priority job"},
};
#define N_COMMANDS (sizeof commands / sizeof commands[0])

/* Every command option: whether it takes a value (known before the command is, as options may
 * come anywhere). Which command takes which is in the table's `options`. */
static const struct {
  const char *name;
  int has_value;
} command_options[] = {
    /* clang-format off */
    {"state", 1}, {"kind", 1}, {"limit", 1}, {"result", 0}, {"step-ms", 1}, {"priority", 1},
    {"label", 1}, {"name", 1}, {"interactions", 1}, {"dim", 1}, {"epochs", 1}, {"negatives", 1},
    {"negative-candidates", 1}, {"user-features", 1}, {"item-features", 1}, {"l2", 1},
    {"batch-size", 1}, {"valid-fraction", 1}, {"patience", 1}, {"lr-schedule", 1},
    {"seed", 1}, {"learning-rate", 1}, {"user-vectors", 1}, {"item-vectors", 1}, {"weights", 1},
    {"bias", 1}, {"no-interaction", 0}, {"version", 1}, {"model", 1}, {"pairs", 1}, {"out", 1},
    {"chunk", 1}, {"user", 1}, {"k", 1}, {"include-seen", 0}, {"no-publish", 0}, {"redis", 1},
    {"redis-password-file", 1}, {"redis-db", 1}, {"horizon", 1}, {"season", 1}, {"level", 1},
    {"search", 1}, {"optimizer", 1}, {"exog", 1}, {"models", 1}, {"job", 1}, {"inventory", 1},
    {"error-correlation", 1}, {"time-limit", 1}, {"iterations", 1}, {"exact", 0},
    /* clang-format on */
};
#define N_COMMAND_OPTIONS (sizeof command_options / sizeof command_options[0])

typedef struct options {
  const char *server, *token_file, *tls_ca, *tls_server_name, *timeout;
  int json, help, version, detach, progress;
  int argc;    /* positional arguments: the command and its arguments */
  char **argv; /* (pointers into the real argv) */
  int n_opts;  /* command options */
  sg_cli_opt opts[SG_CLI_MAX_OPTS];
} options;

/* A long synopsis on lines of its own, cut before an option to fit 80 columns. */
static void print_synopsis(FILE *out, const char *text) {
  const char *indent = "  ";
  while (strlen(text) > 76) {
    int cut = 76;
    while (cut > 0 && !(text[cut] == ' ' && (text[cut + 1] == '[' || text[cut + 1] == '-')))
      cut--;
    if (cut == 0) break;
    fprintf(out, "%s%.*s\n", indent, cut, text);
    text += cut + 1;
    indent = "      ";
  }
  fprintf(out, "%s%s\n", indent, text);
}

static void print_help(FILE *out) {
  fprintf(out, "usage: shopgpu [OPTIONS] COMMAND [ARGS]\n\n"
               "Commands:\n");
  for (size_t i = 0; i < N_COMMANDS; i++) {
    /* sized for the synopsis, however long the table's grows */
    size_t size = strlen(commands[i].name) + strlen(commands[i].args) + 2;
    char *left = malloc(size);
    if (!left) { /* unwrapped, but whole */
      fprintf(out, "  %s %s\n  %-24s %s\n", commands[i].name, commands[i].args, "",
              commands[i].summary);
      continue;
    }
    snprintf(left, size, "%s %s", commands[i].name, commands[i].args);
    if (size - 1 > 24) { /* a long synopsis gets a line of its own */
      print_synopsis(out, left);
      fprintf(out, "  %-24s %s\n", "", commands[i].summary);
    } else {
      fprintf(out, "  %-24s %s\n", left, commands[i].summary);
    }
    free(left);
  }
  fprintf(
      out,
      "\nOptions (anywhere on the line):\n"
      "  --server ADDR            host:port or unix:/path (env SHOPGPU_SERVER; default %s)\n"
      "  --token-file FILE        file holding the bearer token (env SHOPGPU_TOKEN_FILE)\n"
      "  --timeout S              per-call deadline in seconds, 0 = none (default %g);\n"
      "                           calls that carry data (score, model upload, recommend-all\n"
      "                           --out, forecast) have none unless it is given; route's\n"
      "                           is its time limit (default 10 s) plus 15%% and 2 s\n"
      "  --tls-ca FILE            use TLS, trusting the CA certificate(s) in this PEM file\n"
      "  --tls-server-name NAME   name to verify the server certificate against\n"
      "  --json                   print one JSON object (keys as in the proto); errors stay\n"
      "                           on stderr; jobs watch prints one per update (JSON lines)\n"
      "  --detach                 commands that start a job print its id ({\"id\":...} with\n"
      "                           --json) and return at once instead of waiting for it\n"
      "  --progress               draw the progress bar of a job being waited for even when\n"
      "                           stderr is not a terminal (on a terminal it always is)\n"
      "  --help, --version        (--version V, with a number, is a command's model version)\n"
      "\nWaiting for a job follows it with Jobs.Watch; if the stream breaks (a server restart)\n"
      "it polls the job every second, giving up after %d s without an answer (--timeout\n"
      "bounds each call, not the wait). Ctrl-C stops waiting but not the job: it keeps\n"
      "running on the server (`shopgpu jobs watch ID` follows it again).\n"
      "\nExit status: 0 ok; 1 the call failed or an input file is bad (\"shopgpu: CODE:\n"
      "message\" on stderr, naming the file, line and column), the answer is negative (health\n"
      "not SERVING, rec-get found no list, route found no feasible solution, forecast got no\n"
      "series forecast) or the job failed or was cancelled; 2 usage error; 130 interrupted\n"
      "while waiting for a job.\n",
      DEFAULT_SERVER, DEFAULT_TIMEOUT_S, SG_CLI_RECONNECT_S);
}

int sg_cli_usage(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("shopgpu: ", stderr);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputs("\nTry 'shopgpu --help'.\n", stderr);
  return SG_CLI_USAGE;
}

int sg_cli_rpc_error(const sg_cli *cli, const shopgpu_status *st) {
  fprintf(cli->err, "shopgpu: %s: %s\n", shopgpu_status_code_name(st->code),
          st->message[0] ? st->message : "(no message)");
  return SG_CLI_FAIL;
}

/* The dashes an option is written with: "-k", "--name". */
static const char *dashes(const char *name) { return name[0] && name[1] ? "--" : "-"; }

/* The address of the options field a flag sets (NULL for flags without a value). */
static const char **value_slot(options *o, const char *name, int **flag) {
  *flag = NULL;
  if (strcmp(name, "server") == 0) return &o->server;
  if (strcmp(name, "token-file") == 0) return &o->token_file;
  if (strcmp(name, "timeout") == 0) return &o->timeout;
  if (strcmp(name, "tls-ca") == 0) return &o->tls_ca;
  if (strcmp(name, "tls-server-name") == 0) return &o->tls_server_name;
  if (strcmp(name, "json") == 0) *flag = &o->json;
  if (strcmp(name, "help") == 0) *flag = &o->help;
  if (strcmp(name, "version") == 0) *flag = &o->version;
  if (strcmp(name, "detach") == 0) *flag = &o->detach;
  if (strcmp(name, "progress") == 0) *flag = &o->progress;
  return NULL;
}

/* A command option's row, or -1 for a name no command takes. */
static int command_option(const char *name) {
  for (size_t i = 0; i < N_COMMAND_OPTIONS; i++)
    if (strcmp(command_options[i].name, name) == 0) return (int)i;
  return -1;
}

/* A command option (name, "=value" at eq or NULL) at argv[*i]: kept for the command, which
 * checks it is one of its own. Returns -1 when no command takes it. */
static int parse_command_option(options *o, const char *name, const char *eq, int argc, char **argv,
                                int *i) {
  int k = command_option(name);
  if (k < 0) return -1;
  if (o->n_opts == SG_CLI_MAX_OPTS) return sg_cli_usage("more than %d options", SG_CLI_MAX_OPTS);
  sg_cli_opt *opt = &o->opts[o->n_opts++];
  opt->name = command_options[k].name;
  opt->value = eq ? eq + 1 : NULL;
  if (!command_options[k].has_value && eq)
    return sg_cli_usage("%s%s: takes no value", dashes(opt->name), opt->name);
  if (command_options[k].has_value && !eq) {
    if (*i + 1 >= argc) return sg_cli_usage("%s%s: missing value", dashes(opt->name), opt->name);
    opt->value = argv[++*i];
  }
  return SG_CLI_OK;
}

/* 1 when s is a non-empty run of digits. */
static int is_number(const char *s) { return *s && strspn(s, "0123456789") == strlen(s); }

/* One "--name[=value]" at argv[*i]; consumes its value. */
static int parse_flag(options *o, int argc, char **argv, int *i) {
  const char *arg = argv[*i] + 2, *eq = strchr(arg, '=');
  char name[32];
  snprintf(name, sizeof name, "%.*s", eq ? (int)(eq - arg) : (int)strlen(arg), arg);
  int *flag;
  const char **slot = value_slot(o, name, &flag);
  if (strcmp(name, "version") == 0 && (eq || (*i + 1 < argc && is_number(argv[*i + 1]))))
    flag = NULL; /* "--version V" (model delete, ...) is a command option, "--version" alone not */
  if (!slot && !flag) {
    int rc = parse_command_option(o, name, eq, argc, argv, i);
    if (rc >= 0) return rc;
  }
  if (flag && !eq) {
    *flag = 1;
    return SG_CLI_OK;
  }
  if (!slot) return sg_cli_usage(flag ? "--%s: takes no value" : "unknown option --%s", name);
  if (eq)
    *slot = eq + 1;
  else if (*i + 1 < argc)
    *slot = argv[++*i];
  else
    return sg_cli_usage("--%s: missing value", name);
  return SG_CLI_OK;
}

/* Options anywhere; everything else (and all after "--") is positional, kept in order. */
static int parse_args(options *o, int argc, char **argv) {
  o->argv = calloc((size_t)argc + 1, sizeof *o->argv);
  if (!o->argv) return sg_cli_usage("out of memory");
  int dashdash = 0;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (dashdash || a[0] != '-' || a[1] == '\0')
      o->argv[o->argc++] = argv[i];
    else if (strcmp(a, "--") == 0)
      dashdash = 1;
    else if (strcmp(a, "-h") == 0)
      o->help = 1;
    else if (strcmp(a, "-k") == 0 || strncmp(a, "-k=", 3) == 0) {
      if (parse_command_option(o, "k", a[2] ? a + 2 : NULL, argc, argv, &i) != SG_CLI_OK)
        return SG_CLI_USAGE;
    } else if (a[1] != '-')
      return sg_cli_usage("unknown option %s", a);
    else if (parse_flag(o, argc, argv, &i) != SG_CLI_OK)
      return SG_CLI_USAGE;
  }
  return SG_CLI_OK;
}

static int parse_timeout(const char *text, int64_t *ms) {
  char *end;
  errno = 0;
  double s = text ? strtod(text, &end) : DEFAULT_TIMEOUT_S;
  if (text && (errno || end == text || *end || !isfinite(s) || s < 0 || s > 1e6))
    return sg_cli_usage("--timeout: \"%.64s\" is not a number of seconds in 0..1000000", text);
  *ms = s == 0 ? SHOPGPU_TIMEOUT_NONE : (int64_t)ceil(s * 1000);
  return SG_CLI_OK;
}

/* The token: the file's content without surrounding whitespace. */
static int read_token(const char *path, char *buf, size_t size) {
  FILE *f = fopen(path, "r");
  if (!f) return sg_cli_usage("--token-file: cannot read \"%.200s\": %s", path, strerror(errno));
  size_t n = fread(buf, 1, size - 1, f);
  int too_big = n == size - 1 && fgetc(f) != EOF;
  fclose(f);
  buf[n] = '\0';
  while (n && strchr(" \t\r\n", buf[n - 1]))
    buf[--n] = '\0';
  size_t lead = strspn(buf, " \t\r\n");
  memmove(buf, buf + lead, n - lead + 1);
  if (too_big)
    return sg_cli_usage("--token-file: \"%.200s\" is over %d bytes", path, MAX_TOKEN_BYTES);
  if (!buf[0]) return sg_cli_usage("--token-file: \"%.200s\" is empty", path);
  return SG_CLI_OK;
}

/* The row named by the first one or two positional words (*words: how many). */
static const sg_cli_command *find_command(const options *o, int *words) {
  char two[128] = "";
  if (o->argc >= 2) snprintf(two, sizeof two, "%s %s", o->argv[0], o->argv[1]);
  for (size_t i = 0; i < N_COMMANDS; i++) {
    int n = strchr(commands[i].name, ' ') ? 2 : 1;
    if (strcmp(commands[i].name, n == 2 ? two : o->argv[0]) == 0) {
      *words = n;
      return &commands[i];
    }
  }
  return NULL;
}

/* The usage error for a first word that names no command: a group lists its subcommands. */
static int unknown_command(const char *word) {
  char subs[256] = "";
  size_t n = strlen(word), used = 0;
  for (size_t i = 0; i < N_COMMANDS && used < sizeof subs; i++)
    if (strncmp(commands[i].name, word, n) == 0 && commands[i].name[n] == ' ')
      used += (size_t)snprintf(subs + used, sizeof subs - used, "%s%s", used ? ", " : "",
                               commands[i].name + n + 1);
  if (used) return sg_cli_usage("%.64s: expects a subcommand: %s", word, subs);
  return sg_cli_usage("unknown command \"%.64s\"", word);
}

/* 1 when the space-separated list holds word (with or without the '!' of a required one). */
static int listed(const char *list, const char *word) {
  size_t n = strlen(word);
  for (const char *p = list; p && *p; p += strcspn(p, " "), p += strspn(p, " "))
    if (strncmp(p, word, n) == 0 && (p[n] == ' ' || p[n] == '\0' || p[n] == '!')) return 1;
  return 0;
}

/* 1 when the options given hold name. */
static int given(const options *o, const char *name, size_t n) {
  for (int i = 0; i < o->n_opts; i++)
    if (strlen(o->opts[i].name) == n && strncmp(o->opts[i].name, name, n) == 0) return 1;
  return 0;
}

/* The first required option (a word ending in '!') that is missing: usage error, else OK. */
static int check_required(const sg_cli_command *cmd, const options *o) {
  for (const char *p = cmd->options; p && *p; p += strcspn(p, " "), p += strspn(p, " ")) {
    size_t n = strcspn(p, " ");
    if (p[n - 1] == '!' && !given(o, p, n - 1))
      return sg_cli_usage("%s: %s%.*s is required", cmd->name, n == 2 ? "-" : "--", (int)n - 1, p);
  }
  return SG_CLI_OK;
}

/* The commands that start a job, so that --detach means something to them. */
static int starts_job(const sg_cli_command *cmd) {
  static const char *const names[] = {"model train", "recommend-all", "forecast", "route",
                                      "jobs sleep"};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    if (strcmp(cmd->name, names[i]) == 0) return 1;
  return 0;
}

/* The command's argument count and options; SG_CLI_OK or a usage error. */
static int check_command(const sg_cli_command *cmd, const options *o, int nargs) {
  if (nargs < cmd->min_args || nargs > cmd->max_args)
    return sg_cli_usage("%s: expects %s%s", cmd->name, cmd->args[0] ? "" : "no arguments",
                        cmd->args);
  if (o->detach && !starts_job(cmd))
    return sg_cli_usage("--detach: %s starts no job (only model train, recommend-all, forecast, "
                        "route and jobs sleep do)",
                        cmd->name);
  for (int i = 0; i < o->n_opts; i++)
    if (!listed(cmd->options, o->opts[i].name))
      return sg_cli_usage("%s: takes no option %s%s", cmd->name, dashes(o->opts[i].name),
                          o->opts[i].name);
  return check_required(cmd, o);
}

/* Everything after parsing: pick the command, open the client, run. */
static int run(options *o) {
  if (o->argc == 0) return sg_cli_usage("no command");
  int words;
  const sg_cli_command *cmd = find_command(o, &words);
  if (!cmd) return unknown_command(o->argv[0]);
  int nargs = o->argc - words;
  if (check_command(cmd, o, nargs) != SG_CLI_OK) return SG_CLI_USAGE;
  shopgpu_client_options copts = {0};
  char token[MAX_TOKEN_BYTES];
  sg_cli cli = {.out = stdout, .err = stderr};
  if (parse_timeout(o->timeout, &cli.timeout_ms) != SG_CLI_OK) return SG_CLI_USAGE;
  cli.timeout_given = o->timeout != NULL;
  if (o->token_file && o->token_file[0]) {
    if (read_token(o->token_file, token, sizeof token) != SG_CLI_OK) return SG_CLI_USAGE;
    copts.token = token;
  }
  copts.target = o->server;
  copts.tls_ca_file = o->tls_ca;
  copts.tls_server_name = o->tls_server_name;
  copts.timeout_ms = cli.timeout_ms;
  copts.reconnect_backoff_max_ms = RECONNECT_BACKOFF_MS;
  shopgpu_status st;
  cli.client = shopgpu_client_open(&copts, &st);
  if (!cli.client) return sg_cli_usage("%s", st.message);
  cli.json = o->json;
  cli.detach = o->detach;
  cli.progress_forced = o->progress;
  cli.progress = o->progress || isatty(STDERR_FILENO);
  cli.n_opts = o->n_opts;
  memcpy(cli.opts, o->opts, sizeof cli.opts);
  int rc = cmd->run(&cli, nargs, o->argv + words);
  shopgpu_client_close(cli.client);
  return rc;
}

/* gRPC core's own log lines would repeat, less readably, the one error line we print. */
static void quiet_log(gpr_log_func_args *args) { (void)args; }

int main(int argc, char **argv) {
  if (!getenv("GRPC_VERBOSITY")) gpr_set_log_function(quiet_log);
  options o = {0};
  o.server = getenv("SHOPGPU_SERVER");
  if (!o.server || !o.server[0]) o.server = DEFAULT_SERVER;
  o.token_file = getenv("SHOPGPU_TOKEN_FILE");
  int rc = parse_args(&o, argc, argv);
  if (rc == SG_CLI_OK && o.help)
    print_help(stdout);
  else if (rc == SG_CLI_OK && o.version && o.argc)
    rc = sg_cli_usage("--version: with a command it takes a version number");
  else if (rc == SG_CLI_OK && o.version)
    printf("shopgpu %s (commit %s)\n", SG_VERSION, SG_COMMIT);
  else if (rc == SG_CLI_OK)
    rc = run(&o);
  free(o.argv);
  /* what was printed must have arrived (stdout a full disk or a closed pipe: not exit 0) */
  errno = 0;
  if ((fflush(stdout) != 0 || ferror(stdout)) && rc == SG_CLI_OK) {
    fprintf(stderr, "shopgpu: cannot write stdout: %s\n", strerror(errno ? errno : EIO));
    rc = SG_CLI_FAIL;
  }
  return rc;
}

/* ---- command options ---- */

const char *sg_cli_opt_str(const sg_cli *cli, const char *name) {
  const char *v = NULL;
  for (int i = 0; i < cli->n_opts; i++)
    if (strcmp(cli->opts[i].name, name) == 0) v = cli->opts[i].value ? cli->opts[i].value : "";
  return v;
}

int sg_cli_opt_flag(const sg_cli *cli, const char *name) {
  return sg_cli_opt_str(cli, name) != NULL;
}

int sg_cli_parse_int(const char *what, const char *text, int64_t min, int64_t max, int64_t *out) {
  char *end;
  errno = 0;
  long long v = strtoll(text, &end, 10);
  if (errno || end == text || *end || v < min || v > max)
    return sg_cli_usage("%s: \"%.64s\" is not an integer in %lld..%lld", what, text, (long long)min,
                        (long long)max);
  *out = v;
  return SG_CLI_OK;
}

int sg_cli_opt_double(const sg_cli *cli, const char *name, double min, double max, double *out) {
  const char *v = sg_cli_opt_str(cli, name);
  if (!v) return SG_CLI_OK;
  char *end;
  errno = 0;
  double d = strtod(v, &end);
  if (errno || end == v || *end || !isfinite(d) || d < min || d > max)
    return sg_cli_usage("%s%s: \"%.64s\" is not a number in %g..%g", dashes(name), name, v, min,
                        max);
  *out = d;
  return SG_CLI_OK;
}

int sg_cli_opt_u64(const sg_cli *cli, const char *name, uint64_t *out) {
  const char *v = sg_cli_opt_str(cli, name);
  if (!v) return SG_CLI_OK;
  errno = 0;
  unsigned long long x = is_number(v) ? strtoull(v, NULL, 10) : 0;
  if (!is_number(v) || errno)
    return sg_cli_usage("%s%s: \"%.64s\" is not an unsigned 64-bit integer", dashes(name), name, v);
  *out = x;
  return SG_CLI_OK;
}

int64_t sg_cli_stream_timeout(const sg_cli *cli) {
  return cli->timeout_given ? cli->timeout_ms : SHOPGPU_TIMEOUT_NONE;
}

int sg_cli_opt_choice(const sg_cli *cli, const char *name, const char *first, const char *second,
                      int *out) {
  const char *text = sg_cli_opt_str(cli, name);
  *out = 0;
  if (!text || strcmp(text, first) == 0) return SG_CLI_OK;
  if (strcmp(text, second) == 0) {
    *out = 1;
    return SG_CLI_OK;
  }
  return sg_cli_usage("%s%s: \"%.64s\" is not %s or %s", dashes(name), name, text, first, second);
}

int sg_cli_opt_int(const sg_cli *cli, const char *name, int64_t min, int64_t max, int64_t *out) {
  const char *v = sg_cli_opt_str(cli, name);
  if (!v) return SG_CLI_OK;
  char what[40];
  snprintf(what, sizeof what, "%s%s", dashes(name), name);
  return sg_cli_parse_int(what, v, min, max, out);
}
