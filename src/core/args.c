/*
 * The boot argument parser shared by every target. Words have the form
 * --name=value (or --name for flags), as on a kernel command line; the common
 * flags of DESIGN.md are looked up first, then the platform's own, then the
 * application's. Each rejection says which word was wrong and what form it
 * should take; boot prints that with the usage and exits with status 2.
 */
#include "base/fmt.h"
#include "base/str.h"
#include "core/args_internal.h"
#include "core/log_internal.h"
#include "core/platform.h"
#include "mist/mist.h"

enum common_flag {
	ARG_IPV4,
	ARG_GATEWAY,
	ARG_MAC,
	ARG_MTU,
	ARG_TAP,
	ARG_PCAP,
	ARG_PORT,
	ARG_LOG,
	ARG_FAULT,
	ARG_HELP,
};

struct common_option {
	const char *name;
	enum common_flag flag;
	const char *help;
};

static const struct common_option common_options[] = {
        {"ipv4", ARG_IPV4,
         "--ipv4=ADDR/PREFIX     IPv4 address and prefix length, e.g. 10.0.0.2/24"},
        {"ipv4-gateway", ARG_GATEWAY, "--ipv4-gateway=ADDR    default IPv4 gateway"},
        {"mac", ARG_MAC, "--mac=XX:XX:XX:XX:XX:XX unicast MAC address of the interface"},
        {"mtu", ARG_MTU, "--mtu=N                IP MTU of the interface, 68..65535"},
        {"tap", ARG_TAP, "--tap=NAME             TAP interface to attach to (1..15 characters)"},
        {"pcap", ARG_PCAP, "--pcap=FILE            write every frame to FILE in pcap format"},
        {"port", ARG_PORT, "--port=N               port to serve on, 1..65535"},
        {"log", ARG_LOG, "--log=LEVEL[,TAG=LEVEL...]  log levels: error, warn, info, debug"},
        {"fault", ARG_FAULT,
         "--fault=ITEM[,ITEM...]  lose, duplicate, reorder, corrupt frames: "
         "[rx:|tx:]loss|dup|reorder|corrupt=P%|Nppm, seed=N"},
        {"help", ARG_HELP, "--help                 print this and exit"},
};

#define TAP_NAME_MAX 15 /* IFNAMSIZ less the terminating NUL */

struct word {
	const char *name;
	size_t name_len;
	const char *value; /* NULL when the word has no '=' */
	size_t value_len;
};

static bool word_is(const struct word *w, const char *name)
{
	return mist_strlen(name) == w->name_len && mist_strncmp(w->name, name, w->name_len) == 0;
}

/* Reports `w` as wrong: "--name=value: reason". Returns MIST_ARGS_ERROR. */
static enum mist_args_result reject(const struct word *w, const char *reason, char *error,
                                    size_t error_len)
{
	if (w->value != NULL)
		mist_snprintf(error, error_len, "--%.*s=%.*s: %s", (int)w->name_len, w->name,
		              (int)w->value_len, w->value, reason);
	else
		mist_snprintf(error, error_len, "--%.*s: %s", (int)w->name_len, w->name, reason);
	return MIST_ARGS_ERROR;
}

static int parse_ipv4_prefix(const char *s, size_t len, uint8_t addr[4], uint8_t *prefix)
{
	const char *slash = NULL;
	for (size_t i = 0; i < len; i++)
		if (s[i] == '/')
			slash = s + i;
	if (slash == NULL)
		return MIST_EINVAL;
	uint64_t p;
	size_t addr_len = (size_t)(slash - s);
	if (mist_parse_ipv4(s, addr_len, addr) != 0 ||
	    mist_parse_u64(slash + 1, len - addr_len - 1, 32, &p) != 0)
		return MIST_EINVAL;
	*prefix = (uint8_t)p;
	return 0;
}

