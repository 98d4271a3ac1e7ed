/* wardpulse-aggregator — receives ward reports over MQTT, stores them in SQLite, acks
 * them after the commit, evaluates the plan's rules and announces alerts.
 *
 *   wardpulse-aggregator -c /etc/wardpulse/aggregator.conf [--key value ...]
 *   wardpulse-aggregator -c aggregator.conf --test-config
 *
 * One thread: the MQTT loop, the group commit and the rules all run here, so nothing
 * races with the SQLite work. Signals only set flags; the loop acts on them.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "aggregator_config.h"
#include "alerts.h"
#include "clock.h"
#include "control.h"
#include "config.h"
#include "dashboard.h"
#include "db_file.h"
#include "evaluate.h"
#include "ingest.h"
#include "levels.h"
#include "log.h"
#include "notify.h"
#include "mqtt_session.h"
#include "plan.h"
#include "reconcile.h"
#include "presence.h"
#include "rollup.h"
#include "schema_registry.h"
#include "stats.h"
#include "store.h"
#include "timefmt.h"
#include "topic.h"
#include "web_reports.h"

#define AGGREGATOR_REPORT_FILTER WP_TOPIC_ROOT "report/+"
#define AGGREGATOR_STATUS_TOPIC WP_TOPIC_ROOT "aggregator/status"
/* Longest the loop sleeps with nothing due; bounds the reaction time to a signal that
 * lands between the flag check and poll(). */
#define AGGREGATOR_IDLE_WAIT_MS 200
/* A clock that goes back by more than this is followed (aggregator_follow_clock_back). */
#define AGGREGATOR_CLOCK_BACK_MS 2000

/* Reports committed within this long (real time) are evaluated together: a burst of
 * reports from many wards costs one evaluation of the district's roll-ups, not one per
 * batch, and an alert goes out at most this much later (its time is the report's
 * arrival either way). On a fast simulated clock it shrinks to a simulated minute, so
 * that no deadline passes in between. */
#define AGGREGATOR_EVALUATE_DELAY_MS 200
/* How long an orderly shutdown waits for the last acks and the offline status to be
 * acknowledged by the broker. */
#define AGGREGATOR_DRAIN_MS 2000
/* A rollup or web_dir pass that failed (a full disk, a folder gone) is tried again this
 * much later (real time); what it would have written stays derivable from the database. */
#define AGGREGATOR_PASS_RETRY_MS 5000

static volatile sig_atomic_t stop_requested;
static volatile sig_atomic_t reload_requested;

static void aggregator_on_signal(int sig)
{
    if (sig == SIGHUP)
        reload_requested = 1;
    else
        stop_requested = 1;
}

struct aggregator {
    struct aggregator_config cfg;
    struct store *store;
    struct ingest *ingest;
    struct plan *plan;        /* NULL without plan_dir; replaced whole on SIGHUP */
    struct alerts *alerts;
    struct control *control;  /* officers' commands on control/<district>/+ */
    struct levels *levels;
    struct dashboard *dashboard;   /* summary and series topics */
    char web_week[16];        /* web_dir: the ISO week of the evaluation whose finished
                               * weeks were written; "" before the first */
    int64_t web_retry_mono_ms;   /* a failed pass runs again from then */
    struct evaluate *evaluate;
    struct rollup *rollup;    /* NULL without rollup_spool_dir */
    struct reconcile *reconcile;   /* the broker's retained alerts and levels, per connection */
    bool rollup_due;          /* an evaluation ran since the last rollup pass */
    int64_t rollup_retry_mono_ms;   /* a failed pass runs again from then */
    bool rollup_unit_seen;    /* an ack of rollup_unit was left to the city (logged once) */
    int64_t next_evaluation_ms;  /* clock time of the next full evaluation */
    int64_t last_evaluation_ms;  /* clock time the last evaluation was as of */
    int64_t evaluate_delay_ms;   /* real ms reports wait to be evaluated together */
    int64_t reports_due_mono_ms; /* when the reports noted so far are evaluated; 0: none */
    struct wp_mqtt mqtt;
    struct presence presence; /* our instance id; rivals on our client_id (presence.h) */
    int64_t step_back_ms;     /* > 0: go offline and off the broker this long, in the loop */
    char since[40];           /* start time, RFC 3339 */
    int unconfirmed;          /* our QoS 1 publishes without PUBACK yet */
    int64_t stats_due_mono_ms;   /* next aggregator/stats; 0: at the next connection */
};

