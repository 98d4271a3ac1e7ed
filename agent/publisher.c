/* publisher.c — the agent daemon: publish the outbox, apply acks, announce status.
 *
 * One thread, event-driven: it sleeps in ppoll() on the MQTT socket, the spool folder's
 * inotify descriptor and the outbox folder's (outbox_watch.h), until the nearest real
 * deadline — an ack timeout, the reconnect backoff, the MQTT keepalive, a spool file
 * settling, a retry after a failure, the systemd watchdog. Idle, it wakes once per
 * keepalive (30 s: PINGREQ, PINGRESP), not on a timer. Woken, wp_mqtt_loop(…, 0) runs the
 * network without waiting, its callbacks (PUBACK, ack messages, connect) run inside it,
 * then the loop body takes in spool files, looks for reports a concurrent `submit`
 * committed and publishes whatever is due. Everything the daemon knows for sure lives in
 * the outbox; struct inflight only schedules.
 */
#define _GNU_SOURCE /* ppoll */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "ack.h"
#include "array.h"
#include "clock.h"
#include "commands.h"
#include "inflight.h"
#include "log.h"
#include "notify.h"
#include "mqtt_session.h"
#include "outbox.h"
#include "outbox_watch.h"
#include "spool.h"
#include "status_payload.h"
#include "timefmt.h"
#include "topic.h"

/* How long SIGTERM waits for the broker to take the offline status. */
#define PUBLISHER_SHUTDOWN_WAIT_MS 2000
/* How soon an ack the outbox could not take (a full disk) is tried again. */
#define PUBLISHER_ACK_RETRY_MS 1000
/* At most this many reports handed to libmosquitto and not yet taken by the broker
 * (PUBACK): a backlog of 10,000 is not copied into memory at once. A pass tops the
 * window up only once it is half empty, so a backlog leaves in a few dozen passes —
 * each recording its sends in one outbox transaction — and the wire (libmosquitto's
 * own window of 100 unacknowledged QoS 1 messages) never runs dry. */
#define PUBLISHER_QUEUE_MAX 1000
/* Quiet (no event) this long counts as going idle (publisher_wait). */
#define PUBLISHER_IDLE_MS 1000

struct publisher {
    const struct agent_config *cfg;
    struct outbox *ob;
    struct wp_mqtt mqtt;
    struct inflight inflight;
    struct ack_pending pending; /* what acks said that the outbox has not taken yet */
    int64_t pending_retry_ms;   /* monotonic: when to try applying it again */
    struct spool *spool;      /* NULL without spool_dir */
    char report_topic[WP_TOPIC_MAX];
    char ack_topic[WP_TOPIC_MAX];
    char status_topic[WP_TOPIC_MAX];
    char will_payload[256];   /* must outlive the session: libmosquitto resends it */
    bool connect_pending;     /* CONNACK seen; subscribe, birth, republish in the loop */
    bool link_lost;           /* a publish met MOSQ_ERR_NO_CONN: hold off until CONNACK */
    bool rescan;              /* the last look into the outbox failed: look again */
    int offline_mid;
    bool offline_delivered;
    int lock_fd;
    bool link_up;             /* the link state last recorded in the outbox, */
    int64_t link_since;       /* since when (wall clock ms), */
    char link_error[256];     /* and why it is down */
    char broker[300];         /* host:port, for status */
    struct outbox_watch owatch; /* fd -1: none, look every poll_interval instead */
    int64_t last_look_ms;     /* monotonic: the last outbox_changed() look */
    int64_t last_io_ms;       /* monotonic: the MQTT socket's last event (keepalive) */
    int64_t publish_retry_ms; /* monotonic: a pass that failed is tried again then */
    int64_t last_event_ms;    /* monotonic: the last wake by an event (not a deadline) */
    bool memory_released;     /* caches given back since that event (publisher_wait) */
};

/* Two daemons on one outbox would fight over the client id and publish everything twice;
 * a lock on a side file (not the database, whose locks SQLite owns) keeps it to one. An
 * fcntl lock rather than flock: `status` can test it with F_GETLK without taking it, so
 * it never makes a daemon that is just starting believe another one runs. */