/* Parses one common flag. */
static enum mist_args_result parse_common(const struct word *w, enum common_flag flag,
                                          struct mist_args *args, char *error, size_t error_len)
{
	uint64_t n;

	if (flag == ARG_HELP)
		return w->value == NULL ? MIST_ARGS_HELP
		                        : reject(w, "takes no value", error, error_len);
	if (w->value == NULL || w->value_len == 0)
		return reject(w, "needs a value", error, error_len);

	switch (flag) {
	case ARG_IPV4:
		if (parse_ipv4_prefix(w->value, w->value_len, args->ipv4, &args->ipv4_prefix) != 0)
			return reject(w, "expected ADDR/PREFIX, e.g. 10.0.0.2/24", error,
			              error_len);
		args->has_ipv4 = true;
		break;
	case ARG_GATEWAY:
		if (mist_parse_ipv4(w->value, w->value_len, args->gateway) != 0)
			return reject(w, "expected an IPv4 address, e.g. 10.0.0.1", error,
			              error_len);
		args->has_gateway = true;
		break;
	case ARG_MAC:
		if (mist_parse_mac(w->value, w->value_len, args->mac) != 0)
			return reject(w, "expected XX:XX:XX:XX:XX:XX", error, error_len);
		/* IEEE 802 §8.2: the low bit of the first octet marks a group address. */
		if (args->mac[0] & 1)
			return reject(w, "is a multicast address; expected a unicast one", error,
			              error_len);
		args->has_mac = true;
		break;
	case ARG_MTU:
		if (mist_parse_u64(w->value, w->value_len, 65535, &n) != 0 || n < 68)
			return reject(w, "expected a number in 68..65535", error, error_len);
		args->mtu = (uint32_t)n;
		break;
	case ARG_TAP:
		if (w->value_len > TAP_NAME_MAX)
			return reject(w, "expected an interface name of 1..15 characters", error,
			              error_len);
		args->tap = w->value;
		break;
	case ARG_PCAP:
		args->pcap = w->value;
		break;
	case ARG_PORT:
		if (mist_parse_u64(w->value, w->value_len, 65535, &n) != 0 || n == 0)
			return reject(w, "expected a number in 1..65535", error, error_len);
		args->port = (uint16_t)n;
		args->has_port = true;
		break;
	case ARG_LOG:
		args->log = w->value;
		break;
	case ARG_FAULT:
		/* Parsed where it is applied (src/net/boot.c), which knows the fault device. */
		args->fault = w->value;
		break;
	case ARG_HELP:
		break;
	}
	return MIST_ARGS_OK;
}

/* Parses one platform or application flag. */
static enum mist_args_result parse_option(const struct word *w, const struct mist_option *o,
                                          char *error, size_t error_len)
{
	uint64_t n;
	char reason[96];

	if (o->kind == MIST_OPT_FLAG) {
		if (w->value != NULL)
			return reject(w, "takes no value", error, error_len);
		*(bool *)o->value = true;
		return MIST_ARGS_OK;
	}
	if (w->value == NULL || w->value_len == 0)
		return reject(w, "needs a value", error, error_len);

	switch (o->kind) {
	case MIST_OPT_U64:
	case MIST_OPT_SIZE: {
		int err = o->kind == MIST_OPT_U64
		                  ? mist_parse_u64(w->value, w->value_len, UINT64_MAX, &n)
		                  : mist_parse_size(w->value, w->value_len, &n);
		if (err != 0 || n < o->min || (o->max != 0 && n > o->max)) {
			if (o->max != 0)
				mist_snprintf(
				        reason, sizeof(reason), "expected a number in %llu..%llu%s",
				        (unsigned long long)o->min, (unsigned long long)o->max,
				        o->kind == MIST_OPT_SIZE ? " (suffix k, M or G allowed)"
				                                 : "");
			else
				mist_snprintf(reason, sizeof(reason),
				              "expected a number of at least %llu%s",
				              (unsigned long long)o->min,
				              o->kind == MIST_OPT_SIZE
				                      ? " (suffix k, M or G allowed)"
				                      : "");
			return reject(w, reason, error, error_len);
		}
		*(uint64_t *)o->value = n;
		break;
	}
	case MIST_OPT_STRING:
		*(const char **)o->value = w->value;
		break;
	case MIST_OPT_IPV4:
		if (mist_parse_ipv4(w->value, w->value_len, o->value) != 0)
			return reject(w, "expected an IPv4 address, e.g. 10.0.0.1", error,
			              error_len);
		break;
	case MIST_OPT_FLAG:
		break;
	}
	return MIST_ARGS_OK;
}

