/* libshopgpu-client: a C client for shopgpu-server over gRPC core + protobuf-c. One channel
 * object (shopgpu_client), a generic unary / server-streaming / client-streaming / bidi call
 * each, and one typed function per RPC built on them. Errors come back as a gRPC status code
 * plus a message; the library never aborts and never prints (gRPC core itself may log through
 * gpr_log: set GRPC_VERBOSITY or gpr_set_log_function in the application to control that).
 * Also: shopgpu_rec.h (storefront lookups straight from Redis), shopgpu_io.h (file readers),
 * shopgpu_ts.h (time-series CSVs and their frequencies). */
#ifndef SHOPGPU_CLIENT_H
#define SHOPGPU_CLIENT_H

#include <protobuf-c/protobuf-c.h>
#include <stddef.h>
#include <stdint.h>

#include "grpc/health/v1/health.pb-c.h"
#include "shopgpu/v1/admin.pb-c.h"
#include "shopgpu/v1/click.pb-c.h"
#include "shopgpu/v1/forecast.pb-c.h"
#include "shopgpu/v1/jobs.pb-c.h"
#include "shopgpu/v1/routing.pb-c.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- status ------------------------------------------------------------------------------- */

#define SHOPGPU_STATUS_MESSAGE_MAX 512

/* The outcome of a call. code is a gRPC status code (grpc_status_code: 0 = OK, 4 =
 * DEADLINE_EXCEEDED, 14 = UNAVAILABLE, 16 = UNAUTHENTICATED, ...). message is the server's
 * status message, or the library's own lowercase text for local errors (bad option, unreadable
 * CA file, undecodable response), always NUL-terminated, truncated to fit. Local errors use
 * INVALID_ARGUMENT (bad options or arguments), INTERNAL (a response that does not decode, a
 * gRPC core call refused) and RESOURCE_EXHAUSTED (out of memory). */
typedef struct shopgpu_status {
  int code;
  char message[SHOPGPU_STATUS_MESSAGE_MAX];
} shopgpu_status;

/* "OK", "CANCELLED", ..., "UNAUTHENTICATED"; "UNKNOWN" for a code outside 0..16. Static text. */
const char *shopgpu_status_code_name(int code);

/* ---- the client --------------------------------------------------------------------------- */

/* Timeouts are in milliseconds. In shopgpu_client_options.timeout_ms, SHOPGPU_TIMEOUT_DEFAULT
 * means 30 s; in a call, it means the client's timeout. SHOPGPU_TIMEOUT_NONE: no deadline. */
#define SHOPGPU_TIMEOUT_DEFAULT 0
#define SHOPGPU_TIMEOUT_NONE (-1)
#define SHOPGPU_DEFAULT_TIMEOUT_MS 30000
#define SHOPGPU_DEFAULT_MAX_RECEIVE_BYTES (64 * 1024 * 1024)

typedef struct shopgpu_client_options {
  const char *target;           /* "host:port" or "unix:/path/to/sock"; required */
  const char *token;            /* bearer token sent as "authorization: Bearer TOKEN", or NULL */
  const char *tls_ca_file;      /* PEM file of the CA(s) to trust; NULL = plaintext */
  const char *tls_server_name;  /* name to verify the server certificate against instead of the
                                   target's host, or NULL */
  int64_t timeout_ms;           /* default per-call timeout (see SHOPGPU_TIMEOUT_*) */
  int max_receive_bytes;        /* largest response accepted: 0 = 64 MiB, -1 = unlimited */
  int reconnect_backoff_max_ms; /* after the server went away, the longest wait between tries
                                   to connect again (calls meanwhile fail with UNAVAILABLE):
                                   0 = gRPC's default (120 s). When set, and the process has not
                                   set GRPC_CLIENT_CHANNEL_BACKUP_POLL_INTERVAL_MS, the first
                                   open with it sets that to half this (50..1000 ms): gRPC's 5 s
                                   default tick kept calls failing 5-10 s after the server was
                                   back. gRPC reads it at the process's first grpc_init, so open
                                   this client before any other gRPC use */
} shopgpu_client_options;

