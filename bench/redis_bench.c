/* shopgpu-redis-bench: the Redis side of hot recommendations, against a redis-server on loopback.
 *   publish: the server's publisher (server/cache.c, pipelined SET EX in batches) writing
 *            USERS lists of K entries, lists/s;
 *   lookup:  CLIENTS threads, each with its own hiredis connection, doing shopgpu_rec_lookup of
 *            random published users for S seconds (the storefront path): QPS, p50/p99/max,
 *            first back to back (the saturated rate), then paced at each fraction F of that
 *            rate (open loop: client i sends its j-th lookup at start + (j + i/C) C/rate, and
 *            latency counts from that scheduled time, so a client that falls behind counts
 *            its queueing too).
 *            Then the same C connections from one event-loop thread (poll; each sends its next
 *            GET when the last answer is in, and decodes it with shopgpu_rec_decode): the shape
 *            of redis-benchmark, and of a storefront built on an event loop.
 *   shopgpu-redis-bench --redis HOST:PORT [--users N] [--k K] [--clients C] [--duration S]
 *                       [--paced F1,F2,...] (default 0.25,0.5)
 * Prints the machine lines and a markdown table; bench/redis_bench.sh runs it next to
 * redis-benchmark -P 64 with values of the same size. */
#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cache.h"
#include "loadgen_hist.h"
#include "machine.h"
#include "shopgpu_rec.h"

typedef struct opts {
  char host[128];
  int port;
  long users, k, clients;
  double duration;
  double paced[8];
  int n_paced;
} opts;

static int parse(int argc, char **argv, opts *o) {
  *o = (opts){"127.0.0.1", 6379, 1000000, 50, 50, 5, {0.25, 0.5}, 2};
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
    } else if (!strcmp(f, "--paced")) {
      o->n_paced = 0;
      for (const char *q = v; *q && o->n_paced < 8; q += strcspn(q, ","), q += *q == ',') {
        double fr = atof(q);
        if (!(fr > 0.0 && fr <= 1.0)) return -1;
        o->paced[o->n_paced++] = fr;
      }
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
  for (long i = 0; i < o->k; i++)
    items[i] = (uint32_t)(i * 7 + 1), scores[i] = 1.0f / (float)(i + 2);
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

/* The next random published user of a client's stream. */
static uint64_t next_user(uint64_t *seed, long users) {
  *seed = *seed * 6364136223846793005ull + 1442695040888963407ull;
  return (*seed >> 33) % (uint64_t)users;
}

/* Queues and writes GET of user's list on a non-blocking connection; returns when it was sent. */
static double send_get(redisContext *c, uint64_t user) {
  int done = 0;
  redisAppendCommand(c, "GET shopgpu:rec:bench:%llu", (unsigned long long)user);
  double t = sg_bench_now();
  while (!done && redisBufferWrite(c, &done) == REDIS_OK) {
  }
  return t;
}

typedef struct client {
  const opts *o;
  double start, until;
  double interval; /* paced: seconds between this client's lookups; 0 = back to back */
  double phase;    /* paced: offset of the first lookup */
  uint64_t seed, misses, errors;
  sg_lg_hist hist;
} client;

static void sleep_until(double t) {
  struct timespec ts = {.tv_sec = (time_t)t, .tv_nsec = (long)((t - (double)(time_t)t) * 1e9)};
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) != 0) {
  }
}

