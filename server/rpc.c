/* gRPC core server: pollers, per-call state machines, the gatekeeper and the handler API.
 * See GRPC_CORE.md (shared/docs) for the facts this relies on. Invariants:
 * - every started batch holds one reference on its call, released when its tag arrives; a
 *   handler holds one from dispatch until sg_call_reply; the call is freed at zero;
 * - all grpc_call_start_batch calls on one call happen under the call's mutex;
 * - RECV_CLOSE_ON_SERVER is started alone, first; it completes last and marks the call dead;
 * - initial metadata goes out with the first message or with the status, never after. */
#include "rpc.h"

#include <errno.h>
#include <grpc/byte_buffer.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/support/alloc.h>
#include <grpc/support/time.h>
#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "pool.h"
#include "util.h"

#define REQUESTS_PER_CQ 8
#define MAX_ECHOED_PATH 128 /* user text echoed in errors is capped */

typedef enum { TAG_NEW, TAG_CLOSE, TAG_RECV, TAG_SEND, TAG_FINISH } tag_kind;

typedef struct tag {
  tag_kind kind;
  sg_call *call;
} tag;

typedef struct poller {
  sg_rpc *rpc;
  grpc_completion_queue *cq;
  pthread_t thread;
  int started;
} poller;

typedef struct arena_block {
  struct arena_block *next;
  max_align_t data[];
} arena_block;

struct sg_call {
  sg_rpc *rpc;
  size_t request_bytes; /* what the request's decoding took, counted in rpc->inflight_bytes */
  poller *poller;
  grpc_call *call;
  grpc_call_details details;
  grpc_metadata_array req_md;
  tag t_new, t_close, t_recv, t_send, t_finish;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  atomic_int refs;
  const sg_method *method;
  sg_method_stats *stats;
  int64_t start_us;
  int64_t deadline_us; /* monotonic; INT64_MAX = none */
  atomic_int cancelled;
  int close_cancelled; /* RECV_CLOSE_ON_SERVER out-param */
  int closed;          /* RECV_CLOSE arrived */
  int dead;            /* closed as cancelled, or a send failed: no more sends */
  ProtobufCMessage *request;
  /* receiving (one RECV outstanding at most) */
  grpc_byte_buffer *recv_bb;
  int recv_busy, recv_ok, recv_eof;
  /* sending (one SEND outstanding at most) */
  int sim_sent;
  int send_busy, send_ok;
  int idle_expired; /* cancelled by --stream-idle-timeout */
  grpc_byte_buffer *send_bb, *pending_bb;
  /* finishing */
  int replied, finish_started, finish_ok;
  grpc_status_code code;
  char *status_msg;
  grpc_byte_buffer *finish_bb;
  sg_outcome outcome;
  void (*on_done)(sg_call *, void *);
  void *on_done_arg;
  arena_block *arena;
};

struct sg_rpc {
  sg_rpc_config cfg;
  grpc_server *server;
  grpc_completion_queue *shutdown_cq;
  poller *pollers;
  sg_pool *pool;          /* unary handlers */
  sg_pool *stream_pool;   /* streaming handlers: a stalled client cannot starve unary calls */
  sg_method_stats *stats; /* n_methods + 1 rows; the last counts unknown paths */
  char address[256];
  atomic_int shutting_down;
  atomic_int live_calls;
  atomic_size_t inflight_bytes; /* decoded requests of unary calls not yet freed */
  atomic_long ops_pending;      /* batches started whose completion a poller has not handled yet */
  int shutdown_tag;             /* its address is the shutdown notification's tag */
  int drained;                  /* the shutdown notification arrived */
  int destroyed;                /* grpc_server_destroy ran (main thread only) */
};

/* ---- call lifetime ---- */

void sg_call_ref(sg_call *c) { atomic_fetch_add(&c->refs, 1); }

static void record_and_free(sg_call *c) {
  sg_rpc *rpc = c->rpc;
  if (c->stats) {
    int code = c->code;
    sg_outcome outcome = c->outcome;
    if (outcome != SG_OUTCOME_REJECTED && (!c->finish_started || !c->finish_ok)) {
      /* the client never got our status: it saw a cancellation or the deadline */
      if (c->close_cancelled || !c->finish_started) {
        code = c->idle_expired || (c->deadline_us != INT64_MAX && sg_mono_us() >= c->deadline_us)
                   ? GRPC_STATUS_DEADLINE_EXCEEDED
                   : GRPC_STATUS_CANCELLED;
        if (outcome == SG_OUTCOME_OK) outcome = SG_OUTCOME_FAILED;
      }
    }
    sg_stats_record(c->stats, outcome, code, sg_mono_us() - c->start_us);
    atomic_fetch_sub(&c->stats->in_flight, 1);
  }
  if (c->call) grpc_call_unref(c->call);
  grpc_call_details_destroy(&c->details);
  grpc_metadata_array_destroy(&c->req_md);
  if (c->request) protobuf_c_message_free_unpacked(c->request, NULL);
  if (c->request_bytes) atomic_fetch_sub(&c->rpc->inflight_bytes, c->request_bytes);
  if (c->recv_bb) grpc_byte_buffer_destroy(c->recv_bb);
  if (c->send_bb) grpc_byte_buffer_destroy(c->send_bb);
  if (c->pending_bb) grpc_byte_buffer_destroy(c->pending_bb);
  if (c->finish_bb) grpc_byte_buffer_destroy(c->finish_bb);
  free(c->status_msg);
  for (arena_block *b = c->arena, *next; b; b = next) {
    next = b->next;
    free(b);
  }
  pthread_mutex_destroy(&c->mu);
  pthread_cond_destroy(&c->cv);
  free(c);
  atomic_fetch_sub(&rpc->live_calls, 1);
}

void sg_call_unref(sg_call *c) {
  if (atomic_fetch_sub(&c->refs, 1) == 1) record_and_free(c);
}

