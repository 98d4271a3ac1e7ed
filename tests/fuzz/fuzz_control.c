/* fuzz_control.c — officers' commands on arbitrary bytes, as the aggregator handles every
 * message on wardpulse/v1/control/<district>/+ (aggregator/control.c):
 *   control_on_message on a real store (a SQLite file in a temporary directory:
 *   fuzz_tmp_base) with the real alerts, the aggregator's clock at FUZZ_NOW.
 * The input's first byte chooses the topic's last level (its low two bits: ack, silence,
 * unsilence, or an unknown command) and whether the message came as a retained copy (bit
 * 7); the rest is the payload. The store is emptied of commands and silences before
 * every input (a fresh control and alerts read it), so that a reproducer replays alone.
 * Contract (control.h, docs/topics-and-payloads.md "Acknowledge and silence"):
 *   - the message is ours (true) and is never left in a transaction;
 *   - a retained copy is skipped: no reply, nothing recorded;
 *   - otherwise exactly one reply, on control/001/reply/<id> when the payload is a JSON
 *     object (UTF-8, at most 4096 bytes) whose "id" is 1–64 of [A-Za-z0-9_-], else on
 *     reply/unknown; the reply is a
 *     valid control_reply (schema) with that id, and an error is printable (no control
 *     character);
 *   - ok only when the payload passes the command's schema (control_<command>), and a
 *     silence's reply names it; every command, refused or not, is one row of control_log
 *     (the audit) holding the payload as received.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <sqlite3.h>

#include "alerts.h"
#include "control.h"
#include "fuzz_common.h"
#include "schema_registry.h"
#include "store.h"
#include "utf8.h"

#define FUZZ_DISTRICT "001"
#define FUZZ_PREFIX "wardpulse/v1/control/" FUZZ_DISTRICT "/"
/* 2022-08-15T00:00:00+07:00: the valid examples' silences lie in its future. */
#define FUZZ_NOW 1660496400000LL
#define FUZZ_MAX_PUBLISHED 8

struct fuzz_message {
    char topic[256];
    char *payload;
};

static char fuzz_dir[256];
static char fuzz_path[300];
static struct store *fuzz_store;
static sqlite3 *fuzz_db;         /* the harness's own connection, to empty and inspect */
static struct fuzz_message fuzz_published[FUZZ_MAX_PUBLISHED];
static size_t fuzz_published_count;
static size_t fuzz_published_total;

static bool fuzz_publish(void *ctx, int *mid, const char *topic, const char *payload,
                         size_t len, bool retain)
{
    (void)ctx;
    (void)retain;
    static int next_mid;
    if (mid)
        *mid = ++next_mid;
    fuzz_published_total++;
    if (fuzz_published_count < FUZZ_MAX_PUBLISHED) {
        struct fuzz_message *m = &fuzz_published[fuzz_published_count++];
        snprintf(m->topic, sizeof m->topic, "%s", topic);
        m->payload = malloc(len + 1);
        FUZZ_CHECK(m->payload != NULL, "out of memory");
        memcpy(m->payload, payload, len);
        m->payload[len] = '\0';
    }
    return true;
}

static void fuzz_forget_published(void)
{
    for (size_t i = 0; i < fuzz_published_count; i++)
        free(fuzz_published[i].payload);
    fuzz_published_count = 0;
    fuzz_published_total = 0;
}

static void fuzz_sql(const char *sql)
{
    char *msg = NULL;
    int rc = sqlite3_exec(fuzz_db, sql, NULL, NULL, &msg);
    FUZZ_CHECK(rc == SQLITE_OK, "harness SQL %s: %s", sql, msg ? msg : "?");
}

static int64_t fuzz_count(const char *sql)
{
    sqlite3_stmt *st = NULL;
    FUZZ_CHECK(sqlite3_prepare_v2(fuzz_db, sql, -1, &st, NULL) == SQLITE_OK, "%s: %s", sql,
               sqlite3_errmsg(fuzz_db));
    FUZZ_CHECK(sqlite3_step(st) == SQLITE_ROW, "%s: %s", sql, sqlite3_errmsg(fuzz_db));
    int64_t n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
}

/* The payload of the newest control_log row equals data[0..len). */
static bool fuzz_logged_payload_is(const void *data, size_t len)
{
    sqlite3_stmt *st = NULL;
    const char *sql = "SELECT payload FROM control_log ORDER BY rowid DESC LIMIT 1";
    FUZZ_CHECK(sqlite3_prepare_v2(fuzz_db, sql, -1, &st, NULL) == SQLITE_OK, "%s: %s", sql,
               sqlite3_errmsg(fuzz_db));
    FUZZ_CHECK(sqlite3_step(st) == SQLITE_ROW, "%s: %s", sql, sqlite3_errmsg(fuzz_db));
    const void *got = sqlite3_column_blob(st, 0);
    size_t got_len = (size_t)sqlite3_column_bytes(st, 0);
    bool same = got_len == len && (len == 0 || (got && memcmp(got, data, len) == 0));
    sqlite3_finalize(st);
    return same;
}

