#!/usr/bin/python3
"""Memory soak: does shopgpu-server's memory stay bounded under a long mixed workload?

Usage: bench/soak.py [--build build-rel] --minutes M [--sample-s 10] [--workers 4]
                     [--growth-pct 10] [--growth-mib 16] [--keep] [--server PATH]
                     [--server-arg=--flag=value ...]

Starts BUILD/server/shopgpu-server on a free loopback port (--redis none, --backend cpu, a fresh
temporary --data-dir, a short --job-ttl and a small --max-jobs so the disk stays bounded), then
drives every RPC from --workers threads for M minutes: good calls and bad ones (bad fields,
unknown models and ids, NaN values), uploads, tiny trainings, models deleted and re-created
under the same name, forecasts (unary and as jobs), small TSP and CVRP solves, jobs submitted
and cancelled, Watch and other streams cancelled mid-way, deadlines that expire.

Every --sample-s seconds it reads the server's VmRSS, threads (/proc/PID/status) and open file
descriptors (/proc/PID/fd). At the end it prints a markdown table of the samples, the calls per
method by status code, and a verdict: "bounded" when RSS grew less than max(--growth-pct % of
it, --growth-mib MiB) from the end of the first third (the warm-up) to the end, and neither fds
nor threads stayed above the most seen in the first third all through the last third (a
leak raises the floor; a passing spike does not); else "GROWING".

Exit status: 0 bounded and clean; 1 GROWING, an unexpected status code, a wrong answer, a dead
server or a SIGTERM exit status other than 0; 2 bad usage or the server did not start.
Run it with Debian's /usr/bin/python3 (python3-grpcio); the protobuf modules come from
BUILD/python.
"""
import argparse
import collections
import math
import os
import random
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time
import traceback

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OK = ("OK",)


def die(msg):
    print("soak: " + msg, file=sys.stderr)
    sys.exit(2)


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--build", default="build-rel", help="build directory (default build-rel)")
    p.add_argument("--server", help="the server binary (default BUILD/server/shopgpu-server), "
                   "e.g. a sanitizer build's")
    p.add_argument("--minutes", type=float, required=True, help="how long the workload runs")
    p.add_argument("--sample-s", type=float, default=10, help="seconds between samples")
    p.add_argument("--workers", type=int, default=4, help="client threads")
    p.add_argument("--growth-pct", type=float, default=10,
                   help="RSS growth allowed after the warm-up, in percent")
    p.add_argument("--growth-mib", type=float, default=16,
                   help="RSS growth allowed after the warm-up, in MiB (the larger limit wins)")
    p.add_argument("--max-jobs", type=int, default=64, help="the server's --max-jobs")
    p.add_argument("--job-ttl", type=int, default=30, help="the server's --job-ttl, seconds")
    p.add_argument("--server-arg", action="append", default=[],
                   help="extra server flag, e.g. --server-arg=--threads=4 (repeatable)")
    p.add_argument("--keep", action="store_true", help="keep the data dir and the server log")
    a = p.parse_args(argv)
    if not os.path.isdir(a.build):
        a.build = os.path.join(ROOT, a.build)
    return a


# ---- the server ----

def start_server(args, tmp):
    """Starts the server; returns (process, address) once it has written its ready file."""
    exe = args.server or os.path.join(args.build, "server", "shopgpu-server")
    if not os.access(exe, os.X_OK):
        die("%s missing: build it first" % exe)
    ready = os.path.join(tmp, "ready")
    cmd = [exe, "--listen", "127.0.0.1:0", "--data-dir", os.path.join(tmp, "data"),
           "--redis", "none", "--backend", "cpu", "--ready-file", ready,
           "--max-jobs", str(args.max_jobs), "--job-ttl", str(args.job_ttl),
           "--log-level", "warn"] + args.server_arg
    log = open(os.path.join(tmp, "server.log"), "w")
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
    print("soak: started %s (pid %d)" % (" ".join(cmd), proc.pid), file=sys.stderr)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and proc.poll() is None:
        if os.path.exists(ready):
            with open(ready) as f:
                addr = f.readline().strip()
            if addr:
                return proc, addr
        time.sleep(0.05)
    proc.kill()
    die("the server did not start (see %s)" % os.path.join(tmp, "server.log"))


def wait_healthy(addr, proc):
    ch = grpc.insecure_channel(addr)
    check = stub(ch, HEALTH + "Check")
    deadline = time.monotonic() + 30
    while True:
        try:
            if check(health_pb2.HealthCheckRequest(), timeout=2).status == SERVING:
                ch.close()
                return
        except grpc.RpcError:
            pass
        if time.monotonic() > deadline:
            proc.kill()
            die("Health/Check never answered SERVING")
        time.sleep(0.1)


