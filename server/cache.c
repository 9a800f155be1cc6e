/* Redis for hot recommendations: a small pool of hiredis connections shared by handler threads,
 * a background thread for write-backs (a bounded queue: a slow Redis costs dropped write-backs,
 * never a stalled request), and the pipelined publisher. After a failure no connection is tried
 * again before the backoff time; calls meanwhile miss at once. */
#include "cache.h"

#include <hiredis/hiredis.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "util.h"

#define POOL_MAX 16
#define QUEUE_MAX 4096
#define BACKOFF_MIN_US 100000
#define BACKOFF_MAX_US 5000000
#define PROBE_MAX_US 5000000 /* the longest a server without traffic goes unaware of Redis */
#define LIVENESS_US 1000000  /* connected and idle this long: a PING checks Redis is still there */
#define KEY_MAX 160

typedef struct write_item {
  char key[KEY_MAX];
  uint8_t *blob;
  size_t len;
} write_item;

struct sg_cache {
  int enabled;
  char host[256];
  int port;       /* 0 for a unix socket (host holds the path) */
  char addr[272]; /* as configured, for messages: HOST:PORT or unix:PATH */
  char *password;
  int db, ttl_s, connect_ms, command_ms;
  sg_cache_stats stats;
  pthread_mutex_t mu;
  redisContext *pool[POOL_MAX];
  int n_pool;
  int64_t retry_at_us, backoff_us;
  atomic_int connected;
  _Atomic int64_t answered_us; /* when Redis last answered a command (sg_mono_us) */
  atomic_int warned;           /* the current failure streak was logged */
  int64_t reply_warned_us; /* the last error reply logged (rate-limited; mu held) */
  char last_error[160];    /* why the last connect or command failed (mu held) */
  /* write-backs */
  pthread_cond_t cv;
  write_item queue[QUEUE_MAX];
  size_t head, count;
  int stopping;
  pthread_t writer;
  int writer_started;
};

/* ---- blobs ---- */

static void put_u16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }
static void put_u32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void put_u64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }

size_t sg_rec_encode(uint8_t *buf, uint32_t model_version, uint64_t published_ms, unsigned flags,
                     const uint32_t *items, const float *scores, uint32_t n) {
  put_u32(buf, SG_REC_MAGIC);
  put_u16(buf + 4, SG_REC_FORMAT);
  put_u16(buf + 6, (uint16_t)flags);
  put_u32(buf + 8, model_version);
  put_u64(buf + 12, published_ms);
  put_u32(buf + 20, n);
  for (uint32_t i = 0; i < n; i++) {
    memcpy(buf + SG_REC_HEADER_BYTES + 8 * (size_t)i, &items[i], 4);
    memcpy(buf + SG_REC_HEADER_BYTES + 8 * (size_t)i + 4, &scores[i], 4);
  }
  return SG_REC_HEADER_BYTES + 8 * (size_t)n;
}

int sg_rec_decode(const uint8_t *buf, size_t len, uint32_t *model_version, uint64_t *published_ms,
                  uint32_t *k, unsigned *flags) {
  uint32_t magic, n;
  uint16_t format, fl;
  if (len < SG_REC_HEADER_BYTES) return 0;
  memcpy(&magic, buf, 4);
  memcpy(&format, buf + 4, 2);
  memcpy(&fl, buf + 6, 2);
  if (flags) *flags = fl;
  memcpy(model_version, buf + 8, 4);
  memcpy(published_ms, buf + 12, 8);
  memcpy(&n, buf + 20, 4);
  if (magic != SG_REC_MAGIC || format != SG_REC_FORMAT) return 0;
  if (len != SG_REC_HEADER_BYTES + 8 * (size_t)n) return 0;
  *k = n;
  return 1;
}

static int64_t unix_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void rec_key(char *key, const char *model, uint64_t user) {
  snprintf(key, KEY_MAX, "shopgpu:rec:%s:%llu", model, (unsigned long long)user);
}

/* ---- connections ---- */

static struct timeval tv_ms(int ms) { return (struct timeval){ms / 1000, (ms % 1000) * 1000}; }

static redisReply *command(redisContext *ctx, const char *fmt, const char *arg) {
  return redisCommand(ctx, fmt, arg);
}

/* ctx's error in words: hiredis reports a timeout as EAGAIN's "Resource temporarily
 * unavailable". */
static const char *ctx_error(const redisContext *ctx, char *buf, size_t cap, int timeout_ms) {
  if (!ctx) return "out of memory";
  if (!ctx->err) return "no error";
  if (strstr(ctx->errstr, "Resource temporarily unavailable")) {
    snprintf(buf, cap, "timed out after %d ms", timeout_ms);
    return buf;
  }
  return ctx->errstr;
}