typedef struct shopgpu_client shopgpu_client;

/* Creates a client (calls grpc_init). Nothing connects yet: the first call does, and fails
 * with UNAVAILABLE at once if the server cannot be reached (no waiting for it to come up).
 * The options' strings are copied (the CA file is read here). Returns NULL and fills status (if
 * not NULL) on a bad option: INVALID_ARGUMENT for an empty target, a token that is empty or
 * holds a line break, an unreadable CA file or one without a PEM certificate, a negative timeout
 * other than SHOPGPU_TIMEOUT_NONE, max_receive_bytes < -1, reconnect_backoff_max_ms < 0. */
shopgpu_client *shopgpu_client_open(const shopgpu_client_options *opts, shopgpu_status *status);

/* Destroys the client (calls grpc_shutdown). No call may be in progress. NULL is a no-op; call
 * it once per client (the pointer is invalid afterwards). */
void shopgpu_client_close(shopgpu_client *client);

/* The target the client was opened with; "" for NULL. */
const char *shopgpu_client_target(const shopgpu_client *client);

/* Thread-safety: one client may be used from any number of threads at once. Every call makes
 * its own gRPC call object and its own pluck completion queue, so calls share only the channel
 * (which gRPC makes thread-safe). shopgpu_client_close must not race with calls.
 *
 * Every call function returns the status code (0 = OK) and, if status is not NULL, fills it.
 * Responses are protobuf-c messages owned by the caller, freed with
 * protobuf_c_message_free_unpacked(&msg->base, NULL) (or with the generated __free_unpacked);
 * *response is set to NULL unless the call succeeded. Request messages are only read. */

/* ---- generic calls ------------------------------------------------------------------------ */

/* One request, one response. path: "/package.Service/Method". response_desc: the type of the
 * response (e.g. &shopgpu__v1__server_info__descriptor). */
int shopgpu_call_unary(shopgpu_client *client, const char *path, const ProtobufCMessage *request,
                       const ProtobufCMessageDescriptor *response_desc, ProtobufCMessage **response,
                       int64_t timeout_ms, shopgpu_status *status);

/* Called once per streamed message, in order, on the calling thread. msg belongs to the library
 * and is freed when the callback returns: copy what you keep. Return 0 to go on, nonzero to
 * cancel the call: the function then returns CANCELLED promptly. */
typedef int (*shopgpu_stream_fn)(const ProtobufCMessage *msg, void *arg);

/* One request, a stream of responses, each handed to on_message. Returns once the server ends
 * the stream (its status), the deadline passes or the callback cancels. */
int shopgpu_call_server_stream(shopgpu_client *client, const char *path,
                               const ProtobufCMessage *request,
                               const ProtobufCMessageDescriptor *response_desc,
                               shopgpu_stream_fn on_message, void *arg, int64_t timeout_ms,
                               shopgpu_status *status);

/* Supplies the next request of a client stream: set *msg and return 1 to send it (the library
 * packs it before calling again, so it only needs to live until the next call), return 0 to end
 * the stream, or a negative value to cancel the call (the function returns CANCELLED). */
typedef int (*shopgpu_produce_fn)(void *arg, const ProtobufCMessage **msg);

/* A stream of requests (from next), one response. */
int shopgpu_call_client_stream(shopgpu_client *client, const char *path, shopgpu_produce_fn next,
                               void *arg, const ProtobufCMessageDescriptor *response_desc,
                               ProtobufCMessage **response, int64_t timeout_ms,
                               shopgpu_status *status);

/* How a bidi call is fed and read: next supplies the requests as for a client stream,
 * on_message gets the responses as for a server stream. window: at most this many requests are
 * sent ahead of the responses handed to on_message, for methods that answer each request with
 * one response (it bounds what the caller keeps for the requests in flight); 0 = no limit
 * beyond gRPC's flow control. */