/* aggregator/stats, retained, QoS 0 (stats.h); the next one stats_interval later. */
static void aggregator_publish_stats(struct aggregator *agg)
{
    agg->stats_due_mono_ms = agg->cfg.stats_interval_ms > 0 && agg->mqtt.connected
                                 ? wp_monotonic_ms() + agg->cfg.stats_interval_ms
                                 : 0;   /* none, or again at the next connection */
    if (agg->stats_due_mono_ms == 0)
        return;
    char *text = stats_json(ingest_stats(agg->ingest), alerts_firing_count(agg->alerts),
                            agg->since, wp_now_ms());
    if (!text) {
        wp_log(WP_LOG_ERR, "out of memory building aggregator/stats");
        return;
    }
    int rc = wp_mqtt_publish(&agg->mqtt, NULL, AGGREGATOR_STATS_TOPIC, text, strlen(text), 0,
                             true);
    if (rc != MOSQ_ERR_SUCCESS)
        wp_log(WP_LOG_WARNING, "publishing aggregator/stats: %s", mosquitto_strerror(rc));
    free(text);
}

static void aggregator_publish_status(struct aggregator *agg, const char *state,
                                      const char *since)
{
    char *text = presence_status_json(&agg->presence, state, since);
    if (!text) {
        wp_log(WP_LOG_ERR, "out of memory building the %s status", state);
        return;
    }
    int mid;
    int rc = wp_mqtt_publish(&agg->mqtt, &mid, AGGREGATOR_STATUS_TOPIC, text, strlen(text), 1,
                             true);
    if (rc == MOSQ_ERR_SUCCESS)
        agg->unconfirmed++;
    else
        wp_log(WP_LOG_WARNING, "publishing %s status: %s", state, mosquitto_strerror(rc));
    free(text);
}

/* With a rollup, the district's own unit reports to the city: its reports pass through
 * this broker on their way over the bridge, and the city's aggregator acknowledges them.
 * This aggregator stores them too (the district's own tasks count for its plan, and they
 * are the record of what went up) but must not acknowledge them: the agent would delete
 * a report on this ack that the city may not have yet. */
static bool aggregator_ack_is_the_citys(struct aggregator *agg, const char *topic)
{
    char unit[WP_UNIT_CODE_MAX];
    if (!agg->cfg.rollup_unit || !wp_topic_unit(topic, "ack", unit)
        || strcmp(unit, agg->cfg.rollup_unit) != 0)
        return false;
    if (!agg->rollup_unit_seen) {
        agg->rollup_unit_seen = true;
        wp_log(WP_LOG_INFO, "reports of unit %s are stored here and acknowledged by the city "
               "(rollup_unit): no ack on %s from this aggregator", agg->cfg.rollup_unit, topic);
    }
    return true;
}

static bool aggregator_publish_ack(void *ctx, const char *topic, const char *payload,
                                   size_t len)
{
    struct aggregator *agg = ctx;
    if (aggregator_ack_is_the_citys(agg, topic))
        return true;
    /* QoS 0 (docs/architecture.md, "Acks during a burst"): an ack is a cumulative,
     * idempotent statement, and an agent re-sends whatever no ack has covered (after
     * ack_timeout, and all of it at each reconnection); a lost ack costs a re-send that
     * is acked again as a duplicate, never a report. At QoS 1 each ack would wait for
     * the broker's PUBACK, which mosquitto 2.0.11 sends behind every report it has
     * queued for us, and libmosquitto reads as many packets per call as it has QoS 1
     * messages unacknowledged: the acks of a burst left only when the burst ended. */
    int rc = wp_mqtt_publish(&agg->mqtt, NULL, topic, payload, len, 0, false);
    if (rc == MOSQ_ERR_NO_CONN)
        wp_log(WP_LOG_DEBUG, "not connected: the ack on %s is not sent; its agent re-sends "
               "and is acked again", topic);
    return rc == MOSQ_ERR_SUCCESS || rc == MOSQ_ERR_NO_CONN;
}

/* Reports must fit the plan in force: known ward, indicators and tasks, within bounds. */
static bool aggregator_check_report(void *ctx, const struct wp_report *report, char *reason,
                                    size_t reasonlen)
{
    struct aggregator *agg = ctx;
    return wp_report_period_not_ahead(report, wp_now_ms(), reason, reasonlen)
           && (!agg->plan || plan_check_report(agg->plan, report, reason, reasonlen));
}

/* Alerts and levels go out at QoS 1; PUBACKs come back through aggregator_on_publish. */
static bool aggregator_publish_alert(void *ctx, int *mid, const char *topic,
                                     const char *payload, size_t len, bool retain)
{
    struct aggregator *agg = ctx;
    int rc = wp_mqtt_publish(&agg->mqtt, mid, topic, payload, len, 1, retain);
    if (rc == MOSQ_ERR_SUCCESS)
        agg->unconfirmed++;
    else if (rc != MOSQ_ERR_NO_CONN)
        wp_log(WP_LOG_WARNING, "publishing on %s: %s", topic, mosquitto_strerror(rc));
    return rc == MOSQ_ERR_SUCCESS || rc == MOSQ_ERR_NO_CONN;
}

