"""A running guest, driven over a virtio serial port with pexpect.

The kernel log goes to ttyS0, which QEMU writes to a file; the shell
lives on a virtio serial port (not a console: QEMU drops what a virtio
console writes while the host side is not reading, and throttles a
port), on QEMU's stdio. Every command is framed by markers that carry a
sequence number, the exit status and the guest's count of bytes written
(harness/channel.py), and after every command the new part of the kernel
log is searched for splats.
"""

from __future__ import annotations

import base64
import codecs
import ctypes
import hashlib
import re
import shlex
import signal
import termios
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import pexpect

from . import modsets, qemu, splat
from .channel import Channel, command_line, knock
from .errors import (
    BootError,
    GuestCommandFailed,
    GuestOutputLost,
    GuestSplat,
    GuestTimeout,
    HarnessError,
)
from .topology import Topology

if TYPE_CHECKING:
    from qemu.qmp.legacy import QEMUMonitorProtocol

BOOT_TIMEOUT = 180.0
# The VFIO modules' reference counts ("NAME COUNT" from /proc/modules,
# the third field, which lsmod prints as "Used by") and the devices bound
# to vfio-pci ("bound BDF"), with shell builtins only: an lsmod and an ls
# were two fork+execs per reading, each several ms under TCG.
REFS_COMMAND = (
    "while read -r _n _s _u _r; do case $_n in vfio*|mdev*) "
    "echo \"$_n $_u\";; esac; done </proc/modules; "
    "for _d in /sys/bus/pci/drivers/vfio-pci/*:*; do "
    "[ -e \"$_d\" ] && echo \"bound ${_d##*/}\"; done; true")
# Frames a program's output inside a run_counted() command.
_PROGRAM_START = "\x02P\x03"
_PROGRAM_END = re.compile(r"\x02Q(\d+)\x03")
PR_SET_PDEATHSIG = 1
_READY = re.compile(rb"HARNESS-READY\r?\n")
# Bytes asked for per read of the shell port.
_READ_SIZE = 1 << 16
T = TypeVar("T")


@dataclass(frozen=True)
class Result:
    """A guest command's exit status and output: `output` as text
    (undecodable bytes replaced), `data` exactly as written."""

    status: int
    output: str
    data: bytes = b""

    @property
    def ok(self) -> bool:
        return self.status == 0


