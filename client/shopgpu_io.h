/* libshopgpu-client readers for the project's input files, streamed so memory stays bounded by
 * what the caller asks for at a time: interaction and pair CSVs (user_id,item_id[,label]) and
 * NumPy .npy matrices. Errors come back as a shopgpu_status (INVALID_ARGUMENT) whose message
 * names the file and the place: "pairs.csv:17: column 2 (item_id): \"x\" is not an unsigned
 * integer", "U.npy: [3, 2] is nan". Not thread-safe per reader; readers are independent. */
#ifndef SHOPGPU_IO_H
#define SHOPGPU_IO_H

#include <stddef.h>
#include <stdint.h>

#include "shopgpu_client.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- CSV of ids ------------------------------------------------------------------------------ */

/* Longest line accepted (bytes, with the line break). */
#define SHOPGPU_CSV_LINE_MAX 4096

typedef struct shopgpu_ids_csv shopgpu_ids_csv;

/* Opens path and reads its header, which is required and names the columns in order: user_id,
 * item_id and, when with_label, optionally label. Rows follow, one per line: unsigned decimal
 * integer ids (uint64) and a label 0 or 1, comma-separated, exactly as many fields as the header;
 * blank lines are skipped, CRLF line ends and a UTF-8 byte order mark are accepted, spaces around
 * a field are not part of it. Returns NULL with st set for an unreadable file or a bad header. */
shopgpu_ids_csv *shopgpu_ids_csv_open(const char *path, int with_label, shopgpu_status *st);

/* 1 when the file has a label column. */
int shopgpu_ids_csv_has_label(const shopgpu_ids_csv *r);

/* Reads up to cap rows into users[i], items[i] and, when the file has labels, labels[i] (labels
 * may be NULL otherwise). Returns the rows read (0 at the end of the file, and from then on), or
 * -1 with st set at the first bad line (the reader then stays failed). */
long shopgpu_ids_csv_read(shopgpu_ids_csv *r, uint64_t *users, uint64_t *items, uint32_t *labels,
                          size_t cap, shopgpu_status *st);

/* Closes the file. NULL is a no-op. */
void shopgpu_ids_csv_close(shopgpu_ids_csv *r);

/* ---- .npy ------------------------------------------------------------------------------------ */

typedef struct shopgpu_npy shopgpu_npy;

/* Opens a NumPy .npy file (format 1.0, 2.0 or 3.0) holding a C-order 1-D or 2-D array of
 * little-endian float32 ('<f4') or float64 ('<f8', converted when read), and checks that the file
 * holds exactly the data its header announces. Returns NULL with st set otherwise (wrong dtype,
 * Fortran order, 0-D or 3-D and more, truncated or overlong file, bad header). */
shopgpu_npy *shopgpu_npy_open(const char *path, shopgpu_status *st);

/* The array's shape: ndim 1 or 2, rows = shape[0], cols = shape[1] (1 for a 1-D array). */
int shopgpu_npy_ndim(const shopgpu_npy *f);
uint64_t shopgpu_npy_rows(const shopgpu_npy *f);
uint64_t shopgpu_npy_cols(const shopgpu_npy *f);

/* Reads the next n_rows rows (n_rows × cols float32 into out, row-major). Values that are NaN or
 * infinite, or float64 values outside float32's range, are errors naming the row and column.
 * Returns 0, or a status code with st set (reading past the last row is INVALID_ARGUMENT). */
int shopgpu_npy_read(shopgpu_npy *f, float *out, size_t n_rows, shopgpu_status *st);

/* Closes the file. NULL is a no-op. */
void shopgpu_npy_close(shopgpu_npy *f);

#ifdef __cplusplus
}
#endif

#endif
