// CUDA emulator, device side: force-included (g++ -include) into every kernels/*.cu file when
// the tree is configured with -DSHOPGPU_CUDA_EMU=ON, after tests/cuda_emu/rewrite.cmake turned
// each `kernel<<<grid, block, shared, stream>>>(args)` into
// `sg_emu_launcher(kernel, grid, block, shared, stream)(args)`.
//
// What it is for: running the CUDA backend's own code (the .cu files, unchanged) on a machine
// without a GPU, under ASan and UBSan, through the same CPU-vs-GPU parity tests a GPU runs. Every
// thread of a block is a fiber; the lanes of a warp meet at each warp collective (__syncwarp,
// __shfl_*_sync, __ballot_sync, ...), which checks CUDA's rules (every lane of the mask arrives,
// none has exited, the same collective with the same mask). Kernels, copies and cuBLAS calls are
// queued per stream and run when the host synchronises, as on a device. It finds indexing and
// launch-configuration bugs, wrong cuBLAS shapes, host pointers passed to kernels, missing
// synchronisation around pinned buffers and use after free. It cannot find data races between
// warps or blocks (a block's warps take turns at fixed points; blocks that run at once on
// different host threads are not checked), timing or performance problems, or differences of
// the device's floating point (fast-math intrinsics, FMA contraction): a GPU run still decides.
#ifndef SG_TESTS_CUDA_EMU_H
#define SG_TESTS_CUDA_EMU_H

#include <cuda_runtime.h>
#include <functional>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <tuple>
#include <type_traits>
#include <utility>

namespace sg_emu {

// The running thread's coordinates (set by the emulator before each fiber runs).
struct coords {
  uint3 thread, block;
  dim3 block_dim, grid_dim;
};
const coords &here();
void *dyn_shared(); // the block's dynamic shared memory

enum op_kind {
  OP_SYNCWARP,
  OP_BALLOT,
  OP_ANY,
  OP_ALL,
  OP_SHFL,
  OP_SHFL_UP,
  OP_SHFL_DOWN,
  OP_SHFL_XOR,
  OP_SYNCTHREADS
};
// Blocks the calling lane until its collective completes; returns its result (64 bits).
uint64_t collective(op_kind op, unsigned mask, uint64_t value, int arg, int width);

// Launching: validates the configuration now (cudaGetLastError reports a bad one, as on a
// device) and queues the kernel on its stream. `ptrs` are the kernel's pointer arguments,
// checked to point into device (or pinned) memory; `where` gives their parameter positions.
void launch(const char *name, dim3 grid, dim3 block, size_t shared, cudaStream_t stream,
            std::function<void()> body, const void *const *ptrs, const int *where, int nptrs);

// With SG_CUDA_EMU_PROFILE=1 (read once, at the first launch): the profile of kernel `name` so
// far (see cuda_emu.cc): its lanes' run time over 32 x the slowest lane's, summed over warps.
// False when the kernel has not run with profiling on.
bool profile_balance(const char *name, double *balance, long *lanes);

template <typename T> static void collect_ptr(const T &, int, const void **, int *, int *) {}
template <typename T>
static void collect_ptr(T *const &p, int pos, const void **out, int *where, int *n) {
  out[*n] = (const void *)p;
  where[(*n)++] = pos;
}

template <typename... P> struct launcher {
  void (*kernel)(P...);
  const char *name;
  dim3 grid, block;
  size_t shared;
  cudaStream_t stream;
  template <typename... A> void operator()(A &&...a) const {
    static_assert(sizeof...(A) == sizeof...(P), "kernel launched with the wrong argument count");
    // kernel parameters are copied at launch, as on a device
    std::tuple<std::decay_t<P>...> args(std::forward<A>(a)...);
    const void *ptrs[sizeof...(P) + 1];
    int where[sizeof...(P) + 1], n = 0, pos = 0;
    std::apply([&](const auto &...v) { (collect_ptr(v, pos++, ptrs, where, &n), ...); }, args);
    void (*k)(P...) = kernel;
    launch(
        name, grid, block, shared, stream, [k, args]() { std::apply(k, args); }, ptrs, where, n);
  }
};

template <typename... P>
launcher<P...> make_launcher(void (*kernel)(P...), const char *name, dim3 grid, dim3 block,
                             size_t shared = 0, cudaStream_t stream = 0) {
  return launcher<P...>{kernel, name, grid, block, shared, stream};
}

template <typename T> static uint64_t bits_of(T v) {
  static_assert(sizeof(T) <= 8 && std::is_trivially_copyable<T>::value, "shuffle of a big type");
  uint64_t b = 0;
  memcpy(&b, &v, sizeof v);
  return b;
}
template <typename T> static T of_bits(uint64_t b) {
  T v;
  memcpy(&v, &b, sizeof v);
  return v;
}

} // namespace sg_emu

