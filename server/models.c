/* The model store. A model file (little-endian) is:
 *   "SGMODEL1", u32 format (1), u32 n_users, n_items, dim, interaction, f32 b,
 *   char source[16], i64 created_ms, f64 valid_auc, valid_logloss, u64 seen (0 = none),
 *   f32 w[dim], U[n_users × dim], V[n_items × dim], u64 user_ids[n_users], item_ids[n_items],
 *   (seen > 0:) u64 seen_offsets[n_users + 1], u32 seen_items[seen],
 *   u64 FNV-1a of everything before it.
 * It is written to a temp file, fsynced and renamed, so a reader sees a whole file or none.
 * Invariant: `served` holds one reference per name on the newest version of that name. */
#include "models.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/size.h"
#include "config.h"
#include "log.h"
#include "pb.h"
#include "util.h"

#define MAGIC "SGMODEL1"
#define FORMAT 1
#define KEEP_VERSIONS 3
#define MAX_MODELS 4096

struct sg_models {
  char dir[SG_PATH_MAX + 16];
  sg_backend *backend, *fallback;
  sg_exec *exec, *exec_cpu; /* for placement, under mu */
  pthread_mutex_t mu;
  sg_model *served[MAX_MODELS];
  size_t n;
};

/* ---- names and references ---- */

sg_status sg_model_name_check(const char *name, const char *field, sg_err *err) {
  size_t n = strlen(name);
  if (n == 0 || n > SG_MODEL_NAME_MAX)
    return sg_err_set(err, SG_INVALID_ARGUMENT, "%s: a model name has 1 to %d bytes", field,
                      SG_MODEL_NAME_MAX);
  for (size_t i = 0; i < n; i++) {
    char c = name[i];
    int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
             c == '_' || c == '-' || (c == '.' && i > 0);
    if (!ok)
      return sg_err_set(err, SG_INVALID_ARGUMENT,
                        "%s: \"%.64s\" has a character outside [A-Za-z0-9_.-]", field, name);
  }
  return SG_OK;
}

void sg_model_ref(sg_model *m) { atomic_fetch_add(&m->refs, 1); }

static void free_arrays(sg_model *m) {
  sg_click_unplace(m->placed);
  sg_click_unplace(m->placed_cpu);
  sg_click_model_free(&m->m);
  free(m->user_ids);
  free(m->item_ids);
  sg_idmap_free(m->users);
  sg_idmap_free(m->items);
  free(m->seen_offsets);
  free(m->seen_items);
}

void sg_model_unref(sg_model *m) {
  if (!m || atomic_fetch_sub(&m->refs, 1) != 1) return;
  free_arrays(m);
  free(m);
}

sg_status sg_model_placed_for(const sg_model *m, sg_exec *x, const sg_click_placed **out,
                              sg_err *err) {
  *out = sg_exec_backend(x) == m->backend ? m->placed : m->placed_cpu;
  if (*out) return SG_OK;
  /* only on the device, and only when it did not fit there but the cpu fallback holds it: the
   * scheduler retries the call on the fallback */
  return sg_err_set(err, SG_DEVICE_OOM, "model %s v%u is not in device memory (it did not fit)",
                    m->name, m->version);
}

void sg_model_info(const sg_model *m, Shopgpu__V1__ModelInfo *info) {
  shopgpu__v1__model_info__init(info);
  info->name = sg_pb_str(m->name);
  info->version = m->version;
  info->n_users = m->m.n_users;
  info->n_items = m->m.n_items;
  info->dim = m->m.dim;
  info->interaction = m->m.interaction != 0;
  info->created_at_unix_ms = m->created_ms;
  info->source = sg_pb_str(m->source);
  info->valid_auc = m->valid_auc;
  info->valid_logloss = m->valid_logloss;
  info->seen = m->seen_offsets ? m->seen_offsets[m->m.n_users] : 0;
  info->bytes = m->bytes;
}

/* ---- the file ---- */

typedef struct file_io {
  FILE *f;
  uint64_t hash;
  int failed, failed_errno; /* failed_errno: a write's errno */
} file_io;

