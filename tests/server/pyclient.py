#!/usr/bin/python3
"""An independent client for shopgpu-server: grpcio generic stubs over protoc's Python modules.

Usage: pyclient.py SCENARIO ADDR [METRICS_ADDR] [ARGS...]
(run by tests/server/test_python_client.c, which passes METRICS_ADDR when the server it started
has --metrics-listen; the scenarios that take it need it).

Each scenario is one function below; it prints what it checked and exits 0 when everything
held, 1 with a message naming the first thing that did not. Timing limits are generous on
purpose: CI has two slow cores and runs the server under ASan.
"""
import os
import signal
import sys
import threading
import time
import urllib.error
import urllib.request

import grpc

import health_pb2
from shopgpu.v1 import admin_pb2, jobs_pb2

ADMIN = "/shopgpu.v1.Admin/"
JOBS = "/shopgpu.v1.Jobs/"
HEALTH = "/grpc.health.v1.Health/"
SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING
GARBAGE = b"\xff\xff\xff"  # an unfinished varint: no message type parses it
C = grpc.StatusCode

# path -> (kind, request type, response type)
METHODS = {
    HEALTH + "Check": ("unary", health_pb2.HealthCheckRequest, health_pb2.HealthCheckResponse),
    HEALTH + "Watch": ("stream", health_pb2.HealthCheckRequest, health_pb2.HealthCheckResponse),
    ADMIN + "GetServerInfo": ("unary", admin_pb2.ServerInfoRequest, admin_pb2.ServerInfo),
    ADMIN + "Echo": ("unary", admin_pb2.EchoRequest, admin_pb2.EchoResponse),
    ADMIN + "EchoStream": ("stream", admin_pb2.EchoStreamRequest, admin_pb2.EchoResponse),
    ADMIN + "EchoUpload": ("upload", admin_pb2.EchoRequest, admin_pb2.EchoUploadResponse),
    ADMIN + "EchoBidi": ("bidi", admin_pb2.EchoRequest, admin_pb2.EchoResponse),
    JOBS + "Submit": ("unary", jobs_pb2.SubmitJobRequest, jobs_pb2.Job),
    JOBS + "Get": ("unary", jobs_pb2.GetJobRequest, jobs_pb2.Job),
    JOBS + "Watch": ("stream", jobs_pb2.GetJobRequest, jobs_pb2.Job),
    JOBS + "Cancel": ("unary", jobs_pb2.GetJobRequest, jobs_pb2.Job),
    JOBS + "List": ("unary", jobs_pb2.ListJobsRequest, jobs_pb2.ListJobsResponse),
}


class Failed(Exception):
    pass


TAG = "[pyclient]"  # "[pyclient SCENARIO]": tests run in parallel and their output interleaves


def log(*args):
    print(TAG, *args, flush=True)


def check(cond, what):
    if not cond:
        raise Failed(what)
    log("ok:", what)


# ---- stubs ----

class Client:
    """One channel and a callable per method; raw=True sends and receives bytes as they are."""

    def __init__(self, target, channel=None, token=None):
        self.channel = channel or grpc.insecure_channel(target)
        self.md = [("authorization", "Bearer " + token)] if token else None

    def stub(self, path, raw=False):
        kind, req, resp = METHODS.get(path, ("unary", None, None))
        ser = (lambda b: b) if raw or req is None else req.SerializeToString
        de = (lambda b: b) if raw or resp is None else resp.FromString
        make = {"unary": self.channel.unary_unary, "stream": self.channel.unary_stream,
                "upload": self.channel.stream_unary, "bidi": self.channel.stream_stream}[kind]
        return make(path, request_serializer=ser, response_deserializer=de)

    def call(self, path, req, timeout=10, raw=False, metadata=None):
        return self.stub(path, raw)(req, timeout=timeout, metadata=metadata or self.md)

    def future(self, path, req, timeout=10):
        return self.stub(path).future(req, timeout=timeout, metadata=self.md)

    def stream(self, path, req, timeout=30):
        return self.stub(path)(req, timeout=timeout, metadata=self.md)

    def check_health(self, service="", timeout=10):
        req = health_pb2.HealthCheckRequest(service=service)
        return self.call(HEALTH + "Check", req, timeout=timeout).status

    def echo(self, payload=b"x", delay_ms=0, timeout=10):
        r = admin_pb2.EchoRequest(payload=payload, delay_ms=delay_ms)
        return self.call(ADMIN + "Echo", r, timeout=timeout)

    def info(self):
        return self.call(ADMIN + "GetServerInfo", admin_pb2.ServerInfoRequest())

    def method_stats(self, path):
        for m in self.info().methods:
            if m.method == path:
                return m
        raise Failed("ServerInfo has no row for " + path)