#define sg_emu_launcher(kernel, ...) sg_emu::make_launcher(kernel, #kernel, __VA_ARGS__)

#define threadIdx (sg_emu::here().thread)
#define blockIdx (sg_emu::here().block)
#define blockDim (sg_emu::here().block_dim)
#define gridDim (sg_emu::here().grid_dim)

static inline void __syncwarp(unsigned mask = 0xffffffffu) {
  sg_emu::collective(sg_emu::OP_SYNCWARP, mask, 0, 0, 32);
}
static inline void __syncthreads() { sg_emu::collective(sg_emu::OP_SYNCTHREADS, 0, 0, 0, 32); }
static inline unsigned __ballot_sync(unsigned mask, int pred) {
  return (unsigned)sg_emu::collective(sg_emu::OP_BALLOT, mask, pred != 0, 0, 32);
}
static inline int __any_sync(unsigned mask, int pred) {
  return (int)sg_emu::collective(sg_emu::OP_ANY, mask, pred != 0, 0, 32);
}
static inline int __all_sync(unsigned mask, int pred) {
  return (int)sg_emu::collective(sg_emu::OP_ALL, mask, pred != 0, 0, 32);
}
template <typename T> static inline T __shfl_sync(unsigned mask, T v, int src, int width = 32) {
  return sg_emu::of_bits<T>(
      sg_emu::collective(sg_emu::OP_SHFL, mask, sg_emu::bits_of(v), src, width));
}
template <typename T>
static inline T __shfl_up_sync(unsigned mask, T v, unsigned delta, int width = 32) {
  return sg_emu::of_bits<T>(
      sg_emu::collective(sg_emu::OP_SHFL_UP, mask, sg_emu::bits_of(v), (int)delta, width));
}
template <typename T>
static inline T __shfl_down_sync(unsigned mask, T v, unsigned delta, int width = 32) {
  return sg_emu::of_bits<T>(
      sg_emu::collective(sg_emu::OP_SHFL_DOWN, mask, sg_emu::bits_of(v), (int)delta, width));
}
template <typename T>
static inline T __shfl_xor_sync(unsigned mask, T v, int lane_mask, int width = 32) {
  return sg_emu::of_bits<T>(
      sg_emu::collective(sg_emu::OP_SHFL_XOR, mask, sg_emu::bits_of(v), lane_mask, width));
}

static inline int __popc(unsigned v) { return __builtin_popcount(v); }
static inline int __popcll(unsigned long long v) { return __builtin_popcountll(v); }
static inline int __ffs(int v) { return __builtin_ffs(v); }
static inline int __clz(int v) { return v ? __builtin_clz((unsigned)v) : 32; }

// CUDA's integer and floating min/max overloads (device code calls them unqualified)
template <typename A, typename B>
static inline typename std::common_type<A, B>::type min(A a, B b) {
  typedef typename std::common_type<A, B>::type C;
  return (C)b < (C)a ? (C)b : (C)a;
}
template <typename A, typename B>
static inline typename std::common_type<A, B>::type max(A a, B b) {
  typedef typename std::common_type<A, B>::type C;
  return (C)a < (C)b ? (C)b : (C)a;
}

// Atomics: the fibers of a launch take turns on one host thread, but launches on other streams
// may run on other host threads at the same time.
template <typename T> static inline T atomicAdd(T *p, T v) { // integers and floating point
  T old, want;
  __atomic_load(p, &old, __ATOMIC_SEQ_CST);
  do {
    want = old + v;
  } while (!__atomic_compare_exchange(p, &old, &want, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST));
  return old;
}
template <typename T> static inline T atomicMin(T *p, T v) {
  T old = __atomic_load_n(p, __ATOMIC_SEQ_CST);
  while (v < old &&
         !__atomic_compare_exchange_n(p, &old, v, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
  }
  return old;
}
template <typename T> static inline T atomicMax(T *p, T v) {
  T old = __atomic_load_n(p, __ATOMIC_SEQ_CST);
  while (old < v &&
         !__atomic_compare_exchange_n(p, &old, v, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
  }
  return old;
}
template <typename T> static inline T atomicExch(T *p, T v) {
  return __atomic_exchange_n(p, v, __ATOMIC_SEQ_CST);
}
template <typename T> static inline T atomicCAS(T *p, T expected, T v) {
  __atomic_compare_exchange_n(p, &expected, v, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
  return expected;
}

#endif
