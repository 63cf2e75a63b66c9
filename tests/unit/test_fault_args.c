/*
 * The --fault boot option (src/dev/fault_option.h): the common parser keeps
 * its text, the option parser turns it into per-direction rates in parts
 * per million (worked by hand: 1% = 10000 ppm, 0.0001% = 1 ppm) and seeds,
 * rejects every malformed item with a message naming it, and the report
 * prints each counter of the fault device as a "stats: fault.*" line that
 * scripts read.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "loopdev.h"

#include "core/args_internal.h"
#include "dev/fault.h"
#include "dev/fault_option.h"
#include "mist/mist.h"

/* What the caller sets before parsing: no faults and seeds of its choice. */
#define PRESET_RX_SEED 99
#define PRESET_TX_SEED 100

static char error[256];

static int parse(const char *text, struct mist_fault_params *rx, struct mist_fault_params *tx)
{
	*rx = (struct mist_fault_params){.seed = PRESET_RX_SEED};
	*tx = (struct mist_fault_params){.seed = PRESET_TX_SEED};
	error[0] = '\0';
	return mist_fault_option_parse(text, strlen(text), rx, tx, error, sizeof(error));
}

static void assert_params(const struct mist_fault_params *p, uint32_t drop, uint32_t dup,
                          uint32_t reorder, uint32_t corrupt, uint64_t seed)
{
	assert_int_equal(p->drop_ppm, drop);
	assert_int_equal(p->dup_ppm, dup);
	assert_int_equal(p->reorder_ppm, reorder);
	assert_int_equal(p->corrupt_ppm, corrupt);
	assert_int_equal(p->seed, seed);
}

static void fault_args_keeps_the_text(void **state)
{
	struct mist_args a;
	char *argv[] = {"--fault=loss=1%,seed=7", "--port=8081"};
	assert_int_equal(mist_args_parse(2, argv, &a, NULL, NULL, error, sizeof(error)),
	                 MIST_ARGS_OK);
	assert_string_equal(a.fault, "loss=1%,seed=7");

	assert_int_equal(mist_args_parse(0, NULL, &a, NULL, NULL, error, sizeof(error)),
	                 MIST_ARGS_OK);
	assert_null(a.fault);

	char *empty[] = {"--fault="};
	assert_int_equal(mist_args_parse(1, empty, &a, NULL, NULL, error, sizeof(error)),
	                 MIST_ARGS_ERROR);
	assert_string_equal(error, "--fault=: needs a value");
	char *bare[] = {"--fault"};
	assert_int_equal(mist_args_parse(1, bare, &a, NULL, NULL, error, sizeof(error)),
	                 MIST_ARGS_ERROR);
	assert_string_equal(error, "--fault: needs a value");
}

/* Unprefixed items apply both ways; seed=N gives rx N and tx N + 1. */
static void fault_option_example_applies_to_both_directions(void **state)
{
	struct mist_fault_params rx, tx;
	assert_int_equal(parse("loss=1%,reorder=2%,dup=0.5%,corrupt=0.1%,seed=7", &rx, &tx), 0);
	assert_params(&rx, 10000, 5000, 20000, 1000, 7);
	assert_params(&tx, 10000, 5000, 20000, 1000, 8);
}

static void fault_option_rates_in_percent_and_ppm(void **state)
{
	static const struct {
		const char *text;
		uint32_t ppm;
	} cases[] = {
	        {"loss=0%", 0},
	        {"loss=0.0001%", 1},
	        {"loss=0.05%", 500},
	        {"loss=12.34%", 123400},
	        {"loss=99.9999%", 999999},
	        {"loss=100%", 1000000},
	        {"loss=100.0000%", 1000000},
	        {"loss=007%", 70000},
	        {"loss=0ppm", 0},
	        {"loss=250ppm", 250},
	        {"loss=1000000ppm", 1000000},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct mist_fault_params rx, tx;
		if (parse(cases[i].text, &rx, &tx) != 0)
			fail_msg("%s: rejected: %s", cases[i].text, error);
		if (rx.drop_ppm != cases[i].ppm || tx.drop_ppm != cases[i].ppm)
			fail_msg("%s: got %u/%u ppm, want %u", cases[i].text, rx.drop_ppm,
			         tx.drop_ppm, cases[i].ppm);
	}
}

/* rx: and tx: set one direction; what no item names keeps the caller's value. */
static void fault_option_prefixes_pick_a_direction(void **state)
{
	struct mist_fault_params rx, tx;
	assert_int_equal(parse("rx:loss=1%,tx:dup=2%,tx:seed=0x10,rx:corrupt=3ppm", &rx, &tx), 0);
	assert_params(&rx, 10000, 0, 0, 3, PRESET_RX_SEED);
	assert_params(&tx, 0, 20000, 0, 0, 16);

	assert_int_equal(parse("rx:seed=5", &rx, &tx), 0);
	assert_params(&rx, 0, 0, 0, 0, 5);
	assert_params(&tx, 0, 0, 0, 0, PRESET_TX_SEED);
}

static void fault_option_later_items_override(void **state)
{
	struct mist_fault_params rx, tx;
	assert_int_equal(
	        parse("loss=1%,rx:loss=3%,reorder=1%,reorder=0%,seed=1,tx:seed=9", &rx, &tx), 0);
	assert_params(&rx, 30000, 0, 0, 0, 1);
	assert_params(&tx, 10000, 0, 0, 0, 9);
}