static enum wp_err publisher_lock(struct publisher *p, char *err, size_t errlen)
{
    char path[4096];
    if (snprintf(path, sizeof path, "%s" AGENT_DAEMON_LOCK_SUFFIX, p->cfg->outbox_path) >=
        (int)sizeof path) {
        snprintf(err, errlen, "outbox_path is too long");
        return WP_ERR_CONFIG;
    }
    p->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (p->lock_fd < 0) {
        snprintf(err, errlen, "cannot create the daemon's lock file %.900s: %s", path,
                 strerror(errno));
        return WP_ERR_IO;
    }
    struct flock lock = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
    if (fcntl(p->lock_fd, F_SETLK, &lock) != 0) {
        snprintf(err, errlen, "another wardpulse-agent daemon already serves outbox %s",
                 p->cfg->outbox_path);
        return WP_ERR_CONFIG;
    }
    return WP_OK;
}

/* status payload of DESIGN.md. The Last Will is written at connect time, when neither
 * the moment it fires nor the queue length is known: will = true leaves both out. */
/* The status payload into buf; false (buf empty) when out of memory or it does not fit. */
static bool publisher_status_json(const struct publisher *p, const char *state, bool will,
                                  char *buf, size_t size)
{
    char since[40];
    wp_datetime_format_local(wp_now_ms(), since, sizeof since);
    struct wp_status status = {.ward = p->cfg->ward, .state = state,
                               .since = will ? NULL : since, .version = WARDPULSE_VERSION,
                               .queued = will ? -1 : (int64_t)p->inflight.count};
    char *text = wp_status_encode(&status);
    bool fits = text && (size_t)snprintf(buf, size, "%s", text) < size;
    if (!fits)
        buf[0] = '\0';
    free(text);
    return fits;
}

static int publisher_publish_status(struct publisher *p, const char *state, int *mid)
{
    char payload[256];
    if (!publisher_status_json(p, state, false, payload, sizeof payload)) {
        wp_log(WP_LOG_WARNING, "publishing %s status: out of memory", state);
        return MOSQ_ERR_NOMEM;
    }
    int rc = wp_mqtt_publish(&p->mqtt, mid, p->status_topic, payload, strlen(payload), 1, true);
    if (rc != MOSQ_ERR_SUCCESS)
        wp_log(WP_LOG_WARNING, "publishing %s status: %s", state, mosquitto_strerror(rc));
    return rc;
}

/* Takes in what a concurrent submit committed since we last looked. */
static void publisher_load_new(struct publisher *p)
{
    int64_t *seqs = NULL;
    size_t count = 0;
    /* On failure (logged) data_version will not tell us again: rescan asks next tick. */
    p->rescan = outbox_seqs_after(p->ob, p->inflight.highest_seq, &seqs, &count) != WP_OK;
    if (p->rescan)
        return;
    for (size_t i = 0; i < count; i++) {
        if (inflight_append(&p->inflight, seqs[i]) != WP_OK) {
            wp_log(WP_LOG_ERR, "out of memory tracking outbox entries");
            break;
        }
    }
    if (count > 0)
        wp_log(WP_LOG_DEBUG, "%zu new report(s) in the outbox, seq %lld..%lld", count,
               (long long)seqs[0], (long long)seqs[count - 1]);
    /* New work while the link is down: try the broker now, not at the end of the backoff
     * (a failed attempt only doubles the backoff again). */
    if (count > 0 && !p->mqtt.socket_open && p->mqtt.mosq)
        wp_mqtt_attempt_by(&p->mqtt, wp_monotonic_ms());
    free(seqs);
}

static void publisher_on_connected(struct publisher *p)
{
    int rc = mosquitto_subscribe(p->mqtt.mosq, NULL, p->ack_topic, 1);
    if (rc != MOSQ_ERR_SUCCESS)
        wp_log(WP_LOG_ERR, "subscribing to %s: %s", p->ack_topic, mosquitto_strerror(rc));
    publisher_load_new(p);
    publisher_publish_status(p, "online", NULL);
    /* libmosquitto keeps unsent messages only in memory and the broker may have lost
     * what it had: every unacked entry goes out again; the aggregator drops duplicates. */
    inflight_reset_all(&p->inflight);
    if (p->inflight.count > 0)
        wp_log(WP_LOG_INFO, "publishing %zu unacked report(s) from seq %lld",
               p->inflight.count, (long long)p->inflight.items[0].seq);
}