typedef struct shopgpu_bidi {
  shopgpu_produce_fn next;
  void *next_arg;
  const ProtobufCMessageDescriptor *response_desc;
  shopgpu_stream_fn on_message;
  void *message_arg;
  size_t window;
} shopgpu_bidi;

/* Requests and responses at once: a send and a receive stay outstanding together, so neither
 * side waits for the other to read (no deadlock on large messages both ways). next and
 * on_message run on the calling thread, one at a time. Returns once the response stream ended
 * and no send is pending: the server's status; CANCELLED when next returned a negative value
 * or on_message nonzero; INTERNAL for a response that does not decode. */
int shopgpu_call_bidi(shopgpu_client *client, const char *path, const shopgpu_bidi *io,
                      int64_t timeout_ms, shopgpu_status *status);

/* ---- grpc.health.v1.Health (no token needed) ---------------------------------------------- */

/* Serving status of service ("" or NULL = the whole server): GRPC__HEALTH__V1__HEALTH_CHECK_
 * RESPONSE__SERVING_STATUS__SERVING (1), NOT_SERVING (2), ... An unknown service is the call
 * status NOT_FOUND, not a serving status. *serving is set only when the call succeeds. */
int shopgpu_health_check(shopgpu_client *client, const char *service, int *serving,
                         int64_t timeout_ms, shopgpu_status *status);

/* Called with each serving status Watch reports (the current one first, then each change;
 * SERVICE_UNKNOWN (3) for an unknown service). Return nonzero to stop watching. */
typedef int (*shopgpu_health_fn)(int serving, void *arg);

/* Watches service until the callback stops it (CANCELLED), the deadline passes or the server
 * ends the stream (UNAVAILABLE when it shuts down). Use SHOPGPU_TIMEOUT_NONE to watch forever. */
int shopgpu_health_watch(shopgpu_client *client, const char *service, shopgpu_health_fn on_status,
                         void *arg, int64_t timeout_ms, shopgpu_status *status);

/* ---- shopgpu.v1.Admin --------------------------------------------------------------------- */

/* Version, backend, uptime and per-method counters. */
int shopgpu_server_info(shopgpu_client *client, Shopgpu__V1__ServerInfo **info, int64_t timeout_ms,
                        shopgpu_status *status);

/* Sends len bytes of payload (payload may be NULL when len is 0) and gets them back. The server
 * holds the call delay_ms milliseconds first (at most 60,000). */
int shopgpu_echo(shopgpu_client *client, const void *payload, size_t len, uint32_t delay_ms,
                 Shopgpu__V1__EchoResponse **response, int64_t timeout_ms, shopgpu_status *status);

/* Called with each EchoStream message. Return nonzero to cancel. */
typedef int (*shopgpu_echo_fn)(const Shopgpu__V1__EchoResponse *msg, void *arg);

/* Asks for count copies of the payload, interval_ms apart (count at most 1,000,000,
 * interval_ms at most 10,000). */
int shopgpu_echo_stream(shopgpu_client *client, const void *payload, size_t len, uint32_t count,
                        uint32_t interval_ms, shopgpu_echo_fn on_message, void *arg,
                        int64_t timeout_ms, shopgpu_status *status);

/* One chunk of an upload: len bytes at data (data may be NULL when len is 0). */
typedef struct shopgpu_bytes {
  const void *data;
  size_t len;
} shopgpu_bytes;

/* Streams n messages (one per chunk) and gets back the count of messages and bytes the server
 * received. */
int shopgpu_echo_upload(shopgpu_client *client, const shopgpu_bytes *chunks, size_t n,
                        Shopgpu__V1__EchoUploadResponse **response, int64_t timeout_ms,
                        shopgpu_status *status);

/* ---- shopgpu.v1.Jobs ---------------------------------------------------------------------- */

