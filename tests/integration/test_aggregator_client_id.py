"""Two aggregators with the same MQTT client_id on one broker (a copied configuration on
a second machine) notice each other through the instance id in their retained
aggregator/status, and say so: one steps back (offline, off the broker for a minute and
more), the other keeps serving and names the conflict too. Real mosquitto, real daemons."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from faults import District
from harness import Aggregator, Subscriber, TempDir, run_tests, wait_for

STATUS = "wardpulse/v1/aggregator/status"


def test_two_aggregators_with_the_same_client_id_name_the_conflict():
    with TempDir() as tmp:
        district = District(tmp, wards=["00001"])
        first = district.aggregator
        sub = Subscriber(district.broker.port, STATUS)
        second = Aggregator(tmp, district.broker.port, name="second",
                            client_id=first.settings["client_id"]).start()
        both = (first, second)
        wait_for(lambda: all("client_id conflict" in a.output() for a in both),
                 "both aggregators to name the client_id conflict")
        stepped = [a for a in both if "steps back" in a.output()]
        assert len(stepped) >= 1, [a.output()[-1500:] for a in both]
        for a in both:
            assert first.settings["client_id"] in a.output().split("client_id conflict", 1)[1]
            assert a.alive(), a.output()[-2000:]
        # The statuses carry the instance ids the conflict messages name.
        instances = {p.get("instance") for p in sub.payloads(STATUS) if p}
        assert len(instances - {None}) == 2, sub.payloads(STATUS)
        for a in both:
            assert any(i in a.output() for i in instances if i)
        sub.close()
        # The one that stayed serves: a report submitted now is stored and acked.
        holder = first if stepped == [second] else second if stepped == [first] else None
        district.start_agents()
        district.stream(2)
        district.wait_delivered()
        if holder is not None:
            district.aggregator = holder
            assert district.assert_exactly_once() == 2


def test_an_orderly_restart_is_no_conflict():
    """The previous run's goodbye (its "offline" status, queued in the session and
    retained) is not a rival: restarts log no client_id conflict, and the aggregator
    serves at once."""
    with TempDir() as tmp:
        district = District(tmp, wards=["00001"]).start_agents()
        agg = district.aggregator
        for run in range(1, 3):
            wait_for(lambda: agg.output().count("reconcile:") >= run, "the aggregator connected")
            assert agg.stop() == 0
            agg.start()
        district.stream(2)
        district.wait_delivered()
        assert district.assert_exactly_once() == 2
        assert "client_id conflict" not in agg.output(), agg.output()[-2000:]
        assert "steps back" not in agg.output()


run_tests(globals())
