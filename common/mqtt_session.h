/* mqtt_session.h — one libmosquitto client as both daemons use it.
 *
 * Persistent session (clean_session = false, fixed client id), MQTT 3.1.1, optional Last
 * Will, optional TLS and username/password, and reconnection with exponential backoff
 * driven from the caller's own loop (no libmosquitto thread: everything runs in the
 * daemon's one thread, so callbacks never race with the daemon's SQLite work).
 *
 *   struct wp_mqtt m;
 *   wp_mqtt_init(&m, &opts, err, sizeof err);
 *   while (running) { wp_mqtt_loop(&m, 100); ...own work... }
 *   wp_mqtt_destroy(&m);
 *
 * Callbacks run inside wp_mqtt_loop(). Pointers passed to them (topic, payload) belong
 * to libmosquitto and are valid only during the callback.
 */
#ifndef WP_MQTT_SESSION_H
#define WP_MQTT_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mosquitto.h>

#include "error.h"

struct wp_mqtt_options {
    const char *host;
    int port;
    const char *client_id;
    bool clean_session;          /* false for both daemons */
    int keepalive_s;             /* 0: 30 */
    const char *will_topic;      /* NULL: no Last Will */
    const char *will_payload;
    bool will_retain;
    const char *cafile;          /* TLS when cafile is set */
    const char *certfile;        /* client certificate (optional) */
    const char *keyfile;
    const char *username;        /* optional */
    const char *password_file;   /* first line is the password; read again before
                                  * every reconnection (a rotation needs no restart) */
    int64_t reconnect_min_ms;    /* 0: 500 */
    int64_t reconnect_max_ms;    /* 0: 30000 */

    void *userdata;
    void (*on_connect)(void *userdata);                 /* after CONNACK success */
    void (*on_disconnect)(void *userdata, int reason);  /* link lost or refused */
    void (*on_message)(void *userdata, const char *topic, const void *payload,
                       int payloadlen, int qos, bool retain);
    void (*on_publish)(void *userdata, int mid);        /* PUBACK for our QoS 1 publish */
};

struct wp_mqtt {
    struct mosquitto *mosq;
    struct wp_mqtt_options opts;
    bool connected;                 /* CONNACK received and the link is up */
    bool socket_open;               /* a connection is under way or up */
    bool ever_attempted;            /* first attempt done: later ones are reconnects */
    int64_t connected_since_ms;     /* wall clock (wp_now_ms) of the last CONNACK */
    int64_t next_attempt_ms;        /* monotonic time of the next (re)connect attempt */
    int64_t backoff_ms;
    char last_error[256];           /* why the last attempt or the link failed */
    /* mids of our QoS > 0 publications the broker has not acknowledged yet: an orderly
     * goodbye waits for them (see say_goodbye in mqtt_session.c) */
    int *unacked_mids;
    size_t unacked_count, unacked_cap;
    /* during wp_mqtt_loop_while: its more(ctx), asked after each message */
    bool (*more)(void *ctx);
    void *more_ctx;
};

/* Creates the client and starts the first connection attempt (non-blocking: a broker
 * that is down is not an error here; wp_mqtt_loop keeps trying). Strings in opts are
 * copied by libmosquitto where needed; opts itself is copied. */
enum wp_err wp_mqtt_init(struct wp_mqtt *m, const struct wp_mqtt_options *opts, char *err,
                         size_t errlen);

/* Services the network for up to timeout_ms, reconnecting when due. Never blocks longer. */
void wp_mqtt_loop(struct wp_mqtt *m, int timeout_ms);

/* wp_mqtt_loop, then more reading while the socket has data and more(ctx) is true
 * (e.g. while a batch has room), then the writes the callbacks queued. One turn of the
 * caller's loop takes many messages, and the caller, not libmosquitto, says when to
 * stop reading and act on them: libmosquitto's own read loop (2.0) reads as many packets
 * as it has QoS > 0 messages unacknowledged, whatever max_packets asks, so more(ctx) is
 * also asked after each message inside it, and a false stops it (see on_message in
 * mqtt_session.c for how, and why that is safe). */
void wp_mqtt_loop_while(struct wp_mqtt *m, int timeout_ms, bool (*more)(void *ctx), void *ctx);

/* Publishes; returns the libmosquitto code (MOSQ_ERR_SUCCESS, MOSQ_ERR_NO_CONN, …,
 * MOSQ_ERR_NOMEM when the session cannot even note the message as unacknowledged).
 * With MOSQ_ERR_NO_CONN libmosquitto has still queued a QoS > 0 message for the next
 * connection of this session. mid may be NULL. */
int wp_mqtt_publish(struct wp_mqtt *m, int *mid, const char *topic, const void *payload,
                    size_t len, int qos, bool retain);

/* Brings the next connection attempt forward to when_ms (wp_monotonic_ms time) if it is
 * due later and no connection is under way: a daemon that has new work while the link is
 * down tries at once rather than at the end of a long backoff. */
void wp_mqtt_attempt_by(struct wp_mqtt *m, int64_t when_ms);

/* Disconnects cleanly (what is queued leaves first; the broker drops the Last Will) and
 * makes no new attempt for ms milliseconds: a daemon that must stay off the broker for a
 * while. Not from inside a callback (it runs libmosquitto's loop). */
void wp_mqtt_hold_off(struct wp_mqtt *m, int64_t ms);

/* Publishes (if connected), disconnects cleanly and frees everything. */
void wp_mqtt_destroy(struct wp_mqtt *m);

#endif