def expect_error(fn, codes, what):
    """Runs fn(), which must raise grpc.RpcError with one of codes; returns the error."""
    codes = codes if isinstance(codes, tuple) else (codes,)
    try:
        fn()
    except grpc.RpcError as e:
        check(e.code() in codes,
              "%s -> %s (%r)" % (what, e.code().name, e.details()))
        return e
    raise Failed("%s: succeeded, wanted %s" % (what, "/".join(c.name for c in codes)))


def wait_until(cond, timeout_s, what):
    """Polls cond() until it returns a true value; returns the seconds it took."""
    t0 = time.monotonic()
    while True:
        v = cond()
        if v:
            dt = time.monotonic() - t0
            check(True, "%s (after %.2f s)" % (what, dt))
            return dt
        if time.monotonic() - t0 > timeout_s:
            raise Failed("%s: not true after %.1f s" % (what, timeout_s))
        time.sleep(0.02)


def not_ok(st):
    return st.rejected + st.failed


def wait_in_flight(cl, path, n=1, timeout_s=10):
    wait_until(lambda: cl.method_stats(path).in_flight >= n, timeout_s,
               "%s in_flight >= %d on the server" % (path, n))


# ---- /metrics ----

def http_get(url):
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, ""


def parse_metrics(text):
    """{'name{labels}': float} for every sample line."""
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            key, _, val = line.rpartition(" ")
            out[key] = float(val)
    return out


def series(samples, prefix):
    """The values of the samples whose 'name{labels' starts with prefix, in text order."""
    return [v for k, v in samples.items() if k.startswith(prefix)]


# ---- scenarios ----

def s_all_methods(addr):
    cl = Client(addr)
    check(cl.check_health("") == SERVING, 'Health/Check "" -> SERVING')
    check(cl.check_health("shopgpu.v1.Admin") == SERVING,
          'Health/Check "shopgpu.v1.Admin" -> SERVING')
    expect_error(lambda: cl.check_health("nope.v1.Nope"), C.NOT_FOUND,
                 "Health/Check of an unknown service")

    watch = cl.stream(HEALTH + "Watch", health_pb2.HealthCheckRequest(service=""))
    check(next(watch).status == SERVING, "Health/Watch: first message SERVING")
    watch.cancel()
    watch = cl.stream(HEALTH + "Watch", health_pb2.HealthCheckRequest(service="nope.v1.Nope"))
    check(next(watch).status == health_pb2.HealthCheckResponse.SERVICE_UNKNOWN,
          "Health/Watch of an unknown service: SERVICE_UNKNOWN, stream open")
    watch.cancel()

    info = cl.info()
    check(info.version != "", "ServerInfo.version %r" % info.version)
    check(info.listen == addr, "ServerInfo.listen %r == %r" % (info.listen, addr))
    check(info.backend.name in ("cpu", "cuda"), "ServerInfo.backend.name %r" % info.backend.name)
    check(info.backend.reason != "", "ServerInfo.backend.reason %r" % info.backend.reason)
    check(info.worker_threads >= 1 and info.poller_threads >= 1,
          "workers %d, pollers %d" % (info.worker_threads, info.poller_threads))
    check(info.redis == "none", "ServerInfo.redis %r" % info.redis)
    check(0 <= info.uptime_s < 600, "uptime_s %.3f" % info.uptime_s)
    check(abs(info.started_at_unix_ms / 1e3 - time.time()) < 600,
          "started_at_unix_ms %d is about now" % info.started_at_unix_ms)
    rows = sorted(m.method for m in info.methods)
    check(rows == sorted(METHODS), "ServerInfo.methods lists every method: %s" % rows)

    payload = bytes(range(256)) * 4 + b"\x00end"
    check(cl.echo(payload).payload == payload, "Echo round-trips %d bytes" % len(payload))

    msgs = list(cl.stream(ADMIN + "EchoStream",
                          admin_pb2.EchoStreamRequest(payload=b"abc", count=5, interval_ms=1)))
    check(len(msgs) == 5 and all(m.payload == b"abc" for m in msgs),
          "EchoStream count=5 -> %d messages" % len(msgs))
    empty = list(cl.stream(ADMIN + "EchoStream", admin_pb2.EchoStreamRequest(count=0)))
    check(empty == [], "EchoStream count=0 -> no message, OK")

    sizes = [0, 10, 100, 70000]
    upload = cl.stub(ADMIN + "EchoUpload")
    up = upload(iter(admin_pb2.EchoRequest(payload=b"u" * n) for n in sizes), timeout=10)
    check(up.messages == len(sizes) and up.bytes == sum(sizes),
          "EchoUpload -> messages %d, bytes %d" % (up.messages, up.bytes))
    up0 = upload(iter([]), timeout=10)
    check(up0.messages == 0 and up0.bytes == 0, "EchoUpload of nothing -> 0, 0")

    bidi = cl.stub(ADMIN + "EchoBidi")
    replies = [m.payload for m in bidi(iter(admin_pb2.EchoRequest(payload=b"%d" % i)
                                            for i in range(100)), timeout=10)]
    check(replies == [b"%d" % i for i in range(100)], "EchoBidi answers 100 messages in order")
    check(list(bidi(iter([]), timeout=10)) == [], "EchoBidi of nothing -> nothing, OK")

    def counted():
        st = cl.method_stats(ADMIN + "Echo")
        return st.ok >= 1 and st.calls >= 1 and st.in_flight == 0
    wait_until(counted, 5, "ServerInfo counts the Echo as ok")