def read_proc(pid):
    """(RSS in KiB, threads, open fds) of a live process."""
    rss = threads = 0
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
            elif line.startswith("Threads:"):
                threads = int(line.split()[1])
    return rss, threads, len(os.listdir("/proc/%d/fd" % pid))


def count_files(top):
    return sum(len(files) for _, _, files in os.walk(top))


# ---- RPC plumbing ----

def import_modules(build):
    global grpc, health_pb2, admin_pb2, click_pb2, common_pb2, forecast_pb2, jobs_pb2
    global routing_pb2, SERVING, METHODS
    sys.path.insert(0, os.path.join(build, "python"))
    import grpc
    import health_pb2
    from shopgpu.v1 import (admin_pb2, click_pb2, common_pb2, forecast_pb2, jobs_pb2,
                            routing_pb2)
    SERVING = health_pb2.HealthCheckResponse.SERVING
    H, A, CK, FC, JS, RT = (health_pb2, admin_pb2, click_pb2, forecast_pb2, jobs_pb2,
                            routing_pb2)
    # path -> (kind, request type, response type), read from the services' descriptors
    from google.protobuf import symbol_database
    db = symbol_database.Default()
    kinds = {(False, False): "unary", (False, True): "stream", (True, False): "upload",
             (True, True): "bidi"}
    METHODS = {}
    for module in (H, A, CK, FC, JS, RT):
        for service in module.DESCRIPTOR.services_by_name.values():
            for m in service.methods:
                METHODS["/%s/%s" % (service.full_name, m.name)] = (
                    kinds[(m.client_streaming, m.server_streaming)],
                    db.GetSymbol(m.input_type.full_name), db.GetSymbol(m.output_type.full_name))


HEALTH = "/grpc.health.v1.Health/"
ADMIN = "/shopgpu.v1.Admin/"
CLICK = "/shopgpu.v1.Click/"
FORECAST = "/shopgpu.v1.Forecast/"
ROUTING = "/shopgpu.v1.Routing/"
JOBS = "/shopgpu.v1.Jobs/"
GARBAGE = b"\xff\xff\xff"  # an unfinished varint: no message parses it


def stub(channel, path, raw=False):
    kind, req, resp = METHODS.get(path, ("unary", None, None))
    ser = (lambda b: b) if raw or req is None else req.SerializeToString
    de = (lambda b: b) if raw or resp is None else resp.FromString
    make = {"unary": channel.unary_unary, "stream": channel.unary_stream,
            "upload": channel.stream_unary, "bidi": channel.stream_stream}[kind]
    return make(path, request_serializer=ser, response_deserializer=de)


class Tally:
    """Calls by method and status code; the unexpected ones kept with what was asked."""

    def __init__(self):
        self.lock = threading.Lock()
        self.codes = collections.Counter()  # (method, code name) -> calls
        self.expected_errors = collections.Counter()
        self.unexpected = []  # (method, code, what, details)
        self.calls = 0

    def add(self, method, code, expected, what, details=""):
        with self.lock:
            self.calls += 1
            self.codes[(method, code)] += 1
            if not expected:
                self.unexpected.append((method, code, what, details))
                print("soak: UNEXPECTED %s %s (%s): %s" % (method, code, what, details),
                      file=sys.stderr, flush=True)

    def bad_answer(self, method, what):
        """A call that answered OK with something wrong."""
        with self.lock:
            self.unexpected.append((method, "BAD_ANSWER", what, ""))
        print("soak: BAD ANSWER %s: %s" % (method, what), file=sys.stderr, flush=True)


# ---- the workload ----

def f32_rows(rng, n, d, sd=0.5):
    return struct.pack("<%df" % (n * d), *(rng.gauss(0, sd) for _ in range(n * d)))


def series_values(rng, n, m=12):
    level, out = 100.0, []
    for t in range(n):
        level += rng.gauss(0.2, 1.0)
        out.append(level + 10 * math.sin(2 * math.pi * t / m) + rng.gauss(0, 1))
    return out