static void *lookup_loop(void *arg) {
  client *c = arg;
  redisContext *ctx = redisConnect(c->o->host, c->o->port);
  uint32_t items[1024];
  float scores[1024];
  shopgpu_rec rec = {.items = items, .scores = scores, .capacity = 1024};
  for (uint64_t j = 0; ctx && !ctx->err; j++) {
    double t0;
    if (c->interval > 0.0) {
      t0 = c->start + c->phase + (double)j * c->interval; /* the scheduled send time */
      if (t0 >= c->until) break;
      sleep_until(t0);
    } else {
      t0 = sg_bench_now();
      if (t0 >= c->until) break;
    }
    uint64_t user = next_user(&c->seed, c->o->users);
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

/* One lookup phase's table row: o->clients clients over o->duration seconds. */
static void print_row(const opts *o, const char *label, const sg_lg_hist *h, uint64_t misses,
                      uint64_t errors) {
  size_t bytes = SG_REC_HEADER_BYTES + 8 * (size_t)o->k;
  printf("| %s | %ld | %llu | %zu | %.0f | %.3f | %.3f | %.3f | %llu | %llu |\n", label, o->clients,
         (unsigned long long)h->count, bytes, (double)h->count / o->duration,
         sg_lg_hist_quantile(h, 0.5) * 1e-6, sg_lg_hist_quantile(h, 0.99) * 1e-6,
         (double)h->max_ns * 1e-6, (unsigned long long)misses, (unsigned long long)errors);
  fflush(stdout);
}

/* One lookup phase of o->duration seconds from o->clients threads: back to back (rate 0) or
 * paced at `rate` lookups/s in all; prints its row. *achieved: lookups/s answered. Returns the
 * errors. */
static uint64_t lookups(const opts *o, double rate, const char *label, double *achieved) {
  client *cs = calloc((size_t)o->clients, sizeof *cs);
  pthread_t *ts = calloc((size_t)o->clients, sizeof *ts);
  double start = sg_bench_now() + 0.05, until = start + o->duration;
  double interval = rate > 0.0 ? (double)o->clients / rate : 0.0;
  for (long i = 0; i < o->clients; i++) {
    cs[i] = (client){.o = o,
                     .start = start,
                     .until = until,
                     .interval = interval,
                     .phase = interval * (double)i / (double)o->clients,
                     .seed = (uint64_t)i * 7919 + 1};
    sg_lg_hist_init(&cs[i].hist);
    pthread_create(&ts[i], NULL, lookup_loop, &cs[i]);
  }
  sg_lg_hist all;
  sg_lg_hist_init(&all);
  uint64_t misses = 0, errors = 0;
  for (long i = 0; i < o->clients; i++) {
    pthread_join(ts[i], NULL);
    sg_lg_hist_merge(&all, &cs[i].hist);
    misses += cs[i].misses, errors += cs[i].errors;
  }
  print_row(o, label, &all, misses, errors);
  if (achieved) *achieved = (double)all.count / o->duration;
  free(cs);
  free(ts);
  return errors;
}

/* The event-loop phase: o->clients non-blocking connections served by this one thread for
 * o->duration seconds, one GET in flight on each; prints its row. Returns the errors. */
static uint64_t lookups_evloop(const opts *o) {
  long nc = o->clients;
  redisContext **cs = calloc((size_t)nc, sizeof *cs);
  struct pollfd *pf = calloc((size_t)nc, sizeof *pf);
  double *sent = calloc((size_t)nc, sizeof *sent);
  uint64_t *seed = calloc((size_t)nc, sizeof *seed);
  uint32_t items[1024];
  float scores[1024];
  shopgpu_rec rec = {.items = items, .scores = scores, .capacity = 1024};
  sg_lg_hist hist;
  sg_lg_hist_init(&hist);
  uint64_t misses = 0, errors = 0;
  for (long i = 0; i < nc && cs; i++) {
    cs[i] = redisConnect(o->host, o->port);
    if (!cs[i] || cs[i]->err) {
      errors++;
      continue;
    }
    fcntl(cs[i]->fd, F_SETFL, fcntl(cs[i]->fd, F_GETFL) | O_NONBLOCK);
    cs[i]->flags &= ~REDIS_BLOCK;
    seed[i] = (uint64_t)i * 7919 + 1;
    pf[i].fd = cs[i]->fd;
    pf[i].events = POLLIN;
  }
  double until = sg_bench_now() + o->duration;
  for (long i = 0; i < nc && !errors; i++) { /* every connection sends its first GET */
    sent[i] = send_get(cs[i], next_user(&seed[i], o->users));
  }
  while (!errors && sg_bench_now() < until) {
    if (poll(pf, (nfds_t)nc, 100) < 0) continue;
    for (long i = 0; i < nc && !errors; i++) {
      if (!(pf[i].revents & POLLIN)) continue;
      if (redisBufferRead(cs[i]) != REDIS_OK) {
        errors++;
        break;
      }
      void *reply = NULL;
      while (redisGetReplyFromReader(cs[i], &reply) == REDIS_OK && reply) {
        redisReply *r = reply;
        double now = sg_bench_now();
        int st = r->type == REDIS_REPLY_STRING ? shopgpu_rec_decode(r->str, r->len, &rec)
                                               : SHOPGPU_REC_MISS;
        if (st == SHOPGPU_REC_FOUND)
          sg_lg_hist_record(&hist, (uint64_t)((now - sent[i]) * 1e9));
        else
          misses++;
        freeReplyObject(r);
        reply = NULL;
        sent[i] = send_get(cs[i], next_user(&seed[i], o->users));
      }
    }
  }
  print_row(o, "storefront lookup, one event-loop thread (shopgpu_rec_decode)", &hist, misses,
            errors);
  for (long i = 0; i < nc && cs; i++)
    if (cs[i]) redisFree(cs[i]);
  free(cs);
  free(pf);
  free(sent);
  free(seed);
  return errors;
}

int main(int argc, char **argv) {
  opts o;
  if (parse(argc, argv, &o) != 0) {
    fprintf(stderr, "usage: shopgpu-redis-bench --redis HOST:PORT [--users N] [--k K] "
                    "[--clients C] [--duration S] [--paced F1,F2,...]\n");
    return 2;
  }
  sg_bench_print_machine(stdout);
  double took = publish(&o);
  if (took < 0) return 1;
  size_t bytes = SG_REC_HEADER_BYTES + 8 * (size_t)o.k;
  printf("\n| measure | clients | count | value B | rate /s | p50 ms | p99 ms | max ms | misses "
         "| errors |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
  printf("| publish (pipelined SET EX, batches of 1000) | 1 | %ld | %zu | %.0f | - | - | - | - | 0 "
         "|\n",
         o.users, bytes, (double)o.users / took);
  double rate = 0.0;
  uint64_t errors = lookups(&o, 0.0, "storefront lookup (shopgpu_rec_lookup)", &rate);
  for (int f = 0; f < o.n_paced && rate > 0.0; f++) {
    char label[128];
    snprintf(label, sizeof label, "storefront lookup, paced at %.0f%% of that rate",
             100 * o.paced[f]);
    errors += lookups(&o, o.paced[f] * rate, label, NULL);
  }
  errors += lookups_evloop(&o);
  return errors ? 1 : 0;
}
