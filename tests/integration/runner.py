#!/usr/bin/env python3
"""Run dynconf's integration tests (tests/integration/test_*.py).

Every function named test_* in those modules is a test. A test that takes
one argument gets the module's shared fixture: the module defines

    def module_fixture():          # a generator: set up, yield, tear down
        with harness.Stack(...) as stack:
            yield stack

which the runner enters before the first test that needs it and leaves after
the module's last test, so one stack serves the whole module. A test raises
harness.SkipTest("why") to be skipped.

Prints "ok NAME", "FAIL NAME" with the traceback, or "skip NAME (reason)" per
test, then exactly one line "N passed, N failed, N skipped". Exits 1 when a
test failed.

    runner.py [-k SUBSTRING] [--list] [--timeout SECONDS]
"""

import argparse
import contextlib
import importlib.util
import inspect
import signal
import sys
import time
import traceback
import unittest
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import harness  # noqa: E402

SKIPS = (harness.SkipTest, unittest.SkipTest)


class TestTimeout(Exception):
    pass


def load_module(path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def tests_of(module):
    """The module's test functions in the order they are written."""
    found = [(name, fn) for name, fn in vars(module).items()
             if name.startswith("test_") and inspect.isfunction(fn)
             and fn.__module__ == module.__name__]
    return sorted(found, key=lambda item: inspect.unwrap(item[1]).__code__.co_firstlineno)


@contextlib.contextmanager
def time_limit(seconds):
    """Raise TestTimeout in the main thread after seconds: no test hangs CI."""
    def expired(signo, frame):
        raise TestTimeout(f"test took longer than {seconds} s")
    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


class Results:
    def __init__(self):
        self.passed = self.failed = self.skipped = 0

    def ok(self, name, seconds):
        self.passed += 1
        print(f"ok {name} ({seconds:.2f} s)", flush=True)

    def fail(self, name, text):
        self.failed += 1
        print(f"FAIL {name}\n{text.rstrip()}", flush=True)

    def skip(self, name, reason):
        self.skipped += 1
        print(f"skip {name} ({reason})", flush=True)


def failure_text(error, fixture_value):
    text = "".join(traceback.format_exception(type(error), error, error.__traceback__))
    if hasattr(fixture_value, "describe_logs"):
        text += fixture_value.describe_logs() + "\n"
    return text


def run_module(module, selected, results, timeout):
    """Run the selected tests of one module, sharing its fixture."""
    fixture_cm = fixture_value = fixture_error = None
    fixture_reported = False
    try:
        for name, fn in selected:
            full = f"{module.__name__}.{name}"
            needs_fixture = len(inspect.signature(fn).parameters) > 0
            if needs_fixture and fixture_cm is None and fixture_error is None:
                try:
                    with time_limit(timeout):
                        fixture_cm = contextlib.contextmanager(module.module_fixture)()
                        fixture_value = fixture_cm.__enter__()
                except BaseException as e:  # noqa: BLE001 - reported per test below
                    if isinstance(e, KeyboardInterrupt):
                        raise
                    fixture_cm, fixture_error = None, e
            if needs_fixture and fixture_error is not None:
                if isinstance(fixture_error, SKIPS):
                    results.skip(full, f"module fixture: {fixture_error}")
                elif not fixture_reported:
                    results.fail(full, "module fixture failed:\n" +
                                 failure_text(fixture_error, None))
                    fixture_reported = True
                else:
                    results.fail(full, "module fixture failed (see above)")
                continue
            started = time.monotonic()
            try:
                with time_limit(timeout):
                    fn(fixture_value) if needs_fixture else fn()
            except SKIPS as e:
                results.skip(full, str(e) or "skipped")
            except KeyboardInterrupt:
                raise
            except BaseException as e:  # noqa: BLE001 - SystemExit from a test is a failure too
                results.fail(full, failure_text(e, fixture_value if needs_fixture else None))
            else:
                results.ok(full, time.monotonic() - started)
    finally:
        if fixture_cm is not None:
            try:
                fixture_cm.__exit__(None, None, None)
            except Exception:  # noqa: BLE001
                print(f"warning: {module.__name__} fixture teardown:\n{traceback.format_exc()}",
                      file=sys.stderr)


def main(argv=None):
    parser = argparse.ArgumentParser(description="dynconf integration tests")
    parser.add_argument("-k", dest="substring", default="",
                        help="run only tests whose MODULE.NAME contains this")
    parser.add_argument("--list", action="store_true", help="list the tests and exit")
    parser.add_argument("--timeout", type=int, default=180,
                        help="seconds one test (or fixture) may take (default 180)")
    args = parser.parse_args(argv)

    results = Results()
    started = time.monotonic()
    for path in sorted(HERE.glob("test_*.py")):
        try:
            module = load_module(path)
        except Exception:  # noqa: BLE001 - a broken module is one failure
            results.fail(path.stem, traceback.format_exc())
            continue
        selected = [(name, fn) for name, fn in tests_of(module)
                    if args.substring in f"{module.__name__}.{name}"]
        if args.list:
            for name, _ in selected:
                print(f"{module.__name__}.{name}")
            continue
        if selected:
            run_module(module, selected, results, args.timeout)
    if args.list:
        return 0
    print(f"# integration tests took {time.monotonic() - started:.1f} s", flush=True)
    print(f"{results.passed} passed, {results.failed} failed, {results.skipped} skipped",
          flush=True)
    return 1 if results.failed else 0


if __name__ == "__main__":
    sys.exit(main())
