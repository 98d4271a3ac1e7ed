/* text.h — what the commands print: terminal widths of UTF-8 text, numbers, dates and
 * weeks the Vietnamese way, escaping for HTML and Markdown, and a growable buffer.
 *
 * Widths: a code point is one column, except combining marks (zero: "e" + U+0301 is
 * one column) and East Asian wide characters (two). Vietnamese letters with diacritics,
 * precomposed or not, are one column each. Text that is not valid UTF-8 counts a column
 * per bad byte, so a width is never negative and output never splits a sequence.
 *
 * Days are days since 1970-01-01 in local time; instants are Unix milliseconds.
 */
#ifndef WP_CLI_TEXT_H
#define WP_CLI_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* A growable NUL-terminated string. Zero-initialise; on allocation failure `failed` is
 * set and later appends do nothing. cli_buf_free releases data. */
struct cli_buf {
    char *data;
    size_t len, cap;
    bool failed;
};

void cli_buf_put(struct cli_buf *b, const char *s, size_t n);
void cli_buf_puts(struct cli_buf *b, const char *s);
void cli_buf_printf(struct cli_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void cli_buf_free(struct cli_buf *b);

/* Terminal columns of s. */
size_t cli_text_width(const char *s);

enum cli_align { CLI_LEFT, CLI_RIGHT };

/* Writes s in exactly cols columns: cut with "…" when wider, padded with spaces on the
 * right (CLI_LEFT) or left (CLI_RIGHT) when narrower. */
void cli_text_cell(struct cli_buf *out, const char *s, size_t cols, enum cli_align align);

/* Appends the longest prefix of s that fits in cols columns, "…" included when cut;
 * returns the columns written. */
size_t cli_text_cut(struct cli_buf *out, const char *s, size_t cols);

/* Appends s wrapped at word boundaries to lines of at most cols columns, each line
 * after the first (and the first too when indent_first) starting with indent spaces. */
void cli_text_wrap(struct cli_buf *out, const char *s, size_t cols, size_t indent,
                   bool indent_first);

/* "Phường Phúc Xá" → "Phúc Xá", "Phuc Xa ward" → "Phuc Xa": the name without the unit's
 * kind (Phường, Xã, Thị trấn, Quận, Huyện, Thị xã, Thành phố; ward, commune, district,
 * town), for narrow columns. Returns a pointer into name, or buf (size bytes) holding
 * the shortened name. */
const char *cli_short_name(const char *name, char *buf, size_t size);

/* Numbers: 12345 → "12.345" (vi, sep '.') or "12,345" (en, sep ','). buf ≥ 32 bytes. */
void cli_format_int(char *buf, size_t size, int64_t n, char sep);

/* ratio → percent with `decimals` (0 or 1) decimals and the decimal mark given, without
 * the sign: 0.715 → "71,5" / "72"; a whole number has no decimals (1.0 → "100"). buf
 * ≥ 32 bytes. */
void cli_format_percent(char *buf, size_t size, double ratio, int decimals, char mark);

/* The calendar (days, ISO weeks, local days) is common/calendar.h. */

/* "03/05/2022" (vi) or "2022-05-03" (en). buf ≥ 16 bytes. */
void cli_format_day(char *buf, size_t size, int64_t day, bool vi);
/* "03/05 16:00" (vi) or "05-03 16:00" (en), local time. buf ≥ 16 bytes. */
void cli_format_short_time(char *buf, size_t size, int64_t unix_ms, int utc_offset_minutes,
                           bool vi);
/* "03/05/2022 16:00" (vi) or "2022-05-03 16:00" (en). buf ≥ 24 bytes. */
void cli_format_time(char *buf, size_t size, int64_t unix_ms, int utc_offset_minutes, bool vi);
/* An age in the largest unit that fits: "45s", "12m", "5h", "3d", "14w"; "-" when
 * negative (the database is ahead of the clock). buf ≥ 16 bytes. */
void cli_format_age(char *buf, size_t size, int64_t age_ms);

/* Escaped text: & < > " ' for HTML; for Markdown table cells the characters that would
 * start markup or end the cell (\ ` * _ [ ] < > | #), and newlines become spaces. */
void cli_html_escape(struct cli_buf *out, const char *s);
void cli_md_escape(struct cli_buf *out, const char *s);

/* True if colour should be used on the stream: a terminal, and NO_COLOR unset or empty. */
bool cli_use_colour(FILE *stream);

#endif
