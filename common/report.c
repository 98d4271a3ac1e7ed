/* report.c — decoding and encoding of the report payload (contract in report.h).
 *
 * Decoding runs the cheapest checks first, so that hostile input costs little:
 *   size bound → UTF-8 → strict JSON syntax (exact error offsets) → cJSON tree →
 *   identity (ward, stream, seq: kept for the ack whatever fails next) → real period →
 *   real instant → schema → what the schema cannot say (duplicate keys, integers JSON
 *   carries exactly) → copy into struct wp_report.
 */
#include "report.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schema_registry.h"
#include "timefmt.h"
#include "topic.h"
#include "utf8.h"

/* The largest integer a JSON number (an IEEE double, in cJSON and in most other
 * parsers) carries exactly; a count above it would be silently rounded. */
#define REPORT_MAX_EXACT_INT 9007199254740991.0


/* A strict RFC 8259 syntax check run before cJSON, for two reasons: its error offset
 * points at the offending byte (cJSON's is sometimes one past it), and it refuses what
 * cJSON lets through (raw control characters in strings, "01", "1.", "+1", lone
 * surrogates) and what cJSON would silently change (\u0000 cuts a C string short).
 * Recursive, with the depth bounded well below any stack limit. */
#define REPORT_JSON_MAX_DEPTH 64

struct report_scan {
    const unsigned char *s;
    size_t len, pos;
    const char *what;       /* why it stopped */
};

static void report_scan_ws(struct report_scan *sc)
{
    while (sc->pos < sc->len && (sc->s[sc->pos] == ' ' || sc->s[sc->pos] == '\t'
                                 || sc->s[sc->pos] == '\n' || sc->s[sc->pos] == '\r'))
        sc->pos++;
}

static bool report_scan_fail(struct report_scan *sc, const char *what)
{
    sc->what = what;
    return false;
}