static void publisher_publish_due(struct publisher *p)
{
    int64_t now = wp_monotonic_ms();
    size_t i = 0, again = 0, queued = 0;
    int64_t again_first = 0, again_last = 0;
    for (size_t k = 0; k < p->inflight.count; k++)
        queued += p->inflight.items[k].state == INFLIGHT_QUEUED;
    if (queued > PUBLISHER_QUEUE_MAX / 2)
        return; /* PUBACKs will bring it down; then this pass fills it up again */
    /* The seqs published in this pass: their send times (for status only) are recorded
     * in one transaction at its end. */
    int64_t *sent = NULL;
    size_t sent_count = 0, sent_cap = 0;
    bool record_sends = true;
    if (now < p->publish_retry_ms)
        return;
    /* The delivery fields every report of this pass carries; acks (which change them)
     * are applied between passes, never during one. */
    int64_t unacked_from = 0, kept_from = 0;
    bool delivery_known = false;
    while (i < p->inflight.count && p->mqtt.connected && !p->link_lost
           && queued < PUBLISHER_QUEUE_MAX) {
        struct inflight_entry *e = &p->inflight.items[i++];
        if (!inflight_is_due(e, now))
            continue;
        if (!delivery_known
            && outbox_delivery_state(p->ob, &unacked_from, &kept_from) != WP_OK) {
            p->publish_retry_ms = now + PUBLISHER_ACK_RETRY_MS;
            break; /* logged; the next pass tries again */
        }
        delivery_known = true;
        p->publish_retry_ms = 0;
        char *stored = NULL, *payload = NULL;
        size_t stored_len = 0, len = 0;
        enum wp_err err = outbox_payload(p->ob, e->seq, &stored, &stored_len);
        if (err == WP_OK) {
            payload = wp_report_with_delivery(stored, stored_len, unacked_from, kept_from, &len);
            free(stored);
            if (!payload)
                err = WP_ERR_NOMEM;
        }
        if (err == WP_ERR_NOT_FOUND) {
            inflight_remove(&p->inflight, e->seq); /* acked meanwhile */
            i--; /* the next entry moved into this slot */
            continue;
        }
        if (err != WP_OK) {
            inflight_failed(&p->inflight, e, now);
            continue;
        }
        if (e->state == INFLIGHT_DELIVERED) {
            if (again++ == 0)
                again_first = e->seq;
            again_last = e->seq;
        }
        int mid = 0;
        int rc = wp_mqtt_publish(&p->mqtt, &mid, p->report_topic, payload, len, 1, false);
        free(payload);
        if (rc == MOSQ_ERR_SUCCESS || rc == MOSQ_ERR_NO_CONN) {
            inflight_queued(e, mid);
            queued++;
            if (record_sends && WP_ARRAY_RESERVE(sent, sent_cap, sent_count + 1))
                sent[sent_count++] = e->seq;
            else
                record_sends = false; /* out of memory: the send times are for status only */
            /* NO_CONN: libmosquitto has queued it for the session anyway, and the link is
             * gone before its disconnect callback told us. Publishing more (or this one
             * again) before the reconnect would only pile up copies in memory; the
             * reconnect republishes every unacked entry. */
            if (rc == MOSQ_ERR_NO_CONN)
                p->link_lost = true;
        } else {
            wp_log(WP_LOG_ERR, "publishing report seq %lld: %s", (long long)e->seq,
                   mosquitto_strerror(rc));
            inflight_failed(&p->inflight, e, now);
        }
    }
    /* One line per pass, not per report: after an aggregator outage thousands are due. */
    if (again > 0)
        wp_log(WP_LOG_INFO, "no ack in time for %zu report(s) (seq %lld..%lld): published again",
               again, (long long)again_first, (long long)again_last);
    if (sent_count > 0) {
        bool recorded = outbox_mark_sent(p->ob, sent, sent_count, wp_now_ms()) == WP_OK;
        wp_log(WP_LOG_DEBUG, "publish pass: %zu report(s) published (seq %lld..%lld), their "
               "sends %s in one outbox transaction", sent_count, (long long)sent[0],
               (long long)sent[sent_count - 1], recorded ? "recorded" : "not recorded");
    }
    free(sent);
}

/* After the outbox changed under the in-memory list (a new stream, entries taken back
 * from the archive): the list is rebuilt from the outbox, the truth. */
static void publisher_reload(struct publisher *p)
{
    inflight_free(&p->inflight);
    inflight_init(&p->inflight, p->cfg->ack_timeout_ms, p->cfg->ack_timeout_max_ms);
    publisher_load_new(p);
}

