/* Routing jobs: the SolveRoutesRequest → ACO solver → SolveRoutesResponse path shared by
 * Routing.SolveRoutes (answered in the call), Routing.StartSolveRoutes and Jobs.Submit. */
#ifndef SG_SERVER_ROUTE_JOBS_H
#define SG_SERVER_ROUTE_JOBS_H

#include "jobs.h"
#include "scheduler.h"
#include "shopgpu/v1/routing.pb-c.h"

typedef struct sg_route_job sg_route_job;
extern const sg_job_ops sg_route_job_ops; /* batch class, ~20 ms of iterations per step */

/* Parses or copies the problem and checks it (INVALID_ARGUMENT naming the field or line). The
 * solve must end by answer_by_us (sg_mono_us; 0 = no bound): when the job starts, its time limit
 * is cut to what is left then, so time spent queued or parsing does not push the answer past a
 * deadline. */
sg_route_job *sg_route_job_new(const Shopgpu__V1__SolveRoutesRequest *req, int64_t answer_by_us,
                               sg_err *err);
void sg_route_job_free(sg_route_job *r);
/* The job's run time for the scheduler's estimate: *cost its time limit in seconds, or, with an
 * iteration limit only, *work = iterations x stops (the kind's work units). */
void sg_route_job_size(const sg_route_job *r, double *cost, double *work);
/* The answer from the best solution so far; its arrays point into r (valid while r lives). */
sg_status sg_route_response(sg_route_job *r, Shopgpu__V1__SolveRoutesResponse *resp, sg_err *err);

sg_status sg_route_prepare(struct sg_server *srv, const Shopgpu__V1__SubmitJobRequest *req,
                           sg_job_spec *spec, sg_err *err);
void sg_route_result(sg_job *job, Shopgpu__V1__Job *out);
void sg_route_free_result(Shopgpu__V1__Job *out);

#endif
