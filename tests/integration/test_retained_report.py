"""A report published with the retain flag is processed once, not again at every
(re)connection of the aggregator.

mosquitto 2.0.11 keeps the last retained message of report/<ward> and sends it again, with the
retain flag set, whenever the aggregator subscribes to report/+ — at every connection.
The aggregator takes a report only from its live delivery (retain flag clear: a live
message, or one queued for its persistent session while it was away) and skips the
retained copy, so neither the duplicate nor the rejected counter grows, the `rejected`
table keeps one row per refused message, and the report is stored exactly once.

Each check waits for a point after which the retained copy has certainly been handed to
the aggregator: once its "online" status (published right after its SUBSCRIBE) has reached
our subscriber, a report published now reaches the aggregator after the retained copy
(mosquitto sends a client's messages in the order it queued them); when that report is
acknowledged, the retained copy went through the same or an earlier commit.
"""
import json
import os
import re
import sqlite3
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Aggregator, Broker, Subscriber, TempDir, publish, run_tests, wait_for

ROOT = "wardpulse/v1/"
STREAM = "00000000000000c1"


def report(seq, period="2022-05-03"):
    return {"v": 1, "ward": "00001", "stream": STREAM, "seq": seq, "period": period,
            "observed_at": "%sT16:00:00+07:00" % period, "values": {"cases_new_community": seq}}


def stored(db):
    with sqlite3.connect("file:%s?mode=ro" % db, uri=True) as c:
        return c.execute("SELECT ward, stream, seq FROM reports ORDER BY seq").fetchall()


def rejected(db):
    with sqlite3.connect("file:%s?mode=ro" % db, uri=True) as c:
        return c.execute("SELECT topic, reason FROM rejected").fetchall()


def final_counts(agg):
    """The counters of the aggregator's last run, from its closing log line."""
    lines = re.findall(r"stopping: (\d+) received, (\d+) stored, (\d+) duplicate\(s\), "
                       r"(\d+) rejected", agg.output())
    assert lines, agg.output()[-2000:]
    return dict(zip(("received", "stored", "duplicates", "rejected"), map(int, lines[-1])))


class Watch:
    """The aggregator's status and ward 00001's acks, as seen by a subscriber."""

    def __init__(self, port):
        self.sub = Subscriber(port, ROOT + "aggregator/status", ROOT + "ack/00001",
                              client_id="watch")

    def onlines(self):
        """Live "online" statuses (the watch subscribes before the aggregator first starts,
        so it sees each one live, with the retain flag clear)."""
        with self.sub.lock:
            msgs = list(self.sub.messages)
        return len([1 for t, p, r in msgs if t == ROOT + "aggregator/status" and not r and p
                    and json.loads(p)["state"] == "online"])

    def acked_through(self):
        acks = self.sub.payloads(ROOT + "ack/00001")
        return max([a["acked_through"] for a in acks if a["stream"] == STREAM] or [0])

    def sync(self, port, onlines, seq):
        """Waits for the aggregator's online status number `onlines`, then publishes report
        seq live and waits for its ack (see the module's comment)."""
        wait_for(lambda: self.onlines() >= onlines, "aggregator online (%d)" % onlines)
        publish(port, ROOT + "report/00001", report(seq))
        wait_for(lambda: self.acked_through() >= seq, "ack of seq %d" % seq)


def take_over(port, client_id):
    import paho.mqtt.client as mqtt
    c = mqtt.Client(client_id=client_id, clean_session=False)
    c.connect("127.0.0.1", port)
    c.loop_start()
    wait_for(c.is_connected, "the take-over connected")
    c.disconnect()
    c.loop_stop()


def test_retained_report_is_processed_once():
    with TempDir() as tmp:
        broker = Broker(tmp).start()
        watch = Watch(broker.port)
        agg = Aggregator(tmp, broker.port, batch_delay="5ms").start()
        wait_for(lambda: watch.onlines() >= 1, "aggregator online")
        # A ward's report and something that is not a report at all, both retained.
        publish(broker.port, ROOT + "report/00001", report(1), retain=True)
        publish(broker.port, ROOT + "report/00004", "not json", retain=True)
        wait_for(lambda: len(stored(agg.db)) == 1 and len(rejected(agg.db)) == 1,
                 "the live deliveries processed")
        watch.sync(broker.port, 1, 2)

        # A reconnection: a client taking over the aggregator's session (same client id,
        # the session kept) cuts its link; it reconnects by itself.
        take_over(broker.port, agg.settings["client_id"])
        wait_for(lambda: agg.output().count("connected to 127.0.0.1") >= 2, "reconnected")
        watch.sync(broker.port, 2, 3)
        assert agg.stop() == 0, agg.output()
        counts = final_counts(agg)
        assert counts == {"received": 4, "stored": 3, "duplicates": 0, "rejected": 1}, counts

        # A restart of the aggregator, twice.
        for n in (3, 4):
            agg.start()
            watch.sync(broker.port, n, n + 1)
            assert agg.stop() == 0, agg.output()
            counts = final_counts(agg)
            assert counts == {"received": 1, "stored": 1, "duplicates": 0, "rejected": 0}, counts

        # Retained while the aggregator is away: queued for its persistent session, and
        # processed once from there.
        publish(broker.port, ROOT + "report/00001", report(6), retain=True)
        agg.start()
        watch.sync(broker.port, 5, 7)
        assert agg.stop() == 0, agg.output()
        counts = final_counts(agg)
        assert counts == {"received": 2, "stored": 2, "duplicates": 0, "rejected": 0}, counts

        assert stored(agg.db) == [("00001", STREAM, n) for n in range(1, 8)], stored(agg.db)
        assert len(rejected(agg.db)) == 1, rejected(agg.db)
        assert "skipping the retained message on %sreport/00001" % ROOT in agg.output()
        watch.sub.close()


if __name__ == "__main__":
    run_tests(globals())
