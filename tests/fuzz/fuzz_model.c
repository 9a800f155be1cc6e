/* The server's model store at start (sg_models_open): it reads every model file under
 * DATA_DIR/models, checks it, maps its ids and places it on the cpu backend; a file that fails
 * is logged and skipped. The input is one file, models/fz/v1.model; with byte 0's bit 0 set, the
 * rest gets its FNV-1a checksum appended (so that the search reaches what lies behind it),
 * otherwise the rest is the file as is. The models served are then listed, described and
 * looked up. */
#include "fuzz.h"
#include "log.h"
#include "models.h"
#include "util.h"

static char data_dir[128], model_dir[160], model_path[192];
static sg_backend *cpu;

static void remove_store(void) {
  char models[sizeof model_dir];
  snprintf(models, sizeof models, "%s/models", data_dir);
  unlink(model_path);
  rmdir(model_dir);
  rmdir(models);
  rmdir(data_dir);
}

static void init(void) {
  sg_log_set_level(SG_LOG_ERROR);
  const char *tmp = getenv("TMPDIR");
  snprintf(data_dir, sizeof data_dir, "%s/sg-fuzz-model-XXXXXX", tmp && *tmp ? tmp : "/tmp");
  if (!mkdtemp(data_dir)) abort();
  snprintf(model_dir, sizeof model_dir, "%s/models/fz", data_dir);
  snprintf(model_path, sizeof model_path, "%s/v1.model", model_dir);
  sg_err err = {0};
  if (sg_mkdir_p(model_dir, &err) != SG_OK) abort();
  atexit(remove_store);
  sg_backend_config bc = {.kind = SG_BACKEND_CPU, .cpu_threads = 1};
  cpu = sg_backend_open(&bc, &err);
  if (!cpu) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  if (!cpu) init();
  FILE *f = fopen(model_path, "wb");
  if (!f) abort();
  if (size > 1 && fwrite(data + 1, 1, size - 1, f) != size - 1) abort();
  if (data[0] & 1) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 1; i < size; i++)
      h = (h ^ data[i]) * 0x100000001b3ull;
    if (fwrite(&h, 8, 1, f) != 1) abort(); /* little-endian, as the store writes it */
  }
  if (fclose(f) != 0) abort();
  sg_err err = {0};
  sg_models *s = sg_models_open(data_dir, cpu, NULL, &err);
  if (!s) abort(); /* a bad file is skipped, never fatal */
  sg_model **all = NULL;
  size_t n = 0;
  if (sg_models_list(s, &all, &n, &err) == SG_OK) {
    for (size_t i = 0; i < n; i++) {
      Shopgpu__V1__ModelInfo info;
      sg_model_info(all[i], &info);
      if (info.n_users != all[i]->m.n_users || strcmp(info.name, "fz") != 0) abort();
      sg_model *m = NULL;
      if (sg_models_get(s, info.name, 0, &m, &err) != SG_OK) abort(); /* listed: found */
      sg_model_unref(m);
      sg_model_unref(all[i]);
    }
    free(all);
  }
  sg_models_close(s);
  return 0;
}
