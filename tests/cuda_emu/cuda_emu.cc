// CUDA emulator, runtime side: the CUDA runtime and cuBLAS calls that kernels/ makes, over host
// memory, and the fiber scheduler that runs a kernel's threads. See cuda_emu.h for what it is
// for and what it cannot find. One emulated device (number 0) of SG_CUDA_EMU_MEM_MB MiB
// (default 4096), compute capability 9.0.
//
// Streams queue their work (kernels, copies, memsets, frees, GEMMs) and run it, in order, on the
// host thread that synchronises with them, as a device runs it after the call returned. Copies
// follow CUDA's rules for pageable memory: host-to-device takes its snapshot when called,
// device-to-host waits for the stream; with pinned memory (cudaMallocHost) both are queued, so a
// host that reuses a pinned buffer too early sees wrong data here as it would on a GPU.
// Anything a device would fault on, or that CUDA calls undefined, stops the process with a
// message that names the kernel, the block and the thread.
#include "cuda_emu.h"

#include <atomic>
#include <cblas.h>
#include <cublas_v2.h>
#include <deque>
#include <errno.h>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string>
#include <sys/mman.h>
#include <thread>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>
#include <vector>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#define SG_EMU_ASAN 1
#else
#define SG_EMU_ASAN 0
#endif