def s_garbage(addr):
    cl = Client(addr)
    for path, (kind, req, _) in METHODS.items():
        name = req.DESCRIPTOR.full_name
        if kind == "unary":
            fn = lambda: cl.call(path, GARBAGE, raw=True)
        elif kind == "stream":
            fn = lambda: list(cl.stub(path, raw=True)(GARBAGE, timeout=10))
        elif kind == "bidi":
            fn = lambda: list(cl.stub(path, raw=True)(iter([GARBAGE]), timeout=10))
        else:
            fn = lambda: cl.stub(path, raw=True)(iter([GARBAGE]), timeout=10)
        e = expect_error(fn, C.INVALID_ARGUMENT, "%s with garbage bytes" % path)
        check(name in (e.details() or ""), "the message names %s" % name)
    # well-formed requests with values out of range: the handler's own validation
    e = expect_error(lambda: cl.echo(delay_ms=60001), C.INVALID_ARGUMENT, "Echo{delay_ms: 60001}")
    check("delay_ms" in e.details(), "the message names the field")
    bad = admin_pb2.EchoStreamRequest(count=1000001)
    e = expect_error(lambda: list(cl.stream(ADMIN + "EchoStream", bad)), C.INVALID_ARGUMENT,
                     "EchoStream{count: 1000001}")
    check("count" in e.details(), "the message names the field")
    check(cl.check_health() == SERVING, "still SERVING afterwards")


def s_unknown(addr):
    cl = Client(addr)
    for path in (ADMIN + "NoSuchMethod", "/nope.v1.Nope/Call", "/x"):
        e = expect_error(lambda: cl.call(path, b"", raw=True), C.UNIMPLEMENTED,
                         "unknown path " + path)
        check(path in (e.details() or ""), "the message names the path")
    long_path = ADMIN + "A" * 4000
    e = expect_error(lambda: cl.call(long_path, b"", raw=True), C.UNIMPLEMENTED,
                     "a 4 KB unknown path")
    n = len(e.details() or "")
    check(n < 400, "the echoed path is capped (%d chars)" % n)
    check(cl.check_health() == SERVING, "still SERVING afterwards")


def s_auth(addr, token):
    none, wrong, right = Client(addr), Client(addr, token=token + "x"), Client(addr, token=token)
    expect_error(none.info, C.UNAUTHENTICATED, "GetServerInfo without a token")
    expect_error(lambda: none.echo(b"hi"), C.UNAUTHENTICATED, "Echo without a token")
    expect_error(wrong.info, C.UNAUTHENTICATED, "GetServerInfo with a wrong token")
    expect_error(lambda: Client(addr, token=token[:-1]).info(), C.UNAUTHENTICATED,
                 "GetServerInfo with a prefix of the token")
    expect_error(lambda: none.call(ADMIN + "GetServerInfo", admin_pb2.ServerInfoRequest(),
                                   metadata=[("authorization", token)]),
                 C.UNAUTHENTICATED, "the token without 'Bearer '")
    stream_req = admin_pb2.EchoStreamRequest(count=1)
    expect_error(lambda: list(none.stream(ADMIN + "EchoStream", stream_req)),
                 C.UNAUTHENTICATED, "EchoStream without a token")
    upload = none.stub(ADMIN + "EchoUpload")
    expect_error(lambda: upload(iter([admin_pb2.EchoRequest()]), timeout=10),
                 C.UNAUTHENTICATED, "EchoUpload without a token")
    check(right.info().version != "", "GetServerInfo with the right token -> OK")
    check(right.echo(b"hi").payload == b"hi", "Echo with the right token -> OK")
    check(none.check_health() == SERVING, "Health/Check without a token -> SERVING")
    watch = none.stream(HEALTH + "Watch", health_pb2.HealthCheckRequest())
    check(next(watch).status == SERVING, "Health/Watch without a token -> SERVING")
    watch.cancel()
    st = right.method_stats(ADMIN + "GetServerInfo")
    check(st.rejected >= 4, "ServerInfo counts the refused calls as rejected (%d)" % st.rejected)


