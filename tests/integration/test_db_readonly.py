"""The aggregator refuses to start on a database it cannot write — a read-only file, or a
read-only directory where SQLite could not create its -wal and -shm — with a clear
message and a non-zero exit, and so does --test-config.

Root ignores file modes, so as root the files are made immutable (chattr +i) instead; if
that is not possible here (no CAP_LINUX_IMMUTABLE, a file system without the flag), the
tests report SKIP (exit 77, which CTest shows as skipped), never PASS."""
import contextlib
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import AGGREGATOR_BIN, Aggregator, Broker, Skip, TempDir, run_tests, wait_for


@contextlib.contextmanager
def read_only(path):
    """path cannot be written (nor, for a directory, have files created in it) while the
    block runs; Skip if this machine cannot arrange that."""
    if os.geteuid() != 0:
        mode = os.stat(path).st_mode
        os.chmod(path, mode & ~0o222)
        undo = lambda: os.chmod(path, mode)
    else:
        r = subprocess.run(["chattr", "+i", path], capture_output=True, text=True)
        if r.returncode != 0:
            raise Skip("running as root and chattr +i %s failed (%s): cannot make a file "
                       "read-only for root here" % (path, r.stderr.strip()))
        undo = lambda: subprocess.run(["chattr", "-i", path], check=True)
    try:
        probe = os.path.join(path, "probe") if os.path.isdir(path) else path
        try:
            with open(probe, "a"):
                pass
        except OSError:
            pass
        else:
            raise Skip("%s is still writable after making it read-only" % path)
        yield
    finally:
        undo()


def check_config(agg):
    return subprocess.run([AGGREGATOR_BIN, "-c", agg.conf, "--test-config"],
                          capture_output=True, text=True, timeout=30)


def refused(agg):
    agg.start()
    wait_for(lambda: not agg.alive(), "the aggregator to refuse to start", timeout=15)
    return agg.proc.returncode, agg.output()


def test_read_only_database_file_is_refused():
    with TempDir() as tmp:
        broker = Broker(tmp).start()
        agg = Aggregator(tmp, broker.port).start()
        assert agg.stop() == 0
        with read_only(agg.db):
            r = check_config(agg)
            assert r.returncode != 0, r.stdout + r.stderr
            assert "is not writable" in r.stderr and agg.db in r.stderr, r.stderr
            code, out = refused(agg)
            assert code != 0, out
            assert "the database %s is not writable" % agg.db in out, out[-2000:]


def test_read_only_directory_is_refused():
    with TempDir() as tmp:
        broker = Broker(tmp).start()
        data = os.path.join(tmp, "data")
        os.mkdir(data)
        agg = Aggregator(tmp, broker.port, db_path=os.path.join(data, "aggregator.db"))
        agg.db = os.path.join(data, "aggregator.db")
        with read_only(data):
            r = check_config(agg)
            assert r.returncode != 0, r.stdout + r.stderr
            assert "cannot write in the database's directory %s" % data in r.stderr, r.stderr
            code, out = refused(agg)
            assert code != 0, out
            assert "cannot write in the database's directory %s" % data in out, out[-2000:]


run_tests(globals())