class Worker:
    """One client thread: its own channel, its own model names (so no other thread deletes
    them under it), and one function per area of the API."""

    NU, NI, DIM = 40, 30, 8

    def __init__(self, n, addr, tally, stop):
        self.n, self.tally, self.stop = n, tally, stop
        self.rng = random.Random(n)
        self.channel = grpc.insecure_channel(addr)
        self.stubs = {path: stub(self.channel, path) for path in METHODS}
        self.up_name, self.tr_name = "soak-w%d-up" % n, "soak-w%d-tr" % n
        self.uids = [1000 + 7 * u for u in range(self.NU)]
        self.iids = [5 + 3 * i for i in range(self.NI)]

    # -- helpers: each records one call's outcome --

    def call(self, path, req, expect=OK, timeout=60, what=""):
        """A unary or client-streaming call; the answer, or None when it failed."""
        try:
            resp = self.stubs[path](req, timeout=timeout)
        except grpc.RpcError as e:
            self.tally.add(path, e.code().name, e.code().name in expect, what, e.details())
            return None
        self.tally.add(path, "OK", "OK" in expect, what)
        return resp

    def read_all(self, path, req, expect=OK, timeout=60, what=""):
        """A server- or bidi-streaming call read to its end; the messages, or None."""
        try:
            msgs = list(self.stubs[path](req, timeout=timeout))
        except grpc.RpcError as e:
            self.tally.add(path, e.code().name, e.code().name in expect, what, e.details())
            return None
        self.tally.add(path, "OK", "OK" in expect, what)
        return msgs

    def read_then_cancel(self, path, req, take, what):
        """Reads take messages of a stream, then cancels it: CANCELLED is the expected end."""
        it = self.stubs[path](req, timeout=60)
        try:
            for _ in range(take):
                next(it)
            it.cancel()
            next(it)
        except grpc.RpcError as e:
            self.tally.add(path, e.code().name, e.code().name == "CANCELLED", what, e.details())
            return
        except StopIteration:  # it ended before we cancelled: fine too
            pass
        self.tally.add(path, "OK", True, what)

    def raw(self, path, data, expect, what):
        try:
            stub(self.channel, path, raw=True)(data, timeout=30)
        except grpc.RpcError as e:
            self.tally.add(path, e.code().name, e.code().name in expect, what, e.details())
            return
        self.tally.add(path, "OK", "OK" in expect, what)

    def check(self, cond, path, what):
        if not cond:
            self.tally.bad_answer(path, what)

    def watch_to_end(self, job_id, what):
        """Watches a job to its final state; answers that Job, or None."""
        seen = self.read_all(JOBS + "Watch", jobs_pb2.GetJobRequest(id=job_id), timeout=180,
                             what=what)
        return seen[-1] if seen else None

    def finished_ok(self, job_id, what):
        """Watches a job to its end, then Get with its result; checks it SUCCEEDED."""
        self.watch_to_end(job_id, what)
        j = self.call(JOBS + "Get", jobs_pb2.GetJobRequest(id=job_id, include_result=True),
                      what=what)
        if j is not None:
            self.check(j.state == jobs_pb2.JOB_STATE_SUCCEEDED, JOBS + "Get",
                       "%s: state %d (%s)" % (what, j.state, j.error_message))
        return j

    # -- admin and health --

    def admin(self):
        H, A = health_pb2, admin_pb2
        self.call(HEALTH + "Check", H.HealthCheckRequest(), what="health")
        self.call(HEALTH + "Check", H.HealthCheckRequest(service="nope.v1.Nope"),
                  ("NOT_FOUND",), what="unknown service")
        self.read_then_cancel(HEALTH + "Watch", H.HealthCheckRequest(), 1, "health watch")
        self.call(ADMIN + "GetServerInfo", A.ServerInfoRequest(), what="info")
        payload = bytes(self.rng.randrange(256) for _ in range(self.rng.randrange(1, 4096)))
        r = self.call(ADMIN + "Echo", A.EchoRequest(payload=payload), what="echo")
        self.check(r is None or r.payload == payload, ADMIN + "Echo", "payload round trip")
        # RESOURCE_EXHAUSTED: another worker's delayed Echo holds the one handler thread that
        # may sleep (--threads 2; svc_admin.c take_waiter, by design)
        self.call(ADMIN + "Echo", A.EchoRequest(payload=b"slow", delay_ms=2000),
                  ("DEADLINE_EXCEEDED", "RESOURCE_EXHAUSTED"), timeout=0.2,
                  what="deadline 0.2 s, delay 2 s")
        self.call(ADMIN + "Echo", A.EchoRequest(delay_ms=60001), ("INVALID_ARGUMENT",),
                  what="delay_ms 60001")
        self.read_all(ADMIN + "EchoStream", A.EchoStreamRequest(payload=b"s", count=5,
                                                                interval_ms=1), what="5 messages")
        self.read_then_cancel(ADMIN + "EchoStream", A.EchoStreamRequest(
            payload=b"s", count=1000000, interval_ms=5), 3, "long stream, cancelled")
        self.call(ADMIN + "EchoUpload", iter(A.EchoRequest(payload=b"u" * n)
                                            for n in (0, 10, 70000)), what="upload 3")
        self.read_all(ADMIN + "EchoBidi", iter(A.EchoRequest(payload=b"%d" % i)
                                              for i in range(20)), what="bidi 20")
        self.raw(ADMIN + "Echo", GARBAGE, ("INVALID_ARGUMENT",), "garbage bytes")
        self.raw(ADMIN + "NoSuchMethod", b"", ("UNIMPLEMENTED",), "unknown method")

    # -- click models --

    def upload(self, name, bias=-1.0, nan=False, expect=OK):
        CK = click_pb2
        d = self.DIM
        hdr = CK.UploadModelHeader(name=name, n_users=self.NU, n_items=self.NI, dim=d,
                                   interaction=True, bias=bias,
                                   weights=[self.rng.gauss(0, 0.3) for _ in range(d)],
                                   user_ids=self.uids, item_ids=self.iids)
        msgs = [CK.UploadModelRequest(header=hdr)]
        for matrix, n in ((CK.UploadModelChunk.USERS, self.NU), (CK.UploadModelChunk.ITEMS,
                                                                 self.NI)):
            for at in range(0, n, 16):
                rows = f32_rows(self.rng, min(16, n - at), d)
                if nan and matrix == CK.UploadModelChunk.ITEMS:
                    rows = struct.pack("<f", float("nan")) + rows[4:]
                msgs.append(CK.UploadModelRequest(chunk=CK.UploadModelChunk(
                    matrix=matrix, row_offset=at, rows=rows)))
        return self.call(CLICK + "UploadModel", iter(msgs), expect,
                         what="upload %s%s" % (name, " with a NaN" if nan else ""))

    def stalled_upload(self):
        """An upload whose client stops sending after the header: its deadline expires."""
        CK = click_pb2
        release = threading.Event()

        def msgs():
            yield CK.UploadModelRequest(header=CK.UploadModelHeader(
                name=self.up_name, n_users=2, n_items=2, dim=1, weights=[0.0]))
            release.wait(5)

        self.call(CLICK + "UploadModel", msgs(), ("DEADLINE_EXCEEDED",), timeout=0.5,
                  what="upload stalled after the header, 0.5 s deadline")
        release.set()

    def click(self):
        CK = click_pb2
        info = self.upload(self.up_name)
        if info is None:
            return
        self.upload(self.up_name, bias=0.5)  # a second version
        self.upload("soak-w%d-bad" % self.n, nan=True, expect=("INVALID_ARGUMENT",))
        self.stalled_upload()
        users = [self.rng.choice(self.uids) for _ in range(200)]
        items = [self.rng.choice(self.iids) for _ in range(200)]
        r = self.call(CLICK + "ScorePairs", CK.ScorePairsRequest(
            model=self.up_name, user_ids=users, item_ids=items), what="200 pairs")
        self.check(r is None or (len(r.scores) == 200 and all(0 <= s <= 1 for s in r.scores)),
                   CLICK + "ScorePairs", "200 scores in [0, 1]")
        for req, code, what in (
                (CK.ScorePairsRequest(model=self.up_name, user_ids=[self.uids[0], 4],
                                      item_ids=[5, 5]), "INVALID_ARGUMENT", "unknown user id"),
                (CK.ScorePairsRequest(model=self.up_name, user_ids=[self.uids[0]],
                                      item_ids=[5, 8]), "INVALID_ARGUMENT", "lengths differ"),
                (CK.ScorePairsRequest(model="soak-nope", user_ids=[1], item_ids=[1]),
                 "NOT_FOUND", "unknown model"),
                (CK.ScorePairsRequest(model=self.up_name, version=info.version,
                                      user_ids=[self.uids[0]], item_ids=[5]),
                 "NOT_FOUND", "an old version"),
                (CK.ScorePairsRequest(model="../x", user_ids=[1], item_ids=[1]),
                 "INVALID_ARGUMENT", "bad model name")):
            self.call(CLICK + "ScorePairs", req, (code,), what=what)
        r = self.call(CLICK + "Recommend", CK.RecommendRequest(
            model=self.up_name, user_ids=self.uids[:5], k=10), what="top 10 of 5 users")
        self.check(r is None or [len(u.item_ids) for u in r.users] == [10] * 5,
                   CLICK + "Recommend", "5 lists of 10")
        self.call(CLICK + "Recommend", CK.RecommendRequest(model=self.up_name,
                                                           user_ids=self.uids[:1]),
                  ("INVALID_ARGUMENT",), what="k 0")
        self.call(CLICK + "Recommend", CK.RecommendRequest(model="soak-nope", user_ids=[1], k=3),
                  ("NOT_FOUND",), what="unknown model")
        chunks = [CK.ScorePairsRequest(model=self.up_name, user_ids=[u] * self.NI,
                                       item_ids=self.iids) for u in self.uids[:8]]
        got = self.read_all(CLICK + "ScorePairsStream", iter(chunks), what="8 chunks")
        self.check(got is None or len(got) == 8, CLICK + "ScorePairsStream", "8 answers")
        bad = chunks[:2] + [CK.ScorePairsRequest(model=self.up_name, user_ids=[self.uids[0]],
                                                 item_ids=[10 ** 12])]
        self.read_all(CLICK + "ScorePairsStream", iter(bad), ("INVALID_ARGUMENT",),
                      what="unknown item id in message 2")
        self.read_then_cancel(CLICK + "ScorePairsStream", iter(chunks * 50), 2,
                              "400 chunks, cancelled after 2 answers")
        self.recommend_all()
        self.call(CLICK + "ListModels", CK.ListModelsRequest(), what="list")
        self.train()
        d = self.call(CLICK + "DeleteModel", CK.DeleteModelRequest(name=self.up_name),
                      what="delete every version")
        self.check(d is None or d.deleted >= 1, CLICK + "DeleteModel", "deleted some versions")
        self.call(CLICK + "DeleteModel", CK.DeleteModelRequest(name=self.up_name),
                  ("NOT_FOUND",), what="delete again")
        self.call(CLICK + "ScorePairs", CK.ScorePairsRequest(
            model=self.up_name, user_ids=[self.uids[0]], item_ids=[self.iids[0]]),
            ("NOT_FOUND",), what="a deleted model")

    def recommend_all(self):
        CK = click_pb2
        t = self.call(CLICK + "RecommendAll", CK.RecommendAllRequest(model=self.up_name, k=5),
                      what="k 5")
        if t is not None and self.finished_ok(t.id, "recommend-all") is not None:
            rows = self.read_all(CLICK + "ReadRecommendations", CK.ReadRecommendationsRequest(
                job_id=t.id, offset=10, limit=3), what="3 rows")
            self.check(rows is None or len(rows) == 3, CLICK + "ReadRecommendations", "3 rows")
        self.call(CLICK + "RecommendAll", CK.RecommendAllRequest(model="soak-nope", k=3),
                  ("NOT_FOUND",), what="unknown model")
        self.read_all(CLICK + "ReadRecommendations", CK.ReadRecommendationsRequest(
            job_id="bogus"), ("INVALID_ARGUMENT",), what="bad job id")

    def train(self):
        CK = click_pb2
        users = [u for u in range(30) for _ in range(8)]
        items = [2 * self.rng.randrange(10) + (u % 2) for u in users]
        cfg = CK.TrainConfig(dim=4, epochs=2, seed=self.rng.randrange(1000))
        t = self.call(CLICK + "TrainModel", CK.TrainModelRequest(
            name=self.tr_name, user_ids=users, item_ids=items, config=cfg), what="tiny")
        if t is not None and self.finished_ok(t.id, "training") is not None:
            self.call(CLICK + "Recommend", CK.RecommendRequest(model=self.tr_name,
                                                               user_ids=[0, 1], k=3),
                      what="trained model")
            self.call(CLICK + "DeleteModel", CK.DeleteModelRequest(name=self.tr_name),
                      what="delete the trained model")
        self.call(CLICK + "TrainModel", CK.TrainModelRequest(
            name="x", user_ids=[1, 2], item_ids=[1, 2], labels=[1, 2]), ("INVALID_ARGUMENT",),
            what="labels 2")
        fv = [0.0] * 7 + [float("nan")] + [0.0] * 112
        self.call(CLICK + "TrainModel", CK.TrainModelRequest(
            name="x", user_ids=users, item_ids=items,
            item_features=CK.FeatureMatrix(rows=40, cols=3, values=fv)), ("INVALID_ARGUMENT",),
            what="NaN in item_features")

    # -- forecasting --

    def forecast(self):
        FC = forecast_pb2
        spec = FC.ForecastSpec(horizon=6, season=12)
        series = [FC.TimeSeries(id="s%d" % i, values=series_values(self.rng, 36))
                  for i in range(24)]
        series.append(FC.TimeSeries(id="hole", values=[1.0, 2.0, float("nan")] * 10))
        series.append(FC.TimeSeries(id="short", values=[1.0, 2.0]))
        r = self.call(FORECAST + "Forecast", FC.ForecastRequest(spec=spec, series=series),
                      timeout=120, what="26 series")
        if r is not None:
            st = [s.status for s in r.series]
            self.check(len(st) == 26 and st[-2:] == ["missing", "too_short"],
                       FORECAST + "Forecast", "statuses %s" % st[-3:])
        t = self.call(FORECAST + "StartForecast", FC.ForecastRequest(
            spec=FC.ForecastSpec(horizon=4), series=series[:30]), what="job of 26 series")
        if t is not None:
            self.finished_ok(t.id, "forecast job")
        self.call(FORECAST + "Forecast", FC.ForecastRequest(spec=spec, series=series),
                  ("OK", "DEADLINE_EXCEEDED"), timeout=0.05, what="26 series, 50 ms deadline")
        for req, what in ((FC.ForecastRequest(spec=FC.ForecastSpec(horizon=0),
                                              series=series[:1]), "horizon 0"),
                          (FC.ForecastRequest(spec=FC.ForecastSpec(horizon=3, levels=[50, 60, 70,
                                                                                     80, 90]),
                                              series=series[:1]), "5 levels"),
                          (FC.ForecastRequest(spec=FC.ForecastSpec(horizon=3)), "no series")):
            self.call(FORECAST + "Forecast", req, ("INVALID_ARGUMENT",), what=what)
        self.call(FORECAST + "StartForecast", FC.ForecastRequest(
            spec=FC.ForecastSpec(horizon=3), series=series[:1], priority=101),
            ("INVALID_ARGUMENT",), what="priority 101")
        item = FC.ReplenishItem(id="a", mean=[10, 10, 10], se=[2, 2, 2], on_hand=5, lead_time=2,
                                service_level=0.95, pack_size=6)
        self.call(FORECAST + "Replenish", FC.ReplenishRequest(items=[item] * 20), what="20 items")
        bad = FC.ReplenishItem(id="c", mean=[10, 10, 10], se=[2, 2, 2], lead_time=2,
                               service_level=float("nan"))
        self.call(FORECAST + "Replenish", FC.ReplenishRequest(items=[item, bad]),
                  ("INVALID_ARGUMENT",), what="NaN service level")

    # -- routing --

    def routing(self):
        RT = routing_pb2
        n = 50
        tsp = RT.RoutingProblem(metric=RT.RoutingProblem.EUC_2D,
                                x=[self.rng.uniform(0, 1e4) for _ in range(n)],
                                y=[self.rng.uniform(0, 1e4) for _ in range(n)])
        fast = RT.SolverParams(time_limit_s=0.2, seed=self.rng.randrange(1000))
        r = self.call(ROUTING + "SolveRoutes", RT.SolveRoutesRequest(problem=tsp, params=fast),
                      what="TSP 50, 0.2 s")
        self.check(r is None or sorted(r.routes[0].nodes) == list(range(1, n + 1)),
                   ROUTING + "SolveRoutes", "a tour of the 50 cities")
        m = 21
        cvrp = RT.RoutingProblem(metric=RT.RoutingProblem.EUC_2D,
                                 x=[self.rng.uniform(0, 100) for _ in range(m)],
                                 y=[self.rng.uniform(0, 100) for _ in range(m)],
                                 demand=[0] + [self.rng.randint(1, 9) for _ in range(m - 1)],
                                 capacity=25)
        r = self.call(ROUTING + "SolveRoutes", RT.SolveRoutesRequest(problem=cvrp, params=fast),
                      what="CVRP 20, 0.2 s")
        self.check(r is None or r.feasible, ROUTING + "SolveRoutes", "a feasible CVRP plan")
        t = self.call(ROUTING + "StartSolveRoutes", RT.SolveRoutesRequest(problem=tsp,
                                                                          params=fast),
                      what="TSP 50 job")
        if t is not None:
            self.finished_ok(t.id, "routing job")
        slow = RT.SolverParams(time_limit_s=5, seed=1)
        self.call(ROUTING + "SolveRoutes", RT.SolveRoutesRequest(problem=tsp, params=slow),
                  ("OK", "DEADLINE_EXCEEDED"), timeout=0.5, what="5 s limit, 0.5 s deadline")
        bad = RT.RoutingProblem(x=[0, 1, float("nan")], y=[0, 1, 2])
        self.call(ROUTING + "SolveRoutes", RT.SolveRoutesRequest(problem=bad),
                  ("INVALID_ARGUMENT",), what="NaN coordinate")
        over = RT.RoutingProblem(x=cvrp.x, y=cvrp.y, demand=[0] + [30] * (m - 1), capacity=25)
        self.call(ROUTING + "StartSolveRoutes", RT.SolveRoutesRequest(problem=over),
                  ("INVALID_ARGUMENT",), what="demand over capacity")
        self.call(ROUTING + "SolveRoutes", RT.SolveRoutesRequest(
            problem=tsp, params=RT.SolverParams(alpha=float("nan"))), ("INVALID_ARGUMENT",),
            what="NaN alpha")

    # -- jobs --

    def submit_sleep(self, ms, what):
        JS = jobs_pb2
        return self.call(JOBS + "Submit", JS.SubmitJobRequest(
            label="soak", sleep=JS.SleepJobRequest(duration_ms=ms, step_ms=10)), what=what)

    def jobs(self):
        JS = jobs_pb2
        j = self.submit_sleep(50, "sleep 50 ms")
        if j is not None:
            end = self.watch_to_end(j.id, "sleep 50 ms")
            self.check(end is None or end.state == JS.JOB_STATE_SUCCEEDED, JOBS + "Watch",
                       "the sleep succeeded")
        j = self.submit_sleep(60000, "sleep 60 s, to cancel")
        if j is not None:
            self.call(JOBS + "Cancel", JS.GetJobRequest(id=j.id), what="cancel")
            end = self.watch_to_end(j.id, "the cancelled job")
            self.check(end is None or end.state == JS.JOB_STATE_CANCELLED, JOBS + "Watch",
                       "cancelled, state %s" % (end and end.state))
            self.call(JOBS + "Cancel", JS.GetJobRequest(id=j.id), what="cancel again")
        j = self.submit_sleep(60000, "sleep 60 s, watched")
        if j is not None:
            self.read_then_cancel(JOBS + "Watch", JS.GetJobRequest(id=j.id), 2,
                                  "watch cancelled by the client")
            self.call(JOBS + "Cancel", JS.GetJobRequest(id=j.id), what="cancel")
        self.call(JOBS + "List", JS.ListJobsRequest(limit=20), what="20 newest")
        for path, req, code, what in (
                (JOBS + "Get", JS.GetJobRequest(id="../../etc"), "INVALID_ARGUMENT", "bad id"),
                (JOBS + "Get", JS.GetJobRequest(id="0" * 32), "NOT_FOUND", "unknown id"),
                (JOBS + "Cancel", JS.GetJobRequest(id="f" * 32), "NOT_FOUND", "unknown id"),
                (JOBS + "Watch", JS.GetJobRequest(id="0" * 32), "NOT_FOUND", "unknown id"),
                (JOBS + "Submit", JS.SubmitJobRequest(), "INVALID_ARGUMENT", "no request"),
                (JOBS + "Submit", JS.SubmitJobRequest(sleep=JS.SleepJobRequest(
                    duration_ms=3600001)), "INVALID_ARGUMENT", "sleep too long"),
                (JOBS + "List", JS.ListJobsRequest(limit=10001), "INVALID_ARGUMENT", "limit"),
                (JOBS + "List", JS.ListJobsRequest(kind="bogus"), "INVALID_ARGUMENT", "kind")):
            if path == JOBS + "Watch":
                self.read_all(path, req, (code,), what=what)
            else:
                self.call(path, req, (code,), what=what)

    def run(self):
        areas = [self.admin, self.click, self.forecast, self.routing, self.jobs]
        while not self.stop.is_set():
            self.rng.shuffle(areas)
            for area in areas:
                if self.stop.is_set():
                    break
                try:
                    area()
                except Exception:  # a bug here, not in the server: report it, go on
                    self.tally.bad_answer("client", traceback.format_exc(limit=3))
        self.channel.close()


