/* Helpers shared by the click suites: a random model from a printed seed, its scores and top-k
 * computed in double precision (the independent reference), an upload through the library,
 * waiting for a job, and .npy / CSV files written by hand. Include after client_test.h. */
#ifndef SG_TEST_CLICK_TEST_H
#define SG_TEST_CLICK_TEST_H

#include <grpc/status.h>
#include <math.h>
#include <stdint.h>

#include "client_test.h"
#include "shopgpu_client.h"

#define MAX_DIM 16

typedef struct test_model {
  uint32_t nu, ni, d;
  float U[64][MAX_DIM], V[64][MAX_DIM], w[MAX_DIM], b;
  uint64_t uids[64], iids[64];
} test_model;

static uint64_t rng_state;

/* Seeds the generator from the clock (or SG_TEST_SEED) and prints the seed. */
static inline void seed_rng(void) {
  const char *env = getenv("SG_TEST_SEED");
  rng_state = env ? strtoull(env, NULL, 10) : (uint64_t)time(NULL);
  printf("seed %llu (SG_TEST_SEED to repeat)\n", (unsigned long long)rng_state);
  if (!rng_state) rng_state = 1;
}

static inline uint64_t rng_next(void) { /* xorshift64* */
  rng_state ^= rng_state >> 12;
  rng_state ^= rng_state << 25;
  rng_state ^= rng_state >> 27;
  return rng_state * 2685821657736338717ULL;
}

/* Uniform in [-a, a). */
static inline float rng_float(float a) {
  return (float)(((double)(rng_next() >> 11) / 9007199254740992.0 * 2 - 1) * a);
}

/* nu × ni × d random model; user ids 1000 + 7u, item ids 5 + 3i (or rows when plain_ids). */
static inline void make_model(test_model *m, uint32_t nu, uint32_t ni, uint32_t d, int plain_ids) {
  cr_assert(nu <= 64 && ni <= 64 && d <= MAX_DIM);
  m->nu = nu, m->ni = ni, m->d = d;
  for (uint32_t u = 0; u < nu; u++) {
    m->uids[u] = plain_ids ? u : 1000 + 7 * (uint64_t)u;
    for (uint32_t k = 0; k < d; k++)
      m->U[u][k] = rng_float(1);
  }
  for (uint32_t i = 0; i < ni; i++) {
    m->iids[i] = plain_ids ? i : 5 + 3 * (uint64_t)i;
    for (uint32_t k = 0; k < d; k++)
      m->V[i][k] = rng_float(1);
  }
  for (uint32_t k = 0; k < d; k++)
    m->w[k] = rng_float(0.5f);
  m->b = rng_float(0.5f);
}

/* b + w·(u+v) + u·v in double (the interaction term only when interaction). */
static inline double ref_logit(const test_model *m, uint32_t u, uint32_t i, int interaction) {
  double z = m->b;
  for (uint32_t k = 0; k < m->d; k++) {
    z += (double)m->w[k] * ((double)m->U[u][k] + (double)m->V[i][k]);
    if (interaction) z += (double)m->U[u][k] * (double)m->V[i][k];
  }
  return z;
}

static inline double ref_score(const test_model *m, uint32_t u, uint32_t i, int interaction) {
  return 1.0 / (1.0 + exp(-ref_logit(m, u, i, interaction)));
}

/* The top k item rows of user u by the double logit (ties: lower row first). */
static inline void ref_topk(const test_model *m, uint32_t u, uint32_t k, uint32_t *rows) {
  uint8_t taken[64] = {0};
  for (uint32_t s = 0; s < k && s < m->ni; s++) {
    int best = -1;
    for (uint32_t i = 0; i < m->ni; i++)
      if (!taken[i] && (best < 0 || ref_logit(m, u, i, 1) > ref_logit(m, u, (uint32_t)best, 1)))
        best = (int)i;
    taken[best] = 1;
    rows[s] = (uint32_t)best;
  }
}

static inline shopgpu_client *open_client(void) {
  shopgpu_client_options o = {.target = srv.addr};
  shopgpu_status st;
  shopgpu_client *c = shopgpu_client_open(&o, &st);
  cr_assert_not_null(c, "open: %s", st.message);
  return c;
}

/* Uploads m from memory as name (chunk_bytes per message); returns the stored version. */
static inline uint32_t upload_model(shopgpu_client *c, const char *name, const test_model *m,
                                    size_t chunk_bytes) {
  static float U[64 * MAX_DIM], V[64 * MAX_DIM];
  for (uint32_t u = 0; u < m->nu; u++)
    memcpy(U + u * m->d, m->U[u], m->d * sizeof(float));
  for (uint32_t i = 0; i < m->ni; i++)
    memcpy(V + i * m->d, m->V[i], m->d * sizeof(float));
  shopgpu_model_upload up = {.name = name,
                             .n_users = m->nu,
                             .n_items = m->ni,
                             .dim = m->d,
                             .interaction = 1,
                             .bias = m->b,
                             .weights = m->w,
                             .user_ids = m->uids,
                             .item_ids = m->iids,
                             .users = U,
                             .items = V,
                             .chunk_bytes = chunk_bytes};
  Shopgpu__V1__ModelInfo *info = NULL;
  shopgpu_status st;
  int rc = shopgpu_click_upload_model(c, &up, &info, 10000, &st);
  cr_assert_eq(rc, 0, "upload %s: %s: %s", name, shopgpu_status_code_name(rc), st.message);
  uint32_t version = info->version;
  protobuf_c_message_free_unpacked(&info->base, NULL);
  return version;
}

/* Waits (60 s at most) for job id to be final; returns it with its result (caller frees). */
static inline Shopgpu__V1__Job *wait_job(shopgpu_client *c, const char *id) {
  for (double until = now_s() + 60;;) {
    Shopgpu__V1__Job *job = NULL;
    shopgpu_status st;
    int rc = shopgpu_job_get(c, id, 1, &job, 5000, &st);
    cr_assert_eq(rc, 0, "get %s: %s", id, st.message);
    if (shopgpu_job_state_final(job->state)) return job;
    protobuf_c_message_free_unpacked(&job->base, NULL);
    cr_assert_lt(now_s(), until, "job %s did not end in 60 s", id);
    nanosleep(&(struct timespec){0, 20000000}, NULL);
  }
}

/* Writes a .npy file: format major.0, the header dict as given (padded per the format), then
 * len bytes of data. */
static inline void write_npy(const char *path, int major, const char *dict, const void *data,
                             size_t len) {
  size_t pre = major == 1 ? 10 : 12, n = strlen(dict) + 1, total = pre + n;
  size_t pad = (64 - total % 64) % 64;
  FILE *f = fopen(path, "wb");
  cr_assert_not_null(f, "cannot write %s", path);
  uint32_t hlen = (uint32_t)(n + pad);
  unsigned char head[12] = {0x93, 'N', 'U', 'M', 'P', 'Y', (unsigned char)major, 0};
  for (size_t i = 0; i < pre - 8; i++)
    head[8 + i] = (unsigned char)(hlen >> (8 * i));
  fwrite(head, 1, pre, f);
  fputs(dict, f);
  for (size_t i = 0; i < pad; i++)
    fputc(' ', f);
  fputc('\n', f);
  if (len) fwrite(data, 1, len, f);
  fclose(f);
}

/* Writes text to path. */
static inline void write_text(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  cr_assert_not_null(f, "cannot write %s", path);
  fputs(text, f);
  fclose(f);
}

#endif