static void aggregator_on_committed(void *ctx, const struct wp_report *report,
                                    int64_t received_ms)
{
    struct aggregator *agg = ctx;
    evaluate_note_report(agg->evaluate, report->ward, report->period, received_ms);
}

/* Reports of ward declared lost, or its refusals over the day's bound: its own rules
 * (evaluate.c) look again at the next evaluation. */
static void aggregator_on_unit_news(void *ctx, const char *ward)
{
    struct aggregator *agg = ctx;
    evaluate_note_unit(agg->evaluate, ward, wp_now_ms());
}

static bool aggregator_dashboard_makes(void *ctx, const char *topic)
{
    struct aggregator *agg = ctx;
    return dashboard_makes(agg->plan, topic);
}

/* Evaluations never go back in time, even when a deadline is handled after the
 * reports that arrived behind it. */
static int64_t aggregator_evaluation_time(struct aggregator *agg, int64_t wanted)
{
    if (wanted < agg->last_evaluation_ms)
        wanted = agg->last_evaluation_ms;
    agg->last_evaluation_ms = wanted;
    return wanted;
}

static void aggregator_evaluate_all(struct aggregator *agg, int64_t as_of);

/* In normal running no evaluation is ever ahead of the clock: deadlines are evaluated
 * once they passed, reports as of now. One that is ahead means the system clock was set
 * back — typically a wrong clock (a forward jump) corrected. Evaluation follows it back,
 * at once: what the jump made fire (tasks "overdue", targets "missed") is evaluated
 * again as of the true time and resolves, and the next deadline is the true one instead
 * of one far ahead that would leave every rule unevaluated until the clock got there. */
static void aggregator_follow_clock_back(struct aggregator *agg)
{
    int64_t now = wp_now_ms();
    if (agg->last_evaluation_ms - now <= AGGREGATOR_CLOCK_BACK_MS)
        return;
    char was[40], is[40];
    wp_datetime_format_local(agg->last_evaluation_ms, was, sizeof was);
    wp_datetime_format_local(now, is, sizeof is);
    wp_log(WP_LOG_WARNING, "the clock went back from %s to %s: evaluating everything again "
           "as of now", was, is);
    agg->last_evaluation_ms = now;
    aggregator_evaluate_all(agg, now);
}

/* Every rule on every unit as of `as_of` (a deadline that passed, or now), then the next
 * deadline to wake up for. */
static void aggregator_evaluate_all(struct aggregator *agg, int64_t as_of)
{
    int64_t now = aggregator_evaluation_time(agg, as_of);
    int64_t started = wp_monotonic_ms();
    if (evaluate_all(agg->evaluate, now) != WP_OK) {
        agg->next_evaluation_ms = now + 60000;   /* try again in a (clock) minute */
        return;
    }
    agg->rollup_due = true;
    dashboard_note_evaluation(agg->dashboard);
    agg->next_evaluation_ms = evaluate_next_due_ms(agg->evaluate, now);
    wp_log(WP_LOG_DEBUG, "full evaluation in %lld ms, %zu alert(s) firing",
           (long long)(wp_monotonic_ms() - started), alerts_firing_count(agg->alerts));
}

static void aggregator_log_plan(const struct aggregator *agg, const struct plan *plan,
                                const char *what)
{
    bool city = plan->district->level == PLAN_UNIT_CITY;
    wp_log(WP_LOG_INFO, "plan %s %s from %s: %s %s (%s), %zu %s, %zu indicators, "
           "%zu tasks, %zu rules", plan->id, what, plan->dir, plan->scope_name,
           plan->district->code, plan->district->name_vi, plan->ward_count,
           city ? "districts" : "wards", plan->indicator_count, plan->task_count,
           plan->rule_count);
    for (size_t i = 0; i < plan->rule_count; i++) {
        unsigned here = plan_applies_bit(plan->district)
                        | (plan->ward_count ? plan_applies_bit(plan->wards[0]) : 0);
        if (plan->rules[i].kind != PLAN_RULE_TASK && !(plan->rules[i].applies_to & here))
            wp_log(WP_LOG_NOTICE, "plan %s: rule %s applies to no unit this %s aggregator "
                   "evaluates; it is left to the aggregators of the other level", plan->id,
                   plan->rules[i].id, plan->scope_name);
    }
    if (agg->rollup)
        wp_log(rollup_indicator_count(plan) ? WP_LOG_INFO : WP_LOG_WARNING,
               "rollup: %zu indicator(s) of the catalog go upward as reports of unit %s "
               "through %s%s", rollup_indicator_count(plan), agg->cfg.rollup_unit,
               agg->cfg.rollup_spool_dir,
               rollup_indicator_count(plan) ? "" : " (none is marked \"rollup_up\": nothing "
                                                   "goes upward)");
}

