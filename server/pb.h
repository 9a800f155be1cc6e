/* protobuf-c helpers. Generated messages hold `char *` strings; responses we build point them at
 * const strings the packer only reads. sg_pb_str says so once instead of casting at each site. */
#ifndef SG_SERVER_PB_H
#define SG_SERVER_PB_H

static inline char *sg_pb_str(const char *s) {
  union {
    const char *c;
    char *m;
  } u = {s};
  return u.m;
}

#endif