/* Applies what the acks said, if the outbox takes it now; otherwise keeps it for the
 * next try (a full disk frees up, a lock clears). */
static void publisher_apply_pending(struct publisher *p)
{
    struct ack_pending *a = &p->pending;
    if (!a->active || wp_monotonic_ms() < p->pending_retry_ms)
        return;
    p->pending_retry_ms = wp_monotonic_ms() + PUBLISHER_ACK_RETRY_MS;
    size_t removed = 0, dead = 0;
    enum wp_err e = outbox_apply_ack(p->ob, a->acked_through, a->rejected, a->rejected_count,
                                     &removed, &dead);
    if (e == WP_ERR_CONFLICT) {
        char err[512];
        size_t renumbered = 0;
        if (outbox_restart_stream(p->ob, &renumbered, err, sizeof err) != WP_OK) {
            wp_log(WP_LOG_ERR, "%s", err);
            return;
        }
        ack_pending_clear(a); /* it spoke of the old stream */
        publisher_reload(p);
        return;
    }
    if (e != WP_OK)
        return; /* logged by the outbox; kept */
    inflight_acked(&p->inflight, a->acked_through, wp_monotonic_ms());
    for (size_t i = 0; i < a->rejected_count; i++)
        inflight_remove(&p->inflight, a->rejected[i].seq);
    if (removed + dead > 0)
        wp_log(WP_LOG_INFO, "ack through seq %lld: %zu report(s) delivered, %zu rejected",
               (long long)a->acked_through, removed, dead);
    if (a->resend_from > 0) {
        size_t restored = 0;
        if (outbox_resend_from(p->ob, a->resend_from, &restored) != WP_OK)
            return; /* logged; the ack, applied again, changes nothing, then this again */
        wp_log(WP_LOG_WARNING, "the district lacks seq %lld and later, acknowledged before "
               "(its database was restored?): %zu report(s) from the archive go out again",
               (long long)a->resend_from, restored);
        if (restored > 0)
            publisher_reload(p);
    }
    ack_pending_clear(a);
}

static void publisher_handle_ack(struct publisher *p, const void *payload, int len)
{
    struct ack ack;
    char err[512];
    if (ack_decode(payload, (size_t)len, p->cfg->ward, outbox_stream(p->ob), &ack, err,
                   sizeof err) != WP_OK) {
        wp_log(WP_LOG_WARNING, "ignoring ack on %s: %s", p->ack_topic, err);
        return;
    }
    if (ack_pending_add(&p->pending, &ack) != WP_OK)
        wp_log(WP_LOG_ERR, "out of memory keeping an ack; the district acks again when the "
               "reports are published again");
    ack_clear(&ack);
    p->pending_retry_ms = 0;
    publisher_apply_pending(p);
}

/* Records the link in the outbox when it changed, for `status`: up or down, since when,
 * and why it is down (the reason may change while it stays down: a refused connection,
 * then a timeout). */
static void publisher_track_link(struct publisher *p)
{
    bool up = p->mqtt.connected;
    const char *why = up ? "" : p->mqtt.last_error;
    if (up == p->link_up && strcmp(why, p->link_error) == 0)
        return;
    if (up != p->link_up)
        p->link_since = up ? p->mqtt.connected_since_ms : wp_now_ms();
    p->link_up = up;
    snprintf(p->link_error, sizeof p->link_error, "%s", why);
    outbox_link_record(p->ob, up, p->link_since, why, p->broker);
}

/* ---- callbacks: run inside wp_mqtt_loop, in this thread ---------------------------- */

static void publisher_cb_connect(void *userdata)
{
    struct publisher *p = userdata;
    p->connect_pending = true;
}

static void publisher_cb_publish(void *userdata, int mid)
{
    struct publisher *p = userdata;
    if (p->offline_mid != 0 && mid == p->offline_mid) {
        p->offline_delivered = true;
        return;
    }
    inflight_delivered(&p->inflight, mid, wp_monotonic_ms());
}

static void publisher_cb_message(void *userdata, const char *topic, const void *payload,
                                 int payloadlen, int qos, bool retain)
{
    (void)qos;
    (void)retain;
    struct publisher *p = userdata;
    if (strcmp(topic, p->ack_topic) == 0)
        publisher_handle_ack(p, payload, payloadlen);
    else
        wp_log(WP_LOG_DEBUG, "ignoring message on %s", topic);
}

