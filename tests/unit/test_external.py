"""External test drivers: their Kbuild and the check of their imports."""

import subprocess
from pathlib import Path

from harness import external, modsets
from harness.paths import Layout


def test_kbuild_puts_the_set_include_first():
    spec = external.MDEV_SAMPLES
    text = external.kbuild_text(spec, Path("/x/include"))
    assert "NOSTDINC_FLAGS += -I/x/include" in text
    assert "obj-m += mtty.o mdpy.o mbochs.o" in text
    assert "NOSTDINC_FLAGS" not in external.kbuild_text(spec, None)


def test_mdev_samples_come_from_the_kernel_source():
    lay = Layout(Path("/cache"), "6.12.1", "default")
    names = [p.name for p in external.MDEV_SAMPLES.sources(lay)]
    assert names == ["mtty.c", "mdpy.c", "mdpy-defs.h", "mbochs.c"]
    assert all(p.parent == lay.source / "samples/vfio-mdev"
               for p in external.MDEV_SAMPLES.sources(lay))
    # The upstream set runs the kernel's own build of the samples.
    assert external.MDEV_SAMPLES.modsets == (modsets.OURS,)


def test_our_samples_are_ours_and_built_strictly_for_both_sets():
    lay = Layout(Path("/cache"), "6.12.1", "default")
    sources = external.OUR_SAMPLES.sources(lay)
    assert [p.name for p in sources] == ["mdma.c"]
    assert all(p.is_file() and p.parent.parts[-3:] ==
               ("kernel", "samples", "vfio-mdev") for p in sources)
    # Our own code: W=1 warning-free, and the same source on both sets.
    assert external.OUR_SAMPLES.strict
    assert external.OUR_SAMPLES.modsets == modsets.MODSETS
    assert external.OUR_SAMPLES in external.SPECS


def _symvers(path: Path, rows: list[tuple[str, str]]) -> Path:
    path.write_text("".join(f"0x00000000\t{sym}\t{mod}\tEXPORT_SYMBOL_GPL\t\n"
                            for sym, mod in rows))
    return path


def test_unresolved_imports_are_vfio_symbols_ours_lacks(tmp_path):
    src = tmp_path / "m.c"
    src.write_text("extern int vfio_a(void), vfio_b(void), printk_x(void);\n"
                   "int f(void) { return vfio_a() + vfio_b() + printk_x(); }\n")
    obj = tmp_path / "m.o"
    subprocess.run(["gcc", "-c", str(src), "-o", str(obj)], check=True)
    theirs = _symvers(tmp_path / "kernel.symvers",
                      [("vfio_a", "drivers/vfio/vfio"),
                       ("vfio_b", "drivers/vfio/vfio"),
                       ("printk_x", "vmlinux")])
    ours = _symvers(tmp_path / "ours.symvers",
                    [("vfio_a", "/build/drivers/vfio/vfio")])
    assert external.unresolved_imports(theirs, ours, obj) == ["vfio_b"]


def test_a_world_hands_its_external_modules_to_workers(tmp_path):
    from harness.kernel import Kernel
    from harness.modules import Modules
    from harness.world import World
    lay = Layout(tmp_path, "6.12.1", "default")
    mods = Modules(tmp_path / "ko", ["vfio", "mdev"], [],
                   {"ours": {"mtty": tmp_path / "mtty.ko"}})
    world = World(lay, Kernel(lay, "6.12.1"), mods, {}, tmp_path / "i", "tcg")
    again = World.from_dict(world.to_dict())
    assert again.modules.extra == {"ours": {"mtty": tmp_path / "mtty.ko"}}
