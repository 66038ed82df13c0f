"""The VFIO guest test suite; see harness/pytest_plugin.py for how it runs."""

pytest_plugins = ["harness.pytest_plugin"]