# ---- the report ----

def verdict(samples, args):
    """(bounded?, the reasons) from the loaded samples."""
    loaded = [s for s in samples if s["phase"] == "load"]
    if len(loaded) < 3:
        return False, ["too few samples under load (%d)" % len(loaded)]
    third = next(s for s in loaded if s["t"] >= loaded[-1]["t"] / 3)
    warm = [s for s in loaded if s["t"] <= third["t"]]
    end = loaded[-1]
    growth = (end["rss"] - third["rss"]) / 1024
    limit = max(args.growth_pct / 100 * third["rss"] / 1024, args.growth_mib)
    why = ["RSS %.1f MiB at %.0f s (end of the warm-up) -> %.1f MiB at %.0f s: %+.1f MiB "
           "(limit %.1f MiB)" % (third["rss"] / 1024, third["t"], end["rss"] / 1024, end["t"],
                                 growth, limit)]
    ok = growth < limit
    last = [s for s in loaded if s["t"] >= 2 * end["t"] / 3]
    for key in ("fds", "threads"):  # a leak raises the floor; a passing spike does not
        most, floor = max(s[key] for s in warm), min(s[key] for s in last)
        why.append("%s: at most %d in the warm-up, at least %d in the last third (%d at the end)"
                   % (key, most, floor, end[key]))
        ok = ok and floor <= most
    return ok, why


