#!/usr/bin/python3
"""The Debian packages' life on a machine: install, upgrade, remove, purge, with dpkg.

Two builds of the packages are made with cpack from the build tree: the version of the
tree (REVISION 1) and the same with a higher Debian revision (cpack -D
CPACK_DEBIAN_PACKAGE_RELEASE=2), the upgrade. Then, in order:
  - install: the system users exist (system accounts), the state directories and the spool
    folder have their owners and modes, the aggregator's unit is enabled the way
    deb-systemd-helper does it (the shipped configuration passes --test-config) and the
    agent's is not (no ward yet), and postinst said what to set;
  - upgrade to the higher version: the data and the operator's edit of a conffile stay,
    the aggregator stays enabled, the agent stays as the operator left it;
  - remove: programs gone, configuration and data kept, the units masked;
  - purge: says it removes the state directories and does; configuration, masks, enable
    links and deb-systemd-helper's records are gone, the system users stay; nothing else
    named wardpulse is left under /etc, /usr, /var or /lib.

Where: the real dpkg database of this machine. `dpkg --root DIR` (or --instdir) would keep
the packages in a temporary directory, but dpkg runs the maintainer scripts chroot'ed
into it, so DIR would need a whole Debian (sh, adduser, perl for deb-systemd-helper, the
programs' libraries for --test-config): a debootstrap, minutes and a mirror. With
--force-script-chrootless the scripts run against the real system anyway (adduser
writes the real /etc/passwd). So the test runs only as root (else it exits 77: skipped),
only when nothing of wardpulse is installed or left on the machine (it would purge an
operator's data), and undoes everything it did at the end, pass or fail: the packages
purged, the users it made deleted, deb-systemd-helper's files for the units removed.
There is no systemd as PID 1 here, so nothing is started: deb-systemd-invoke is not
reached (the scripts check /run/systemd/system); enabling is checked through the links
and state deb-systemd-helper writes, which need no running systemd.

Not in a sanitizer build (WARDPULSE_SANITIZE): its packages are never shipped, and
`make check` and `make check-asan` running side by side would contend for dpkg's lock.

Needs dpkg-dev and file (for cpack), root. Run:
WP_SOURCE_DIR=/work/main WP_BUILD_DIR=build /usr/bin/python3 tests/integration/test_package_install.py
"""
import atexit
import glob
import os
import pwd
import re
import shutil
import stat
import subprocess
import tempfile

from harness import BUILD, Skip, run_tests

PACKAGES = ("wardpulse-common", "wardpulse-agent", "wardpulse-aggregator")
USERS = ("wardpulse", "wardpulse-agent")
STATE = ("/var/lib/wardpulse", "/var/lib/wardpulse-agent")
UNITS = ("wardpulse-agent.service", "wardpulse-aggregator.service")
WANTS = "/etc/systemd/system/multi-user.target.wants/"
HELPER_STATE = ("/var/lib/systemd/deb-systemd-helper-enabled",
                "/var/lib/systemd/deb-systemd-helper-masked")
SEARCHED = ("/etc", "/usr", "/var", "/lib")

_state = {}     # "debs": {revision: {package: path}}, "users_before", "skip", "error"


def cache_value(name):
    with open(os.path.join(BUILD, "CMakeCache.txt"), encoding="utf-8") as f:
        m = re.search(r"^%s:\w+=(.*)$" % re.escape(name), f.read(), re.M)
    return m.group(1) if m else None


