# rvmsim — the two commands of the README, plus developer conveniences.
#   make run    the main job (installs missing Debian packages, configures, builds, runs)
#   make test   everything that must pass; ends with "N passed, M failed"
#   make bench  all benchmarks -> bench/results/ (report.md, latest.json/.csv, PNG charts)
#   make bench-check     instruction-count regression gate against bench/baseline/ (also in make test)
#   make bench-baseline  re-measure and rewrite the baseline, showing the diff
#   make firmware  cross-build the AArch64 (EL2) and RISC-V (M-mode) firmware images
#   make qemu-check  every corpus scenario the tape can express: QEMU's chain == the simulator's
#   make planted   build the planted-bug variants and prove a sweep finds and shrinks each
#   make model     spin: the SMP scheduling / VMID model's properties, and its planted bug caught
#   make cppcheck  cppcheck over the freestanding C (core/, platform/)
#   make regress BASE=<rev>  the scenario corpus on <rev>'s build and this one: same chains?
#   make coverage  gcov build (build-cov/), unit tests + a short workload, gcovr reports, branch gate
# Both are idempotent: packages are installed only when missing, meson is configured once.

BUILD      ?= build
ASAN_BUILD ?= build-asan
MESON      ?= meson
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
PY         := /usr/bin/python3

.PHONY: all run test deps build build-asan unit bench bench-check bench-baseline format format-check clean help planted model cppcheck firmware qemu-check regress coverage

all: build

help:
	@sed -n 's/^#   //p' Makefile

deps-%:
	@scripts/deps.sh $*

$(BUILD)/build.ninja: | deps-build
	$(MESON) setup $(BUILD) --buildtype=debugoptimized

$(ASAN_BUILD)/build.ninja: | deps-test
	$(MESON) setup $(ASAN_BUILD) --buildtype=debug -Db_sanitize=address,undefined \
	  -Db_lundef=false -Dc_args=-fno-sanitize-recover=all

build: $(BUILD)/build.ninja
	$(MESON) compile -C $(BUILD)

build-asan: $(ASAN_BUILD)/build.ninja
	$(MESON) compile -C $(ASAN_BUILD)

# The main job: sweep the standard kernel smoke workload over the default seeds with swarm faults.
SEEDS ?= 1..10000
SMOKE ?= scenarios/kernel-smoke.scn
run: $(BUILD)/build.ninja
	ninja -C $(BUILD) cli/rvmsim
	$(BUILD)/cli/rvmsim sweep $(SMOKE) --seeds $(SEEDS) --jobs $(JOBS) --faults swarm --coverage=brief

test: deps-test build build-asan
	@rm -f $(BUILD)/meson-logs/testlog.json $(ASAN_BUILD)/meson-logs/testlog.json
	@status=0; \
	$(MESON) test -C $(BUILD) --print-errorlogs --num-processes $(JOBS) || status=1; \
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	  $(MESON) test -C $(ASAN_BUILD) --suite unit --suite fuzz --print-errorlogs --num-processes $(JOBS) || status=1; \
	$(PY) scripts/test_summary.py $(BUILD) $(ASAN_BUILD) || status=1; \
	exit $$status

# Benchmarks: figures and charts (never gated), then the instruction-count gate and its baseline.
bench: build | deps-bench
	bench/run.sh $(BUILD)

bench-check: build | deps-bench
	$(PY) bench/check.py --rvmbench $(BUILD)/bench/rvmbench

bench-baseline: build | deps-bench
	$(PY) bench/check.py --rvmbench $(BUILD)/bench/rvmbench --update

unit: build
	$(MESON) test -C $(BUILD) --suite unit --print-errorlogs

format:
	clang-format -i $$(find core platform host replay sim cli tests bench firmware -name "*.[ch]" 2>/dev/null)

format-check:
	scripts/check_format.sh .

# A test-only defect compiled into its own build dir (the normal build stays clean); ninja rather
# than meson compile, which looks the target up before re-running meson on a changed tree. The
# pytest suite runs the same checks (tests/py/test_planted_bug.py, test_planted_kernel.py).
PLANTED ?= witness_refused_advances vmid_reuse_no_flush digest_image_unmarked
# The bare-metal firmware (cross builds in $(BUILD)/firmware-aarch64, -riscv64) and the check that
# every corpus scenario the tape can express gives the simulator's chain on QEMU.
firmware: | deps-qemu
	@for arch in aarch64 riscv64; do \
	  test -f $(BUILD)/firmware-$$arch/build.ninja || \
	    $(MESON) setup $(BUILD)/firmware-$$arch --cross-file cross/$$arch.ini || exit 1; \
	  ninja -C $(BUILD)/firmware-$$arch || exit 1; \
	done

QEMU_SEEDS ?= 1..3
qemu-check: build firmware
	$(PY) scripts/qemu_check.py --rvmsim $(BUILD)/cli/rvmsim --seeds $(QEMU_SEEDS) --jobs $(JOBS)

planted: build
	@for bug in $(PLANTED); do \
	  test -f $(BUILD)/planted/$$bug/build.ninja || \
	    $(MESON) setup $(BUILD)/planted/$$bug --buildtype=debugoptimized -Dplanted_bug=$$bug || exit 1; \
	  ninja -C $(BUILD)/planted/$$bug cli/rvmsim || exit 1; \
	done
	RVMSIM=$(BUILD)/cli/rvmsim RVM_BUILD_ROOT=$(abspath $(BUILD)) $(PY) -m pytest -q -p no:cacheprovider \
	  tests/py/test_planted_bug.py tests/py/test_planted_kernel.py tests/py/test_planted_digest.py

# Machine-checked evidence (docs/evidence.md); both also run in `make test` (meson suite 'build').
model:
	$(PY) scripts/check_model.py --workdir $(BUILD)/model

cppcheck:
	scripts/run_cppcheck.sh . core platform

# Branch coverage of core/src with gcov in its own build dir (scripts/coverage.py): reports in
# $(COV_BUILD)/coverage/ (index.html, coverage.txt, branches.txt); fails below the gate.
COV_BUILD ?= build-cov
coverage: | deps-test
	$(PY) scripts/coverage.py --build-dir $(COV_BUILD) --jobs $(JOBS)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(COV_BUILD)

#   make prove   Frama-C WP proofs of core modules; fails on any unproved goal (scripts/prove.py)
.PHONY: prove
prove:
	$(PY) scripts/prove.py

# Behaviour regression: every corpus chain of BASE's build against this build (docs/testing.md).
BASE ?=
REGRESS_SEEDS ?= 1..5
regress: build
	@test -n "$(BASE)" || { echo "usage: make regress BASE=<git rev> [REGRESS_SEEDS=1..5]" >&2; exit 2; }
	$(PY) scripts/regress.py --base $(BASE) --seeds $(REGRESS_SEEDS) --current-binary $(BUILD)/cli/rvmsim --build-root $(BUILD)
