# Mist: one non-recursive build.
#
#   make                            every app for every target
#   make TARGET=posix-tap APP=hello build/posix-tap/hello
#   make run                        boot the echo unikernel under QEMU
#   make check                      every test (unit, sim, both compilers)
#   make check-unit | check-sim | check-integration   one group of tests
#   make bench                      benchmarks (figures, not pass/fail)
#
# A target is a platform plus the sources it brings (mk/target-*.mk). Objects
# go to build/<target>/obj, programs to build/<target>/<app>. The code below
# apps/ is compiled freestanding, without libc headers and without floating
# point registers (-mgeneral-regs-only), so that what builds here also builds
# for the bare-metal and kernel targets.

CC ?= cc
ifeq ($(origin CC),default)
CC := gcc
endif
BUILD ?= build
ARCH := $(shell uname -m)

TARGETS := posix-tap posix-socket sim pvh
APPS := $(notdir $(wildcard apps/*))
TARGET ?= posix-tap
APP ?= hello

WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	-Wno-unused-parameter
COMMON_CFLAGS := -std=c11 -g -O2 $(WARN) -Iinclude -Isrc -fno-common \
	-fno-strict-aliasing -MMD -MP
COMPILER_INCLUDE := $(shell $(CC) -print-file-name=include)
FREESTANDING := -ffreestanding -nostdinc -isystem $(COMPILER_INCLUDE) -fstack-protector-strong
NOFLOAT := -mgeneral-regs-only
HOSTED := -D_GNU_SOURCE

BASE_SRCS := $(filter-out src/base/libc.c,$(wildcard src/base/*.c))
CORE_SRCS := $(wildcard src/core/*.c) src/core/switch-$(ARCH).S
# Mist's own network stack: what a target links unless it names another.
STACK_SRCS := $(wildcard src/wire/*.c src/dev/*.c src/net/*.c)
LIB_SRCS := $(BASE_SRCS) $(CORE_SRCS)

include $(wildcard mk/target-*.mk)

.PHONY: all run check check-unit check-sim check-integration check-build bench deps format \
	clean
all: $(foreach t,$(TARGETS),$(foreach a,$(APPS),$(BUILD)/$(t)/$(a)))

# --- per-target rules -------------------------------------------------------
# $(1): target name. Variables from mk/target-$(1).mk:
#   $(1)_SRCS        platform and target sources, compiled hosted unless:
#   $(1)_PLATFORM_FREESTANDING  non-empty: compile platform/ freestanding too
#   $(1)_STACK_SRCS  the network stack, if not Mist's own ($(STACK_SRCS))
#   $(1)_CFLAGS      extra compiler flags for every object of the target
#   $(1)_LDFLAGS     extra link flags
#   $(1)_POSTLINK    a command run on each program after linking (may be empty)
define target_rules
$(1)_STACK_SRCS ?= $(STACK_SRCS)
$(1)_OBJS := $$(patsubst %,$(BUILD)/$(1)/obj/%.o,$(LIB_SRCS) $$($(1)_STACK_SRCS) $$($(1)_SRCS))
$(1)_LIB := $(BUILD)/$(1)/libmist.a

# One archive per target: a program pulls in only the objects it uses, so a
# test or benchmark with its own main() gets neither boot nor the platform's.
$$($(1)_LIB): $$($(1)_OBJS)
	@rm -f $$@
	$$(AR) rcs $$@ $$^

$(BUILD)/$(1)/obj/src/%.c.o: src/%.c
	@mkdir -p $$(@D)
	$$(CC) $(COMMON_CFLAGS) $(FREESTANDING) $(NOFLOAT) $$($(1)_CFLAGS) -c $$< -o $$@
$(BUILD)/$(1)/obj/src/%.S.o: src/%.S
	@mkdir -p $$(@D)
	$$(CC) $(COMMON_CFLAGS) $$($(1)_CFLAGS) -c $$< -o $$@
$(BUILD)/$(1)/obj/apps/%.c.o: apps/%.c
	@mkdir -p $$(@D)
	$$(CC) $(COMMON_CFLAGS) $(FREESTANDING) $$($(1)_CFLAGS) -c $$< -o $$@
$(BUILD)/$(1)/obj/platform/%.c.o: platform/%.c
	@mkdir -p $$(@D)
	$$(CC) $(COMMON_CFLAGS) $$(if $$($(1)_PLATFORM_FREESTANDING),$(FREESTANDING),$(HOSTED)) \
		$$($(1)_CFLAGS) -c $$< -o $$@
$(BUILD)/$(1)/obj/platform/%.S.o: platform/%.S
	@mkdir -p $$(@D)
	$$(CC) $(COMMON_CFLAGS) $$($(1)_CFLAGS) -c $$< -o $$@
$(BUILD)/$(1)/obj/tests/%.c.o: tests/%.c
	@mkdir -p $$(@D)
	$$(CC) $(COMMON_CFLAGS) $(HOSTED) $$($(1)_CFLAGS) -c $$< -o $$@
$(BUILD)/$(1)/obj/bench/%.c.o: bench/%.c
	@mkdir -p $$(@D)
	$$(CC) $(COMMON_CFLAGS) $(HOSTED) $$($(1)_CFLAGS) -c $$< -o $$@
endef

# $(1): target, $(2): app.
define app_rule
$(BUILD)/$(1)/$(2): $$(patsubst %,$(BUILD)/$(1)/obj/%.o,$$(wildcard apps/$(2)/*.c)) $$($(1)_LIB)
	$$(CC) $$($(1)_CFLAGS) $$^ $$($(1)_LDFLAGS) -o $$@
	$$($(1)_POSTLINK)
endef

$(foreach t,$(TARGETS) san,$(eval $(call target_rules,$(t))))
$(foreach t,$(TARGETS),$(foreach a,$(APPS),$(eval $(call app_rule,$(t),$(a)))))

# --- tests ------------------------------------------------------------------
# Unit and sim tests run on the sim platform, built with ASan and UBSan
# (mk/target-san.mk). Each tests/unit/test_*.c is one cmocka program; each
# tests/sim/sim_*.c is one program that exits non-zero on failure.
UNIT_TESTS := $(patsubst tests/unit/%.c,$(BUILD)/san/%,$(wildcard tests/unit/test_*.c))
SIM_TESTS := $(patsubst tests/sim/%.c,$(BUILD)/san/%,$(wildcard tests/sim/sim_*.c))

# Programs that drive the socket stack through the application API, on the
# posix-socket target; tests/integration runs them in a namespace.
SOCK_TESTS := $(patsubst tests/sock/%.c,$(BUILD)/posix-socket/%,$(wildcard tests/sock/sock_*.c))

$(BUILD)/san/test_%: $(BUILD)/san/obj/tests/unit/test_%.c.o $(san_LIB)
	$(CC) $(san_CFLAGS) $^ $(san_LDFLAGS) -lcmocka -o $@
$(BUILD)/san/sim_%: $(BUILD)/san/obj/tests/sim/sim_%.c.o $(san_LIB)
	$(CC) $(san_CFLAGS) $^ $(san_LDFLAGS) -o $@
$(BUILD)/posix-socket/sock_%: $(BUILD)/posix-socket/obj/tests/sock/sock_%.c.o \
	$(posix-socket_LIB)
	$(CC) $(posix-socket_CFLAGS) $^ $(posix-socket_LDFLAGS) -o $@

check: deps check-build check-unit check-sim fuzz-short check-integration

check-unit: $(UNIT_TESTS)
	@scripts/run-tests $(UNIT_TESTS)

check-sim: $(SIM_TESTS) $(BUILD)/sim/hello
	@BUILD=$(BUILD) scripts/run-tests $(SIM_TESTS) tests/sim/*.sh

# Real peers: the Linux kernel's stack and real tools against Mist on a TAP
# device and on host sockets, each test in network namespaces it creates
# (needs root); and the pvh images under QEMU. Target makefiles add what
# they need to INTEGRATION_IMAGES.
check-integration: $(foreach t,posix-tap posix-socket,$(foreach a,echo udp-echo bulk,$(BUILD)/$(t)/$(a))) \
	$(SOCK_TESTS) $(INTEGRATION_IMAGES)
	MIST_BUILD=$(BUILD) /usr/bin/python3 -m pytest -q tests/integration

# Every target and app with gcc and with clang, warnings as errors.
check-build:
	$(MAKE) --no-print-directory CC=gcc BUILD=$(BUILD)/gcc all
	$(MAKE) --no-print-directory CC=clang BUILD=$(BUILD)/clang all

# libFuzzer targets, one per wire parser: `make fuzz` runs each longer.
include mk/fuzz.mk

# --- benchmarks -------------------------------------------------------------
BENCHES := $(patsubst bench/%.c,$(BUILD)/posix-tap/bench-%,$(wildcard bench/*.c))
$(BUILD)/posix-tap/bench-%: $(BUILD)/posix-tap/obj/bench/%.c.o $(posix-tap_LIB)
	$(CC) $^ $(posix-tap_LDFLAGS) -o $@

# The network benchmarks need root: they build namespaces, a TAP and a veth pair.
# The pvh ones boot images under QEMU (KVM when usable, else TCG) and build them.
bench: $(BENCHES) $(foreach t,posix-tap posix-socket,$(foreach a,echo udp-echo bulk,$(BUILD)/$(t)/$(a)))
	@for b in $(BENCHES); do echo "== $$b"; $$b || exit 1; done
	@echo "== bench/net_echo.sh"; bench/net_echo.sh
	@echo "== bench/tcp_bench.sh"; bench/tcp_bench.sh
	@echo "== bench/sock_echo.sh"; bench/sock_echo.sh
	@echo "== bench/pvh_boot.sh"; bench/pvh_boot.sh
	@echo "== bench/pvh_idle.sh"; bench/pvh_idle.sh
	@echo "== bench/pvh_net.sh"; BUILD=$(BUILD) bench/pvh_net.sh
	@echo "== bench/pvh_tcp.sh"; BUILD=$(BUILD) bench/pvh_tcp.sh

# --- the main job -------------------------------------------------------------
# The seed's echo server as a unikernel under QEMU, reachable on localhost.
RUN_PORT ?= 8081
run: deps $(BUILD)/pvh/echo
	@echo "run: booting $(BUILD)/pvh/echo; from another terminal: nc 127.0.0.1 $(RUN_PORT)"
	@echo "run: Ctrl-C stops it"
	scripts/mist-run --hostfwd=tcp:$(RUN_PORT):8081 $(BUILD)/pvh/echo -- --ipv4=10.0.2.15/24

deps:
	@scripts/deps

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