/* Long-running work is a job: Submit answers at once with its id (32 lowercase hex digits) and
 * state QUEUED; Get, Watch and List report it; Cancel asks it to stop. A job ends in one of the
 * final states SUCCEEDED, FAILED or CANCELLED, with error_code/error_message set for the last two.
 * The job's own outcome is in the Job message: these functions return OK for a job that failed.
 * Server errors: INVALID_ARGUMENT for a malformed id or request (the message names the field),
 * NOT_FOUND for an unknown id (or one deleted after the server's --job-ttl), RESOURCE_EXHAUSTED
 * when the batch queue is full. */

/* "queued", "running", "succeeded", "failed", "cancelled"; "unspecified" for 0 and any other
 * value. Static text. */
const char *shopgpu_job_state_name(int state);

/* 1 for SUCCEEDED, FAILED and CANCELLED (the job will not change again), else 0. */
int shopgpu_job_state_final(int state);

/* Queues request (priority, label and one job request in its oneof) and returns the new job
 * (state QUEUED) in *job. */
int shopgpu_job_submit(shopgpu_client *client, const Shopgpu__V1__SubmitJobRequest *request,
                       Shopgpu__V1__Job **job, int64_t timeout_ms, shopgpu_status *status);

/* The job id now. With include_result nonzero, a job that succeeded comes with its result
 * (the Job's result oneof); otherwise, and for jobs that did not succeed, result is unset. */
int shopgpu_job_get(shopgpu_client *client, const char *id, int include_result,
                    Shopgpu__V1__Job **job, int64_t timeout_ms, shopgpu_status *status);

/* Called with each Job that Watch reports. job belongs to the library and is freed when the
 * callback returns: copy what you keep. Return nonzero to stop watching. */
typedef int (*shopgpu_job_fn)(const Shopgpu__V1__Job *job, void *arg);

/* Follows job id: the job now, then each change of state or progress (when updates come faster
 * than they are read, only the latest is kept), the final state last; then the call returns OK.
 * A job already final gives one callback. Returns CANCELLED when the callback stopped it,
 * UNAVAILABLE when the server shuts down or the connection breaks (the job itself may still be
 * running: Get says). Watches carry no result: Get it with include_result once SUCCEEDED. Use
 * SHOPGPU_TIMEOUT_NONE to watch a long job. */
int shopgpu_job_watch(shopgpu_client *client, const char *id, shopgpu_job_fn on_job, void *arg,
                      int64_t timeout_ms, shopgpu_status *status);

/* Asks job id to stop: a queued job is CANCELLED at once, a running one at its next step (the
 * returned job may still say RUNNING); a final job is left as it is. *job (may be NULL when not
 * wanted) is the job after the request. */
int shopgpu_job_cancel(shopgpu_client *client, const char *id, Shopgpu__V1__Job **job,
                       int64_t timeout_ms, shopgpu_status *status);

/* Jobs, newest first: at most limit (0 = the server's default, 100; at most 10,000), only those
 * in state (SHOPGPU__V1__JOB_STATE__JOB_STATE_UNSPECIFIED = any) and of kind (NULL or "" = any).
 * The jobs carry no results. */
int shopgpu_job_list(shopgpu_client *client, uint32_t limit, int state, const char *kind,
                     Shopgpu__V1__ListJobsResponse **response, int64_t timeout_ms,
                     shopgpu_status *status);

/* ---- shopgpu.v1.Click ---------------------------------------------------------------------- */

/* Models are named ([A-Za-z0-9_.-], 1..64 bytes) and versioned; version 0 means the latest.
 * Users and items are external uint64 ids. Server errors: NOT_FOUND for an unknown model or
 * version, INVALID_ARGUMENT naming the field and index ("user_ids[17]: unknown id 900"). */

/* Buffer size for a job id (32 lowercase hex digits and the NUL). */
#define SHOPGPU_JOB_ID_SIZE 33

/* P(click) of n pairs (user_ids[i], item_ids[i]) into scores[0..n) (ScorePairs, one message:
 * up to about a million pairs under the server's default 64 MiB limit; use
 * shopgpu_click_score_stream beyond). model_version (may be NULL): the version that scored. */
