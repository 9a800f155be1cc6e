#!/usr/bin/python3
"""Helper of bench/sched_bench.sh, run by Debian's /usr/bin/python3 (python3-grpcio) with the
build's generated modules on PYTHONPATH:
  sched_setup.py ADDR upload NAME USERS ITEMS DIM SEED   random model, ids = row numbers
  sched_setup.py ADDR recommend-all NAME K               starts a RecommendAll job, prints its id
  sched_setup.py ADDR cancel JOB_ID
  sched_setup.py ADDR state JOB_ID                       prints state and progress
"""
import random
import struct
import sys

import grpc

from shopgpu.v1 import click_pb2 as C, common_pb2, jobs_pb2 as J


def stub(ch, path, req, resp, kind="unary"):
    make = {"unary": ch.unary_unary, "upload": ch.stream_unary}[kind]
    return make(path, request_serializer=req.SerializeToString, response_deserializer=resp.FromString)


def upload(ch, name, nu, ni, d, seed):
    rng = random.Random(seed)
    def rows(n):
        for at in range(0, n, 4096):
            k = min(4096, n - at)
            yield at, struct.pack("<%df" % (k * d), *(rng.gauss(0, 0.3) for _ in range(k * d)))
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
