# Fuzzing: one libFuzzer program per wire parser, tests/fuzz/fuzz_<proto>.c,
# built into $(BUILD)/fuzz/fuzz_<proto> from the target and the wire sources
# only (a parser needs neither the scheduler nor a platform). libFuzzer comes
# with clang, so these are built with clang whatever CC is; included from the
# root Makefile, which defines BUILD and WARN.
#
#   make fuzz-build   build every fuzz program
#   make fuzz-short   run each for FUZZ_SHORT_TIME seconds (part of make check)
#   make fuzz         run each for FUZZ_TIME seconds
#
# libFuzzer adds the new inputs it finds to the first corpus directory it is
# given and only reads the others: the first is $(BUILD)/fuzz/corpus/<proto>,
# which grows from run to run; the seeds in tests/fuzz/corpus/<proto> are read
# and never written. Crashing inputs go to $(BUILD)/fuzz/artifacts/, a run's
# output to $(BUILD)/fuzz/<proto>.log (shown in full when the run fails).

BUILD ?= build
FUZZ_CC ?= clang
FUZZ_TIME ?= 60
FUZZ_SHORT_TIME ?= 5
# An input that takes longer than this many seconds is a hang, and a failure.
FUZZ_INPUT_TIMEOUT ?= 2

FUZZ_CFLAGS = -std=c11 -g -O1 $(WARN) -Iinclude -Isrc -fno-omit-frame-pointer \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
FUZZ_SRCS := $(wildcard src/wire/*.c) src/base/str.c
FUZZ_DEPS := $(FUZZ_SRCS) $(wildcard src/wire/*.h src/base/*.h include/mist/*.h)
FUZZ_TARGETS := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BINS := $(patsubst %,$(BUILD)/fuzz/fuzz_%,$(FUZZ_TARGETS))

$(BUILD)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_DEPS)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $< $(FUZZ_SRCS) -o $@

# Runs every fuzz program for $(1) seconds, one after the other, and prints
# one line per program: its name and libFuzzer's closing "Done N runs" line.
define fuzz_run
	@set -e; for t in $(FUZZ_TARGETS); do \
		mkdir -p $(BUILD)/fuzz/corpus/$$t $(BUILD)/fuzz/artifacts; \
		log=$(BUILD)/fuzz/$$t.log; \
		if $(BUILD)/fuzz/fuzz_$$t -max_total_time=$(1) -timeout=$(FUZZ_INPUT_TIMEOUT) \
			-artifact_prefix=$(BUILD)/fuzz/artifacts/$$t- \
			$(BUILD)/fuzz/corpus/$$t tests/fuzz/corpus/$$t >$$log 2>&1; then \
			echo "fuzz: $$t: $$(grep '^Done' $$log)"; \
		else \
			cat $$log; echo "fuzz: $$t FAILED (log: $$log)"; exit 1; \
		fi; \
	done
endef

.PHONY: fuzz fuzz-short fuzz-build
fuzz-build: $(FUZZ_BINS)

fuzz-short: $(FUZZ_BINS)
	$(call fuzz_run,$(FUZZ_SHORT_TIME))

fuzz: $(FUZZ_BINS)
	$(call fuzz_run,$(FUZZ_TIME))
