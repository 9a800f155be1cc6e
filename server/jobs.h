/* The job registry behind the Jobs service: jobs submitted by id, their state and progress,
 * Watch streams, and persistence in DATA_DIR/jobs/<id>/ (request.pb: the SubmitJobRequest;
 * job.pb: the Job message, with its result once it succeeded), written atomically at each
 * change of state. At open, jobs that were queued or running when the server stopped are
 * marked failed with that reason, and finished jobs older than the TTL are deleted. */
#ifndef SG_SERVER_JOBS_H
#define SG_SERVER_JOBS_H

#include "rpc.h"
#include "scheduler.h"
#include "shopgpu/v1/jobs.pb-c.h"

typedef struct sg_jobs sg_jobs;
struct sg_server;

#define SG_JOB_ID_LEN 32 /* hex characters */

/* What a kind of submitted request becomes. prepare validates the request (INVALID_ARGUMENT
 * naming the field) and fills spec->ops/data/cls (the registry sets the callbacks, priority and
 * cancel); result moves the finished job's result into the Job message's oneof (allocating from
 * the given call-free arena: plain malloc memory freed by free_result). */
typedef struct sg_submit_kind {
  Shopgpu__V1__SubmitJobRequest__RequestCase request;
  const char *kind; /* "sleep" */
  const char *unit; /* what progress counts */
  sg_status (*prepare)(struct sg_server *srv, const Shopgpu__V1__SubmitJobRequest *req,
                       sg_job_spec *spec, sg_err *err);
  void (*result)(sg_job *job, Shopgpu__V1__Job *out);
  void (*free_result)(Shopgpu__V1__Job *out);
  /* optional: tells the job its directory (DATA_DIR/jobs/<id>) for files it writes */
  sg_status (*bind)(void *data, const char *job_dir, sg_err *err);
} sg_submit_kind;

/* The kinds the server knows (job_kinds.c). */
extern const sg_submit_kind sg_submit_kinds[];
extern const int sg_submit_kind_count;

/* Opens DATA_DIR/jobs (created if missing), recovering what an earlier run left. ttl_s: finished
 * jobs older than this are deleted, with their files (0 = keep forever). max_jobs: at most this
 * many jobs are kept: a Submit deletes the oldest finished ones to make room, and is
 * RESOURCE_EXHAUSTED when none is finished. */
sg_jobs *sg_jobs_open(struct sg_server *srv, const char *data_dir, double ttl_s, size_t max_jobs,
                      sg_err *err);
/* Deletes the finished jobs older than the TTL that no one watches (at most every 200 ms).
 * Called on Submit, Get, List, Watch and Cancel (so an expired job is answered for 200 ms at
 * most) and by the server's main thread every few seconds (so their disk space is freed on an
 * idle server too). */
void sg_jobs_sweep(sg_jobs *jobs);
/* Ends open Watch streams (UNAVAILABLE) and refuses new ones: the first step of a shutdown. */
void sg_jobs_end_watches(sg_jobs *jobs);
/* After the scheduler stopped (every job is final): frees the registry. */
void sg_jobs_close(sg_jobs *jobs);

/* The handlers' side; each replies on call. */
void sg_jobs_submit(sg_jobs *jobs, sg_call *call, const Shopgpu__V1__SubmitJobRequest *req);
void sg_jobs_get(sg_jobs *jobs, sg_call *call, const Shopgpu__V1__GetJobRequest *req);
void sg_jobs_cancel(sg_jobs *jobs, sg_call *call, const Shopgpu__V1__GetJobRequest *req);
void sg_jobs_list(sg_jobs *jobs, sg_call *call, const Shopgpu__V1__ListJobsRequest *req);
void sg_jobs_watch(sg_jobs *jobs, sg_call *call, const Shopgpu__V1__GetJobRequest *req);

/* Queues req as Jobs.Submit does, for other services (Click.TrainModel); id gets the job's id. */
sg_status sg_jobs_start(sg_jobs *jobs, const Shopgpu__V1__SubmitJobRequest *req,
                        char id[SG_JOB_ID_LEN + 1], sg_err *err);
/* The directory of job id when it is a succeeded job of that kind (FAILED_PRECONDITION while it
 * is not done, NOT_FOUND, INVALID_ARGUMENT for another kind). */
sg_status sg_jobs_result_dir(sg_jobs *jobs, const char *id, const char *kind, char *dir, size_t cap,
                             sg_err *err);

/* Jobs known (in memory) now. */
size_t sg_jobs_count(sg_jobs *jobs);

#endif
