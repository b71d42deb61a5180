# Two commands: `make book` and `make test`. Both set up .venv (pinned by constraints.txt) and the data first.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

export LLMREC_DATA_DIR ?= $(CURDIR)/data
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export PYDEVD_DISABLE_FILE_VALIDATION := 1
# The same CPU kernels on every x86-64 machine: torch picks AVX-512 kernels where the CPU has them and AVX2 where it
# does not, and a trained model's recorded numbers differ between the two in the 4th decimal (measured: the
# causal Transformer's NDCG@10 0.0825 under AVX-512, 0.0838 under AVX2). AVX2 is on every machine CI uses. Not enough
# on every CPU: on a Cascade Lake Xeon trained models still differ, and tests/expected/cpu/intel-6-85/ holds its
# values (README, "Run one chapter").
export ATEN_CPU_CAPABILITY ?= avx2
export MKL_CBWR ?= AVX2
export ONEDNN_MAX_CPU_ISA ?= AVX2
# NumPy/SciPy's OpenBLAS picks its kernels by CPU too: on an AVX-512 machine scikit-learn's genre probe in chapter 6
# flips one decision (title-only micro-F1 0.33080 instead of 0.33131). Haswell kernels are AVX2.
export OPENBLAS_CORETYPE ?= Haswell

.PHONY: setup data test unit notebooks book check-pages chromium lint bench bench-encoder benchmark benchmark-transfer benchmark-llm compare-recbole clean

setup: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), f"Python 3.11 is required, found {sys.version.split()[0]}"'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	# torch first, on its own: on this project's machines `torch==2.13.0` is a CPU build that pip finds locally
	$(PY) -m pip install --disable-pip-version-check -q "torch==2.13.0"
	$(PY) -m pip install --disable-pip-version-check -q -c constraints.txt -e ".[book,dev]"
	touch $(STAMP)

data: $(STAMP)
	$(PY) -m llmrec fetch ml-100k ml-1m smollm2-135m-instruct

lint: $(STAMP)
	$(PY) -m ruff check src tests scripts
	$(PY) -m ruff format --check src tests scripts

unit: data
	$(PY) -m pytest tests -m "not notebook"

notebooks: data
	$(PY) -m pytest tests -m notebook

# unit tests, then every notebook executed by papermill and checked (tests/test_notebooks.py), then the book
# built from those executed copies with warnings as errors (a broken glue key or reference fails the run), then
# every built page opened in headless Chromium (scripts/check_pages.py: maths typeset offline, images loaded, no
# stderr cells, warnings or local paths, glue rendered, nothing wider than its box, no console errors).
test: data lint chromium
	rm -rf _build/executed
	$(PY) -m pytest tests
	cd scripts && ../$(PY) build_book.py --no-execute
	$(PY) scripts/check_pages.py

# the browser check alone, on the book `make book` built
check-pages: $(STAMP) chromium
	$(PY) scripts/check_pages.py

# Debian's Chromium for the browser check (CI starts from a fresh machine); Playwright drives it, no browser download
chromium:
	command -v chromium >/dev/null || { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; }

book: data
	cd scripts && ../$(PY) build_book.py

bench: data
	$(PY) scripts/bench_evaluate.py

bench-encoder: data
	$(PY) scripts/bench_encoder.py

# chapter 7's sequence models on ML-1M, each on its recipe (llmrec.benchmark.BENCHMARK_MODELS): SASRec with and
# without text on windows-60-lr2e-3, GRU4Rec on long. One results file per run in benchmarks/results/, named with the
# recipe's tag (llmrec.benchmark.BENCHMARK_TAGS), so a run replaces the committed file of the same recipe and seed.
# Alone on 2 cores of the machine of chapter 7 section 3.7's runs SASRec took 25 to 26 minutes per seed and SASRec
# with text 24.5; an Intel Cascade Lake Xeon takes about two and a half times as long per epoch for them (text: 63.5
# and 73.8 minutes) and 8 to 14 minutes for GRU4Rec (its three seeds). BENCHMARK_MODELS=sasrec runs one model.
BENCHMARK_MODELS ?= sasrec sasrec-text gru4rec
benchmark: data
	$(PY) scripts/benchmark.py --dataset ml-1m --models $(BENCHMARK_MODELS) --seeds 42
# RecBole 1.2.1 in its own virtual environment (it needs numpy<2, pandas<3, scipy<1.13, setuptools<81), its Pop,
# ItemKNN, BPR and SASRec and the book's models on RecBole's own leave-one-out split; writes
# benchmarks/recbole_ml100k.json (committed; the results page shows it). Not part of `make test`. RecBole's SASRec
# takes about 4 minutes per epoch on one core (20 epochs: 85 min); `make compare-recbole RECBOLE_MODELS=Pop,ItemKNN,BPR`
# leaves it out.
RECBOLE_VENV := .venv-recbole
RECBOLE_MODELS ?= Pop,ItemKNN,BPR,SASRec
RECBOLE_EPOCHS ?= 20
compare-recbole: data
	test -x $(RECBOLE_VENV)/bin/python || $(PYTHON) -m venv $(RECBOLE_VENV)
	$(RECBOLE_VENV)/bin/pip install --disable-pip-version-check -q "torch==2.13.0"
	$(RECBOLE_VENV)/bin/pip install --disable-pip-version-check -q "recbole==1.2.1" "numpy<2" "pandas<3" "scipy<1.13" "setuptools<81"
	$(PY) scripts/compare_recbole.py --models $(RECBOLE_MODELS) --epochs $(RECBOLE_EPOCHS)
# chapter 8's heavier runs (EMCDR's perceptron map, LightGCN on the joint graph, longer LightGCN, the pull sweep):
# one results file per run in benchmarks/results/transfer_*.json
benchmark-transfer: data
	$(PY) scripts/benchmark_transfer.py
# chapter 10's zero-shot LLM ranking (SmolLM2-135M, LLMRank protocol) for 200 ML-100K users against popularity and
# BPR on the same candidates; benchmarks/results/llm_zeroshot-ml-100k_42.json, rewritten after every 10 users
benchmark-llm: data
	$(PY) scripts/benchmark_llm.py --dataset ml-100k --users 200 --styles sequential

clean:
	rm -rf _build
