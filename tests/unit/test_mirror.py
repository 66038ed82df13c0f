import os

from harness.modules import mirror


def test_mirror_copies_sources_only_and_follows_touches(tmp_path):
    src, dst = tmp_path / "src", tmp_path / "dst"
    (src / "drivers/vfio").mkdir(parents=True)
    (src / "drivers/vfio/vfio_main.c").write_text("int x;\n")
    (src / "drivers/vfio/Kbuild").write_text("obj-m += vfio.o\n")
    (src / "drivers/vfio/notes.txt").write_text("not a source\n")
    assert mirror(src, dst)
    assert (dst / "drivers/vfio/vfio_main.c").read_text() == "int x;\n"
    assert (dst / "drivers/vfio/Kbuild").exists()
    assert not (dst / "drivers/vfio/notes.txt").exists()
    assert not mirror(src, dst)          # nothing changed
    st = (src / "drivers/vfio/vfio_main.c").stat()
    os.utime(src / "drivers/vfio/vfio_main.c",
             ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    assert mirror(src, dst)              # a touch counts as an edit


def test_mirror_deletes_removed_sources_but_keeps_objects(tmp_path):
    src, dst = tmp_path / "src", tmp_path / "dst"
    src.mkdir()
    (src / "a.c").write_text("a")
    (src / "b.c").write_text("b")
    mirror(src, dst)
    (dst / "a.o").write_text("object")
    (src / "b.c").unlink()
    assert mirror(src, dst)
    assert not (dst / "b.c").exists()
    assert (dst / "a.o").exists()