def s_oversized(addr):
    cl = Client(addr)
    big = b"\x5a" * (2 << 20)
    t0 = time.monotonic()
    e = expect_error(lambda: cl.echo(big, timeout=20), C.RESOURCE_EXHAUSTED,
                     "Echo with 2 MiB (limit 1 MiB)")
    log("details: %r after %.2f s" % (e.details(), time.monotonic() - t0))
    check(cl.echo(b"small").payload == b"small", "a small Echo on the same channel -> OK")
    msgs = [admin_pb2.EchoRequest(payload=b"a"), admin_pb2.EchoRequest(payload=big)]
    expect_error(lambda: cl.stub(ADMIN + "EchoUpload")(iter(msgs), timeout=20),
                 C.RESOURCE_EXHAUSTED, "EchoUpload whose second message is 2 MiB")
    check(Client(addr).check_health() == SERVING, "a new channel -> SERVING")
    ok = b"\x5a" * ((1 << 20) - 64)
    check(cl.echo(ok, timeout=20).payload == ok, "Echo just under 1 MiB -> OK")
    wait_until(lambda: not_ok(cl.method_stats(ADMIN + "Echo")) >= 1, 5,
               "ServerInfo counts the oversized Echo as rejected or failed")


def s_deadline(addr):
    cl = Client(addr)
    t0 = time.monotonic()
    expect_error(lambda: cl.echo(b"slow", delay_ms=3000, timeout=0.2), C.DEADLINE_EXCEEDED,
                 "Echo{delay_ms: 3000} with a 0.2 s timeout")
    dt = time.monotonic() - t0
    check(dt < 1.0, "the error came after %.2f s (< 1 s)" % dt)

    def settled():
        st = cl.method_stats(ADMIN + "Echo")
        return not_ok(st) >= 1 and st.in_flight == 0
    wait_until(settled, 3, "ServerInfo: Echo failed/rejected >= 1 and in_flight back to 0")
    st = cl.method_stats(ADMIN + "Echo")
    log("Echo stats: calls %d ok %d rejected %d failed %d in_flight %d"
        % (st.calls, st.ok, st.rejected, st.failed, st.in_flight))
    check(st.ok == 0, "no Echo counted as ok")
    check(cl.echo(b"fast").payload == b"fast", "the server still answers")


def s_concurrent(addr, n="500"):
    n = int(n)
    clients = [Client(addr) for _ in range(4)]
    t0 = time.monotonic()
    futs = [(i, clients[i % 4].future(ADMIN + "Echo", admin_pb2.EchoRequest(payload=b"%d" % i),
                                      timeout=60))
            for i in range(n)]
    bad = []
    for i, f in futs:
        try:
            if f.result().payload != b"%d" % i:
                bad.append("%d: wrong payload" % i)
        except grpc.RpcError as e:
            bad.append("%d: %s %s" % (i, e.code().name, e.details()))
    dt = time.monotonic() - t0
    check(not bad, "%d concurrent Echo calls on 4 channels all OK in %.2f s %s" % (n, dt, bad[:5]))
    wait_until(lambda: clients[0].method_stats(ADMIN + "Echo").ok >= n, 5,
               "ServerInfo counts %d ok Echo calls" % n)


def settles(cl, path, t_cancel, limit_s=2.0):
    """After a client cancel at t_cancel: the handler notices, the call ends on the server."""
    wait_until(lambda: cl.method_stats(path).in_flight == 0, limit_s + 1,
               "%s in_flight back to 0" % path)
    dt = time.monotonic() - t_cancel
    check(dt < limit_s, "%s: the server let go %.2f s after the cancel" % (path, dt))
    st = cl.method_stats(path)
    check(st.calls >= 1 and st.ok == 0, "%s counted: calls %d ok %d failed %d rejected %d"
          % (path, st.calls, st.ok, st.failed, st.rejected))


def s_cancel(addr):
    cl = Client(addr)
    req = admin_pb2.EchoStreamRequest(payload=b"s", count=1000000, interval_ms=10)
    it = cl.stream(ADMIN + "EchoStream", req, timeout=60)
    got = [next(it) for _ in range(3)]
    check(len(got) == 3, "read 3 messages of a 1,000,000-message stream")
    wait_in_flight(cl, ADMIN + "EchoStream", 1)
    it.cancel()
    t0 = time.monotonic()
    expect_error(lambda: next(it), C.CANCELLED, "the cancelled stream")
    settles(cl, ADMIN + "EchoStream", t0)

    # the same for the other kinds of call: a sleeping unary handler, a handler waiting for the
    # next uploaded message, and a Watch stream (which has no handler thread at all)
    fut = cl.future(ADMIN + "Echo", admin_pb2.EchoRequest(delay_ms=30000), timeout=60)
    wait_in_flight(cl, ADMIN + "Echo", 1)
    check(fut.cancel(), "Echo{delay_ms: 30000} cancelled by the client")
    settles(cl, ADMIN + "Echo", time.monotonic())

    release = threading.Event()

    def uploads():
        yield admin_pb2.EchoRequest(payload=b"first")
        release.wait(30)  # then stall, so the handler waits in its next receive

    fut = cl.stub(ADMIN + "EchoUpload").future(uploads(), timeout=60)
    wait_in_flight(cl, ADMIN + "EchoUpload", 1)
    time.sleep(0.1)  # let the first message reach the handler
    check(fut.cancel(), "EchoUpload stalled after one message, cancelled by the client")
    t0 = time.monotonic()
    release.set()
    settles(cl, ADMIN + "EchoUpload", t0)

    watch = cl.stream(HEALTH + "Watch", health_pb2.HealthCheckRequest())
    check(next(watch).status == SERVING, "Watch: SERVING")
    wait_in_flight(cl, HEALTH + "Watch", 1)
    watch.cancel()
    settles(cl, HEALTH + "Watch", time.monotonic())
    check(cl.check_health() == SERVING, "still SERVING afterwards")


