"""A time budget for one command, so that a derivation that would explode says so, not hangs.

The limits in parsing/problems.py and parsing/expressions.py bound the input; they cannot bound the
work, which grows with the network and its expressions in ways no size check predicts.
`time_limit(seconds)` arms a one-shot SIGALRM timer whose handler raises `TimeLimitExceeded`
wherever the computation is. Signals only reach the main thread and only exist on POSIX, so
elsewhere (Windows, a web server's worker thread) there is no limit rather than a failure.
"""

from __future__ import annotations

import gc
import signal
import sys
import threading
from contextlib import contextmanager
from typing import Iterator

#: Seconds between further signals once the limit has passed (see time_limit).
REPEAT = 0.05

#: Seconds the command line allows for loading, solving and writing one problem (--time-limit).
DEFAULT_SECONDS = 120


class TimeLimitExceeded(BaseException):
    """The budget ran out. A BaseException, as KeyboardInterrupt is, so that no `except Exception`
    inside SymPy or this package can swallow it and carry on."""

    def __init__(self, seconds: float):
        super().__init__(f"the derivation took longer than {seconds:g} s")
        self.seconds = seconds


@contextmanager
def time_limit(seconds: float | None) -> Iterator[None]:
    """Raise TimeLimitExceeded inside the block once `seconds` have passed; None or 0: no limit."""
    usable = (seconds and hasattr(signal, "SIGALRM")
              and threading.current_thread() is threading.main_thread()
              # A timer someone else armed (a test runner's timeout) is theirs: leave it alone.
              and signal.getitimer(signal.ITIMER_REAL)[0] == 0)
    if not usable:
        yield
        return

    # "raising" is off once the block is left, and while another unraisable exception is reported.
    raising = [True]

    def expire(signum, frame):
        if raising[0]:
            raise TimeLimitExceeded(seconds)

    previous_hook = sys.unraisablehook

    def report_unraisable(unraisable):
        # A signal that arrives while Python runs a destructor raises there, where the exception
        # cannot propagate: Python would print it, traceback and all, as "Exception ignored in".
        # That one is expected and the timer fires again (below), so it is dropped. Anything else
        # goes to the previous hook, with the timer held off so it is not interrupted half-way.
        if isinstance(unraisable.exc_value, TimeLimitExceeded):
            return
        held, raising[0] = raising[0], False
        try:
            previous_hook(unraisable)
        finally:
            raising[0] = held

    previous = signal.signal(signal.SIGALRM, expire)
    sys.unraisablehook = report_unraisable
    try:
        # The timer fires again every REPEAT seconds until the block is left, so a signal swallowed
        # in a destructor does not let the computation run on past its limit.
        signal.setitimer(signal.ITIMER_REAL, seconds, REPEAT)
        yield
    finally:
        raising[0] = False
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        sys.unraisablehook = previous_hook


@contextmanager
def collection_paused() -> Iterator[None]:
    """Python's cyclic garbage collector held off while a large structure is built (a problem, its
    reverse pass, its answer key), and set back as it was afterwards.

    The collector runs after every few hundred new objects and now and then walks every object
    alive; building the 52,000 steps of a 64-128-128-10 network and their answer key made it run a
    thousand times and take a third of the time (1.1 of 3.3 s). What is built here holds no cycles
    to free, and any garbage with cycles made meanwhile is collected once the collector is back."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