/* Records why Redis failed, and logs it on the first failure of a streak (also one that began
 * before Redis was ever reached). */
static void note_failure(sg_cache *c, const char *why) {
  pthread_mutex_lock(&c->mu);
  snprintf(c->last_error, sizeof c->last_error, "%s", why);
  pthread_mutex_unlock(&c->mu);
  atomic_store(&c->connected, 0);
  if (!atomic_exchange(&c->warned, 1)) SG_WARN("cache", "redis %s: %s", c->addr, why);
}

/* A fresh, authenticated connection, or NULL (logged once per failure streak). */
static redisContext *connect_one(sg_cache *c) {
  struct timeval tv = tv_ms(c->connect_ms);
  redisContext *ctx = c->port ? redisConnectWithTimeout(c->host, c->port, tv)
                              : redisConnectUnixWithTimeout(c->host, tv);
  char buf[64];
  const char *why = !ctx || ctx->err ? ctx_error(ctx, buf, sizeof buf, c->connect_ms) : NULL;
  if (!why && redisSetTimeout(ctx, tv_ms(c->command_ms)) != REDIS_OK) why = "cannot set timeout";
  redisReply *r = NULL;
  if (!why && c->password) {
    r = command(ctx, "AUTH %s", c->password);
    if (!r || r->type == REDIS_REPLY_ERROR)
      why = r ? r->str : ctx_error(ctx, buf, sizeof buf, c->command_ms);
  }
  if (!why && c->db) {
    if (r) freeReplyObject(r);
    char db[16];
    snprintf(db, sizeof db, "%d", c->db);
    r = command(ctx, "SELECT %s", db);
    if (!r || r->type == REDIS_REPLY_ERROR)
      why = r ? r->str : ctx_error(ctx, buf, sizeof buf, c->command_ms);
  }
  if (why) {
    note_failure(c, why);
    if (r) freeReplyObject(r);
    if (ctx) redisFree(ctx);
    return NULL;
  }
  if (r) freeReplyObject(r);
  return ctx;
}

/* The next wait before a new connection is tried: doubling from BACKOFF_MIN_US to
 * BACKOFF_MAX_US while failures follow one another (c->mu held). */
static void back_off(sg_cache *c) {
  c->backoff_us = c->backoff_us ? c->backoff_us * 2 : BACKOFF_MIN_US;
  if (c->backoff_us > BACKOFF_MAX_US) c->backoff_us = BACKOFF_MAX_US;
  c->retry_at_us = sg_mono_us() + c->backoff_us;
}

/* A connection from the pool, a new one, or NULL while backing off. */
static redisContext *conn_get(sg_cache *c) {
  pthread_mutex_lock(&c->mu);
  redisContext *ctx = c->n_pool ? c->pool[--c->n_pool] : NULL;
  int may_connect = !ctx && sg_mono_us() >= c->retry_at_us;
  if (may_connect) c->retry_at_us = sg_mono_us() + BACKOFF_MIN_US; /* one thread tries at a time */
  pthread_mutex_unlock(&c->mu);
  if (ctx || !may_connect) return ctx;
  ctx = connect_one(c);
  pthread_mutex_lock(&c->mu);
  if (ctx)
    c->retry_at_us = 0; /* other threads may open their own connections at once */
  else
    back_off(c);
  pthread_mutex_unlock(&c->mu);
  if (!ctx) atomic_fetch_add(&c->stats.errors, 1);
  return ctx;
}

/* Returns ctx to the pool after a command answered (ok = 1), or drops it after an error. An
 * error also drops the pooled connections and backs off as a failed connect does: a Redis that
 * accepts connections but does not answer (stopped, swapping) would otherwise cost every
 * request the command timeout. Only an answered command ends the backoff and counts as
 * connected, since a connect alone proves little. An error reply (answered = its text: OOM,
 * READONLY, WRONGTYPE) is an answer: the connection is fine and goes back to the pool, the
 * error is counted and logged (at most every 10 s), and nothing backs off. */
