#!/usr/bin/python3
"""Cross-checks schemas/ with two validators.

Every file in schemas/examples/valid must be valid and every file in
schemas/examples/invalid must be invalid against schemas/<name>.schema.json, where
<name> is the file name up to its first '-'. The verdict is taken twice:
  1. Debian's python3-jsonschema (Draft7Validator, with date and date-time format
     checking active), the reference;
  2. our C validator: $WP_BUILD_DIR/cli/wardpulse validate NAME FILE
     (exit 0 = valid, 1 = invalid with the error on stderr, 2 = usage).
Both must give the expected verdict. The test also checks that every schema is a
draft-07 schema, that it uses only the keywords the C validator implements (it
ignores unknown keywords, so anything else would silently not be enforced in the
daemons), and that each schema has at least one valid and three invalid examples.

Run: WP_SOURCE_DIR=/work/main WP_BUILD_DIR=build /usr/bin/python3 tests/integration/test_schema_examples.py
Plain Python, standard library + jsonschema; exits non-zero on any failure.
"""

import datetime
import json
import os
import re
import subprocess
import sys

import jsonschema

# Every schemas/*.schema.json is checked; these must exist.
SCHEMA_NAMES = ("report", "ack", "status", "alert", "orgunits", "catalog", "plan")
MIN_VALID, MIN_INVALID = 1, 3

# What the C validator implements (common/jsonschema.h) plus annotations it may ignore.
VALIDATION_KEYWORDS = {
    "type", "properties", "required", "additionalProperties", "patternProperties",
    "items", "enum", "const", "minimum", "maximum", "exclusiveMinimum",
    "exclusiveMaximum", "minLength", "maxLength", "pattern", "minItems", "maxItems",
    "$ref", "definitions", "anyOf", "oneOf", "allOf", "not", "format",
}
ANNOTATION_KEYWORDS = {"$schema", "$id", "title", "description", "$comment"}
FORMATS = {"date", "date-time"}
# Keywords whose value is a schema, a list of schemas, or a map of name -> schema.
SUBSCHEMA = {"additionalProperties", "items", "not"}
SUBSCHEMA_LISTS = {"anyOf", "oneOf", "allOf"}
SUBSCHEMA_MAPS = {"properties", "patternProperties", "definitions"}
# Regex features outside the POSIX ERE subset the C validator compiles.
NON_ERE = re.compile(r"\\[dDwWsSbB]|\(\?|[*+?}]\?")

failures = []


def fail(message):
    failures.append(message)
    print("FAIL " + message)


# ---------------------------------------------------------------- format checker

_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)
_DATE_TIME = re.compile(
    r"([0-9]{4}-[0-9]{2}-[0-9]{2})[Tt]([01][0-9]|2[0-3]):([0-5][0-9]):([0-5][0-9]|60)(\.[0-9]+)?"
    r"([Zz]|([+-])([01][0-9]|2[0-3]):([0-5][0-9]))", re.ASCII)


def strict_date(text):
    """RFC 3339 full-date: exactly YYYY-MM-DD and a real calendar day."""
    if not _DATE.fullmatch(text):
        return False
    try:
        datetime.date.fromisoformat(text)
    except ValueError:
        return False
    return True


def strict_date_time(text):
    """RFC 3339 date-time: offset required, a real calendar day; a leap second (:60)
    only at 23:59 UTC, as the JSON-Schema-Test-Suite expects."""
    match = _DATE_TIME.fullmatch(text)
    if not match or not strict_date(match.group(1)):
        return False
    if match.group(4) == "60":
        minutes = int(match.group(2)) * 60 + int(match.group(3))
        if match.group(7):
            offset = int(match.group(8)) * 60 + int(match.group(9))
            minutes -= offset if match.group(7) == "+" else -offset
        if minutes % (24 * 60) != 23 * 60 + 59:
            return False
    return True


def make_format_checker():
    """Draft7Validator.FORMAT_CHECKER, with "date" and "date-time" made strict.

    Python 3.11's date.fromisoformat, which jsonschema uses for "date", also accepts
    "20220503" and "2022-W18-2"; and jsonschema checks "date-time" only when the
    rfc3339_validator module is installed (Debian bookworm does not package it).
    So both formats are checked by the strict functions above and, where jsonschema
    has its own check, by that one too: a string conforms only if both agree.
    """
    base = jsonschema.Draft7Validator.FORMAT_CHECKER
    checker = jsonschema.FormatChecker(formats=())
    checker.checkers = dict(base.checkers)
    for name, strict in (("date", strict_date), ("date-time", strict_date_time)):
        original = base.checkers.get(name)

        def check(instance, strict=strict, original=original):
            if not isinstance(instance, str):
                return True
            if not strict(instance):
                return False
            if original is None:
                return True
            func, raises = original
            try:
                return bool(func(instance))
            except raises:
                return False

        checker.checkers[name] = (check, ())
    return checker


