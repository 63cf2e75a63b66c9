/*
 * The --fault boot option (fault_option.h): a parser for its text and the
 * report of the fault device's counters. Freestanding; depends on
 * src/base and the log.
 */
#include "dev/fault_option.h"

#include <stdbool.h>
#include <stdint.h>

#include "base/compiler.h"
#include "base/fmt.h"
#include "base/str.h"
#include "mist/mist.h"

#define PPM_PER_PERCENT   10000u
#define PERCENT_MAX       100u
#define PERCENT_DECIMALS  4u /* 0.0001% is 1 ppm, the finest rate there is */
#define PPM_SUFFIX        "ppm"
#define PPM_SUFFIX_LEN    (sizeof(PPM_SUFFIX) - 1)
#define SEED_OTHER_OFFSET 1u /* tx seed = rx seed + 1 for an unprefixed seed=N */

enum fault_field {
	FIELD_LOSS,
	FIELD_DUP,
	FIELD_REORDER,
	FIELD_CORRUPT,
	FIELD_SEED,
};

static const struct {
	const char *name;
	enum fault_field field;
} fault_names[] = {
        {"loss", FIELD_LOSS},       {"dup", FIELD_DUP},   {"reorder", FIELD_REORDER},
        {"corrupt", FIELD_CORRUPT}, {"seed", FIELD_SEED},
};

/* Which directions an item applies to. */
enum fault_dirs {
	DIRS_RX = 1,
	DIRS_TX = 2,
	DIRS_BOTH = DIRS_RX | DIRS_TX,
};

static const struct {
	const char *prefix;
	enum fault_dirs dirs;
} fault_prefixes[] = {{"rx:", DIRS_RX}, {"tx:", DIRS_TX}};

static bool has_prefix(const char *s, size_t len, const char *prefix)
{
	size_t n = mist_strlen(prefix);
	return len >= n && mist_strncmp(s, prefix, n) == 0;
}

/* Parses `len` decimal digits, and nothing else, of at most `max`. */
static int parse_digits(const char *s, size_t len, uint64_t max, uint64_t *out)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			return MIST_EINVAL;
	return mist_parse_u64(s, len, max, out);
}

/*
 * Parses "P%" with at most PERCENT_DECIMALS decimals, or "Nppm", into parts
 * per million. Returns 0, or MIST_EINVAL for another form or more than 100%.
 */
static int parse_rate(const char *s, size_t len, uint32_t *ppm)
{
	uint64_t whole, frac = 0;

	if (len > PPM_SUFFIX_LEN &&
	    mist_strncmp(s + len - PPM_SUFFIX_LEN, PPM_SUFFIX, PPM_SUFFIX_LEN) == 0) {
		if (parse_digits(s, len - PPM_SUFFIX_LEN, MIST_FAULT_PPM_ALWAYS, &whole) != 0)
			return MIST_EINVAL;
		*ppm = (uint32_t)whole;
		return 0;
	}
	if (len < 2 || s[len - 1] != '%')
		return MIST_EINVAL;
	len--;
	size_t whole_len = 0;
	while (whole_len < len && s[whole_len] != '.')
		whole_len++;
	if (parse_digits(s, whole_len, PERCENT_MAX, &whole) != 0)
		return MIST_EINVAL;
	if (whole_len < len) {
		/* Decimals scaled to four places: "0.5" is 5000 ten-thousandths of a percent. */
		size_t ndigits = len - whole_len - 1;
		if (ndigits == 0 || ndigits > PERCENT_DECIMALS ||
		    parse_digits(s + whole_len + 1, ndigits, UINT64_MAX, &frac) != 0)
			return MIST_EINVAL;
		for (size_t i = ndigits; i < PERCENT_DECIMALS; i++)
			frac *= 10;
	}
	uint64_t total = whole * PPM_PER_PERCENT + frac;
	if (total > MIST_FAULT_PPM_ALWAYS)
		return MIST_EINVAL;
	*ppm = (uint32_t)total;
	return 0;
}

static void set_rate(struct mist_fault_params *p, enum fault_field field, uint32_t ppm)
{
	switch (field) {
	case FIELD_LOSS:
		p->drop_ppm = ppm;
		break;
	case FIELD_DUP:
		p->dup_ppm = ppm;
		break;
	case FIELD_REORDER:
		p->reorder_ppm = ppm;
		break;
	case FIELD_CORRUPT:
		p->corrupt_ppm = ppm;
		break;
	case FIELD_SEED:
		break;
	}
}

