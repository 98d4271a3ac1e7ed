/* mqtt_session.c — libmosquitto driven from the daemon's own loop, with reconnect backoff. */
#include "mqtt_session.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "array.h"
#include "clock.h"
#include "file.h"
#include "log.h"
#include "notify.h"

#define DEFAULT_KEEPALIVE_S 30
#define DEFAULT_RECONNECT_MIN_MS 500
#define DEFAULT_RECONNECT_MAX_MS 30000
/* Enough QoS 1 messages in flight to keep a link busy without flooding a small broker. */
#define MAX_INFLIGHT 100

static void sleep_ms(int64_t ms)
{
    if (ms <= 0)
        return;
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
        break; /* a signal: return so the caller's loop sees its flag */
}

/* Next attempt after a failure: double the backoff up to the maximum, and draw the wait
 * from [backoff/2, backoff] so that many agents cut off by the same outage do not all
 * reconnect in the same instant when the broker comes back. */
static void schedule_retry(struct wp_mqtt *m)
{
    int64_t lo = m->backoff_ms / 2, span = m->backoff_ms - lo;
    m->next_attempt_ms = wp_monotonic_ms() + lo + (span > 0 ? rand() % (span + 1) : 0);
    m->backoff_ms *= 2;
    if (m->backoff_ms > m->opts.reconnect_max_ms)
        m->backoff_ms = m->opts.reconnect_max_ms;
}

static void on_connect(struct mosquitto *mosq, void *obj, int rc)
{
    (void)mosq;
    struct wp_mqtt *m = obj;
    if (rc != 0) {
        snprintf(m->last_error, sizeof m->last_error, "broker refused the connection: %s",
                 mosquitto_connack_string(rc));
        wp_log(WP_LOG_ERR, "%s:%d: %s", m->opts.host, m->opts.port, m->last_error);
        return; /* libmosquitto drops the link; wp_mqtt_loop then schedules a retry */
    }
    m->connected = true;
    m->connected_since_ms = wp_now_ms();
    m->backoff_ms = m->opts.reconnect_min_ms;
    m->last_error[0] = '\0';
    wp_log(WP_LOG_INFO, "connected to %s:%d as %s", m->opts.host, m->opts.port,
           m->opts.client_id);
    wp_notify_status("connected to broker %s:%d", m->opts.host, m->opts.port);
    if (m->opts.on_connect)
        m->opts.on_connect(m->opts.userdata);
}

static void on_disconnect(struct mosquitto *mosq, void *obj, int reason)
{
    (void)mosq;
    struct wp_mqtt *m = obj;
    bool was_connected = m->connected;
    m->connected = false;
    if (was_connected) {
        if (reason != 0)
            snprintf(m->last_error, sizeof m->last_error, "connection lost: %s",
                     mosquitto_strerror(reason));
        wp_log(reason ? WP_LOG_WARNING : WP_LOG_INFO, "disconnected from %s:%d%s%s",
               m->opts.host, m->opts.port, reason ? ": " : "",
               reason ? mosquitto_strerror(reason) : "");
        if (m->opts.on_disconnect)
            m->opts.on_disconnect(m->opts.userdata, reason);
    }
}

static void on_message(struct mosquitto *mosq, void *obj, const struct mosquitto_message *msg)
{
    (void)mosq;
    struct wp_mqtt *m = obj;
    if (m->opts.on_message)
        m->opts.on_message(m->opts.userdata, msg->topic, msg->payload, msg->payloadlen,
                           msg->qos, msg->retain);
    /* Inside wp_mqtt_loop_while, once the caller wants no more: libmosquitto's read loop
     * (mosquitto_loop_read, lib/loop.c, 2.0.11 as upstream) stops after a packet when it
     * finds errno EAGAIN, its sign of a drained socket; nothing between this callback and
     * that test sets errno on success. Were that to change, reading would only go on
     * as before: a larger batch, later acks, nothing lost. */
    if (m->more && !m->more(m->more_ctx))
        errno = EAGAIN;
}

static void on_publish(struct mosquitto *mosq, void *obj, int mid)
{
    (void)mosq;
    struct wp_mqtt *m = obj;
    /* Acks come mostly in order: the mid is nearly always the first. */
    for (size_t i = 0; i < m->unacked_count; i++) {
        if (m->unacked_mids[i] == mid) {
            memmove(m->unacked_mids + i, m->unacked_mids + i + 1,
                    (m->unacked_count - i - 1) * sizeof *m->unacked_mids);
            m->unacked_count--;
            break;
        }
    }
    if (m->opts.on_publish)
        m->opts.on_publish(m->opts.userdata, mid);
}

