// The CUDA emulator's own tests (built only with -DSHOPGPU_CUDA_EMU=ON): warp collectives give
// CUDA's documented results (worked out here by hand, lane by lane), the queueing follows the
// stream rules, and what a device would fault on, or CUDA leaves undefined, stops the process.
#include <criterion/criterion.h>
#include <cublas_v2.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(call) cr_assert_eq((call), cudaSuccess, "%s", #call)

template <typename T> static T *dev(size_t n) {
  void *p = NULL;
  CHECK(cudaMalloc(&p, n * sizeof(T)));
  return (T *)p;
}

template <typename T> static void get(T *host, const T *d, size_t n) {
  CHECK(cudaMemcpy(host, d, n * sizeof(T), cudaMemcpyDeviceToHost));
}

// out: (64) per thread of two warps: xor-sum, ballot of odd lanes, shfl from lane 3 of each
// 8-lane group, shfl_up by 1 and shfl_down by 2 within groups of 8
static __global__ void collectives_kernel(int *sum, unsigned *ballot, int *from3, int *up,
                                          int *down) {
  int t = threadIdx.x, lane = t % 32;
  int v = lane + 1;
  for (int off = 16; off > 0; off /= 2)
    v += __shfl_xor_sync(0xffffffffu, v, off);
  sum[t] = v;
  ballot[t] = __ballot_sync(0xffffffffu, lane & 1);
  from3[t] = __shfl_sync(0xffffffffu, lane * 10, 3, 8);
  up[t] = __shfl_up_sync(0xffffffffu, lane * 10, 1, 8);
  down[t] = __shfl_down_sync(0xffffffffu, lane * 10, 2, 8);
}

Test(cuda_emu, warp_collectives_follow_cuda) {
  int *sum = dev<int>(64), *from3 = dev<int>(64), *up = dev<int>(64), *down = dev<int>(64);
  unsigned *ballot = dev<unsigned>(64);
  collectives_kernel<<<1, 64>>>(sum, ballot, from3, up, down);
  CHECK(cudaGetLastError());
  int hs[64], h3[64], hu[64], hd[64];
  unsigned hb[64];
  get(hs, sum, 64), get(hb, ballot, 64), get(h3, from3, 64), get(hu, up, 64), get(hd, down, 64);
  for (int t = 0; t < 64; t++) {
    int lane = t % 32, g0 = lane / 8 * 8;
    cr_assert_eq(hs[t], 32 * 33 / 2, "thread %d", t);
    cr_assert_eq(hb[t], 0xaaaaaaaau, "thread %d", t);
    cr_assert_eq(h3[t], (g0 + 3) * 10, "thread %d", t);
    cr_assert_eq(hu[t], (lane == g0 ? lane : lane - 1) * 10, "thread %d",
                 t); // own value at the start
    cr_assert_eq(hd[t], (lane + 2 < g0 + 8 ? lane + 2 : lane) * 10, "thread %d", t);
  }
  cudaFree(sum), cudaFree(ballot), cudaFree(from3), cudaFree(up), cudaFree(down);
}

// Each thread writes its slot, the block meets, each reads its mirror's slot (another warp's).
static __global__ void mirror_kernel(int *out) {
  extern __shared__ int slots[];
  int t = threadIdx.x, n = blockDim.x;
  slots[t] = blockIdx.x * 1000 + t;
  __syncthreads();
  out[blockIdx.x * n + t] = slots[n - 1 - t];
}

Test(cuda_emu, syncthreads_and_dynamic_shared_memory_per_block) {
  int *out = dev<int>(3 * 96), h[3 * 96];
  mirror_kernel<<<3, 96, 96 * sizeof(int)>>>(out);
  CHECK(cudaGetLastError());
  get(h, out, 3 * 96);
  for (int b = 0; b < 3; b++)
    for (int t = 0; t < 96; t++)
      cr_assert_eq(h[b * 96 + t], b * 1000 + 95 - t, "block %d thread %d", b, t);
  cudaFree(out);
}

static __global__ void index_kernel(int *out) {
  int x = blockIdx.x * blockDim.x + threadIdx.x, y = blockIdx.y * blockDim.y + threadIdx.y;
  out[y * gridDim.x * blockDim.x + x] = y * 100 + x;
}

Test(cuda_emu, two_dimensional_grids_index_like_cuda) {
  int *out = dev<int>(8 * 6), h[8 * 6];
  index_kernel<<<dim3(2, 3), dim3(4, 2)>>>(out);
  get(h, out, 48);
  for (int y = 0; y < 6; y++)
    for (int x = 0; x < 8; x++)
      cr_assert_eq(h[y * 8 + x], y * 100 + x);
  cudaFree(out);
}

static __global__ void copy_kernel(const int *in, int *out) { out[threadIdx.x] = in[threadIdx.x]; }

