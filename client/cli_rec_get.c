/* shopgpu CLI `rec-get`: what a storefront sees. Connects to Redis itself (HOST:PORT or
 * unix:PATH, AUTH from a password file, SELECT), reads one user's list with shopgpu_rec_lookup
 * and prints it; no shopgpu-server is involved. A miss is exit 1 with the reason. */
#include <errno.h>
#include <grpc/status.h>
#include <hiredis/hiredis.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "json.h"
#include "shopgpu_rec.h"

#define CONNECT_TIMEOUT_MS 2000
#define MAX_LIST 1024 /* the server's largest k */

static int fail(sg_cli *cli, int code, const char *what, const char *addr, const char *why) {
  shopgpu_status st = {code, ""};
  snprintf(st.message, sizeof st.message, "%s %s: %s", what, addr, why);
  return sg_cli_rpc_error(cli, &st);
}

/* The first line of the password file, without its line break. */
static int read_password(const char *path, char *buf, size_t size) {
  FILE *f = fopen(path, "r");
  if (!f)
    return sg_cli_usage("--redis-password-file: cannot read \"%.200s\": %s", path, strerror(errno));
  if (!fgets(buf, (int)size, f)) buf[0] = '\0';
  fclose(f);
  buf[strcspn(buf, "\r\n")] = '\0';
  if (!buf[0]) return sg_cli_usage("--redis-password-file: \"%.200s\" is empty", path);
  return SG_CLI_OK;
}

static redisContext *connect_to(const char *addr) {
  struct timeval tv = {CONNECT_TIMEOUT_MS / 1000, CONNECT_TIMEOUT_MS % 1000 * 1000};
  redisContext *ctx;
  if (strncmp(addr, "unix:", 5) == 0) {
    ctx = redisConnectUnixWithTimeout(addr + 5, tv);
  } else {
    const char *colon = strrchr(addr, ':');
    char host[256];
    snprintf(host, sizeof host, "%.*s", colon ? (int)(colon - addr) : 0, addr);
    ctx = redisConnectWithTimeout(host, atoi(colon + 1), tv);
  }
  /* commands time out too, on a socket file as on TCP (a stopped Redis hung rec-get forever) */
  if (ctx && !ctx->err) redisSetTimeout(ctx, tv);
  return ctx;
}

static int check_addr(const char *addr) {
  if (strncmp(addr, "unix:", 5) == 0 && addr[5]) return SG_CLI_OK;
  const char *colon = strrchr(addr, ':');
  int64_t port;
  if (!colon || colon == addr || strncmp(addr, "unix:", 5) == 0 ||
      sg_cli_parse_int("--redis port", colon + 1, 1, 65535, &port) != SG_CLI_OK)
    return sg_cli_usage("--redis: \"%.64s\" is not HOST:PORT or unix:PATH", addr);
  return SG_CLI_OK;
}

/* One command on ctx that must answer OK: SG_CLI_OK or the error printed. */
static int setup_command(sg_cli *cli, redisContext *ctx, const char *addr, const char *name,
                         const char *arg) {
  const char *argv[] = {name, arg};
  redisReply *r = redisCommandArgv(ctx, 2, argv, NULL);
  int ok = r && r->type == REDIS_REPLY_STATUS;
  char why[160];
  snprintf(why, sizeof why, "%s: %s", name, r ? (r->str ? r->str : "bad reply") : ctx->errstr);
  if (r) freeReplyObject(r);
  return ok ? SG_CLI_OK : fail(cli, GRPC_STATUS_UNAVAILABLE, "redis", addr, why);
}