static void on_log(struct mosquitto *mosq, void *obj, int level, const char *str)
{
    (void)mosq;
    (void)obj;
    if (level & (MOSQ_LOG_ERR | MOSQ_LOG_WARNING))
        wp_log(WP_LOG_WARNING, "libmosquitto: %s", str);
    else
        wp_log(WP_LOG_DEBUG, "libmosquitto: %s", str);
}

/* Reads the first line of password_file into buf. */
static enum wp_err read_password(const char *path, char *buf, size_t size, char *err,
                                 size_t errlen)
{
    const char *why;
    FILE *f = wp_file_open(path, &why);
    if (!f) {
        snprintf(err, errlen, "password_file %s: %s", path, why);
        return WP_ERR_CONFIG;
    }
    if (!fgets(buf, (int)size, f)) {
        fclose(f);
        snprintf(err, errlen, "password_file %s: empty", path);
        return WP_ERR_CONFIG;
    }
    fclose(f);
    buf[strcspn(buf, "\r\n")] = '\0';
    return WP_OK;
}

/* Sets the user name and the password read from password_file now: read at start, and
 * again before every connection attempt, so that a rotated password is taken up at the
 * next reconnect without a restart. */
static enum wp_err set_credentials(struct wp_mqtt *m, char *err, size_t errlen)
{
    const struct wp_mqtt_options *o = &m->opts;
    char password[512] = "";
    if (o->password_file) {
        enum wp_err e = read_password(o->password_file, password, sizeof password, err, errlen);
        if (e != WP_OK)
            return e;
    }
    int rc = mosquitto_username_pw_set(m->mosq, o->username, o->password_file ? password : NULL);
    memset(password, 0, sizeof password);
    if (rc != MOSQ_ERR_SUCCESS) {
        snprintf(err, errlen, "username: %s", mosquitto_strerror(rc));
        return rc == MOSQ_ERR_NOMEM ? WP_ERR_NOMEM : WP_ERR_CONFIG;
    }
    return WP_OK;
}

static enum wp_err configure(struct wp_mqtt *m, char *err, size_t errlen)
{
    const struct wp_mqtt_options *o = &m->opts;
    int rc;

    mosquitto_int_option(m->mosq, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311);
    mosquitto_max_inflight_messages_set(m->mosq, MAX_INFLIGHT);
    if (o->will_topic) {
        rc = mosquitto_will_set(m->mosq, o->will_topic, (int)strlen(o->will_payload),
                                o->will_payload, 1, o->will_retain);
        if (rc != MOSQ_ERR_SUCCESS) {
            snprintf(err, errlen, "last will: %s", mosquitto_strerror(rc));
            return WP_ERR_MQTT;
        }
    }
    if (o->cafile) {
        rc = mosquitto_tls_set(m->mosq, o->cafile, NULL, o->certfile, o->keyfile, NULL);
        if (rc != MOSQ_ERR_SUCCESS) {
            snprintf(err, errlen, "TLS (cafile %s, certfile %s, keyfile %s): %s", o->cafile,
                     o->certfile ? o->certfile : "-", o->keyfile ? o->keyfile : "-",
                     mosquitto_strerror(rc));
            return WP_ERR_CONFIG;
        }
    }
    if (o->username) {
        enum wp_err e = set_credentials(m, err, errlen);
        if (e != WP_OK)
            return e;
    }
    mosquitto_connect_callback_set(m->mosq, on_connect);
    mosquitto_disconnect_callback_set(m->mosq, on_disconnect);
    mosquitto_message_callback_set(m->mosq, on_message);
    mosquitto_publish_callback_set(m->mosq, on_publish);
    mosquitto_log_callback_set(m->mosq, on_log);
    return WP_OK;
}