void *sg_call_app(const sg_call *c) { return c->rpc->cfg.app; }
const sg_rpc *sg_call_server(const sg_call *c) { return c->rpc; }
const sg_method *sg_call_method(const sg_call *c) { return c->method; }

void *sg_call_alloc(sg_call *c, size_t bytes) {
  if (bytes > SIZE_MAX - sizeof(arena_block)) return NULL;
  arena_block *b = calloc(1, sizeof *b + bytes);
  if (!b) return NULL;
  pthread_mutex_lock(&c->mu);
  b->next = c->arena;
  c->arena = b;
  pthread_mutex_unlock(&c->mu);
  return b->data;
}

void sg_call_on_done(sg_call *c, void (*fn)(sg_call *, void *), void *arg) {
  pthread_mutex_lock(&c->mu);
  int closed = c->closed;
  if (!closed) {
    c->on_done = fn;
    c->on_done_arg = arg;
  }
  pthread_mutex_unlock(&c->mu);
  if (closed && fn) fn(c, arg); /* ended already */
}

int64_t sg_call_remaining_ms(const sg_call *c) {
  if (c->deadline_us == INT64_MAX) return INT64_MAX;
  return (c->deadline_us - sg_mono_us()) / 1000;
}

int sg_call_cancelled(const sg_call *c) {
  return atomic_load(&c->cancelled) ||
         (c->deadline_us != INT64_MAX && sg_mono_us() >= c->deadline_us);
}

const atomic_int *sg_call_cancel_flag(const sg_call *c) { return &c->cancelled; }

sg_status sg_call_cancel_status(const sg_call *c) {
  return c->deadline_us != INT64_MAX && sg_mono_us() >= c->deadline_us ? SG_DEADLINE_EXCEEDED
                                                                       : SG_CANCELLED;
}

/* ---- batches ---- */

/* Starts ops as one batch with tag t, holding a reference for it. A refused batch is fatal for
 * the call (GRPC_CORE.md §4): cancel it and drop the reference. Caller holds c->mu. */
static int start_batch(sg_call *c, const grpc_op *ops, size_t n, tag *t) {
  sg_call_ref(c);
  atomic_fetch_add(&c->rpc->ops_pending, 1);
  grpc_call_error e = grpc_call_start_batch(c->call, ops, n, t, NULL);
  if (e == GRPC_CALL_OK) return 1;
  atomic_fetch_sub(&c->rpc->ops_pending, 1);
  SG_ERROR("rpc", "%s: batch refused: %s", c->method ? c->method->path : "?",
           grpc_call_error_to_string(e));
  grpc_call_cancel_with_status(c->call, GRPC_STATUS_INTERNAL, "internal error", NULL);
  c->dead = 1;
  atomic_fetch_sub(&c->refs, 1); /* the caller still holds its own reference */
  return 0;
}

static grpc_byte_buffer *pack(const ProtobufCMessage *m) {
  size_t n = protobuf_c_message_get_packed_size(m);
  grpc_slice s = grpc_slice_malloc(n);
  protobuf_c_message_pack(m, GRPC_SLICE_START_PTR(s));
  grpc_byte_buffer *bb = grpc_raw_byte_buffer_create(&s, 1);
  grpc_slice_unref(s);
  return bb;
}

/* Sends initial metadata (if not yet), the final message (if any) and the status. */
static void start_finish_locked(sg_call *c) {
  grpc_op ops[3];
  size_t n = 0;
  memset(ops, 0, sizeof ops);
  if (!c->sim_sent) {
    ops[n++].op = GRPC_OP_SEND_INITIAL_METADATA;
    c->sim_sent = 1;
  }
  if (c->finish_bb) {
    ops[n].op = GRPC_OP_SEND_MESSAGE;
    ops[n++].data.send_message.send_message = c->finish_bb;
  }
  grpc_slice details = grpc_slice_from_copied_string(c->status_msg ? c->status_msg : "");
  ops[n].op = GRPC_OP_SEND_STATUS_FROM_SERVER;
  ops[n].data.send_status_from_server.status = c->code;
  ops[n++].data.send_status_from_server.status_details = &details;
  c->finish_started = 1;
  start_batch(c, ops, n, &c->t_finish);
  grpc_slice_unref(details);
}

static void start_send_locked(sg_call *c, grpc_byte_buffer *bb) {
  grpc_op ops[2];
  size_t n = 0;
  memset(ops, 0, sizeof ops);
  if (!c->sim_sent) {
    ops[n++].op = GRPC_OP_SEND_INITIAL_METADATA;
    c->sim_sent = 1;
  }
  ops[n].op = GRPC_OP_SEND_MESSAGE;
  ops[n++].data.send_message.send_message = bb;
  c->send_bb = bb;
  c->send_busy = 1;
  if (!start_batch(c, ops, n, &c->t_send)) {
    c->send_busy = 0;
    c->send_ok = 0;
  }
}

/* Records how the call will end and starts the final batch now, or after the outstanding send.
 * Caller holds c->mu and has not replied yet. */
static void finish_locked(sg_call *c, grpc_status_code code, const char *msg,
                          grpc_byte_buffer *resp_bb, sg_outcome outcome) {
  c->replied = 1;
  c->code = code;
  c->outcome = outcome;
  c->status_msg = msg && msg[0] ? strdup(msg) : NULL;
  /* a message may quote request bytes or be cut inside a character: clients decode it as UTF-8 */
  if (c->status_msg) sg_utf8_sanitize(c->status_msg);
  c->finish_bb = resp_bb;
  if (!c->send_busy) start_finish_locked(c);
}

static void reject(sg_call *c, sg_status st, const char *msg) {
  pthread_mutex_lock(&c->mu);
  finish_locked(c, (grpc_status_code)sg_status_grpc_code(st), msg, NULL, SG_OUTCOME_REJECTED);
  pthread_mutex_unlock(&c->mu);
}