int shopgpu_click_score(shopgpu_client *client, const char *model, uint32_t version,
                        const uint64_t *user_ids, const uint64_t *item_ids, size_t n, float *scores,
                        uint32_t *model_version, int64_t timeout_ms, shopgpu_status *status);

/* Fills user_ids/item_ids with up to cap pairs; returns how many (0 = no more), or a negative
 * value to stop the stream (the scorer then returns CANCELLED: keep your own reason). */
typedef long (*shopgpu_pairs_fn)(void *arg, uint64_t *user_ids, uint64_t *item_ids, size_t cap);
/* The scores of one chunk of pairs, in the order the chunks were supplied. The arrays belong to
 * the library. Return 0 to go on, nonzero to stop (CANCELLED). */
typedef int (*shopgpu_scores_fn)(void *arg, const uint64_t *user_ids, const uint64_t *item_ids,
                                 const float *scores, size_t n, uint32_t model_version);

#define SHOPGPU_SCORE_CHUNK_DEFAULT 262144 /* pairs: at most about 5 MiB per message */
#define SHOPGPU_SCORE_WINDOW_DEFAULT 2

typedef struct shopgpu_score_stream {
  const char *model;
  uint32_t version;   /* 0 = the latest */
  size_t chunk_pairs; /* most pairs per message: 0 = SHOPGPU_SCORE_CHUNK_DEFAULT */
  unsigned window;    /* chunks sent ahead of their scores: 0 = SHOPGPU_SCORE_WINDOW_DEFAULT */
  shopgpu_pairs_fn next_pairs; /* the input, a chunk at a time */
  shopgpu_scores_fn on_scores; /* the output, a chunk at a time, in order */
  void *arg;                   /* for both callbacks */
} shopgpu_score_stream;

/* Scores any number of pairs over ScorePairsStream: reads a chunk from next_pairs, sends it, and
 * hands its scores to on_scores while later chunks are on their way. Memory is bounded by
 * `window` chunks whatever the total. All scores of one stream come from one model version:
 * with version 0, the chunks sent after the first answer ask for the version that gave it, and
 * a chunk scored by another version (a new one published before the first answer came) fails
 * the call with ABORTED. INTERNAL when a response does not match its chunk. */
int shopgpu_click_score_stream(shopgpu_client *client, const shopgpu_score_stream *stream,
                               int64_t timeout_ms, shopgpu_status *status);

/* The top k (1..1024; 0 is INVALID_ARGUMENT) items of each of n_users users, best first, seen
 * items excluded unless include_seen. *response: one UserRecommendations per user, in order. */
int shopgpu_click_recommend(shopgpu_client *client, const char *model, uint32_t version,
                            const uint64_t *user_ids, size_t n_users, uint32_t k, int include_seen,
                            Shopgpu__V1__RecommendResponse **response, int64_t timeout_ms,
                            shopgpu_status *status);

/* Starts training (TrainModel) and writes the job's id into job_id; follow it with the Jobs
 * functions (its result is a TrainModelResult with the model's info). */
int shopgpu_click_train(shopgpu_client *client, const Shopgpu__V1__TrainModelRequest *request,
                        char job_id[SHOPGPU_JOB_ID_SIZE], int64_t timeout_ms,
                        shopgpu_status *status);

/* Starts a recommend-all job (RecommendAll); its id goes into job_id. */
int shopgpu_click_recommend_all(shopgpu_client *client,
                                const Shopgpu__V1__RecommendAllRequest *request,
                                char job_id[SHOPGPU_JOB_ID_SIZE], int64_t timeout_ms,
                                shopgpu_status *status);

/* Called with each user's list of a finished recommend-all job, in user row order; user
 * belongs to the library. Return nonzero to stop (CANCELLED). */
typedef int (*shopgpu_user_recs_fn)(const Shopgpu__V1__UserRecommendations *user, void *arg);

