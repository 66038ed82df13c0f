"""The developer's loop without a VM: build stamps, the layered image,
.modinfo read from the ELF file, and a guest case with its reference
counts in one round trip (the shell text run by the image's busybox)."""

import os
import subprocess
from pathlib import Path

from harness import stamps
from harness.cpio import Archive
from harness.guest import REFS_COMMAND, Guest, Result, parse_refs
from harness.image import BUSYBOX
from harness.modules import modinfo, module_depends, module_name


def test_a_stamp_is_fresh_only_for_the_same_inputs_and_outputs(tmp_path):
    src, out = tmp_path / "a.c", tmp_path / "a.ko"
    src.write_text("int x;")
    stamp = tmp_path / stamps.STAMP_NAME
    digest = stamps.Digest().text("flags", "W=1").file(src)
    assert not stamps.fresh(stamp, digest, [out])
    out.write_text("ko")
    stamps.record(stamp, digest, order=["a"])
    assert stamps.fresh(stamp, stamps.Digest().text("flags", "W=1").file(src),
                        [out])
    assert stamps.read_extra(stamp, "order") == ["a"]
    # An edit, another flag or a missing product runs the step again.
    src.write_text("int y;")
    assert not stamps.fresh(
        stamp, stamps.Digest().text("flags", "W=1").file(src), [out])
    assert not stamps.fresh(
        stamp, stamps.Digest().text("flags", "W=2").file(src), [out])
    assert not stamps.fresh(stamp, digest, [out, tmp_path / "b.ko"])
    stamps.forget(stamp)
    assert stamps.read_extra(stamp, "order") is None


def test_a_touch_counts_as_an_edit_where_make_would_say_so(tmp_path):
    src = tmp_path / "a.c"
    src.write_text("int x;")
    before = stamps.Digest().stats([src]).hexdigest()
    assert stamps.Digest().stats([src]).hexdigest() == before
    os.utime(src, ns=(1, 1))
    assert stamps.Digest().stats([src]).hexdigest() != before


def test_a_layered_image_is_its_archives_one_after_the_other(tmp_path):
    base, top = Archive(), Archive()
    payload = tmp_path / "prog"
    payload.write_bytes(b"\x7fELF static")
    base.copy("tests/prog", payload, 0o755)
    top.file("init", b"#!/bin/sh\n", 0o755)
    written = tmp_path / "base.cpio"
    with written.open("wb") as f:
        base.write(f)
    assert Archive.of_file(written).to_bytes() == base.to_bytes()
    before = Archive.of_file(written).digest()
    payload.write_bytes(b"\x7fELF static, rebuilt")
    with written.open("wb") as f:
        base.write(f)
    assert Archive.of_file(written).digest() != before


def test_modinfo_is_read_from_the_elf_file(tmp_path):
    c = tmp_path / "m.c"
    c.write_text('static const char info[] __attribute__((section('
                 '".modinfo"), used)) = "license=GPL\\0depends=vfio-pci-core,'
                 'vfio\\0name=vfio_pci";\n')
    ko = tmp_path / "m.ko"
    subprocess.run(["gcc", "-c", "-o", str(ko), str(c)], check=True)
    assert modinfo(ko)["license"] == "GPL"
    assert module_name(ko) == "vfio_pci"
    assert module_depends(ko) == {"vfio_pci_core", "vfio"}


def test_reference_counts_are_parsed():
    assert parse_refs("vfio_pci 0\nvfio 3\nbound 0000:01:00.0\n"
                      "bound 0000:02:00.0\nnoise\n") == {
        "(bound)": 2, "vfio_pci": 0, "vfio": 3}
    assert parse_refs("") == {"(bound)": 0}


def test_the_reference_count_uses_builtins_only():
    for word in ("$(", "`", "lsmod", "ls ", "cat "):
        assert word not in REFS_COMMAND


class ShellGuest(Guest):
    """A Guest whose commands run in the host's busybox sh, reading
    `modules` for /proc/modules."""

    def __init__(self, modules: Path) -> None:
        self.modules = modules

    def run(self, cmd: str, timeout: float = 60.0,
            check_splat: bool = True) -> Result:
        cmd = cmd.replace("/proc/modules", str(self.modules))
        proc = subprocess.run([str(BUSYBOX), "sh", "-c", f"( {cmd}\n) 2>&1"],
                              capture_output=True, env={"PATH": "/bin"})
        return Result(proc.returncode, proc.stdout.decode(errors="replace"),
                      proc.stdout)


