# Fuzzing: one libFuzzer program per wire parser, tests/fuzz/fuzz_<proto>.c,
# built into $(BUILD)/fuzz/fuzz_<proto> from the target and the wire sources
# only (a parser needs neither the scheduler nor a platform); and stack
# targets, tests/fuzz/fuzz_<name>_stack.c, which drive a whole stack and so
# link every library source and the sim platform (san_SRCS, its sources
# without an entry point), compiled once into $(BUILD)/fuzz/obj with the
# fuzz flags: freestanding under src/, hosted for the platform, as the
# Makefile's target rules do. libFuzzer comes with clang, so these are built
# with clang whatever CC is; included from the root Makefile, which defines
# BUILD, WARN, LIB_SRCS, STACK_SRCS and san_SRCS.
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

FUZZ_SANITIZE := -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_CFLAGS = -std=c11 -g -O1 $(WARN) -Iinclude -Isrc -fno-omit-frame-pointer \
	-fsanitize=fuzzer $(FUZZ_SANITIZE)
FUZZ_SRCS := $(wildcard src/wire/*.c) src/base/str.c
FUZZ_DEPS := $(FUZZ_SRCS) $(wildcard src/wire/*.h src/base/*.h include/mist/*.h)
FUZZ_TARGETS := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BINS := $(patsubst %,$(BUILD)/fuzz/fuzz_%,$(FUZZ_TARGETS))
FUZZ_STACK_BINS := $(filter %_stack,$(FUZZ_BINS))
FUZZ_WIRE_BINS := $(filter-out $(FUZZ_STACK_BINS),$(FUZZ_BINS))

$(FUZZ_WIRE_BINS): $(BUILD)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_DEPS)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $< $(FUZZ_SRCS) -o $@

# The library under a stack target: coverage-instrumented (fuzzer-no-link),
# with the sanitizers, without libFuzzer's main.
FUZZ_LIB_CFLAGS = -std=c11 -g -O1 $(WARN) -Iinclude -Isrc -fno-common -fno-strict-aliasing \
	-fno-omit-frame-pointer -fsanitize=fuzzer-no-link $(FUZZ_SANITIZE) -MMD -MP
FUZZ_FREESTANDING = -ffreestanding -nostdinc -isystem $(shell $(FUZZ_CC) -print-file-name=include) \
	-fstack-protector-strong -mgeneral-regs-only
FUZZ_STACK_OBJS := $(patsubst %,$(BUILD)/fuzz/obj/%.o,$(LIB_SRCS) $(STACK_SRCS) $(san_SRCS))
# An archive, as for the other targets: a program pulls in only what it uses (not boot).
FUZZ_STACK_LIB := $(BUILD)/fuzz/libmist.a

$(BUILD)/fuzz/obj/src/%.c.o: src/%.c
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_LIB_CFLAGS) $(FUZZ_FREESTANDING) -c $< -o $@
$(BUILD)/fuzz/obj/src/%.S.o: src/%.S
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_LIB_CFLAGS) -c $< -o $@
$(BUILD)/fuzz/obj/platform/%.c.o: platform/%.c
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_LIB_CFLAGS) -D_GNU_SOURCE -c $< -o $@

$(FUZZ_STACK_LIB): $(FUZZ_STACK_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^

$(FUZZ_STACK_BINS): $(BUILD)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_STACK_LIB)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -D_GNU_SOURCE $^ -o $@

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