enum wp_err wp_mqtt_init(struct wp_mqtt *m, const struct wp_mqtt_options *opts, char *err,
                         size_t errlen)
{
    static bool lib_ready;
    memset(m, 0, sizeof *m);
    m->opts = *opts;
    if (!m->opts.keepalive_s)
        m->opts.keepalive_s = DEFAULT_KEEPALIVE_S;
    if (!m->opts.reconnect_min_ms)
        m->opts.reconnect_min_ms = DEFAULT_RECONNECT_MIN_MS;
    if (!m->opts.reconnect_max_ms)
        m->opts.reconnect_max_ms = DEFAULT_RECONNECT_MAX_MS;
    m->backoff_ms = m->opts.reconnect_min_ms;

    if (!lib_ready) {
        mosquitto_lib_init();
        /* A broker that closes the socket under a write must not kill the daemon. */
        signal(SIGPIPE, SIG_IGN);
        srand((unsigned)(wp_monotonic_ms() ^ (int64_t)getpid()));
        lib_ready = true;
    }
    m->mosq = mosquitto_new(opts->client_id, opts->clean_session, m);
    if (!m->mosq) {
        snprintf(err, errlen, "cannot create MQTT client '%s': %s", opts->client_id,
                 strerror(errno));
        return errno == ENOMEM ? WP_ERR_NOMEM : WP_ERR_CONFIG;
    }
    enum wp_err rc = configure(m, err, errlen);
    if (rc != WP_OK) {
        mosquitto_destroy(m->mosq);
        m->mosq = NULL;
        return rc;
    }
    m->next_attempt_ms = wp_monotonic_ms();
    return WP_OK;
}

/* Starts a TCP connection (non-blocking); CONNACK arrives later through wp_mqtt_loop. */
static void try_connect(struct wp_mqtt *m)
{
    if (m->opts.username && m->opts.password_file && m->ever_attempted) {
        /* A password file that cannot be read now (being replaced, say): the last
         * password read stays in use, and the problem is logged. */
        char err[600];
        if (set_credentials(m, err, sizeof err) != WP_OK)
            wp_log(WP_LOG_WARNING, "%s; connecting with the password read before", err);
    }
    int rc = m->ever_attempted
                 ? mosquitto_reconnect_async(m->mosq)
                 : mosquitto_connect_async(m->mosq, m->opts.host, m->opts.port, m->opts.keepalive_s);
    m->ever_attempted = true;
    if (rc != MOSQ_ERR_SUCCESS) {
        snprintf(m->last_error, sizeof m->last_error, "cannot connect to %s:%d: %s",
                 m->opts.host, m->opts.port,
                 rc == MOSQ_ERR_ERRNO ? strerror(errno) : mosquitto_strerror(rc));
        wp_log(WP_LOG_WARNING, "%s (retrying)", m->last_error);
        wp_notify_status("broker unreachable, retrying: %s", m->last_error);
        schedule_retry(m);
        return;
    }
    m->socket_open = true;
}

static void link_failed(struct wp_mqtt *m, int rc);

void wp_mqtt_loop(struct wp_mqtt *m, int timeout_ms)
{
    if (!m->socket_open) {
        int64_t wait = m->next_attempt_ms - wp_monotonic_ms();
        if (wait > 0) {
            sleep_ms(wait < timeout_ms ? wait : timeout_ms);
            return;
        }
        try_connect(m);
        if (!m->socket_open) {
            sleep_ms(timeout_ms < 50 ? timeout_ms : 50);
            return;
        }
    }
    int rc = mosquitto_loop(m->mosq, timeout_ms, 1);
    if (rc != MOSQ_ERR_SUCCESS)
        link_failed(m, rc);
}

void wp_mqtt_loop_while(struct wp_mqtt *m, int timeout_ms, bool (*more)(void *ctx), void *ctx)
{
    m->more = more;
    m->more_ctx = ctx;
    wp_mqtt_loop(m, timeout_ms);
    int rc = MOSQ_ERR_SUCCESS;
    while (m->connected && more(ctx)) {
        struct pollfd p = {.fd = mosquitto_socket(m->mosq), .events = POLLIN};
        if (p.fd < 0 || poll(&p, 1, 0) <= 0)
            break;
        if ((rc = mosquitto_loop_read(m->mosq, 1)) != MOSQ_ERR_SUCCESS)
            break;
    }
    /* What the callbacks queued (libmosquitto only queues a publish made inside one). */
    m->more = NULL;
    if (rc == MOSQ_ERR_SUCCESS && m->connected && mosquitto_want_write(m->mosq))
        rc = mosquitto_loop_write(m->mosq, 1);
    if (rc != MOSQ_ERR_SUCCESS)
        link_failed(m, rc);
}

/* A mosquitto_loop* call failed: libmosquitto has closed the socket and run
 * on_disconnect (a no-op if the link never came up); remember why and retry after the
 * backoff. */