void sg_call_reply(sg_call *c, const ProtobufCMessage *resp, const sg_err *err) {
  grpc_byte_buffer *bb = NULL;
  sg_err local = {0};
  if ((!err || err->code == SG_OK) && resp) {
    size_t n = protobuf_c_message_get_packed_size(resp);
    if (n > (size_t)c->rpc->cfg.max_message_bytes) {
      sg_err_set(&local, SG_RESOURCE_EXHAUSTED,
                 "response of %zu bytes exceeds the %d-byte message limit (--max-message-mb)", n,
                 c->rpc->cfg.max_message_bytes);
      err = &local;
    } else {
      bb = pack(resp);
    }
  }
  pthread_mutex_lock(&c->mu);
  if (c->replied) {
    pthread_mutex_unlock(&c->mu);
    if (bb) grpc_byte_buffer_destroy(bb);
    SG_ERROR("rpc", "%s: handler replied twice", c->method->path);
    return;
  }
  if (err && err->code != SG_OK) {
    finish_locked(c, (grpc_status_code)sg_status_grpc_code(err->code), sg_err_message(err), NULL,
                  SG_OUTCOME_FAILED);
  } else {
    finish_locked(c, GRPC_STATUS_OK, NULL, bb, SG_OUTCOME_OK);
  }
  pthread_mutex_unlock(&c->mu);
  sg_call_unref(c); /* the handler's reference */
}

/* Waits on c->cv (c->mu held) while *busy, at most the stream idle timeout: then the call is
 * cancelled with DEADLINE_EXCEEDED (core then fails the outstanding batch, which ends the wait). */
static void wait_stream_locked(sg_call *c, const int *busy, const char *what) {
  int64_t idle_ms = c->rpc->cfg.stream_idle_ms;
  if (idle_ms <= 0) {
    while (*busy)
      pthread_cond_wait(&c->cv, &c->mu);
    return;
  }
  struct timespec until;
  clock_gettime(CLOCK_REALTIME, &until);
  until.tv_sec += (time_t)(idle_ms / 1000);
  until.tv_nsec += (long)(idle_ms % 1000) * 1000000L;
  if (until.tv_nsec >= 1000000000L) until.tv_sec++, until.tv_nsec -= 1000000000L;
  int cancelled = 0;
  while (*busy) {
    if (cancelled) {
      pthread_cond_wait(&c->cv, &c->mu);
    } else if (pthread_cond_timedwait(&c->cv, &c->mu, &until) == ETIMEDOUT && *busy) {
      char msg[128];
      snprintf(msg, sizeof msg, "%s for %.3g s (--stream-idle-timeout)", what,
               (double)idle_ms / 1000);
      grpc_call_cancel_with_status(c->call, GRPC_STATUS_DEADLINE_EXCEEDED, msg, NULL);
      c->idle_expired = cancelled = 1;
    }
  }
}

sg_status sg_call_send(sg_call *c, const ProtobufCMessage *msg, sg_err *err) {
  grpc_byte_buffer *bb = pack(msg);
  pthread_mutex_lock(&c->mu);
  while (c->send_busy && !c->dead)
    pthread_cond_wait(&c->cv, &c->mu);
  if (c->dead || c->replied) {
    pthread_mutex_unlock(&c->mu);
    grpc_byte_buffer_destroy(bb);
    return sg_err_set(err, SG_CANCELLED, "call cancelled");
  }
  start_send_locked(c, bb);
  wait_stream_locked(c, &c->send_busy, "the client read no message");
  int ok = c->send_ok, idle = c->idle_expired;
  pthread_mutex_unlock(&c->mu);
  if (idle) return sg_err_set(err, SG_DEADLINE_EXCEEDED, "stream idle (--stream-idle-timeout)");
  return ok ? SG_OK : sg_err_set(err, SG_CANCELLED, "call cancelled");
}

sg_status sg_call_push(sg_call *c, const ProtobufCMessage *msg, sg_err *err) {
  grpc_byte_buffer *bb = pack(msg);
  pthread_mutex_lock(&c->mu);
  if (c->dead || c->replied) {
    pthread_mutex_unlock(&c->mu);
    grpc_byte_buffer_destroy(bb);
    return sg_err_set(err, SG_CANCELLED, "call cancelled");
  }
  if (c->send_busy) {
    if (c->pending_bb) grpc_byte_buffer_destroy(c->pending_bb);
    c->pending_bb = bb;
  } else {
    start_send_locked(c, bb);
  }
  pthread_mutex_unlock(&c->mu);
  return SG_OK;
}

/* Unpacks bb (consumed) as desc. NULL when malformed. */
/* Decoding may take at most this many times the wire size (plus DECODE_SLACK): packed 1-byte
 * varints into uint64 fields are 8x, small strings and submessages a few times more; thousands of
 * 2-byte unknown fields or empty submessages took 46x to 424x (64 MB became gigabytes before any
 * handler or token check saw the call). */
#define DECODE_RATIO 16
#define DECODE_SLACK (1 << 20)

typedef struct decode_budget {
  size_t left;
  int exceeded;
} decode_budget;

/* protobuf-c's allocator, counting against the budget; memory from malloc, so the message is
 * freed as any other (protobuf_c_message_free_unpacked with NULL). */
static void *budget_alloc(void *data, size_t size) {
  decode_budget *b = data;
  if (size > b->left) {
    b->exceeded = 1;
    return NULL;
  }
  b->left -= size;
  return malloc(size);
}

static void budget_free(void *data, void *p) {
  (void)data;
  free(p);
}

/* A varint at *p (before end); 0 when it runs past end or over 10 bytes. */
static int wire_varint(const uint8_t **p, const uint8_t *end, uint64_t *v) {
  *v = 0;
  for (int shift = 0; *p < end && shift < 70; shift += 7) {
    uint8_t b = *(*p)++;
    *v |= (uint64_t)(b & 0x7f) << shift;
    if (!(b & 0x80)) return 1;
  }
  return 0;
}

