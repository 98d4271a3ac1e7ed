#!/usr/bin/python3
"""The Debian packages: `cpack -G DEB` in the build tree, then each .deb inspected with dpkg-deb.

  - three packages, named the Debian way: wardpulse-agent, wardpulse-aggregator (with the
    `wardpulse` command) and wardpulse-common (schemas, documentation; both depend on it);
  - Depends: every shared library the programs load (dpkg-shlibdeps), at least libmosquitto1,
    libsqlite3-0 and libcjson1, and libsystemd0 as soon as a program calls sd_notify; the
    aggregator Recommends mosquitto;
  - files: programs in /usr/bin, units in /lib/systemd/system (or /usr/lib/…) naming
    /usr/bin and /etc/wardpulse, example configurations in /etc/wardpulse listed as
    conffiles, schemas, plans and the broker configuration in /usr/share/wardpulse;
  - no file in two packages (a district server installs both daemons), and maintainer
    scripts that are executable and parse.

Needs dpkg-deb, dpkg-shlibdeps (Debian package dpkg-dev) and file. Run:
WP_SOURCE_DIR=/work/main WP_BUILD_DIR=build /usr/bin/python3 tests/integration/test_packaging.py
"""
import atexit
import glob
import os
import re
import shutil
import subprocess
import tempfile

from harness import BUILD, run_tests

PACKAGES = ("wardpulse-agent", "wardpulse-aggregator", "wardpulse-common")
LIBRARIES = ("libmosquitto1", "libsqlite3-0", "libcjson1")
UNIT_DIRS = ("/lib/systemd/system/", "/usr/lib/systemd/system/")

_built = {}          # name: Package, or "error": the message of a failed build


def cache_value(name):
    with open(os.path.join(BUILD, "CMakeCache.txt"), encoding="utf-8") as f:
        m = re.search(r"^%s:\w+=(.*)$" % re.escape(name), f.read(), re.M)
    return m.group(1) if m else None


def packages():
    """{name: Package} of the .debs cpack builds, once per run, into a temporary directory."""
    if not _built:
        _built["error"] = "the packages could not be built (see the first failure)"
        for tool in ("dpkg-deb", "dpkg-shlibdeps", "file"):
            assert shutil.which(tool), "%s is missing: apt-get install dpkg-dev file " \
                "(scripts/install-deps.sh)" % tool
        out = tempfile.mkdtemp(prefix="wardpulse-test-deb-")
        if not os.environ.get("WP_KEEP_TMP"):
            atexit.register(shutil.rmtree, out, True)
        cpack = os.path.join(os.path.dirname(cache_value("CMAKE_COMMAND") or "/usr/bin/cmake"), "cpack")
        r = subprocess.run([cpack, "-G", "DEB", "-B", out], cwd=BUILD,
                           capture_output=True, text=True, timeout=180)
        assert r.returncode == 0, "cpack failed:\n%s%s" % (r.stdout[-4000:], r.stderr[-4000:])
        for path in glob.glob(os.path.join(out, "*.deb")):
            package = Package(path, os.path.join(out, "x", os.path.basename(path)))
            _built[package.fields["Package"]] = package
        del _built["error"]
    assert "error" not in _built, _built["error"]
    return _built


class Package:
    """One .deb: its control fields, files (with modes), conffiles, maintainer scripts."""

    def __init__(self, path, work):
        self.path = path
        self.fields = dict(re.findall(r"(?m)^([A-Za-z-]+): (.*)$",
                                      run("dpkg-deb", "-f", path)))
        self.modes = {}
        for line in run("dpkg-deb", "-c", path).splitlines():
            mode, name = line.split()[0], line.split(None, 5)[5]
            name = name.split(" -> ")[0]
            if not name.endswith("/"):
                self.modes[name[1:]] = mode          # "./usr/bin/x" -> "/usr/bin/x"
        self.root = os.path.join(work, "root")
        self.control = os.path.join(work, "DEBIAN")
        os.makedirs(work)
        run("dpkg-deb", "-x", path, self.root)
        run("dpkg-deb", "-e", path, self.control)

    def relations(self, field):
        """The package names of a Depends-like field, without versions."""
        return [re.split(r"[ (]", alt.strip())[0]
                for rel in self.fields.get(field, "").split(",") if rel.strip()
                for alt in rel.split("|")]

    def text(self, name):
        with open(os.path.join(self.root, name.lstrip("/")), encoding="utf-8") as f:
            return f.read()

    def conffiles(self):
        path = os.path.join(self.control, "conffiles")
        if not os.path.exists(path):
            return []
        with open(path, encoding="utf-8") as f:
            return f.read().split()

    def unit(self, name):
        found = [d + name for d in UNIT_DIRS if d + name in self.modes]
        assert len(found) == 1, "%s: %s not in %s" % (self.fields["Package"], name, UNIT_DIRS)
        return found[0]


