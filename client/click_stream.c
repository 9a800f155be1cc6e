/* libshopgpu-client: the Click calls fed a chunk at a time. The streaming scorer runs
 * ScorePairsStream as a bidi call with a window: chunk j lives in ring slot j % window from the
 * moment it is read until its scores are handed over, and at most `window` chunks are in flight,
 * so a slot is free whenever a new chunk is read. The upload is a client stream: the header, then
 * the rows of U and of V in chunks, from memory or from the caller's reader. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client_internal.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "rows go on the wire as little-endian float32: a big-endian host needs a byte swap here"
#endif

#define CLICK_SCORE_STREAM "/shopgpu.v1.Click/ScorePairsStream"
#define CLICK_UPLOAD "/shopgpu.v1.Click/UploadModel"

/* ---- the streaming scorer ---- */

typedef struct pair_chunk {
  uint64_t *users, *items;
  size_t n;
} pair_chunk;

typedef struct score_run {
  const shopgpu_score_stream *s;
  size_t cap;    /* pairs per chunk */
  size_t window; /* ring slots = chunks in flight at most */
  pair_chunk *ring;
  size_t produced, answered; /* chunks */
  uint64_t pairs_answered;
  uint32_t version; /* the version every chunk must be scored by; 0 until known */
  int failed;       /* a local error, in err */
  shopgpu_status err;
  Shopgpu__V1__ScorePairsRequest req;
} score_run;

static int next_chunk(void *arg, const ProtobufCMessage **msg) {
  score_run *r = arg;
  pair_chunk *c = &r->ring[r->produced % r->window];
  long n = r->s->next_pairs(r->s->arg, c->users, c->items, r->cap);
  if (n <= 0) return n < 0 ? -1 : 0;
  if ((size_t)n > r->cap) {
    r->failed = 1;
    shopgpu__status_set(&r->err, GRPC_STATUS_INVALID_ARGUMENT, "next_pairs: %ld pairs > cap %zu", n,
                        r->cap);
    return -1;
  }
  c->n = (size_t)n;
  r->produced++;
  shopgpu__v1__score_pairs_request__init(&r->req);
  r->req.model = shopgpu__pb_str(r->s->model);
  r->req.version = r->version;
  r->req.user_ids = c->users;
  r->req.item_ids = c->items;
  r->req.n_user_ids = r->req.n_item_ids = c->n;
  *msg = &r->req.base;
  return 1;
}

/* Checks a response against its chunk: 0, or -1 with r->err set. */
static int check_answer(score_run *r, const Shopgpu__V1__ScorePairsResponse *resp) {
  const pair_chunk *c = &r->ring[r->answered % r->window];
  if (r->answered >= r->produced)
    shopgpu__status_set(&r->err, GRPC_STATUS_INTERNAL, "response %zu: no chunk sent", r->answered);
  else if (resp->n_scores != c->n)
    shopgpu__status_set(&r->err, GRPC_STATUS_INTERNAL, "response %zu: %zu scores for %zu pairs",
                        r->answered, resp->n_scores, c->n);
  else if (r->version && resp->model_version != r->version)
    shopgpu__status_set(&r->err, GRPC_STATUS_ABORTED,
                        "chunk %zu: scored by model version %u, the stream began with version %u",
                        r->answered, resp->model_version, r->version);
  else
    return 0;
  r->failed = 1;
  return -1;
}

static int on_chunk_scores(const ProtobufCMessage *msg, void *arg) {
  score_run *r = arg;
  const Shopgpu__V1__ScorePairsResponse *resp = (const void *)msg;
  if (check_answer(r, resp) != 0) return -1;
  const pair_chunk *c = &r->ring[r->answered % r->window];
  r->version = resp->model_version;
  r->answered++;
  r->pairs_answered += c->n;
  return r->s->on_scores(r->s->arg, c->users, c->items, resp->scores, c->n, r->version) != 0;
}

static int alloc_ring(score_run *r) {
  r->ring = calloc(r->window, sizeof *r->ring);
  if (!r->ring) return 0;
  for (size_t i = 0; i < r->window; i++) {
    r->ring[i].users = malloc(r->cap * sizeof *r->ring[i].users);
    r->ring[i].items = malloc(r->cap * sizeof *r->ring[i].items);
    if (!r->ring[i].users || !r->ring[i].items) return 0;
  }
  return 1;
}