/* protobuf-c keeps a string as a NUL-terminated char *: one with a NUL byte inside would be cut
 * there silently ("zz\0../x" deleted model zz). Walks the wire bytes of a message that unpacked
 * (so well formed) along its descriptor, into sub-messages; 0 with `why` naming the field (a
 * dotted path) when a string holds a NUL. */
static int strings_whole(const ProtobufCMessageDescriptor *d, const uint8_t *p, const uint8_t *end,
                         const char *path, int depth, char *why, size_t cap) {
  while (p < end) {
    uint64_t key, n;
    if (!wire_varint(&p, end, &key)) return 1; /* unpack accepted it: nothing to add */
    switch (key & 7) {
    case 0:
      if (!wire_varint(&p, end, &n)) return 1;
      continue;
    case 1: p += 8; continue;
    case 5: p += 4; continue;
    case 2: break;
    default: return 1;
    }
    if (!wire_varint(&p, end, &n) || n > (uint64_t)(end - p)) return 1;
    const ProtobufCFieldDescriptor *f =
        key >> 3 <= UINT32_MAX ? protobuf_c_message_descriptor_get_field(d, (unsigned)(key >> 3))
                               : NULL;
    char sub[200];
    if (f) snprintf(sub, sizeof sub, "%s%s%s", path, path[0] ? "." : "", f->name);
    if (f && f->type == PROTOBUF_C_TYPE_STRING && memchr(p, 0, n)) {
      snprintf(why, cap, "%s: a string with a NUL byte", sub);
      return 0;
    }
    if (f && f->type == PROTOBUF_C_TYPE_MESSAGE && depth < 32 &&
        !strings_whole(f->descriptor, p, p + n, sub, depth + 1, why, cap))
      return 0;
    p += n;
  }
  return 1;
}

/* *over: the message needed more memory than its budget (a bomb, not a malformed message);
 * why (cap bytes) says what is wrong with one that unpacked but is refused, else "". */
static ProtobufCMessage *unpack(grpc_byte_buffer *bb, const ProtobufCMessageDescriptor *desc,
                                size_t *len, int *over, size_t *used, char *why, size_t cap) {
  grpc_byte_buffer_reader rd;
  ProtobufCMessage *m = NULL;
  *len = 0;
  *over = 0;
  why[0] = '\0';
  if (grpc_byte_buffer_reader_init(&rd, bb)) {
    grpc_slice s = grpc_byte_buffer_reader_readall(&rd);
    *len = GRPC_SLICE_LENGTH(s);
    size_t budget = *len * DECODE_RATIO + DECODE_SLACK;
    decode_budget b = {budget, 0};
    ProtobufCAllocator alloc = {budget_alloc, budget_free, &b};
    m = protobuf_c_message_unpack(desc, &alloc, *len, GRPC_SLICE_START_PTR(s));
    *over = b.exceeded;
    if (used) *used = budget - b.left;
    const uint8_t *start = GRPC_SLICE_START_PTR(s);
    if (m && !strings_whole(desc, start, start + *len, "", 0, why, cap)) {
      protobuf_c_message_free_unpacked(m, NULL);
      m = NULL;
    }
    grpc_slice_unref(s);
    grpc_byte_buffer_reader_destroy(&rd);
  }
  grpc_byte_buffer_destroy(bb);
  return m;
}

static int start_recv_locked(sg_call *c) {
  grpc_op op;
  memset(&op, 0, sizeof op);
  op.op = GRPC_OP_RECV_MESSAGE;
  op.data.recv_message.recv_message = &c->recv_bb;
  c->recv_busy = 1;
  if (!start_batch(c, &op, 1, &c->t_recv)) {
    c->recv_busy = 0;
    return 0;
  }
  return 1;
}

sg_status sg_call_recv(sg_call *c, ProtobufCMessage **msg, sg_err *err) {
  *msg = NULL;
  pthread_mutex_lock(&c->mu);
  if (c->recv_eof) {
    pthread_mutex_unlock(&c->mu);
    return SG_OK;
  }
  if (c->dead || !start_recv_locked(c)) {
    pthread_mutex_unlock(&c->mu);
    return sg_err_set(err, SG_CANCELLED, "call cancelled");
  }
  wait_stream_locked(c, &c->recv_busy, "no message came");
  grpc_byte_buffer *bb = c->recv_bb;
  c->recv_bb = NULL;
  int ok = c->recv_ok, idle = c->idle_expired;
  if (ok && !bb) c->recv_eof = 1;
  pthread_mutex_unlock(&c->mu);
  if (!ok) {
    if (bb) grpc_byte_buffer_destroy(bb);
    if (idle) return sg_err_set(err, SG_DEADLINE_EXCEEDED, "stream idle (--stream-idle-timeout)");
    return sg_err_set(err, SG_CANCELLED, "call cancelled, or a message over the size limit");
  }
  if (!bb) return SG_OK;
  size_t len;
  int over;
  char why[240];
  *msg = unpack(bb, c->method->request, &len, &over, NULL, why, sizeof why);
  if (!*msg && why[0]) return sg_err_set(err, SG_INVALID_ARGUMENT, "%s", why);
  if (!*msg && over)
    return sg_err_set(err, SG_RESOURCE_EXHAUSTED,
                      "message of %zu bytes needs over %dx its size to decode (unknown fields or "
                      "empty entries by the thousand)",
                      len, DECODE_RATIO);
  if (!*msg)
    return sg_err_set(err, SG_INVALID_ARGUMENT, "message is not a valid %s (%zu bytes)",
                      c->method->request->name, len);
  return SG_OK;
}

/* ---- dispatch ---- */

