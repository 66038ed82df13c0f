"""Exceptions the harness raises, each saying what to do next."""


class HarnessError(Exception):
    """A failure of the harness itself: set-up, build or boot."""


class BuildError(HarnessError):
    """A build step failed; the message names the log to read."""


class BootError(HarnessError):
    """The guest did not reach its shell."""


class GuestTimeout(HarnessError):
    """A guest command did not finish in time; the guest was killed."""


class GuestSplat(HarnessError):
    """The guest kernel printed an oops, WARN, lockdep or KASAN report."""

    def __init__(self, message: str, trace: str) -> None:
        super().__init__(f"{message}\n{trace}")
        self.trace = trace