/* Reports `item` as wrong. Returns MIST_EINVAL. */
static int reject(const char *item, size_t len, const char *reason, char *error, size_t error_len)
{
	mist_snprintf(error, error_len, "'%.*s' %s", (int)len, item, reason);
	return MIST_EINVAL;
}

/* Parses one item of `len` bytes at `item` into *rx and *tx. */
static int parse_item(const char *item, size_t len, struct mist_fault_params *rx,
                      struct mist_fault_params *tx, char *error, size_t error_len)
{
	enum fault_dirs dirs = DIRS_BOTH;
	const char *s = item;
	size_t n = len;

	if (n == 0) {
		mist_snprintf(error, error_len, "an item is empty");
		return MIST_EINVAL;
	}
	for (size_t i = 0; i < MIST_ARRAY_SIZE(fault_prefixes); i++) {
		if (has_prefix(s, n, fault_prefixes[i].prefix)) {
			size_t prefix_len = mist_strlen(fault_prefixes[i].prefix);
			dirs = fault_prefixes[i].dirs;
			s += prefix_len;
			n -= prefix_len;
			break;
		}
	}
	size_t name_len = 0;
	while (name_len < n && s[name_len] != '=')
		name_len++;
	if (name_len == n)
		return reject(item, len, "is not NAME=VALUE", error, error_len);
	const char *value = s + name_len + 1;
	size_t value_len = n - name_len - 1;

	size_t i = 0;
	while (i < MIST_ARRAY_SIZE(fault_names) &&
	       !(mist_strlen(fault_names[i].name) == name_len &&
	         mist_strncmp(fault_names[i].name, s, name_len) == 0))
		i++;
	if (i == MIST_ARRAY_SIZE(fault_names))
		return reject(item, len, "has an unknown name", error, error_len);
	enum fault_field field = fault_names[i].field;

	if (field == FIELD_SEED) {
		uint64_t seed;
		if (mist_parse_u64(value, value_len, UINT64_MAX, &seed) != 0)
			return reject(item, len, "is not a number", error, error_len);
		if (dirs == DIRS_BOTH) {
			rx->seed = seed;
			tx->seed = seed + SEED_OTHER_OFFSET;
		} else {
			(dirs == DIRS_RX ? rx : tx)->seed = seed;
		}
		return 0;
	}
	uint32_t ppm;
	if (parse_rate(value, value_len, &ppm) != 0)
		return reject(item, len, "is not a rate of at most 100%", error, error_len);
	if (dirs & DIRS_RX)
		set_rate(rx, field, ppm);
	if (dirs & DIRS_TX)
		set_rate(tx, field, ppm);
	return 0;
}

int mist_fault_option_parse(const char *text, size_t len, struct mist_fault_params *rx,
                            struct mist_fault_params *tx, char *error, size_t error_len)
{
	size_t start = 0;

	for (size_t i = 0; i <= len; i++) {
		if (i < len && text[i] != ',')
			continue;
		int err = parse_item(text + start, i - start, rx, tx, error, error_len);
		if (err != 0)
			return err;
		start = i + 1;
	}
	return 0;
}

static void report_dir(const char *dir, const struct mist_fault_dir_stats *st)
{
	const struct {
		const char *name;
		uint64_t value;
	} counters[] = {
	        {"frames", st->frames},         {"dropped", st->dropped},
	        {"duplicated", st->duplicated}, {"reordered", st->reordered},
	        {"corrupted", st->corrupted},   {"no_buffer", st->no_buffer},
	};
	for (size_t i = 0; i < MIST_ARRAY_SIZE(counters); i++)
		mist_log_at(MIST_LOG_INFO, "stats", "fault.%s_%s=%llu", dir, counters[i].name,
		            (unsigned long long)counters[i].value);
}

void mist_fault_option_report(const struct mist_netdev *dev)
{
	struct mist_fault_stats st;

	mist_fault_stats(dev, &st);
	report_dir("rx", &st.rx);
	report_dir("tx", &st.tx);
}
