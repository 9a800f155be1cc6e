/* Click work as scheduler jobs: pair scoring and recommendations (interactive; scoring calls on
 * the same model are merged by dynamic batching), training and recommend-all (batch, in steps,
 * submitted through the job registry). svc_click.c builds and submits them. */
#ifndef SG_SERVER_CLICK_JOBS_H
#define SG_SERVER_CLICK_JOBS_H

#include "jobs.h"
#include "models.h"
#include "scheduler.h"

/* ScorePairs: scores[j] = P(click | users[j], items[j]) (rows of model). Owns every member. */
typedef struct sg_score_job {
  sg_model *model; /* a reference */
  size_t n;
  uint32_t *users, *items;
  float *scores;
} sg_score_job;
extern const sg_job_ops sg_score_job_ops; /* batchable: jobs on the same model merge */

/* Recommend: top-k for n user rows, with optional exclusion rows (CSR, one per listed user). */
typedef struct sg_recommend_job {
  sg_model *model;
  size_t n;
  uint32_t *users, k; /* k: as asked, at most the model's items */
  uint32_t k_asked;
  uint64_t *ex_offsets; /* n + 1, or NULL */
  uint32_t *ex_items;
  uint32_t *items, *counts; /* n × k, n */
  float *scores;            /* n × k */
  int cache_back;           /* write the lists to Redis after replying */
} sg_recommend_job;
extern const sg_job_ops sg_recommend_job_ops;

/* Job-registry kinds (rows of sg_submit_kinds): training and recommend-all. */
sg_status sg_train_prepare(struct sg_server *srv, const Shopgpu__V1__SubmitJobRequest *req,
                           sg_job_spec *spec, sg_err *err);
void sg_train_result(sg_job *job, Shopgpu__V1__Job *out);
void sg_train_free_result(Shopgpu__V1__Job *out);

sg_status sg_recommend_all_prepare(struct sg_server *srv, const Shopgpu__V1__SubmitJobRequest *req,
                                   sg_job_spec *spec, sg_err *err);
void sg_recommend_all_result(sg_job *job, Shopgpu__V1__Job *out);
void sg_recommend_all_free_result(Shopgpu__V1__Job *out);
sg_status sg_recommend_all_bind(void *data, const char *job_dir, sg_err *err);

/* The file a recommend-all job writes in its directory (little-endian):
 *   "SGRECS01", u32 k, u32 model_version, u64 users, then one fixed-size row per user:
 *   u64 user_id, u32 count, u64 item_ids[k], f32 scores[k] (slots past count are zero). */
#define SG_RECS_FILE "recommendations.bin"
#define SG_RECS_HEADER_BYTES 24
static inline size_t sg_recs_row_bytes(uint32_t k) { return 12 + (size_t)k * 12; }

#endif