static void conn_put_answered(sg_cache *c, redisContext *ctx, int ok, const char *answered) {
  if (!ctx) return;
  redisContext *dropped[POOL_MAX];
  size_t n_dropped = 0;
  if (answered && !ctx->err) {
    atomic_fetch_add(&c->stats.errors, 1);
    pthread_mutex_lock(&c->mu);
    int64_t now = sg_mono_us();
    int say = now - c->reply_warned_us >= 10000000 || !c->reply_warned_us;
    if (say) c->reply_warned_us = now;
    snprintf(c->last_error, sizeof c->last_error, "%s", answered);
    pthread_mutex_unlock(&c->mu);
    if (say) SG_WARN("cache", "redis %s answered an error: %s", c->addr, answered);
    ok = 1;
  }
  if (ok && !ctx->err) {
    atomic_store(&c->answered_us, sg_mono_us());
    pthread_mutex_lock(&c->mu);
    c->backoff_us = 0;
    if (c->n_pool < POOL_MAX) {
      c->pool[c->n_pool++] = ctx;
      ctx = NULL;
    }
    pthread_mutex_unlock(&c->mu);
    atomic_store(&c->warned, 0);
    if (!atomic_exchange(&c->connected, 1)) {
      atomic_fetch_add(&c->stats.reconnects, 1);
      SG_INFO("cache", "redis %s connected", c->addr);
    }
  } else {
    atomic_fetch_add(&c->stats.errors, 1);
    char buf[64];
    note_failure(c,
                 ctx->err ? ctx_error(ctx, buf, sizeof buf, c->command_ms) : "an unexpected reply");
    pthread_mutex_lock(&c->mu);
    while (c->n_pool)
      dropped[n_dropped++] = c->pool[--c->n_pool];
    back_off(c);
    pthread_mutex_unlock(&c->mu);
  }
  if (ctx) redisFree(ctx);
  for (size_t i = 0; i < n_dropped; i++)
    redisFree(dropped[i]);
}

static void conn_put(sg_cache *c, redisContext *ctx, int ok) {
  conn_put_answered(c, ctx, ok, NULL);
}

/* ---- lookups and write-backs ---- */

void sg_cache_lookup(sg_cache *c, const char *model, uint32_t model_version, uint64_t user,
                     uint32_t k, uint32_t *items, float *scores, uint32_t *n_out, int *hit,
                     int (*item_known)(const void *, uint32_t), const void *known_arg) {
  *hit = 0;
  *n_out = 0;
  if (!c || !c->enabled) return;
  redisContext *ctx = conn_get(c);
  if (!ctx) {
    atomic_fetch_add(&c->stats.misses, 1);
    return;
  }
  char key[KEY_MAX];
  rec_key(key, model, user);
  redisReply *r = redisCommand(ctx, "GET %s", key);
  int ok = r && (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_NIL);
  /* WRONGTYPE (the key holds a list, a hash): a bad blob, a miss; the write-back replaces it */
  int wrong_type = r && r->type == REDIS_REPLY_ERROR && strncmp(r->str, "WRONGTYPE", 9) == 0;
  uint32_t version = 0, n = 0;
  uint64_t published;
  unsigned flags = 0;
  if (ok && r->type == REDIS_REPLY_STRING) {
    if (!sg_rec_decode((const uint8_t *)r->str, r->len, &version, &published, &n, &flags))
      atomic_fetch_add(&c->stats.bad_blobs, 1); /* a corrupted blob is a miss */
    else if (version == model_version && (n >= k || (flags & SG_REC_COMPLETE)))
      *hit = 1;
  }
  if (*hit) *n_out = n < k ? n : k;
  for (uint32_t i = 0; i < *n_out; i++) {
    memcpy(&items[i], r->str + SG_REC_HEADER_BYTES + 8 * (size_t)i, 4);
    memcpy(&scores[i], r->str + SG_REC_HEADER_BYTES + 8 * (size_t)i + 4, 4);
    /* well formed but not this model's (an item it lacks, a score that is no number) */
    if (!isfinite(scores[i]) || (item_known && !item_known(known_arg, items[i]))) *hit = 0;
  }
  if (*n_out && !*hit) {
    *n_out = 0;
    atomic_fetch_add(&c->stats.bad_blobs, 1);
  }
  if (wrong_type) atomic_fetch_add(&c->stats.bad_blobs, 1);
  const char *answered = r && r->type == REDIS_REPLY_ERROR && !wrong_type ? r->str : NULL;
  char said[160];
  if (answered) snprintf(said, sizeof said, "%s", answered);
  if (r) freeReplyObject(r);
  conn_put_answered(c, ctx, ok || wrong_type, answered ? said : NULL);
  atomic_fetch_add(*hit ? &c->stats.hits : &c->stats.misses, 1);
}

