"""Fault test, the broker's side: mosquitto (persistence on) stopped for 20 s in the
middle of a stream from the 14 Ba Đình agents and started again; ends with the
invariant, checked with `wardpulse export`: every submission that `submit` accepted is
stored exactly once."""
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from faults import District
from harness import TempDir, run_tests

OUTAGE_S = 20


def test_broker_stopped_for_20s_mid_stream():
    total = 840
    with TempDir() as tmp:
        district = District(tmp).start_agents()
        broker = district.broker
        outage = {}
        back = threading.Event()

        def restart():
            broker.start()
            outage["end"] = time.monotonic()
            back.set()

        def progress(n):
            if n == total // 3 and "start" not in outage:
                outage["start"] = time.monotonic()
                assert broker.stop() == 0  # SIGTERM: mosquitto saves its sessions and queues
                threading.Timer(OUTAGE_S, restart).start()

        # The wards go on submitting while the broker is down: submit needs no broker.
        district.stream(total, progress=progress)
        assert back.wait(OUTAGE_S + 15), "the broker did not come back"
        assert outage["end"] - outage["start"] >= OUTAGE_S
        start = time.monotonic()
        district.wait_delivered(timeout=120)
        print("delivered %.1fs after the broker came back" % (time.monotonic() - start))
        assert district.assert_exactly_once() == total
        for agent in district.agents.values():
            out = agent.output()
            assert "disconnected from" in out and out.count("connected to 127.0.0.1") >= 2, out[-1500:]
        district.stop_all()


run_tests(globals())
