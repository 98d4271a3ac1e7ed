"""Fault tests, the aggregator's side: real mosquitto with persistence, the real
aggregator, the 14 Ba Đình agents; each ends with the invariant, checked with
`wardpulse export`: every submission that `submit` accepted is stored exactly once."""
import os
import random
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from faults import District, Killer
from harness import TempDir, run_tests


def test_aggregator_killed_9_at_random_moments_during_2000_reports():
    seed = int(os.environ.get("WP_FAULT_SEED") or time.time())
    rng = random.Random(seed)
    print("seed %d (WP_FAULT_SEED to repeat)" % seed, flush=True)
    total = 2000
    with TempDir() as tmp:
        district = District(tmp).start_agents()
        # Six kills at random points of the stream, never in its first or last tenth.
        points = sorted(rng.sample(range(total // 10, total * 9 // 10), 6))
        killer = Killer(district.aggregator, points, pause=(0.1, 1.0), rng=rng)
        start = time.monotonic()
        district.stream(total, progress=killer.progress)
        killer.finish()
        print("streamed %d reports in %.1fs with %d kills -9 of the aggregator at %s"
              % (total, time.monotonic() - start, killer.kills, points), flush=True)
        assert killer.kills >= 5
        assert district.aggregator.alive()
        district.wait_delivered(timeout=int(os.environ.get("WP_FAULT_WAIT", "150")))
        assert district.assert_exactly_once() == total
        out = district.aggregator.output()
        assert out.count("wardpulse-aggregator") >= 1
        district.stop_all()


def test_aggregator_down_during_the_whole_submission_phase():
    """The aggregator has never run: the broker keeps nothing for it, so every report
    reaches it through the agents' republication once it starts."""
    total = 560
    with TempDir() as tmp:
        district = District(tmp, start_aggregator=False).start_agents()
        district.stream(total)
        # Everything was published at least once and nothing can have been acked.
        time.sleep(1.5)
        assert not os.path.exists(district.aggregator.db)
        district.aggregator.start()
        district.wait_delivered(timeout=90)
        assert district.assert_exactly_once() == total
        republished = sum("published again" in a.output() for a in district.agents.values())
        assert republished == len(district.agents), "every agent had to republish"
        district.stop_all()


run_tests(globals())