static void free_ring(score_run *r) {
  for (size_t i = 0; r->ring && i < r->window; i++) {
    free(r->ring[i].users);
    free(r->ring[i].items);
  }
  free(r->ring);
}

/* Prefixes the server's error with the chunk it answered: the first one not answered. */
static void name_chunk(const score_run *r, shopgpu_status *st) {
  if (!st) return;
  char server[SHOPGPU_STATUS_MESSAGE_MAX];
  memcpy(server, st->message, sizeof server);
  const pair_chunk *c = &r->ring[r->answered % r->window];
  /* the server says "message N: ..." itself; the chunk and its pairs say more */
  const char *text = server;
  size_t at;
  int used = 0;
  if (sscanf(server, "message %zu: %n", &at, &used) == 1 && used > 0) text = server + used;
  shopgpu__status_set(st, st->code, "chunk %zu (pairs %llu..%llu of the stream): %s", r->answered,
                      (unsigned long long)r->pairs_answered,
                      (unsigned long long)(r->pairs_answered + c->n - 1), text);
}

int shopgpu_click_score_stream(shopgpu_client *client, const shopgpu_score_stream *stream,
                               int64_t timeout_ms, shopgpu_status *status) {
  if (!stream || !stream->model || !stream->next_pairs || !stream->on_scores)
    return shopgpu__status_set(status, GRPC_STATUS_INVALID_ARGUMENT,
                               "stream, model, next_pairs and on_scores: must not be NULL");
  score_run r = {.s = stream, .version = stream->version};
  r.cap = stream->chunk_pairs ? stream->chunk_pairs : SHOPGPU_SCORE_CHUNK_DEFAULT;
  r.window = stream->window ? stream->window : SHOPGPU_SCORE_WINDOW_DEFAULT;
  if (r.cap > ((size_t)1 << 26) || r.window > 64)
    return shopgpu__status_set(status, GRPC_STATUS_INVALID_ARGUMENT,
                               "chunk_pairs: at most 67108864; window: at most 64");
  int rc;
  if (!alloc_ring(&r)) {
    rc = shopgpu__status_set(status, GRPC_STATUS_RESOURCE_EXHAUSTED,
                             "score stream: out of memory for %zu chunks of %zu pairs", r.window,
                             r.cap);
  } else {
    shopgpu_bidi io = {next_chunk,      &r, &shopgpu__v1__score_pairs_response__descriptor,
                       on_chunk_scores, &r, r.window};
    rc = shopgpu_call_bidi(client, CLICK_SCORE_STREAM, &io, timeout_ms, status);
    if (r.failed) {
      rc = r.err.code;
      if (status) *status = r.err;
    } else if (rc != GRPC_STATUS_OK && rc != GRPC_STATUS_CANCELLED && r.answered < r.produced) {
      name_chunk(&r, status);
    } else if (rc == GRPC_STATUS_OK && r.answered != r.produced) {
      rc = shopgpu__status_set(status, GRPC_STATUS_INTERNAL,
                               "the stream ended with %zu of %zu chunks answered", r.answered,
                               r.produced);
    }
  }
  free_ring(&r);
  return rc;
}

/* ---- the upload ---- */

typedef struct upload_run {
  const shopgpu_model_upload *u;
  int phase;         /* 0 the header, 1 user rows, 2 item rows, 3 done */
  uint64_t row;      /* the next row of the phase's matrix */
  size_t chunk_rows; /* rows per message */
  float *buf;        /* chunk_rows × dim, for streamed matrices */
  Shopgpu__V1__UploadModelRequest req;
  Shopgpu__V1__UploadModelHeader header;
  Shopgpu__V1__UploadModelChunk chunk;
} upload_run;

static void *writable(const void *p) {
  union {
    const void *c;
    void *m;
  } u = {p};
  return u.m;
}

static const ProtobufCMessage *header_part(upload_run *r) {
  const shopgpu_model_upload *u = r->u;
  Shopgpu__V1__UploadModelHeader *h = &r->header;
  shopgpu__v1__upload_model_header__init(h);
  h->name = shopgpu__pb_str(u->name);
  h->n_users = u->n_users;
  h->n_items = u->n_items;
  h->dim = u->dim;
  h->interaction = u->interaction != 0;
  h->bias = u->bias;
  h->weights = writable(u->weights);
  h->n_weights = u->dim;
  h->user_ids = writable(u->user_ids);
  h->n_user_ids = u->user_ids ? u->n_users : 0;
  h->item_ids = writable(u->item_ids);
  h->n_item_ids = u->item_ids ? u->n_items : 0;
  r->req.part_case = SHOPGPU__V1__UPLOAD_MODEL_REQUEST__PART_HEADER;
  r->req.header = h;
  return &r->req.base;
}