/* ---- run ------------------------------------------------------------------------------- */

static enum wp_err publisher_start(struct publisher *p, char *err, size_t errlen)
{
    const struct agent_config *cfg = p->cfg;
    if (!wp_topic_for_unit(p->report_topic, sizeof p->report_topic, "report", cfg->ward) ||
        !wp_topic_for_unit(p->ack_topic, sizeof p->ack_topic, "ack", cfg->ward) ||
        !wp_topic_for_unit(p->status_topic, sizeof p->status_topic, "status", cfg->ward)) {
        snprintf(err, errlen, "ward code %s does not fit a topic", cfg->ward);
        return WP_ERR_CONFIG;
    }
    enum wp_err e = publisher_lock(p, err, errlen);
    if (e == WP_OK)
        e = outbox_open(&p->ob, cfg->outbox_path, cfg->ward, OUTBOX_CREATE | OUTBOX_RELAXED, err,
                        errlen);
    if (e != WP_OK)
        return e;
    outbox_set_archive(p->ob, cfg->archive_days * 86400000, cfg->archive_max);
    if (cfg->spool_dir) {
        e = spool_open(&p->spool, cfg, err, errlen);
        if (e != WP_OK)
            return e;
    }
    inflight_init(&p->inflight, cfg->ack_timeout_ms, cfg->ack_timeout_max_ms);
    char werr[4200];
    if (outbox_watch_open(&p->owatch, cfg->outbox_path, werr, sizeof werr) != WP_OK)
        wp_log(WP_LOG_WARNING, "%s; looking for reports of a concurrent submit every %lld ms "
               "instead", werr, (long long)cfg->poll_interval_ms);
    p->last_io_ms = wp_monotonic_ms();
    if (!publisher_status_json(p, "offline", true, p->will_payload, sizeof p->will_payload)) {
        snprintf(err, errlen, "out of memory");
        return WP_ERR_NOMEM;
    }

    struct wp_mqtt_options opts = {
        .host = cfg->daemon.broker_host,
        .port = (int)cfg->daemon.broker_port,
        .client_id = cfg->client_id,
        .clean_session = false,
        .will_topic = p->status_topic,
        .will_payload = p->will_payload,
        .will_retain = true,
        .cafile = cfg->daemon.cafile,
        .certfile = cfg->daemon.certfile,
        .keyfile = cfg->daemon.keyfile,
        .username = cfg->daemon.username,
        .password_file = cfg->daemon.password_file,
        .reconnect_min_ms = cfg->reconnect_min_ms,
        .reconnect_max_ms = cfg->reconnect_max_ms,
        .userdata = p,
        .on_connect = publisher_cb_connect,
        .on_message = publisher_cb_message,
        .on_publish = publisher_cb_publish,
    };
    e = wp_mqtt_init(&p->mqtt, &opts, err, errlen);
    if (e != WP_OK)
        return e;
    snprintf(p->broker, sizeof p->broker, "%s:%lld", cfg->daemon.broker_host, cfg->daemon.broker_port);
    p->link_since = wp_now_ms();
    snprintf(p->link_error, sizeof p->link_error, "the daemon started; connecting");
    outbox_link_record(p->ob, false, p->link_since, p->link_error, p->broker);
    wp_log(WP_LOG_NOTICE, "wardpulse-agent %s for ward %s: outbox %s, stream %s, broker %s:%lld",
           WARDPULSE_VERSION, cfg->ward, cfg->outbox_path, outbox_stream(p->ob),
           cfg->daemon.broker_host, cfg->daemon.broker_port);
    if (wp_clock_simulated()) {
        char shown[40];
        wp_datetime_format_local(wp_now_ms(), shown, sizeof shown);
        wp_log(WP_LOG_NOTICE, "simulated clock: now %s, %lld× real time", shown, cfg->daemon.clock_rate);
    }
    return WP_OK;
}

/* SIGTERM: a clean DISCONNECT makes the broker drop the Last Will, so the offline status
 * is ours to publish; wait briefly for its PUBACK so that it is not lost with the link. */