static void fuzz_cleanup(void)
{
    fuzz_forget_published();
    store_close(&fuzz_store);
    if (fuzz_db)
        sqlite3_close(fuzz_db);
    fuzz_db = NULL;
    fuzz_remove_db_dir(fuzz_dir, fuzz_path);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_quiet_logs();
    snprintf(fuzz_dir, sizeof fuzz_dir, "%s/wardpulse-fuzz-control-XXXXXX", fuzz_tmp_base());
    FUZZ_CHECK(mkdtemp(fuzz_dir) != NULL, "mkdtemp %s", fuzz_dir);
    snprintf(fuzz_path, sizeof fuzz_path, "%s/wardpulse.db", fuzz_dir);
    atexit(fuzz_cleanup);
    char err[256] = "";
    FUZZ_CHECK(store_open(fuzz_path, &fuzz_store, err, sizeof err) == WP_OK, "store_open: %s",
               err);
    store_set_durable(fuzz_store, false);
    FUZZ_CHECK(sqlite3_open(fuzz_path, &fuzz_db) == SQLITE_OK, "sqlite3_open %s", fuzz_path);
    sqlite3_busy_timeout(fuzz_db, 5000);
    return 0;
}

/* Whether id is what control.h calls a usable request id. */
static bool fuzz_id_ok(const char *id)
{
    size_t n = id ? strlen(id) : 0;
    return n >= 1 && n <= 64
           && strspn(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-") == n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    static const char *const commands[] = {"ack", "silence", "unsilence", "acknowledge"};
    const char *command = commands[data[0] & 3];
    bool retained = (data[0] & 0x80) != 0;
    const uint8_t *payload = data + 1;
    size_t len = size - 1;
    char topic[128];
    snprintf(topic, sizeof topic, FUZZ_PREFIX "%s", command);

    fuzz_sql("DELETE FROM control_log; DELETE FROM silences");
    struct alerts *alerts = NULL;
    struct alerts_options aopts = {.district = FUZZ_DISTRICT, .publish = fuzz_publish};
    FUZZ_CHECK(alerts_create(fuzz_store, &aopts, &alerts) == WP_OK, "alerts_create");
    struct control *control = NULL;
    struct control_options copts = {.district = FUZZ_DISTRICT, .alerts = alerts,
                                     .publish = fuzz_publish};
    FUZZ_CHECK(control_create(fuzz_store, &copts, &control) == WP_OK, "control_create");
    fuzz_forget_published();   /* control_create's silences are not this input's */

    FUZZ_CHECK(control_on_message(control, topic, payload, len, retained, FUZZ_NOW),
               "a message on %s was not taken as a command", topic);
    FUZZ_CHECK(store_begin(fuzz_store) == WP_OK, "a transaction was left open: %s",
               store_errmsg(fuzz_store));
    store_rollback(fuzz_store);
    int64_t logged = fuzz_count("SELECT count(*) FROM control_log");

    /* What the payload says, read as any client would; JSON is UTF-8 (RFC 8259), and a
     * payload over control.c's 4096 bytes is refused unread. */
    cJSON *doc = len <= 4096 && wp_utf8_invalid_at(payload, len) == len
                 ? cJSON_ParseWithLength((const char *)payload, len)
                 : NULL;
    const char *id = cJSON_IsObject(doc)
                     ? cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(doc, "id"))
                     : NULL;
    char want_topic[160];
    snprintf(want_topic, sizeof want_topic, FUZZ_PREFIX "reply/%s", fuzz_id_ok(id) ? id : "unknown");

    size_t replies = 0;
    const struct fuzz_message *reply = NULL;
    for (size_t i = 0; i < fuzz_published_count; i++)
        if (strncmp(fuzz_published[i].topic, FUZZ_PREFIX "reply/", strlen(FUZZ_PREFIX) + 6) == 0) {
            replies++;
            reply = &fuzz_published[i];
        }
    FUZZ_CHECK(fuzz_published_total <= FUZZ_MAX_PUBLISHED, "%zu messages published for one command",
               fuzz_published_total);
    if (retained) {
        FUZZ_CHECK(replies == 0, "a retained copy was answered on %s", reply->topic);
        FUZZ_CHECK(logged == 0, "a retained copy was recorded");
    } else {
        FUZZ_CHECK(replies == 1, "%zu replies", replies);
        FUZZ_CHECK(strcmp(reply->topic, want_topic) == 0, "reply on %s, not %s", reply->topic,
                   want_topic);
        FUZZ_CHECK(logged == 1, "%lld rows in control_log for one command", (long long)logged);
        FUZZ_CHECK(fuzz_logged_payload_is(payload, len), "the audit's payload differs");
        cJSON *r = cJSON_Parse(reply->payload);
        FUZZ_CHECK(r != NULL, "the reply is not JSON: %s", reply->payload);
        char err[512] = "";
        FUZZ_CHECK(wp_schemas_validate("control_reply", r, err, sizeof err),
                   "the reply %s fails its schema: %s", reply->payload, err);
        const char *rid = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(r, "id"));
        FUZZ_CHECK(rid && strcmp(rid, fuzz_id_ok(id) ? id : "unknown") == 0, "reply id %s",
                   rid ? rid : "(none)");
        bool ok = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "ok"));
        const char *error = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(r, "error"));
        for (const char *p = error; p && *p; p++)
            FUZZ_CHECK((unsigned char)*p >= 0x20 && *p != 0x7f, "a control character in %s",
                       reply->payload);
        if (ok) {
            char schema[32];
            snprintf(schema, sizeof schema, "control_%s", command);
            FUZZ_CHECK((data[0] & 3) != 3, "an unknown command was accepted: %s", reply->payload);
            FUZZ_CHECK(doc && wp_schemas_validate(schema, doc, err, sizeof err),
                       "accepted a command its schema refuses (%s): %.*s", err, (int)len,
                       (const char *)payload);
            if ((data[0] & 3) == 1)
                FUZZ_CHECK(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(r, "silence")),
                           "a silence accepted without its id: %s", reply->payload);
        }
        cJSON_Delete(r);
    }
    cJSON_Delete(doc);
    control_destroy(&control);
    alerts_destroy(&alerts);
    fuzz_forget_published();
    return 0;
}
