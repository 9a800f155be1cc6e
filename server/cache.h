/* Hot recommendations in Redis (hiredis): the blob format, lookups for cache-aside Recommend,
 * background write-backs, and the pipelined publisher of RecommendAll.
 *
 * Key shopgpu:rec:<model>:<user> holds one user's list as a little-endian blob:
 *   u32 magic 0x43524753 ("SGRC" in memory order), u16 format 1, u16 flags (bit 0: COMPLETE),
 *   u32 model version, u64 published_at_ms, u32 k,
 *   then k × (u32 item id, f32 score), best first.          (24 + 8k bytes)
 * Hash shopgpu:rec:<model>:meta: version, k, published_at, users (decimal strings).
 * Every key has a TTL. A blob is written whole by one SET, so a reader never sees a part.
 *
 * Redis being down never fails a call: lookups miss, write-backs are dropped, publishing retries
 * and then fails its job; errors are counted and the connection is retried with backoff
 * (100 ms doubling to 5 s). An error reply (OOM, READONLY, NOAUTH) is not a lost connection: it
 * is counted and logged (every 10 s at most), and fails a publish at once with its text; a Redis
 * restart during a publish (its run_id changes) fails it too. Connects and commands have
 * timeouts. Thread-safe. */
#ifndef SG_SERVER_CACHE_H
#define SG_SERVER_CACHE_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "common/status.h"

#define SG_REC_MAGIC 0x43524753u
#define SG_REC_FORMAT 1
#define SG_REC_HEADER_BYTES 24

typedef struct sg_cache sg_cache;

typedef struct sg_cache_config {
  const char *addr;     /* "host:port", "unix:/path" or "none" */
  const char *password; /* NULL = no AUTH */
  int db;               /* SELECT db (0 = default) */
  int ttl_s;            /* EX of every key */
  int connect_timeout_ms, command_timeout_ms;
} sg_cache_config;

typedef struct sg_cache_stats {
  atomic_uint_fast64_t hits, misses, errors, bad_blobs, written, dropped, published, reconnects;
} sg_cache_stats;

/* Never fails for an unreachable Redis (it connects lazily); NULL only when out of memory or
 * addr is malformed. addr "none" gives a disabled cache whose calls do nothing. */
sg_cache *sg_cache_open(const sg_cache_config *cfg, sg_err *err);
void sg_cache_close(sg_cache *c);
int sg_cache_enabled(const sg_cache *c);
/* 1 when the last command on some connection succeeded and none failed since. */
int sg_cache_connected(sg_cache *c);
const sg_cache_stats *sg_cache_get_stats(const sg_cache *c);

/* The blob's flags (offset 6). COMPLETE: the list holds every item the user can be recommended,
 * fewer than the k it was computed for, so it answers any larger k too. */
#define SG_REC_COMPLETE 1u

/* Encodes one list; buf must hold SG_REC_HEADER_BYTES + 8 × n bytes. Item ids must fit 32 bits
 * (checked by the caller). Returns the length. */
size_t sg_rec_encode(uint8_t *buf, uint32_t model_version, uint64_t published_ms, unsigned flags,
                     const uint32_t *items, const float *scores, uint32_t n);
/* Validates a blob (magic, format, length = header + 8k); 0 when it is not a valid one. flags
 * may be NULL. */
int sg_rec_decode(const uint8_t *buf, size_t len, uint32_t *model_version, uint64_t *published_ms,
                  uint32_t *k, unsigned *flags);

/* One user's cached list, when there is a valid blob for model_version with at least k entries,
 * or a complete one with fewer: *hit = 1, *n = min(k, entries) and items/scores (caller-owned, k
 * each) filled; otherwise *hit = 0 (miss, bad blob or Redis error: counted, never an error). A
 * blob with a score that is not finite, or an item item_known(known_arg, item) refuses (when
 * item_known is given), is a bad blob; so is a key of another type (WRONGTYPE). */
void sg_cache_lookup(sg_cache *c, const char *model, uint32_t model_version, uint64_t user,
                     uint32_t k, uint32_t *items, float *scores, uint32_t *n, int *hit,
                     int (*item_known)(const void *, uint32_t), const void *known_arg);
/* Queues a write-back of one user's list of n entries computed for k_asked (background thread;
 * dropped when the queue is full); n < k_asked marks it complete. */
void sg_cache_write_back(sg_cache *c, const char *model, uint32_t model_version, uint64_t user,
                         const uint32_t *items, const float *scores, uint32_t n, uint32_t k_asked);

/* Publishing a whole model's lists (RecommendAll): add users in any order; every 1,000 of them
 * go out as one pipelined batch of SET EX, and the replies of a batch are read only after the
 * next one was sent, so Redis never waits on the encoding. A failed send does not wait: the
 * publisher is stalled, keeping the unconfirmed batches, and takes no more users until
 * sg_cache_publish_resume has sent them again on a fresh connection (with the cache's backoff);
 * 5 s after the failure, resume fails (SG_UNAVAILABLE naming Redis). So a job step never waits
 * on Redis for more than a slice it chooses. */
typedef struct sg_cache_publisher sg_cache_publisher;
sg_cache_publisher *sg_cache_publish_begin(sg_cache *c, const char *model, uint32_t model_version,
                                           uint32_t k, sg_err *err);
sg_status sg_cache_publish_add(sg_cache_publisher *p, uint64_t user, const uint32_t *items,
                               const float *scores, uint32_t n, sg_err *err);
/* 1 while a failed send waits for a resend (publish_add refuses then). */
int sg_cache_publish_stalled(const sg_cache_publisher *p);
/* Resends while stalled, for up to max_wait_ms: SG_OK (check stalled), or SG_UNAVAILABLE once
 * the stall is 5 s old. */
sg_status sg_cache_publish_resume(sg_cache_publisher *p, int max_wait_ms, sg_err *err);
/* Sends what was added and reads every reply, without waiting on a failure (it stalls). */
void sg_cache_publish_flush(sg_cache_publisher *p);
/* Flushes (resuming for up to 5 s: it blocks) and writes the meta hash (commit = 1), or just
 * frees (commit = 0). */
sg_status sg_cache_publish_end(sg_cache_publisher *p, int commit, sg_err *err);
uint64_t sg_cache_publish_count(const sg_cache_publisher *p);

#endif
