# Two entry points for a newcomer on a fresh Debian machine:
#   make demo  -- install everything, process samples/, fetch one result back
#   make test  -- install everything plus test tools, run the whole suite
# Both are idempotent: stamp files skip steps whose inputs did not change.

SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
APT_PACKAGES := tesseract-ocr tesseract-ocr-vie tesseract-ocr-eng tesseract-ocr-osd poppler-utils fonts-freefont-ttf fonts-dejavu-core fonts-dejavu-extra softhsm2
# Only the tests need a browser (the workspace's browser tests drive Debian's Chromium), socat and iproute2
# (the distributed tests' hosts of their own).
TEST_APT_PACKAGES := chromium chromium-driver socat iproute2
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
export SOHOA_DATA_DIR ?= $(CURDIR)/sohoa-data

.PHONY: demo test test-fast lint samples clean system bench-tools

system: $(VENV)/.apt-stamp

# $(call apt_install,PACKAGES): install those of PACKAGES that are missing (with sudo when not root).
define apt_install
	@missing=""; for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing system packages:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi
endef

$(VENV)/.apt-stamp: Makefile
	@mkdir -p $(VENV)
	$(call apt_install,$(APT_PACKAGES))
	@touch $@

$(VENV)/bin/python:
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip

$(VENV)/.install-stamp: pyproject.toml $(VENV)/.apt-stamp | $(VENV)/bin/python
	$(VENV)/bin/pip install -q -e '.[chart,second-reader,distributed]'
	@touch $@

$(VENV)/.apt-test-stamp: Makefile
	@mkdir -p $(VENV)
	$(call apt_install,$(TEST_APT_PACKAGES))
	@touch $@

$(VENV)/.test-stamp: pyproject.toml $(VENV)/.install-stamp $(VENV)/.apt-test-stamp
	$(VENV)/bin/pip install -q -e '.[test]'
	@touch $@

demo: $(VENV)/.install-stamp
	$(VENV)/bin/sohoa keys init-dev --officer can.bo.so.hoa --full-name "Cán bộ số hóa"
	$(VENV)/bin/sohoa process samples --officer can.bo.so.hoa
	@code=$$($(VENV)/bin/sohoa list --json | $(PY) -c 'import json,sys; rows=[json.loads(l) for l in sys.stdin]; print(next(r["code"] for r in rows if r["code"]))'); \
	echo; echo "fetching $$code back from the archive:"; \
	$(VENV)/bin/sohoa fetch $$code -o $(CURDIR)/demo-result.pdf && \
	$(VENV)/bin/sohoa verify $$code

test: $(VENV)/.test-stamp
	$(VENV)/bin/ruff check .
	$(VENV)/bin/python -m pytest -q

# The quick part: no full-page OCR, no servers (S3, PostgreSQL), no browser; under two minutes.
test-fast: $(VENV)/.test-stamp
	$(VENV)/bin/ruff check .
	$(VENV)/bin/python -m pytest -q -m "not slow and not postgres and not s3 and not browser and not rabbitmq"

lint: $(VENV)/.test-stamp
	$(VENV)/bin/ruff check .

# Tools that only the benchmarks compare against (bench/speed.py): Debian's OCRmyPDF and unpaper.
bench-tools: $(VENV)/.install-stamp
	@dpkg -s ocrmypdf unpaper >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq ocrmypdf unpaper; }

samples: $(VENV)/.install-stamp
	$(PY) samples/make_samples.py

clean:
	rm -rf $(VENV) sohoa-data .pytest_cache demo-result.pdf
