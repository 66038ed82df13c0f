"""The module-set names, commands and options, in one place."""

import argparse

import pytest

from harness import modsets


def test_expand():
    assert modsets.expand("both") == ("ours", "upstream")
    assert modsets.expand("upstream") == ("upstream",)
    with pytest.raises(ValueError, match="choose one of ours, upstream, both"):
        modsets.expand("none")


def test_guest_side_names():
    assert modsets.order_path("ours") == "/vfio/ours/order"
    assert modsets.load_command("upstream") == "vfio-modset load upstream"
    assert modsets.boot_argument("none") == "harness.modset=none"
    with pytest.raises(ValueError):
        modsets.load_command("none")


def test_options():
    p = argparse.ArgumentParser()
    modsets.add_selection_option(p, default="both")
    modsets.add_modset_option(p, default="ours")
    args = p.parse_args([])
    assert (args.vfio, args.modset) == ("both", "ours")
    with pytest.raises(SystemExit):
        p.parse_args(["--modset", "both"])


def test_main_job_runs_the_suite_through_pytest():
    from harness.__main__ import main_job_args, parser
    args = parser().parse_args(["run", "--vfio", "upstream", "-n", "2"])
    argv = main_job_args(args)
    assert "--main-job" in argv and "--vfio=upstream" in argv
    assert argv[argv.index("-n") + 1] == "2"
    assert not any(a.startswith("--machine") for a in argv)
    assert argv[-1].endswith("tests")


def test_auto_workers_by_cores_and_memory():
    from harness.pytest_plugin import auto_workers
    assert auto_workers(2, 20.0) == 2
    assert auto_workers(8, 7.0) == 2      # memory for two guests only
    assert auto_workers(4, 1.0) == 1      # never none


def test_main_job_passes_pytest_arguments_through():
    from harness.__main__ import main_job_args, parse
    args = parse(["run", "--vfio=ours", "--", "-k", "api_version"])
    argv = main_job_args(args)
    assert argv[-3:-1] == ["-k", "api_version"]


def test_main_job_runs_only_the_files_named():
    from harness.__main__ import main_job_args, parse
    argv = main_job_args(parse(["run", "--", "tests/guest/container.c"]))
    assert argv[-1] == "tests/guest/container.c"
    assert not any(a.endswith("/tests") for a in argv)
