/* shopgpu-redis-bench: the Redis side of hot recommendations, against a redis-server on loopback.
 *   publish: the server's publisher (server/cache.c, pipelined SET EX in batches) writing
 *            USERS lists of K entries, lists/s;
 *   lookup:  CLIENTS threads, each with its own hiredis connection, doing shopgpu_rec_lookup of
 *            random published users for S seconds (the storefront path): QPS, p50/p99/max.
 *   shopgpu-redis-bench --redis HOST:PORT [--users N] [--k K] [--clients C] [--duration S]
 * Prints the machine lines and a markdown table; bench/redis_bench.sh runs it next to
 * redis-benchmark -P 64 with values of the same size. */
#include <hiredis/hiredis.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"
#include "loadgen_hist.h"
#include "machine.h"
#include "shopgpu_rec.h"

typedef struct opts {
  char host[128];
  int port;
  long users, k, clients;
  double duration;
} opts;

static int parse(int argc, char **argv, opts *o) {
  *o = (opts){"127.0.0.1", 6379, 1000000, 50, 50, 5};
  for (int i = 1; i + 1 < argc; i += 2) {
    const char *f = argv[i], *v = argv[i + 1];
    if (!strcmp(f, "--redis")) {
      const char *c = strrchr(v, ':');
      if (!c) return -1;
      snprintf(o->host, sizeof o->host, "%.*s", (int)(c - v), v);
      o->port = atoi(c + 1);
    } else if (!strcmp(f, "--users")) {
      o->users = atol(v);
    } else if (!strcmp(f, "--k")) {
      o->k = atol(v);
    } else if (!strcmp(f, "--clients")) {
      o->clients = atol(v);
    } else if (!strcmp(f, "--duration")) {
      o->duration = atof(v);
    } else {
      return -1;
    }
  }
  return o->users > 0 && o->k > 0 && o->k <= 1024 && o->clients > 0 ? 0 : -1;
}

/* Publishes o->users lists through sg_cache_publisher; seconds taken, or -1. */
static double publish(const opts *o) {
  char addr[160];
  snprintf(addr, sizeof addr, "%s:%d", o->host, o->port);
  sg_err err = {0};
  sg_cache_config cfg = {.addr = addr, .ttl_s = 3600, .command_timeout_ms = 5000};
  sg_cache *c = sg_cache_open(&cfg, &err);
  uint32_t *items = malloc((size_t)o->k * sizeof *items);
  float *scores = malloc((size_t)o->k * sizeof *scores);
  if (!c || !items || !scores) return -1;
  for (long i = 0; i < o->k; i++) items[i] = (uint32_t)(i * 7 + 1), scores[i] = 1.0f / (float)(i + 2);
  double t0 = sg_bench_now();
  sg_cache_publisher *p = sg_cache_publish_begin(c, "bench", 1, (uint32_t)o->k, &err);
  sg_status st = p ? SG_OK : err.code;
  for (long u = 0; st == SG_OK && u < o->users; u++)
    st = sg_cache_publish_add(p, (uint64_t)u, items, scores, (uint32_t)o->k, &err);
  if (p && sg_cache_publish_end(p, st == SG_OK, &err) != SG_OK) st = err.code;
  double took = sg_bench_now() - t0;
  if (st != SG_OK) fprintf(stderr, "publish: %s\n", sg_err_message(&err));
  sg_cache_close(c);
  free(items);
  free(scores);
  return st == SG_OK ? took : -1;
}

typedef struct client {
  const opts *o;
  double until;
  uint64_t seed, misses, errors;
  sg_lg_hist hist;
} client;

static void *lookup_loop(void *arg) {
  client *c = arg;
  redisContext *ctx = redisConnect(c->o->host, c->o->port);
  uint32_t items[1024];
  float scores[1024];
  shopgpu_rec rec = {.items = items, .scores = scores, .capacity = 1024};
  while (ctx && !ctx->err && sg_bench_now() < c->until) {
    c->seed = c->seed * 6364136223846793005ull + 1442695040888963407ull;
    uint64_t user = (c->seed >> 33) % (uint64_t)c->o->users;
    double t0 = sg_bench_now();
    int r = shopgpu_rec_lookup(ctx, "bench", user, &rec);
    double dt = sg_bench_now() - t0;
    if (r == SHOPGPU_REC_FOUND)
      sg_lg_hist_record(&c->hist, (uint64_t)(dt * 1e9));
    else if (r == SHOPGPU_REC_MISS)
      c->misses++;
    else
      c->errors++;
  }
  if (!ctx || ctx->err) c->errors++;
  if (ctx) redisFree(ctx);
  return NULL;
}

int main(int argc, char **argv) {
  opts o;
  if (parse(argc, argv, &o) != 0) {
    fprintf(stderr, "usage: shopgpu-redis-bench --redis HOST:PORT [--users N] [--k K] "
                    "[--clients C] [--duration S]\n");
    return 2;
  }
  sg_bench_print_machine(stdout);
  double took = publish(&o);
  if (took < 0) return 1;
  size_t bytes = SG_REC_HEADER_BYTES + 8 * (size_t)o.k;
  printf("\n| measure | clients | count | value B | rate /s | p50 ms | p99 ms | max ms | misses "
         "| errors |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
  printf("| publish (pipelined SET EX, batches of 1000) | 1 | %ld | %zu | %.0f | - | - | - | - | 0 |\n",
         o.users, bytes, (double)o.users / took);
  client *cs = calloc((size_t)o.clients, sizeof *cs);
  pthread_t *ts = calloc((size_t)o.clients, sizeof *ts);
  double until = sg_bench_now() + o.duration;
  for (long i = 0; i < o.clients; i++) {
    cs[i] = (client){.o = &o, .until = until, .seed = (uint64_t)i * 7919 + 1};
    sg_lg_hist_init(&cs[i].hist);
    pthread_create(&ts[i], NULL, lookup_loop, &cs[i]);
  }
  sg_lg_hist all;
  sg_lg_hist_init(&all);
  uint64_t misses = 0, errors = 0;
  for (long i = 0; i < o.clients; i++) {
    pthread_join(ts[i], NULL);
    sg_lg_hist_merge(&all, &cs[i].hist);
    misses += cs[i].misses, errors += cs[i].errors;
  }
  printf("| storefront lookup (shopgpu_rec_lookup) | %ld | %llu | %zu | %.0f | %.3f | %.3f | %.3f "
         "| %llu | %llu |\n",
         o.clients, (unsigned long long)all.count, bytes, (double)all.count / o.duration,
         sg_lg_hist_quantile(&all, 0.5) * 1e-6, sg_lg_hist_quantile(&all, 0.99) * 1e-6,
         (double)all.max_ns * 1e-6, (unsigned long long)misses, (unsigned long long)errors);
  free(cs);
  free(ts);
  return errors ? 1 : 0;
}