/* SIGHUP: the new plan replaces the old only once it loaded and checked completely. */
static void aggregator_reload_plan(struct aggregator *agg)
{
    if (!agg->cfg.plan_dir) {
        wp_log(WP_LOG_NOTICE, "SIGHUP: no plan_dir is set; nothing to reload");
        return;
    }
    char err[1024];
    struct plan *plan = NULL;
    if (plan_load(agg->cfg.plan_dir, agg->cfg.unit, &plan, err, sizeof err) != WP_OK) {
        wp_log(WP_LOG_ERR, "SIGHUP: plan not reloaded, the plan in force stays (%s): %s",
               agg->plan ? agg->plan->id : "none", err);
        return;
    }
    /* The evaluator lets go of the old plan before it is freed. */
    evaluate_set_plan(agg->evaluate, plan);
    plan_free(&agg->plan);
    agg->plan = plan;
    aggregator_log_plan(agg, plan, "reloaded");
    aggregator_evaluate_all(agg, wp_now_ms());
}

static void aggregator_on_connect(void *userdata)
{
    struct aggregator *agg = userdata;
    /* The persistent session keeps the subscription, but a broker that lost its
     * session store (or a first start) needs it again; subscribing twice is harmless. */
    int rc = mosquitto_subscribe(agg->mqtt.mosq, NULL, AGGREGATOR_REPORT_FILTER, 1);
    if (rc != MOSQ_ERR_SUCCESS)
        wp_log(WP_LOG_ERR, "subscribing to %s: %s", AGGREGATOR_REPORT_FILTER,
               mosquitto_strerror(rc));
    reconcile_start(agg->reconcile);
    /* Our own status topic: its retained message tells whether another aggregator with
     * our client_id held the session since we last had it (presence.h). Subscribed before
     * our online status goes out, so that the retained one seen is the previous holder's. */
    presence_on_connect(&agg->presence);
    rc = mosquitto_subscribe(agg->mqtt.mosq, NULL, AGGREGATOR_STATUS_TOPIC, 1);
    if (rc != MOSQ_ERR_SUCCESS)
        wp_log(WP_LOG_ERR, "subscribing to %s: %s", AGGREGATOR_STATUS_TOPIC,
               mosquitto_strerror(rc));
    rc = mosquitto_subscribe(agg->mqtt.mosq, NULL, control_filter(agg->control), 1);
    if (rc != MOSQ_ERR_SUCCESS)
        wp_log(WP_LOG_ERR, "subscribing to %s: %s", control_filter(agg->control),
               mosquitto_strerror(rc));
    control_on_connect(agg->control);
    aggregator_publish_status(agg, "online", agg->since);
    agg->stats_due_mono_ms = wp_monotonic_ms();   /* at once, in the loop */
    alerts_on_connect(agg->alerts);
    levels_on_connect(agg->levels);
    dashboard_on_connect(agg->dashboard);
}

static void aggregator_on_message(void *userdata, const char *topic, const void *payload,
                                  int payloadlen, int qos, bool retain)
{
    struct aggregator *agg = userdata;
    (void)qos;
    size_t len = payloadlen > 0 ? (size_t)payloadlen : 0;
    /* Our own status topic, retained: presence.h judges it, retained or not. */
    if (strcmp(topic, AGGREGATOR_STATUS_TOPIC) == 0) {
        int64_t hold_off_ms = 0;
        if (presence_on_status(&agg->presence, payload, len, retain, wp_monotonic_ms(),
                               &hold_off_ms) == PRESENCE_STEP_BACK)
            agg->step_back_ms = hold_off_ms;   /* not from inside libmosquitto's loop */
        return;
    }
    if (reconcile_on_message(agg->reconcile, topic, payload, len))
        return;
    if (control_on_message(agg->control, topic, payload, len, retain, wp_now_ms()))
        return;
    /* mosquitto 2.0 (MQTT 3.1.1) sets the retain flag only on a message sent from its
     * retained store because of a new subscription, which the aggregator makes at every
     * connection; a live message, and one queued for our persistent session while we
     * were away, comes with retain = 0 however it was published. So a report published
     * retained is processed once, from that delivery, and its copy from the retained
     * store, sent again at every (re)connection, is not (it would count as a duplicate or
     * be rejected again each time). */
    if (retain) {
        wp_log(WP_LOG_INFO, "skipping the retained message on %s (%zu bytes): the broker's "
               "retained copy of a report, taken only from its live delivery", topic, len);
        return;
    }
    ingest_message(agg->ingest, topic, payload, len);
}