static const struct mist_option *find_option(const struct mist_option *table, const struct word *w)
{
	for (; table != NULL && table->name != NULL; table++)
		if (word_is(w, table->name))
			return table;
	return NULL;
}

enum mist_args_result mist_args_parse(int argc, char *const *argv, struct mist_args *args,
                                      const struct mist_option *platform_options,
                                      const struct mist_option *app_options, char *error,
                                      size_t error_len)
{
	mist_memset(args, 0, sizeof(*args));
	for (int i = 0; i < argc; i++) {
		const char *s = argv[i];
		size_t len = mist_strlen(s);
		if (len < 3 || s[0] != '-' || s[1] != '-') {
			mist_snprintf(error, error_len, "%s: expected --name=value", s);
			return MIST_ARGS_ERROR;
		}
		struct word w = {.name = s + 2};
		const char *eq = mist_strchr(w.name, '=');
		if (eq != NULL) {
			w.name_len = (size_t)(eq - w.name);
			w.value = eq + 1;
			w.value_len = len - 3 - w.name_len;
		} else {
			w.name_len = len - 2;
		}

		enum mist_args_result r = MIST_ARGS_OK;
		const struct mist_option *o;
		bool found = false;
		for (size_t c = 0; c < sizeof(common_options) / sizeof(common_options[0]); c++) {
			if (word_is(&w, common_options[c].name)) {
				r = parse_common(&w, common_options[c].flag, args, error,
				                 error_len);
				found = true;
				break;
			}
		}
		if (!found && ((o = find_option(platform_options, &w)) != NULL ||
		               (o = find_option(app_options, &w)) != NULL)) {
			r = parse_option(&w, o, error, error_len);
			found = true;
		}
		if (!found) {
			mist_snprintf(error, error_len, "--%.*s: unknown flag", (int)w.name_len,
			              w.name);
			return MIST_ARGS_ERROR;
		}
		if (r != MIST_ARGS_OK)
			return r;
	}
	if (args->log != NULL && mist_log_configure(args->log, mist_strlen(args->log)) != 0) {
		mist_snprintf(error, error_len,
		              "--log=%s: expected LEVEL[,TAG=LEVEL...] with levels error, warn, "
		              "info, debug",
		              args->log);
		return MIST_ARGS_ERROR;
	}
	return MIST_ARGS_OK;
}

static void usage_line(const char *text)
{
	mist_plat_console_write("  ", 2);
	mist_plat_console_write(text, mist_strlen(text));
	mist_plat_console_write("\n", 1);
}

void mist_args_usage(const char *program, const struct mist_option *platform_options,
                     const struct mist_option *app_options)
{
	char line[160];
	size_t n = (size_t)mist_snprintf(line, sizeof(line), "usage: %s [--name=value ...]\n",
	                                 program);
	mist_plat_console_write(line, n < sizeof(line) ? n : sizeof(line) - 1);
	for (size_t c = 0; c < sizeof(common_options) / sizeof(common_options[0]); c++)
		usage_line(common_options[c].help);
	for (const struct mist_option *o = platform_options; o != NULL && o->name != NULL; o++)
		usage_line(o->help);
	for (const struct mist_option *o = app_options; o != NULL && o->name != NULL; o++)
		usage_line(o->help);
}
