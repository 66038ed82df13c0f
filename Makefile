# The two commands of the README:
#   make         set up, build everything, boot a guest, print the validation
#   make check   set up, build, run the whole test suite on both module sets
#
# Everything else is `python3 -m harness ...` (see README.md).

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
VFIO   ?= both
JOBS   ?= auto
PYTEST_ARGS ?=

.PHONY: all run check check-debug unit pycheck deps build shell clean \
	distclean fresh-check

all: run

run: deps
	$(PY) -m harness run --vfio=$(VFIO) -n $(JOBS)

check: deps pycheck
	$(PY) -m pytest --vfio=$(VFIO) -n $(JOBS) --junitxml=results/junit.xml $(PYTEST_ARGS)

# The debug kernel (lockdep, KASAN, kmemleak, DEBUG_ATOMIC_SLEEP) under
# our modules: a splat fails the test that caused it, and a kmemleak scan
# after each program fails on objects leaked through our modules. One
# program per worker (loadfile), so each scan sees its own program's guest.
check-debug: deps
	VFIO_RESULTS=results/debug $(PY) -m pytest --vfio=ours \
	  --kernel-flavour debug -n $(JOBS) --dist loadfile \
	  --junitxml=results/debug/junit.xml $(PYTEST_ARGS)

unit: $(VENV)/.ready pycheck
	$(PY) -m pytest tests/unit -q

# Python quality gates: the harness is typed strictly, and linted.
pycheck: $(VENV)/.ready
	$(PY) -m mypy --strict harness
	$(PY) -m ruff check harness tests

build: deps
	$(PY) -m harness build

shell: deps
	$(PY) -m harness shell

# The README's first command on a new Debian 12 root (mmdebstrap, chroot):
# needs root, builds the guest kernel from scratch (about 15 minutes).
fresh-check: $(VENV)/.ready
	$(PY) -m harness fresh-check

deps: $(VENV)/.ready
	$(PY) -m harness deps --install

# A private virtualenv: Debian's python3 refuses system-wide pip installs.
$(VENV)/.ready: pyproject.toml
	@$(PYTHON) -c 'import ensurepip, venv' 2>/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -q && DEBIAN_FRONTEND=noninteractive \
	      apt-get install -y --no-install-recommends python3-venv python3-pip; \
	  else \
	    echo "python3-venv is missing: sudo apt-get install python3-venv"; exit 1; \
	  fi; }
	$(PYTHON) -m venv $(VENV)
	$(PYTHON) -c 'import tomllib; print("\n".join(tomllib.load(open("pyproject.toml", "rb"))["project"]["dependencies"]))' > $(VENV)/requirements.txt
	$(VENV)/bin/pip install -q --disable-pip-version-check -r $(VENV)/requirements.txt
	touch $@

clean:
	rm -rf build results

distclean: clean
	rm -rf $(VENV)