static void publisher_stop(struct publisher *p)
{
    if (!p->mqtt.mosq)
        return;
    if (p->mqtt.connected &&
        publisher_publish_status(p, "offline", &p->offline_mid) == MOSQ_ERR_SUCCESS) {
        int64_t deadline = wp_monotonic_ms() + PUBLISHER_SHUTDOWN_WAIT_MS;
        while (!p->offline_delivered && p->mqtt.connected && wp_monotonic_ms() < deadline)
            wp_mqtt_loop(&p->mqtt, 100);
    }
    wp_mqtt_destroy(&p->mqtt);
}

/* ---- waiting ---------------------------------------------------------------------- */

/* When a publish pass next has something to send without a new event: INT64_MAX while
 * the link is down or libmosquitto's queue is full (a PUBACK, an event, frees it). */
static int64_t publisher_publish_due_at(const struct publisher *p)
{
    if (!p->mqtt.connected || p->link_lost)
        return INT64_MAX;
    size_t queued = 0;
    int64_t due = INT64_MAX;
    for (size_t k = 0; k < p->inflight.count; k++) {
        const struct inflight_entry *e = &p->inflight.items[k];
        if (e->state == INFLIGHT_QUEUED)
            queued++;
        else if (e->state == INFLIGHT_PENDING && p->publish_retry_ms < due)
            due = p->publish_retry_ms;
        else if (e->state == INFLIGHT_DELIVERED && e->due_ms < due)
            due = e->due_ms;
    }
    return queued > PUBLISHER_QUEUE_MAX / 2 ? INT64_MAX : due;
}

/* The nearest deadline (monotonic ms) at which the loop has work without an event. */
static int64_t publisher_next_deadline(const struct publisher *p)
{
    int64_t due = wp_notify_watchdog_due_ms();
#define PUBLISHER_AT(t)                                                                       \
    do {                                                                                      \
        int64_t t_ = (t);                                                                     \
        if (t_ < due)                                                                         \
            due = t_;                                                                         \
    } while (0)
    if (!p->mqtt.socket_open)
        PUBLISHER_AT(p->mqtt.next_attempt_ms);
    else /* libmosquitto counts keepalive in whole seconds: a little after it is due */
        PUBLISHER_AT(p->last_io_ms + p->mqtt.opts.keepalive_s * 1000LL + 50);
    if (p->pending.active)
        PUBLISHER_AT(p->pending_retry_ms);
    if (p->rescan || p->owatch.fd < 0)
        PUBLISHER_AT(p->last_look_ms + p->cfg->poll_interval_ms);
    PUBLISHER_AT(spool_next_due_ms(p->spool));
    PUBLISHER_AT(publisher_publish_due_at(p));
#undef PUBLISHER_AT
    return due;
}

/* Sleeps until an event on the MQTT socket, the spool's or the outbox's watch, a signal
 * (waitmask unblocks them: no signal is lost between the flag check and the sleep), or
 * the next deadline. */
static void publisher_wait(struct publisher *p, const sigset_t *waitmask)
{
    int64_t now = wp_monotonic_ms();
    int64_t due = publisher_next_deadline(p);
    struct pollfd fds[3];
    nfds_t n = 0;
    int sock = p->mqtt.socket_open ? mosquitto_socket(p->mqtt.mosq) : -1;
    if (sock >= 0)
        fds[n++] = (struct pollfd){.fd = sock, .events = POLLIN | (mosquitto_want_write(
                                                        p->mqtt.mosq) ? POLLOUT : 0)};
    if (spool_fd(p->spool) >= 0)
        fds[n++] = (struct pollfd){.fd = spool_fd(p->spool), .events = POLLIN};
    if (p->owatch.fd >= 0)
        fds[n++] = (struct pollfd){.fd = p->owatch.fd, .events = POLLIN};
    /* Quiet for PUBLISHER_IDLE_MS (no event): what a burst of work left in SQLite's page
     * caches and free heap goes back to the system, once; idle RSS stays that of a fresh
     * start. Not at every wake of a busy spell, where the caches earn their keep. */
    if (!p->memory_released && now - p->last_event_ms >= PUBLISHER_IDLE_MS) {
        outbox_release_memory(p->ob);
        spool_release_memory(p->spool);
        malloc_trim(0);
        p->memory_released = true;
    }
    if (!p->memory_released && p->last_event_ms + PUBLISHER_IDLE_MS < due)
        due = p->last_event_ms + PUBLISHER_IDLE_MS;
    struct timespec ts, *tsp = NULL;
    if (due != INT64_MAX) {
        int64_t wait = due > now ? due - now : 0;
        ts = (struct timespec){.tv_sec = wait / 1000, .tv_nsec = (wait % 1000) * 1000000L};
        tsp = &ts;
    }
    int rc = ppoll(fds, n, tsp, waitmask);
    now = wp_monotonic_ms();
    if (rc > 0 && sock >= 0 && fds[0].revents)
        p->last_io_ms = now;
    if (rc > 0) {
        p->last_event_ms = now;
        p->memory_released = false;
    }
    /* The keepalive deadline passed: wp_mqtt_loop now pings (or finds the link dead);
     * the PINGRESP, an event, sets last_io_ms again. */
    if (now >= p->last_io_ms + p->mqtt.opts.keepalive_s * 1000LL)
        p->last_io_ms = now;
    if (p->owatch.fd >= 0)
        outbox_watch_read(&p->owatch);
}