static void fnv(file_io *io, const void *p, size_t n) {
  const unsigned char *b = p;
  for (size_t i = 0; i < n; i++)
    io->hash = (io->hash ^ b[i]) * 0x100000001b3ull;
}

static void put(file_io *io, const void *p, size_t n) {
  if (io->failed || !n) return;
  fnv(io, p, n);
  io->failed = fwrite(p, 1, n, io->f) != n;
  if (io->failed) io->failed_errno = errno ? errno : EIO;
}

static void get(file_io *io, void *p, size_t n) {
  if (io->failed || !n) return;
  io->failed = fread(p, 1, n, io->f) != n;
  if (!io->failed) fnv(io, p, n);
}

typedef struct header {
  uint32_t format, n_users, n_items, dim, interaction;
  float b;
  char source[16];
  int64_t created_ms;
  double valid_auc, valid_logloss;
  uint64_t seen;
} header;

static void io_header(file_io *io, header *h, int writing) {
  void (*rw)(file_io *, void *, size_t) = writing ? (void (*)(file_io *, void *, size_t))put : get;
  char magic[8];
  memcpy(magic, MAGIC, 8);
  rw(io, magic, 8);
  if (!writing && memcmp(magic, MAGIC, 8) != 0) io->failed = 1;
  rw(io, &h->format, 4);
  rw(io, &h->n_users, 4);
  rw(io, &h->n_items, 4);
  rw(io, &h->dim, 4);
  rw(io, &h->interaction, 4);
  rw(io, &h->b, 4);
  rw(io, h->source, 16);
  rw(io, &h->created_ms, 8);
  rw(io, &h->valid_auc, 8);
  rw(io, &h->valid_logloss, 8);
  rw(io, &h->seen, 8);
}

static void io_arrays(file_io *io, sg_model *m, uint64_t seen, int writing) {
  void (*rw)(file_io *, void *, size_t) = writing ? (void (*)(file_io *, void *, size_t))put : get;
  size_t d = m->m.dim, nu = m->m.n_users, ni = m->m.n_items;
  rw(io, m->m.w, d * sizeof(float));
  rw(io, m->m.U, nu * d * sizeof(float));
  rw(io, m->m.V, ni * d * sizeof(float));
  rw(io, m->user_ids, nu * sizeof(uint64_t));
  rw(io, m->item_ids, ni * sizeof(uint64_t));
  if (seen) {
    rw(io, m->seen_offsets, (nu + 1) * sizeof(uint64_t));
    rw(io, m->seen_items, seen * sizeof(uint32_t));
  }
}

static void model_path(const sg_models *s, const char *name, uint32_t version, char *buf,
                       size_t cap) {
  snprintf(buf, cap, "%s/%s/v%u.model", s->dir, name, version);
}

static sg_status write_model(const char *path, sg_model *m, sg_err *err) {
  char tmp[SG_PATH_MAX + 96];
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  file_io io = {fopen(tmp, "wb"), 0xcbf29ce484222325ull, 0, 0};
  if (!io.f) return sg_err_set(err, sg_io_status(errno), "%s: %s", tmp, strerror(errno));
  uint64_t seen = m->seen_offsets ? m->seen_offsets[m->m.n_users] : 0;
  header h = {FORMAT, m->m.n_users, m->m.n_items,  m->m.dim,     (uint32_t)m->m.interaction,
              m->m.b, {0},          m->created_ms, m->valid_auc, m->valid_logloss,
              seen};
  snprintf(h.source, sizeof h.source, "%s", m->source);
  io_header(&io, &h, 1);
  io_arrays(&io, m, seen, 1);
  uint64_t sum = io.hash;
  put(&io, &sum, 8);
  int ok = !io.failed && fflush(io.f) == 0 && fsync(fileno(io.f)) == 0;
  int e = ok ? 0 : io.failed ? io.failed_errno : errno;
  if (fclose(io.f) != 0 && ok) ok = 0, e = errno;
  struct stat sb;
  if (ok && stat(tmp, &sb) == 0) m->bytes = (uint64_t)sb.st_size;
  if (ok && rename(tmp, path) != 0) ok = 0, e = errno;
  if (!ok) {
    sg_status code = sg_err_set(err, sg_io_status(e), "%s: write failed: %s", path, strerror(e));
    unlink(tmp);
    return code;
  }
  char dir[SG_PATH_MAX + 96];
  snprintf(dir, sizeof dir, "%s", path);
  *strrchr(dir, '/') = '\0';
  int fd = open(dir, O_RDONLY | O_DIRECTORY);
  if (fd >= 0) {
    fsync(fd);
    close(fd);
  }
  return SG_OK;
}