Test(cuda_emu, bad_launch_configurations_are_reported_not_run) {
  int *out = dev<int>(1);
  copy_kernel<<<1, 1025>>>(out, out);
  cr_assert_eq(cudaGetLastError(), cudaErrorInvalidConfiguration);
  copy_kernel<<<0, 32>>>(out, out);
  cr_assert_eq(cudaGetLastError(), cudaErrorInvalidConfiguration);
  mirror_kernel<<<1, 32, (48u << 10) + 4>>>(out);
  cr_assert_eq(cudaGetLastError(), cudaErrorInvalidValue);
  cr_assert_eq(cudaGetLastError(), cudaSuccess, "reading the error clears it");
  cudaFree(out);
}

// Work is queued: a copy from pinned memory reads the buffer when the stream runs, one from
// pageable memory reads it when called.
Test(cuda_emu, pinned_copies_run_when_the_stream_does) {
  cudaStream_t s;
  CHECK(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));
  int *pinned, pageable[32], *a = dev<int>(32), *b = dev<int>(32), ha[32], hb[32];
  CHECK(cudaMallocHost((void **)&pinned, 32 * sizeof(int)));
  for (int i = 0; i < 32; i++)
    pinned[i] = pageable[i] = 1;
  CHECK(cudaMemcpyAsync(a, pinned, sizeof ha, cudaMemcpyHostToDevice, s));
  CHECK(cudaMemcpyAsync(b, pageable, sizeof hb, cudaMemcpyHostToDevice, s));
  for (int i = 0; i < 32; i++)
    pinned[i] = pageable[i] = 2; // too early for the pinned copy
  CHECK(cudaMemcpyAsync(ha, a, sizeof ha, cudaMemcpyDeviceToHost, s));
  CHECK(cudaMemcpyAsync(hb, b, sizeof hb, cudaMemcpyDeviceToHost, s));
  cr_assert_eq(ha[0], 2, "the pinned copy read the buffer late, as a device may");
  cr_assert_eq(hb[0], 1, "the pageable copy was staged when called");
  cudaFreeHost(pinned), cudaFree(a), cudaFree(b), cudaStreamDestroy(s);
}

Test(cuda_emu, sgemm_is_column_major_and_checks_its_shapes) {
  // A (2 x 3) column-major, B (3 x 2): C = A B
  float hA[6] = {1, 4, 2, 5, 3, 6}, hB[6] = {7, 9, 11, 8, 10, 12}, hC[4];
  float *A = dev<float>(6), *B = dev<float>(6), *C = dev<float>(4), one = 1, zero = 0;
  CHECK(cudaMemcpy(A, hA, sizeof hA, cudaMemcpyHostToDevice));
  CHECK(cudaMemcpy(B, hB, sizeof hB, cudaMemcpyHostToDevice));
  cublasHandle_t h;
  cr_assert_eq(cublasCreate(&h), CUBLAS_STATUS_SUCCESS);
  cr_assert_eq(cublasSgemm(h, CUBLAS_OP_N, CUBLAS_OP_N, 2, 2, 3, &one, A, 2, B, 3, &zero, C, 2),
               CUBLAS_STATUS_SUCCESS);
  get(hC, C, 4);
  float want[4] = {58, 139, 64, 154};
  for (int i = 0; i < 4; i++)
    cr_assert_float_eq(hC[i], want[i], 1e-4, "C[%d] = %g", i, hC[i]);
  cr_assert_eq(cublasSgemm(h, CUBLAS_OP_N, CUBLAS_OP_N, 2, 2, 3, &one, A, 1, B, 3, &zero, C, 2),
               CUBLAS_STATUS_INVALID_VALUE, "lda < m");
  cublasDestroy(h);
  cudaFree(A), cudaFree(B), cudaFree(C);
}

Test(cuda_emu, device_memory_runs_out) {
  size_t free_b, total_b;
  CHECK(cudaMemGetInfo(&free_b, &total_b));
  void *p = NULL;
  cr_assert_eq(cudaMalloc(&p, total_b + 1), cudaErrorMemoryAllocation);
  cr_assert_null(p);
}

// As CUDA's stream-ordered pool: what a cudaFreeAsync returned is there for a later
// cudaMallocAsync on the same stream, though the free has not run yet.
Test(cuda_emu, a_stream_reuses_what_it_freed_before_the_free_runs) {
  setenv("SG_CUDA_EMU_MEM_MB", "64", 1); /* read at the first call, in this test's process */
  size_t free_b, total_b;
  CHECK(cudaMemGetInfo(&free_b, &total_b));
  cudaStream_t s;
  CHECK(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));
  size_t big = free_b / 10 * 6;
  void *a = NULL, *b = NULL;
  CHECK(cudaMallocAsync(&a, big, s));
  CHECK(cudaFreeAsync(a, s));
  CHECK(cudaMallocAsync(&b, big, s));
  CHECK(cudaFreeAsync(b, s));
  CHECK(cudaStreamSynchronize(s));
  size_t after, total;
  CHECK(cudaMemGetInfo(&after, &total));
  cr_assert_eq(total, (size_t)64 << 20);
  cr_assert_eq(after, free_b, "all of it back");
  CHECK(cudaStreamDestroy(s));
}

