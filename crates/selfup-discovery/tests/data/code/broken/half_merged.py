"""A file left broken by a bad merge: it does not parse."""

<<<<<<< HEAD
def with_retries(call, attempts=3, delay=0.5):
    last = None
    for attempt in range(attempts):
        try:
            return call()
        except OSError as err:
            last = err
=======
def with_retries(call, attempts=5:
    for attempt in range(attempts)
        try
            return call(
        except (OSError, ValueError) as err
            time.sleep(delay * (2 ** attempt)
>>>>>>> feature
    raise RuntimeError("gave up after %d attempts" % attempts) from last