static sg_status alloc_ids(sg_model *m, sg_err *err) {
  m->user_ids = malloc((size_t)m->m.n_users * sizeof(uint64_t));
  m->item_ids = malloc((size_t)m->m.n_items * sizeof(uint64_t));
  if (!m->user_ids || !m->item_ids)
    return sg_err_set(err, SG_OUT_OF_MEMORY, "model: out of memory");
  return SG_OK;
}

/* The size a file with header h must have (header_bytes of header before the arrays); in
 * double, exact for any real file (< 2^53 bytes), and no overflow for a garbage header. */
static double expected_size(const header *h, long header_bytes) {
  double d = h->dim, nu = h->n_users, ni = h->n_items, seen = (double)h->seen;
  double arrays = d * 4 + nu * d * 4 + ni * d * 4 + nu * 8 + ni * 8;
  if (h->seen) arrays += (nu + 1) * 8 + seen * 4;
  return (double)header_bytes + arrays + 8; /* + the checksum */
}

/* The seen lists as CSR that recommend can walk: offsets from 0 rising to `seen`, items below
 * n_items (a checksum that matches does not prove a writer got them right). */
static sg_status check_seen(const char *path, const sg_model *m, uint64_t seen, sg_err *err) {
  const uint64_t *off = m->seen_offsets;
  uint32_t nu = m->m.n_users;
  if (off[0] != 0 || off[nu] != seen)
    return sg_err_set(err, SG_DATA_LOSS, "%s: corrupt seen lists (offsets %llu..%llu, %llu items)",
                      path, (unsigned long long)off[0], (unsigned long long)off[nu],
                      (unsigned long long)seen);
  for (uint32_t u = 0; u < nu; u++)
    if (off[u + 1] < off[u])
      return sg_err_set(err, SG_DATA_LOSS, "%s: corrupt seen lists (offsets fall at user row %u)",
                        path, u);
  for (uint64_t i = 0; i < seen; i++)
    if (m->seen_items[i] >= m->m.n_items)
      return sg_err_set(err, SG_DATA_LOSS, "%s: corrupt seen lists (item row %u of %u)", path,
                        m->seen_items[i], m->m.n_items);
  return SG_OK;
}

/* Reads path into m (fresh, zeroed). */
static sg_status read_model(const char *path, sg_model *m, sg_err *err) {
  file_io io = {fopen(path, "rb"), 0xcbf29ce484222325ull, 0, 0};
  if (!io.f) return sg_err_set(err, SG_IO, "%s: %s", path, strerror(errno));
  header h = {0};
  io_header(&io, &h, 0);
  sg_status st = SG_OK;
  struct stat sb;
  double size = fstat(fileno(io.f), &sb) == 0 ? (double)sb.st_size : -1;
  if (io.failed || h.format != FORMAT) {
    st = sg_err_set(err, SG_DATA_LOSS, "%s: not a model file of format %d", path, FORMAT);
  } else if (size != expected_size(&h, ftell(io.f))) { /* before the header's sizes allocate */
    st = sg_err_set(err, SG_DATA_LOSS,
                    "%s: truncated or corrupt (%.0f bytes; its header's %u users, %u items, "
                    "dim %u and %llu seen items make %.0f)",
                    path, size, h.n_users, h.n_items, h.dim, (unsigned long long)h.seen,
                    expected_size(&h, ftell(io.f)));
  } else if (sg_click_model_alloc(h.n_users, h.n_items, h.dim, (int)h.interaction, &m->m, err) !=
                 SG_OK ||
             alloc_ids(m, err) != SG_OK) {
    st = err->code;
  } else {
    m->m.b = h.b;
    memcpy(m->source, h.source, sizeof m->source);
    m->source[sizeof m->source - 1] = '\0';
    m->created_ms = h.created_ms;
    m->valid_auc = h.valid_auc;
    m->valid_logloss = h.valid_logloss;
    if (h.seen) {
      m->seen_offsets = malloc(((size_t)h.n_users + 1) * sizeof(uint64_t));
      m->seen_items = h.seen < SIZE_MAX / 4 ? malloc((size_t)h.seen * sizeof(uint32_t)) : NULL;
      if (!m->seen_offsets || !m->seen_items) io.failed = 1;
    }
    io_arrays(&io, m, h.seen, 0);
    uint64_t want = io.hash, sum = 0;
    if (!io.failed && (fread(&sum, 8, 1, io.f) != 1 || sum != want)) io.failed = 1;
    if (io.failed)
      st = sg_err_set(err, SG_DATA_LOSS, "%s: truncated or corrupt", path);
    else if (h.seen)
      st = check_seen(path, m, h.seen, err);
  }
  if (size >= 0) m->bytes = (uint64_t)size;
  fclose(io.f);
  return st;
}