def print_report(samples, tally, ok, why, problems):
    print("| time s | phase | RSS MiB | fds | threads | files in data dir | calls so far |")
    print("|-------:|-------|--------:|----:|--------:|------------------:|-------------:|")
    for s in samples:
        print("| %.0f | %s | %.1f | %d | %d | %d | %d |" % (
            s["t"], s["phase"], s["rss"] / 1024, s["fds"], s["threads"], s["files"],
            s["calls"]))
    print()
    print("| method | calls | status codes |")
    print("|--------|------:|--------------|")
    by_method = collections.defaultdict(dict)
    for (method, code), n in tally.codes.items():
        by_method[method][code] = n
    for method in sorted(by_method):
        codes = by_method[method]
        print("| %s | %d | %s |" % (method, sum(codes.values()),
                                    ", ".join("%s %d" % kv for kv in sorted(codes.items()))))
    print()
    for line in why:
        print("- " + line)
    for method, code, what, details in tally.unexpected[:20]:
        print("- unexpected: %s %s (%s) %s" % (method, code, what, details))
    if len(tally.unexpected) > 20:
        print("- ... %d unexpected in all" % len(tally.unexpected))
    for p in problems:
        print("- " + p)
    print()
    print("verdict: %s%s" % ("bounded" if ok else "GROWING",
                             "" if not (tally.unexpected or problems) else
                             "; FAILED: %d unexpected outcomes, %s" % (
                                 len(tally.unexpected), "; ".join(problems) or "server ok")))