def run(*argv):
    r = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, "%s failed:\n%s" % (" ".join(argv), r.stderr)
    return r.stdout


def test_three_packages_with_debian_names():
    debs = packages()
    assert sorted(debs) == sorted(PACKAGES), sorted(debs)
    version = "%s-1" % cache_value("CMAKE_PROJECT_VERSION")
    arch = run("dpkg", "--print-architecture").strip()
    for name, deb in debs.items():
        want_arch = "all" if name == "wardpulse-common" else arch
        assert deb.fields["Version"] == version, deb.fields
        assert deb.fields["Architecture"] == want_arch, deb.fields
        assert os.path.basename(deb.path) == "%s_%s_%s.deb" % (name, version, want_arch), deb.path
        for field in ("Maintainer", "Description", "Section", "Priority"):
            assert deb.fields.get(field), "%s: no %s" % (name, field)
        assert deb.fields["Description"].split(":")[0].startswith("wardpulse"), deb.fields


def test_depends_cover_every_library_the_programs_load():
    debs = packages()
    version = debs["wardpulse-common"].fields["Version"]
    multiarch = run("dpkg-architecture", "-qDEB_HOST_MULTIARCH").strip()
    for name in ("wardpulse-agent", "wardpulse-aggregator"):
        deb = debs[name]
        depends = deb.relations("Depends")
        assert "wardpulse-common (= %s)" % version in deb.fields["Depends"], deb.fields["Depends"]
        for library in LIBRARIES + ("libc6", "adduser"):
            assert library in depends, "%s: Depends lacks %s: %s" % (name, library, deb.fields["Depends"])
        programs = [f for f in deb.modes if f.startswith("/usr/bin/")]
        assert programs, name
        for program in programs:
            dynamic = run("readelf", "-d", os.path.join(deb.root, program.lstrip("/")))
            assert "RUNPATH" not in dynamic and "RPATH" not in dynamic, \
                "%s keeps a run path into the build tree:\n%s" % (program, dynamic)
            for soname in re.findall(r"\(NEEDED\)\s+Shared library: \[(.+?)\]", dynamic):
                owner = run("dpkg", "-S", "*/%s/%s" % (multiarch, soname)).split(":")[0]
                assert owner in depends, "%s loads %s (package %s), not in Depends: %s" % (
                    program, soname, owner, deb.fields["Depends"])
                if soname.startswith("libsystemd.so"):
                    assert "libsystemd0" in depends, deb.fields["Depends"]
    assert "mosquitto" in debs["wardpulse-aggregator"].relations("Recommends"), \
        debs["wardpulse-aggregator"].fields
    assert not debs["wardpulse-common"].relations("Depends"), debs["wardpulse-common"].fields


