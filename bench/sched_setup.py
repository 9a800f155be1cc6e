#!/usr/bin/python3
"""Helper of bench/sched_bench.sh, run by Debian's /usr/bin/python3 (python3-grpcio) with the
build's generated modules on PYTHONPATH:
  sched_setup.py ADDR upload NAME USERS ITEMS DIM SEED   random model, ids = row numbers
  sched_setup.py ADDR recommend-all NAME K               starts a RecommendAll job, prints its id
  sched_setup.py ADDR cancel JOB_ID
  sched_setup.py ADDR state JOB_ID                       prints state and progress
  sched_setup.py ADDR route N SECONDS SEED               starts a SolveRoutes job on N random
                                                         cities with that time limit, prints its id
The random matrices come from NumPy where the Python running this has it (the GPU machine's),
else from the random module (slower for large models; the same distribution either way).
"""
import random
import struct
import sys

import grpc

from shopgpu.v1 import click_pb2 as C, common_pb2, jobs_pb2 as J, routing_pb2 as R


def stub(ch, path, req, resp, kind="unary"):
    make = {"unary": ch.unary_unary, "upload": ch.stream_unary}[kind]
    return make(path, request_serializer=req.SerializeToString, response_deserializer=resp.FromString)


def gauss_rows(seed, d):
    """rows(n, sd) yields (offset, packed little-endian float32 rows) in blocks of 4096 rows."""
    try:
        import numpy as np
        gen = np.random.default_rng(seed)
        block = lambda k, sd: gen.normal(0.0, sd, k * d).astype("<f4").tobytes()
    except ImportError:
        rng = random.Random(seed)
        block = lambda k, sd: struct.pack("<%df" % (k * d), *(rng.gauss(0, sd) for _ in range(k * d)))
    def rows(n, sd):
        for at in range(0, n, 4096):
            yield at, block(min(4096, n - at), sd)
    return rows


def upload(ch, name, nu, ni, d, seed):
    rng = random.Random(seed)
    matrix_rows = gauss_rows(seed, d)  # one stream for both matrices
    rows = lambda n: matrix_rows(n, 0.3)
    def msgs():
        yield C.UploadModelRequest(header=C.UploadModelHeader(
            name=name, n_users=nu, n_items=ni, dim=d, interaction=True, bias=-1.0,
            weights=[rng.gauss(0, 0.1) for _ in range(d)]))
        for matrix, n in ((C.UploadModelChunk.USERS, nu), (C.UploadModelChunk.ITEMS, ni)):
            for at, data in rows(n):
                yield C.UploadModelRequest(chunk=C.UploadModelChunk(matrix=matrix, row_offset=at,
                                                                    rows=data))
    info = stub(ch, "/shopgpu.v1.Click/UploadModel", C.UploadModelRequest, C.ModelInfo,
                "upload")(msgs(), timeout=600)
    print("uploaded %s v%d: %d users, %d items, dim %d" % (info.name, info.version, info.n_users,
                                                            info.n_items, info.dim), file=sys.stderr)


def main(argv):
    ch = grpc.insecure_channel(argv[1])
    cmd = argv[2]
    if cmd == "upload":
        upload(ch, argv[3], int(argv[4]), int(argv[5]), int(argv[6]), int(argv[7]))
    elif cmd == "recommend-all":
        t = stub(ch, "/shopgpu.v1.Click/RecommendAll", C.RecommendAllRequest, common_pb2.JobTicket)(
            C.RecommendAllRequest(model=argv[3], k=int(argv[4])), timeout=30)
        print(t.id)
    elif cmd == "route":
        n, seconds, seed = int(argv[3]), float(argv[4]), int(argv[5])
        rng = random.Random(seed)
        problem = R.RoutingProblem(metric=R.RoutingProblem.EUC_2D,
                                   x=[rng.uniform(0, 10000) for _ in range(n)],
                                   y=[rng.uniform(0, 10000) for _ in range(n)])
        req = R.SolveRoutesRequest(problem=problem,
                                   params=R.SolverParams(time_limit_s=seconds, seed=seed))
        t = stub(ch, "/shopgpu.v1.Routing/StartSolveRoutes", R.SolveRoutesRequest,
                 common_pb2.JobTicket)(req, timeout=30)
        print(t.id)
    elif cmd in ("cancel", "state"):
        path = "/shopgpu.v1.Jobs/" + ("Cancel" if cmd == "cancel" else "Get")
        j = stub(ch, path, J.GetJobRequest, J.Job)(J.GetJobRequest(id=argv[3]), timeout=30)
        print("%s %d/%d" % (J.JobState.Name(j.state), j.progress.done, j.progress.total))
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
