/* Storefront lookups of the recommendation lists shopgpu-server publishes to Redis (RecommendAll,
 * and Recommend's write-backs), read with the caller's own hiredis connection: one GET per page
 * view, no gRPC, no server. Key shopgpu:rec:<model>:<user>, a little-endian blob: magic
 * 0x43524753, format 1, flags (bit 0: complete), model version, publish time (ms), k, then k ×
 * (uint32 item, float32 score), best first (README "Hot recommendations in Redis"). */
#ifndef SHOPGPU_REC_H
#define SHOPGPU_REC_H

#include <hiredis/hiredis.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SHOPGPU_REC_MAGIC 0x43524753u /* bytes "SGRC" */
#define SHOPGPU_REC_FORMAT 1
#define SHOPGPU_REC_HEADER_BYTES 24
/* flags: the list holds every item the user can be recommended (fewer than the k it was computed
 * for were left), so it is the whole answer for any k */
#define SHOPGPU_REC_COMPLETE 1u

/* shopgpu_rec_lookup's answers. */
enum {
  SHOPGPU_REC_ERROR = -1, /* Redis failed (ctx->err, ctx->errstr), answered an error (NOAUTH,
                             ...), or an argument is bad; reason says which */
  SHOPGPU_REC_MISS = 0,   /* no list: no key (never published, expired), or a value that is not
                             a valid blob (bad magic, format or length, or not a string) */
  SHOPGPU_REC_FOUND = 1,  /* the list is in the arrays */
};

/* One user's list. The caller owns every buffer: set items, scores and capacity, and the lookup
 * fills the rest (no allocation, so one shopgpu_rec per thread can be reused for every page
 * view). Lists hold at most 1024 entries (the server's largest k). */
typedef struct shopgpu_rec {
  uint32_t *items; /* in: capacity item ids */
  float *scores;   /* in: capacity scores, P(click) */
  uint32_t capacity;
  uint32_t model_version;   /* out: the model version that computed the list */
  uint64_t published_at_ms; /* out: when it was published, ms since the Unix epoch */
  uint32_t k;               /* out: entries written, best first: min(total, capacity) */
  uint32_t total;           /* out: entries in the stored list */
  uint32_t flags;           /* out: SHOPGPU_REC_COMPLETE or 0 */
  char reason[128];         /* out: on a miss or an error, why (lowercase), else "" */
} shopgpu_rec;

/* GETs shopgpu:rec:<model>:<user> on ctx (a connected hiredis context; AUTH and SELECT are the
 * caller's) and decodes it into *out. Returns SHOPGPU_REC_FOUND, SHOPGPU_REC_MISS or
 * SHOPGPU_REC_ERROR (see above); a bad blob is a miss, never an error. After an error with
 * ctx->err set the connection is unusable (hiredis's rule): reconnect. The list says nothing of
 * freshness: compare model_version with the served model (shopgpu:rec:<model>:meta holds the
 * published version) if that matters. model: 1..64 bytes. Thread-safety: as hiredis, one context
 * per thread. */
int shopgpu_rec_lookup(redisContext *ctx, const char *model, uint64_t user, shopgpu_rec *out);

/* Decodes a blob read some other way (a pipelined GET, another client): SHOPGPU_REC_FOUND, or
 * SHOPGPU_REC_MISS with reason set when it is not a valid blob. */
int shopgpu_rec_decode(const void *blob, size_t len, shopgpu_rec *out);

#ifdef __cplusplus
}
#endif

#endif