def check_format_checker(checker):
    cases = [("date", "2022-05-03", True), ("date", "2022-02-30", False),
             ("date", "20220503", False),
             ("date-time", "2022-05-03T17:05:00+07:00", True),
             ("date-time", "2022-05-03T10:05:00.5Z", True),
             ("date-time", "2022-05-03T17:05:00", False),
             ("date-time", "1998-12-31T15:59:60.123-08:00", True),
             ("date-time", "1998-12-31T23:58:60Z", False),
             ("date-time", "2022-02-30T17:05:00+07:00", False)]
    for fmt, text, expected in cases:
        if checker.conforms(text, fmt) != expected:
            fail("format checker: %s %r should be %s" % (fmt, text, "accepted" if expected else "refused"))


# ---------------------------------------------------------------- schema lint

def lint_schema(name, node, path, root):
    """Reports keywords, formats, patterns and $refs the C validator cannot honour."""
    if isinstance(node, bool):
        return
    if not isinstance(node, dict):
        fail("%s.schema.json %s: a schema must be an object" % (name, path))
        return
    if "$ref" in node and VALIDATION_KEYWORDS.intersection(node).difference({"$ref"}):
        fail("%s.schema.json %s: keywords beside $ref are ignored in draft-07" % (name, path))
    for key, value in node.items():
        where = "%s.schema.json %s/%s" % (name, path, key)
        if key in ANNOTATION_KEYWORDS:
            continue
        if key not in VALIDATION_KEYWORDS:
            fail("%s: keyword not supported by the C validator" % where)
            continue
        if key == "format" and value not in FORMATS:
            fail("%s: format %r not supported (only %s)" % (where, value, ", ".join(sorted(FORMATS))))
        elif key == "pattern":
            lint_pattern(where, value)
        elif key == "$ref":
            lint_ref(where, value, root)
        elif key in SUBSCHEMA and not isinstance(value, list):
            lint_schema(name, value, path + "/" + key, root)
        elif key in SUBSCHEMA_LISTS or key == "items":
            for i, sub in enumerate(value):
                lint_schema(name, sub, "%s/%s/%d" % (path, key, i), root)
        elif key in SUBSCHEMA_MAPS:
            for sub_key, sub in value.items():
                if key == "patternProperties":
                    lint_pattern(where + "/" + sub_key, sub_key)
                lint_schema(name, sub, "%s/%s/%s" % (path, key, sub_key), root)


def lint_pattern(where, pattern):
    if NON_ERE.search(pattern):
        fail("%s: pattern %r uses a feature outside POSIX ERE" % (where, pattern))
    if not (pattern.startswith("^") and pattern.endswith("$")):
        fail("%s: pattern %r should be anchored with ^...$" % (where, pattern))


def lint_ref(where, ref, root):
    if ref == "#":
        return
    if not ref.startswith("#/definitions/"):
        fail("%s: $ref %r: only \"#/definitions/...\" is supported" % (where, ref))
        return
    if ref[len("#/definitions/"):] not in root.get("definitions", {}):
        fail("%s: $ref %r does not resolve" % (where, ref))


# ---------------------------------------------------------------- C validator

def run_c_validator(binary, schema_name, path):
    """Returns (verdict, message): verdict True/False, or None when the run failed."""
    try:
        proc = subprocess.run([binary, "validate", schema_name, path], capture_output=True,
                              timeout=30)
    except subprocess.TimeoutExpired:
        return None, "timed out after 30 s"
    except OSError as exc:
        return None, "cannot run: %s" % exc
    stderr = proc.stderr.decode("utf-8", "replace").strip()
    if len(stderr) > 600:
        stderr = stderr[:600] + " [...]"
    if proc.returncode == 0:
        return True, stderr
    if proc.returncode == 1:
        return False, stderr
    return None, "exit status %d: %s" % (proc.returncode, stderr)


def explain(error):
    """One line for a python error, descending into anyOf/oneOf to the branch that applies.

    Of the failed branches, those that fail on a discriminator ("kind": const, or the
    "not const" half of an implication) are dropped; of the rest, the deepest error wins.
    """
    while error.context:
        branches = {}
        for sub in error.context:
            branches.setdefault(sub.relative_schema_path[0], []).append(sub)
        relevant = [errs for errs in branches.values()
                    if not any(e.validator in ("const", "not") for e in errs)]
        candidates = [e for errs in (relevant or list(branches.values())) for e in errs]
        error = max(candidates, key=lambda e: len(e.absolute_path))
    path = "/".join(str(p) for p in error.absolute_path) or "(root)"
    message = error.message
    return "%s: %s" % (path, message if len(message) <= 120 else message[:117] + "...")