/* ---- serving ---- */

/* Builds the id maps, checks the model and places it. */
static sg_status prepare(sg_models *s, sg_model *m, sg_err *err) {
  SG_TRY(sg_click_model_check(&m->m, err));
  m->users = sg_idmap_build(m->user_ids, m->m.n_users, "user_ids", err);
  if (!m->users) return err->code;
  m->items = sg_idmap_build(m->item_ids, m->m.n_items, "item_ids", err);
  if (!m->items) return err->code;
  m->backend = s->backend;
  if (s->exec_cpu) SG_TRY(sg_click_place(s->exec_cpu, &m->m, &m->placed_cpu, err));
  sg_status st = sg_click_place(s->exec, &m->m, &m->placed, err);
  if (st != SG_DEVICE_OOM) return st;
  char why[sizeof err->msg], what[SG_MODEL_NAME_MAX + 32];
  snprintf(why, sizeof why, "%s", sg_err_message(err));
  sg_err_clear(err);
  m->placed = NULL;
  /* a new upload has no version yet */
  snprintf(what, sizeof what, m->version ? "%s v%u" : "%s", m->name, m->version);
  if (!m->placed_cpu)
    return sg_err_set(err, SG_DEVICE_OOM,
                      "model %s does not fit in device memory (%s); --fallback cpu would serve "
                      "it from the cpu",
                      what, why);
  /* --fallback cpu: a model too big for the device is served from the cpu */
  SG_WARN("models", "%s does not fit in device memory (%s): the cpu fallback serves it", what,
          why);
  return SG_OK;
}

static int find_served(const sg_models *s, const char *name) {
  for (size_t i = 0; i < s->n; i++)
    if (strcmp(s->served[i]->name, name) == 0) return (int)i;
  return -1;
}

/* Versions of name on disk, ascending, into v[] (at most cap); returns how many. */
static size_t list_versions(const sg_models *s, const char *name, uint32_t *v, size_t cap) {
  char dir[SG_PATH_MAX + 96];
  snprintf(dir, sizeof dir, "%s/%s", s->dir, name);
  DIR *d = opendir(dir);
  size_t n = 0;
  for (struct dirent *de; d && (de = readdir(d));) {
    unsigned ver;
    char tail[16];
    if (sscanf(de->d_name, "v%u.%15s", &ver, tail) == 2 && strcmp(tail, "model") == 0 && n < cap)
      v[n++] = ver;
  }
  if (d) closedir(d);
  for (size_t i = 1; i < n; i++) /* insertion sort: a handful of versions */
    for (size_t j = i; j > 0 && v[j - 1] > v[j]; j--) {
      uint32_t t = v[j];
      v[j] = v[j - 1];
      v[j - 1] = t;
    }
  return n;
}

/* The highest version name ever had (its files may be gone): DIR/name/last_version, kept when
 * the versions are deleted, so a version number is never given to two different models (a
 * client pinned to v2, or a Redis list of v2, must not meet another v2). 0 = none. */