void sg_cache_write_back(sg_cache *c, const char *model, uint32_t model_version, uint64_t user,
                         const uint32_t *items, const float *scores, uint32_t n, uint32_t k_asked) {
  if (!c || !c->enabled) return;
  uint8_t *blob = malloc(SG_REC_HEADER_BYTES + 8 * (size_t)n);
  if (!blob) return;
  size_t len = sg_rec_encode(blob, model_version, (uint64_t)unix_ms(),
                             n < k_asked ? SG_REC_COMPLETE : 0, items, scores, n);
  pthread_mutex_lock(&c->mu);
  if (c->count == QUEUE_MAX || c->stopping) {
    pthread_mutex_unlock(&c->mu);
    free(blob);
    atomic_fetch_add(&c->stats.dropped, 1);
    return;
  }
  write_item *w = &c->queue[(c->head + c->count++) % QUEUE_MAX];
  rec_key(w->key, model, user);
  w->blob = blob;
  w->len = len;
  pthread_cond_signal(&c->cv);
  pthread_mutex_unlock(&c->mu);
}

static int set_blob(sg_cache *c, redisContext *ctx, const char *key, const uint8_t *blob,
                    size_t len) {
  char ttl[16];
  snprintf(ttl, sizeof ttl, "%d", c->ttl_s);
  const char *argv[] = {"SET", key, (const char *)blob, "EX", ttl};
  size_t lens[] = {3, strlen(key), len, 2, strlen(ttl)};
  redisReply *r = redisCommandArgv(ctx, 5, argv, lens);
  int ok = r && r->type == REDIS_REPLY_STATUS;
  if (r && r->type == REDIS_REPLY_ERROR) { /* answered: the connection is fine */
    char said[160];
    snprintf(said, sizeof said, "%s", r->str);
    freeReplyObject(r);
    conn_put_answered(c, ctx, 0, said);
    return -1;
  }
  if (r) freeReplyObject(r);
  return ok;
}

/* PINGs Redis (the writer thread, on a pooled connection or a new one): while Redis is away,
 * once the backoff allows, so the server reconnects with no traffic; while it is connected but
 * idle, every LIVENESS_US, so a Redis that went away is noticed with no traffic too. Either way
 * `connected` tells the truth on an idle server. */
static void probe(sg_cache *c) {
  redisContext *ctx = conn_get(c);
  if (!ctx) return;
  redisReply *r = redisCommand(ctx, "PING");
  int ok = r && r->type == REDIS_REPLY_STATUS;
  conn_put_answered(c, ctx, ok, r && r->type == REDIS_REPLY_ERROR ? r->str : NULL);
  if (r) freeReplyObject(r);
}

/* Waits on c->cv for at most wait_us (mu held); returns 1 when it timed out. */
static int wait_for(sg_cache *c, int64_t wait_us) {
  struct timespec until;
  clock_gettime(CLOCK_REALTIME, &until);
  int64_t ns = until.tv_nsec + (wait_us % 1000000) * 1000;
  until.tv_sec += (time_t)(wait_us / 1000000 + ns / 1000000000);
  until.tv_nsec = (long)(ns % 1000000000);
  return pthread_cond_timedwait(&c->cv, &c->mu, &until) != 0;
}

static void *writer_main(void *arg) {
  sg_cache *c = arg;
  pthread_mutex_lock(&c->mu);
  for (;;) {
    while (!c->count && !c->stopping) {
      int64_t wait_us;
      int up = atomic_load(&c->connected);
      if (up) /* connected: wake when it has been idle LIVENESS_US, to check it still is */
        wait_us = atomic_load(&c->answered_us) + LIVENESS_US - sg_mono_us();
      else /* away: wake when the backoff ends (at least every PROBE_MAX_US) to probe */
        wait_us = c->retry_at_us - sg_mono_us();
      if (wait_us < BACKOFF_MIN_US) wait_us = BACKOFF_MIN_US;
      if (wait_us > PROBE_MAX_US) wait_us = PROBE_MAX_US;
      if (!wait_for(c, wait_us) || c->count || c->stopping ||
          atomic_load(&c->connected) != up ||
          (up && sg_mono_us() - atomic_load(&c->answered_us) < LIVENESS_US))
        continue;
      pthread_mutex_unlock(&c->mu);
      probe(c);
      pthread_mutex_lock(&c->mu);
    }
    if (!c->count) break;
    write_item w = c->queue[c->head];
    c->head = (c->head + 1) % QUEUE_MAX;
    c->count--;
    pthread_mutex_unlock(&c->mu);
    redisContext *ctx = conn_get(c);
    int ok = ctx ? set_blob(c, ctx, w.key, w.blob, w.len) : 0;
    if (ctx && ok >= 0) conn_put(c, ctx, ok); /* -1: set_blob gave it back */
    atomic_fetch_add(ok > 0 ? &c->stats.written : &c->stats.dropped, 1);
    free(w.blob);
    pthread_mutex_lock(&c->mu);
  }
  pthread_mutex_unlock(&c->mu);
  return NULL;
}

