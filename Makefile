# The two commands of the README:
#   make         set up, build everything, boot a guest, print the validation
#   make check   set up, build, run the whole test suite on both module sets
#
# Everything else is `python3 -m harness ...` (see README.md).

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
VFIO   ?= both
PYTEST_ARGS ?=

.PHONY: all run check unit deps build shell clean fresh-check

all: run

run: deps
	$(PY) -m harness run --vfio=$(VFIO)

check: deps
	$(PY) -m pytest --vfio=$(VFIO) --junitxml=results/junit.xml $(PYTEST_ARGS)

unit: $(VENV)/.ready
	$(PY) -m pytest tests/unit -q

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
	$(VENV)/bin/pip install -q --disable-pip-version-check "pytest>=7.4" "pexpect>=4.8" "qemu.qmp>=0.0.3"
	touch $@

clean:
	rm -rf build results

distclean: clean
	rm -rf $(VENV)