def test_files_are_where_debian_expects_them():
    debs = packages()
    agent, aggregator, common = (debs[n] for n in PACKAGES)
    assert agent.modes.get("/usr/bin/wardpulse-agent", "").startswith("-rwxr-xr-x"), agent.modes
    assert aggregator.modes.get("/usr/bin/wardpulse-aggregator", "").startswith("-rwxr-xr-x")
    assert aggregator.modes.get("/usr/bin/wardpulse", "").startswith("-rwxr-xr-x")
    assert "/etc/wardpulse/agent.conf" in agent.modes
    assert "/etc/wardpulse/aggregator.conf" in aggregator.modes
    for path in ("/usr/share/wardpulse/schemas/report.schema.json",
                 "/usr/share/wardpulse/schemas/ack.schema.json",
                 "/usr/share/doc/wardpulse/README.md",
                 "/usr/share/doc/wardpulse/configuration.md"):
        assert path in common.modes, "%s not in wardpulse-common" % path
    assert not any("/examples/" in f for f in common.modes), "schema examples are packaged"
    for path in ("/usr/share/wardpulse/plans/ba-dinh-2022/plan.json",
                 "/usr/share/wardpulse/plans/ba-dinh-2022/catalog.json",
                 "/usr/share/wardpulse/plans/ba-dinh-2022/orgunits.json",
                 "/usr/share/wardpulse/plans/can-tho-2022/plan.json",
                 "/usr/share/wardpulse/broker-config/mosquitto.conf",
                 "/usr/share/wardpulse/broker-config/aclfile"):
        assert path in aggregator.modes, "%s not in wardpulse-aggregator" % path
    assert aggregator.modes["/usr/share/wardpulse/broker-config/provision-ward.sh"].startswith("-rwxr-xr-x")
    assert any(f.endswith("/mosquitto.service.d/wardpulse.conf") and f.startswith(UNIT_DIRS)
               for f in aggregator.modes), "no mosquitto drop-in beside the units"
    for deb in debs.values():
        strays = [f for f in deb.modes if not f.startswith(("/usr/", "/etc/wardpulse/") + UNIT_DIRS)]
        assert not strays, "%s: files outside /usr, /etc/wardpulse and the unit dir: %s" % (
            deb.fields["Package"], strays)
        assert not [f for f in deb.modes if f.startswith("/usr/local/")], deb.modes


def test_units_name_the_packaged_paths():
    debs = packages()
    for name, program in (("wardpulse-agent", "agent"), ("wardpulse-aggregator", "aggregator")):
        deb = debs[name]
        unit = deb.text(deb.unit("wardpulse-%s.service" % program))
        start = re.search(r"(?m)^ExecStart=(.*)$", unit).group(1)
        assert start == "/usr/bin/wardpulse-%s -c /etc/wardpulse/%s.conf" % (program, program), start
        assert "/usr/local" not in unit and "@WP_" not in unit, unit
        assert "/usr/bin/wardpulse-%s" % program in deb.modes
        config = deb.text("/etc/wardpulse/%s.conf" % program)
        assert "@WP_" not in config and "/usr/local" not in config, config
    assert "/var/lib/wardpulse-agent/outbox.db" in debs["wardpulse-agent"].text("/etc/wardpulse/agent.conf")
    assert "/var/lib/wardpulse/wardpulse.db" in debs["wardpulse-aggregator"].text("/etc/wardpulse/aggregator.conf")


def test_configurations_are_conffiles():
    for deb in packages().values():
        etc = sorted(f for f in deb.modes if f.startswith("/etc/"))
        assert sorted(deb.conffiles()) == etc, "%s: conffiles %s, files in /etc %s" % (
            deb.fields["Package"], deb.conffiles(), etc)
    assert packages()["wardpulse-agent"].conffiles() == ["/etc/wardpulse/agent.conf"]


def test_no_file_is_in_two_packages():
    owners = {}
    for name, deb in packages().items():
        for path in deb.modes:
            owners.setdefault(path, []).append(name)
    shared = {path: names for path, names in owners.items() if len(names) > 1}
    assert not shared, "files in more than one package (dpkg would refuse the second): %s" % shared


def test_maintainer_scripts_are_executable_and_parse():
    for name in ("wardpulse-agent", "wardpulse-aggregator"):
        deb = packages()[name]
        for script in ("postinst", "prerm", "postrm"):
            path = os.path.join(deb.control, script)
            assert os.path.isfile(path), "%s has no %s" % (name, script)
            assert os.stat(path).st_mode & 0o777 == 0o755, "%s/%s mode %o" % (name, script, os.stat(path).st_mode)
            run("sh", "-n", path)
        postinst = open(os.path.join(deb.control, "postinst"), encoding="utf-8").read()
        user = "wardpulse-agent" if name == "wardpulse-agent" else "wardpulse"
        unit = deb.text(deb.unit(name + ".service"))
        assert re.search(r"(?m)^User=%s$" % user, unit), unit
        assert "adduser" in postinst and " %s\n" % user in postinst, postinst


if __name__ == "__main__":
    run_tests(globals())