/* ---- open and close ---- */

static sg_status parse_addr(sg_cache *c, const char *addr, sg_err *err) {
  snprintf(c->addr, sizeof c->addr, "%s", addr);
  if (strncmp(addr, "unix:", 5) == 0) {
    snprintf(c->host, sizeof c->host, "%s", addr + 5);
    c->port = 0;
    return c->host[0] ? SG_OK : sg_err_set(err, SG_INVALID_ARGUMENT, "--redis: empty unix path");
  }
  const char *colon = strrchr(addr, ':');
  char *end = NULL;
  long port = colon ? strtol(colon + 1, &end, 10) : 0;
  if (!colon || colon == addr || !end || *end || port < 1 || port > 65535)
    return sg_err_set(err, SG_INVALID_ARGUMENT,
                      "--redis: \"%.64s\" is not HOST:PORT, unix:PATH or none", addr);
  snprintf(c->host, sizeof c->host, "%.*s", (int)(colon - addr), addr);
  c->port = (int)port;
  return SG_OK;
}

sg_cache *sg_cache_open(const sg_cache_config *cfg, sg_err *err) {
  sg_cache *c = calloc(1, sizeof *c);
  if (!c) {
    sg_err_set(err, SG_OUT_OF_MEMORY, "cache: out of memory");
    return NULL;
  }
  pthread_mutex_init(&c->mu, NULL);
  pthread_cond_init(&c->cv, NULL);
  if (!cfg->addr || strcmp(cfg->addr, "none") == 0) return c;
  if (parse_addr(c, cfg->addr, err) != SG_OK) {
    sg_cache_close(c);
    return NULL;
  }
  c->enabled = 1;
  c->password = cfg->password ? strdup(cfg->password) : NULL;
  c->db = cfg->db;
  c->ttl_s = cfg->ttl_s > 0 ? cfg->ttl_s : 86400;
  c->connect_ms = cfg->connect_timeout_ms > 0 ? cfg->connect_timeout_ms : 200;
  c->command_ms = cfg->command_timeout_ms > 0 ? cfg->command_timeout_ms : 100;
  c->writer_started = pthread_create(&c->writer, NULL, writer_main, c) == 0;
  redisContext *ctx = conn_get(c); /* say now whether Redis answers (a failure is counted) */
  redisReply *r = ctx ? redisCommand(ctx, "PING") : NULL;
  int ok = r && r->type == REDIS_REPLY_STATUS;
  conn_put_answered(c, ctx, ok, r && r->type == REDIS_REPLY_ERROR ? r->str : NULL);
  if (r) freeReplyObject(r);
  if (!ok) {
    char why[160];
    pthread_mutex_lock(&c->mu);
    snprintf(why, sizeof why, "%s", c->last_error[0] ? c->last_error : "no answer to PING");
    pthread_mutex_unlock(&c->mu);
    SG_WARN("cache", "redis %s not usable yet (%s): recommendations are computed", cfg->addr, why);
  }
  return c;
}

void sg_cache_close(sg_cache *c) {
  if (!c) return;
  pthread_mutex_lock(&c->mu);
  c->stopping = 1;
  pthread_cond_broadcast(&c->cv);
  pthread_mutex_unlock(&c->mu);
  if (c->writer_started) pthread_join(c->writer, NULL);
  for (int i = 0; i < c->n_pool; i++)
    redisFree(c->pool[i]);
  free(c->password);
  pthread_mutex_destroy(&c->mu);
  pthread_cond_destroy(&c->cv);
  free(c);
}

int sg_cache_enabled(const sg_cache *c) { return c && c->enabled; }
int sg_cache_connected(sg_cache *c) { return c && c->enabled && atomic_load(&c->connected); }
const sg_cache_stats *sg_cache_get_stats(const sg_cache *c) { return &c->stats; }

/* ---- publishing ---- */

#define PUBLISH_BATCH 1000
#define PUBLISH_RETRY_S 5

/* Two halves of PUBLISH_BATCH entries: one is filled while the other is in flight (sent on the
 * publisher's connection, replies not yet read), so Redis works on a batch while the next one
 * is encoded. An entry leaves the buffers only once its reply was read. */
