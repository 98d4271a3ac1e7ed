/* test_alerts — the alert state machine, its persistence and its announcements against a
 * real SQLite store and a fake MQTT publish (aggregator/alerts.c, alerts_publish.c).
 * The aggregator is not a library, so the units under test are compiled in here. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "check.h"
#include "alert_text.h"
#include "alerts.h"
#include "clock.h"
#include "rules.h"
#include "schema_registry.h"
#include "store.h"
#include "store_alerts.h"
#include "store_control.h"

/* What the fake broker received. */
struct sent {
    char topic[128];
    char payload[2048];
    bool retain;
    int mid;
};
static struct sent sent[64];
static int sent_count, next_mid = 1;
static bool link_up = true;

static bool fake_publish(void *ctx, int *mid, const char *topic, const char *payload,
                         size_t len, bool retain)
{
    (void)ctx;
    if (!link_up || sent_count == 64)
        return false;
    struct sent *s = &sent[sent_count++];
    snprintf(s->topic, sizeof s->topic, "%s", topic);
    snprintf(s->payload, sizeof s->payload, "%.*s", (int)len, payload);
    s->retain = retain;
    s->mid = next_mid++;
    if (mid)
        *mid = s->mid;
    return true;
}

static void ack_all(struct alerts *a)
{
    for (int i = 0; i < sent_count; i++)
        alerts_on_puback(a, sent[i].mid);
}

static struct plan_rule rule = {
    .id = "ward-scenario",
    .kind = PLAN_RULE_TASK,
    .name = {"Kịch bản", "Scenario"},
    .severity = PLAN_SEVERITY_WARNING,
    .applies_to = PLAN_APPLIES_WARD,
    .source = "KH Ba Đình, I.3.2",
};

static void outcome(struct rule_outcome *o, enum rule_state state, const char *vi, double value)
{
    rule_outcome_init(o, &rule);
    o->state = state;
    o->has_value = true;
    o->value = value;
    text_append(&o->vi, "%s", vi);
    text_append(&o->en, "en: %s", vi);
}

static void record(struct store *store, struct alerts *a, const char *scope,
                   const struct rule_outcome *o, int64_t now)
{
    CHECK(store_begin(store) == WP_OK);
    CHECK(alerts_record(a, &rule, scope, o, now, 0) == WP_OK);
    CHECK(store_commit(store) == WP_OK);
}

static const char *field(const char *payload, const char *name)
{
    static char out[1100];
    cJSON *j = cJSON_Parse(payload);
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(j, name);
    if (cJSON_IsString(item))
        snprintf(out, sizeof out, "%s", item->valuestring);
    else if (cJSON_IsObject(item))
        snprintf(out, sizeof out, "%s",
                 cJSON_GetObjectItemCaseSensitive(item, "vi")->valuestring);
    else if (cJSON_IsNumber(item))
        snprintf(out, sizeof out, "%g", item->valuedouble);
    else
        out[0] = '\0';
    cJSON_Delete(j);
    return out;
}

/* The transitions of alert_events, as "<scope> <state>" joined by ", " (all) or as the
 * payloads' values joined by "," (those of one scope). */
struct events_text {
    const char *scope;   /* NULL: all, as scope and state */
    char text[1024];
};

static enum wp_err events_text_add(void *ctx, const struct store_alert_event *ev)
{
    struct events_text *t = ctx;
    size_t len = strlen(t->text);
    if (!t->scope) {
        snprintf(t->text + len, sizeof t->text - len, "%s%s %s", len ? ", " : "", ev->scope,
                 ev->state);
    } else if (strcmp(ev->scope, t->scope) == 0) {
        cJSON *p = cJSON_Parse(ev->payload);
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(p, "value");
        snprintf(t->text + len, sizeof t->text - len, "%s%g", len ? "," : "",
                 cJSON_IsNumber(v) ? v->valuedouble : 0.0);
        cJSON_Delete(p);
    }
    return WP_OK;
}

/* Collects exited hooks until the file at path holds `until` (or about 20 s passed: a
 * loaded machine starts processes slowly), and
 * leaves its text in buf. */