def s_queue_full(addr, metrics_addr):
    """--threads 1 --queue-limit 1: one Echo{delay 1 s} runs, then 7 more arrive at once: one
    waits in the queue (and answers OK later), the rest are refused. The worker's state is read
    from /metrics, which does not need the (busy) worker."""
    cl = Client(addr)
    echo = admin_pb2.EchoRequest(payload=b"q", delay_ms=1000)
    first = cl.future(ADMIN + "Echo", echo, timeout=30)

    def running():
        # in_flight counts from the call's arrival, before it is queued: so ask twice, 0.2 s
        # apart, and the call is past the queue, on the worker
        for i in range(2):
            status, text = http_get("http://%s/metrics" % metrics_addr)
            m = parse_metrics(text) if status == 200 else {}
            if (m.get('shopgpu_rpc_in_flight{method="%sEcho"}' % ADMIN) != 1
                    or m.get("shopgpu_rpc_queue_depth") != 0):
                return False
            time.sleep(0.2 * (i == 0))
        return True
    wait_until(running, 10, "the first Echo runs on the only worker, the queue is empty")
    futs = [first] + [cl.future(ADMIN + "Echo", echo, timeout=30) for _ in range(7)]
    ok, busy, other = 0, [], []
    for f in futs:
        try:
            f.result()
            ok += 1
        except grpc.RpcError as e:
            (busy if e.code() == C.RESOURCE_EXHAUSTED else other).append(e.details())
    log("ok %d, RESOURCE_EXHAUSTED %d, other %s" % (ok, len(busy), other))
    check(busy, "at least one call answered RESOURCE_EXHAUSTED")
    check(all("queue" in (d or "") for d in busy), "its message mentions the queue: %r" % busy[0])
    check(not other, "every other call answered OK")
    check(ok >= 2, "%d calls answered OK: the running one and the queued one" % ok)
    st = cl.method_stats(ADMIN + "Echo")
    check(st.rejected >= len(busy), "ServerInfo counts %d rejected Echo calls" % st.rejected)

    # a call whose deadline passes while it waits in the queue is dropped, not run
    first = cl.future(ADMIN + "Echo", echo, timeout=30)
    wait_until(running, 10, "another Echo runs on the only worker")
    expect_error(lambda: cl.echo(b"late", timeout=0.3), C.DEADLINE_EXCEEDED,
                 "an Echo with a 0.3 s deadline queued behind it")
    check(first.result().payload == b"q", "the running Echo -> OK")
    wait_until(lambda: cl.method_stats(ADMIN + "Echo").in_flight == 0, 5,
               "the expired queued call ended on the server")
    st2 = cl.method_stats(ADMIN + "Echo")
    check(st2.rejected + st2.failed == st.rejected + st.failed + 1,
          "it is counted as not ok (rejected %d, failed %d)" % (st2.rejected, st2.failed))
    check(cl.echo(b"after").payload == b"after", "an Echo afterwards -> OK")


def s_sigterm_inflight(addr, pid):
    """SIGTERM (sent here) while an Echo runs: it finishes OK, Watch sees NOT_SERVING, then
    UNAVAILABLE, and new calls are refused. The C side checks the exit status."""
    pid = int(pid)
    cl, watcher = Client(addr), Client(addr)
    watch = watcher.stream(HEALTH + "Watch", health_pb2.HealthCheckRequest(), timeout=30)
    check(next(watch).status == SERVING, "Watch: SERVING before the signal")
    t0 = time.monotonic()
    fut = cl.future(ADMIN + "Echo", admin_pb2.EchoRequest(payload=b"inflight", delay_ms=1500), 10)
    wait_in_flight(Client(addr), ADMIN + "Echo", 1)
    os.kill(pid, signal.SIGTERM)
    t_sig = time.monotonic()
    log("SIGTERM sent %.2f s after the Echo started" % (t_sig - t0))
    check(next(watch).status == NOT_SERVING, "Watch: NOT_SERVING after the signal")
    expect_error(lambda: next(watch), C.UNAVAILABLE, "Watch stream end")
    time.sleep(0.2)  # the main thread goes from ending watches to closing the listener
    expect_error(lambda: Client(addr).check_health(), C.UNAVAILABLE, "a new call on a new channel")
    expect_error(lambda: watcher.echo(b"late"), C.UNAVAILABLE, "a new call on an open channel")
    check(fut.result().payload == b"inflight", "the in-flight Echo finished OK")
    dt = time.monotonic() - t0
    check(1.4 < dt < 6, "it took %.2f s (delay 1.5 s)" % dt)