static void run_handler(void *arg) {
  sg_call *c = arg;
  if (sg_call_cancelled(c)) {
    /* dead before it started (client gone, deadline passed while queued): do not run it */
    int expired = c->deadline_us != INT64_MAX && sg_mono_us() >= c->deadline_us;
    pthread_mutex_lock(&c->mu);
    if (!c->replied)
      finish_locked(c, expired ? GRPC_STATUS_DEADLINE_EXCEEDED : GRPC_STATUS_CANCELLED,
                    expired ? "deadline exceeded while queued" : "cancelled while queued", NULL,
                    SG_OUTCOME_REJECTED);
    pthread_mutex_unlock(&c->mu);
    sg_call_unref(c);
    return;
  }
  c->method->handler(c, c->request);
}

static void dispatch(sg_call *c) {
  sg_call_ref(c); /* the handler's, released by sg_call_reply */
  if (c->method->flags & SG_METHOD_INLINE) {
    run_handler(c);
    return;
  }
  sg_pool *pool = c->method->kind == SG_RPC_UNARY ? c->rpc->pool : c->rpc->stream_pool;
  sg_status st = sg_pool_submit(pool, run_handler, c);
  if (st == SG_OK) return;
  char msg[160];
  if (st == SG_RESOURCE_EXHAUSTED)
    snprintf(msg, sizeof msg, "server busy: %d calls already queued (--queue-limit)",
             c->rpc->cfg.queue_limit);
  else
    snprintf(msg, sizeof msg, "server is shutting down");
  reject(c, st, msg);
  sg_call_unref(c);
}

/* ---- the gatekeeper ---- */

static int find_method(sg_rpc *rpc, grpc_slice path) {
  for (int i = 0; i < rpc->cfg.n_methods; i++)
    if (grpc_slice_str_cmp(path, rpc->cfg.methods[i].path) == 0) return i;
  return -1;
}

/* Constant-time in the token's length: no early exit on the first differing byte. */
static int token_equal(const char *want, const unsigned char *got, size_t got_len) {
  size_t want_len = strlen(want);
  unsigned diff = (unsigned)(want_len ^ got_len);
  for (size_t i = 0; i < got_len; i++)
    diff |= (unsigned)(got[i] ^ (i < want_len ? want[i] : 0));
  return diff == 0;
}

static int authorized(sg_rpc *rpc, const grpc_metadata_array *md) {
  if (!rpc->cfg.tokens) return 1;
  static const char prefix[] = "Bearer ";
  for (size_t i = 0; i < md->count; i++) {
    if (grpc_slice_str_cmp(md->metadata[i].key, "authorization") != 0) continue;
    const unsigned char *v = GRPC_SLICE_START_PTR(md->metadata[i].value);
    size_t len = GRPC_SLICE_LENGTH(md->metadata[i].value);
    if (len <= sizeof prefix - 1 || memcmp(v, prefix, sizeof prefix - 1) != 0) return 0;
    int ok = 0;
    for (int t = 0; t < rpc->cfg.n_tokens; t++)
      ok |= token_equal(rpc->cfg.tokens[t], v + sizeof prefix - 1, len - (sizeof prefix - 1));
    return ok;
  }
  return 0;
}

static void request_call(poller *p);

/* Client- and bidi-streaming: the handler reads the messages itself (sg_call_recv). */
static int reads_stream(const sg_call *c) {
  return c->method->kind == SG_RPC_CLIENT_STREAM || c->method->kind == SG_RPC_BIDI_STREAM;
}

static void on_new(sg_call *c, int success) {
  sg_rpc *rpc = c->rpc;
  if (!success) { /* the server is shutting down: the request is failed, not a call */
    sg_call_unref(c);
    return;
  }
  if (!atomic_load(&rpc->shutting_down)) request_call(c->poller);
  c->start_us = sg_mono_us();
  gpr_timespec dl = gpr_convert_clock_type(c->details.deadline, GPR_CLOCK_MONOTONIC);
  int64_t left_ms = gpr_time_cmp(dl, gpr_inf_future(GPR_CLOCK_MONOTONIC)) == 0
                        ? INT64_MAX
                        : gpr_time_to_millis(gpr_time_sub(dl, gpr_now(GPR_CLOCK_MONOTONIC)));
  c->deadline_us = left_ms == INT64_MAX ? INT64_MAX : c->start_us + left_ms * 1000;
  int idx = find_method(rpc, c->details.method);
  c->method = idx >= 0 ? &rpc->cfg.methods[idx] : NULL;
  c->stats = &rpc->stats[idx >= 0 ? idx : rpc->cfg.n_methods];
  atomic_fetch_add(&c->stats->in_flight, 1);

  pthread_mutex_lock(&c->mu);
  grpc_op op;
  memset(&op, 0, sizeof op);
  op.op = GRPC_OP_RECV_CLOSE_ON_SERVER;
  op.data.recv_close_on_server.cancelled = &c->close_cancelled;
  if (!start_batch(c, &op, 1, &c->t_close)) {
    pthread_mutex_unlock(&c->mu);
    sg_call_unref(c);
    return;
  }
  pthread_mutex_unlock(&c->mu);

  char msg[256];
  if (!c->method) {
    char *path = grpc_slice_to_c_string(c->details.method);
    snprintf(msg, sizeof msg, "unknown method %.*s", MAX_ECHOED_PATH, path);
    gpr_free(path);
    reject(c, SG_UNIMPLEMENTED, msg);
  } else if (atomic_load(&rpc->shutting_down)) {
    reject(c, SG_UNAVAILABLE, "server is shutting down");
  } else if (!(c->method->flags & SG_METHOD_NO_AUTH) && !authorized(rpc, &c->req_md)) {
    reject(c, SG_UNAUTHENTICATED, "missing or bad bearer token (authorization: Bearer TOKEN)");
  } else if (c->deadline_us != INT64_MAX && c->deadline_us <= c->start_us) {
    reject(c, SG_DEADLINE_EXCEEDED, "deadline already passed");
  } else if (reads_stream(c)) {
    dispatch(c);
  } else {
    pthread_mutex_lock(&c->mu);
    start_recv_locked(c);
    pthread_mutex_unlock(&c->mu);
  }
  sg_call_unref(c); /* the NEW tag's reference */
}