/* The lists of users offset..offset+limit-1 (limit 0 = to the end) of succeeded recommend-all
 * job job_id (ReadRecommendations). */
int shopgpu_click_read_recommendations(shopgpu_client *client, const char *job_id, uint64_t offset,
                                       uint64_t limit, shopgpu_user_recs_fn on_user, void *arg,
                                       int64_t timeout_ms, shopgpu_status *status);

/* Fills rows row_offset .. row_offset + n_rows - 1 of one matrix (matrix:
 * SHOPGPU__V1__UPLOAD_MODEL_CHUNK__MATRIX__USERS or __ITEMS) into buf, n_rows × dim float32,
 * row-major. The rows of each matrix are asked for in order, users first. Return 0, or nonzero
 * to stop the upload (it returns CANCELLED: keep your own reason). */
typedef int (*shopgpu_rows_fn)(void *arg, int matrix, uint64_t row_offset, size_t n_rows,
                               float *buf);

#define SHOPGPU_UPLOAD_CHUNK_DEFAULT (4u << 20) /* bytes of rows per message */

/* A model to upload. Each matrix comes from memory (users/items: n × dim float32, row-major)
 * or, when that pointer is NULL, from read_rows, a chunk at a time (memory then stays at one
 * chunk whatever the model's size). */
typedef struct shopgpu_model_upload {
  const char *name;
  uint32_t n_users, n_items, dim;
  int interaction; /* 0: plain logistic regression on u + v */
  float bias;
  const float *weights;     /* dim values */
  const uint64_t *user_ids; /* n_users external ids, or NULL for 0..n_users-1 */
  const uint64_t *item_ids; /* n_items external ids, or NULL for 0..n_items-1 */
  const float *users, *items;
  shopgpu_rows_fn read_rows;
  void *arg;
  size_t chunk_bytes; /* most bytes of rows per message (at least one row is sent): 0 =
                         SHOPGPU_UPLOAD_CHUNK_DEFAULT */
} shopgpu_model_upload;

/* Uploads a model (UploadModel: the header, then every row in chunks); it becomes the next
 * version of its name and is served at once. *info (may be NULL when not wanted): the stored
 * model. INVALID_ARGUMENT locally for dim 0, a NULL name or weights, or a matrix with neither
 * rows nor read_rows; the server checks the rest (NaN rows, repeated ids, ...). */
int shopgpu_click_upload_model(shopgpu_client *client, const shopgpu_model_upload *upload,
                               Shopgpu__V1__ModelInfo **info, int64_t timeout_ms,
                               shopgpu_status *status);

/* The served models: the latest version of each name, by name. */
int shopgpu_click_list_models(shopgpu_client *client, Shopgpu__V1__ListModelsResponse **response,
                              int64_t timeout_ms, shopgpu_status *status);

/* Deletes one version of model name, or every version (version 0); *deleted (may be NULL): how
 * many. Deleting the newest serves the previous version again. NOT_FOUND when none matched. */
int shopgpu_click_delete_model(shopgpu_client *client, const char *name, uint32_t version,
                               uint32_t *deleted, int64_t timeout_ms, shopgpu_status *status);

/* ---- shopgpu.v1.Forecast ------------------------------------------------------------------ */

/* Batched ARIMA forecasts (see forecast.proto). The request is one spec (horizon 1..10,000,
 * season, levels, search, ...) and the series, each with its values (NaN = missing) and, with
 * spec.n_xreg regressors, len × n_xreg past and horizon × n_xreg future values. Each series gets
 * its own status ("ok", "too_short", "constant", "missing", "not_converged"): a bad series never
 * fails the call. Server errors: INVALID_ARGUMENT naming the field ("spec.horizon: 0 is outside
 * 1..10000", "series[3].xreg: ..."), RESOURCE_EXHAUSTED when the queue is full or the message
 * is over the server's --max-message-mb. */