def main(argv):
    args = parse_args(argv)
    import_modules(args.build)
    tmp = tempfile.mkdtemp(prefix="shopgpu-soak-")
    proc, addr = start_server(args, tmp)
    wait_healthy(addr, proc)
    print("soak: serving on %s; %d workers for %.1f min, a sample every %.0f s"
          % (addr, args.workers, args.minutes, args.sample_s), file=sys.stderr)
    tally, stop, samples, problems = Tally(), threading.Event(), [], []
    t0 = time.monotonic()

    def sample(phase):
        try:
            rss, threads, fds = read_proc(proc.pid)
        except OSError:  # it just died: the loop below says so
            return
        s = dict(t=time.monotonic() - t0, phase=phase, rss=rss, threads=threads, fds=fds,
                 files=count_files(os.path.join(tmp, "data")), calls=tally.calls)
        samples.append(s)
        print("soak: %6.0f s  RSS %.1f MiB  fds %d  threads %d  files %d  calls %d"
              % (s["t"], rss / 1024, fds, threads, s["files"], s["calls"]), file=sys.stderr,
              flush=True)

    sample("start")
    workers = [Worker(n, addr, tally, stop) for n in range(args.workers)]
    threads = [threading.Thread(target=w.run, daemon=True) for w in workers]
    for th in threads:
        th.start()
    end = t0 + args.minutes * 60
    next_at = t0 + args.sample_s
    while proc.poll() is None:
        now = time.monotonic()
        if now >= end:
            sample("load")
            break
        if now >= next_at:
            sample("load")
            next_at += args.sample_s
        time.sleep(min(0.2, max(0.0, min(next_at, end) - now)))
    stop.set()
    if proc.poll() is not None:
        problems.append("the server died during the run: exit status %d" % proc.returncode)
    for th in threads:
        th.join(timeout=240)
        if th.is_alive():
            problems.append("a client thread did not finish")
    if proc.poll() is None:
        time.sleep(2)  # let the last calls end
        sample("idle")
        proc.send_signal(signal.SIGTERM)
        try:
            rc = proc.wait(timeout=60)
            if rc != 0:
                problems.append("SIGTERM: the server exited with status %d" % rc)
        except subprocess.TimeoutExpired:
            proc.kill()
            problems.append("SIGTERM: the server did not exit within 60 s")
    with open(os.path.join(tmp, "server.log")) as f:
        log_tail = f.readlines()[-20:]
    ok, why = verdict(samples, args)
    print_report(samples, tally, ok, why, problems)
    failed = not ok or tally.unexpected or problems
    if failed and log_tail:
        print("\nserver log, last lines:\n" + "".join(log_tail), file=sys.stderr)
    if args.keep or failed:
        print("soak: kept %s" % tmp, file=sys.stderr)
    else:
        shutil.rmtree(tmp, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
