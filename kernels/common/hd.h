/* Macros shared by every header under kernels/: host+device helpers and C/C++ linkage.
 * Headers here compile as C11 (gcc) and as CUDA C++ (nvcc); SG_HD is empty for a plain C
 * compiler, so the same inline math runs on the CPU backend and inside CUDA kernels. */
#ifndef SG_COMMON_HD_H
#define SG_COMMON_HD_H

#if defined(__CUDACC__)
#define SG_HD __host__ __device__
#define SG_INLINE __forceinline__
#else
#define SG_HD
#define SG_INLINE inline
#endif

#ifdef __cplusplus
#define SG_BEGIN_DECLS extern "C" {
#define SG_END_DECLS }
#else
#define SG_BEGIN_DECLS
#define SG_END_DECLS
#endif

/* printf-style format checking where the compiler has it */
#if defined(__GNUC__)
#define SG_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#define SG_NODISCARD __attribute__((warn_unused_result))
#else
#define SG_PRINTF(fmt, args)
#define SG_NODISCARD
#endif

#define SG_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#endif
