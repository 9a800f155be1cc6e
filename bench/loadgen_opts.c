/* shopgpu-loadgen's flags (one table: name, kind, field, range, help) and the run plan they
 * resolve to: method path, packed request (protobuf-c), expected echo size, bearer token. */
#include "loadgen_opts.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "grpc/health/v1/health.pb-c.h"
#include "shopgpu/v1/admin.pb-c.h"
#include "shopgpu/v1/click.pb-c.h"

#define MAX_PAYLOAD ((size_t)64 << 20)
#define MAX_TOKEN_FILE (64 << 10)

typedef enum { K_STR, K_INT, K_SIZE, K_DOUBLE, K_METHOD, K_BOOL } kind;

typedef struct {
  const char *name, *metavar;
  kind k;
  size_t offset;
  double min, max;
  const char *help;
} flag;

#define F(field) offsetof(sg_lg_opts, field)
static const flag flags[] = {
    {"server", "ADDR", K_STR, F(server), 0, 0, "server address: HOST:PORT or unix:PATH (required)"},
    {"method", "M", K_METHOD, F(method), 0, 0,
     "info (GetServerInfo), echo, health, score (Click.ScorePairs) or recommend [info]"},
    {"model", "NAME", K_STR, F(model), 0, 0, "score, recommend: the model [demo]"},
    {"pairs", "N", K_SIZE, F(pairs), 1, 1 << 26,
     "score: pairs per call; recommend: users per call [1000; 1]"},
    {"users", "U", K_SIZE, F(users), 1, 4e9, "ids drawn from 0..U-1 (the model's user ids) [1000]"},
    {"items", "I", K_SIZE, F(items), 1, 4e9, "ids drawn from 0..I-1 [1000]"},
    {"k", "K", K_INT, F(k), 1, 1024, "recommend: items per user [10]"},
    {"seed", "S", K_DOUBLE, F(seed), 0, 1e15, "of the ids (one request, sent every call) [1]"},
    {"payload", "BYTES", K_SIZE, F(payload), 0, (double)MAX_PAYLOAD, "echo payload size [64]"},
    {"concurrency", "N", K_INT, F(concurrency), 1, 100000, "calls kept in flight [1]"},
    {"connections", "C", K_INT, F(connections), 1, 1024,
     "channels (TCP connections), calls spread round-robin [min(N, 4); <= N]"},
    {"threads", "T", K_INT, F(threads), 1, 64,
     "client threads, each with its own completion queue [1; cores/4 on 8+ cores; <= N]"},
    {"duration", "S", K_DOUBLE, F(duration_s), 0.01, 86400, "measured seconds [5]"},
    {"warmup", "S", K_DOUBLE, F(warmup_s), 0, 3600, "seconds run before measuring [1]"},
    {"timeout-ms", "MS", K_INT, F(timeout_ms), 1, 3600000,
     "per-call deadline, and the limit for connecting [10000]"},
    {"token-file", "F", K_STR, F(token_file), 0, 0,
     "send 'authorization: Bearer TOKEN' (first line of F)"},
    {"no-header", "", K_BOOL, F(no_header), 0, 0, "print only the table row"},
};
#undef F

static void usage(FILE *out) {
  fprintf(out, "usage: shopgpu-loadgen --server ADDR [FLAGS]\n\n"
               "Closed-loop unary load: N calls always in flight over C channels; prints the\n"
               "machine and a markdown table. calls and errors count the calls that ended in\n"
               "the measured window; QPS and the latencies count only the OK ones. Exit status\n"
               "1 when any call failed, 2 on bad flags.\n\n");
  for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++) {
    char left[48];
    snprintf(left, sizeof left, "--%s %s", flags[i].name, flags[i].metavar);
    fprintf(out, "  %-22s %s\n", left, flags[i].help);
  }
  fprintf(out, "  %-22s %s\n", "--help", "print this and exit");
}

static int parse_number(const flag *f, const char *v, double *out) {
  char *end = NULL;
  errno = 0;
  double d = strtod(v, &end);
  if (errno || end == v || *end || d < f->min || d > f->max ||
      (f->k != K_DOUBLE && d != (double)(int64_t)d)) {
    fprintf(stderr, "shopgpu-loadgen: --%s '%s': want a%s number in [%g, %g]\n", f->name, v,
            f->k == K_DOUBLE ? "" : "n integer", f->min, f->max);
    return -1;
  }
  *out = d;
  return 0;
}