/* A connected, authenticated context on the right database, or NULL (error printed). */
static redisContext *open_redis(sg_cli *cli, const char *addr, int *rc) {
  char password[512] = "";
  const char *pw_file = sg_cli_opt_str(cli, "redis-password-file");
  int64_t db = 0;
  if ((*rc = check_addr(addr)) != SG_CLI_OK ||
      (*rc = sg_cli_opt_int(cli, "redis-db", 0, 1 << 20, &db)) != SG_CLI_OK ||
      (pw_file && (*rc = read_password(pw_file, password, sizeof password)) != SG_CLI_OK))
    return NULL;
  redisContext *ctx = connect_to(addr);
  if (!ctx || ctx->err) {
    *rc = fail(cli, GRPC_STATUS_UNAVAILABLE, "redis", addr, ctx ? ctx->errstr : "out of memory");
    redisFree(ctx);
    return NULL;
  }
  char dbtext[24];
  snprintf(dbtext, sizeof dbtext, "%" PRId64, db);
  if ((password[0] && (*rc = setup_command(cli, ctx, addr, "AUTH", password)) != SG_CLI_OK) ||
      (db && (*rc = setup_command(cli, ctx, addr, "SELECT", dbtext)) != SG_CLI_OK)) {
    redisFree(ctx);
    return NULL;
  }
  *rc = SG_CLI_OK;
  return ctx;
}

static void print_json(sg_cli *cli, uint64_t user, const shopgpu_rec *rec) {
  sg__json j;
  sg__json_init(&j, cli->out);
  sg__json_begin_object(&j);
  sg__json_key(&j, "user");
  sg__json_uint(&j, user);
  sg__json_key(&j, "items");
  sg__json_begin_array(&j);
  for (uint32_t i = 0; i < rec->k; i++) {
    sg__json_begin_object(&j);
    sg__json_key(&j, "item");
    sg__json_uint(&j, rec->items[i]);
    sg__json_key(&j, "score");
    sg__json_float(&j, rec->scores[i]);
    sg__json_end_object(&j);
  }
  sg__json_end_array(&j);
  sg__json_key(&j, "model_version");
  sg__json_uint(&j, rec->model_version);
  sg__json_key(&j, "published_at_ms");
  sg__json_uint(&j, rec->published_at_ms);
  sg__json_end_object(&j);
  sg__json_finish(&j);
}

static void print_list(sg_cli *cli, const char *model, uint64_t user, const shopgpu_rec *rec) {
  time_t t = (time_t)(rec->published_at_ms / 1000);
  struct tm tm;
  char when[32] = "-";
  if (gmtime_r(&t, &tm)) strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
  fprintf(cli->out, "user %" PRIu64 ", model %s v%u, published %s, %u items\n%4s  %-12s  %s\n",
          user, model, rec->model_version, when, rec->k, "RANK", "ITEM", "SCORE");
  char text[32];
  for (uint32_t i = 0; i < rec->k; i++) {
    sg__float_text(text, sizeof text, rec->scores[i]);
    fprintf(cli->out, "%4u  %-12" PRIu32 "  %s\n", i + 1, rec->items[i], text);
  }
}

int sg_cli_cmd_rec_get(sg_cli *cli, int argc, char **argv) {
  (void)argc;
  (void)argv;
  const char *addr = sg_cli_opt_str(cli, "redis"), *model = sg_cli_opt_str(cli, "model");
  uint64_t user = 0;
  int rc = sg_cli_opt_u64(cli, "user", &user);
  redisContext *ctx = rc == SG_CLI_OK ? open_redis(cli, addr, &rc) : NULL;
  if (!ctx) return rc;
  uint32_t items[MAX_LIST];
  float scores[MAX_LIST];
  shopgpu_rec rec = {.items = items, .scores = scores, .capacity = MAX_LIST};
  int found = shopgpu_rec_lookup(ctx, model, user, &rec);
  redisFree(ctx);
  if (found == SHOPGPU_REC_ERROR)
    return fail(cli, GRPC_STATUS_UNAVAILABLE, "redis", addr, rec.reason);
  if (found == SHOPGPU_REC_MISS) {
    char what[200];
    snprintf(what, sizeof what, "no list for user %" PRIu64 " of model %s in redis", user, model);
    return fail(cli, GRPC_STATUS_NOT_FOUND, what, addr, rec.reason);
  }
  if (cli->json)
    print_json(cli, user, &rec);
  else
    print_list(cli, model, user, &rec);
  return SG_CLI_OK;
}
