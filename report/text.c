/* text.c — widths, numbers, dates and escaping for the commands' output (text.h). */
#include "text.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "calendar.h"
#include "utf8.h"

static bool cli_buf_reserve(struct cli_buf *b, size_t more)
{
    if (b->failed)
        return false;
    if (b->len + more + 1 <= b->cap)
        return true;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + more + 1)
        cap *= 2;
    char *data = realloc(b->data, cap);
    if (!data) {
        b->failed = true;
        return false;
    }
    b->data = data;
    b->cap = cap;
    return true;
}

void cli_buf_put(struct cli_buf *b, const char *s, size_t n)
{
    if (!cli_buf_reserve(b, n))
        return;
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void cli_buf_puts(struct cli_buf *b, const char *s)
{
    cli_buf_put(b, s, strlen(s));
}

void cli_buf_printf(struct cli_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || !cli_buf_reserve(b, (size_t)n))
        return;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void cli_buf_free(struct cli_buf *b)
{
    free(b->data);
    memset(b, 0, sizeof *b);
}

/* The code point at s (n bytes long, n ≥ 1, valid UTF-8). */
static uint32_t cli_decode(const unsigned char *s, size_t n)
{
    if (n == 1)
        return s[0];
    uint32_t cp = s[0] & (0x7F >> n);
    for (size_t i = 1; i < n; i++)
        cp = (cp << 6) | (s[i] & 0x3F);
    return cp;
}

static int cli_codepoint_width(uint32_t cp)
{
    if ((cp >= 0x0300 && cp <= 0x036F) || (cp >= 0x1AB0 && cp <= 0x1AFF)
        || (cp >= 0x1DC0 && cp <= 0x1DFF) || (cp >= 0x20D0 && cp <= 0x20FF)
        || (cp >= 0xFE20 && cp <= 0xFE2F) || (cp >= 0x200B && cp <= 0x200F) || cp == 0xFEFF)
        return 0;
    if ((cp >= 0x1100 && cp <= 0x115F) || (cp >= 0x2E80 && cp <= 0xA4CF && cp != 0x303F)
        || (cp >= 0xAC00 && cp <= 0xD7A3) || (cp >= 0xF900 && cp <= 0xFAFF)
        || (cp >= 0xFE30 && cp <= 0xFE4F) || (cp >= 0xFF00 && cp <= 0xFF60)
        || (cp >= 0xFFE0 && cp <= 0xFFE6) || (cp >= 0x1F300 && cp <= 0x1F64F)
        || (cp >= 0x1F900 && cp <= 0x1F9FF) || (cp >= 0x20000 && cp <= 0x3FFFD))
        return 2;
    return 1;
}

/* Bytes and columns of the character at s (NUL-terminated, *s != 0). */
static size_t cli_char(const char *s, int *cols)
{
    size_t avail = strnlen(s, 4);
    size_t n = wp_utf8_sequence_length((const unsigned char *)s, avail);
    if (n == 0) {
        *cols = 1;
        return 1;
    }
    *cols = cli_codepoint_width(cli_decode((const unsigned char *)s, n));
    return n;
}

size_t cli_text_width(const char *s)
{
    size_t w = 0;
    while (s && *s) {
        int cols;
        s += cli_char(s, &cols);
        w += (size_t)cols;
    }
    return w;
}

size_t cli_text_cut(struct cli_buf *out, const char *s, size_t cols)
{
    size_t width = cli_text_width(s);
    if (width <= cols) {
        cli_buf_puts(out, s);
        return width;
    }
    if (cols == 0)
        return 0;
    size_t limit = cols - 1, w = 0, bytes = 0;
    while (s[bytes]) {
        int cw;
        size_t n = cli_char(s + bytes, &cw);
        if (cw > 0 && w + (size_t)cw > limit)
            break;
        w += (size_t)cw;
        bytes += n;
    }
    while (bytes > 0 && s[bytes - 1] == ' ') {
        bytes--;
        w--;
    }
    cli_buf_put(out, s, bytes);
    cli_buf_puts(out, "…");
    return w + 1;
}

static void cli_spaces(struct cli_buf *out, size_t n)
{
    while (n--)
        cli_buf_put(out, " ", 1);
}

void cli_text_cell(struct cli_buf *out, const char *s, size_t cols, enum cli_align align)
{
    size_t width = cli_text_width(s);
    if (width >= cols) {
        cli_text_cut(out, s, cols);
        return;
    }
    if (align == CLI_RIGHT)
        cli_spaces(out, cols - width);
    cli_buf_puts(out, s);
    if (align == CLI_LEFT)
        cli_spaces(out, cols - width);
}

void cli_text_wrap(struct cli_buf *out, const char *s, size_t cols, size_t indent,
                   bool indent_first)
{
    size_t line = 0;   /* columns used on the current line, indent included */
    bool first_word = true;
    if (indent_first)
        cli_spaces(out, indent);
    line = indent_first ? indent : 0;
    while (*s) {
        while (*s == ' ' || *s == '\n')
            s++;
        if (!*s)
            break;
        size_t n = strcspn(s, " \n");
        char word[1024];
        size_t take = n < sizeof word - 1 ? n : sizeof word - 1;
        memcpy(word, s, take);
        word[take] = '\0';
        size_t w = cli_text_width(word);
        if (!first_word && line + 1 + w > cols) {
            cli_buf_puts(out, "\n");
            cli_spaces(out, indent);
            line = indent;
        } else if (!first_word) {
            cli_buf_puts(out, " ");
            line++;
        }
        cli_buf_put(out, s, n);
        line += w;
        first_word = false;
        s += n;
    }
}

const char *cli_short_name(const char *name, char *buf, size_t size)
{
    /* English names end with their kind: "Phuc Xa ward". */
    static const char *const suffixes[] = {" ward", " commune", " district", " town"};
    size_t len = strlen(name);
    for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
        size_t n = strlen(suffixes[i]);
        if (len > n && strcmp(name + len - n, suffixes[i]) == 0) {
            snprintf(buf, size, "%.*s", (int)(len - n), name);
            return buf;
        }
    }
    static const char *const kinds[] = {"Phường ", "Xã ", "Thị trấn ", "Quận ", "Huyện ",
                                        "Thị xã ", "Thành phố "};
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        size_t n = strlen(kinds[i]);
        if (strncmp(name, kinds[i], n) == 0 && name[n])
            return name + n;
    }
    return name;
}