def s_sigterm_grace(addr, pid):
    """SIGTERM with --shutdown-grace 0.5 while a 5 s Echo, a long EchoStream and a stalled
    EchoUpload run: all are cut short soon after the grace period. The C side checks exit 0."""
    pid = int(pid)
    cl, probe = Client(addr), Client(addr)
    echo = cl.future(ADMIN + "Echo", admin_pb2.EchoRequest(payload=b"long", delay_ms=5000), 20)
    stream = cl.stream(ADMIN + "EchoStream",
                       admin_pb2.EchoStreamRequest(count=100000, interval_ms=10), timeout=20)
    next(stream)
    release = threading.Event()

    def uploads():
        yield admin_pb2.EchoRequest(payload=b"first")
        release.wait(20)

    upload = cl.stub(ADMIN + "EchoUpload").future(uploads(), timeout=20)
    for path in ("Echo", "EchoStream", "EchoUpload"):
        wait_in_flight(probe, ADMIN + path, 1)
    os.kill(pid, signal.SIGTERM)
    t0 = time.monotonic()
    cut = (C.CANCELLED, C.UNAVAILABLE)
    expect_error(echo.result, cut, "the 5 s Echo after SIGTERM")
    dt = time.monotonic() - t0
    check(dt < 3.5, "it ended %.2f s after the signal (grace 0.5 s, delay 5 s)" % dt)
    expect_error(lambda: [m for m in stream], cut, "the long EchoStream after SIGTERM")
    expect_error(upload.result, cut, "the stalled EchoUpload after SIGTERM")
    release.set()
    dt = time.monotonic() - t0
    check(dt < 3.5, "all three ended within %.2f s of the signal" % dt)


def s_tls(addr, cert):
    with open(cert, "rb") as f:
        creds = grpc.ssl_channel_credentials(root_certificates=f.read())
    ch = grpc.secure_channel(addr, creds, options=[("grpc.ssl_target_name_override", "localhost")])
    cl = Client(addr, channel=ch)
    check(cl.check_health() == SERVING, "TLS: Health/Check -> SERVING")
    check(cl.echo(b"secret").payload == b"secret", "TLS: Echo round-trips")
    check(cl.info().listen == addr, "TLS: GetServerInfo -> OK")
    expect_error(lambda: Client(addr).check_health(timeout=5), C.UNAVAILABLE,
                 "a plaintext channel to the TLS server")
    check(cl.echo(b"again").payload == b"again", "TLS channel still works")


def s_unix(addr):
    check(addr.startswith("unix:"), "address %s is a unix socket" % addr)
    cl = Client(addr)
    check(cl.check_health() == SERVING, "unix: Health/Check -> SERVING")
    check(cl.echo(b"local").payload == b"local", "unix: Echo round-trips")
    check(cl.info().listen == addr, "unix: GetServerInfo.listen == %s" % addr)
    msgs = list(cl.stream(ADMIN + "EchoStream", admin_pb2.EchoStreamRequest(count=3)))
    check(len(msgs) == 3, "unix: EchoStream -> 3 messages")