static void wait_hook_text(struct alerts *a, const char *path, const char *until, char *buf,
                           size_t size)
{
    for (int tries = 0; tries < 2000; tries++) {
        alerts_reap(a);
        FILE *f = fopen(path, "r");
        size_t got = f ? fread(buf, 1, size - 1, f) : 0;
        buf[got] = '\0';
        if (f)
            fclose(f);
        if (strstr(buf, until))
            return;
        usleep(10000);
    }
}

int main(void)
{
    /* As the daemon (aggregator/main.c): a hook command that exits without reading its
     * stdin must not kill the process writing the alert to it. */
    signal(SIGPIPE, SIG_IGN);
    char dir[] = "/tmp/wardpulse-test-alerts-XXXXXX", path[256], err[512];
    if (!mkdtemp(dir))
        return 1;
    snprintf(path, sizeof path, "%s/a.db", dir);
    struct store *store = NULL;
    CHECK(store_open(path, &store, err, sizeof err) == WP_OK);
    CHECK(store_schema_version(store) == STORE_SCHEMA_VERSION);
    struct alerts_options opts = {"001", 0, NULL, fake_publish, NULL};
    struct alerts *a = NULL;
    CHECK(alerts_create(store, &opts, &a) == WP_OK);
    int64_t t0 = 1651572000000;   /* 2022-05-03T17:00:00+07:00 */
    struct rule_outcome o;

    /* firing: retained + event, once */
    outcome(&o, RULE_FIRING, "Phường Phúc Xá chưa hoàn thành", 1);
    o.since_ms = t0 - 3600000;
    record(store, a, "00001", &o, t0);
    alerts_publish(a, t0);
    CHECK(sent_count == 2);
    CHECK_STR(sent[0].topic, "wardpulse/v1/alert/001/00001/ward-scenario");
    CHECK(sent[0].retain);
    CHECK_STR(field(sent[0].payload, "state"), "firing");
    CHECK_STR(field(sent[0].payload, "since"), "2022-05-03T16:00:00+07:00");
    CHECK_STR(field(sent[0].payload, "kind"), "task_overdue");
    CHECK_STR(field(sent[0].payload, "summary"), "Phường Phúc Xá chưa hoàn thành");
    CHECK_STR(field(sent[0].payload, "source"), "KH Ba Đình, I.3.2");
    CHECK_STR(sent[1].topic, "wardpulse/v1/events/alert");
    CHECK(!sent[1].retain);
    CHECK_STR(sent[1].payload, sent[0].payload);
    CHECK(alerts_firing_count(a) == 1);
    /* not acknowledged yet: in flight, not sent again */
    record(store, a, "00001", &o, t0 + 1000);
    alerts_publish(a, t0 + 1000);
    CHECK(sent_count == 2);
    ack_all(a);
    alerts_publish(a, t0 + 2000);
    CHECK(sent_count == 2);

    /* new figures while firing: the retained message only, since unchanged */
    outcome(&o, RULE_FIRING, "Phường Phúc Xá chưa hoàn thành (2 ngày)", 2);
    record(store, a, "00001", &o, t0 + 86400000);
    alerts_publish(a, t0 + 86400000);
    CHECK(sent_count == 3);
    CHECK(sent[2].retain && strstr(sent[2].topic, "/alert/"));
    CHECK_STR(field(sent[2].payload, "value"), "2");
    CHECK_STR(field(sent[2].payload, "since"), "2022-05-03T16:00:00+07:00");
    /* a severity change is news: retained and event */
    o.severity = PLAN_SEVERITY_CRITICAL;
    record(store, a, "00001", &o, t0 + 86400000);
    alerts_publish(a, t0 + 86400000);
    CHECK(sent_count == 5);
    CHECK_STR(sent[4].topic, "wardpulse/v1/events/alert");
    CHECK_STR(field(sent[4].payload, "severity"), "critical");
    ack_all(a);

    /* resolved: the retained topic is cleared, the event says how */
    outcome(&o, RULE_OK, "Phường Phúc Xá đã hoàn thành", 2);
    record(store, a, "00001", &o, t0 + 2 * 86400000);
    alerts_publish(a, t0 + 2 * 86400000);
    CHECK(sent_count == 7);
    CHECK(sent[5].retain && sent[5].payload[0] == '\0');
    CHECK_STR(field(sent[6].payload, "state"), "resolved");
    CHECK_STR(field(sent[6].payload, "since"), "2022-05-05T17:00:00+07:00");
    CHECK_STR(field(sent[6].payload, "summary"), "Phường Phúc Xá đã hoàn thành");
    CHECK(alerts_firing_count(a) == 0);
    ack_all(a);
    /* OK again: nothing */
    record(store, a, "00001", &o, t0 + 3 * 86400000);
    alerts_publish(a, t0 + 3 * 86400000);
    CHECK(sent_count == 7);

    /* pending is never announced; back to OK silently */
    outcome(&o, RULE_PENDING, "", 0);
    record(store, a, "00004", &o, t0);
    outcome(&o, RULE_OK, "", 0);
    record(store, a, "00004", &o, t0 + 1000);
    alerts_publish(a, t0 + 1000);
    CHECK(sent_count == 7);

    /* restart: what was acknowledged is not announced again ... */
    alerts_destroy(&a);
    CHECK(a == NULL);
    CHECK(alerts_create(store, &opts, &a) == WP_OK);
    alerts_publish(a, t0 + 4 * 86400000);
    CHECK(sent_count == 7);
    /* ... what was not, is, once */
    outcome(&o, RULE_FIRING, "Phường Trúc Bạch chưa hoàn thành", 1);
    record(store, a, "00004", &o, t0 + 4 * 86400000);
    alerts_publish(a, t0 + 4 * 86400000);
    CHECK(sent_count == 9);
    alerts_destroy(&a);   /* killed before the PUBACK */
    CHECK(alerts_create(store, &opts, &a) == WP_OK);
    alerts_publish(a, t0 + 4 * 86400000);
    CHECK(sent_count == 11);
    CHECK_STR(sent[10].payload, sent[8].payload);
    ack_all(a);
    alerts_publish(a, t0 + 4 * 86400000);
    CHECK(sent_count == 11);

    /* a link that is down: nothing is lost, it goes out on the next try */
    outcome(&o, RULE_FIRING, "Phường Phúc Xá lại chưa hoàn thành", 1);
    o.since_ms = t0;   /* before the last resolution: the new episode starts after it */
    record(store, a, "00001", &o, t0 + 5 * 86400000);
    link_up = false;
    alerts_publish(a, t0 + 5 * 86400000);
    CHECK(sent_count == 11 && alerts_publish_due(a, t0 + 5 * 86400000));
    link_up = true;
    alerts_publish(a, t0 + 5 * 86400000);
    CHECK(sent_count == 13);
    CHECK_STR(field(sent[12].payload, "since"), "2022-05-05T17:00:00+07:00");
    ack_all(a);

    /* the sweep resolves what is no longer evaluated (a rule left the plan) */
    CHECK(store_begin(store) == WP_OK);
    alerts_sweep_begin(a);
    outcome(&o, RULE_FIRING, "Phường Phúc Xá lại chưa hoàn thành", 1);
    CHECK(alerts_record(a, &rule, "00001", &o, t0 + 6 * 86400000, 0) == WP_OK);
    CHECK(alerts_sweep_end(a, t0 + 6 * 86400000) == WP_OK);
    CHECK(store_commit(store) == WP_OK);
    alerts_publish(a, t0 + 6 * 86400000);
    CHECK(sent_count == 15);
    CHECK(strstr(sent[13].topic, "/00004/") && sent[13].payload[0] == '\0');
    /* not remedied: no longer tracked */
    CHECK_STR(field(sent[14].payload, "summary"),
              "Không còn theo dõi: Phường Trúc Bạch chưa hoàn thành");
    ack_all(a);

    /* every transition is in alert_events */
    struct events_text all = {NULL, ""};
    CHECK(store_alert_each_event(store, events_text_add, &all) == WP_OK);
    CHECK_STR(all.text,
              "00001 firing, 00001 firing, 00001 resolved, 00004 firing, 00001 firing, "
              "00004 resolved");

    /* repeats: events only, same payload, at the interval */
    alerts_destroy(&a);
    struct alerts_options every_hour = {"001", 3600000, NULL, fake_publish, NULL};
    CHECK(alerts_create(store, &every_hour, &a) == WP_OK);
    int64_t now = wp_now_ms();   /* the announcement above was stamped with this clock */
    alerts_publish(a, now);
    CHECK(sent_count == 15);
    alerts_publish(a, now + 3600000 + 60000);
    CHECK(sent_count == 16);
    CHECK_STR(sent[15].topic, "wardpulse/v1/events/alert");
    CHECK_STR(sent[15].payload, sent[12].payload);
    CHECK(!alerts_publish_due(a, now + 3600000 + 61000));
    alerts_publish(a, now + 2 * 3600000 + 120000);
    CHECK(sent_count == 17);

    /* resolved by its rule with nothing to say: the firing summary, said remedied */
    rule_outcome_init(&o, &rule);
    record(store, a, "00001", &o, now + 3 * 3600000);
    alerts_publish(a, now + 3 * 3600000);
    CHECK(sent_count == 19);
    CHECK_STR(field(sent[18].payload, "summary"),
              "Đã khắc phục: Phường Phúc Xá lại chưa hoàn thành");
    CHECK_STR(field(sent[18].payload, "state"), "resolved");
    ack_all(a);

    /* A level that rises while firing (3 → 4) is news: retained, event and the hook, with
     * the new level in the summary; new rates at the same level are not. */
    alerts_destroy(&a);
    char hook_path[300], command[400];
    snprintf(hook_path, sizeof hook_path, "%s/hook.txt", dir);
    snprintf(command, sizeof command, "echo \"$WP_ALERT_STATE $WP_ALERT_SUMMARY_EN\" >> %s",
             hook_path);
    struct alerts_options hooked = {"001", 0, command, fake_publish, NULL};
    CHECK(alerts_create(store, &hooked, &a) == WP_OK);
    struct plan_rule level_rule = {
        .id = "epidemic-level", .kind = PLAN_RULE_LEVEL, .name = {"Cấp độ dịch", "Level"},
        .severity = PLAN_SEVERITY_CRITICAL, .applies_to = PLAN_APPLIES_WARD,
        .source = "QĐ 218/QĐ-BYT"};
    struct rule_outcome lo;
    const char *levels_en[] = {"level 3, 200.0", "level 3, 210.0", "level 4, 700.0"};
    const double level_values[] = {3, 3, 4};
    int before = sent_count;
    for (int i = 0; i < 3; i++) {
        rule_outcome_init(&lo, &level_rule);
        lo.state = RULE_FIRING;
        lo.has_value = lo.has_target = lo.value_is_news = true;
        lo.value = level_values[i];
        lo.target = 3;
        text_append(&lo.vi, "%s", levels_en[i]);
        text_append(&lo.en, "%s", levels_en[i]);
        CHECK(store_begin(store) == WP_OK);
        CHECK(alerts_record(a, &level_rule, "00007", &lo, t0 + (7 + i) * 86400000LL, 0)
              == WP_OK);
        CHECK(store_commit(store) == WP_OK);
        alerts_publish(a, t0 + (7 + i) * 86400000LL);
        ack_all(a);
    }
    /* fired: 2; same level, new rate: retained only; 3 → 4: retained and event */
    CHECK(sent_count == before + 5);
    CHECK(strstr(sent[before + 2].topic, "/alert/") != NULL);
    CHECK_STR(sent[before + 4].topic, "wardpulse/v1/events/alert");
    CHECK_STR(field(sent[before + 4].payload, "value"), "4");
    CHECK_STR(field(sent[before + 4].payload, "summary"), "level 4, 700.0");
    char hook_text[256] = "";
    wait_hook_text(a, hook_path, "level 4", hook_text, sizeof hook_text);
    CHECK_STR(hook_text, "firing level 3, 200.0\nfiring level 4, 700.0\n");
    struct events_text values = {"00007", ""};
    CHECK(store_alert_each_event(store, events_text_add, &values) == WP_OK);
    CHECK_STR(values.text, "3,4");
    unlink(hook_path);

    /* The hook runs one command at a time, in the order of the transitions: a slow
     * command for the first must not let the second's finish first. */
    alerts_destroy(&a);
    snprintf(command, sizeof command, "case \"$WP_ALERT_STATE\" in firing) sleep 0.3;; esac; "
             "echo \"$WP_ALERT_STATE $WP_ALERT_SCOPE\" >> %s", hook_path);
    CHECK(alerts_create(store, &hooked, &a) == WP_OK);
    struct rule_outcome ho;
    const char *order_scopes[] = {"00010", "00013", "00016"};
    sent_count = 0;
    for (int i = 0; i < 6; i++) {
        int64_t at = t0 + 20 * 86400000LL + i * 1000;
        outcome(&ho, i % 2 ? RULE_OK : RULE_FIRING, "hook order", i % 2 ? 0 : 1);
        record(store, a, order_scopes[i / 2], &ho, at);
        alerts_publish(a, at);
        ack_all(a);
    }
    const char *order_want = "firing 00010\nresolved 00010\nfiring 00013\nresolved 00013\n"
                             "firing 00016\nresolved 00016\n";
    char order_text[512] = "";
    wait_hook_text(a, hook_path, "resolved 00016", order_text, sizeof order_text);
    CHECK_STR(order_text, order_want);
    unlink(hook_path);

    /* A silenced alert is announced with "silenced", but runs no hook and is not
     * repeated; the others are. */
    alerts_destroy(&a);
    snprintf(command, sizeof command, "echo \"$WP_ALERT_STATE $WP_ALERT_SCOPE\" >> %s",
             hook_path);
    struct alerts_options repeating = {"001", 60000, command, fake_publish, NULL};
    CHECK(alerts_create(store, &repeating, &a) == WP_OK);
    int64_t ts = t0 + 30 * 86400000LL, sid = 0;
    CHECK(store_begin(store) == WP_OK);
    CHECK(store_silence_add(store, NULL, "00019", ts + 3600000, "bs.lan", NULL, ts, &sid)
          == WP_OK);
    CHECK(alerts_silences_reload(a, ts) == WP_OK);
    CHECK(store_commit(store) == WP_OK);
    CHECK(alerts_silences_next_end(a) == ts + 3600000);
    sent_count = 0;
    outcome(&ho, RULE_FIRING, "silenced", 1);
    record(store, a, "00019", &ho, ts);
    outcome(&ho, RULE_FIRING, "loud", 1);
    record(store, a, "00022", &ho, ts);
    alerts_publish(a, ts);
    ack_all(a);
    int silenced_events = 0, loud_events = 0;
    for (int i = 0; i < sent_count; i++) {
        if (strcmp(sent[i].topic, "wardpulse/v1/events/alert") != 0)
            continue;
        if (strcmp(field(sent[i].payload, "scope"), "00019") == 0) {
            silenced_events++;
            CHECK(strstr(sent[i].payload, "\"silenced\":{\"id\":\"s-") != NULL);
        } else {
            loud_events++;
            CHECK(strstr(sent[i].payload, "silenced") == NULL);
        }
    }
    CHECK(silenced_events == 1 && loud_events == 1);
    /* The repeats: on the real clock, as alerts_on_puback dates the announcement. */
    int before_repeat = sent_count;
    alerts_publish(a, wp_now_ms() + 61000);
    int repeated_silenced = 0, repeated_loud = 0;
    for (int i = before_repeat; i < sent_count; i++) {
        repeated_silenced += strcmp(field(sent[i].payload, "scope"), "00019") == 0;
        repeated_loud += strcmp(field(sent[i].payload, "scope"), "00022") == 0;
    }
    CHECK(repeated_silenced == 0 && repeated_loud == 1);
    /* Its time was recorded all the same: no repeat is due at once again. */
    CHECK(!alerts_publish_due(a, wp_now_ms() + 62000));
    char silenced_text[256] = "";
    wait_hook_text(a, hook_path, "00022", silenced_text, sizeof silenced_text);
    CHECK_STR(silenced_text, "firing 00022\n");
    unlink(hook_path);

    alerts_destroy(&a);
    store_close(&store);
    unlink(path);
    snprintf(path, sizeof path, "%s/a.db-wal", dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/a.db-shm", dir);
    unlink(path);
    rmdir(dir);
    wp_schemas_release();
    return CHECK_DONE();
}