static int report_hex(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Reads the 4 hex digits after "\u" at sc->pos (which points at 'u'); -1 if malformed. */
static long report_scan_u4(struct report_scan *sc)
{
    long cp = 0;
    if (sc->len - sc->pos < 5)
        return -1;
    for (size_t k = 1; k <= 4; k++) {
        int h = report_hex(sc->s[sc->pos + k]);
        if (h < 0)
            return -1;
        cp = cp * 16 + h;
    }
    return cp;
}

static bool report_scan_string(struct report_scan *sc)
{
    sc->pos++; /* the opening quote */
    while (sc->pos < sc->len) {
        unsigned char c = sc->s[sc->pos];
        if (c == '"') {
            sc->pos++;
            return true;
        }
        if (c < 0x20)
            return report_scan_fail(sc, "control character in a string");
        if (c != '\\') {
            sc->pos++;
            continue;
        }
        size_t escape = sc->pos++;
        if (sc->pos >= sc->len)
            break;
        c = sc->s[sc->pos];
        if (c != 'u') {
            if (!strchr("\"\\/bfnrt", c) || c == '\0') {
                sc->pos = escape;
                return report_scan_fail(sc, "invalid escape in a string");
            }
            sc->pos++;
            continue;
        }
        long cp = report_scan_u4(sc);
        if (cp < 0 || cp == 0 || (cp >= 0xDC00 && cp <= 0xDFFF)) {
            sc->pos = escape;
            return report_scan_fail(sc, cp == 0 ? "\\u0000 in a string"
                                                : "invalid \\u escape in a string");
        }
        sc->pos += 5;
        if (cp >= 0xD800 && cp <= 0xDBFF) {
            /* A high surrogate must be followed by an escaped low surrogate. */
            long low = -1;
            if (sc->len - sc->pos >= 6 && sc->s[sc->pos] == '\\' && sc->s[sc->pos + 1] == 'u') {
                sc->pos++;
                low = report_scan_u4(sc);
                sc->pos--;
            }
            if (low < 0xDC00 || low > 0xDFFF) {
                sc->pos = escape;
                return report_scan_fail(sc, "unpaired surrogate in a string");
            }
            sc->pos += 6;
        }
    }
    return report_scan_fail(sc, "unterminated string");
}

static bool report_scan_digits(struct report_scan *sc)
{
    size_t start = sc->pos;
    while (sc->pos < sc->len && sc->s[sc->pos] >= '0' && sc->s[sc->pos] <= '9')
        sc->pos++;
    return sc->pos > start || report_scan_fail(sc, "digit expected in a number");
}

static bool report_scan_number(struct report_scan *sc)
{
    if (sc->s[sc->pos] == '-')
        sc->pos++;
    if (sc->pos < sc->len && sc->s[sc->pos] == '0') {
        sc->pos++;
        if (sc->pos < sc->len && sc->s[sc->pos] >= '0' && sc->s[sc->pos] <= '9')
            return report_scan_fail(sc, "leading zero in a number");
    } else if (!report_scan_digits(sc)) {
        return false;
    }
    if (sc->pos < sc->len && sc->s[sc->pos] == '.') {
        sc->pos++;
        if (!report_scan_digits(sc))
            return false;
    }
    if (sc->pos < sc->len && (sc->s[sc->pos] == 'e' || sc->s[sc->pos] == 'E')) {
        sc->pos++;
        if (sc->pos < sc->len && (sc->s[sc->pos] == '+' || sc->s[sc->pos] == '-'))
            sc->pos++;
        if (!report_scan_digits(sc))
            return false;
    }
    return true;
}

static bool report_scan_value(struct report_scan *sc, int depth);

/* An object or an array, sc->pos at its opening bracket. */
static bool report_scan_container(struct report_scan *sc, int depth)
{
    bool object = sc->s[sc->pos] == '{';
    unsigned char close = object ? '}' : ']';
    if (depth >= REPORT_JSON_MAX_DEPTH)
        return report_scan_fail(sc, "nested too deeply");
    sc->pos++;
    report_scan_ws(sc);
    if (sc->pos < sc->len && sc->s[sc->pos] == close) {
        sc->pos++;
        return true;
    }
    for (;;) {
        if (object) {
            report_scan_ws(sc);
            if (sc->pos >= sc->len || sc->s[sc->pos] != '"')
                return report_scan_fail(sc, "a member name (string) expected");
            if (!report_scan_string(sc))
                return false;
            report_scan_ws(sc);
            if (sc->pos >= sc->len || sc->s[sc->pos] != ':')
                return report_scan_fail(sc, "':' expected");
            sc->pos++;
        }
        if (!report_scan_value(sc, depth + 1))
            return false;
        report_scan_ws(sc);
        if (sc->pos < sc->len && sc->s[sc->pos] == ',') {
            sc->pos++;
            continue;
        }
        if (sc->pos < sc->len && sc->s[sc->pos] == close) {
            sc->pos++;
            return true;
        }
        return report_scan_fail(sc, object ? "',' or '}' expected" : "',' or ']' expected");
    }
}

static bool report_scan_value(struct report_scan *sc, int depth)
{
    static const char *const literals[] = {"true", "false", "null"};
    report_scan_ws(sc);
    if (sc->pos >= sc->len)
        return report_scan_fail(sc, "unexpected end");
    unsigned char c = sc->s[sc->pos];
    if (c == '{' || c == '[')
        return report_scan_container(sc, depth);
    if (c == '"')
        return report_scan_string(sc);
    if (c == '-' || (c >= '0' && c <= '9'))
        return report_scan_number(sc);
    for (size_t i = 0; i < sizeof literals / sizeof literals[0]; i++) {
        size_t n = strlen(literals[i]);
        if (sc->len - sc->pos >= n && memcmp(sc->s + sc->pos, literals[i], n) == 0) {
            sc->pos += n;
            return true;
        }
    }
    return report_scan_fail(sc, "unexpected character");
}

/* Returns len if s is one JSON text, else the offset of the error with *what saying it. */
static size_t report_json_error_at(const unsigned char *s, size_t len, const char **what)
{
    struct report_scan sc = {s, len, 0, NULL};
    if (report_scan_value(&sc, 0)) {
        report_scan_ws(&sc);
        if (sc.pos == len)
            return len;
        sc.what = "data after the JSON value";
    }
    *what = sc.what;
    return sc.pos < len ? sc.pos : len;
}

/* True if number is an integer in [min, REPORT_MAX_EXACT_INT]. */
static bool report_exact_int(const cJSON *item, double min, int64_t *out)
{
    if (!cJSON_IsNumber(item))
        return false;
    double d = item->valuedouble;
    if (!isfinite(d) || d != floor(d) || d < min || d > REPORT_MAX_EXACT_INT)
        return false;
    if (out)
        *out = (int64_t)d;
    return true;
}

static bool report_stream_usable(const char *s)
{
    if (strlen(s) != WP_STREAM_LEN)
        return false;
    for (size_t i = 0; i < WP_STREAM_LEN; i++) {
        char c = s[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return false;
    }
    return true;
}

/* Copies ward, stream and seq into out when each is usable on its own, so that a
 * report rejected for any other reason can still be acked as rejected. */
static void report_take_identity(const cJSON *root, struct wp_report *out)
{
    const cJSON *ward = cJSON_GetObjectItemCaseSensitive(root, "ward");
    const cJSON *stream = cJSON_GetObjectItemCaseSensitive(root, "stream");
    const cJSON *seq = cJSON_GetObjectItemCaseSensitive(root, "seq");
    if (cJSON_IsString(ward) && wp_unit_code_valid(ward->valuestring))
        snprintf(out->ward, sizeof out->ward, "%s", ward->valuestring);
    if (cJSON_IsString(stream) && report_stream_usable(stream->valuestring))
        snprintf(out->stream, sizeof out->stream, "%s", stream->valuestring);
    /* Above WP_SEQ_MAX a seq could not be acked: the ack schema bounds it, and cJSON would
     * print it rounded (1e+15). */
    if (!report_exact_int(seq, 1, &out->seq) || out->seq > WP_SEQ_MAX)
        out->seq = 0;
}

static int report_key_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* cJSON keeps both members of {"a":1,"a":2}; a reader taking the first and another the
 * last would disagree about the value, so such objects are refused. Sorting keeps a
 * payload with thousands of keys cheap; without memory for it, the quadratic scan. */
static bool report_duplicate_key(const cJSON *object, const char *path, char *err,
                                 size_t errlen)
{
    if (!cJSON_IsObject(object))
        return false;
    size_t n = 0;
    for (const cJSON *a = object->child; a; a = a->next)
        n++;
    const char *dup = NULL;
    const char **keys = n > 1 ? malloc(n * sizeof *keys) : NULL;
    if (keys) {
        size_t i = 0;
        for (const cJSON *a = object->child; a; a = a->next)
            keys[i++] = a->string ? a->string : "";
        qsort(keys, n, sizeof *keys, report_key_cmp);
        for (i = 1; i < n && !dup; i++)
            if (strcmp(keys[i - 1], keys[i]) == 0)
                dup = keys[i];
    } else {
        for (const cJSON *a = object->child; a && !dup; a = a->next)
            for (const cJSON *b = a->next; b && !dup; b = b->next)
                if (a->string && b->string && strcmp(a->string, b->string) == 0)
                    dup = a->string;
    }
    if (dup)
        snprintf(err, errlen, "%s: duplicate key \"%s\"", path, dup);
    free(keys);
    return dup != NULL;
}

static char *report_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *copy = malloc(n);
    if (copy)
        memcpy(copy, s, n);
    return copy;
}

/* Copies the object members of a validated report into out. */
static enum wp_err report_copy(const cJSON *root, struct wp_report *out, char *err,
                               size_t errlen)
{
    const cJSON *period = cJSON_GetObjectItemCaseSensitive(root, "period");
    const cJSON *observed = cJSON_GetObjectItemCaseSensitive(root, "observed_at");
    const cJSON *values = cJSON_GetObjectItemCaseSensitive(root, "values");
    const cJSON *tasks = cJSON_GetObjectItemCaseSensitive(root, "tasks");
    const cJSON *note = cJSON_GetObjectItemCaseSensitive(root, "note");

    snprintf(out->period, sizeof out->period, "%s", period->valuestring);
    snprintf(out->observed_at, sizeof out->observed_at, "%s", observed->valuestring);
    const cJSON *committed = cJSON_GetObjectItemCaseSensitive(root, "committed_at");
    if (cJSON_IsString(committed))
        snprintf(out->committed_at, sizeof out->committed_at, "%s", committed->valuestring);

    size_t nvalues = 0, ntasks = 0;
    for (const cJSON *v = values ? values->child : NULL; v; v = v->next)
        nvalues++;
    for (const cJSON *t = tasks ? tasks->child : NULL; t; t = t->next)
        ntasks++;
    if (nvalues && !(out->values = calloc(nvalues, sizeof *out->values)))
        goto nomem;
    if (ntasks && !(out->tasks = calloc(ntasks, sizeof *out->tasks)))
        goto nomem;

    for (const cJSON *v = values ? values->child : NULL; v; v = v->next) {
        struct wp_report_value *dst = &out->values[out->value_count];
        if (!report_exact_int(v, 0, &dst->value)) {
            snprintf(err, errlen, "values.%s: must be an integer from 0 to %.0f", v->string,
                     REPORT_MAX_EXACT_INT);
            return WP_ERR_INVALID;
        }
        if (!(dst->indicator = report_strdup(v->string)))
            goto nomem;
        out->value_count++;
    }
    for (const cJSON *t = tasks ? tasks->child : NULL; t; t = t->next) {
        struct wp_report_task *dst = &out->tasks[out->task_count];
        if (!cJSON_IsString(t)) {
            snprintf(err, errlen, "tasks.%s: must be a string", t->string);
            return WP_ERR_INVALID;
        }
        if (!(dst->task = report_strdup(t->string)))
            goto nomem;
        if (!(dst->state = report_strdup(t->valuestring))) {
            free(dst->task);
            dst->task = NULL;
            goto nomem;
        }
        out->task_count++;
    }
    if (cJSON_IsString(note) && !(out->note = report_strdup(note->valuestring)))
        goto nomem;
    const cJSON *unacked = cJSON_GetObjectItemCaseSensitive(root, "unacked_from");
    const cJSON *kept = cJSON_GetObjectItemCaseSensitive(root, "kept_from");
    if (unacked && !report_exact_int(unacked, 1, &out->unacked_from))
        out->unacked_from = 0;
    if (kept && !report_exact_int(kept, 1, &out->kept_from))
        out->kept_from = 0;
    /* The schema bounds each; only their order is left to say. */
    if (out->unacked_from > out->seq || out->kept_from > out->seq
        || (out->unacked_from && out->kept_from > out->unacked_from)) {
        snprintf(err, errlen, "kept_from (%lld) ≤ unacked_from (%lld) ≤ seq (%lld) must hold",
                 (long long)out->kept_from, (long long)out->unacked_from, (long long)out->seq);
        return WP_ERR_INVALID;
    }
    return WP_OK;

nomem:
    snprintf(err, errlen, "out of memory");
    return WP_ERR_NOMEM;
}

/* If the period is a string shaped like a day or week, it must be a real one. */
static bool report_check_period(const cJSON *root, char *err, size_t errlen)
{
    const cJSON *period = cJSON_GetObjectItemCaseSensitive(root, "period");
    if (!cJSON_IsString(period))
        return true; /* the schema says what is wrong with it */
    const char *p = period->valuestring;
    size_t n = strlen(p);
    bool week_shape = n == 8 && p[4] == '-' && p[5] == 'W';
    bool day_shape = n == 10 && p[4] == '-' && p[7] == '-';
    if ((!week_shape && !day_shape) || wp_period_parse(p, NULL, NULL))
        return true;
    if (week_shape)
        snprintf(err, errlen, "period: ISO week %s does not exist", p);
    else
        snprintf(err, errlen, "period: %s is not a real date", p);
    return false;
}

/* If observed_at is a string, it must be a real RFC 3339 instant with an offset. The
 * schema would only say it "must match format date-time"; a clerk's program that wrote
 * local time without an offset is told that the offset is what is missing. The value is
 * quoted only when it is short printable ASCII (it comes from the network). */
static bool report_check_observed_at(const cJSON *root, char *err, size_t errlen)
{
    const cJSON *observed = cJSON_GetObjectItemCaseSensitive(root, "observed_at");
    if (!cJSON_IsString(observed) || wp_datetime_parse(observed->valuestring, NULL))
        return true; /* the schema says what is wrong with a non-string */
    const char *s = observed->valuestring;
    size_t n = strlen(s);
    bool quotable = n <= 40;
    for (size_t i = 0; quotable && i < n; i++)
        quotable = s[i] >= 0x20 && s[i] < 0x7f;
    char with_offset[64];
    if (quotable && snprintf(with_offset, sizeof with_offset, "%s+07:00", s) > 0
        && wp_datetime_parse(with_offset, NULL))
        snprintf(err, errlen, "observed_at: %s has no UTC offset (RFC 3339 needs one, e.g. "
                 "%s+07:00)", s, s);
    else if (quotable)
        snprintf(err, errlen, "observed_at: %s is not an RFC 3339 date-time with offset "
                 "(e.g. 2022-05-03T17:05:00+07:00)", s);
    else
        snprintf(err, errlen, "observed_at: not an RFC 3339 date-time with offset (e.g. "
                 "2022-05-03T17:05:00+07:00)");
    return false;
}

/* What the schema cannot check: the period names a real day or an existing ISO week,
 * the instant is a real one, and the fields fit struct wp_report. The schema guarantees
 * the types, so the members are strings here. */
static bool report_check_semantics(const cJSON *root, char *err, size_t errlen)
{
    const cJSON *ward = cJSON_GetObjectItemCaseSensitive(root, "ward");
    const cJSON *stream = cJSON_GetObjectItemCaseSensitive(root, "stream");
    const cJSON *seq = cJSON_GetObjectItemCaseSensitive(root, "seq");
    const cJSON *period = cJSON_GetObjectItemCaseSensitive(root, "period");
    const cJSON *observed = cJSON_GetObjectItemCaseSensitive(root, "observed_at");
    const cJSON *values = cJSON_GetObjectItemCaseSensitive(root, "values");
    const cJSON *tasks = cJSON_GetObjectItemCaseSensitive(root, "tasks");

    if (!cJSON_IsString(ward) || !wp_unit_code_valid(ward->valuestring)) {
        snprintf(err, errlen, "ward: must be a unit code of 2 to 5 digits");
        return false;
    }
    if (!cJSON_IsString(stream) || !report_stream_usable(stream->valuestring)) {
        snprintf(err, errlen, "stream: must be %d lowercase hexadecimal digits", WP_STREAM_LEN);
        return false;
    }
    int64_t seq_value = 0;
    if (!report_exact_int(seq, 1, &seq_value) || seq_value > WP_SEQ_MAX) {
        snprintf(err, errlen, "seq: must be an integer from 1 to %lld", WP_SEQ_MAX);
        return false;
    }
    if (!cJSON_IsString(period)) {
        snprintf(err, errlen, "period: must be a string");
        return false;
    }
    if (!report_check_period(root, err, errlen))
        return false;
    if (strlen(period->valuestring) >= sizeof ((struct wp_report *)0)->period
        || !wp_period_parse(period->valuestring, NULL, NULL)) {
        snprintf(err, errlen, "period: must be a day (YYYY-MM-DD) or an ISO week (YYYY-Www)");
        return false;
    }
    if (!cJSON_IsString(observed) || !wp_datetime_parse(observed->valuestring, NULL)) {
        snprintf(err, errlen, "observed_at: must be an RFC 3339 date-time with offset");
        return false;
    }
    if (strlen(observed->valuestring) >= sizeof ((struct wp_report *)0)->observed_at) {
        /* A real instant, with more fractional digits than anybody measures. */
        snprintf(err, errlen, "observed_at: longer than %zu characters",
                 sizeof ((struct wp_report *)0)->observed_at - 1);
        return false;
    }
    const cJSON *committed = cJSON_GetObjectItemCaseSensitive(root, "committed_at");
    if (committed && (!cJSON_IsString(committed)
                      || !wp_datetime_parse(committed->valuestring, NULL))) {
        snprintf(err, errlen, "committed_at: must be an RFC 3339 date-time with offset");
        return false;
    }
    if (committed && strlen(committed->valuestring)
                         >= sizeof ((struct wp_report *)0)->committed_at) {
        snprintf(err, errlen, "committed_at: longer than %zu characters",
                 sizeof ((struct wp_report *)0)->committed_at - 1);
        return false;
    }
    if (values && !cJSON_IsObject(values)) {
        snprintf(err, errlen, "values: must be an object");
        return false;
    }
    if (tasks && !cJSON_IsObject(tasks)) {
        snprintf(err, errlen, "tasks: must be an object");
        return false;
    }
    return !report_duplicate_key(root, "(root)", err, errlen)
        && !report_duplicate_key(values, "values", err, errlen)
        && !report_duplicate_key(tasks, "tasks", err, errlen);
}

enum wp_err wp_report_decode(const void *payload, size_t len, struct wp_report *out,
                             char *err, size_t errlen)
{
    enum wp_err rc = WP_ERR_INVALID;
    char *text = NULL;
    cJSON *root = NULL;
    char scratch[8];

    /* err may be NULL for callers that only want the verdict. */
    if (!err) {
        err = scratch;
        errlen = sizeof scratch;
    }
    memset(out, 0, sizeof *out);
    if (len == 0 || !payload) {
        snprintf(err, errlen, "payload is empty");
        return WP_ERR_INVALID;
    }
    if (len > WP_REPORT_MAX_BYTES) {
        snprintf(err, errlen, "payload of %zu bytes exceeds the limit of %d bytes", len,
                 WP_REPORT_MAX_BYTES);
        return WP_ERR_INVALID;
    }
    size_t bad = wp_utf8_invalid_at(payload, len);
    if (bad < len) {
        snprintf(err, errlen, "payload is not valid UTF-8 at byte %zu", bad);
        return WP_ERR_INVALID;
    }
    const char *what = NULL;
    bad = report_json_error_at(payload, len, &what);
    if (bad < len || what) {
        snprintf(err, errlen, "payload is not valid JSON at byte %zu: %s", bad, what);
        return WP_ERR_INVALID;
    }

    /* MQTT payloads are not NUL-terminated; cJSON is safest on a terminated copy. */
    text = malloc(len + 1);
    if (!text) {
        snprintf(err, errlen, "out of memory");
        rc = WP_ERR_NOMEM;
        goto cleanup;
    }
    memcpy(text, payload, len);
    text[len] = '\0';

    /* The syntax is known good, so a failure here can only be memory. */
    root = cJSON_ParseWithLength(text, len);
    if (!root) {
        snprintf(err, errlen, "out of memory parsing the payload");
        rc = WP_ERR_NOMEM;
        goto cleanup;
    }
    if (!cJSON_IsObject(root)) {
        snprintf(err, errlen, "(root): must be an object");
        goto cleanup;
    }
    report_take_identity(root, out);

    /* A period of the right shape but no real day or week, and an observed_at that is
     * no instant (no offset, most likely), get a message naming them, rather than the
     * schema's generic one about their format. */
    if (!report_check_period(root, err, errlen) || !report_check_observed_at(root, err, errlen)
        || !wp_schemas_validate("report", root, err, errlen))
        goto cleanup;
    if (!report_check_semantics(root, err, errlen))
        goto cleanup;
    rc = report_copy(root, out, err, errlen);

cleanup:
    if (rc != WP_OK) {
        /* snprintf may have cut the message inside a multi-byte character (a long key
         * quoted by the validator); it travels in JSON acks, which must be UTF-8. Its
         * parts come from valid UTF-8, so only such a cut tail can be invalid. */
        err[wp_utf8_invalid_at((const unsigned char *)err, strlen(err))] = '\0';
        /* Keep only the identity: the caller needs it for the ack, nothing else. */
        char ward[sizeof out->ward], stream[sizeof out->stream];
        int64_t seq = out->seq;
        memcpy(ward, out->ward, sizeof ward);
        memcpy(stream, out->stream, sizeof stream);
        wp_report_clear(out);
        memcpy(out->ward, ward, sizeof ward);
        memcpy(out->stream, stream, sizeof stream);
        out->seq = seq;
    }
    cJSON_Delete(root);
    free(text);
    return rc;
}

cJSON *wp_report_to_json(const struct wp_report *report)
{
    cJSON *root = cJSON_CreateObject();
    if (!root)
        return NULL;
    cJSON *values, *tasks;
    if (!cJSON_AddNumberToObject(root, "v", 1)
        || !cJSON_AddStringToObject(root, "ward", report->ward)
        || !cJSON_AddStringToObject(root, "stream", report->stream)
        || !cJSON_AddNumberToObject(root, "seq", (double)report->seq)
        || !cJSON_AddStringToObject(root, "period", report->period)
        || !cJSON_AddStringToObject(root, "observed_at", report->observed_at)
        || (report->committed_at[0]
            && !cJSON_AddStringToObject(root, "committed_at", report->committed_at))
        || !(values = cJSON_AddObjectToObject(root, "values")))
        goto fail;
    for (size_t i = 0; i < report->value_count; i++)
        if (!cJSON_AddNumberToObject(values, report->values[i].indicator,
                                     (double)report->values[i].value))
            goto fail;
    if (report->task_count) {
        if (!(tasks = cJSON_AddObjectToObject(root, "tasks")))
            goto fail;
        for (size_t i = 0; i < report->task_count; i++)
            if (!cJSON_AddStringToObject(tasks, report->tasks[i].task, report->tasks[i].state))
                goto fail;
    }
    if (report->note && !cJSON_AddStringToObject(root, "note", report->note))
        goto fail;
    if (report->unacked_from
        && !cJSON_AddNumberToObject(root, "unacked_from", (double)report->unacked_from))
        goto fail;
    if (report->kept_from
        && !cJSON_AddNumberToObject(root, "kept_from", (double)report->kept_from))
        goto fail;
    return root;

fail:
    cJSON_Delete(root);
    return NULL;
}

bool wp_report_period_not_ahead(const struct wp_report *report, int64_t now_ms, char *reason,
                                size_t reasonlen)
{
    int64_t first = 0, today = wp_local_day(now_ms);
    int days = 0;
    if (!wp_period_parse(report->period, &first, &days) || first <= today + WP_REPORT_DAYS_AHEAD)
        return true;
    char shown[16];
    wp_date_format(today, shown, sizeof shown);
    snprintf(reason, reasonlen, "period: %s begins more than a day after today (%s by this "
             "clock); a typing error in the date?", report->period, shown);
    return false;
}

#define REPORT_FNV_OFFSET WP_FNV1A_OFFSET
#define REPORT_FNV_PRIME 0x100000001b3ULL

uint64_t wp_fnv1a(uint64_t h, const void *bytes, size_t len)
{
    const unsigned char *p = bytes;
    for (size_t i = 0; i < len; i++)
        h = (h ^ p[i]) * REPORT_FNV_PRIME;
    return h;
}

uint64_t wp_fnv1a_str(uint64_t h, const char *s)
{
    return wp_fnv1a(h, s, strlen(s) + 1);
}

static uint64_t report_fnv_int(uint64_t h, int64_t v)
{
    char buf[24];
    int n = snprintf(buf, sizeof buf, "%lld", (long long)v);
    return wp_fnv1a(h, buf, (size_t)n + 1);
}

uint64_t wp_bytes_hash(const void *bytes, size_t len)
{
    return wp_fnv1a(REPORT_FNV_OFFSET, bytes, len);
}

uint64_t wp_report_content_hash(const struct wp_report *r)
{
    uint64_t h = REPORT_FNV_OFFSET;
    h = wp_fnv1a_str(h, r->ward);
    h = wp_fnv1a_str(h, r->stream);
    h = report_fnv_int(h, r->seq);
    h = wp_fnv1a_str(h, r->period);
    h = wp_fnv1a_str(h, r->observed_at);
    /* Fixed at intake, so part of the content; absent, it leaves the hash of a report
     * from an older agent as it was (hashes stored before migration 5 stay valid). */
    if (r->committed_at[0]) {
        h = wp_fnv1a(h, "committed_at", sizeof "committed_at");
        h = wp_fnv1a_str(h, r->committed_at);
    }
    /* Each value and task hashed on its own and the hashes added: the sum does not
     * depend on the order (keys are unique, the decoder sees to it). */
    uint64_t values = 0, tasks = 0;
    for (size_t i = 0; i < r->value_count; i++)
        values += report_fnv_int(wp_fnv1a_str(REPORT_FNV_OFFSET, r->values[i].indicator),
                                 r->values[i].value);
    for (size_t i = 0; i < r->task_count; i++)
        tasks += wp_fnv1a_str(wp_fnv1a_str(REPORT_FNV_OFFSET, r->tasks[i].task),
                                r->tasks[i].state);
    h = wp_fnv1a(h, &values, sizeof values);
    h = wp_fnv1a(h, "|", 1);
    h = wp_fnv1a(h, &tasks, sizeof tasks);
    return r->note ? wp_fnv1a_str(wp_fnv1a(h, "n", 1), r->note) : h;
}

char *wp_report_with_delivery(const char *payload, size_t len, int64_t unacked_from,
                              int64_t kept_from, size_t *out_len)
{
    *out_len = 0;
    if (len < 2 || payload[len - 1] != '}')
        return NULL;
    char tail[80];
    int n = snprintf(tail, sizeof tail, ",\"unacked_from\":%lld,\"kept_from\":%lld}",
                     (long long)unacked_from, (long long)kept_from);
    char *out = malloc(len - 1 + (size_t)n + 1);
    if (!out)
        return NULL;
    memcpy(out, payload, len - 1);
    memcpy(out + len - 1, tail, (size_t)n + 1);
    *out_len = len - 1 + (size_t)n;
    return out;
}

void wp_report_clear(struct wp_report *report)
{
    if (!report)
        return;
    for (size_t i = 0; i < report->value_count; i++)
        free(report->values[i].indicator);
    for (size_t i = 0; i < report->task_count; i++) {
        free(report->tasks[i].task);
        free(report->tasks[i].state);
    }
    free(report->values);
    free(report->tasks);
    free(report->note);
    memset(report, 0, sizeof *report);
}
