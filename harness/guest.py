"""A running guest, driven over its second serial port with pexpect.

The kernel log goes to ttyS0, which QEMU writes to a file; the shell
lives on ttyS1, on QEMU's stdio. Every command is framed by markers that
carry a sequence number and the exit status, and after every command the
new part of the kernel log is searched for splats.
"""

from __future__ import annotations

import ctypes
import re
import signal
import time
from dataclasses import dataclass
from pathlib import Path

import pexpect

from . import qemu, splat
from .errors import BootError, GuestSplat, GuestTimeout
from .topology import Topology

BOOT_TIMEOUT = 180.0
PR_SET_PDEATHSIG = 1
_READY = "HARNESS-READY"


@dataclass(frozen=True)
class Result:
    status: int
    output: str

    @property
    def ok(self) -> bool:
        return self.status == 0


def _die_with_parent() -> None:
    """In the child before exec: a harness killed mid-run (timeout, ^C,
    CI) takes its guest with it instead of leaving QEMU running."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def tail(text: str, lines: int = 30) -> str:
    return "\n".join(text.splitlines()[-lines:])


class Guest:
    """One QEMU guest. Use as a context manager, or call close()."""

    def __init__(self, topology: Topology, boot: qemu.Boot) -> None:
        assert boot.console_log is not None
        self.topology = topology
        self.boot = boot
        self.console_log: Path = boot.console_log
        self.modset = "none"
        self.tainted = False
        self.boot_seconds = 0.0
        self._seq = 0
        self._console_seen = 0
        self._proc: pexpect.spawn | None = None
        self._qmp = None  # type: ignore[var-annotated]

    # --- life cycle -----------------------------------------------------
    def start(self) -> "Guest":
        self.console_log.parent.mkdir(parents=True, exist_ok=True)
        self.console_log.write_text("")
        cmd = qemu.command(self.topology, self.boot)
        start = time.monotonic()
        self._shell_log = self.console_log.with_suffix(".shell.log").open(
            "w", errors="replace")
        # QEMU's own messages (vIOMMU faults, device errors) go to a file
        # of their own, not into the shell's output.
        self.qemu_log.write_text("")
        self._proc = pexpect.spawn(
            "/bin/sh", ["-c", 'exec "$@" 2>>"$0"', str(self.qemu_log), *cmd],
            encoding="utf-8", codec_errors="replace", timeout=None,
            echo=False, preexec_fn=_die_with_parent)
        self._proc.logfile_read = self._shell_log
        try:
            self._proc.expect_exact(_READY, timeout=BOOT_TIMEOUT)
        except (pexpect.TIMEOUT, pexpect.EOF) as exc:
            why = "timed out" if isinstance(exc, pexpect.TIMEOUT) else "died"
            shell = str(self._proc.before or "")
            self.kill()
            raise BootError(
                f"guest {why} before its shell came up "
                f"(machine {self.topology.name}, accel {self.boot.accel}); "
                f"qemu: {' '.join(cmd)}\nlast console lines:\n"
                f"{tail(self.console())}\nshell port:\n{tail(shell)}\n"
                f"qemu said:\n{tail(self.qemu_log.read_text())}") from None
        self._sync()
        self.boot_seconds = time.monotonic() - start
        report = splat.find(self.console())
        self._console_seen = len(self.console())
        if report:
            self.tainted = True
            raise GuestSplat("the guest kernel splatted while booting",
                             report)
        return self

    def _sync(self) -> None:
        """Wait until the shell answers.

        Knock until the shell answers, so that a guest that came up
        without a working shell fails here, at boot, and not in a test.
        The leading newline ends any partial line.
        """
        assert self._proc is not None
        for knock in range(1, 31):
            self._proc.send(f"\necho HARNESS-SYNC-{knock}\n")
            try:
                self._proc.expect(r"HARNESS-SYNC-\d+", timeout=1)
                return
            except pexpect.TIMEOUT:
                continue
        raise BootError("the guest shell does not answer on "
                        f"{self.boot.console_log} 's shell port")

    def __enter__(self) -> "Guest":
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

    def qmp_event(self, name: str, timeout: float = 30.0) -> dict:
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
    def console(self) -> str:
        try:
            return self.console_log.read_text(errors="replace")
        except OSError:
            return ""

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
        """Run `cmd` in the guest shell; return its status and output."""
        if not self.alive:
            raise BootError("the guest is not running (it died or was "
                            "killed after an earlier failure)")
        assert self._proc is not None
        self._seq += 1
        n = self._seq
        # A subshell: `exit` or `set -e` in a command cannot end the shell.
        line = (f"printf '\\002B{n}\\003\\n'; ( {cmd}\n) </dev/null 2>&1; "
                f"printf '\\002E{n}:%d\\003\\n' $?\n")
        if len(line) > 4000:
            raise ValueError("guest commands must fit the tty's 4 KiB line "
                             "buffer; put long scripts in a file")
        self._proc.send(line)
        # QEMU leaves OPOST on the host pty, so newlines may arrive as CRLF.
        pattern = re.compile(f"\x02B{n}\x03\r?\n(.*?)\x02E{n}:(\\d+)\x03",
                             re.S)
        try:
            self._proc.expect(pattern, timeout=timeout)
        except (pexpect.TIMEOUT, pexpect.EOF) as exc:
            partial = str(self._proc.before or "")
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
        match = self._proc.match
        assert match is not None
        result = Result(int(match.group(2)),
                        match.group(1).replace("\r\n", "\n"))
        if check_splat:
            self.check_console(f"`{cmd}`")
        return result

    def check(self, cmd: str, timeout: float = 60.0) -> str:
        """Run `cmd`; raise with its output unless it exits 0."""
        result = self.run(cmd, timeout)
        if not result.ok:
            raise AssertionError(f"guest `{cmd}` exited {result.status}:\n"
                                 f"{result.output}")
        return result.output

    # --- module sets ----------------------------------------------------
    def use_modules(self, modset: str) -> None:
        """Make `modset` the loaded VFIO module set ('none' unloads)."""
        if self.modset == modset:
            return
        if self.modset != "none":
            self.unload_modules()
        if modset != "none":
            self.check(f"vfio-modset load {modset}")
            self.modset = modset

    def module_refs(self) -> dict[str, int]:
        """Reference counts of the loaded VFIO modules, and under the key
        "(bound)" the number of devices bound to vfio-pci."""
        out = self.check("lsmod; echo; ls /sys/bus/pci/drivers/vfio-pci "
                         "2>/dev/null")
        mods, _, bound = out.partition("\n\n")
        refs = {"(bound)": sum(1 for e in bound.split() if ":" in e)}
        for line in mods.splitlines()[1:]:
            fields = line.split()
            if len(fields) >= 3 and fields[0].startswith(("vfio", "mdev")):
                refs[fields[0]] = int(fields[2])
        return refs

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
        out = self.run("vfio-modset unload", timeout=60)
        if not out.ok:
            raise AssertionError(f"the {self.modset} modules did not unload "
                                 f"cleanly:\n{out.output}")
        self.modset = "none"
