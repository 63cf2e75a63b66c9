/*
 * Unit tests for the pvh command-line splitter (platform/pvh/cmdline.c),
 * run on the host: boot arguments come out in order behind the program
 * name, with any run of blanks between them; QEMU microvm's
 * virtio_mmio.device words are parsed into base, size and GSI and taken
 * out, as are the Linux words loaders add; any other word, even a foreign
 * one, is left for the common parser to reject; malformed device words and
 * too many words or devices fail with a reason naming the word.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "../../platform/pvh/cmdline.c"

static struct pvh_cmdline cl;
static char text[8192];
static char error[160];

static int parse(const char *line)
{
	snprintf(text, sizeof(text), "%s", line);
	error[0] = '\0';
	return pvh_cmdline_parse(text, "mist", &cl, error, sizeof(error));
}

static void boot_arguments_follow_the_program_name(void **state)
{
	assert_int_equal(parse("--ipv4=10.0.0.2/24  \t--log=debug\n"), 0);
	assert_int_equal(cl.argc, 3);
	assert_string_equal(cl.argv[0], "mist");
	assert_string_equal(cl.argv[1], "--ipv4=10.0.0.2/24");
	assert_string_equal(cl.argv[2], "--log=debug");
	assert_null(cl.argv[3]);
	assert_int_equal(cl.virtio_count, 0);
}

static void an_empty_or_blank_line_gives_no_arguments(void **state)
{
	assert_int_equal(parse(""), 0);
	assert_int_equal(cl.argc, 1);
	assert_null(cl.argv[1]);
	assert_int_equal(parse("  \t\r\n "), 0);
	assert_int_equal(cl.argc, 1);
}

static void microvm_words_are_taken_out(void **state)
{
	assert_int_equal(parse("console=ttyS0 --port=9 virtio_mmio.device=512@0xfeb00e00:12 "
	                       "virtio_mmio.device=4K@0xfeb00c00:11:3 reboot=t panic=1 pci=off "
	                       "acpi=off earlyprintk=ttyS0 i8042.noaux"),
	                 0);
	assert_int_equal(cl.argc, 2);
	assert_string_equal(cl.argv[1], "--port=9");
	assert_int_equal(cl.virtio_count, 2);
	assert_int_equal(cl.virtio[0].base, 0xfeb00e00);
	assert_int_equal(cl.virtio[0].size, 512);
	assert_int_equal(cl.virtio[0].irq, 12);
	assert_int_equal(cl.virtio[1].base, 0xfeb00c00);
	assert_int_equal(cl.virtio[1].size, 4096);
	assert_int_equal(cl.virtio[1].irq, 11);
}

static void sizes_take_binary_suffixes_and_decimal_bases(void **state)
{
	assert_int_equal(parse("virtio_mmio.device=1M@4026531840:5 virtio_mmio.device=2g@0x0:0"),
	                 0);
	assert_int_equal(cl.virtio[0].size, 1u << 20);
	assert_int_equal(cl.virtio[0].base, 0xf0000000);
	assert_int_equal(cl.virtio[1].size, 2ull << 30);
	assert_int_equal(cl.virtio[1].irq, 0);
}

static void other_words_are_left_for_the_common_parser(void **state)
{
	assert_int_equal(parse("foo --bar quiet virtio_mmio.devices=1"), 0);
	assert_int_equal(cl.argc, 5);
	assert_string_equal(cl.argv[1], "foo");
	assert_string_equal(cl.argv[2], "--bar");
	assert_string_equal(cl.argv[3], "quiet");
	assert_string_equal(cl.argv[4], "virtio_mmio.devices=1");
}

static void malformed_device_words_are_rejected(void **state)
{
	static const char *const bad[] = {
	        "virtio_mmio.device=",
	        "virtio_mmio.device=512",
	        "virtio_mmio.device=512@0xfeb00e00",
	        "virtio_mmio.device=@0xfeb00e00:5",
	        "virtio_mmio.device=0@0xfeb00e00:5",
	        "virtio_mmio.device=512@0xfeb00e00:256",
	        "virtio_mmio.device=512@zz:5",
	        "virtio_mmio.device=512@0xfeb00e00:5:x",
	        "virtio_mmio.device=512x@0xfeb00e00:5",
	        "virtio_mmio.device=4096@0xfffffffffffff800:5",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(parse(bad[i]), MIST_EINVAL);
		assert_non_null(strstr(error, bad[i]));
		assert_non_null(strstr(error, "expected virtio_mmio.device=<size>@<base>:<irq>"));
	}
}

static void too_many_words_are_rejected(void **state)
{
	char line[8192] = "";
	for (int i = 1; i < PVH_ARGV_MAX; i++)
		strcat(line, "--x ");
	assert_int_equal(parse(line), 0);
	assert_int_equal(cl.argc, PVH_ARGV_MAX);
	assert_null(cl.argv[PVH_ARGV_MAX]);
	strcat(line, "--one-too-many");
	assert_int_equal(parse(line), MIST_EINVAL);
	assert_string_equal(error, "more than 63 boot arguments");
}

static void too_many_devices_are_rejected(void **state)
{
	char line[8192] = "";
	char word[64];
	for (int i = 0; i <= PVH_VIRTIO_MMIO_MAX; i++) {
		snprintf(word, sizeof(word), "virtio_mmio.device=512@0x%x:%d ",
		         0xfeb00000 + i * 512, 5 + i);
		strcat(line, word);
	}
	assert_int_equal(parse(line), MIST_EINVAL);
	assert_non_null(strstr(error, "more than 16 virtio-mmio devices"));
	assert_int_equal(cl.virtio_count, PVH_VIRTIO_MMIO_MAX);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(boot_arguments_follow_the_program_name),
	        cmocka_unit_test(an_empty_or_blank_line_gives_no_arguments),
	        cmocka_unit_test(microvm_words_are_taken_out),
	        cmocka_unit_test(sizes_take_binary_suffixes_and_decimal_bases),
	        cmocka_unit_test(other_words_are_left_for_the_common_parser),
	        cmocka_unit_test(malformed_device_words_are_rejected),
	        cmocka_unit_test(too_many_words_are_rejected),
	        cmocka_unit_test(too_many_devices_are_rejected),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