struct sg_cache_publisher {
  sg_cache *c;
  char model[128];
  uint32_t version, k;
  uint64_t published_ms, count; /* count: confirmed by Redis */
  int fill;                     /* the half being filled, 0 or 1 */
  size_t n;                     /* entries in the filling half */
  size_t inflight;              /* entries of the other half awaiting replies */
  redisContext *ctx;            /* the connection they went out on, or NULL */
  int64_t stalled_since_us;     /* 0, or when a send failed: both halves wait for a resend */
  char failed[200];             /* Redis refused a SET (OOM, READONLY, NOAUTH) or restarted:
                                   the publish fails with this, nothing is retried */
  const char *said;             /* within failed: Redis's own words, for the log */
  char run_id[48];              /* the Redis server's run_id when the first batch went out */
  char (*keys)[KEY_MAX];        /* 2 × PUBLISH_BATCH */
  uint8_t *blobs;               /* 2 × PUBLISH_BATCH × (header + 8k) */
  size_t *lens;
};

sg_cache_publisher *sg_cache_publish_begin(sg_cache *c, const char *model, uint32_t model_version,
                                           uint32_t k, sg_err *err) {
  sg_cache_publisher *p = calloc(1, sizeof *p);
  size_t stride = SG_REC_HEADER_BYTES + 8 * (size_t)k;
  if (p) {
    p->keys = malloc(2 * PUBLISH_BATCH * sizeof *p->keys);
    p->blobs = malloc(2 * PUBLISH_BATCH * stride);
    p->lens = malloc(2 * PUBLISH_BATCH * sizeof *p->lens);
  }
  if (!p || !p->keys || !p->blobs || !p->lens) {
    sg_cache_publish_end(p, 0, NULL);
    sg_err_set(err, SG_OUT_OF_MEMORY, "publish: out of memory");
    return NULL;
  }
  p->c = c;
  snprintf(p->model, sizeof p->model, "%s", model);
  p->version = model_version;
  p->k = k;
  p->published_ms = (uint64_t)unix_ms();
  return p;
}

/* Appends the SET EX commands of entries [from, from + n) and writes them all out. */
static int send_sets(sg_cache_publisher *p, redisContext *ctx, size_t from, size_t n) {
  size_t stride = SG_REC_HEADER_BYTES + 8 * (size_t)p->k;
  char ttl[16];
  snprintf(ttl, sizeof ttl, "%d", p->c->ttl_s);
  for (size_t i = from; i < from + n; i++) {
    const char *argv[] = {"SET", p->keys[i], (const char *)(p->blobs + i * stride), "EX", ttl};
    size_t lens[] = {3, strlen(p->keys[i]), p->lens[i], 2, strlen(ttl)};
    if (redisAppendCommandArgv(ctx, 5, argv, lens) != REDIS_OK) return 0;
  }
  for (int done = 0; !done;) {
    if (redisBufferWrite(ctx, &done) != REDIS_OK) return 0;
  }
  return 1;
}

/* Reads n replies; 1 when every one is OK, 0 when the connection failed, -1 when Redis
 * answered an error (the first one's text in p->failed; every reply is still read, so the
 * connection stays in step). */
static int read_oks(sg_cache_publisher *p, redisContext *ctx, size_t n) {
  int ok = 1;
  for (size_t i = 0; i < n; i++) {
    redisReply *r = NULL;
    if (redisGetReply(ctx, (void **)&r) != REDIS_OK || !r) return 0;
    if (r->type != REDIS_REPLY_STATUS && ok == 1) {
      if (!p->failed[0] && r->type == REDIS_REPLY_ERROR) {
        int at = snprintf(p->failed, sizeof p->failed, "redis %.64s refused a SET: ", p->c->addr);
        snprintf(p->failed + at, sizeof p->failed - (size_t)at, "%s", r->str);
        p->said = p->failed + at;
      } else if (!p->failed[0])
        snprintf(p->failed, sizeof p->failed, "redis %s: an unexpected reply to a SET", p->c->addr);
      ok = -1;
    }
    freeReplyObject(r);
  }
  return ok;
}

/* What Redis said in the failure, for the cache's log and last_error. */
static const char *said_of(const sg_cache_publisher *p) { return p->said ? p->said : p->failed; }

/* The Redis server's run_id (INFO server) into out: 1, or 0 when it did not say. */
static int run_id_of(redisContext *ctx, char *out, size_t cap) {
  redisReply *r = redisCommand(ctx, "INFO server");
  const char *at = r && r->type == REDIS_REPLY_STRING ? strstr(r->str, "run_id:") : NULL;
  if (at) snprintf(out, cap, "%.*s", (int)strcspn(at + 7, "\r\n"), at + 7);
  if (r) freeReplyObject(r);
  return at != NULL;
}

/* A connection for the publisher: the first fixes the Redis server's run_id; a later one to
 * another server (Redis restarted, and lost what it had confirmed unless it persists every
 * write) fails the publish instead of reporting lists that are gone as published. */