static uint32_t last_version(const sg_models *s, const char *name) {
  char path[SG_PATH_MAX + 96], *text = NULL;
  size_t len = 0;
  snprintf(path, sizeof path, "%s/%s/last_version", s->dir, name);
  if (sg_read_file(path, 64, &text, &len, NULL) != SG_OK) return 0;
  char *end;
  errno = 0;
  unsigned long long v = strtoull(text, &end, 10);
  int ok = end != text && text[0] >= '0' && text[0] <= '9' && !errno && v <= UINT32_MAX &&
           (*end == '\0' || (*end == '\n' && end[1] == '\0'));
  if (!ok) /* the versions on disk still count: the next is above the newest of them */
    SG_WARN("models", "%s: not a version number (\"%.20s\"): ignored", path, text);
  free(text);
  return ok ? (uint32_t)v : 0;
}

/* Removes what a crash mid-write left in name's directory: "v<N>.model.tmp" and
 * "last_version.tmp.<pid>" (a write goes to such a file first, then is renamed). */
static void remove_temps(const sg_models *s, const char *name) {
  char dir[SG_PATH_MAX + 96], path[SG_PATH_MAX + 400];
  snprintf(dir, sizeof dir, "%s/%s", s->dir, name);
  DIR *d = opendir(dir);
  for (struct dirent *de; d && (de = readdir(d));) {
    const char *t = strstr(de->d_name, ".tmp");
    if (!t || de->d_name[0] == '.' ||
        (t[4] && (t[4] != '.' || !t[5] || strspn(t + 5, "0123456789") != strlen(t + 5))))
      continue;
    snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
    if (unlink(path) == 0)
      SG_INFO("models", "removed %s (left by an interrupted write)", path);
    else
      SG_WARN("models", "cannot remove %s: %s", path, strerror(errno));
  }
  if (d) closedir(d);
}

static sg_status set_last_version(const sg_models *s, const char *name, uint32_t v, sg_err *err) {
  char path[SG_PATH_MAX + 96], text[16];
  snprintf(path, sizeof path, "%s/%s/last_version", s->dir, name);
  int len = snprintf(text, sizeof text, "%u\n", v);
  return sg_write_file_atomic(path, text, (size_t)len, err);
}

/* Loads and places version `version` of name (s->mu held). */
static sg_model *load(sg_models *s, const char *name, uint32_t version, sg_err *err) {
  sg_model *m = calloc(1, sizeof *m);
  if (!m) {
    sg_err_set(err, SG_OUT_OF_MEMORY, "model: out of memory");
    return NULL;
  }
  atomic_init(&m->refs, 1);
  snprintf(m->name, sizeof m->name, "%s", name);
  m->version = version;
  char path[SG_PATH_MAX + 96];
  model_path(s, name, version, path, sizeof path);
  if (read_model(path, m, err) != SG_OK || prepare(s, m, err) != SG_OK) {
    sg_model_unref(m);
    return NULL;
  }
  return m;
}

/* Serves the newest loadable version of name, or drops the name (s->mu held). */
static void serve_newest(sg_models *s, const char *name) {
  uint32_t v[64];
  size_t n = list_versions(s, name, v, 64);
  int i = find_served(s, name);
  sg_model *m = NULL;
  while (n > 0 && !m) {
    sg_err err = {0};
    m = load(s, name, v[--n], &err);
    if (!m) SG_WARN("models", "model %s v%u not loaded: %s", name, v[n], sg_err_message(&err));
  }
  if (i >= 0) {
    sg_model_unref(s->served[i]);
    s->served[i] = m ? m : s->served[--s->n];
  } else if (m && s->n < MAX_MODELS) {
    s->served[s->n++] = m;
  } else if (m) {
    SG_WARN("models", "model %s not served: %d names already", name, MAX_MODELS);
    sg_model_unref(m);
    m = NULL;
  }
  if (m)
    SG_INFO("models", "serving %s v%u (%u users, %u items, dim %u)", m->name, m->version,
            m->m.n_users, m->m.n_items, m->m.dim);
}