static void aggregator_on_publish(void *userdata, int mid)
{
    struct aggregator *agg = userdata;
    if (agg->unconfirmed > 0)
        agg->unconfirmed--;
    alerts_on_puback(agg->alerts, mid);
    levels_on_puback(agg->levels, mid);
    dashboard_on_puback(agg->dashboard, mid);
}

static void aggregator_install_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = aggregator_on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    /* A hook command that exits without reading its stdin must not kill the daemon. */
    signal(SIGPIPE, SIG_IGN);
}

static enum wp_err aggregator_start(struct aggregator *agg, char *will, char *err,
                                    size_t errlen)
{
    enum wp_err rc = store_open(agg->cfg.db_path, &agg->store, err, errlen);
    if (rc != WP_OK)
        return rc;
    store_set_rejection_bounds(agg->store, agg->cfg.rejected_max_per_day,
                               agg->cfg.rejected_max_bytes_per_day);
    if (agg->cfg.rollup_spool_dir) {
        struct rollup_options ropts = {agg->cfg.rollup_spool_dir, agg->cfg.rollup_unit};
        if ((rc = rollup_create(agg->store, &ropts, &agg->rollup)) != WP_OK) {
            snprintf(err, errlen, "rollup: %s", wp_strerror(rc));
            return rc;
        }
    }
    if (agg->plan)
        aggregator_log_plan(agg, agg->plan, "loaded");
    else
        wp_log(WP_LOG_NOTICE, "no plan_dir: reports are stored, no rule is evaluated%s",
               agg->rollup ? ", and nothing goes upward" : "");
    wp_log(WP_LOG_INFO, "database %s, schema version %d", agg->cfg.db_path,
           store_schema_version(agg->store));

    struct ingest_options iopts = {
        .batch_max = (size_t)agg->cfg.batch_max,
        .batch_delay_ms = agg->cfg.batch_delay_ms,
        .max_payload = (size_t)agg->cfg.max_payload,
        .publish = aggregator_publish_ack,
        .publish_ctx = agg,
        .check = aggregator_check_report,
        .committed = aggregator_on_committed,
        .lost = aggregator_on_unit_news,
        .over_bound = aggregator_on_unit_news,
        .hook_ctx = agg,
        .caller_flushes = true,   /* aggregator_run flushes, outside libmosquitto's callbacks */
    };
    struct alerts_options aopts = {
        .district = agg->cfg.unit,
        .repeat_ms = agg->cfg.alert_repeat_ms,
        .command = agg->cfg.alert_command,
        .publish = aggregator_publish_alert,
        .publish_ctx = agg,
    };
    struct levels_options lopts = {
        .district = agg->cfg.unit,
        .publish = aggregator_publish_alert,
        .publish_ctx = agg,
    };
    struct dashboard_options dopts = {
        .publish = aggregator_publish_alert,
        .publish_ctx = agg,
    };
    if ((rc = ingest_create(agg->store, &iopts, &agg->ingest)) != WP_OK
        || (rc = dashboard_create(agg->store, &dopts, &agg->dashboard)) != WP_OK
        || (rc = alerts_create(agg->store, &aopts, &agg->alerts)) != WP_OK
        || (rc = control_create(agg->store, &(struct control_options){
                .district = agg->cfg.unit, .alerts = agg->alerts,
                .publish = aggregator_publish_alert, .publish_ctx = agg}, &agg->control))
               != WP_OK
        || (rc = levels_create(agg->store, &lopts, &agg->levels)) != WP_OK
        || (rc = evaluate_create(agg->store, agg->alerts, agg->levels, &agg->evaluate))
               != WP_OK) {
        snprintf(err, errlen, "%s", wp_strerror(rc));
        return rc;
    }
    struct reconcile_options copts = {
        .unit = agg->cfg.unit,
        .mqtt = &agg->mqtt,
        .publish = aggregator_publish_alert,
        .publish_ctx = agg,
        .alerts = agg->alerts,
        .levels = agg->levels,
        .makes = aggregator_dashboard_makes,
        .makes_ctx = agg,
    };
    if ((rc = reconcile_create(&copts, &agg->reconcile)) != WP_OK) {
        snprintf(err, errlen, "reconcile: %s", wp_strerror(rc));
        return rc;
    }
    /* Before connecting: what changed while the daemon was down (deadlines passed,
     * alerts to resolve) is recorded now and announced once the broker is there. */
    agg->evaluate_delay_ms = (int64_t)(60000.0 / wp_clock_rate());
    if (agg->evaluate_delay_ms > AGGREGATOR_EVALUATE_DELAY_MS)
        agg->evaluate_delay_ms = AGGREGATOR_EVALUATE_DELAY_MS;
    evaluate_set_plan(agg->evaluate, agg->plan);
    aggregator_evaluate_all(agg, wp_now_ms());

    struct wp_mqtt_options mopts = {
        .host = agg->cfg.daemon.broker_host,
        .port = (int)agg->cfg.daemon.broker_port,
        .client_id = agg->cfg.client_id,
        .clean_session = false,
        .will_topic = AGGREGATOR_STATUS_TOPIC,
        .will_payload = will,
        .will_retain = true,
        .cafile = agg->cfg.daemon.cafile,
        .certfile = agg->cfg.daemon.certfile,
        .keyfile = agg->cfg.daemon.keyfile,
        .username = agg->cfg.daemon.username,
        .password_file = agg->cfg.daemon.password_file,
        .userdata = agg,
        .on_connect = aggregator_on_connect,
        .on_message = aggregator_on_message,
        .on_publish = aggregator_on_publish,
    };
    return wp_mqtt_init(&agg->mqtt, &mopts, err, errlen);
}