static int set_flag(sg_lg_opts *o, const flag *f, const char *v) {
  char *field = (char *)o + f->offset;
  double d = 0;
  switch (f->k) {
  case K_STR: *(const char **)(void *)field = v; return 0;
  case K_BOOL: *(int *)(void *)field = 1; return 0;
  case K_METHOD:
    if (!strcmp(v, "info"))
      o->method = SG_LG_INFO;
    else if (!strcmp(v, "echo"))
      o->method = SG_LG_ECHO;
    else if (!strcmp(v, "health"))
      o->method = SG_LG_HEALTH;
    else if (!strcmp(v, "score"))
      o->method = SG_LG_SCORE;
    else if (!strcmp(v, "recommend"))
      o->method = SG_LG_RECOMMEND;
    else {
      fprintf(stderr,
              "shopgpu-loadgen: --method '%s': want info, echo, health, score or "
              "recommend\n",
              v);
      return -1;
    }
    return 0;
  default: break;
  }
  if (parse_number(f, v, &d)) return -1;
  if (f->k == K_INT)
    *(int *)(void *)field = (int)d;
  else if (f->k == K_SIZE)
    *(size_t *)(void *)field = (size_t)d;
  else
    *(double *)(void *)field = d;
  return 0;
}

static const flag *find_flag(const char *arg) {
  if (strncmp(arg, "--", 2)) return NULL;
  for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++)
    if (!strcmp(arg + 2, flags[i].name)) return &flags[i];
  return NULL;
}

static void resolve_auto(sg_lg_opts *o) {
  if (!o->connections) o->connections = o->concurrency < 4 ? o->concurrency : 4;
  if (!o->threads) {
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    o->threads = cores >= 8 ? (int)(cores / 4) : 1; /* leave most cores to a local server */
  }
  if (o->connections > o->concurrency) o->connections = o->concurrency; /* no idle channels */
  if (o->threads > o->concurrency) o->threads = o->concurrency;
}

int sg_lg_opts_parse(sg_lg_opts *o, int argc, char **argv, FILE *out) {
  *o = (sg_lg_opts){.method = SG_LG_INFO,
                    .payload = 64,
                    .model = "demo",
                    .pairs = 0,
                    .users = 1000,
                    .items = 1000,
                    .k = 10,
                    .seed = 1,
                    .concurrency = 1,
                    .duration_s = 5,
                    .warmup_s = 1,
                    .timeout_ms = 10000};
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
      usage(out);
      return 1;
    }
    const flag *f = find_flag(argv[i]);
    if (!f) {
      fprintf(stderr, "shopgpu-loadgen: unknown flag '%s' (see --help)\n", argv[i]);
      return -1;
    }
    if (f->k != K_BOOL && i + 1 == argc) {
      fprintf(stderr, "shopgpu-loadgen: --%s needs a value\n", f->name);
      return -1;
    }
    if (set_flag(o, f, f->k == K_BOOL ? NULL : argv[++i])) return -1;
  }
  if (!o->server || !o->server[0]) {
    fprintf(stderr, "shopgpu-loadgen: --server is required (see --help)\n");
    return -1;
  }
  if (!o->pairs) o->pairs = o->method == SG_LG_RECOMMEND ? 1 : 1000;
  resolve_auto(o);
  return 0;
}

/* Packs m into a fresh buffer (malloc(1) for an empty message, so it is never NULL). */
static unsigned char *pack(const ProtobufCMessage *m, size_t *len) {
  *len = protobuf_c_message_get_packed_size(m);
  unsigned char *buf = malloc(*len ? *len : 1);
  if (buf) protobuf_c_message_pack(m, buf);
  return buf;
}

/* Ids uniform in 0..n-1 from a splitmix64 stream (reproducible for a seed). */
static void draw_ids(uint64_t *ids, size_t count, size_t n, uint64_t *state) {
  for (size_t i = 0; i < count; i++) {
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    ids[i] = (z ^ (z >> 31)) % n;
  }
}

