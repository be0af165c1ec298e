# Two commands do all the set-up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
MNIST  ?= $(wildcard ../shared/data/mnist/mnist.npz)
STAMP  := $(VENV)/.installed

.PHONY: demo test test-all lint format fuzz install browser clean

$(STAMP): setup.cfg pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,fast,plots,tune,beam,serve,kserve]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/zoo predict zoo/data/samples/*.png --model mnist_convnet --top 3
	$(BIN)/zoo classics table $(if $(MNIST),--data $(MNIST),)
	$(BIN)/zoo classics transfer --out runs/optdigits --quiet
	$(BIN)/zoo predict runs/optdigits/held-out/*.png --model runs/optdigits/fine-tuned --top 2

# The serving page's test drives a real headless browser: Debian's chromium and chromedriver.
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
browser:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || \
	  { $(SUDO) apt-get update -q && $(SUDO) apt-get install -y -q chromium chromium-driver; }

# Two workers on two cores: three measured no faster, with more CPU time (docs/benchmarks.md).
test: $(STAMP) browser
	$(BIN)/python -m pytest -m "not slow" -q -n 2 --dist loadgroup

test-all: $(STAMP) browser
	$(BIN)/python -m pytest -q

fuzz: $(STAMP)
	$(BIN)/python tests/inputs/fuzz_decode.py --rounds 20000 --seed $${SEED:-1}

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) build *.egg-info