static redisContext *publisher_conn(sg_cache_publisher *p) {
  redisContext *ctx = conn_get(p->c);
  if (!ctx) return NULL;
  char id[sizeof p->run_id] = "";
  if (!run_id_of(ctx, id, sizeof id) && ctx->err) {
    conn_put(p->c, ctx, 0);
    return NULL;
  }
  if (!p->run_id[0]) {
    snprintf(p->run_id, sizeof p->run_id, "%s", id);
  } else if (strcmp(p->run_id, id) != 0) {
    snprintf(p->failed, sizeof p->failed,
             "redis %s restarted during the publish (run_id %.12s... is now %.12s...): lists "
             "it had confirmed may be lost; publish again",
             p->c->addr, p->run_id, id);
    conn_put(p->c, ctx, 1);
    return NULL;
  }
  return ctx;
}

static void confirmed(sg_cache_publisher *p, size_t n) {
  atomic_fetch_add(&p->c->stats.published, n);
  p->count += n;
}

/* One resend of both halves on a fresh connection (SET is idempotent); 1 when Redis confirmed
 * every entry. Costs a connect and a command timeout at most, nothing during the backoff. */
static int resend(sg_cache_publisher *p) {
  redisContext *ctx = publisher_conn(p);
  if (!ctx) return 0;
  size_t cur = (size_t)p->fill * PUBLISH_BATCH, prev = (size_t)(1 - p->fill) * PUBLISH_BATCH;
  int ok = send_sets(p, ctx, prev, p->inflight) && send_sets(p, ctx, cur, p->n);
  if (ok) ok = read_oks(p, ctx, p->inflight + p->n);
  conn_put_answered(p->c, ctx, ok > 0, ok < 0 ? said_of(p) : NULL);
  if (ok <= 0) return 0;
  confirmed(p, p->inflight + p->n);
  p->inflight = p->n = 0;
  p->stalled_since_us = 0;
  return 1;
}

/* Sends the filling half, then reads the replies of the half in flight (final: of both, and the
 * connection goes back to the pool). A failure does not wait: the publisher is stalled, both
 * halves kept, until sg_cache_publish_resume gets them confirmed. */
static void flush(sg_cache_publisher *p, int final) {
  if ((!p->n && !p->inflight) || p->stalled_since_us) return;
  size_t cur = (size_t)p->fill * PUBLISH_BATCH;
  if (p->failed[0]) return;
  if (!p->ctx) p->ctx = publisher_conn(p);
  int got = 0, cur_read = 0;
  if (p->ctx && send_sets(p, p->ctx, cur, p->n)) {
    got = read_oks(p, p->ctx, p->inflight);
    if (got > 0 && final) got = read_oks(p, p->ctx, p->n), cur_read = 1;
  }
  if (got < 0) { /* Redis said no: it will say so again; the publish fails */
    /* the batch just sent has replies unread: read them, or the pool would hand them to the
     * next command as its own */
    if (!cur_read && read_oks(p, p->ctx, p->n) == 0) {
      conn_put(p->c, p->ctx, 0);
      p->ctx = NULL;
      return;
    }
    conn_put_answered(p->c, p->ctx, 0, said_of(p));
    p->ctx = NULL;
    return;
  }
  if (got > 0) {
    confirmed(p, p->inflight + (final ? p->n : 0));
    p->inflight = final ? 0 : p->n;
    if (!final) p->fill ^= 1;
    p->n = 0;
    if (final) {
      conn_put(p->c, p->ctx, 1);
      p->ctx = NULL;
    }
    return;
  }
  if (p->ctx) conn_put(p->c, p->ctx, 0);
  p->ctx = NULL;
  p->stalled_since_us = sg_mono_us();
}

int sg_cache_publish_stalled(const sg_cache_publisher *p) { return p && p->stalled_since_us != 0; }

/* The publish's failure, when Redis refused it or restarted. */
static sg_status publish_failed(const sg_cache_publisher *p, sg_err *err) {
  return sg_err_set(err, SG_UNAVAILABLE, "%s", p->failed);
}

sg_status sg_cache_publish_resume(sg_cache_publisher *p, int max_wait_ms, sg_err *err) {
  if (p && p->failed[0]) return publish_failed(p, err);
  if (!p || !p->stalled_since_us) return SG_OK;
  int64_t until = sg_mono_us() + (int64_t)max_wait_ms * 1000;
  for (;;) {
    if (resend(p)) return SG_OK;
    if (p->failed[0]) return publish_failed(p, err);
    int64_t now = sg_mono_us();
    if (now >= p->stalled_since_us + (int64_t)PUBLISH_RETRY_S * 1000000)
      return sg_err_set(err, SG_UNAVAILABLE, "redis %s: publishing failed after %d s of retries",
                        p->c->addr, PUBLISH_RETRY_S);
    if (now >= until) return SG_OK; /* still stalled: the caller comes back */
    int64_t nap = until - now < 20000 ? until - now : 20000;
    struct timespec ts = {0, (long)nap * 1000};
    nanosleep(&ts, NULL);
  }
}