/* Click.ScorePairs with o->pairs random pairs, or Click.Recommend for o->pairs random users. */
static int make_click_request(const sg_lg_opts *o, sg_lg_plan *p) {
  uint64_t state = (uint64_t)o->seed;
  uint64_t *users = malloc(o->pairs * sizeof *users), *items = malloc(o->pairs * sizeof *items);
  if (!users || !items) {
    free(users), free(items);
    return -1;
  }
  draw_ids(users, o->pairs, o->users, &state);
  draw_ids(items, o->pairs, o->items, &state);
  char *model = strdup(o->model);
  if (o->method == SG_LG_SCORE) {
    Shopgpu__V1__ScorePairsRequest r = SHOPGPU__V1__SCORE_PAIRS_REQUEST__INIT;
    r.model = model;
    r.user_ids = users, r.n_user_ids = o->pairs;
    r.item_ids = items, r.n_item_ids = o->pairs;
    p->request = pack(&r.base, &p->request_len);
    p->path = "/shopgpu.v1.Click/ScorePairs", p->method_name = "score";
  } else {
    Shopgpu__V1__RecommendRequest r = SHOPGPU__V1__RECOMMEND_REQUEST__INIT;
    r.model = model;
    r.user_ids = users, r.n_user_ids = o->pairs;
    r.k = (uint32_t)o->k;
    p->request = pack(&r.base, &p->request_len);
    p->path = "/shopgpu.v1.Click/Recommend", p->method_name = "recommend";
  }
  free(model), free(users), free(items);
  return p->request ? 0 : -1;
}

static int make_request(const sg_lg_opts *o, sg_lg_plan *p) {
  if (o->method == SG_LG_SCORE || o->method == SG_LG_RECOMMEND) return make_click_request(o, p);
  Shopgpu__V1__ServerInfoRequest info = SHOPGPU__V1__SERVER_INFO_REQUEST__INIT;
  Grpc__Health__V1__HealthCheckRequest health = GRPC__HEALTH__V1__HEALTH_CHECK_REQUEST__INIT;
  Shopgpu__V1__EchoRequest echo = SHOPGPU__V1__ECHO_REQUEST__INIT;
  Shopgpu__V1__EchoResponse reply = SHOPGPU__V1__ECHO_RESPONSE__INIT;
  const ProtobufCMessage *m = &info.base;
  p->path = "/shopgpu.v1.Admin/GetServerInfo", p->method_name = "info";
  if (o->method == SG_LG_HEALTH) {
    m = &health.base; /* service "": the whole server */
    p->path = "/grpc.health.v1.Health/Check", p->method_name = "health";
  } else if (o->method == SG_LG_ECHO) {
    unsigned char *bytes = malloc(o->payload ? o->payload : 1);
    if (!bytes) return -1;
    for (size_t i = 0; i < o->payload; i++)
      bytes[i] = (unsigned char)('a' + i % 26);
    echo.payload.data = reply.payload.data = bytes;
    echo.payload.len = reply.payload.len = o->payload;
    p->expect_response_len = protobuf_c_message_get_packed_size(&reply.base);
    p->request = pack(&echo.base, &p->request_len);
    free(bytes);
    p->path = "/shopgpu.v1.Admin/Echo", p->method_name = "echo";
    return p->request ? 0 : -1;
  }
  p->request = pack(m, &p->request_len);
  return p->request ? 0 : -1;
}

/* The first non-empty line of the file, trimmed, as "Bearer TOKEN". */
static int read_token(const char *path, sg_lg_plan *p) {
  FILE *f = fopen(path, "r");
  if (!f) {
    fprintf(stderr, "shopgpu-loadgen: --token-file %s: %s\n", path, strerror(errno));
    return -1;
  }
  char line[MAX_TOKEN_FILE];
  const char *tok = NULL;
  while (!tok && fgets(line, sizeof line, f)) {
    char *s = line + strspn(line, " \t\r\n");
    s[strcspn(s, " \t\r\n")] = '\0';
    if (*s) tok = s;
  }
  fclose(f);
  if (!tok) {
    fprintf(stderr, "shopgpu-loadgen: --token-file %s: no token in the file\n", path);
    return -1;
  }
  size_t n = strlen("Bearer ") + strlen(tok) + 1;
  p->authorization = malloc(n);
  if (!p->authorization) return -1;
  snprintf(p->authorization, n, "Bearer %s", tok);
  return 0;
}

int sg_lg_plan_make(const sg_lg_opts *o, sg_lg_plan *p) {
  *p = (sg_lg_plan){0};
  if (make_request(o, p)) {
    fprintf(stderr, "shopgpu-loadgen: out of memory packing the request\n");
    return -1;
  }
  if (o->token_file && read_token(o->token_file, p)) {
    sg_lg_plan_free(p);
    return -1;
  }
  return 0;
}

void sg_lg_plan_free(sg_lg_plan *p) {
  free(p->request);
  free(p->authorization);
  *p = (sg_lg_plan){0};
}