def _die_with_parent() -> None:
    """In the child before exec: a harness killed mid-run (timeout, ^C,
    CI) takes its guest with it instead of leaving QEMU running."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def parse_refs(text: str) -> dict[str, int]:
    """REFS_COMMAND's output as module -> count, and "(bound)" -> the
    number of devices bound to vfio-pci (pure)."""
    refs = {"(bound)": 0}
    for line in text.splitlines():
        fields = line.split()
        if len(fields) != 2:
            continue
        if fields[0] == "bound":
            refs["(bound)"] += 1
        elif fields[1].isdigit():
            refs[fields[0]] = int(fields[1])
    return refs


def tail(text: str, lines: int = 30) -> str:
    return "\n".join(text.splitlines()[-lines:])


class Guest:
    """One QEMU guest. Use as a context manager, or call close()."""

    def __init__(self, topology: Topology, boot: qemu.Boot) -> None:
        assert boot.console_log is not None
        self.topology = topology
        self.boot = boot
        self.console_log: Path = boot.console_log
        self.modset = modsets.NONE
        self.tainted = False
        self.boot_seconds = 0.0
        self._launched = 0.0
        self._seq = 0
        self._console_seen = 0
        self._console_text = ""
        self._console_read = 0
        self._console_decoder = codecs.getincrementaldecoder("utf-8")(
            errors="replace")
        self._proc: pexpect.spawn[bytes] | None = None
        self._channel = Channel()
        self._qmp: QEMUMonitorProtocol | None = None

    # --- life cycle -----------------------------------------------------
    def start(self) -> Guest:
        """Boot, and wait for the shell; see launch() and wait_ready()."""
        return self.launch().wait_ready()

    def launch(self) -> Guest:
        """Start QEMU and return at once: the guest boots meanwhile."""
        self.console_log.parent.mkdir(parents=True, exist_ok=True)
        self.console_log.write_text("")
        self._console_reset()
        self._launched = time.monotonic()
        self._shell_log = self.console_log.with_suffix(".shell.log").open(
            "wb")
        self._channel = Channel()
        # QEMU's own messages (vIOMMU faults, device errors) go to a file
        # of their own, not into the shell's output.
        self.qemu_log.write_text("")
        self._proc = pexpect.spawn(
            "/bin/sh", ["-c", 'exec "$@" 2>>"$0"', str(self.qemu_log),
                        *self.command],
            timeout=None, echo=False, preexec_fn=_die_with_parent)
        self._proc.logfile_read = self._shell_log
        # pexpect sleeps this long (50 ms) before every send, which was
        # most of a command's round trip.
        self._proc.delaybeforesend = None
        return self

    @property
    def command(self) -> list[str]:
        """The QEMU command line of this guest."""
        return qemu.command(self.topology, self.boot)

    def wait_ready(self) -> Guest:
        """Wait until the launched guest's shell answers.

        Raises BootError (the guest is killed) when it does not come up
        within BOOT_TIMEOUT, and GuestSplat when its kernel splatted
        while booting.
        """
        try:
            self._pump(lambda: self._channel.expect(_READY), BOOT_TIMEOUT)
        except (pexpect.TIMEOUT, pexpect.EOF) as exc:
            why = "timed out" if isinstance(exc, pexpect.TIMEOUT) else "died"
            shell = self._channel.pending().decode(errors="replace")
            self.kill()
            raise BootError(
                f"guest {why} before its shell came up "
                f"(machine {self.topology.name}, accel {self.boot.accel}); "
                f"qemu: {' '.join(self.command)}\nlast console lines:\n"
                f"{tail(self.console())}\nshell port:\n{tail(shell)}\n"
                f"qemu said:\n{tail(self.qemu_log.read_text())}") from None
        self._raw_host_side()
        self._sync()
        self.boot_seconds = time.monotonic() - self._launched
        report = splat.find(self.console())
        self._console_seen = len(self.console())
        if report:
            self.tainted = True
            raise GuestSplat("the guest kernel splatted while booting",
                             report)
        return self

    def _raw_host_side(self) -> None:
        """Stop the host pty from rewriting what QEMU passes on.

        QEMU's stdio backend leaves output processing (OPOST) on, which
        turns every newline into CRLF. Termios calls on a pty's master
        act on its slave, QEMU's stdio. QEMU set its modes long before
        the guest said READY, and the guest writes nothing more until
        the harness knocks.
        """
        assert self._proc is not None
        fd = self._proc.child_fd
        attrs = termios.tcgetattr(fd)
        attrs[1] &= ~termios.OPOST
        termios.tcsetattr(fd, termios.TCSANOW, attrs)

    def _send(self, text: str) -> None:
        assert self._proc is not None
        data = text.encode()
        while data:
            data = data[self._proc.send(data):]

    def _pump(self, until: Callable[[], T | None], timeout: float) -> T:
        """Read the shell port until `until()` returns something.

        Raises pexpect.TIMEOUT after `timeout` seconds and pexpect.EOF
        when QEMU exits; what was read stays in the channel either way.
        """
        assert self._proc is not None
        deadline = time.monotonic() + timeout
        while (got := until()) is None:
            left = deadline - time.monotonic()
            if left <= 0:
                raise pexpect.TIMEOUT(f"nothing within {timeout:.0f}s")
            self._channel.feed(
                self._proc.read_nonblocking(_READ_SIZE, timeout=left))
        return got

    def _sync(self) -> None:
        """Wait until the shell answers, and define its helpers.

        Knock until the shell answers, so that a guest that came up
        without a working shell fails here, at boot, and not in a test.
        The answer carries the guest's byte count that every later frame
        is checked against (harness/channel.py).
        """
        for n in range(1, 31):
            self._send(knock(n))
            try:
                self._pump(self._channel.sync, timeout=1)
                return
            except pexpect.TIMEOUT:
                continue
            except pexpect.EOF:
                break
        raise BootError("the guest shell does not answer on its port; "
                        f"read {self.console_log.with_suffix('.shell.log')}"
                        f" and {self.console_log}")

    def __enter__(self) -> Guest:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def alive(self) -> bool:
        return self._proc is not None and self._proc.isalive()

    # --- QMP --------------------------------------------------------------
    def qmp(self, command: str, **args: object) -> object:
        """Run a QMP command (e.g. device_del) and return its result."""
        from qemu.qmp.legacy import QEMUMonitorProtocol

        if self._qmp is None:
            if self.boot.qmp_socket is None:
                raise BootError("this guest was started without QMP")
            self._qmp = QEMUMonitorProtocol(str(self.boot.qmp_socket))
            self._qmp.connect()
        return self._qmp.cmd(command, **args)

    def qmp_event(self, name: str, timeout: float = 30.0
                  ) -> dict[str, Any]:
        """Wait for the next QMP event called `name`; return it."""
        if self._qmp is None:
            raise BootError("no QMP connection: run a command first")
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            event = self._qmp.pull_event(wait=left)
            if event and event.get("event") == name:
                return event
        raise GuestTimeout(f"no QMP {name} event within {timeout:.0f}s")

    def kill(self) -> None:
        if self._qmp is not None:
            self._qmp.close()
            self._qmp = None
        if self._proc is not None:
            self._proc.close(force=True)
            self._proc = None
            self._shell_log.close()
            if self.boot.qmp_socket:
                self.boot.qmp_socket.unlink(missing_ok=True)

    def close(self) -> None:
        self.kill()

    @property
    def qemu_log(self) -> Path:
        return self.console_log.with_suffix(".qemu.log")

    # --- console --------------------------------------------------------
    def _console_reset(self) -> None:
        self._console_text, self._console_read = "", 0
        self._console_decoder.reset()

    def console(self) -> str:
        """The whole console log so far (QEMU writes it to a file).

        Only what was appended since the last call is read and decoded:
        the log grows to megabytes over a session and is asked for
        several times per test.
        """
        try:
            with self.console_log.open("rb") as f:
                if f.seek(0, 2) < self._console_read:
                    self._console_reset()  # rewritten by a new start()
                f.seek(self._console_read)
                new = f.read()
        except OSError:
            return self._console_text
        self._console_read += len(new)
        self._console_text += self._console_decoder.decode(new)
        return self._console_text

    def console_mark(self) -> int:
        return len(self.console())

    def console_since(self, mark: int) -> str:
        return self.console()[mark:]

    def check_console(self, what: str) -> None:
        """Raise GuestSplat for a report printed since the last check."""
        text = self.console()
        new, self._console_seen = text[self._console_seen:], len(text)
        if report := splat.find(new):
            self.tainted = True
            raise GuestSplat(f"the guest kernel splatted during {what}",
                             report)

    # --- commands -------------------------------------------------------
    def run(self, cmd: str, timeout: float = 60.0, check_splat: bool = True
            ) -> Result:
        """Run `cmd` in the guest shell; return its status and output.

        Raises GuestTimeout (the guest is killed) after `timeout` seconds,
        GuestSplat when the kernel splatted, and GuestOutputLost (the guest
        is killed) when the output did not arrive byte for byte.
        """
        if len(cmd) > 4000:
            raise ValueError("guest commands must be under 4 KiB; put long "
                             "scripts in a file (write_files())")
        return self._run(cmd, timeout, check_splat)

    def _run(self, cmd: str, timeout: float, check_splat: bool = True
             ) -> Result:
        """run() without the length limit; `cmd` must print little, for
        the shell prints nothing until it has read all of `cmd`."""
        if not self.alive:
            raise BootError("the guest is not running (it died or was "
                            "killed after an earlier failure)")
        self._seq += 1
        n = self._seq
        self._send(command_line(n, cmd))
        try:
            frame = self._pump(lambda: self._channel.frame(n, cmd), timeout)
        except GuestOutputLost:
            self.tainted = True
            self.kill()
            raise
        except (pexpect.TIMEOUT, pexpect.EOF) as exc:
            partial = self._channel.pending(n).decode(errors="replace")
            died = isinstance(exc, pexpect.EOF)
            self.tainted = True
            self.kill()
            report = splat.find(self.console()[self._console_seen:])
            what = ("the guest died" if died else
                    f"timed out after {timeout:.0f}s; guest killed")
            msg = (f"`{cmd}`: {what}\nlast console lines:\n"
                   f"{tail(self.console())}\noutput so far:\n{tail(partial)}")
            if report:
                raise GuestSplat(msg, report) from None
            raise GuestTimeout(msg) from None
        result = Result(frame.status, frame.data.decode(errors="replace"),
                        frame.data)
        if check_splat:
            self.check_console(f"`{cmd}`")
        return result

    def check(self, cmd: str, timeout: float = 60.0) -> str:
        """Run `cmd`; return its output, or raise GuestCommandFailed
        (with its status and output) unless it exits 0."""
        result = self.run(cmd, timeout)
        if not result.ok:
            raise GuestCommandFailed(cmd, result.status, result.output)
        return result.output

    def write_files(self, files: Sequence[tuple[str, int, bytes]],
                    timeout: float = 60.0) -> None:
        """Write each (absolute path, mode, data) into the guest's root
        filesystem, in one round trip: base64 in here-documents (about
        1.4 MB/s under TCG on a loaded host), each file checked by its
        SHA-256 before it replaces the old one.

        Raises GuestCommandFailed when a file did not arrive intact, and
        what run() raises.
        """
        script, want = [], []
        for n, (path, mode, data) in enumerate(files):
            tmp = f"{path}.harness-{n}"
            q, qtmp = shlex.quote(path), shlex.quote(tmp)
            script.append(
                f"mkdir -p {shlex.quote(path.rsplit('/', 1)[0] or '/')}"
                f" && base64 -d >{qtmp} <<'_HX'\n"
                f"{base64.encodebytes(data).decode()}_HX\n"
                f"chmod {mode & 0o7777:o} {qtmp} && sha256sum {qtmp}"
                f" && mv -f {qtmp} {q} || exit 1")
            want.append(f"{hashlib.sha256(data).hexdigest()}  {tmp}")
        cmd = "\n".join(script)
        result = self._run(cmd, timeout)
        if not result.ok or result.output.split("\n")[:len(want)] != want:
            raise GuestCommandFailed(
                "write_files", result.status, result.output,
                f"writing {len(files)} file(s) into the guest failed: "
                "a SHA-256 differs or a command failed")

    # --- module sets ----------------------------------------------------
    def use_modules(self, modset: str) -> None:
        """Make `modset` the loaded VFIO module set ('none' unloads)."""
        if self.modset == modset:
            return
        if self.modset != modsets.NONE:
            self.unload_modules()
        if modset != modsets.NONE:
            self.check(modsets.load_command(modset))
            self.modset = modset

    def module_refs(self) -> dict[str, int]:
        """Reference counts of the loaded VFIO modules, and under the key
        "(bound)" the number of devices bound to vfio-pci."""
        return parse_refs(self.check(REFS_COMMAND))

    def run_counted(self, cmd: str, timeout: float = 60.0
                    ) -> tuple[Result, dict[str, int], dict[str, int]]:
        """Run `cmd` between two module_refs() readings, in one round
        trip; return its result and the readings before and after.

        Raises what run() raises, and HarnessError when the framing of
        the three parts did not come back.
        """
        line = (f"{REFS_COMMAND}; printf '\\002P\\003'; ( {cmd}\n); "
                f"_st=$?; printf '\\002Q%d\\003' $_st; {REFS_COMMAND}")
        out = self.run(line, timeout)
        before, start, rest = out.output.partition(_PROGRAM_START)
        ends = list(_PROGRAM_END.finditer(rest)) if start else []
        if not ends:
            raise HarnessError(f"`{cmd}`: its output came back without the "
                               f"harness's markers:\n{tail(out.output)}")
        end = ends[-1]
        data = out.data
        first = data.find(_PROGRAM_START.encode())
        last = data.rfind(b"\x02Q")
        result = Result(int(end.group(1)), rest[:end.start()],
                        data[first + len(_PROGRAM_START):last])
        return result, parse_refs(before), parse_refs(rest[end.end():])

    @staticmethod
    def leaked_refs(before: dict[str, int], after: dict[str, int]
                    ) -> str | None:
        """Module references a test took and did not give back, described.

        Every file a test opened is closed when its process exits, so the
        counts must return to what they were, except that each device the
        test left bound to vfio-pci holds one reference on vfio (upstream
        does the same).
        """
        # Unbinding may give its reference back later, so fewer bound
        # devices never lowers what is allowed.
        bound = max(0, after.get("(bound)", 0) - before.get("(bound)", 0))
        leaks = []
        for module, count in after.items():
            if module == "(bound)" or module not in before:
                continue
            allowed = before[module] + (bound if module == "vfio" else 0)
            if count > allowed:
                leaks.append(f"{module} {before[module]} -> {count}")
        return ", ".join(leaks) or None

    def unload_modules(self) -> None:
        cmd = modsets.UNLOAD_COMMAND
        out = self.run(cmd, timeout=60)
        if not out.ok:
            raise GuestCommandFailed(
                cmd, out.status, out.output,
                f"the {self.modset} modules did not unload cleanly "
                f"(`{cmd}` exited {out.status})")
        self.modset = modsets.NONE
