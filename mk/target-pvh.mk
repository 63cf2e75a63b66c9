# pvh: a bootable x86_64 image, an ELF with the PVH entry note, which
# `qemu-system-x86_64 -kernel` boots (machines microvm and q35), as do
# Firecracker, cloud-hypervisor and Xen PVH. Everything is freestanding, the
# platform included; base/libc.c provides what the compiler calls.
#
# Code model: the image is linked at 1 MiB and identity-mapped, so every
# address fits in 32 bits and the small model applies. No red zone: an
# interrupt pushes its frame on the interrupted stack. Frame pointers: the
# crash report's backtrace follows them. The stack protector reads a global
# guard (stack_protector.c), since there is no thread pointer for the
# default %fs:40. -Os: udp-echo must stay within 64 KB.
# gcc: one LTO partition, for the smallest image (and no note about
# compiling partitions serially); clang has no such option.
PVH_LTO_PARTITION := $(if $(filter clang%,$(notdir $(CC))),,-flto-partition=one)
pvh_SRCS := $(wildcard platform/pvh/*.c platform/pvh/*.S) src/base/libc.c
pvh_PLATFORM_FREESTANDING := yes
pvh_CFLAGS := -Os -mno-red-zone -fno-pic -fno-pie -mcmodel=small -fno-omit-frame-pointer \
	-mstack-protector-guard=global -fno-asynchronous-unwind-tables \
	-ffunction-sections -fdata-sections -flto $(PVH_LTO_PARTITION)
pvh_LDFLAGS := -nostdlib -static -Wl,-T,platform/pvh/pvh.ld -Wl,--gc-sections \
	-Wl,-z,max-page-size=0x10 -Wl,-z,noexecstack -Wl,--build-id=none

# The compiler calls these only at code generation, after LTO has dropped
# what looked unused: compile their definitions without LTO (see
# platform/pvh/stack_protector.c).
$(BUILD)/pvh/obj/src/base/libc.c.o $(BUILD)/pvh/obj/platform/pvh/stack_protector.c.o: \
	pvh_CFLAGS += -fno-lto

# After linking: keep the unstripped image as <image>.debug (for addr2line,
# objdump, gdb), strip the image, and print its sizes.
pvh_POSTLINK = cp $@ $@.debug && objcopy --strip-all $@ && \
	size $@ && stat -c '%n: %s bytes' $@

# Test images, built only for the integration tests (tests/pvh/<name>.c
# becomes $(BUILD)/pvh/test-<name>), so that `make` does not ship them.
PVH_TEST_IMAGES := $(patsubst tests/pvh/%.c,$(BUILD)/pvh/test-%,$(wildcard tests/pvh/*.c))
INTEGRATION_IMAGES += $(BUILD)/pvh/hello $(BUILD)/pvh/udp-echo $(BUILD)/pvh/echo $(PVH_TEST_IMAGES)

$(BUILD)/pvh/obj/tests/pvh/%.c.o: tests/pvh/%.c
	@mkdir -p $(@D)
	$(CC) $(COMMON_CFLAGS) $(FREESTANDING) $(pvh_CFLAGS) -c $< -o $@
$(BUILD)/pvh/test-%: $(BUILD)/pvh/obj/tests/pvh/%.c.o $(BUILD)/pvh/libmist.a
	$(CC) $(pvh_CFLAGS) $^ $(pvh_LDFLAGS) -o $@
	$(pvh_POSTLINK)