sg_models *sg_models_open(const char *data_dir, sg_backend *backend, sg_backend *fallback,
                          sg_err *err) {
  sg_models *s = calloc(1, sizeof *s);
  if (!s) {
    sg_err_set(err, SG_OUT_OF_MEMORY, "models: out of memory");
    return NULL;
  }
  pthread_mutex_init(&s->mu, NULL);
  snprintf(s->dir, sizeof s->dir, "%s/models", data_dir);
  s->backend = backend;
  s->fallback = fallback;
  s->exec = sg_exec_create(backend, err);
  if (s->exec && fallback) s->exec_cpu = sg_exec_create(fallback, err);
  DIR *d = s->exec && (!fallback || s->exec_cpu) && sg_mkdir_p(s->dir, err) == SG_OK
               ? opendir(s->dir)
               : NULL;
  if (!d) {
    if (err && err->code == SG_OK) sg_err_set(err, SG_IO, "%s: %s", s->dir, strerror(errno));
    sg_models_close(s);
    return NULL;
  }
  pthread_mutex_lock(&s->mu);
  for (struct dirent *de; (de = readdir(d));) {
    if (de->d_name[0] == '.') continue;
    if (sg_model_name_check(de->d_name, "name", NULL) != SG_OK) {
      SG_WARN("models", "%s/%s: not a model name: ignored", s->dir, de->d_name);
      continue;
    }
    remove_temps(s, de->d_name);
    serve_newest(s, de->d_name);
  }
  pthread_mutex_unlock(&s->mu);
  closedir(d);
  return s;
}

void sg_models_close(sg_models *s) {
  if (!s) return;
  for (size_t i = 0; i < s->n; i++)
    sg_model_unref(s->served[i]);
  sg_exec_destroy(s->exec);
  sg_exec_destroy(s->exec_cpu);
  pthread_mutex_destroy(&s->mu);
  free(s);
}

sg_status sg_models_get(sg_models *s, const char *name, uint32_t version, sg_model **out,
                        sg_err *err) {
  *out = NULL;
  SG_TRY(sg_model_name_check(name, "model", err));
  pthread_mutex_lock(&s->mu);
  int i = find_served(s, name);
  sg_model *m = i >= 0 ? s->served[i] : NULL;
  if (m && (version == 0 || version == m->version)) sg_model_ref(m);
  pthread_mutex_unlock(&s->mu);
  if (!m) return sg_err_set(err, SG_NOT_FOUND, "model: no model named \"%s\"", name);
  if (version && version != m->version)
    return sg_err_set(err, SG_NOT_FOUND, "version: model %s serves v%u, not v%u", name, m->version,
                      version);
  *out = m;
  return SG_OK;
}

static void prune(sg_models *s, const char *name) {
  uint32_t v[64];
  size_t n = list_versions(s, name, v, 64);
  for (size_t i = 0; i + KEEP_VERSIONS < n; i++) {
    char path[SG_PATH_MAX + 96];
    model_path(s, name, v[i], path, sizeof path);
    unlink(path);
  }
}