/* The next chunk of rows of the phase's matrix (1), or a stop from read_rows (-1). */
static int chunk_part(upload_run *r, const ProtobufCMessage **msg) {
  const shopgpu_model_upload *u = r->u;
  int users = r->phase == 1;
  uint64_t left = (users ? u->n_users : u->n_items) - r->row;
  size_t n = left < r->chunk_rows ? (size_t)left : r->chunk_rows;
  const float *src = users ? u->users : u->items;
  int matrix = users ? SHOPGPU__V1__UPLOAD_MODEL_CHUNK__MATRIX__USERS
                     : SHOPGPU__V1__UPLOAD_MODEL_CHUNK__MATRIX__ITEMS;
  if (src)
    src += r->row * u->dim;
  else if (u->read_rows(u->arg, matrix, r->row, n, r->buf) != 0)
    return -1;
  shopgpu__v1__upload_model_chunk__init(&r->chunk);
  r->chunk.matrix = (Shopgpu__V1__UploadModelChunk__Matrix)matrix;
  r->chunk.row_offset = r->row;
  r->chunk.rows.data = shopgpu__pb_bytes(src ? src : r->buf);
  r->chunk.rows.len = n * u->dim * sizeof(float);
  r->req.part_case = SHOPGPU__V1__UPLOAD_MODEL_REQUEST__PART_CHUNK;
  r->req.chunk = &r->chunk;
  r->row += n;
  *msg = &r->req.base;
  return 1;
}

static int next_part(void *arg, const ProtobufCMessage **msg) {
  upload_run *r = arg;
  shopgpu__v1__upload_model_request__init(&r->req);
  if (r->phase == 0) {
    *msg = header_part(r);
    r->phase = 1;
    return 1;
  }
  while (r->phase < 3 && r->row == (r->phase == 1 ? r->u->n_users : r->u->n_items)) {
    r->phase++;
    r->row = 0;
  }
  return r->phase == 3 ? 0 : chunk_part(r, msg);
}

static int check_upload(const shopgpu_model_upload *u, shopgpu_status *st) {
  if (!u || !u->name || !u->weights)
    return shopgpu__status_set(st, GRPC_STATUS_INVALID_ARGUMENT,
                               "upload, name and weights: must not be NULL");
  if (u->dim == 0) return shopgpu__status_set(st, GRPC_STATUS_INVALID_ARGUMENT, "dim: 0");
  if ((!u->users && u->n_users) || (!u->items && u->n_items))
    if (!u->read_rows)
      return shopgpu__status_set(st, GRPC_STATUS_INVALID_ARGUMENT,
                                 "read_rows: NULL for a matrix not in memory");
  return GRPC_STATUS_OK;
}

int shopgpu_click_upload_model(shopgpu_client *client, const shopgpu_model_upload *upload,
                               Shopgpu__V1__ModelInfo **info, int64_t timeout_ms,
                               shopgpu_status *status) {
  if (info) *info = NULL;
  int rc = check_upload(upload, status);
  if (rc != GRPC_STATUS_OK) return rc;
  size_t row_bytes = (size_t)upload->dim * sizeof(float);
  size_t chunk = upload->chunk_bytes ? upload->chunk_bytes : SHOPGPU_UPLOAD_CHUNK_DEFAULT;
  upload_run r = {.u = upload, .chunk_rows = chunk / row_bytes ? chunk / row_bytes : 1};
  int streamed = (!upload->users && upload->n_users) || (!upload->items && upload->n_items);
  if (streamed && !(r.buf = malloc(r.chunk_rows * row_bytes)))
    return shopgpu__status_set(status, GRPC_STATUS_RESOURCE_EXHAUSTED,
                               "upload: out of memory for a chunk of %zu rows", r.chunk_rows);
  ProtobufCMessage *msg = NULL;
  rc = shopgpu_call_client_stream(client, CLICK_UPLOAD, next_part, &r,
                                  &shopgpu__v1__model_info__descriptor, &msg, timeout_ms, status);
  free(r.buf);
  if (info)
    *info = (Shopgpu__V1__ModelInfo *)(void *)msg;
  else if (msg)
    protobuf_c_message_free_unpacked(msg, NULL);
  return rc;
}
