# mlhub — the commands the README documents.
#   make          build build/mlhub (release)
#   make test     set up, build, run the whole test suite (unit + parity), again under
#                 ASan+UBSan, then the fuzzers for a bounded time
#   make run      set up, build, start the hub (`mlhub serve`) on the embedded default; the first
#                 start publishes all-MiniLM-L6-v2 and a small dataset into it
#   make demo     the library demo (tokenizers of popular models + MiniLM sentence similarity)
#   make bench    build and run the benchmarks side by side with their peers
#   make goldens  regenerate the model and pipeline golden data with the pinned transformers
#   make format   clang-format the C++ sources
SHELL := /bin/bash
BUILD ?= build
BUILD_ASAN ?= build-asan
BUILD_FUZZ ?= build-fuzz
JOBS ?= $(shell nproc)
FUZZ_SECONDS ?= 30
SHARED ?= $(abspath ../shared)
PYENV ?= $(or $(MLHUB_PYENV),$(HOME)/.cache/mlhub/pyenv)
HUBENV ?= $(or $(MLHUB_HUBENV),$(HOME)/.cache/mlhub/hubenv)
CMAKE_FLAGS := -G Ninja -DMLHUB_SHARED_DIR=$(SHARED)

.PHONY: all setup setup-clients build test test-release test-asan fuzz run demo bench goldens format clean

all: build

setup:
	@./scripts/setup

# The real hub clients the integration suites drive (huggingface_hub, transformers, datasets,
# torch, @huggingface/hub), outside the checkout.
setup-clients:
	@./scripts/setup_hub_clients

build:
	@cmake -S . -B $(BUILD) $(CMAKE_FLAGS) -DCMAKE_BUILD_TYPE=Release >/dev/null
	@ninja -C $(BUILD) -j $(JOBS)

test: setup setup-clients test-release test-asan fuzz

test-release: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

test-asan:
	@cmake -S . -B $(BUILD_ASAN) $(CMAKE_FLAGS) -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS=-O1 -DMLHUB_SANITIZE=ON -DMLHUB_BENCH=OFF >/dev/null
	@ninja -C $(BUILD_ASAN) -j $(JOBS)
	cd $(BUILD_ASAN) && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 ctest --output-on-failure -j $(JOBS) -LE slow

fuzz:
	@CC=clang-14 CXX=clang++-14 cmake -S . -B $(BUILD_FUZZ) $(CMAKE_FLAGS) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMLHUB_FUZZ=ON -DMLHUB_BENCH=OFF >/dev/null
	@ninja -C $(BUILD_FUZZ) -j $(JOBS) fuzzers
	./tests/fuzz/run_fuzzers.sh $(BUILD_FUZZ) $(FUZZ_SECONDS)

run: setup build
	./scripts/run_hub $(BUILD)/mlhub

demo: setup build
	./scripts/demo $(BUILD)/mlhub $(SHARED)/data/tokenizers

bench: build
	@./scripts/setup --torch
	$(PYENV)/bin/python bench/run_tokenizer_bench.py $(BUILD)
	$(PYENV)/bin/python bench/run_encoder_bench.py $(BUILD)
	MLHUB_BIN=$(BUILD)/mlhub $(PYENV)/bin/python bench/run_hub_bench.py
	@./scripts/setup_bench_llama
	$(PYENV)/bin/python bench/run_decoder_bench.py $(BUILD)
	@./scripts/setup_bench_ct2
	$(PYENV)/bin/python bench/run_seq2seq_bench.py $(BUILD)
	@MLHUB_HUBENV=$(HUBENV) ./scripts/setup_hub_clients
	MLHUB_BIN=$(BUILD)/mlhub $(HUBENV)/bin/python bench/run_inference_bench.py

# Regenerates the committed golden data of the models and pipelines with the pinned transformers
# (needs the torch half of the reference environment; the tokenizer goldens have their own
# scripts, see tools/reference/README.md).
goldens:
	@./scripts/setup --torch
	$(PYENV)/bin/python tools/reference/encoder_goldens.py
	$(PYENV)/bin/python tools/reference/pipeline_goldens.py
	$(PYENV)/bin/python tools/reference/text_generation_goldens.py
	$(PYENV)/bin/python tools/reference/minilm_goldens.py
	$(PYENV)/bin/python tools/reference/decoder_goldens.py
	$(PYENV)/bin/python tools/reference/smollm2_goldens.py
	$(PYENV)/bin/python tools/reference/seq2seq_goldens.py
	$(PYENV)/bin/python tools/reference/marian_tokenizer_goldens.py
	$(PYENV)/bin/python tools/reference/generation_goldens.py
	$(PYENV)/bin/python tools/reference/chat_template_goldens.py

format:
	clang-format-14 -i $$(git ls-files '*.cc' '*.h')

clean:
	rm -rf $(BUILD) $(BUILD_ASAN) $(BUILD_FUZZ)
