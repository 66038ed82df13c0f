"""A guest booted during the build ends up with the new image's files.

harness/headstart.py boots the first guest of a run on the image the
last build wrote and, once the build has written the new one, writes
what changed into the running guest. Here the "last build" is an image
with two extra files and the "new build" the same image with one of
them changed, one removed and a directory added; the guest must hold
exactly the new files, without booting again.
"""

import os
from dataclasses import replace

import pytest

from harness import guestfs
from harness.headstart import HeadStart
from harness.image import build_image
from harness.pool import TEST_CPUS
from harness.topology import DEFAULT_MACHINE

pytestmark = pytest.mark.feature("harness")


def test_changed_files_reach_the_early_guest(world, tmp_path):
    out = tmp_path / "work" / "initramfs.cpio"
    extra = tmp_path / "extra"
    extra.mkdir()
    (extra / "kept").write_bytes(b"kept\n")
    (extra / "changed").write_bytes(b"before\n")
    (extra / "removed").write_bytes(b"removed\n")
    build_image(world.kernel, world.modules, world.programs, out, extra)

    early = HeadStart.launch(world.layout, out, DEFAULT_MACHINE, TEST_CPUS,
                             "headstart-early")
    assert early is not None, "no manifest was written beside the image"
    try:
        # The build, while the guest boots: every byte value, and more
        # than one here-document line.
        new = bytes(range(256)) * 300 + os.urandom(4099)
        (extra / "changed").write_bytes(new)
        (extra / "removed").unlink()
        (extra / "added").mkdir()
        (extra / "added" / "x.ko").write_bytes(b"\0\1\2")
        build_image(world.kernel, world.modules, world.programs, out, extra)

        guest = early.adopt(replace(world, image=out))
        assert guest is early.guest and guest.alive
        host = guestfs.HOST
        got = guest.run(f"cat {host}/changed").data
        assert got == new
        assert guest.check(f"cat {host}/kept") == "kept\n"
        assert guest.run(f"cat {host}/added/x.ko").data == b"\0\1\2"
        assert guest.run(f"test -e {host}/removed").status == 1
    finally:
        early.close()


def test_a_rebuilt_kernel_drops_the_early_guest(world, tmp_path):
    out = tmp_path / "initramfs.cpio"
    build_image(world.kernel, world.modules, world.programs, out)
    early = HeadStart.launch(world.layout, out, DEFAULT_MACHINE, TEST_CPUS,
                             "headstart-dropped")
    assert early is not None
    early.kernel = (early.kernel[0], early.kernel[1] - 1)
    try:
        assert early.adopt(replace(world, image=out)) is None
        assert not early.guest.alive
    finally:
        early.close()