def verdict_word(verdict):
    return {True: "valid", False: "invalid", None: "error"}[verdict]


# ---------------------------------------------------------------- main

def main():
    here = os.path.dirname(os.path.abspath(__file__))
    source_dir = os.environ.get("WP_SOURCE_DIR") or os.path.normpath(os.path.join(here, "..", ".."))
    build_dir = os.environ.get("WP_BUILD_DIR") or os.path.join(source_dir, "build")
    schema_dir = os.path.join(source_dir, "schemas")
    example_dir = os.path.join(schema_dir, "examples")
    binary = os.path.join(build_dir, "cli", "wardpulse")
    c_available = os.access(binary, os.X_OK)
    if not c_available:
        fail("C validator %s not found: build the project (cmake --build) first" % binary)

    checker = make_format_checker()
    check_format_checker(checker)

    present = sorted(f[:-len(".schema.json")] for f in os.listdir(schema_dir) if f.endswith(".schema.json"))
    schema_names = sorted(set(SCHEMA_NAMES).union(present))
    validators = {}
    for name in schema_names:
        path = os.path.join(schema_dir, name + ".schema.json")
        try:
            with open(path, encoding="utf-8") as f:
                schema = json.load(f)
        except (OSError, ValueError) as exc:
            fail("%s: %s" % (path, exc))
            continue
        try:
            jsonschema.Draft7Validator.check_schema(schema)
        except jsonschema.SchemaError as exc:
            fail("%s.schema.json is not a valid draft-07 schema: %s" % (name, exc.message))
            continue
        if schema.get("$schema") != "http://json-schema.org/draft-07/schema#":
            fail("%s.schema.json: $schema must be draft-07" % name)
        expected_id = "https://wardpulse.example/schemas/%s.schema.json" % name
        if schema.get("$id") != expected_id:
            fail("%s.schema.json: $id must be %s" % (name, expected_id))
        lint_schema(name, schema, "#", schema)
        validators[name] = jsonschema.Draft7Validator(schema, format_checker=checker)

    counts = {name: {"valid": 0, "invalid": 0} for name in schema_names}
    total = agree = 0
    for expected_dir in ("valid", "invalid"):
        directory = os.path.join(example_dir, expected_dir)
        files = sorted(f for f in os.listdir(directory) if f.endswith(".json")) \
            if os.path.isdir(directory) else []
        for file_name in files:
            path = os.path.join(directory, file_name)
            label = "%s/%s" % (expected_dir, file_name)
            schema_name = file_name[:-len(".json")].split("-", 1)[0]
            total += 1
            if schema_name not in schema_names:
                fail("%s: no schema named %r (the name before the first '-')" % (label, schema_name))
                continue
            if schema_name not in validators:
                fail("%s: schema %s did not load" % (label, schema_name))
                continue
            counts[schema_name][expected_dir] += 1
            expected = expected_dir == "valid"
            try:
                with open(path, encoding="utf-8") as f:
                    document = json.load(f)
            except ValueError as exc:
                fail("%s: not JSON: %s" % (label, exc))
                continue
            errors = list(validators[schema_name].iter_errors(document))
            py_verdict = not errors
            py_message = "; ".join(explain(e) for e in errors[:3])
            if c_available:
                c_verdict, c_message = run_c_validator(binary, schema_name, path)
                c_part = "C says %s%s" % (verdict_word(c_verdict), " (%s)" % c_message if c_message else "")
            else:
                c_verdict, c_part = expected, "C not run"   # already failed above
            if py_verdict == expected and c_verdict == expected:
                if c_available:
                    agree += 1
                print("ok   %s: %s | python: %s | %s" % (label, verdict_word(expected), py_message or "-", c_part))
            else:
                fail("%s: expected %s; python says %s%s; %s" % (
                    label, verdict_word(expected), verdict_word(py_verdict),
                    " (%s)" % py_message if py_message else "", c_part))

    for name in schema_names:
        if counts[name]["valid"] < MIN_VALID or counts[name]["invalid"] < MIN_INVALID:
            fail("%s: needs at least %d valid and %d invalid examples, has %d and %d" % (
                name, MIN_VALID, MIN_INVALID, counts[name]["valid"], counts[name]["invalid"]))

    print("schema examples: %d files, %d agree" % (total, agree))
    if failures:
        print("%d failure(s):" % len(failures))
        for message in failures:
            print("  " + message)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
