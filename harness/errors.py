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


class GuestCommandFailed(HarnessError):
    """A guest command the harness needed exited non-zero."""

    def __init__(self, cmd: str, status: int, output: str,
                 what: str | None = None) -> None:
        head = what or f"guest `{cmd}` exited {status}"
        super().__init__(f"{head}:\n{output}")
        self.cmd = cmd
        self.status = status
        self.output = output


class GuestOutputLost(HarnessError):
    """Bytes a guest command wrote did not all reach the harness intact.

    `sent` is the guest's count of bytes written to the shell port up to
    the command's end marker and `received` the harness's (both from the
    same origin); `data` is what arrived for the command.
    """

    def __init__(self, cmd: str, sent: int, received: int, data: bytes,
                 begin_seen: bool = True) -> None:
        if sent < 0:
            why = "its end marker carried no byte count"
        elif not begin_seen:
            why = "its begin marker never arrived"
        elif received < sent:
            why = f"{sent - received} bytes were lost on the way"
        else:
            why = f"{received - sent} bytes arrived that it never wrote"
        lines = data.decode(errors="replace").splitlines()[-20:]
        super().__init__(
            f"`{cmd}`: its output did not arrive intact: {why} (guest "
            f"wrote up to byte {sent}, harness received {received}); "
            f"{len(data)} bytes arrived, ending:\n" + "\n".join(lines) +
            "\nThe guest was killed. This is a fault of the channel "
            "(harness/channel.py, images/init), not of the test: keep the "
            "shell log in results/console/ and report it.")
        self.cmd = cmd
        self.sent = sent
        self.received = received
        self.data = data