/* The rollup pass after an evaluation (rollup.h); a failed one again a little later,
 * or now when the daemon stops (now = true). */
static void aggregator_rollup(struct aggregator *agg, bool now)
{
    if (!agg->rollup || !agg->rollup_due
        || (!now && wp_monotonic_ms() < agg->rollup_retry_mono_ms))
        return;
    if (rollup_run(agg->rollup, agg->evaluate, agg->plan) == WP_OK)
        agg->rollup_due = false;
    else
        agg->rollup_retry_mono_ms = wp_monotonic_ms() + AGGREGATOR_PASS_RETRY_MS;
}

/* web_dir: once an evaluation is in a new ISO week (the first after its Monday 00:00, or
 * the first of the run), the finished weeks' reports the index lacks (web_reports.h). */
static void aggregator_web_reports(struct aggregator *agg)
{
    if (!agg->cfg.web_dir || !agg->plan || agg->last_evaluation_ms == 0
        || wp_monotonic_ms() < agg->web_retry_mono_ms)
        return;
    char week[16];
    wp_isoweek_format(wp_local_day_at(agg->last_evaluation_ms, agg->plan->utc_offset_minutes),
                      week, sizeof week, NULL);
    if (strcmp(week, agg->web_week) == 0)
        return;
    if (web_reports_update(agg->cfg.web_dir, agg->store, agg->plan, agg->last_evaluation_ms)
        == WP_OK)
        snprintf(agg->web_week, sizeof agg->web_week, "%s", week);
    else
        agg->web_retry_mono_ms = wp_monotonic_ms() + AGGREGATOR_PASS_RETRY_MS;
}

/* Another aggregator with our client_id holds the session (presence.h): say offline,
 * leave the broker and come back later. The batch in hand is committed as usual; acks
 * made while off the broker are not sent (QoS 0): their agents re-send and are acked
 * again as duplicates. */
static void aggregator_step_back(struct aggregator *agg)
{
    int64_t hold_off_ms = agg->step_back_ms;
    agg->step_back_ms = 0;
    if (agg->mqtt.connected) {
        char now[40];
        wp_datetime_format_local(wp_now_ms(), now, sizeof now);
        aggregator_publish_status(agg, "offline", now);
    }
    wp_mqtt_hold_off(&agg->mqtt, hold_off_ms);
    agg->unconfirmed = 0;   /* what was unconfirmed is the session's now, not ours to wait for */
}

/* Reading goes on while the batch in hand is not due (not full, its delay not over). */
static bool aggregator_batch_has_room(void *ctx)
{
    struct aggregator *agg = ctx;
    return ingest_due_in_ms(agg->ingest) != 0 && agg->step_back_ms == 0;
}