static void link_failed(struct wp_mqtt *m, int rc)
{
    on_disconnect(m->mosq, m, rc);
    if (!m->last_error[0] || rc != MOSQ_ERR_CONN_REFUSED)
        snprintf(m->last_error, sizeof m->last_error, "connection to %s:%d failed: %s",
                 m->opts.host, m->opts.port,
                 rc == MOSQ_ERR_ERRNO ? strerror(errno) : mosquitto_strerror(rc));
    m->socket_open = false;
    wp_notify_status("broker unreachable, retrying: %s", m->last_error);
    schedule_retry(m);
}

void wp_mqtt_attempt_by(struct wp_mqtt *m, int64_t when_ms)
{
    if (!m->socket_open && m->next_attempt_ms > when_ms)
        m->next_attempt_ms = when_ms;
}

int wp_mqtt_publish(struct wp_mqtt *m, int *mid, const char *topic, const void *payload,
                    size_t len, int qos, bool retain)
{
    int own_mid = 0;
    if (m->unacked_count >= 65535) {
        /* mids are 16 bits: more entries than mids means some were never acknowledged
         * (their messages dropped by libmosquitto); the oldest go */
        memmove(m->unacked_mids, m->unacked_mids + 1, --m->unacked_count * sizeof *m->unacked_mids);
    }
    if (qos > 0 && !WP_ARRAY_RESERVE(m->unacked_mids, m->unacked_cap, m->unacked_count + 1))
        return MOSQ_ERR_NOMEM;
    int rc = mosquitto_publish(m->mosq, &own_mid, topic, (int)len, payload, qos, retain);
    /* NO_CONN: queued for the next connection of the session, so unacknowledged too. */
    if (qos > 0 && (rc == MOSQ_ERR_SUCCESS || rc == MOSQ_ERR_NO_CONN))
        m->unacked_mids[m->unacked_count++] = own_mid;
    if (mid)
        *mid = own_mid;
    return rc;
}

/* An orderly DISCONNECT, so that the broker discards our Last Will. Three ways to lose
 * it, all seen on a loaded machine: a socket closed before the DISCONNECT is out; a
 * socket closed with bytes still unread (e.g. our own retained status echoed back by a
 * subscription), which makes the kernel send a reset that can overtake the DISCONNECT
 * at the broker; and a socket closed before the broker acknowledged our last QoS 1
 * publication (the offline status): the broker reads that PUBLISH, its PUBACK meets a
 * closed socket, and it drops the link (logging "out of memory") without ever reading
 * the DISCONNECT behind it. So: let queued messages leave and wait until the broker
 * acknowledged every one (at most 2 s), read until the link has been quiet for a
 * moment, then disconnect and wait for the socket to close (on_disconnect). */
static void say_goodbye(struct wp_mqtt *m)
{
    for (int i = 0; i < 40 && m->connected
                    && (mosquitto_want_write(m->mosq) || m->unacked_count > 0); i++)
        mosquitto_loop(m->mosq, 50, 1);
    for (int i = 0; i < 20 && m->connected; i++) {
        struct pollfd p = {.fd = mosquitto_socket(m->mosq), .events = POLLIN};
        if (p.fd < 0 || poll(&p, 1, 20) == 0)
            break;
        mosquitto_loop(m->mosq, 0, 1);
    }
    mosquitto_disconnect(m->mosq);
    for (int i = 0; i < 20 && m->connected; i++)
        mosquitto_loop(m->mosq, 50, 1);
}

void wp_mqtt_hold_off(struct wp_mqtt *m, int64_t ms)
{
    if (m->socket_open) {
        if (m->connected)
            say_goodbye(m);
        else
            mosquitto_disconnect(m->mosq);
        m->socket_open = false;
    }
    m->connected = false;
    m->next_attempt_ms = wp_monotonic_ms() + ms;
    snprintf(m->last_error, sizeof m->last_error, "staying off the broker for %lld s",
             (long long)(ms / 1000));
    wp_notify_status("off the broker for %lld s", (long long)(ms / 1000));
}

void wp_mqtt_destroy(struct wp_mqtt *m)
{
    if (!m->mosq)
        return;
    if (m->connected)
        say_goodbye(m);
    mosquitto_destroy(m->mosq);
    m->mosq = NULL;
    free(m->unacked_mids);
    m->unacked_mids = NULL;
    m->unacked_count = m->unacked_cap = 0;
    m->connected = false;
}
