/* shopgpu: the command-line client. Parses the global options (anywhere on the line), opens a
 * libshopgpu-client channel and runs one command from the table below. Exit codes: 0 ok,
 * 1 RPC error or negative answer, 2 usage error (see --help). */
#include "cli.h"

#include <errno.h>
#include <grpc/support/log.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "sg_version.h"

#define DEFAULT_SERVER "127.0.0.1:50051"
#define DEFAULT_TIMEOUT_S 10.0
#define MAX_TOKEN_BYTES 4096

/* THE command table: one row per subcommand. */
static const sg_cli_command commands[] = {
    {"info", "", 0, 0, "server version, backend, uptime and per-method counters", sg_cli_cmd_info},
    {"health", "[SERVICE]", 0, 1, "serving status of the server (or SERVICE); exit 0 if SERVING",
     sg_cli_cmd_health},
};
#define N_COMMANDS (sizeof commands / sizeof commands[0])

typedef struct options {
  const char *server, *token_file, *tls_ca, *tls_server_name, *timeout;
  int json, help, version;
  int argc;    /* positional arguments: the command and its arguments */
  char **argv; /* (pointers into the real argv) */
} options;

static void print_help(FILE *out) {
  fprintf(out, "usage: shopgpu [OPTIONS] COMMAND [ARGS]\n\n"
               "Commands:\n");
  for (size_t i = 0; i < N_COMMANDS; i++) {
    char left[64];
    snprintf(left, sizeof left, "%s %s", commands[i].name, commands[i].args);
    fprintf(out, "  %-24s %s\n", left, commands[i].summary);
  }
  fprintf(out,
          "\nOptions (anywhere on the line):\n"
          "  --server ADDR            host:port or unix:/path (env SHOPGPU_SERVER; default %s)\n"
          "  --token-file FILE        file holding the bearer token (env SHOPGPU_TOKEN_FILE)\n"
          "  --timeout S              per-call deadline in seconds, 0 = none (default %g)\n"
          "  --tls-ca FILE            use TLS, trusting the CA certificate(s) in this PEM file\n"
          "  --tls-server-name NAME   name to verify the server certificate against\n"
          "  --json                   print one JSON object (keys as in the proto); errors stay\n"
          "                           on stderr\n"
          "  --help, --version\n"
          "\nExit status: 0 ok; 1 the call failed (\"shopgpu: CODE: message\" on stderr) or the\n"
          "answer is negative (health not SERVING); 2 usage error.\n",
          DEFAULT_SERVER, DEFAULT_TIMEOUT_S);
}

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage_error(const char *fmt, ...) {
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
  return NULL;
}

/* One "--name[=value]" at argv[*i]; consumes its value. */
static int parse_flag(options *o, int argc, char **argv, int *i) {
  const char *arg = argv[*i] + 2, *eq = strchr(arg, '=');
  char name[32];
  snprintf(name, sizeof name, "%.*s", eq ? (int)(eq - arg) : (int)strlen(arg), arg);
  int *flag;
  const char **slot = value_slot(o, name, &flag);
  if (flag && !eq) {
    *flag = 1;
    return SG_CLI_OK;
  }
  if (!slot) return usage_error(flag ? "--%s: takes no value" : "unknown option --%s", name);
  if (eq)
    *slot = eq + 1;
  else if (*i + 1 < argc)
    *slot = argv[++*i];
  else
    return usage_error("--%s: missing value", name);
  return SG_CLI_OK;
}

/* Options anywhere; everything else (and all after "--") is positional, kept in order. */
static int parse_args(options *o, int argc, char **argv) {
  o->argv = calloc((size_t)argc + 1, sizeof *o->argv);
  if (!o->argv) return usage_error("out of memory");
  int dashdash = 0;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (dashdash || a[0] != '-' || a[1] == '\0')
      o->argv[o->argc++] = argv[i];
    else if (strcmp(a, "--") == 0)
      dashdash = 1;
    else if (strcmp(a, "-h") == 0)
      o->help = 1;
    else if (a[1] != '-')
      return usage_error("unknown option %s", a);
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
    return usage_error("--timeout: \"%.64s\" is not a number of seconds in 0..1000000", text);
  *ms = s == 0 ? SHOPGPU_TIMEOUT_NONE : (int64_t)ceil(s * 1000);
  return SG_CLI_OK;
}

/* The token: the file's content without surrounding whitespace. */
static int read_token(const char *path, char *buf, size_t size) {
  FILE *f = fopen(path, "r");
  if (!f) return usage_error("--token-file: cannot read \"%.200s\": %s", path, strerror(errno));
  size_t n = fread(buf, 1, size - 1, f);
  int too_big = n == size - 1 && fgetc(f) != EOF;
  fclose(f);
  buf[n] = '\0';
  while (n && strchr(" \t\r\n", buf[n - 1]))
    buf[--n] = '\0';
  size_t lead = strspn(buf, " \t\r\n");
  memmove(buf, buf + lead, n - lead + 1);
  if (too_big)
    return usage_error("--token-file: \"%.200s\" is over %d bytes", path, MAX_TOKEN_BYTES);
  if (!buf[0]) return usage_error("--token-file: \"%.200s\" is empty", path);
  return SG_CLI_OK;
}

static const sg_cli_command *find_command(const char *name) {
  for (size_t i = 0; i < N_COMMANDS; i++)
    if (strcmp(commands[i].name, name) == 0) return &commands[i];
  return NULL;
}

/* Everything after parsing: pick the command, open the client, run. */
static int run(options *o) {
  if (o->argc == 0) return usage_error("no command");
  const sg_cli_command *cmd = find_command(o->argv[0]);
  if (!cmd) return usage_error("unknown command \"%.64s\"", o->argv[0]);
  int nargs = o->argc - 1;
  if (nargs < cmd->min_args || nargs > cmd->max_args)
    return usage_error("%s: expects %s%s", cmd->name, cmd->args[0] ? "" : "no arguments",
                       cmd->args);
  shopgpu_client_options copts = {0};
  char token[MAX_TOKEN_BYTES];
  sg_cli cli = {.out = stdout, .err = stderr};
  if (parse_timeout(o->timeout, &cli.timeout_ms) != SG_CLI_OK) return SG_CLI_USAGE;
  if (o->token_file && o->token_file[0]) {
    if (read_token(o->token_file, token, sizeof token) != SG_CLI_OK) return SG_CLI_USAGE;
    copts.token = token;
  }
  copts.target = o->server;
  copts.tls_ca_file = o->tls_ca;
  copts.tls_server_name = o->tls_server_name;
  copts.timeout_ms = cli.timeout_ms;
  shopgpu_status st;
  cli.client = shopgpu_client_open(&copts, &st);
  if (!cli.client) return usage_error("%s", st.message);
  cli.json = o->json;
  int rc = cmd->run(&cli, nargs, o->argv + 1);
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
  else if (rc == SG_CLI_OK && o.version)
    printf("shopgpu %s (commit %s)\n", SG_VERSION, SG_COMMIT);
  else if (rc == SG_CLI_OK)
    rc = run(&o);
  free(o.argv);
  return rc;
}
