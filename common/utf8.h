/* utf8.h — strict UTF-8: no overlong forms, no surrogates, nothing above U+10FFFF.
 *
 * Every text that crosses a boundary of wardpulse (payloads, config files, spool files)
 * is checked with these before anything else reads it, so names like "Phường Phúc Xá"
 * pass and legacy encodings or binary garbage are refused with the offset of the first
 * bad byte.
 */
#ifndef WP_UTF8_H
#define WP_UTF8_H

#include <stddef.h>

/* Length (1 to 4) of the valid UTF-8 sequence that starts at s, of which avail bytes
 * may be read; 0 if there is none (a bad or truncated sequence, or avail == 0). A NUL
 * byte is a valid sequence of length 1: callers that refuse NULs check for them. */
size_t wp_utf8_sequence_length(const unsigned char *s, size_t avail);

/* Offset of the first byte of s[0..len) that is not part of valid UTF-8, or len if
 * all of it is. */
size_t wp_utf8_invalid_at(const void *s, size_t len);

#endif