void sg_cache_publish_flush(sg_cache_publisher *p) {
  if (p) flush(p, 1);
}

sg_status sg_cache_publish_add(sg_cache_publisher *p, uint64_t user, const uint32_t *items,
                               const float *scores, uint32_t n, sg_err *err) {
  if (p->failed[0]) return publish_failed(p, err);
  if (p->stalled_since_us)
    return sg_err_set(err, SG_FAILED_PRECONDITION, "publish: stalled (resume it first)");
  size_t stride = SG_REC_HEADER_BYTES + 8 * (size_t)p->k;
  size_t slot = (size_t)p->fill * PUBLISH_BATCH + p->n;
  rec_key(p->keys[slot], p->model, user);
  /* fewer than k: the user has no more items to recommend (RecommendAll's lists are full
   * otherwise), so the list answers any k */
  p->lens[slot] = sg_rec_encode(p->blobs + slot * stride, p->version, p->published_ms,
                                n < p->k ? SG_REC_COMPLETE : 0, items, scores, n);
  p->n++;
  if (p->n == PUBLISH_BATCH) flush(p, 0);
  return SG_OK;
}

static sg_status write_meta(sg_cache_publisher *p, sg_err *err) {
  char key[KEY_MAX], version[16], k[16], at[24], users[24], ttl[16];
  snprintf(key, sizeof key, "shopgpu:rec:%s:meta", p->model);
  snprintf(version, sizeof version, "%u", p->version);
  snprintf(k, sizeof k, "%u", p->k);
  snprintf(at, sizeof at, "%llu", (unsigned long long)p->published_ms);
  snprintf(users, sizeof users, "%llu", (unsigned long long)p->count);
  snprintf(ttl, sizeof ttl, "%d", p->c->ttl_s);
  redisContext *ctx = publisher_conn(p); /* the last check that Redis did not restart */
  if (p->failed[0]) return publish_failed(p, err);
  const char *argv[] = {"HSET",         key, "version", version, "k", k,
                        "published_at", at,  "users",   users};
  int ok = ctx && redisAppendCommandArgv(ctx, 10, argv, NULL) == REDIS_OK;
  const char *exp[] = {"EXPIRE", key, ttl};
  ok = ok && redisAppendCommandArgv(ctx, 3, exp, NULL) == REDIS_OK;
  char refused[160] = ""; /* an error reply: Redis's words (both replies are read either way) */
  for (int i = 0; ok && i < 2; i++) {
    redisReply *r = NULL;
    ok = redisGetReply(ctx, (void **)&r) == REDIS_OK && r;
    if (ok && r->type == REDIS_REPLY_ERROR && !refused[0])
      snprintf(refused, sizeof refused, "%s", r->str);
    else if (ok && r->type != REDIS_REPLY_INTEGER && !refused[0])
      snprintf(refused, sizeof refused, "an unexpected reply");
    if (r) freeReplyObject(r);
  }
  if (ctx) conn_put_answered(p->c, ctx, ok && !refused[0], ok && refused[0] ? refused : NULL);
  if (ok && refused[0])
    return sg_err_set(err, SG_UNAVAILABLE, "redis %s refused the meta hash: %s", p->c->addr,
                      refused);
  return ok ? SG_OK
            : sg_err_set(err, SG_UNAVAILABLE, "redis %s: meta hash not written", p->c->addr);
}

sg_status sg_cache_publish_end(sg_cache_publisher *p, int commit, sg_err *err) {
  if (!p) return SG_OK;
  sg_status st = SG_OK;
  if (commit) {
    flush(p, 1);
    if (p->failed[0]) st = publish_failed(p, err);
    while (st == SG_OK && p->stalled_since_us)
      st = sg_cache_publish_resume(p, 1000, err);
    if (st == SG_OK) st = write_meta(p, err);
  }
  if (p->ctx) redisFree(p->ctx); /* abandoned with replies pending: not reusable */
  free(p->keys);
  free(p->blobs);
  free(p->lens);
  free(p);
  return st;
}

uint64_t sg_cache_publish_count(const sg_cache_publisher *p) {
  return p->count + p->inflight + p->n;
}
