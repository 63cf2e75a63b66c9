/*
 * The boot argument parser: the common flags, platform and application
 * flags, and the rejection of every malformed word with a message naming it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/args_internal.h"
#include "core/log_internal.h"
#include "mist/mist.h"

static char error[256];

static enum mist_args_result parse(struct mist_args *args, const struct mist_option *app, int argc,
                                   char **argv)
{
	error[0] = '\0';
	return mist_args_parse(argc, argv, args, NULL, app, error, sizeof(error));
}

static void args_parse_common_flags(void **state)
{
	struct mist_args a;
	char *argv[] = {"--ipv4=10.0.0.2/24",
	                "--ipv4-gateway=10.0.0.1",
	                "--mac=02:00:0A:00:00:02",
	                "--mtu=1500",
	                "--tap=mist0",
	                "--pcap=out.pcap",
	                "--port=8081"};
	assert_int_equal(parse(&a, NULL, 7, argv), MIST_ARGS_OK);
	assert_true(a.has_ipv4);
	assert_memory_equal(a.ipv4, ((uint8_t[]){10, 0, 0, 2}), 4);
	assert_int_equal(a.ipv4_prefix, 24);
	assert_true(a.has_gateway);
	assert_memory_equal(a.gateway, ((uint8_t[]){10, 0, 0, 1}), 4);
	assert_true(a.has_mac);
	assert_memory_equal(a.mac, ((uint8_t[]){2, 0, 10, 0, 0, 2}), 6);
	assert_int_equal(a.mtu, 1500);
	assert_string_equal(a.tap, "mist0");
	assert_string_equal(a.pcap, "out.pcap");
	assert_true(a.has_port);
	assert_int_equal(a.port, 8081);
}

static void args_absent_flags_leave_defaults(void **state)
{
	struct mist_args a;
	assert_int_equal(parse(&a, NULL, 0, NULL), MIST_ARGS_OK);
	assert_false(a.has_ipv4);
	assert_false(a.has_port);
	assert_int_equal(a.mtu, 0);
	assert_null(a.tap);
}

/* Each bad word is rejected, and the message names the word and the accepted form. */
static void args_reject_malformed_values(void **state)
{
	static const struct {
		char *word;
		const char *message;
	} cases[] = {
	        {"--ipv4=10.0.0.2", "--ipv4=10.0.0.2: expected ADDR/PREFIX"},
	        {"--ipv4=10.0.0.2/33", "--ipv4=10.0.0.2/33: expected ADDR/PREFIX"},
	        {"--ipv4=10.0.0/24", "--ipv4=10.0.0/24: expected ADDR/PREFIX"},
	        {"--ipv4=256.0.0.1/8", "--ipv4=256.0.0.1/8: expected ADDR/PREFIX"},
	        {"--ipv4-gateway=1.2.3", "--ipv4-gateway=1.2.3: expected an IPv4 address"},
	        {"--mac=02:00:00:00:00", "--mac=02:00:00:00:00: expected XX:XX:XX:XX:XX:XX"},
	        {"--mac=01:00:5e:00:00:01", "is a multicast address"},
	        {"--mtu=67", "--mtu=67: expected a number in 68..65535"},
	        {"--mtu=65536", "--mtu=65536: expected a number in 68..65535"},
	        {"--mtu=15x", "--mtu=15x: expected a number"},
	        {"--port=0", "--port=0: expected a number in 1..65535"},
	        {"--port=", "--port=: needs a value"},
	        {"--port", "--port: needs a value"},
	        {"--tap=abcdefghijklmnop", "expected an interface name of 1..15 characters"},
	        {"--log=loud", "--log=loud: expected LEVEL[,TAG=LEVEL...]"},
	        {"--log=info,tcp", "--log=info,tcp: expected LEVEL"},
	        {"--help=yes", "--help=yes: takes no value"},
	        {"--frobnicate=1", "--frobnicate: unknown flag"},
	        {"port=80", "port=80: expected --name=value"},
	        {"-p", "-p: expected --name=value"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct mist_args a;
		char *argv[] = {cases[i].word};
		assert_int_equal(parse(&a, NULL, 1, argv), MIST_ARGS_ERROR);
		if (strstr(error, cases[i].message) == NULL)
			fail_msg("%s: got \"%s\", want \"%s\"", cases[i].word, error,
			         cases[i].message);
	}
}

static void args_help_is_reported(void **state)
{
	struct mist_args a;
	char *argv[] = {"--port=1", "--help"};
	assert_int_equal(parse(&a, NULL, 2, argv), MIST_ARGS_HELP);
}

static void args_application_options(void **state)
{
	uint64_t bytes = 7, count = 1;
	const char *mode = "sink";
	uint8_t peer[4] = {0};
	bool verbose = false;
	const struct mist_option app[] = {
	        {.name = "bytes", .kind = MIST_OPT_SIZE, .value = &bytes, .help = "--bytes=N"},
	        {.name = "count",
	         .kind = MIST_OPT_U64,
	         .value = &count,
	         .help = "--count=N",
	         .min = 1,
	         .max = 100},
	        {.name = "mode", .kind = MIST_OPT_STRING, .value = &mode, .help = "--mode=M"},
	        {.name = "peer", .kind = MIST_OPT_IPV4, .value = peer, .help = "--peer=ADDR"},
	        {.name = "verbose", .kind = MIST_OPT_FLAG, .value = &verbose, .help = "--verbose"},
	        {.name = NULL},
	};
	struct mist_args a;
	char *good[] = {"--bytes=64M", "--count=0x10", "--mode=source", "--peer=192.168.1.9",
	                "--verbose"};
	assert_int_equal(parse(&a, app, 5, good), MIST_ARGS_OK);
	assert_int_equal(bytes, 64ull << 20);
	assert_int_equal(count, 16);
	assert_string_equal(mode, "source");
	assert_memory_equal(peer, ((uint8_t[]){192, 168, 1, 9}), 4);
	assert_true(verbose);

	char *over[] = {"--count=101"};
	assert_int_equal(parse(&a, app, 1, over), MIST_ARGS_ERROR);
	assert_non_null(strstr(error, "--count=101: expected a number in 1..100"));
	char *under[] = {"--count=0"};
	assert_int_equal(parse(&a, app, 1, under), MIST_ARGS_ERROR);
	char *bad_size[] = {"--bytes=12T"};
	assert_int_equal(parse(&a, app, 1, bad_size), MIST_ARGS_ERROR);
	assert_non_null(strstr(error, "--bytes=12T: expected a number"));
	char *huge[] = {"--bytes=99999999999999999999"};
	assert_int_equal(parse(&a, app, 1, huge), MIST_ARGS_ERROR);
	char *flag_value[] = {"--verbose=1"};
	assert_int_equal(parse(&a, app, 1, flag_value), MIST_ARGS_ERROR);
}

static void args_log_levels_apply(void **state)
{
	struct mist_args a;
	char *argv[] = {"--log=warn,tcp=debug,arp=error"};
	assert_int_equal(parse(&a, NULL, 1, argv), MIST_ARGS_OK);
	assert_false(mist_log_enabled(MIST_LOG_INFO, "app"));
	assert_true(mist_log_enabled(MIST_LOG_WARN, "app"));
	assert_true(mist_log_enabled(MIST_LOG_DEBUG, "tcp"));
	assert_false(mist_log_enabled(MIST_LOG_WARN, "arp"));
	assert_true(mist_log_enabled(MIST_LOG_ERROR, "arp"));
	mist_log_reset();
	assert_true(mist_log_enabled(MIST_LOG_INFO, "tcp"));
	assert_false(mist_log_enabled(MIST_LOG_DEBUG, "tcp"));
}

/* A malformed --log changes nothing. */
static void args_bad_log_keeps_levels(void **state)
{
	assert_int_equal(mist_log_configure("debug", 5), 0);
	assert_int_equal(mist_log_configure("error,ip=verbose", 16), MIST_EINVAL);
	assert_true(mist_log_enabled(MIST_LOG_DEBUG, "ip"));
	assert_int_equal(mist_log_configure("info,tcp=warn", 13), 0);
	assert_int_equal(mist_log_configure("tcp=debug,info", 14), MIST_EINVAL);
	assert_false(mist_log_enabled(MIST_LOG_INFO, "tcp"));
	mist_log_reset();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(args_parse_common_flags),
	        cmocka_unit_test(args_absent_flags_leave_defaults),
	        cmocka_unit_test(args_reject_malformed_values),
	        cmocka_unit_test(args_help_is_reported),
	        cmocka_unit_test(args_application_options),
	        cmocka_unit_test(args_log_levels_apply),
	        cmocka_unit_test(args_bad_log_keeps_levels),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