/* Counts a decoded request in the server's total, or refuses it (msg) when the total would pass
 * --max-inflight-mb; a server holding nothing takes any one request. */
static int admit(sg_call *c, size_t used, char *msg, size_t cap) {
  sg_rpc *rpc = c->rpc;
  size_t max = rpc->cfg.max_inflight_bytes;
  size_t now = atomic_fetch_add(&rpc->inflight_bytes, used);
  if (max && now && now + used > max) {
    atomic_fetch_sub(&rpc->inflight_bytes, used);
    snprintf(msg, cap,
             "the server holds %.1f MB of requests already, and this one takes %.1f MB more "
             "(--max-inflight-mb %zu): retry later",
             (double)now / 1048576.0, (double)used / 1048576.0, max >> 20);
    return 0;
  }
  c->request_bytes = used;
  return 1;
}

static void on_recv(sg_call *c, int success) {
  if (reads_stream(c)) { /* a handler waits in sg_call_recv */
    pthread_mutex_lock(&c->mu);
    c->recv_busy = 0;
    c->recv_ok = success;
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
    sg_call_unref(c);
    return;
  }
  pthread_mutex_lock(&c->mu);
  grpc_byte_buffer *bb = c->recv_bb;
  c->recv_bb = NULL;
  c->recv_busy = 0;
  pthread_mutex_unlock(&c->mu);
  char msg[256];
  if (!success || !bb) {
    if (bb) grpc_byte_buffer_destroy(bb);
    /* success=0: core already failed the call (message over the limit, or the client left) */
    reject(c, success ? SG_INVALID_ARGUMENT : SG_RESOURCE_EXHAUSTED,
           success ? "missing request message" : "request not received");
  } else {
    size_t len, used = 0;
    int over;
    c->request = unpack(bb, c->method->request, &len, &over, &used, msg, sizeof msg);
    if (!c->request && msg[0]) {
      reject(c, SG_INVALID_ARGUMENT, msg);
    } else if (c->request && !admit(c, used, msg, sizeof msg)) {
      protobuf_c_message_free_unpacked(c->request, NULL);
      c->request = NULL;
      reject(c, SG_RESOURCE_EXHAUSTED, msg);
    } else if (!c->request && over) {
      snprintf(msg, sizeof msg,
               "request of %zu bytes needs over %dx its size to decode (unknown fields or empty "
               "entries by the thousand)",
               len, DECODE_RATIO);
      reject(c, SG_RESOURCE_EXHAUSTED, msg);
    } else if (!c->request) {
      snprintf(msg, sizeof msg, "request is not a valid %s message (%zu bytes)",
               c->method->request->name, len);
      reject(c, SG_INVALID_ARGUMENT, msg);
    } else {
      dispatch(c);
    }
  }
  sg_call_unref(c);
}

static void on_send(sg_call *c, int success) {
  pthread_mutex_lock(&c->mu);
  grpc_byte_buffer_destroy(c->send_bb);
  c->send_bb = NULL;
  c->send_busy = 0;
  c->send_ok = success;
  if (!success) c->dead = 1;
  grpc_byte_buffer *next = c->pending_bb;
  c->pending_bb = NULL;
  if (next && !c->dead) {
    start_send_locked(c, next);
  } else if (next) {
    grpc_byte_buffer_destroy(next);
  }
  if (!c->send_busy && c->replied && !c->finish_started) start_finish_locked(c);
  pthread_cond_broadcast(&c->cv);
  pthread_mutex_unlock(&c->mu);
  sg_call_unref(c);
}

static void on_finish(sg_call *c, int success) {
  pthread_mutex_lock(&c->mu);
  c->finish_ok = success;
  pthread_mutex_unlock(&c->mu);
  sg_call_unref(c);
}

static void on_close(sg_call *c) {
  pthread_mutex_lock(&c->mu);
  c->closed = 1;
  if (c->close_cancelled) {
    c->dead = 1;
    atomic_store(&c->cancelled, 1);
  }
  void (*fn)(sg_call *, void *) = c->on_done;
  void *arg = c->on_done_arg;
  c->on_done = NULL;
  pthread_cond_broadcast(&c->cv);
  pthread_mutex_unlock(&c->mu);
  if (fn) fn(c, arg);
  sg_call_unref(c);
}

/* ---- pollers ---- */

static void request_call(poller *p) {
  sg_rpc *rpc = p->rpc;
  sg_call *c = calloc(1, sizeof *c);
  if (!c) {
    SG_ERROR("rpc", "out of memory for a new call slot");
    return;
  }
  c->rpc = rpc;
  c->poller = p;
  pthread_mutex_init(&c->mu, NULL);
  pthread_cond_init(&c->cv, NULL);
  grpc_call_details_init(&c->details);
  grpc_metadata_array_init(&c->req_md);
  c->t_new = (tag){TAG_NEW, c};
  c->t_close = (tag){TAG_CLOSE, c};
  c->t_recv = (tag){TAG_RECV, c};
  c->t_send = (tag){TAG_SEND, c};
  c->t_finish = (tag){TAG_FINISH, c};
  c->deadline_us = INT64_MAX;
  atomic_init(&c->refs, 1);
  atomic_fetch_add(&rpc->live_calls, 1);
  grpc_call_error e = grpc_server_request_call(rpc->server, &c->call, &c->details, &c->req_md,
                                               p->cq, p->cq, &c->t_new);
  if (e != GRPC_CALL_OK) {
    SG_ERROR("rpc", "request_call: %s", grpc_call_error_to_string(e));
    sg_call_unref(c);
  }
}

