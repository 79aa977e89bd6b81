"""Retrying a flaky call (the other copy)."""
import time


def with_retries(call, attempts=3, delay=0.5):
    last = None
    for attempt in range(attempts):
        try:
            return call()
        except OSError as err:
            last = err
            time.sleep(delay * (2 ** attempt))
    raise RuntimeError("gave up after %d attempts" % attempts) from last