static void aggregator_run(struct aggregator *agg)
{
    /* store_replaced: the database file was swapped or deleted under us (store.h). */
    while (!stop_requested && !store_replaced(agg->store)) {
        wp_notify_watchdog(wp_monotonic_ms());
        if (reload_requested) {
            reload_requested = 0;
            aggregator_reload_plan(agg);
        }
        int64_t due = ingest_due_in_ms(agg->ingest);
        int64_t until_eval = wp_clock_real_ms_until(agg->next_evaluation_ms);
        if (agg->reports_due_mono_ms > 0) {
            int64_t left = agg->reports_due_mono_ms - wp_monotonic_ms();
            if (left < until_eval)
                until_eval = left > 0 ? left : 0;
        }
        if (due < 0 || until_eval < due)
            due = until_eval;
        int wait = due > AGGREGATOR_IDLE_WAIT_MS ? AGGREGATOR_IDLE_WAIT_MS : (int)due;
        if (dashboard_busy(agg->dashboard))
            wait = 0;   /* the build's next step, after a look at the broker */
        /* Reads until the batch is due (full, or its delay over), then commits it and
         * sends its acks here, outside libmosquitto's callbacks, where a publish is
         * written at once rather than queued until the read loop ends. */
        wp_mqtt_loop_while(&agg->mqtt, wait, aggregator_batch_has_room, agg);
        if (agg->step_back_ms > 0)
            aggregator_step_back(agg);
        if (ingest_due_in_ms(agg->ingest) == 0)
            ingest_flush(agg->ingest);
        aggregator_follow_clock_back(agg);
        if (store_replaced(agg->store))
            break;
        /* A deadline that passed, as of its instant (one per turn: the next may be due
         * at once, and the loop comes straight back). */
        if (wp_now_ms() >= agg->next_evaluation_ms)
            aggregator_evaluate_all(agg, agg->next_evaluation_ms);
        /* The units of what was committed (here, or in on_message by a batch at 4 ×
         * batch_max: ingest.h, caller_flushes). */
        if (agg->reports_due_mono_ms == 0 && evaluate_has_reports(agg->evaluate))
            agg->reports_due_mono_ms = wp_monotonic_ms() + agg->evaluate_delay_ms;
        if (agg->reports_due_mono_ms > 0 && wp_monotonic_ms() >= agg->reports_due_mono_ms) {
            agg->reports_due_mono_ms = 0;
            if (evaluate_reports(agg->evaluate, aggregator_evaluation_time(agg, wp_now_ms()))
                == WP_OK) {
                agg->rollup_due = true;
                dashboard_note_evaluation(agg->dashboard);
            }
        }
        aggregator_rollup(agg, false);
        int64_t now = wp_now_ms();
        control_tick(agg->control, now);
        if (agg->mqtt.connected)
            control_publish(agg->control, now);
        if (agg->mqtt.connected && alerts_publish_due(agg->alerts, now))
            alerts_publish(agg->alerts, now);
        if (agg->mqtt.connected && levels_publish_due(agg->levels))
            levels_publish(agg->levels);
        dashboard_update(agg->dashboard, agg->plan, agg->last_evaluation_ms,
                         agg->mqtt.connected);
        aggregator_web_reports(agg);
        if (agg->stats_due_mono_ms > 0 && wp_monotonic_ms() >= agg->stats_due_mono_ms)
            aggregator_publish_stats(agg);
        alerts_reap(agg->alerts);
        reconcile_poll(agg->reconcile);
    }
}

/* Orderly end: commit and ack what is in hand, say offline, let it all leave. */
static void aggregator_drain(struct aggregator *agg)
{
    wp_notify_stopping();
    ingest_flush(agg->ingest);
    if (evaluate_reports(agg->evaluate, aggregator_evaluation_time(agg, wp_now_ms())) == WP_OK)
        agg->rollup_due = true;
    aggregator_rollup(agg, true);
    if (agg->mqtt.connected) {
        alerts_publish(agg->alerts, wp_now_ms());
        levels_publish(agg->levels);
        dashboard_update(agg->dashboard, NULL, 0, true);   /* what is built and unsent */
    }
    char now[40];
    wp_datetime_format_local(wp_now_ms(), now, sizeof now);
    aggregator_publish_stats(agg);   /* the final counts, before the offline status */
    if (agg->mqtt.connected)
        aggregator_publish_status(agg, "offline", now);
    int64_t deadline = wp_monotonic_ms() + AGGREGATOR_DRAIN_MS;
    while (agg->mqtt.connected && agg->unconfirmed > 0 && wp_monotonic_ms() < deadline)
        wp_mqtt_loop(&agg->mqtt, 50);
    const struct ingest_stats *s = ingest_stats(agg->ingest);
    wp_log(WP_LOG_INFO, "stopping: %llu received, %llu stored, %llu duplicate(s), "
           "%llu rejected, %llu ack(s), %llu failed commit(s)",
           (unsigned long long)s->received, (unsigned long long)s->stored,
           (unsigned long long)s->duplicates, (unsigned long long)s->rejected,
           (unsigned long long)s->acks, (unsigned long long)s->commit_failures);
}

/* The database file was replaced or deleted: nothing more may be committed or acked
 * (the batch in hand is dropped unacked; its agents re-send it to the next start, which
 * opens the file now at the path). Only the offline status goes out. */