static void *poller_main(void *arg) {
  poller *p = arg;
  for (;;) {
    grpc_event ev = grpc_completion_queue_next(p->cq, gpr_inf_future(GPR_CLOCK_MONOTONIC), NULL);
    if (ev.type == GRPC_QUEUE_SHUTDOWN) break;
    if (ev.type != GRPC_OP_COMPLETE) continue;
    tag *t = ev.tag;
    int kind = t->kind; /* t lives in the call, which its handler may free */
    switch (kind) {
    case TAG_NEW: on_new(t->call, ev.success); break;
    case TAG_RECV: on_recv(t->call, ev.success); break;
    case TAG_SEND: on_send(t->call, ev.success); break;
    case TAG_FINISH: on_finish(t->call, ev.success); break;
    case TAG_CLOSE: on_close(t->call); break;
    }
    /* after the handler: a batch it started in turn was counted first, so 0 means quiet */
    if (kind != TAG_NEW) atomic_fetch_sub(&p->rpc->ops_pending, 1);
  }
  return NULL;
}

/* ---- start and stop ---- */

/* A clear error for an address that is taken, before gRPC's silent failure (TCP only). */
static sg_status check_bindable(const char *listen, sg_err *err) {
  if (strncmp(listen, "unix:", 5) == 0) return SG_OK;
  const char *colon = strrchr(listen, ':');
  if (!colon || !colon[1])
    return sg_err_set(err, SG_INVALID_ARGUMENT, "--listen: \"%.64s\" is not HOST:PORT or unix:PATH",
                      listen);
  char host[256];
  size_t hl = (size_t)(colon - listen);
  if (hl >= sizeof host) hl = sizeof host - 1;
  memcpy(host, listen, hl);
  host[hl] = '\0';
  if (host[0] == '[' && hl > 1 && host[hl - 1] == ']') { /* [::1]:50051 */
    memmove(host, host + 1, hl - 2);
    host[hl - 2] = '\0';
  }
  if (strcmp(colon + 1, "0") == 0) return SG_OK;
  struct addrinfo hints = {.ai_family = AF_UNSPEC,
                           .ai_socktype = SOCK_STREAM,
                           .ai_flags = AI_PASSIVE},
                  *res = NULL;
  int gai = getaddrinfo(host[0] ? host : NULL, colon + 1, &hints, &res);
  if (gai != 0)
    return sg_err_set(err, SG_INVALID_ARGUMENT, "--listen %.64s: %s", listen, gai_strerror(gai));
  sg_status st = SG_OK;
  for (struct addrinfo *a = res; a && st == SG_OK; a = a->ai_next) {
    int fd = socket(a->ai_family, a->ai_socktype, a->ai_protocol);
    if (fd < 0) continue;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, a->ai_addr, a->ai_addrlen) != 0)
      st = sg_err_set(err, SG_UNAVAILABLE, "cannot listen on %.64s: %s", listen, strerror(errno));
    close(fd);
  }
  freeaddrinfo(res);
  return st;
}

static grpc_server_credentials *make_creds(const sg_rpc_config *cfg) {
  if (!cfg->tls_cert_pem) return grpc_insecure_server_credentials_create();
  grpc_ssl_pem_key_cert_pair pair = {cfg->tls_key_pem, cfg->tls_cert_pem};
  return grpc_ssl_server_credentials_create_ex(NULL, &pair, 1,
                                               GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE, NULL);
}

static sg_status bind_address(sg_rpc *rpc, sg_err *err) {
  const char *listen = rpc->cfg.listen;
  SG_TRY(check_bindable(listen, err));
  grpc_server_credentials *creds = make_creds(&rpc->cfg);
  if (!creds) return sg_err_set(err, SG_INVALID_ARGUMENT, "--tls-cert/--tls-key: unusable");
  int port = grpc_server_add_http2_port(rpc->server, listen, creds);
  grpc_server_credentials_release(creds);
  if (port == 0)
    return sg_err_set(err, SG_UNAVAILABLE,
                      "cannot listen on %.64s (address in use, not local, or bad TLS material)",
                      listen);
  if (strncmp(listen, "unix:", 5) == 0) {
    snprintf(rpc->address, sizeof rpc->address, "%s", listen);
  } else {
    const char *colon = strrchr(listen, ':');
    snprintf(rpc->address, sizeof rpc->address, "%.*s:%d", (int)(colon - listen), listen, port);
  }
  return SG_OK;
}

static void free_rpc(sg_rpc *rpc) {
  if (rpc->pool) sg_pool_destroy(rpc->pool);
  if (rpc->stream_pool) sg_pool_destroy(rpc->stream_pool);
  free(rpc->pollers);
  free(rpc->stats);
  free(rpc);
}

