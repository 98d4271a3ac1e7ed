"""replay2022_time — days and instants of the 2022 replay (tests/replay/replay2022.py and its faults)."""
import datetime
import re


def parse_day(s):
    return s if isinstance(s, datetime.date) else datetime.date.fromisoformat(s)


def daterange(first, last):
    d = first
    while d <= last:
        yield d
        d += datetime.timedelta(days=1)


def parse_offset(text):
    """'+07:00' -> datetime.timezone."""
    m = re.fullmatch(r"([+-])(\d\d):(\d\d)", text)
    if not m:
        raise ValueError("bad utc_offset %r" % text)
    minutes = int(m.group(2)) * 60 + int(m.group(3))
    return datetime.timezone(datetime.timedelta(minutes=-minutes if m.group(1) == "-" else minutes))


def parse_instant(s):
    t = datetime.datetime.fromisoformat(s.replace("Z", "+00:00"))
    if t.tzinfo is None:
        raise ValueError("instant without offset: %r" % s)
    return t


def format_instant(t):
    return t.isoformat(timespec="seconds")


# ---------------------------------------------------------------------------------------------
# The plan