static void aggregator_abandon(struct aggregator *agg)
{
    wp_notify_stopping();
    wp_log(WP_LOG_ERR, "stopping with exit status 1: the database at %s is not the file this "
           "process opened; the service manager restarts the aggregator on the file now "
           "there", agg->cfg.db_path);
    if (!agg->mqtt.connected)
        return;
    char now[40];
    wp_datetime_format_local(wp_now_ms(), now, sizeof now);
    aggregator_publish_status(agg, "offline", now);
    int64_t deadline = wp_monotonic_ms() + AGGREGATOR_DRAIN_MS;
    while (agg->mqtt.connected && agg->unconfirmed > 0 && wp_monotonic_ms() < deadline)
        wp_mqtt_loop(&agg->mqtt, 50);
}

int main(int argc, char **argv)
{
    struct aggregator agg;
    struct wp_cmdline cmd;
    char err[1024] = "";
    char *will = NULL;
    int status = 1;

    memset(&agg, 0, sizeof agg);
    wp_log_init("aggregator", WP_LOG_INFO);
    if (wp_config_parse_args(aggregator_config_options, argc, argv, &cmd, err, sizeof err)
        != WP_OK) {
        fprintf(stderr, "wardpulse-aggregator: %s\n", err);
        return 2;
    }
    if (cmd.help) {
        aggregator_config_usage(stdout);
        return 0;
    }
    if (cmd.version) {
        printf("wardpulse-aggregator %s\n", WARDPULSE_VERSION);
        return 0;
    }
    if (cmd.command_index < argc) {
        fprintf(stderr, "wardpulse-aggregator: unexpected argument '%s' (see --help)\n",
                argv[cmd.command_index]);
        return 2;
    }
    if (aggregator_config_load(&agg.cfg, &cmd, err, sizeof err) != WP_OK
        || !aggregator_config_check_db_dir(agg.cfg.db_path, err, sizeof err)) {
        fprintf(stderr, "wardpulse-aggregator: %s\n", err);
        goto cleanup;
    }
    /* A plan that fails its checks stops the start (and --test-config says why): running
     * without the rules the district expects would be silent failure. */
    if (agg.cfg.plan_dir
        && plan_load(agg.cfg.plan_dir, agg.cfg.unit, &agg.plan, err, sizeof err) != WP_OK) {
        fprintf(stderr, "wardpulse-aggregator: plan: %s\n", err);
        goto cleanup;
    }
    if (cmd.test_config) {
        printf("configuration OK\n");
        status = 0;
        goto cleanup;
    }
    wp_log_init(NULL, agg.cfg.daemon.log_level_value);
    aggregator_install_signals();
    wp_daemon_config_apply_clock(&agg.cfg.daemon, WP_LOG_NOTICE);
    wp_datetime_format_local(wp_now_ms(), agg.since, sizeof agg.since);

    if (presence_init(&agg.presence, agg.cfg.client_id) != WP_OK) {
        wp_log(WP_LOG_ERR, "cannot draw an instance id: %s", strerror(errno));
        goto cleanup;
    }
    if (!(will = presence_status_json(&agg.presence, "offline", NULL))) {
        wp_log(WP_LOG_ERR, "out of memory");
        goto cleanup;
    }
    if (aggregator_start(&agg, will, err, sizeof err) != WP_OK) {
        wp_log(WP_LOG_ERR, "%s", err);
        goto cleanup;
    }
    wp_log(WP_LOG_INFO, "wardpulse-aggregator %s started: broker %s:%lld, client id %s "
           "(instance %s), batch %lld / %lld ms", WARDPULSE_VERSION, agg.cfg.daemon.broker_host,
           agg.cfg.daemon.broker_port, agg.cfg.client_id, agg.presence.instance, agg.cfg.batch_max,
           (long long)agg.cfg.batch_delay_ms);
    /* Store and plan are in hand; the broker may still be coming: STATUS= says so, and
     * the loop keeps retrying it rather than failing the start. */
    wp_notify_ready("database %s open, %s; connecting to broker %s:%lld", agg.cfg.db_path,
                    agg.plan ? "plan loaded" : "no plan", agg.cfg.daemon.broker_host,
                    agg.cfg.daemon.broker_port);

    aggregator_run(&agg);
    if (store_replaced(agg.store)) {
        aggregator_abandon(&agg);
        goto cleanup;
    }
    aggregator_drain(&agg);
    status = 0;

cleanup:
    if (agg.mqtt.mosq)
        wp_mqtt_destroy(&agg.mqtt);
    reconcile_destroy(&agg.reconcile);
    ingest_destroy(&agg.ingest);
    rollup_destroy(&agg.rollup);
    evaluate_destroy(&agg.evaluate);
    levels_destroy(&agg.levels);
    dashboard_destroy(&agg.dashboard);
    control_destroy(&agg.control);
    alerts_destroy(&agg.alerts);
    store_close(&agg.store);
    plan_free(&agg.plan);
    aggregator_config_free(&agg.cfg);
    free(will);
    wp_schemas_release();
    return status;
}
