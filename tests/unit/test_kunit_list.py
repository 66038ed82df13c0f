from harness import kunit

SOURCE = """
static struct kunit_case a_cases[] = {
	KUNIT_CASE(first),
	KUNIT_CASE_SLOW(second),
	{}
};
static struct kunit_suite a_suite = {
	.name = "vfio_a",
	.test_cases = a_cases,
};
static struct kunit_case b_cases[] = { KUNIT_CASE(only), {} };
static struct kunit_suite b_suite = { .test_cases = b_cases, .name = "vfio_b" };
"""


def test_cases_are_prefixed_by_their_suite():
    assert kunit.list_cases(SOURCE) == ["vfio_a.first", "vfio_a.second",
                                        "vfio_b.only"]
    assert kunit.suites_of(kunit.list_cases(SOURCE)) == ["vfio_a", "vfio_b"]


def test_our_kunit_modules_have_cases():
    for module, cases in kunit.modules().items():
        assert cases, module