void cli_format_int(char *buf, size_t size, int64_t n, char sep)
{
    char digits[32];
    unsigned long long u = n < 0 ? 0ULL - (unsigned long long)n : (unsigned long long)n;
    int len = snprintf(digits, sizeof digits, "%llu", u);
    char out[48];
    size_t o = 0;
    if (n < 0)
        out[o++] = '-';
    for (int i = 0; i < len; i++) {
        if (i > 0 && (len - i) % 3 == 0)
            out[o++] = sep;
        out[o++] = digits[i];
    }
    out[o] = '\0';
    snprintf(buf, size, "%s", out);
}

void cli_format_percent(char *buf, size_t size, double ratio, int decimals, char mark)
{
    if (!isfinite(ratio)) {
        snprintf(buf, size, "?");
        return;
    }
    if (decimals <= 0) {
        snprintf(buf, size, "%lld", llround(ratio * 100.0));
        return;
    }
    long long tenths = llround(ratio * 1000.0);
    const char *sign = tenths < 0 ? "-" : "";
    if (tenths < 0)
        tenths = -tenths;
    if (tenths % 10 == 0)   /* "100", not "100,0": as the aggregator's texts say it */
        snprintf(buf, size, "%s%lld", sign, tenths / 10);
    else
        snprintf(buf, size, "%s%lld%c%lld", sign, tenths / 10, mark, tenths % 10);
}

void cli_format_day(char *buf, size_t size, int64_t day, bool vi)
{
    if (vi)
        wp_date_format_dmy(day, buf, size);
    else
        wp_date_format(day, buf, size);
}

static void cli_hm(int64_t unix_ms, int utc_offset_minutes, int64_t *day, int *h, int *min)
{
    *day = wp_local_day_at(unix_ms, utc_offset_minutes);
    int minute = wp_local_minute_of_day(unix_ms, utc_offset_minutes);
    *h = minute / 60;
    *min = minute % 60;
}

void cli_format_short_time(char *buf, size_t size, int64_t unix_ms, int utc_offset_minutes,
                           bool vi)
{
    int64_t day;
    int64_t y;
    int h, min, m, d;
    cli_hm(unix_ms, utc_offset_minutes, &day, &h, &min);
    wp_day_to_ymd(day, &y, &m, &d);
    if (vi)
        snprintf(buf, size, "%02d/%02d %02d:%02d", d, m, h, min);
    else
        snprintf(buf, size, "%02d-%02d %02d:%02d", m, d, h, min);
}

void cli_format_time(char *buf, size_t size, int64_t unix_ms, int utc_offset_minutes, bool vi)
{
    int64_t day;
    int h, min;
    char date[16];
    cli_hm(unix_ms, utc_offset_minutes, &day, &h, &min);
    cli_format_day(date, sizeof date, day, vi);
    snprintf(buf, size, "%s %02d:%02d", date, h, min);
}

void cli_format_age(char *buf, size_t size, int64_t age_ms)
{
    if (age_ms < 0) {
        snprintf(buf, size, "-");
        return;
    }
    int64_t s = age_ms / 1000;
    if (s < 60)
        snprintf(buf, size, "%llds", (long long)s);
    else if (s < 3600)
        snprintf(buf, size, "%lldm", (long long)(s / 60));
    else if (s < 2 * 86400)
        snprintf(buf, size, "%lldh", (long long)(s / 3600));
    else if (s < 14 * 86400)
        snprintf(buf, size, "%lldd", (long long)(s / 86400));
    else if (s < 1000LL * 7 * 86400)
        snprintf(buf, size, "%lldw", (long long)(s / (7 * 86400)));
    else
        snprintf(buf, size, "%lldy", (long long)(s / (365 * 86400)));
}

void cli_html_escape(struct cli_buf *out, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '&': cli_buf_puts(out, "&amp;"); break;
        case '<': cli_buf_puts(out, "&lt;"); break;
        case '>': cli_buf_puts(out, "&gt;"); break;
        case '"': cli_buf_puts(out, "&quot;"); break;
        case '\'': cli_buf_puts(out, "&#39;"); break;
        default: cli_buf_put(out, s, 1);
        }
    }
}

void cli_md_escape(struct cli_buf *out, const char *s)
{
    for (; s && *s; s++) {
        if (*s == '\n' || *s == '\r') {
            cli_buf_put(out, " ", 1);
            continue;
        }
        if (strchr("\\`*_[]<>|#", *s))
            cli_buf_put(out, "\\", 1);
        cli_buf_put(out, s, 1);
    }
}

bool cli_use_colour(FILE *stream)
{
    const char *no = getenv("NO_COLOR");
    if (no && *no)
        return false;
    return isatty(fileno(stream)) == 1;
}