sg_status sg_models_put(sg_models *s, sg_model_draft *d, sg_model **out, sg_err *err) {
  if (out) *out = NULL;
  sg_model *m = calloc(1, sizeof *m);
  if (!m) {
    sg_click_model_free(&d->m);
    free(d->user_ids), free(d->item_ids), free(d->seen_offsets), free(d->seen_items);
    return sg_err_set(err, SG_OUT_OF_MEMORY, "model: out of memory");
  }
  atomic_init(&m->refs, 1);
  snprintf(m->name, sizeof m->name, "%s", d->name);
  m->m = d->m;
  m->user_ids = d->user_ids;
  m->item_ids = d->item_ids;
  m->seen_offsets = d->seen_offsets;
  m->seen_items = d->seen_items;
  snprintf(m->source, sizeof m->source, "%s", d->source ? d->source : "uploaded");
  m->valid_auc = d->valid_auc;
  m->valid_logloss = d->valid_logloss;
  memset(d, 0, sizeof *d); /* owned by m from here */
  sg_status st = SG_OK;
  if (!m->user_ids || !m->item_ids) { /* default ids: the row numbers */
    uint64_t *u = m->user_ids, *it = m->item_ids;
    m->user_ids = m->item_ids = NULL;
    if (alloc_ids(m, err) == SG_OK) {
      for (uint32_t r = 0; r < m->m.n_users; r++)
        m->user_ids[r] = u ? u[r] : r;
      for (uint32_t r = 0; r < m->m.n_items; r++)
        m->item_ids[r] = it ? it[r] : r;
    }
    free(u), free(it);
    st = err && err->code ? err->code : SG_OK;
  }
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  m->created_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
  if (st == SG_OK) st = sg_model_name_check(m->name, "name", err);
  pthread_mutex_lock(&s->mu);
  if (st == SG_OK) st = prepare(s, m, err);
  int i = find_served(s, m->name);
  if (st == SG_OK && i < 0 && s->n == MAX_MODELS) /* before anything is written */
    st = sg_err_set(err, SG_RESOURCE_EXHAUSTED, "name: %d models are served already", MAX_MODELS);
  if (st == SG_OK) {
    uint32_t v[64], last = last_version(s, m->name);
    size_t n = list_versions(s, m->name, v, 64);
    if (n && v[n - 1] > last) last = v[n - 1];
    if (last == UINT32_MAX) /* never wrap to v0 (or reuse a number) */
      st = sg_err_set(err, SG_RESOURCE_EXHAUSTED,
                      "name: the version numbers of \"%s\" are used up (v%u was the last): "
                      "store it under another name",
                      m->name, last);
    m->version = last + 1;
    char dir[SG_PATH_MAX + 96], path[SG_PATH_MAX + 96];
    snprintf(dir, sizeof dir, "%s/%s", s->dir, m->name);
    model_path(s, m->name, m->version, path, sizeof path);
    if (st == SG_OK) st = sg_mkdir_p(dir, err);
    if (st == SG_OK) st = set_last_version(s, m->name, m->version, err);
    if (st == SG_OK) st = write_model(path, m, err);
  }
  if (st == SG_OK) {
    if (i >= 0) sg_model_unref(s->served[i]);
    s->served[i >= 0 ? (size_t)i : s->n++] = m;
    if (out) sg_model_ref(m), *out = m;
    prune(s, m->name);
    SG_INFO("models", "stored %s v%u (%s, %u users, %u items, dim %u)", m->name, m->version,
            m->source, m->m.n_users, m->m.n_items, m->m.dim);
  }
  pthread_mutex_unlock(&s->mu);
  if (st != SG_OK) sg_model_unref(m);
  return st;
}

sg_status sg_models_delete(sg_models *s, const char *name, uint32_t version, uint32_t *deleted,
                           sg_err *err) {
  *deleted = 0;
  SG_TRY(sg_model_name_check(name, "name", err));
  pthread_mutex_lock(&s->mu);
  uint32_t v[64];
  size_t n = list_versions(s, name, v, 64);
  for (size_t i = 0; i < n; i++) {
    if (version && v[i] != version) continue;
    char path[SG_PATH_MAX + 96];
    model_path(s, name, v[i], path, sizeof path);
    if (unlink(path) == 0)
      (*deleted)++;
    else if (errno != ENOENT && err && err->code == SG_OK) /* a read-only disk: say so */
      sg_err_set(err, SG_IO, "name: %s v%u not deleted: %s: %s", name, v[i], path, strerror(errno));
  }
  if (*deleted) serve_newest(s, name); /* the directory stays, with last_version */
  pthread_mutex_unlock(&s->mu);
  if (err && err->code != SG_OK) return err->code;
  if (!*deleted)
    return sg_err_set(err, SG_NOT_FOUND, "name: no model %s%s", name,
                      version ? " of that version" : "");
  return SG_OK;
}

static int by_name(const void *a, const void *b) {
  return strcmp((*(sg_model *const *)a)->name, (*(sg_model *const *)b)->name);
}

sg_status sg_models_list(sg_models *s, sg_model ***out, size_t *n, sg_err *err) {
  pthread_mutex_lock(&s->mu);
  sg_model **list = malloc((s->n ? s->n : 1) * sizeof *list);
  if (list) {
    for (size_t i = 0; i < s->n; i++) {
      sg_model_ref(s->served[i]);
      list[i] = s->served[i];
    }
    *n = s->n;
  }
  pthread_mutex_unlock(&s->mu);
  if (!list) return sg_err_set(err, SG_OUT_OF_MEMORY, "models: out of memory");
  qsort(list, *n, sizeof *list, by_name);
  *out = list;
  return SG_OK;
}
