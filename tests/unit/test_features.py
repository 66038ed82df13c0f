"""Every guest test names a feature, so the table groups it."""

import re

import pytest

from harness.features import FEATURES
from harness.paths import REPO
from harness.programs import GUEST_TESTS, program_info

_MARK = re.compile(r'pytest\.mark\.feature\("([\w-]+)"\)')


@pytest.mark.parametrize("path", sorted(GUEST_TESTS.glob("*.c")),
                         ids=lambda p: p.name)
def test_guest_program_names_a_feature(path):
    feature = program_info(path).feature
    assert feature in FEATURES, (
        f"{path.name}: add `// harness: feature=NAME` with NAME one of "
        f"{', '.join(FEATURES)} (harness/features.py)")


@pytest.mark.parametrize("path", sorted((REPO / "tests").glob("test_*.py")),
                         ids=lambda p: p.name)
def test_python_test_module_names_a_feature(path):
    found = _MARK.findall(path.read_text())
    assert found and all(f in FEATURES for f in found), (
        f"{path.name}: add pytestmark = pytest.mark.feature(NAME) with NAME "
        f"one of {', '.join(FEATURES)}")