sg_rpc *sg_rpc_start(const sg_rpc_config *cfg, sg_err *err) {
  sg_rpc *rpc = calloc(1, sizeof *rpc);
  if (!rpc) return NULL;
  rpc->cfg = *cfg;
  rpc->stats = calloc((size_t)cfg->n_methods + 1, sizeof *rpc->stats);
  rpc->pollers = calloc((size_t)cfg->pollers, sizeof *rpc->pollers);
  if (!rpc->stats || !rpc->pollers) {
    sg_err_set(err, SG_OUT_OF_MEMORY, "rpc: out of memory");
    free_rpc(rpc);
    return NULL;
  }
  rpc->pool = sg_pool_create(cfg->workers, (size_t)cfg->queue_limit, err);
  if (rpc->pool)
    rpc->stream_pool = sg_pool_create(cfg->stream_workers > 0 ? cfg->stream_workers : 1,
                                      (size_t)cfg->queue_limit, err);
  if (!rpc->pool || !rpc->stream_pool) {
    if (rpc->pool) sg_pool_stop(rpc->pool);
    free_rpc(rpc);
    return NULL;
  }
  grpc_arg args[3];
  memset(args, 0, sizeof args);
  args[0].type = GRPC_ARG_INTEGER;
  args[0].key = GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH;
  args[0].value.integer = cfg->max_message_bytes;
  args[1].type = GRPC_ARG_INTEGER;
  args[1].key = GRPC_ARG_MAX_SEND_MESSAGE_LENGTH;
  args[1].value.integer = cfg->max_message_bytes;
  args[2].type = GRPC_ARG_INTEGER;
  args[2].key = GRPC_ARG_ALLOW_REUSEPORT; /* a second server on our port must fail */
  args[2].value.integer = 0;
  grpc_channel_args chargs = {3, args};
  rpc->server = grpc_server_create(&chargs, NULL);
  rpc->shutdown_cq = grpc_completion_queue_create_for_next(NULL);
  grpc_server_register_completion_queue(rpc->server, rpc->shutdown_cq, NULL);
  for (int i = 0; i < cfg->pollers; i++) {
    rpc->pollers[i].rpc = rpc;
    rpc->pollers[i].cq = grpc_completion_queue_create_for_next(NULL);
    grpc_server_register_completion_queue(rpc->server, rpc->pollers[i].cq, NULL);
  }
  if (bind_address(rpc, err) != SG_OK) {
    grpc_server_destroy(rpc->server);
    for (int i = 0; i < cfg->pollers; i++)
      grpc_completion_queue_destroy(rpc->pollers[i].cq);
    grpc_completion_queue_destroy(rpc->shutdown_cq);
    sg_pool_stop(rpc->pool);
    sg_pool_stop(rpc->stream_pool);
    free_rpc(rpc);
    return NULL;
  }
  grpc_server_start(rpc->server);
  for (int i = 0; i < cfg->pollers; i++) {
    for (int k = 0; k < REQUESTS_PER_CQ; k++)
      request_call(&rpc->pollers[i]);
    rpc->pollers[i].started =
        pthread_create(&rpc->pollers[i].thread, NULL, poller_main, &rpc->pollers[i]) == 0;
  }
  return rpc;
}

const char *sg_rpc_address(const sg_rpc *rpc) { return rpc->address; }
int sg_rpc_shutting_down(const sg_rpc *rpc) { return atomic_load(&rpc->shutting_down); }
const sg_method_stats *sg_rpc_stats(const sg_rpc *rpc) { return rpc->stats; }
size_t sg_rpc_queue_depth(const sg_rpc *rpc) {
  return sg_pool_depth(rpc->pool) + sg_pool_depth(rpc->stream_pool);
}

static int wait_shutdown_tag(sg_rpc *rpc, gpr_timespec deadline) {
  for (;;) {
    grpc_event ev = grpc_completion_queue_next(rpc->shutdown_cq, deadline, NULL);
    if (ev.type == GRPC_OP_COMPLETE) return 1;
    if (ev.type == GRPC_QUEUE_TIMEOUT) return 0;
  }
}

int sg_rpc_drain(sg_rpc *rpc, double grace_s) {
  if (atomic_exchange(&rpc->shutting_down, 1)) return rpc->drained;
  grpc_server_shutdown_and_notify(rpc->server, rpc->shutdown_cq, &rpc->shutdown_tag);
  gpr_timespec grace = gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC),
                                    gpr_time_from_millis((int64_t)(grace_s * 1000), GPR_TIMESPAN));
  rpc->drained = wait_shutdown_tag(rpc, grace);
  return rpc->drained;
}

void sg_rpc_cancel_all(sg_rpc *rpc) {
  if (rpc->drained) return;
  SG_WARN("rpc", "cancelling the calls still running");
  grpc_server_cancel_all_calls(rpc->server);
}

void sg_rpc_shutdown(sg_rpc *rpc) {
  if (!atomic_load(&rpc->shutting_down)) sg_rpc_drain(rpc, 0);
  if (rpc->destroyed) return;
  if (!rpc->drained) {
    grpc_server_cancel_all_calls(rpc->server);
    wait_shutdown_tag(rpc, gpr_inf_future(GPR_CLOCK_MONOTONIC));
    rpc->drained = 1;
  }
  grpc_server_destroy(rpc->server);
  rpc->destroyed = 1;      /* rpc->server is left as it was: pollers read it without a lock (they
                              check shutting_down first, set before the shutdown began) */
  sg_pool_stop(rpc->pool); /* every queued handler runs (and sees its call cancelled) */
  sg_pool_stop(rpc->stream_pool);
  /* A completion handled after its queue was shut down must not start a batch (a send's end
   * starts the call's final one): once a shut-down queue has no op left, core aborts on it. So
   * the pollers first handle every outstanding batch of the cancelled calls. */
  for (int waited_ms = 0; atomic_load(&rpc->ops_pending) > 0; waited_ms++) {
    if (waited_ms == 10000) {
      SG_ERROR("rpc", "%ld batch(es) still outstanding after 10 s; shutting down the queues",
               atomic_load(&rpc->ops_pending));
      break;
    }
    struct timespec ms = {0, 1000000};
    nanosleep(&ms, NULL);
  }
  for (int i = 0; i < rpc->cfg.pollers; i++)
    grpc_completion_queue_shutdown(rpc->pollers[i].cq);
  for (int i = 0; i < rpc->cfg.pollers; i++)
    if (rpc->pollers[i].started) pthread_join(rpc->pollers[i].thread, NULL);
  for (int i = 0; i < rpc->cfg.pollers; i++)
    grpc_completion_queue_destroy(rpc->pollers[i].cq);
  grpc_completion_queue_shutdown(rpc->shutdown_cq);
  while (grpc_completion_queue_next(rpc->shutdown_cq, gpr_inf_future(GPR_CLOCK_MONOTONIC), NULL)
             .type != GRPC_QUEUE_SHUTDOWN) {
  }
  grpc_completion_queue_destroy(rpc->shutdown_cq);
  int live = atomic_load(&rpc->live_calls);
  if (live) SG_ERROR("rpc", "%d call object(s) still referenced at shutdown", live);
}

void sg_rpc_destroy(sg_rpc *rpc) {
  if (!rpc) return;
  sg_rpc_shutdown(rpc);
  free_rpc(rpc);
}