/* Each bad text is rejected, and the message names the item and what is wrong. */
static void fault_option_rejects_malformed_items(void **state)
{
	static const struct {
		const char *text;
		const char *message;
	} cases[] = {
	        {"loss=2", "'loss=2' is not a rate of at most 100%"},
	        {"loss=101%", "'loss=101%' is not a rate"},
	        {"loss=100.0001%", "'loss=100.0001%' is not a rate"},
	        {"loss=0.00001%", "'loss=0.00001%' is not a rate"},
	        {"loss=1.%", "'loss=1.%' is not a rate"},
	        {"loss=.5%", "'loss=.5%' is not a rate"},
	        {"loss=-1%", "'loss=-1%' is not a rate"},
	        {"loss=0x10%", "'loss=0x10%' is not a rate"},
	        {"loss=1 %", "'loss=1 %' is not a rate"},
	        {"loss=1%%", "'loss=1%%' is not a rate"},
	        {"loss=%", "'loss=%' is not a rate"},
	        {"loss=1000001ppm", "'loss=1000001ppm' is not a rate"},
	        {"loss=ppm", "'loss=ppm' is not a rate"},
	        {"loss=", "'loss=' is not a rate"},
	        {"dup=1.5", "'dup=1.5' is not a rate"},
	        {"seed=abc", "'seed=abc' is not a number"},
	        {"seed=", "'seed=' is not a number"},
	        {"seed=1%", "'seed=1%' is not a number"},
	        {"drop=1%", "'drop=1%' has an unknown name"},
	        {"Loss=1%", "'Loss=1%' has an unknown name"},
	        {"xx:loss=1%", "'xx:loss=1%' has an unknown name"},
	        {"rx:tx:loss=1%", "'rx:tx:loss=1%' has an unknown name"},
	        {"loss", "'loss' is not NAME=VALUE"},
	        {"rx:", "'rx:' is not NAME=VALUE"},
	        {"loss=1%,", "an item is empty"},
	        {",loss=1%", "an item is empty"},
	        {"loss=1%,,dup=1%", "an item is empty"},
	        {"loss=1%,reorder=x", "'reorder=x' is not a rate"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct mist_fault_params rx, tx;
		if (parse(cases[i].text, &rx, &tx) != MIST_EINVAL)
			fail_msg("%s: accepted", cases[i].text);
		if (strstr(error, cases[i].message) == NULL)
			fail_msg("%s: got \"%s\", want \"%s\"", cases[i].text, error,
			         cases[i].message);
	}
}

/* Runs `fn(arg)` with stderr, where the console writes, captured into `out`. */
static void capture_console(void (*fn)(void *arg), void *arg, char *out, size_t out_len)
{
	FILE *tmp = tmpfile();
	assert_non_null(tmp);
	int saved = dup(STDERR_FILENO);
	assert_true(saved >= 0);
	assert_true(dup2(fileno(tmp), STDERR_FILENO) >= 0);
	fn(arg);
	assert_true(dup2(saved, STDERR_FILENO) >= 0);
	close(saved);
	rewind(tmp);
	size_t n = fread(out, 1, out_len - 1, tmp);
	out[n] = '\0';
	fclose(tmp);
}

static void report(void *dev)
{
	mist_fault_option_report(dev);
}

/* Three frames sent through 100% loss: each counter has its own line. */
static void fault_option_report_prints_every_counter(void **state)
{
	static const char *const expected[] = {
	        "stats: fault.rx_frames=0\n",     "stats: fault.rx_dropped=0\n",
	        "stats: fault.rx_duplicated=0\n", "stats: fault.rx_reordered=0\n",
	        "stats: fault.rx_corrupted=0\n",  "stats: fault.rx_no_buffer=0\n",
	        "stats: fault.tx_frames=3\n",     "stats: fault.tx_dropped=3\n",
	        "stats: fault.tx_duplicated=0\n", "stats: fault.tx_reordered=0\n",
	        "stats: fault.tx_corrupted=0\n",  "stats: fault.tx_no_buffer=0\n",
	};
	struct mist_pool *pool = mist_pool_create("frames", 8, 256, 32);
	assert_non_null(pool);
	struct loop_dev loop;
	loop_init(&loop, pool, 1500);
	struct mist_fault_params rx, tx;
	assert_int_equal(parse("tx:loss=100%", &rx, &tx), 0);
	struct mist_netdev *dev;
	assert_int_equal(mist_fault_wrap(&loop.netdev, &rx, &tx, NULL, &dev), 0);
	for (int i = 0; i < 3; i++) {
		struct mist_buf *b = mist_buf_alloc(pool, 60);
		assert_non_null(b);
		assert_int_equal(dev->ops->tx(dev, b), 0);
	}

	char out[2048];
	capture_console(report, dev, out, sizeof(out));
	const char *at = out;
	for (size_t i = 0; i < sizeof(expected) / sizeof(expected[0]); i++) {
		const char *line = strstr(at, expected[i]);
		if (line == NULL)
			fail_msg("no \"%s\" after the previous line in:\n%s", expected[i], out);
		at = line + strlen(expected[i]);
	}

	dev->ops->close(dev);
	assert_int_equal(loop.closes, 1);
	assert_int_equal(mist_pool_destroy(pool), MIST_OK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(fault_args_keeps_the_text),
	        cmocka_unit_test(fault_option_example_applies_to_both_directions),
	        cmocka_unit_test(fault_option_rates_in_percent_and_ppm),
	        cmocka_unit_test(fault_option_prefixes_pick_a_direction),
	        cmocka_unit_test(fault_option_later_items_override),
	        cmocka_unit_test(fault_option_rejects_malformed_items),
	        cmocka_unit_test(fault_option_report_prints_every_counter),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
