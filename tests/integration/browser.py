"""browser — Debian's headless chromium driven by chromium-driver through python3-selenium,
for the live page's tests, `make demo`'s screenshot and bench/dashboard.py.

    with Browser(width=1366, height=768) as b:
        b.open("http://127.0.0.1:%d/?district=001" % broker.ws_port)
        b.login("operator", "")
        b.wait(lambda d: d.find_element(By.ID, "units").get_attribute("data-rows") == "15")
        b.screenshot(path)
"""
import os
import shutil
import tempfile
import time

# The flags that work on this machine (as test_cli_report's --dump-dom run uses them).
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage"]


def missing():
    """Why a real browser cannot run here, or None."""
    if not shutil.which("chromium"):
        return "chromium is not installed (scripts/install-deps.sh --tests)"
    if not shutil.which("chromedriver"):
        return "chromium-driver is not installed (scripts/install-deps.sh --tests)"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "python3-selenium is not installed (scripts/install-deps.sh --tests)"
    return None


def missing_certutil():
    """Why a browser cannot be made to trust a test CA here, or None."""
    if not shutil.which("certutil"):
        return "certutil is not installed (libnss3-tools: scripts/install-deps.sh --tests)"
    return None


def trust_ca(home, ca):
    """A certificate store in home that trusts the CA file ca for servers, as an office PC
    trusts the district's CA: chromium on Linux reads $HOME/.pki/nssdb (NSS's certutil,
    Debian's libnss3-tools)."""
    import subprocess
    nssdb = os.path.join(home, ".pki", "nssdb")
    os.makedirs(nssdb, exist_ok=True)
    for args in (["-N", "--empty-password"],
                 ["-A", "-n", "wardpulse-test-ca", "-t", "C,,", "-i", ca]):
        r = subprocess.run(["certutil", "-d", "sql:" + nssdb] + args, capture_output=True,
                           text=True, timeout=30)
        if r.returncode != 0:
            raise AssertionError("certutil %s: %s" % (" ".join(args), r.stderr))


class Browser:
    """ca: a CA file the browser trusts (its own certificate store, in a HOME of its own);
    without it the browser trusts only the system's."""

    def __init__(self, width=1366, height=768, flags=(), ca=None):
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
        self.profile = tempfile.mkdtemp(prefix="wardpulse-chromium-")
        env = dict(os.environ)
        if ca:
            env["HOME"] = self.profile
            trust_ca(self.profile, ca)
        opts = webdriver.ChromeOptions()
        opts.binary_location = shutil.which("chromium")
        for f in FLAGS + list(flags) + ["--user-data-dir=" + self.profile,
                                        "--window-size=%d,%d" % (width, height)]:
            opts.add_argument(f)
        opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        os.environ.setdefault("DBUS_SESSION_BUS_ADDRESS", "disabled:")
        self.driver = webdriver.Chrome(service=Service(shutil.which("chromedriver"), env=env),
                                       options=opts)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        try:
            self.driver.quit()
        finally:
            shutil.rmtree(self.profile, ignore_errors=True)

    def open(self, url):
        self.driver.get(url)
        return self

    def login(self, user, password=""):
        from selenium.webdriver.common.by import By
        d = self.driver
        d.find_element(By.ID, "user").send_keys(user)
        d.find_element(By.ID, "password").send_keys(password)
        d.find_element(By.CSS_SELECTOR, "#login-form button[type=submit]").click()
        self.wait(lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-connection")
                  in ("connected", "refused"), "the page to connect", 20)
        return d.find_element(By.TAG_NAME, "body").get_attribute("data-connection")

    def wait(self, predicate, what="the page", timeout=30.0):
        deadline = time.monotonic() + timeout
        while True:
            try:
                value = predicate(self.driver)
            except Exception:   # an element replaced while read: try again
                value = None
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError("timed out after %.0fs waiting for %s; console:\n%s"
                                     % (timeout, what, "\n".join(self.console()[-20:])))
            time.sleep(0.05)

    def console(self):
        try:
            return ["%s %s" % (e["level"], e["message"]) for e in self.driver.get_log("browser")]
        except Exception:
            return []

    def rows(self):
        return self.driver.execute_script(
            "return [...document.querySelectorAll('#units-body tr')].map(r => r.dataset.scope)")

    def screenshot(self, path, max_height=2400):
        """The whole page (up to max_height pixels), at the window's width."""
        os.makedirs(os.path.dirname(path), exist_ok=True)
        d = self.driver
        size = d.get_window_size()
        height = d.execute_script("return document.documentElement.scrollHeight")
        d.set_window_size(size["width"], min(max(size["height"], height + 150), max_height))
        try:
            d.save_screenshot(path)
        finally:
            d.set_window_size(size["width"], size["height"])
        return path