namespace sg_emu {

[[noreturn]] static void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void fatal(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("cuda-emu: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  abort();
}

// ---- memory -----------------------------------------------------------------------------------

struct region {
  size_t size;
  bool pinned; // cudaMallocHost: host memory the device may read and copies may queue on
};

static std::mutex mem_mu;
static std::map<uintptr_t, region> regions;
static size_t dev_used;

static size_t capacity() {
  static size_t cap = [] {
    const char *e = getenv("SG_CUDA_EMU_MEM_MB");
    long mb = e ? atol(e) : 4096;
    return (size_t)(mb > 0 ? mb : 4096) << 20;
  }();
  return cap;
}

// The region holding [p, p + n) (n may be 0: p may be one past the end); false when none.
static bool lookup(const void *p, size_t n, region *out) {
  std::lock_guard<std::mutex> g(mem_mu);
  uintptr_t a = (uintptr_t)p;
  auto it = regions.upper_bound(a);
  if (it == regions.begin()) return false;
  --it;
  if (a < it->first || a + n > it->first + it->second.size) return false;
  if (out) *out = it->second;
  return true;
}

static bool is_device(const void *p, size_t n) {
  region r;
  return lookup(p, n, &r) && !r.pinned;
}

static bool is_pinned(const void *p, size_t n) {
  region r;
  return lookup(p, n, &r) && r.pinned;
}

static cudaError_t alloc(void **out, size_t size, bool pinned) {
  if (!out) return cudaErrorInvalidValue;
  *out = NULL;
  size_t n = size ? size : 1;
  {
    std::lock_guard<std::mutex> g(mem_mu);
    if (!pinned && n > capacity() - dev_used) return cudaErrorMemoryAllocation;
    if (!pinned) dev_used += n;
  }
  void *p = NULL;
  if (posix_memalign(&p, 256, n) != 0) {
    std::lock_guard<std::mutex> g(mem_mu);
    if (!pinned) dev_used -= n;
    return cudaErrorMemoryAllocation;
  }
  memset(p, 0xa5, n); // device memory starts as garbage, not zeros
  std::lock_guard<std::mutex> g(mem_mu);
  regions[(uintptr_t)p] = region{n, pinned};
  *out = p;
  return cudaSuccess;
}

static cudaError_t release(void *p, bool pinned, const char *call) {
  if (!p) return cudaSuccess;
  {
    std::lock_guard<std::mutex> g(mem_mu);
    auto it = regions.find((uintptr_t)p);
    if (it == regions.end() || it->second.pinned != pinned)
      fatal("%s(%p): not a pointer that %s returned", call, p,
            pinned ? "cudaMallocHost" : "cudaMalloc/cudaMallocAsync");
    if (!pinned) dev_used -= it->second.size;
    regions.erase(it);
  }
  free(p);
  return cudaSuccess;
}

// ---- errors -----------------------------------------------------------------------------------

static thread_local cudaError_t last_error = cudaSuccess;

static cudaError_t note(cudaError_t e) {
  if (e != cudaSuccess) last_error = e;
  return e;
}

// SG_CUDA_EMU_FAULT_AT_LAUNCH=N: the process's Nth kernel launch faults as an illegal address
// would. The error is sticky, as a device context is lost: every later call returns it, and
// queued work no longer runs (frees still do, so the host's memory is not leaked).
static std::atomic<int> sticky(cudaSuccess);

static cudaError_t fault() { return (cudaError_t)sticky.load(); }

// ---- streams and events -----------------------------------------------------------------------

struct stream {
  std::mutex run_mu; // held while its queue runs
  std::mutex q_mu;
  std::deque<std::pair<std::function<void()>, bool>> q; // (work, runs even after a fault)
  uint64_t queued = 0, done = 0;
};

static stream legacy;
static std::mutex streams_mu;
static std::set<stream *> streams = {&legacy};

static stream *of(cudaStream_t s) {
  if (!s) return &legacy;
  stream *st = (stream *)s;
  std::lock_guard<std::mutex> g(streams_mu);
  if (!streams.count(st)) fatal("stream %p is not a live stream", (void *)s);
  return st;
}

static void enqueue(stream *s, std::function<void()> fn, bool always = false) {
  std::lock_guard<std::mutex> g(s->q_mu);
  s->q.push_back(std::make_pair(std::move(fn), always));
  s->queued++;
}

// Runs the stream's work up to item `upto` (all of it with UINT64_MAX).
static void drain(stream *s, uint64_t upto = UINT64_MAX) {
  std::lock_guard<std::mutex> r(s->run_mu);
  for (;;) {
    std::pair<std::function<void()>, bool> item;
    {
      std::lock_guard<std::mutex> g(s->q_mu);
      if (s->q.empty() || s->done >= upto) return;
      item = std::move(s->q.front());
      s->q.pop_front();
    }
    if (item.second || !fault()) item.first();
    std::lock_guard<std::mutex> g(s->q_mu);
    s->done++;
  }
}

// Runs every stream's work. Holds streams_mu throughout, so that no stream is destroyed under
// it (cudaStreamDestroy drains its stream first, then takes streams_mu: no lock order cycle).
static void drain_all() {
  std::lock_guard<std::mutex> g(streams_mu);
  for (stream *s : streams)
    drain(s);
}

struct event {
  stream *s = nullptr;
  uint64_t seq = 0;
  std::atomic<double> at{0}; // host seconds when the stream reached the record
};

static double host_seconds() {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

// ---- fibers -----------------------------------------------------------------------------------

enum lane_state { RUNNABLE, WAITING, DONE };

// A fiber's saved context. On x86-64 a stack pointer and sg_emu_swap (below: callee-saved
// registers, MXCSR and the x87 control word, no system call); elsewhere ucontext, whose
// swapcontext makes a system call per switch and runs the tests several times slower.
#if defined(__x86_64__)
struct fiber_ctx {
  void *sp;
};
extern "C" void sg_emu_swap(void **save_sp, void *load_sp);
__asm__(".text\n"
        ".p2align 4\n"
        ".hidden sg_emu_swap\n"
        ".globl sg_emu_swap\n"
        ".type sg_emu_swap,@function\n"
        "sg_emu_swap:\n"
        "  pushq %rbp\n"
        "  pushq %rbx\n"
        "  pushq %r12\n"
        "  pushq %r13\n"
        "  pushq %r14\n"
        "  pushq %r15\n"
        "  subq $8, %rsp\n"
        "  stmxcsr (%rsp)\n"
        "  fnstcw 4(%rsp)\n"
        "  movq %rsp, (%rdi)\n"
        "  movq %rsi, %rsp\n"
        "  ldmxcsr (%rsp)\n"
        "  fldcw 4(%rsp)\n"
        "  addq $8, %rsp\n"
        "  popq %r15\n"
        "  popq %r14\n"
        "  popq %r13\n"
        "  popq %r12\n"
        "  popq %rbx\n"
        "  popq %rbp\n"
        "  ret\n"
        ".size sg_emu_swap,.-sg_emu_swap\n");
static void ctx_swap(fiber_ctx *save, fiber_ctx *load) { sg_emu_swap(&save->sp, load->sp); }
// A new context that starts in entry() on [stack, stack + size).
static void ctx_start(fiber_ctx *c, char *stack, size_t size, void (*entry)()) {
  uintptr_t top = ((uintptr_t)stack + size) & ~(uintptr_t)15;
  uint64_t *sp = (uint64_t *)(top - 72);
  sp[0] = 0x1f80u | (uint64_t)0x037fu << 32; // MXCSR, x87 control word: the defaults
  for (int i = 1; i <= 6; i++)
    sp[i] = 0;                        // r15 r14 r13 r12 rbx rbp
  sp[7] = (uint64_t)(uintptr_t)entry; // "returned" to: entered with rsp = 8 mod 16, as by a call
  sp[8] = 0;                          // entry's return address: it never returns
  c->sp = sp;
}
#else
struct fiber_ctx {
  ucontext_t uc;
};
static void ctx_swap(fiber_ctx *save, fiber_ctx *load) { swapcontext(&save->uc, &load->uc); }
__attribute__((noinline)) static void ctx_start(fiber_ctx *c, char *stack, size_t size,
                                                void (*entry)()) {
  if (getcontext(&c->uc) != 0) fatal("getcontext failed");
  c->uc.uc_stack.ss_sp = stack;
  c->uc.uc_stack.ss_size = size;
  c->uc.uc_link = NULL;
  makecontext(&c->uc, entry, 0);
}
#endif

struct lane {
  fiber_ctx ctx;
  char *stack;
  lane_state state;
  op_kind op;
  unsigned mask;
  uint64_t value, result;
  int arg, width;
  coords c;
  void *fake_stack;
  uint64_t ns; // time run so far (SG_CUDA_EMU_PROFILE)
};

static const size_t STACK_BYTES = (size_t)1 << 20; // per thread; a guard page below it
static const size_t PAGE = 4096;
static const size_t STACK_TOP = 16384; // unpoisoned before a stack is reused

struct runner {
  fiber_ctx sched;
  lane *cur = nullptr;
  const std::function<void()> *body = nullptr;
  void *shared = nullptr;
  const char *name = "";
  std::vector<char *> stacks; // taken from the pool for one launch
  void *sched_fake = nullptr;
  const void *sched_bottom = nullptr;
  size_t sched_size = 0;
};

static thread_local runner R;

const coords &here() {
  if (!R.cur) fatal("threadIdx/blockIdx read outside a kernel");
  return R.cur->c;
}

void *dyn_shared() {
  if (!R.cur) fatal("shared memory used outside a kernel");
  return R.shared;
}

[[noreturn]] static void lane_fatal(const lane *l, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void lane_fatal(const lane *l, const char *fmt, ...) {
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  fatal("kernel %s, block (%u,%u,%u), thread (%u,%u,%u): %s", R.name, l->c.block.x, l->c.block.y,
        l->c.block.z, l->c.thread.x, l->c.thread.y, l->c.thread.z, msg);
}

// Fiber stacks outlive launches and threads: mapped once, kept in a pool.
static std::mutex pool_mu;
static std::vector<char *> pool;

static char *stack_at(size_t i) {
  while (R.stacks.size() <= i) {
    char *st = nullptr;
    {
      std::lock_guard<std::mutex> g(pool_mu);
      if (!pool.empty()) {
        st = pool.back();
        pool.pop_back();
      }
    }
    if (!st) {
      void *m = mmap(NULL, STACK_BYTES + PAGE, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
      if (m == MAP_FAILED) fatal("fiber stack: mmap failed (errno %d)", errno);
      if (mprotect(m, PAGE, PROT_NONE) != 0) fatal("fiber stack: mprotect failed");
      st = (char *)m + PAGE;
    }
    R.stacks.push_back(st);
  }
  return R.stacks[i];
}

static void stacks_back() {
  std::lock_guard<std::mutex> g(pool_mu);
  pool.insert(pool.end(), R.stacks.begin(), R.stacks.end());
  R.stacks.clear();
}

// scheduler -> lane
static void switch_in(lane *l) {
  R.cur = l;
#if SG_EMU_ASAN
  __sanitizer_start_switch_fiber(&R.sched_fake, l->stack, STACK_BYTES);
#endif
  ctx_swap(&R.sched, &l->ctx);
#if SG_EMU_ASAN
  __sanitizer_finish_switch_fiber(R.sched_fake, NULL, NULL);
#endif
  R.cur = nullptr;
}

// lane -> scheduler (for good when the lane is done)
static void switch_out(lane *l) {
#if SG_EMU_ASAN
  __sanitizer_start_switch_fiber(l->state == DONE ? NULL : &l->fake_stack, R.sched_bottom,
                                 R.sched_size);
#endif
  ctx_swap(&l->ctx, &R.sched);
#if SG_EMU_ASAN
  __sanitizer_finish_switch_fiber(l->fake_stack, &R.sched_bottom, &R.sched_size);
#endif
}

static void fiber_main() {
  lane *l = R.cur;
#if SG_EMU_ASAN
  __sanitizer_finish_switch_fiber(NULL, &R.sched_bottom, &R.sched_size);
#endif
  (*R.body)();
  l->state = DONE;
  switch_out(l);
  fatal("a finished thread was resumed");
}

uint64_t collective(op_kind op, unsigned mask, uint64_t value, int arg, int width) {
  lane *l = R.cur;
  if (!l) fatal("warp collective called outside a kernel");
  l->state = WAITING;
  l->op = op;
  l->mask = mask;
  l->value = value;
  l->arg = arg;
  l->width = width;
  switch_out(l);
  return l->result;
}

static const char *op_name(op_kind op) {
  static const char *names[] = {"__syncwarp",       "__ballot_sync",   "__any_sync",
                                "__all_sync",       "__shfl_sync",     "__shfl_up_sync",
                                "__shfl_down_sync", "__shfl_xor_sync", "__syncthreads"};
  return names[op];
}

// Completes the warp collective lane `l` waits in, when every lane of its mask waits in it.
// Returns true when it released the group.
static bool resolve_warp(std::vector<lane> &lanes, size_t idx) {
  lane *l = &lanes[idx];
  size_t w0 = idx / 32 * 32;
  unsigned me = (unsigned)(idx - w0);
  if (!(l->mask >> me & 1u))
    lane_fatal(l, "%s with mask 0x%08x, which leaves out the calling lane %u", op_name(l->op),
               l->mask, me);
  lane *member[32] = {};
  for (unsigned b = 0; b < 32; b++) {
    if (!(l->mask >> b & 1u)) continue;
    if (w0 + b >= lanes.size())
      lane_fatal(l,
                 "%s with mask 0x%08x names lane %u, which the block (of %zu threads) does "
                 "not have",
                 op_name(l->op), l->mask, b, lanes.size());
    lane *o = &lanes[w0 + b];
    if (o->state == DONE)
      lane_fatal(l, "%s with mask 0x%08x, but lane %u of the warp has exited", op_name(l->op),
                 l->mask, b);
    if (o->state != WAITING) return false;
    if (o->op != l->op || o->mask != l->mask)
      lane_fatal(l, "lane %u waits in %s (mask 0x%08x) while lane %u waits in %s (mask 0x%08x)", me,
                 op_name(l->op), l->mask, b, op_name(o->op), o->mask);
    member[b] = o;
  }
  uint64_t ballot = 0;
  for (unsigned b = 0; b < 32; b++)
    if (member[b] && member[b]->value) ballot |= 1ull << b;
  for (unsigned b = 0; b < 32; b++) {
    lane *o = member[b];
    if (!o) continue;
    switch (o->op) {
    case OP_SYNCWARP: o->result = 0; break;
    case OP_BALLOT: o->result = ballot; break;
    case OP_ANY: o->result = ballot != 0; break;
    case OP_ALL: o->result = ballot == o->mask; break;
    default: {
      int w = o->width;
      if (w < 1 || w > 32 || (w & (w - 1)))
        lane_fatal(o, "%s width %d is not a power of two up to 32", op_name(o->op), w);
      int lo = (int)b & ~(w - 1), src = (int)b;
      if (o->op == OP_SHFL) src = lo + (o->arg % w + w) % w;
      if (o->op == OP_SHFL_UP) src = (int)b - o->arg >= lo ? (int)b - o->arg : (int)b;
      if (o->op == OP_SHFL_DOWN) src = (int)b + o->arg < lo + w ? (int)b + o->arg : (int)b;
      if (o->op == OP_SHFL_XOR) {
        src = (int)b ^ o->arg;
        if (src < 0 || src >= lo + w) src = (int)b;
      }
      if (src < 0 || src > 31 || !member[src])
        lane_fatal(o, "%s reads lane %d, which is not in the mask 0x%08x (undefined)",
                   op_name(o->op), src, o->mask);
      o->result = member[src]->value;
    }
    }
  }
  for (unsigned b = 0; b < 32; b++)
    if (member[b]) member[b]->state = RUNNABLE;
  return true;
}

// ---- SG_CUDA_EMU_PROFILE=1: how evenly the lanes of each warp share the work ----
// A device runs a warp's 32 lanes in lockstep: the warp takes as long as its slowest lane (more,
// when lanes branch apart, since a device runs both sides of a branch one after the other). Here
// each lane runs alone, so its own run time is measured; per kernel, at exit, the profile prints
// the lanes' total time over 32 x the slowest lane's, summed over warps: the share of a warp's
// lane slots doing work. It is an upper bound of the SIMT efficiency (branches that reconverge
// are not counted) and a host's times, not a device's: use it to compare two ways of mapping
// work onto threads, not as a speed.
static bool profiling() {
  static bool on = [] {
    const char *e = getenv("SG_CUDA_EMU_PROFILE");
    return e && *e && strcmp(e, "0") != 0;
  }();
  return on;
}

// the host thread's CPU time: a lane the host OS preempted is not counted slow
static uint64_t now_ns() {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

struct kernel_profile {
  long blocks = 0, warps = 0, lanes = 0;
  double lane_s = 0, warp_s = 0; // sum of lane times; sum over warps of 32 x the slowest lane
  double max_lane_s = 0;
};
static std::mutex profile_mu;
static std::map<std::string, kernel_profile> *profiles;

static void print_profile() {
  std::lock_guard<std::mutex> g(profile_mu);
  if (!profiles) return;
  fprintf(stderr, "cuda-emu profile (lane time / 32 x slowest lane per warp; host times):\n");
  fprintf(stderr, "  %-28s %8s %10s %10s %12s %14s %9s\n", "kernel", "blocks", "warps", "lanes",
          "lane time s", "slowest lane s", "balance");
  for (auto &kv : *profiles) {
    const kernel_profile &k = kv.second;
    fprintf(stderr, "  %-28s %8ld %10ld %10ld %12.3f %14.6f %8.1f%%\n", kv.first.c_str(), k.blocks,
            k.warps, k.lanes, k.lane_s, k.max_lane_s,
            k.warp_s > 0 ? 100.0 * k.lane_s / k.warp_s : 100.0);
  }
}

bool profile_balance(const char *name, double *balance, long *lanes) {
  std::lock_guard<std::mutex> g(profile_mu);
  if (!profiles) return false;
  auto it = profiles->find(name);
  if (it == profiles->end()) return false;
  *balance = it->second.warp_s > 0 ? it->second.lane_s / it->second.warp_s : 1.0;
  *lanes = it->second.lanes;
  return true;
}

static void add_profile(const char *name, const std::vector<lane> &lanes) {
  kernel_profile p;
  p.blocks = 1;
  p.lanes = (long)lanes.size();
  for (size_t w0 = 0; w0 < lanes.size(); w0 += 32) {
    uint64_t slowest = 0;
    for (size_t i = w0; i < lanes.size() && i < w0 + 32; i++) {
      p.lane_s += lanes[i].ns * 1e-9;
      slowest = lanes[i].ns > slowest ? lanes[i].ns : slowest;
    }
    p.warps++;
    p.warp_s += 32.0 * slowest * 1e-9;
    p.max_lane_s = slowest * 1e-9 > p.max_lane_s ? slowest * 1e-9 : p.max_lane_s;
  }
  std::lock_guard<std::mutex> g(profile_mu);
  if (!profiles) {
    profiles = new std::map<std::string, kernel_profile>();
    atexit(print_profile);
  }
  kernel_profile &k = (*profiles)[name];
  k.blocks += p.blocks;
  k.warps += p.warps;
  k.lanes += p.lanes;
  k.lane_s += p.lane_s;
  k.warp_s += p.warp_s;
  k.max_lane_s = p.max_lane_s > k.max_lane_s ? p.max_lane_s : k.max_lane_s;
}

// Between two collectives the threads of a block run one after another: in index order when
// `reverse` is false, from the last thread down when it is true. Code that reads what another
// lane wrote without a __syncwarp or __syncthreads in between sees it in one order and not in
// the other, so launches alternate the order (see run_kernel) to show the bug either way round.
static void run_block(const char *name, dim3 grid, dim3 block, uint3 bidx, size_t shared,
                      bool reverse, const std::function<void()> &body) {
  size_t n = (size_t)block.x * block.y * block.z;
  std::vector<lane> lanes(n);
  std::vector<unsigned char> smem(shared ? shared : 1, 0xff); // uninitialised: all ones
  R.body = &body;
  R.shared = smem.data();
  R.name = name;
  for (size_t i = 0; i < n; i++) {
    lane *l = &lanes[i];
    l->stack = stack_at(i);
#if SG_EMU_ASAN
    // the frames a finished thread never returned from (fiber_main, switch_out) stay poisoned
    ASAN_UNPOISON_MEMORY_REGION(l->stack + STACK_BYTES - STACK_TOP, STACK_TOP);
#endif
    l->state = RUNNABLE;
    l->fake_stack = nullptr;
    l->ns = 0;
    l->c.thread = make_uint3((unsigned)(i % block.x), (unsigned)(i / block.x % block.y),
                             (unsigned)(i / ((size_t)block.x * block.y)));
    l->c.block = bidx;
    l->c.block_dim = block;
    l->c.grid_dim = grid;
    ctx_start(&l->ctx, l->stack, STACK_BYTES, fiber_main);
  }
  size_t done = 0;
  const bool prof = profiling();
  while (done < n) {
    bool progress = false;
    for (size_t k = 0; k < n; k++) {
      size_t i = reverse ? n - 1 - k : k;
      if (lanes[i].state != RUNNABLE) continue;
      uint64_t t0 = prof ? now_ns() : 0;
      switch_in(&lanes[i]);
      if (prof) lanes[i].ns += now_ns() - t0;
      progress = true;
      if (lanes[i].state == DONE) done++;
    }
    // warp collectives, then __syncthreads (every thread still running waits in it)
    size_t waiting = 0, at_barrier = 0;
    for (size_t i = 0; i < n; i++) {
      if (lanes[i].state != WAITING) continue;
      waiting++;
      if (lanes[i].op == OP_SYNCTHREADS) {
        at_barrier++;
      } else if (resolve_warp(lanes, i)) {
        progress = true;
      }
    }
    if (at_barrier && at_barrier == n - done) {
      for (size_t i = 0; i < n; i++)
        if (lanes[i].state == WAITING) lanes[i].state = RUNNABLE;
      progress = true;
    }
    if (!progress && done < n) {
      for (size_t i = 0; i < n; i++)
        if (lanes[i].state == WAITING)
          lane_fatal(&lanes[i],
                     "deadlock: waits in %s (mask 0x%08x) and nothing can complete it "
                     "(%zu of %zu threads waiting, %zu exited)",
                     op_name(lanes[i].op), lanes[i].mask, waiting, n, done);
      fatal("kernel %s: no thread can run", name);
    }
  }
  if (prof) add_profile(name, lanes);
  R.body = nullptr;
  R.shared = nullptr;
}

static unsigned host_threads() {
  static unsigned n = [] {
    const char *e = getenv("SG_CUDA_EMU_THREADS");
    long v = e ? atol(e) : (long)std::thread::hardware_concurrency();
    return (unsigned)(v < 1 ? 1 : v > 64 ? 64 : v);
  }();
  return n;
}

// Blocks run on up to SG_CUDA_EMU_THREADS host threads (default: the cores), in any order, as
// on a device; the threads of one block take turns on one host thread.
static void run_kernel(const char *name, dim3 grid, dim3 block, size_t shared, long seq,
                       const std::function<void()> &body) {
  size_t blocks = (size_t)grid.x * grid.y * grid.z;
  std::atomic<size_t> next(0);
  auto work = [&]() {
    for (size_t b; (b = next.fetch_add(1)) < blocks;) {
      uint3 at = make_uint3((unsigned)(b % grid.x), (unsigned)(b / grid.x % grid.y),
                            (unsigned)(b / ((size_t)grid.x * grid.y)));
      run_block(name, grid, block, at, shared, ((size_t)seq + b) % 2 == 1, body);
    }
    stacks_back();
  };
  size_t helpers = blocks < host_threads() ? blocks - 1 : host_threads() - 1;
  std::vector<std::thread> ts;
  for (size_t i = 0; i < helpers; i++)
    ts.emplace_back(work);
  work();
  for (std::thread &t : ts)
    t.join();
}

void launch(const char *name, dim3 grid, dim3 block, size_t shared, cudaStream_t s,
            std::function<void()> body, const void *const *ptrs, const int *where, int nptrs) {
  static std::atomic<long> launches(0);
  static long fault_at = [] {
    const char *e = getenv("SG_CUDA_EMU_FAULT_AT_LAUNCH");
    return e ? atol(e) : 0L;
  }();
  if (fault()) {
    note(fault());
    return;
  }
  if (++launches == fault_at) {
    fprintf(stderr, "cuda-emu: kernel %s: launch %ld faults (SG_CUDA_EMU_FAULT_AT_LAUNCH)\n", name,
            fault_at);
    sticky = cudaErrorIllegalAddress;
    note(fault());
    return;
  }
  size_t threads = (size_t)block.x * block.y * block.z;
  if (!grid.x || !grid.y || !grid.z || !threads || threads > 1024 || block.z > 64 ||
      grid.x > 0x7fffffffu || grid.y > 65535 || grid.z > 65535) {
    fprintf(stderr, "cuda-emu: kernel %s: invalid configuration grid (%u,%u,%u) block (%u,%u,%u)\n",
            name, grid.x, grid.y, grid.z, block.x, block.y, block.z);
    note(cudaErrorInvalidConfiguration);
    return;
  }
  if (shared > (48u << 10)) {
    fprintf(stderr, "cuda-emu: kernel %s: %zu bytes of dynamic shared memory > 48 KiB\n", name,
            shared);
    note(cudaErrorInvalidValue);
    return;
  }
  for (int i = 0; i < nptrs; i++) {
    region r;
    if (ptrs[i] && !lookup(ptrs[i], 0, &r))
      fatal("kernel %s: argument %d (%p) is not device memory", name, where[i] + 1, ptrs[i]);
  }
  std::string kname(name);
  long seq = launches.load();
  enqueue(of(s), [kname, grid, block, shared, seq, body]() {
    run_kernel(kname.c_str(), grid, block, shared, seq, body);
  });
}

} // namespace sg_emu

using namespace sg_emu;

// ---- the CUDA runtime API ---------------------------------------------------------------------

extern "C" {

cudaError_t cudaGetDeviceCount(int *count) {
  *count = 1;
  return cudaSuccess;
}

cudaError_t cudaSetDevice(int device) {
  if (fault()) return fault();
  return note(device == 0 ? cudaSuccess : cudaErrorInvalidDevice);
}

cudaError_t cudaGetDeviceProperties(struct cudaDeviceProp *prop, int device) {
  if (device != 0) return note(cudaErrorInvalidDevice);
  memset(prop, 0, sizeof *prop);
  snprintf(prop->name, sizeof prop->name, "shopgpu CUDA emulator (CPU)");
  prop->major = 9;
  prop->minor = 0;
  prop->multiProcessorCount = 4;
  prop->totalGlobalMem = capacity();
  prop->sharedMemPerBlock = 48u << 10;
  prop->maxThreadsPerBlock = 1024;
  prop->warpSize = 32;
  return cudaSuccess;
}

cudaError_t cudaDriverGetVersion(int *v) {
  *v = CUDART_VERSION;
  return cudaSuccess;
}

cudaError_t cudaRuntimeGetVersion(int *v) {
  *v = CUDART_VERSION;
  return cudaSuccess;
}

cudaError_t cudaMemGetInfo(size_t *free_b, size_t *total_b) {
  if (fault()) return fault();
  std::lock_guard<std::mutex> g(mem_mu);
  *free_b = capacity() - dev_used;
  *total_b = capacity();
  return cudaSuccess;
}

cudaError_t cudaDeviceSetLimit(enum cudaLimit, size_t) { return cudaSuccess; }

cudaError_t cudaDeviceSynchronize(void) {
  drain_all();
  return fault();
}

cudaError_t cudaGetLastError(void) {
  if (fault()) return fault(); // sticky: not cleared
  cudaError_t e = last_error;
  last_error = cudaSuccess;
  return e;
}

cudaError_t cudaPeekAtLastError(void) { return fault() ? fault() : last_error; }

// The errors the backend maps (kernels/common/cuda_check.cu) and the emulator returns.
#define SG_EMU_ERRORS(X)                                                                           \
  X(cudaSuccess, "no error")                                                                       \
  X(cudaErrorInvalidValue, "invalid argument")                                                     \
  X(cudaErrorMemoryAllocation, "out of memory")                                                    \
  X(cudaErrorInitializationError, "initialization error")                                          \
  X(cudaErrorInvalidConfiguration, "invalid configuration argument")                               \
  X(cudaErrorInvalidDevice, "invalid device ordinal")                                              \
  X(cudaErrorInvalidResourceHandle, "invalid resource handle")                                     \
  X(cudaErrorNoDevice, "no CUDA-capable device is detected")                                       \
  X(cudaErrorInsufficientDriver, "CUDA driver version is insufficient for CUDA runtime version")   \
  X(cudaErrorDevicesUnavailable, "CUDA-capable device(s) is/are busy or unavailable")              \
  X(cudaErrorIllegalAddress, "an illegal memory access was encountered")                           \
  X(cudaErrorLaunchFailure, "unspecified launch failure")                                          \
  X(cudaErrorLaunchTimeout, "the launch timed out and was terminated")                             \
  X(cudaErrorECCUncorrectable, "uncorrectable ECC error encountered")                              \
  X(cudaErrorMisalignedAddress, "misaligned address")                                              \
  X(cudaErrorIllegalInstruction, "an illegal instruction was encountered")                         \
  X(cudaErrorHardwareStackError, "hardware stack error")                                           \
  X(cudaErrorAssert, "device-side assert triggered")                                               \
  X(cudaErrorUnknown, "unknown error")

const char *cudaGetErrorName(cudaError_t e) {
#define SG_EMU_NAME(code, text)                                                                    \
  case code: return #code;
  switch (e) { SG_EMU_ERRORS(SG_EMU_NAME) default : return "cudaErrorUnknown"; }
#undef SG_EMU_NAME
}

const char *cudaGetErrorString(cudaError_t e) {
#define SG_EMU_TEXT(code, text)                                                                    \
  case code: return text;
  switch (e) { SG_EMU_ERRORS(SG_EMU_TEXT) default : return "unrecognized error code"; }
#undef SG_EMU_TEXT
}

// SG_CUDA_EMU_MALLOC_MAX_BYTES=N: a cudaMalloc of more than N bytes is out of memory (the
// stream-ordered pool, cudaMallocAsync, is not limited), for tests where a resident model does
// not fit on the device.
cudaError_t cudaMalloc(void **p, size_t size) {
  static const size_t most = [] {
    const char *e = getenv("SG_CUDA_EMU_MALLOC_MAX_BYTES");
    return e && *e ? (size_t)strtoull(e, NULL, 10) : SIZE_MAX;
  }();
  if (fault()) return fault();
  if (size > most) {
    if (p) *p = NULL;
    return note(cudaErrorMemoryAllocation);
  }
  return note(alloc(p, size, false));
}

cudaError_t cudaFree(void *p) {
  drain_all(); // cudaFree synchronises the device
  release(p, false, "cudaFree");
  return fault();
}

cudaError_t cudaMallocAsync(void **p, size_t size, cudaStream_t s) {
  stream *st = of(s);
  if (fault()) return fault();
  cudaError_t e = alloc(p, size, false);
  if (e == cudaErrorMemoryAllocation) {
    // The stream-ordered pool hands memory that a cudaFreeAsync earlier on the same stream
    // returned to a later cudaMallocAsync on that stream, though the free has not run yet: here
    // the stream's queued frees run first (its queued work with them).
    drain(st);
    e = alloc(p, size, false);
  }
  return note(e);
}

cudaError_t cudaFreeAsync(void *p, cudaStream_t s) {
  if (p && !is_device(p, 0)) fatal("cudaFreeAsync(%p): not device memory", p);
  enqueue(
      of(s), [p]() { release(p, false, "cudaFreeAsync"); }, true);
  return fault();
}

cudaError_t cudaMallocHost(void **p, size_t size) { return note(alloc(p, size, true)); }

cudaError_t cudaFreeHost(void *p) {
  drain_all();
  return release(p, true, "cudaFreeHost");
}

cudaError_t cudaDeviceGetDefaultMemPool(cudaMemPool_t *pool, int device) {
  static int the_pool;
  if (device != 0) return note(cudaErrorInvalidDevice);
  *pool = (cudaMemPool_t)&the_pool;
  return cudaSuccess;
}

cudaError_t cudaMemPoolSetAttribute(cudaMemPool_t, enum cudaMemPoolAttr, void *) {
  return cudaSuccess;
}

cudaError_t cudaMemPoolTrimTo(cudaMemPool_t, size_t) { return cudaSuccess; }

cudaError_t cudaStreamCreateWithFlags(cudaStream_t *s, unsigned int) {
  stream *st = new stream;
  std::lock_guard<std::mutex> g(streams_mu);
  streams.insert(st);
  *s = (cudaStream_t)st;
  return cudaSuccess;
}

cudaError_t cudaStreamSynchronize(cudaStream_t s) {
  drain(of(s));
  return fault();
}

cudaError_t cudaStreamDestroy(cudaStream_t s) {
  stream *st = of(s);
  if (st == &legacy) return note(cudaErrorInvalidResourceHandle);
  drain(st); // its work still completes
  std::lock_guard<std::mutex> g(streams_mu);
  streams.erase(st);
  delete st;
  return cudaSuccess;
}

cudaError_t cudaEventCreateWithFlags(cudaEvent_t *e, unsigned int) {
  *e = (cudaEvent_t) new event;
  return cudaSuccess;
}

cudaError_t cudaEventCreate(cudaEvent_t *e) { return cudaEventCreateWithFlags(e, 0); }

// The host time between the two records' turns in their streams (emulated time: only the bench
// programs' code paths mean anything here, not their figures).
cudaError_t cudaEventElapsedTime(float *ms, cudaEvent_t a, cudaEvent_t b) {
  event *x = (event *)a, *y = (event *)b;
  if (!x->s || !y->s || x->at.load() == 0 || y->at.load() == 0) return note(cudaErrorNotReady);
  *ms = (float)((y->at.load() - x->at.load()) * 1e3);
  return cudaSuccess;
}

cudaError_t cudaEventRecord(cudaEvent_t e, cudaStream_t s) {
  event *ev = (event *)e;
  stream *st = of(s);
  ev->at = 0;
  enqueue(st, [ev]() { ev->at = host_seconds(); });
  std::lock_guard<std::mutex> g(st->q_mu);
  ev->s = st;
  ev->seq = st->queued;
  return cudaSuccess;
}

cudaError_t cudaEventSynchronize(cudaEvent_t e) {
  event *ev = (event *)e;
  if (ev->s) drain(ev->s, ev->seq);
  return fault();
}

cudaError_t cudaEventDestroy(cudaEvent_t e) {
  delete (event *)e;
  return cudaSuccess;
}

// A copy's pointers checked against its kind, as a device would fault on them.
static void check_copy(void *dst, const void *src, size_t n, cudaMemcpyKind kind,
                       const char *call) {
  bool dd = is_device(dst, n), sd = is_device(src, n);
  bool ok = kind == cudaMemcpyHostToDevice     ? dd && !is_device(src, 0)
            : kind == cudaMemcpyDeviceToHost   ? sd && !is_device(dst, 0)
            : kind == cudaMemcpyDeviceToDevice ? dd && sd
                                               : kind == cudaMemcpyDefault;
  if (!ok)
    fatal("%s(dst %p, src %p, %zu bytes, kind %d): the pointers do not match the kind (or the "
          "device range is not inside one allocation)",
          call, dst, src, n, (int)kind);
}

cudaError_t cudaMemcpyAsync(void *dst, const void *src, size_t n, cudaMemcpyKind kind,
                            cudaStream_t s) {
  if (fault()) return fault();
  if (n == 0) return cudaSuccess;
  check_copy(dst, src, n, kind, "cudaMemcpyAsync");
  stream *st = of(s);
  if (kind == cudaMemcpyHostToDevice && !is_pinned(src, n)) {
    // pageable source: staged when called, so the caller may reuse it at once
    std::shared_ptr<std::vector<char>> snap =
        std::make_shared<std::vector<char>>((const char *)src, (const char *)src + n);
    enqueue(st, [dst, snap, n]() { memcpy(dst, snap->data(), n); });
  } else if (kind == cudaMemcpyDeviceToHost && !is_pinned(dst, n)) {
    drain(st); // pageable destination: returns once the copy is done
    memcpy(dst, src, n);
  } else {
    enqueue(st, [dst, src, n]() { memmove(dst, src, n); });
  }
  return cudaSuccess;
}

cudaError_t cudaMemcpy(void *dst, const void *src, size_t n, cudaMemcpyKind kind) {
  if (fault()) return fault();
  if (n == 0) return cudaSuccess;
  check_copy(dst, src, n, kind, "cudaMemcpy");
  drain(&legacy);
  memmove(dst, src, n);
  return cudaSuccess;
}

cudaError_t cudaMemsetAsync(void *p, int value, size_t n, cudaStream_t s) {
  if (fault()) return fault();
  if (n && !is_device(p, n)) fatal("cudaMemsetAsync(%p, %zu bytes): not device memory", p, n);
  enqueue(of(s), [p, value, n]() { memset(p, value, n); });
  return cudaSuccess;
}

} // extern "C"

// ---- cuBLAS -----------------------------------------------------------------------------------

struct cublasContext {
  cudaStream_t stream = 0;
};

extern "C" {

cublasStatus_t cublasCreate_v2(cublasHandle_t *h) {
  *h = new cublasContext;
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasDestroy_v2(cublasHandle_t h) {
  if (!h) return CUBLAS_STATUS_NOT_INITIALIZED;
  delete h;
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasSetStream_v2(cublasHandle_t h, cudaStream_t s) {
  if (!h) return CUBLAS_STATUS_NOT_INITIALIZED;
  h->stream = s;
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasSetMathMode(cublasHandle_t h, cublasMath_t) {
  return h ? CUBLAS_STATUS_SUCCESS : CUBLAS_STATUS_NOT_INITIALIZED;
}

// Column-major C (m x n) = alpha op(A) op(B) + beta C, with cuBLAS's argument checks; each
// matrix must lie inside one device allocation.
cublasStatus_t cublasSgemm_v2(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, int m,
                              int n, int k, const float *alpha, const float *A, int lda,
                              const float *B, int ldb, const float *beta, float *C, int ldc) {
  if (!h) return CUBLAS_STATUS_NOT_INITIALIZED;
  bool na = ta == CUBLAS_OP_N, nb = tb == CUBLAS_OP_N;
  int ar = na ? m : k, ac = na ? k : m, br = nb ? k : n, bc = nb ? n : k;
  if (m < 0 || n < 0 || k < 0 || lda < (ar > 1 ? ar : 1) || ldb < (br > 1 ? br : 1) ||
      ldc < (m > 1 ? m : 1) || (ta != CUBLAS_OP_N && ta != CUBLAS_OP_T) ||
      (tb != CUBLAS_OP_N && tb != CUBLAS_OP_T))
    return CUBLAS_STATUS_INVALID_VALUE;
  if (!m || !n) return CUBLAS_STATUS_SUCCESS;
  if (fault()) return CUBLAS_STATUS_EXECUTION_FAILED;
  auto extent = [](int rows, int cols, int ld) {
    return rows && cols ? ((size_t)(cols - 1) * ld + rows) * sizeof(float) : 0;
  };
  if (k && (!is_device(A, extent(ar, ac, lda)) || !is_device(B, extent(br, bc, ldb))))
    fatal("cublasSgemm: A or B is not a device matrix of its shape (m %d n %d k %d lda %d ldb %d)",
          m, n, k, lda, ldb);
  if (!is_device(C, extent(m, n, ldc)))
    fatal("cublasSgemm: C is not a device matrix of its shape (m %d n %d ldc %d)", m, n, ldc);
  float a = *alpha, b = *beta; // host pointer mode: read when called
  enqueue(of(h->stream), [=]() {
    cblas_sgemm(CblasColMajor, na ? CblasNoTrans : CblasTrans, nb ? CblasNoTrans : CblasTrans, m, n,
                k, a, A, lda, B, ldb, b, C, ldc);
  });
  return CUBLAS_STATUS_SUCCESS;
}

} // extern "C"
