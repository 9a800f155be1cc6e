/* libshopgpu-client readers for the project's input files, streamed so memory stays bounded by
 * what the caller asks for at a time: interaction and pair CSVs (user_id,item_id[,label]), any
 * CSV with a header read record by record (columns by name), a set of ids to group rows by, and
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
/* The number of the last line read (the header is line 1). */
uint64_t shopgpu_ids_csv_line(const shopgpu_ids_csv *r);

/* ---- CSV with a header, columns by name ----------------------------------------------------- */

/* Largest file shopgpu_csv_open accepts when max_bytes is 0, and longest line (bytes). */
#define SHOPGPU_CSV_MAX_BYTES_DEFAULT (1ull << 30)
#define SHOPGPU_CSV_RECORD_MAX (1 << 20)

typedef struct shopgpu_csv shopgpu_csv;

/* Opens path (at most max_bytes long: 0 = SHOPGPU_CSV_MAX_BYTES_DEFAULT) and reads its header.
 * Fields are comma-separated; a field may be in double quotes (then it may hold commas, and ""
 * stands for one quote); spaces around a field are not part of it; blank lines are skipped;
 * CRLF line ends and a UTF-8 byte order mark are accepted; a record is one line. Returns NULL with
 * st set (INVALID_ARGUMENT) for an unreadable, empty or too large file or a bad header line. */
shopgpu_csv *shopgpu_csv_open(const char *path, uint64_t max_bytes, shopgpu_status *st);

/* The header: how many columns, the name of column col (0-based), the column named name or -1. */
int shopgpu_csv_columns(const shopgpu_csv *c);
const char *shopgpu_csv_column_name(const shopgpu_csv *c, int col);
int shopgpu_csv_find(const shopgpu_csv *c, const char *name);

/* Reads the next record: 1, 0 at the end of the file (and from then on), or -1 with st set
 * ("path:line: 3 fields, the header has 4"; read errors; lines over SHOPGPU_CSV_RECORD_MAX). */
int shopgpu_csv_next(shopgpu_csv *c, shopgpu_status *st);

/* Field col (0-based, < shopgpu_csv_columns) of the record just read; valid until the next
 * shopgpu_csv_next. The line number (1-based, the header is line 1) of that record. */
const char *shopgpu_csv_field(const shopgpu_csv *c, int col);
uint64_t shopgpu_csv_line(const shopgpu_csv *c);
const char *shopgpu_csv_path(const shopgpu_csv *c);

/* Sets st (INVALID_ARGUMENT) to "path:line: column N (name): <fmt ...>" for column col of the
 * current record, or "path:line: <fmt ...>" when col < 0. Returns -1. */
int shopgpu_csv_error(const shopgpu_csv *c, int col, shopgpu_status *st, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Field col as a finite number into *v: 0, or -1 with st set naming the place. An empty field, NA,
 * NaN or nan gives NaN when missing_ok, else is an error too. */
int shopgpu_csv_number(const shopgpu_csv *c, int col, int missing_ok, double *v,
                       shopgpu_status *st);

/* Closes the file. NULL is a no-op. */
void shopgpu_csv_close(shopgpu_csv *c);

/* ---- ids grouped by name ------------------------------------------------------------------- */

/* A set of string ids numbered 0, 1, ... in the order they were first added (the readers group
 * rows by unique_id with it). Lookups are by hash: O(1) on average. */
typedef struct shopgpu_ids shopgpu_ids;

/* A new empty set, or NULL when out of memory. */
shopgpu_ids *shopgpu_ids_new(void);
/* The number of id (copied when new), or -1 when out of memory or past 2^32 - 2 ids. */
long shopgpu_ids_add(shopgpu_ids *x, const char *id);
/* The number of id, or -1 when it is not in the set. */
long shopgpu_ids_find(const shopgpu_ids *x, const char *id);
/* How many ids; the id numbered i (< count), owned by the set. */
size_t shopgpu_ids_count(const shopgpu_ids *x);
const char *shopgpu_ids_get(const shopgpu_ids *x, size_t i);
/* Frees the set and its ids. NULL is a no-op. */
void shopgpu_ids_free(shopgpu_ids *x);

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