def run(*argv, check=True):
    r = subprocess.run(argv, capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
    assert r.returncode == 0 or not check, "%s failed (%d):\n%s%s" % (
        " ".join(argv), r.returncode, r.stdout[-3000:], r.stderr[-3000:])
    return r


def installed(package):
    """dpkg's status of a package: "installed", "config-files", or None (unknown/purged)."""
    r = run("dpkg-query", "-W", "-f=${db:Status-Status} ${Version}", package, check=False)
    if r.returncode != 0 or not r.stdout.strip() or r.stdout.startswith("not-installed"):
        return None
    return r.stdout.split()[0]


def version(package):
    return run("dpkg-query", "-W", "-f=${Version}", package).stdout


def leftovers():
    """Every path under SEARCHED whose name contains "wardpulse"."""
    found = []
    for top in SEARCHED:
        for root, dirs, files in os.walk(top):
            if root.startswith(("/proc", "/sys")):
                continue
            for name in dirs + files:
                if "wardpulse" in name:
                    found.append(os.path.join(root, name))
    return sorted(found)


def why_not_here():
    """The reason this machine cannot run the test, or None."""
    if cache_value("WARDPULSE_SANITIZE") in ("ON", "TRUE", "1", "YES"):
        return "a sanitizer build's packages are never installed (the plain build's test does it)"
    if os.geteuid() != 0:
        return "installing packages with dpkg needs root (this test changes the dpkg database)"
    for tool in ("dpkg", "dpkg-shlibdeps", "file", "deb-systemd-helper"):
        if not shutil.which(tool):
            return "%s is missing (scripts/install-deps.sh --tests)" % tool
    present = [p for p in PACKAGES if installed(p)] + leftovers()
    if present:
        return "wardpulse is already on this machine (%s): the test would purge it" % ", ".join(present[:5])
    return None


def setup():
    """Skips unless the machine allows the test; builds both versions once per run."""
    if "skip" not in _state:
        _state["skip"] = why_not_here()
    if _state["skip"]:
        raise Skip(_state["skip"])
    if "debs" in _state:
        return _state["debs"]
    assert "error" not in _state, _state["error"]
    _state["error"] = "the packages could not be built (see the first failure)"
    out = tempfile.mkdtemp(prefix="wardpulse-test-install-")
    atexit.register(shutil.rmtree, out, True)
    cpack = os.path.join(os.path.dirname(cache_value("CMAKE_COMMAND") or "/usr/bin/cmake"), "cpack")
    debs = {}
    for revision in ("1", "2"):
        dest = os.path.join(out, revision)
        extra = [] if revision == "1" else ["-D", "CPACK_DEBIAN_PACKAGE_RELEASE=" + revision]
        r = subprocess.run([cpack, "-G", "DEB", "-B", dest] + extra, cwd=BUILD,
                           capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, "cpack failed:\n%s%s" % (r.stdout[-3000:], r.stderr[-3000:])
        debs[revision] = {p: glob.glob(os.path.join(dest, p + "_*.deb"))[0] for p in PACKAGES}
    first = run("dpkg-deb", "-f", debs["1"]["wardpulse-agent"], "Version").stdout.strip()
    second = run("dpkg-deb", "-f", debs["2"]["wardpulse-agent"], "Version").stdout.strip()
    assert run("dpkg", "--compare-versions", second, "gt", first, check=False).returncode == 0, \
        (first, second)
    _state["versions"] = (first, second)
    _state["users_before"] = [u for u in USERS if user(u)]
    atexit.register(cleanup)
    _state["debs"] = debs
    del _state["error"]
    return debs


def user(name):
    try:
        return pwd.getpwnam(name)
    except KeyError:
        return None


def cleanup():
    """Undoes what the test did to this machine, whatever state a failure left."""
    present = [p for p in PACKAGES if installed(p)]
    if present:
        run("dpkg", "--purge", *present, check=False)
    for name in USERS:
        if name not in _state.get("users_before", USERS) and user(name):
            run("userdel", name, check=False)
            run("groupdel", name, check=False)
    for unit in UNITS:
        for path in (WANTS + unit, "/etc/systemd/system/" + unit) + \
                tuple(os.path.join(d, unit) for d in HELPER_STATE) + \
                tuple(glob.glob("/var/lib/systemd/deb-systemd-helper-enabled/*/%s" % unit)):
            if os.path.islink(path) or os.path.isfile(path):
                os.unlink(path)
    for path in STATE:
        shutil.rmtree(path, ignore_errors=True)


def dpkg(*args):
    """dpkg ARGS, never asking (a conffile question keeps the operator's version); returns
    what it printed."""
    r = run("dpkg", "--force-confdef", "--force-confold", *args)
    return r.stdout + r.stderr


def enabled(unit):
    return os.path.islink(WANTS + unit)


def masked(unit):
    return os.path.realpath("/etc/systemd/system/" + unit) == "/dev/null"


def test_install():
    debs = setup()
    said = dpkg("-i", *debs["1"].values())
    for package in PACKAGES:
        assert installed(package) == "installed", (package, installed(package))
        assert version(package) == _state["versions"][0]
    for name, home in zip(USERS, STATE):
        account = user(name)
        assert account and account.pw_uid < 1000 and account.pw_dir == home, account
        assert account.pw_shell in ("/usr/sbin/nologin", "/bin/false"), account
        st = os.stat(home)
        assert st.st_uid == account.pw_uid and stat.S_IMODE(st.st_mode) == 0o750, (home, oct(st.st_mode))
    agent = user("wardpulse-agent")
    for spool in ("spool", "spool/done", "spool/rejected"):
        st = os.stat("/var/lib/wardpulse-agent/" + spool)
        assert st.st_gid == agent.pw_gid and stat.S_IMODE(st.st_mode) == 0o2770, (spool, oct(st.st_mode))
    # The aggregator's shipped configuration passes --test-config: enabled as
    # dh_installsystemd does it; the agent's has no ward: not enabled, and postinst says why.
    run("/usr/bin/wardpulse-aggregator", "-c", "/etc/wardpulse/aggregator.conf", "--test-config")
    assert enabled("wardpulse-aggregator.service"), os.listdir(os.path.dirname(WANTS))
    unit = os.readlink(WANTS + "wardpulse-aggregator.service")
    assert unit.endswith("/systemd/system/wardpulse-aggregator.service") and os.path.isfile(unit), unit
    assert not enabled("wardpulse-agent.service")
    assert "set ward" in said and "systemctl enable --now wardpulse-agent" in said, said
    for page in ("man8/wardpulse-agent.8.gz", "man8/wardpulse-aggregator.8.gz", "man1/wardpulse.1.gz",
                 "man5/wardpulse-agent.conf.5.gz", "man5/wardpulse-aggregator.conf.5.gz"):
        assert os.path.isfile("/usr/share/man/" + page), page


def test_upgrade_keeps_data_configuration_and_the_operators_choice():
    debs = setup()
    assert installed("wardpulse-aggregator") == "installed", "test_install did not run"
    with open("/var/lib/wardpulse/wardpulse.db", "w") as f:
        f.write("the district's data\n")
    with open("/var/lib/wardpulse-agent/outbox.db", "w") as f:
        f.write("reports not yet delivered\n")
    with open("/etc/wardpulse/agent.conf", "a") as f:
        f.write("ward 00001\n")
    dpkg("-i", *debs["2"].values())
    for package in PACKAGES:
        assert installed(package) == "installed" and version(package) == _state["versions"][1], package
    assert open("/var/lib/wardpulse/wardpulse.db").read() == "the district's data\n"
    assert open("/var/lib/wardpulse-agent/outbox.db").read() == "reports not yet delivered\n"
    assert "ward 00001\n" in open("/etc/wardpulse/agent.conf").read()
    assert not os.path.exists("/etc/wardpulse/agent.conf.dpkg-dist")
    assert enabled("wardpulse-aggregator.service")
    # The agent was not enabled at install; the operator has not enabled it since: it stays so.
    assert not enabled("wardpulse-agent.service")


def test_remove_keeps_configuration_and_data_and_masks_the_units():
    setup()
    assert installed("wardpulse-aggregator") == "installed", "the earlier steps did not run"
    dpkg("-r", "wardpulse-agent", "wardpulse-aggregator")
    for package in ("wardpulse-agent", "wardpulse-aggregator"):
        assert installed(package) == "config-files", (package, installed(package))
    for program in ("wardpulse", "wardpulse-agent", "wardpulse-aggregator"):
        assert not os.path.exists("/usr/bin/" + program), program
    assert os.path.isfile("/etc/wardpulse/aggregator.conf") and os.path.isfile("/etc/wardpulse/agent.conf")
    assert os.path.isfile("/var/lib/wardpulse/wardpulse.db")
    assert os.path.isfile("/var/lib/wardpulse-agent/outbox.db")
    for unit in UNITS:
        assert masked(unit), "%s is not masked after remove" % unit


def test_purge_removes_state_after_saying_so_and_keeps_the_users():
    setup()
    assert installed("wardpulse-agent") == "config-files", "the earlier steps did not run"
    said = dpkg("--purge", *PACKAGES)
    for package in PACKAGES:
        assert installed(package) is None, (package, installed(package))
    assert "purging: removing /var/lib/wardpulse " in said, said
    assert "purging: removing /var/lib/wardpulse-agent " in said, said
    for path in STATE:
        assert not os.path.exists(path), "%s survived the purge" % path
    for unit in UNITS:
        assert not masked(unit) and not enabled(unit), unit
        for d in HELPER_STATE:
            assert not os.path.exists(os.path.join(d, unit)), os.path.join(d, unit)
    for name in USERS:
        assert user(name), "the system user %s was removed: Debian leaves them" % name
    left = leftovers()
    assert not left, "left after purge: %s" % left


if __name__ == "__main__":
    run_tests(globals())
