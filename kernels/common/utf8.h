/* UTF-8 validation shared by the server (field checks) and the CLI (JSON output): header-only, so
 * the client, which links nothing of the kernels, can use it too. */
#ifndef SG_COMMON_UTF8_H
#define SG_COMMON_UTF8_H

#include <stddef.h>

/* Length of the valid UTF-8 sequence at s (n >= 1 bytes left), or 0 when it is not one:
 * overlong forms, UTF-16 surrogates and code points past U+10FFFF are not. */
static inline size_t sg_utf8_seq_len(const unsigned char *s, size_t n) {
  unsigned c = s[0];
  size_t len = c < 0x80                 ? 1
               : c >= 0xC2 && c <= 0xDF ? 2
               : c >= 0xE0 && c <= 0xEF ? 3
               : c >= 0xF0 && c <= 0xF4 ? 4
                                        : 0;
  if (len == 0 || len > n) return 0;
  for (size_t i = 1; i < len; i++)
    if ((s[i] & 0xC0) != 0x80) return 0;
  if ((c == 0xE0 && s[1] < 0xA0) || (c == 0xF0 && s[1] < 0x90)) return 0; /* overlong */
  if (c == 0xED && s[1] >= 0xA0) return 0;                                /* surrogate */
  if (c == 0xF4 && s[1] >= 0x90) return 0;                                /* past U+10FFFF */
  return len;
}

#endif