int publisher_run(const struct agent_config *cfg)
{
    char err[1024];
    struct publisher p;
    memset(&p, 0, sizeof p);
    p.cfg = cfg;
    p.lock_fd = -1;
    p.owatch.fd = -1;
    int status = 1;

    if (publisher_start(&p, err, sizeof err) != WP_OK) {
        wp_log(WP_LOG_ERR, "%s", err);
        goto cleanup;
    }
    wp_notify_ready("outbox %s open; connecting to broker %s:%lld", cfg->outbox_path,
                    cfg->daemon.broker_host, cfg->daemon.broker_port);
    /* The signals the loop acts on stay blocked but while it sleeps in ppoll(). */
    sigset_t block, waitmask;
    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGHUP);
    sigprocmask(SIG_BLOCK, &block, &waitmask);
    sigdelset(&waitmask, SIGTERM);
    sigdelset(&waitmask, SIGINT);
    sigdelset(&waitmask, SIGHUP);
    bool replaced = false;
    bool first = true;
    while (!agent_stop_requested) {
        /* The outbox at the path is another file now (outbox.h): stop before anything
         * else is applied to the one we hold; a restart opens the file there. */
        if ((replaced = outbox_replaced(p.ob) || spool_replaced(p.spool)))
            break;
        wp_notify_watchdog(wp_monotonic_ms());
        if (!first)
            publisher_wait(&p, &waitmask);
        first = false;
        if (agent_stop_requested)
            break;
        wp_mqtt_loop(&p.mqtt, 0);
        if (agent_stop_requested)
            break;
        if (agent_reload_requested) {
            agent_reload_requested = 0;
            wp_log(WP_LOG_NOTICE, "SIGHUP: nothing to reload in this version; ignored");
        }
        publisher_track_link(&p);
        if (p.connect_pending) {
            p.connect_pending = false;
            p.link_lost = false;
            publisher_on_connected(&p);
        }
        /* inotify tells the spool what changed: a read() per tick, no listing. */
        if (p.spool)
            spool_tick(p.spool);
        /* A commit by another connection (a submit, or the spool's own connection) bumps
         * data_version; our own writes do not, so this costs one tiny read per tick. */
        publisher_apply_pending(&p);
        p.last_look_ms = wp_monotonic_ms();
        if (outbox_changed(p.ob) || p.rescan)
            publisher_load_new(&p);
        if (p.mqtt.connected)
            publisher_publish_due(&p);
    }
    wp_notify_stopping();
    if (replaced) {
        wp_log(WP_LOG_ERR, "stopping with exit status 1: the outbox at %s is not the file "
               "this daemon opened; the service manager restarts it on the file now there",
               cfg->outbox_path);
        publisher_stop(&p);
        goto cleanup;
    }
    wp_log(WP_LOG_NOTICE, "stopping: %zu report(s) stay queued in the outbox",
           p.inflight.count);
    publisher_stop(&p);
    outbox_link_record(p.ob, false, wp_now_ms(), "the daemon was stopped", p.broker);
    status = 0;

cleanup:
    if (p.mqtt.mosq)
        wp_mqtt_destroy(&p.mqtt);
    inflight_free(&p.inflight);
    ack_pending_clear(&p.pending);
    spool_close(&p.spool);
    outbox_watch_close(&p.owatch);
    outbox_close(&p.ob);
    if (p.lock_fd >= 0)
        close(p.lock_fd);
    return status;
}