def s_metrics(addr, metrics_addr, n_ok="7"):
    n_ok = int(n_ok)
    cl = Client(addr)
    for i in range(n_ok):
        cl.echo(b"m%d" % i)
    expect_error(lambda: cl.call(ADMIN + "Echo", GARBAGE, raw=True), C.INVALID_ARGUMENT,
                 "a garbage Echo")
    cl.check_health()
    cl.info()
    base = "http://%s" % metrics_addr
    echo = 'method="%sEcho"' % ADMIN
    want = {
        'shopgpu_rpc_calls_total{method="%sCheck",code="OK"}' % HEALTH: 1,
        'shopgpu_rpc_calls_total{method="%sGetServerInfo",code="OK"}' % ADMIN: 1,
        "shopgpu_rpc_calls_total{%s,code=\"OK\"}" % echo: n_ok,
        "shopgpu_rpc_calls_total{%s,code=\"INVALID_ARGUMENT\"}" % echo: 1,
        "shopgpu_rpc_rejected_total{%s,code=\"INVALID_ARGUMENT\"}" % echo: 1,
        "shopgpu_rpc_latency_seconds_count{%s}" % echo: n_ok + 1,
    }
    samples = {}

    def matches():
        nonlocal samples
        status, text = http_get(base + "/metrics")
        samples = parse_metrics(text) if status == 200 else {}
        return all(samples.get(k) == v for k, v in want.items())
    try:
        wait_until(matches, 5, "GET /metrics has the expected counters: %s" % want)
    except Failed:
        raise Failed("metrics mismatch: %s" % {k: samples.get(k) for k in want})
    check(samples.get("shopgpu_rpc_in_flight{%s}" % echo) == 0, "in_flight{Echo} 0")
    check(any(k.startswith("shopgpu_backend_info{") for k in samples),
          "shopgpu_backend_info is there")

    # every method's histogram: cumulative buckets, +Inf == _count == sum of calls_total
    for path in METHODS:
        lab = 'method="%s"' % path
        buckets = series(samples, "shopgpu_rpc_latency_seconds_bucket{%s," % lab)
        inf = samples.get('shopgpu_rpc_latency_seconds_bucket{%s,le="+Inf"}' % lab)
        count = samples.get("shopgpu_rpc_latency_seconds_count{%s}" % lab)
        calls = sum(series(samples, "shopgpu_rpc_calls_total{%s," % lab))
        cumulative = buckets == sorted(buckets)
        check(buckets and cumulative and inf == buckets[-1] and inf == count == calls,
              "%s: %d buckets cumulative, +Inf %s == _count %s == calls %s"
              % (path, len(buckets), inf, count, calls))
    status, _ = http_get(base + "/nope")
    check(status == 404, "GET /nope -> %d" % status)


# ---- jobs ----

JS = jobs_pb2


def submit_sleep(cl, ms, step_ms=10, priority=0, label=""):
    req = JS.SubmitJobRequest(priority=priority, label=label,
                              sleep=JS.SleepJobRequest(duration_ms=ms, step_ms=step_ms))
    return cl.call(JOBS + "Submit", req)


def get_job(cl, job_id, include_result=False):
    return cl.call(JOBS + "Get", JS.GetJobRequest(id=job_id, include_result=include_result))


def s_jobs(addr):
    """Submit, Watch to the end, Get with the result, List, Cancel, and bad requests."""
    cl = Client(addr)
    j = submit_sleep(cl, 300, step_ms=20, label="first")
    check(len(j.id) == 32 and j.kind == "sleep", "Submit answers an id and the kind: %r" % j.id)
    check(j.state in (JS.JOB_STATE_QUEUED, JS.JOB_STATE_RUNNING), "state %d" % j.state)
    seen = list(cl.stream(JOBS + "Watch", JS.GetJobRequest(id=j.id), timeout=30))
    check(seen and seen[-1].state == JS.JOB_STATE_SUCCEEDED,
          "Watch ends with SUCCEEDED (%d updates)" % len(seen))
    dones = [u.progress.done for u in seen]
    check(dones == sorted(dones) and dones[-1] == 300 and seen[-1].progress.total == 300,
          "progress rises to 300/300 ms: %s" % dones)
    check(seen[-1].progress.unit == "ms", "progress unit %r" % seen[-1].progress.unit)
    got = get_job(cl, j.id, include_result=True)
    check(got.WhichOneof("result") == "sleep" and got.sleep.steps == 15,
          "Get includes the result: %d steps of 20 ms" % got.sleep.steps)
    check(got.finished_at_unix_ms >= got.started_at_unix_ms >= got.created_at_unix_ms > 0,
          "times are ordered")
    check(get_job(cl, j.id).WhichOneof("result") is None, "no result unless asked")
    long = submit_sleep(cl, 60000, step_ms=10, label="long")
    wait_until(lambda: get_job(cl, long.id).state == JS.JOB_STATE_RUNNING, 10, "long job runs")
    t0 = time.monotonic()
    cl.call(JOBS + "Cancel", JS.GetJobRequest(id=long.id))
    wait_until(lambda: get_job(cl, long.id).state == JS.JOB_STATE_CANCELLED, 5,
               "the running job is cancelled at a step boundary")
    check(time.monotonic() - t0 < 2, "cancel took %.2f s" % (time.monotonic() - t0))
    c = get_job(cl, long.id)
    check(c.error_code == C.CANCELLED.value[0], "error_code %d is CANCELLED" % c.error_code)
    lst = cl.call(JOBS + "List", JS.ListJobsRequest())
    check([x.id for x in lst.jobs[:2]] == [long.id, j.id], "List is newest first")
    only = cl.call(JOBS + "List", JS.ListJobsRequest(state=JS.JOB_STATE_SUCCEEDED))
    check([x.id for x in only.jobs] == [j.id], "List filters by state")
    check(len(cl.call(JOBS + "List", JS.ListJobsRequest(limit=1)).jobs) == 1, "List limit")
    bad = [(JS.GetJobRequest(id="../../etc"), C.INVALID_ARGUMENT, "id"),
           (JS.GetJobRequest(id="0" * 32), C.NOT_FOUND, "no job")]
    for req, code, word in bad:
        e = expect_error(lambda: cl.call(JOBS + "Get", req), code, "Get %r" % req.id)
        check(word in e.details(), "message %r names %r" % (e.details(), word))
    for req, word in [(JS.SubmitJobRequest(), "request"),
                      (JS.SubmitJobRequest(priority=101, sleep=JS.SleepJobRequest()), "priority"),
                      (JS.SubmitJobRequest(sleep=JS.SleepJobRequest(duration_ms=3600001)),
                       "sleep.duration_ms")]:
        e = expect_error(lambda: cl.call(JOBS + "Submit", req), C.INVALID_ARGUMENT, "Submit")
        check(word in e.details(), "message %r names %r" % (e.details(), word))
    e = expect_error(lambda: cl.call(JOBS + "List", JS.ListJobsRequest(limit=10001)),
                     C.INVALID_ARGUMENT, "List limit 10001")