def test_a_case_and_its_counts_come_back_apart(tmp_path):
    modules = tmp_path / "modules"
    modules.write_text("vfio_pci 12288 0 - Live 0x0 (O)\n"
                       "vfio 36864 3 vfio_pci, Live 0x0 (O)\n"
                       "kvm 1000 0 - Live 0x0\n")
    result, before, after = ShellGuest(modules).run_counted(
        "echo '# KTAP-ish'; printf 'no newline'; exit 3")
    assert result.status == 3
    assert result.output == "# KTAP-ish\nno newline"
    assert result.data == b"# KTAP-ish\nno newline"
    assert before == after == {"(bound)": 0, "vfio_pci": 0, "vfio": 3}


def test_a_program_compiled_elsewhere_is_taken_from_the_cache(tmp_path):
    from harness.paths import Layout
    from harness.programs import _from_shared, _shared_key, _to_shared
    lay = Layout(tmp_path / "cache", "6.12.0-1", "default")
    src, header = tmp_path / "t.c", tmp_path / "t.h"
    src.write_text("int main(void) { return 0; }\n")
    header.write_text("#define X 1\n")
    key = _shared_key(lay, src, [header])
    assert key == _shared_key(lay, src, [header])
    header.write_text("#define X 2\n")
    assert _shared_key(lay, src, [header]) != key
    cached = lay.cache / "programs" / key / "t"
    binary = tmp_path / "build" / "t"
    binary.parent.mkdir()
    assert not _from_shared(cached, binary)
    binary.write_bytes(b"\x7fELF compiled")
    _to_shared(binary, cached)
    other = tmp_path / "clone" / "t"
    other.parent.mkdir()
    assert _from_shared(cached, other)
    assert other.read_bytes() == b"\x7fELF compiled"
    assert os.access(other, os.X_OK)


def test_a_clone_elsewhere_shares_the_compiled_programs(tmp_path):
    """A bisect step's clone (or another worktree) has the same sources
    at another path: same key, so it compiles nothing; an edit does."""
    from harness.paths import Layout
    from harness.programs import _shared_key
    lay = Layout(tmp_path / "cache", "6.12.0-1", "default")
    keys = []
    for checkout in ("a", "b"):
        include = tmp_path / checkout / "tests/guest/include"
        include.mkdir(parents=True)
        (include / "t.h").write_text("#define X 1\n")
        src = include.parent / "t.c"
        src.write_text("int main(void) { return X; }\n")
        keys.append(_shared_key(lay, src, [include / "t.h"]))
    assert keys[0] == keys[1]
    src.write_text("int main(void) { return !X; }\n")
    assert _shared_key(lay, src, [include / "t.h"]) != keys[0]


def test_programs_do_not_carry_the_checkout_path():
    """Where the checkout is must not reach a binary shared by key."""
    from harness.paths import REPO, Layout
    from harness.programs import compile_command
    cmd = compile_command(Layout(REPO, "6.12.0-1"), Path("t.c"), Path("t"))
    assert f"-ffile-prefix-map={REPO}=." in cmd


def test_checkpatch_checks_again_only_what_changed(tmp_path, monkeypatch):
    """A file's findings are kept with its content's digest: an unchanged
    file is not checked again, an edited one is, and a new checkpatch
    checks everything again."""
    from harness import lint
    from harness.kernel import Kernel
    from harness.paths import Layout
    lay = Layout(tmp_path / "cache", "6.12.0-1")
    script = lay.source / "scripts" / "checkpatch.pl"
    script.parent.mkdir(parents=True)
    calls = tmp_path / "calls"
    script.write_text(
        f"#!/bin/sh\nfor f; do :; done\necho \"$f\" >> {calls}\n"
        "grep -q BAD \"$f\" && echo \"$f:1: ERROR:X_BAD: bad\"\ntrue\n")
    script.chmod(0o755)
    files = [tmp_path / "a.c", tmp_path / "b.c"]
    for f in files:
        f.write_text("int a;\n")
    monkeypatch.setattr(lint, "kernel_sources", lambda: files)
    kernel, memo = Kernel(lay, "6.12.0"), tmp_path / "memo.json"

    def run():
        calls.write_text("")
        found = lint.checkpatch(kernel, memo)
        return found, calls.read_text().split()

    assert run() == ([], [str(f) for f in files])
    assert run() == ([], [])
    files[1].write_text("BAD\n")
    assert run() == ([f"{files[1]}:1: ERROR:X_BAD: bad"], [str(files[1])])
    assert run()[0] == [f"{files[1]}:1: ERROR:X_BAD: bad"]
    script.write_text(script.read_text() + "\n")
    assert run()[1] == [str(f) for f in files]