/* The largest number of series shopgpu_forecast takes (use shopgpu_forecast_start beyond). */
#define SHOPGPU_FORECAST_DIRECT_MAX 1000

/* Fits and forecasts up to SHOPGPU_FORECAST_DIRECT_MAX series, answering in the call:
 * *response holds one SeriesForecast per series, in request order (INTERNAL when the server
 * answers another count). A thousand long series can take seconds: give a timeout to match. */
int shopgpu_forecast(shopgpu_client *client, const Shopgpu__V1__ForecastRequest *request,
                     Shopgpu__V1__ForecastResponse **response, int64_t timeout_ms,
                     shopgpu_status *status);

/* Starts a forecast of any number of series as a job (StartForecast) and writes its id into
 * job_id; follow it with the Jobs functions: once SUCCEEDED, shopgpu_job_get with
 * include_result gives the ForecastResponse in job->forecast (result_case
 * SHOPGPU__V1__JOB__RESULT_FORECAST). request->priority is the job's priority (-100..100). */
int shopgpu_forecast_start(shopgpu_client *client, const Shopgpu__V1__ForecastRequest *request,
                           char job_id[SHOPGPU_JOB_ID_SIZE], int64_t timeout_ms,
                           shopgpu_status *status);

/* Safety stock, reorder point, order-up-to level and order quantity for each item (Replenish:
 * at most 1,000,000 items, every item with the same number of means and standard errors, at
 * least lead_time + review_period of them). *response: one ReplenishPlan per item, in order
 * (INTERNAL when the server answers another count). Errors: INVALID_ARGUMENT naming the item
 * ("items[3]: lead_time 5 + review_period 0 > forecast horizon h 4"). */
int shopgpu_replenish(shopgpu_client *client, const Shopgpu__V1__ReplenishRequest *request,
                      Shopgpu__V1__ReplenishResponse **response, int64_t timeout_ms,
                      shopgpu_status *status);

/* ---- shopgpu.v1.Routing ------------------------------------------------------------------- */

/* Delivery routes by ant colony optimisation (see routing.proto): the symmetric TSP and the
 * capacitated VRP, given as TSPLIB / CVRPLIB text in problem->tsplib (parsed by the server) or
 * in the structured form. The answer's routes are the nodes' external ids (the file's node
 * numbers for text; the depot excluded), its cost in the instance's own distance convention.
 * Server errors: INVALID_ARGUMENT naming the field or the line ("problem.tsplib:7: no
 * DIMENSION", "demand[4]: 120 > capacity 100", "params: time_limit_s ..."). */

/* Solves within the call: the best solution found in request->params->time_limit_s (0 = 10 s),
 * cut by the server to leave a tenth of the call's deadline for queueing and the answer: give a
 * timeout_ms of the time limit plus a margin (15% and 2 s is ample). *response: the answer
 * (INTERNAL when it says feasible without any route). A seed with max_iterations (and a time
 * limit that is not reached) gives the same routes on the same backend. */
int shopgpu_route_solve(shopgpu_client *client, const Shopgpu__V1__SolveRoutesRequest *request,
                        Shopgpu__V1__SolveRoutesResponse **response, int64_t timeout_ms,
                        shopgpu_status *status);

/* Starts the same as a job (StartSolveRoutes; request->priority is the job's, -100..100) and
 * writes its id into job_id. The server parses and checks the problem before answering, so a bad
 * one fails this call. The job's progress is compute milliseconds out of the time limit, with
 * has_best / best the best cost so far; once SUCCEEDED, shopgpu_job_get with include_result gives
 * the SolveRoutesResponse in job->solve_routes (result_case
 * SHOPGPU__V1__JOB__RESULT_SOLVE_ROUTES). */
int shopgpu_route_start(shopgpu_client *client, const Shopgpu__V1__SolveRoutesRequest *request,
                        char job_id[SHOPGPU_JOB_ID_SIZE], int64_t timeout_ms,
                        shopgpu_status *status);

#ifdef __cplusplus
}
#endif

#endif
