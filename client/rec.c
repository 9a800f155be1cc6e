/* shopgpu_rec_lookup: one GET of shopgpu:rec:<model>:<user> and the blob decoded into the
 * caller's arrays. Every check on the blob (length, magic, format, length for k) makes a miss
 * with its reason, never an error: a storefront falls back the same way for both. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "shopgpu_rec.h"

#define MODEL_MAX 64

static int answer(shopgpu_rec *out, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int answer(shopgpu_rec *out, int code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(out->reason, sizeof out->reason, fmt, ap);
  va_end(ap);
  return code;
}

static void reset(shopgpu_rec *out) {
  out->model_version = 0;
  out->published_at_ms = 0;
  out->k = out->total = out->flags = 0;
  out->reason[0] = '\0';
}

static uint32_t get_u32(const unsigned char *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void copy_entries(const unsigned char *p, shopgpu_rec *out) {
  uint32_t room = out->items && out->scores ? out->capacity : 0;
  out->k = out->total < room ? out->total : room;
  for (uint32_t i = 0; i < out->k; i++, p += 8) {
    uint32_t bits = get_u32(p + 4);
    out->items[i] = get_u32(p);
    memcpy(&out->scores[i], &bits, sizeof bits);
  }
}

int shopgpu_rec_decode(const void *blob, size_t len, shopgpu_rec *out) {
  if (!out) return SHOPGPU_REC_ERROR;
  reset(out);
  const unsigned char *p = blob;
  if (!p) return answer(out, SHOPGPU_REC_MISS, "blob: NULL");
  if (len < SHOPGPU_REC_HEADER_BYTES)
    return answer(out, SHOPGPU_REC_MISS, "blob: %zu bytes, shorter than the %d-byte header", len,
                  SHOPGPU_REC_HEADER_BYTES);
  uint32_t magic = get_u32(p), format = (uint32_t)p[4] | (uint32_t)p[5] << 8, k = get_u32(p + 20);
  uint64_t want = SHOPGPU_REC_HEADER_BYTES + 8 * (uint64_t)k;
  if (magic != SHOPGPU_REC_MAGIC)
    return answer(out, SHOPGPU_REC_MISS, "blob: magic 0x%08x, not 0x%08x", magic,
                  SHOPGPU_REC_MAGIC);
  if (format != SHOPGPU_REC_FORMAT)
    return answer(out, SHOPGPU_REC_MISS, "blob: format %u, not %d", format, SHOPGPU_REC_FORMAT);
  if (len != want)
    return answer(out, SHOPGPU_REC_MISS, "blob: %zu bytes for k = %u (%llu expected)", len, k,
                  (unsigned long long)want);
  out->model_version = get_u32(p + 8);
  out->published_at_ms = (uint64_t)get_u32(p + 12) | (uint64_t)get_u32(p + 16) << 32;
  out->total = k;
  out->flags = (uint32_t)p[6] | (uint32_t)p[7] << 8;
  copy_entries(p + SHOPGPU_REC_HEADER_BYTES, out);
  return SHOPGPU_REC_FOUND;
}

/* The reply to GET key, decoded. */
static int from_reply(const redisReply *r, const char *key, shopgpu_rec *out) {
  if (r->type == REDIS_REPLY_NIL) return answer(out, SHOPGPU_REC_MISS, "no key %s", key);
  if (r->type == REDIS_REPLY_STRING) {
    if (shopgpu_rec_decode(r->str, r->len, out) == SHOPGPU_REC_FOUND) return SHOPGPU_REC_FOUND;
    char why[sizeof out->reason];
    memcpy(why, out->reason, sizeof why);
    return answer(out, SHOPGPU_REC_MISS, "%s: %s", key, why);
  }
  if (r->type == REDIS_REPLY_ERROR && strncmp(r->str, "WRONGTYPE", 9) == 0)
    return answer(out, SHOPGPU_REC_MISS, "%s: not a string", key);
  if (r->type == REDIS_REPLY_ERROR) return answer(out, SHOPGPU_REC_ERROR, "redis: %.100s", r->str);
  return answer(out, SHOPGPU_REC_MISS, "%s: unexpected reply type %d", key, r->type);
}

/* ctx's error in words: hiredis reports a command timeout as EAGAIN's "Resource temporarily
 * unavailable". */
static const char *ctx_error(const redisContext *ctx) {
  if (strstr(ctx->errstr, "Resource temporarily unavailable"))
    return "timed out (no reply within the connection's timeout)";
  return ctx->errstr;
}

int shopgpu_rec_lookup(redisContext *ctx, const char *model, uint64_t user, shopgpu_rec *out) {
  if (!out) return SHOPGPU_REC_ERROR;
  reset(out);
  if (!ctx) return answer(out, SHOPGPU_REC_ERROR, "ctx: NULL");
  size_t n = model ? strlen(model) : 0;
  if (n == 0 || n > MODEL_MAX)
    return answer(out, SHOPGPU_REC_ERROR, "model: %zu bytes, not 1..%d", n, MODEL_MAX);
  if (ctx->err) return answer(out, SHOPGPU_REC_ERROR, "redis: %s", ctx_error(ctx));
  char key[MODEL_MAX + 48];
  int len = snprintf(key, sizeof key, "shopgpu:rec:%s:%llu", model, (unsigned long long)user);
  const char *argv[] = {"GET", key};
  size_t lens[] = {3, (size_t)len};
  redisReply *r = redisCommandArgv(ctx, 2, argv, lens);
  if (!r)
    return answer(out, SHOPGPU_REC_ERROR, "redis: %s", ctx->err ? ctx_error(ctx) : "no reply");
  int rc = from_reply(r, key, out);
  freeReplyObject(r);
  return rc;
}