Test(cuda_emu, an_injected_fault_is_sticky) {
  setenv("SG_CUDA_EMU_FAULT_AT_LAUNCH", "2", 1);
  int *in = dev<int>(32), *out = dev<int>(32), h[32] = {0};
  CHECK(cudaMemcpy(in, h, sizeof h, cudaMemcpyHostToDevice));
  copy_kernel<<<1, 32>>>(in, out);
  CHECK(cudaGetLastError());
  CHECK(cudaDeviceSynchronize());
  copy_kernel<<<1, 32>>>(in, out);
  cr_assert_eq(cudaGetLastError(), cudaErrorIllegalAddress);
  cr_assert_eq(cudaGetLastError(), cudaErrorIllegalAddress, "sticky: reading it does not clear it");
  cr_assert_eq(cudaDeviceSynchronize(), cudaErrorIllegalAddress);
  cr_assert_eq(cudaMemcpy(h, out, sizeof h, cudaMemcpyDeviceToHost), cudaErrorIllegalAddress);
  void *p = NULL;
  cr_assert_eq(cudaMalloc(&p, 64), cudaErrorIllegalAddress);
  cr_assert_eq(cudaFree(in), cudaErrorIllegalAddress, "the error, though the memory is freed");
  cr_assert_eq(cudaFree(out), cudaErrorIllegalAddress);
}

// ---- what stops the process ----

static __global__ void early_exit_kernel(int *out) {
  if (threadIdx.x == 5) return;
  out[threadIdx.x] = __shfl_xor_sync(0xffffffffu, (int)threadIdx.x, 1);
}

Test(cuda_emu, a_lane_that_exited_before_a_full_mask_collective_stops_it, .signal = SIGABRT) {
  int *out = dev<int>(32);
  early_exit_kernel<<<1, 32>>>(out);
  cudaDeviceSynchronize();
}

static __global__ void diverged_kernel(int *out) {
  if (threadIdx.x < 16)
    out[threadIdx.x] = __ballot_sync(0xffffffffu, 1);
  else
    __syncwarp();
}

Test(cuda_emu, lanes_in_different_collectives_stop_it, .signal = SIGABRT) {
  int *out = dev<int>(32);
  diverged_kernel<<<1, 32>>>(out);
  cudaDeviceSynchronize();
}

Test(cuda_emu, a_host_pointer_passed_to_a_kernel_stops_it, .signal = SIGABRT) {
  int host[32] = {0};
  int *out = dev<int>(32);
  copy_kernel<<<1, 32>>>(host, out);
}

Test(cuda_emu, a_copy_whose_kind_does_not_match_stops_it, .signal = SIGABRT) {
  int host[4] = {0};
  int *d = dev<int>(4);
  cudaMemcpy(d, host, sizeof host, cudaMemcpyDeviceToHost);
}

Test(cuda_emu, a_copy_past_the_allocation_stops_it, .signal = SIGABRT) {
  int host[8] = {0};
  int *d = dev<int>(4);
  cudaMemcpy(d, host, sizeof host, cudaMemcpyHostToDevice);
}

// Busy for `us` microseconds of this host thread's CPU time (the time the profile counts).
static __device__ void spin_us(long us) {
  struct timespec t0, t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t0);
  do
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  while ((t.tv_sec - t0.tv_sec) * 1000000L + (t.tv_nsec - t0.tv_nsec) / 1000 < us);
}

static __global__ void even_kernel() { spin_us(300); }
static __global__ void one_lane_kernel() {
  if (threadIdx.x % 32 == 0) spin_us(3000);
}

Test(cuda_emu, the_profile_measures_how_evenly_a_warps_lanes_share_the_work) {
  setenv("SG_CUDA_EMU_PROFILE", "1", 1); /* each test runs in a process of its own */
  even_kernel<<<2, 64>>>();
  one_lane_kernel<<<2, 64>>>();
  CHECK(cudaDeviceSynchronize());
  double even, one;
  long lanes;
  cr_assert(sg_emu::profile_balance("even_kernel", &even, &lanes));
  cr_assert_eq(lanes, 128);
  cr_assert(sg_emu::profile_balance("one_lane_kernel", &one, &lanes));
  cr_assert_eq(lanes, 128);
  /* every lane as busy as the slowest: near 1; one busy lane per warp: near 1/32 */
  cr_assert_gt(even, 0.7, "balance of even lanes %.3f", even);
  cr_assert_lt(one, 0.1, "balance with one busy lane of 32 %.3f", one);
  cr_assert_gt(one, 1.0 / 32 * 0.9, "balance with one busy lane of 32 %.3f", one);
  double none;
  cr_assert_not(sg_emu::profile_balance("never_launched_kernel", &none, &lanes));
}