def s_jobs_priority(addr):
    """One cpu worker: a running job, then low and high priority jobs queued: high runs first."""
    cl = Client(addr)
    first = submit_sleep(cl, 400)
    wait_until(lambda: get_job(cl, first.id).state == JS.JOB_STATE_RUNNING, 10, "first runs")
    low = submit_sleep(cl, 50, priority=-50)
    high = submit_sleep(cl, 50, priority=50)
    for x in (low, high):
        wait_until(lambda: get_job(cl, x.id).state == JS.JOB_STATE_SUCCEEDED, 20, "jobs finish")
    lo, hi = get_job(cl, low.id), get_job(cl, high.id)
    check(hi.started_at_unix_ms <= lo.started_at_unix_ms,
          "high priority started first (%d vs %d)" % (hi.started_at_unix_ms, lo.started_at_unix_ms))


def s_jobs_restart_before(addr, state_file):
    """Leaves one finished and one running job, and writes their ids to state_file."""
    cl = Client(addr)
    done = submit_sleep(cl, 50)
    wait_until(lambda: get_job(cl, done.id).state == JS.JOB_STATE_SUCCEEDED, 10, "short job ends")
    running = submit_sleep(cl, 600000, step_ms=20)
    wait_until(lambda: get_job(cl, running.id).state == JS.JOB_STATE_RUNNING, 10, "long job runs")
    with open(state_file, "w") as f:
        f.write("%s %s\n" % (done.id, running.id))


def s_jobs_restart_after(addr, state_file):
    """After a restart on the same data dir: the finished job and its result are there, the
    running one is FAILED saying the server stopped."""
    cl = Client(addr)
    done_id, running_id = open(state_file).read().split()
    d = get_job(cl, done_id, include_result=True)
    check(d.state == JS.JOB_STATE_SUCCEEDED and d.WhichOneof("result") == "sleep",
          "the finished job and its result survived")
    r = get_job(cl, running_id)
    check(r.state == JS.JOB_STATE_FAILED, "the running job is FAILED (state %d)" % r.state)
    check("server stopped while the job was running" in r.error_message, r.error_message)
    check(r.error_code == C.UNAVAILABLE.value[0], "error_code %d" % r.error_code)
    ids = [x.id for x in cl.call(JOBS + "List", JS.ListJobsRequest()).jobs]
    check(ids == [running_id, done_id], "List after restart: %s" % ids)


SCENARIOS = {
    "all_methods": s_all_methods,
    "garbage": s_garbage,
    "unknown": s_unknown,
    "auth": s_auth,
    "oversized": s_oversized,
    "deadline": s_deadline,
    "concurrent": s_concurrent,
    "cancel": s_cancel,
    "queue_full": s_queue_full,
    "sigterm_inflight": s_sigterm_inflight,
    "sigterm_grace": s_sigterm_grace,
    "tls": s_tls,
    "unix": s_unix,
    "metrics": s_metrics,
    "jobs": s_jobs,
    "jobs_priority": s_jobs_priority,
    "jobs_restart_before": s_jobs_restart_before,
    "jobs_restart_after": s_jobs_restart_after,
}


def main(argv):
    if len(argv) < 3 or argv[1] not in SCENARIOS:
        print("usage: pyclient.py {%s} ADDR [METRICS_ADDR] [ARGS...]" % ",".join(SCENARIOS),
              file=sys.stderr)
        return 2
    global TAG
    name = argv[1]
    TAG = "[pyclient %s]" % name
    log("start:", " ".join(argv[2:]))
    t0 = time.monotonic()
    try:
        SCENARIOS[name](*argv[2:])
    except Failed as e:
        log("FAILED:", e)
        return 1
    except grpc.RpcError as e:
        log("FAILED: unexpected %s %r" % (e.code().name, e.details()))
        return 1
    log("passed in %.2f s" % (time.monotonic() - t0))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
