/*
 * bulk: the options and the choice of mode (see bulk.h for what each does).
 *
 *   build/posix-tap/bulk --tap=NAME --ipv4=ADDR/PREFIX [--port=N]
 *           [--mode=sink|source] [--peer=ADDR:PORT] [--bytes=N[k|M|G]] [--no-hash]
 */
#include "bulk.h"

#define BULK_DEFAULT_BYTES (10ull << 20)
#define BULK_EXIT_USAGE    2 /* bad arguments, as for the common flags */
#define PEER_DIGITS_MAX    5 /* of an octet or a port: 65535 has five */

struct bulk_options bulk_options = {
        .mode = "sink",
        .bytes = BULK_DEFAULT_BYTES,
};

const struct mist_option mist_app_options[] = {
        {.name = "mode",
         .kind = MIST_OPT_STRING,
         .value = &bulk_options.mode,
         .help = "--mode=sink|source     receive and count (default), or send --bytes"},
        {.name = "peer",
         .kind = MIST_OPT_STRING,
         .value = &bulk_options.peer,
         .help = "--peer=ADDR:PORT       source: connect there instead of listening"},
        {.name = "bytes",
         .kind = MIST_OPT_SIZE,
         .value = &bulk_options.bytes,
         .help = "--bytes=N[k|M|G]       source: bytes to send per connection (default 10M)"},
        {.name = "no-hash",
         .kind = MIST_OPT_FLAG,
         .value = &bulk_options.no_hash,
         .help = "--no-hash              skip the SHA-256 (benchmarks)"},
        {.name = NULL},
};

static bool str_equal(const char *a, const char *b)
{
	while (*a != '\0' && *a == *b) {
		a++;
		b++;
	}
	return *a == *b;
}

/*
 * Parses a decimal number of 1..PEER_DIGITS_MAX digits at *s, up to `max`,
 * and advances *s past it. Returns false when there is none or it is larger.
 */
static bool parse_decimal(const char **s, uint32_t max, uint32_t *out)
{
	const char *p = *s;
	uint32_t n = 0;
	while (*p >= '0' && *p <= '9' && p - *s < PEER_DIGITS_MAX)
		n = n * 10 + (uint32_t)(*p++ - '0');
	if (p == *s || (*p >= '0' && *p <= '9') || n > max)
		return false;
	*s = p;
	*out = n;
	return true;
}

/* Parses "A.B.C.D:PORT" into *to. Returns false when `s` has another form. */
static bool parse_peer(const char *s, struct mist_addr *to)
{
	uint32_t n;
	for (int i = 0; i < 4; i++) {
		if (!parse_decimal(&s, 255, &n) || *s++ != (i < 3 ? '.' : ':'))
			return false;
		to->ip.b[i] = (uint8_t)n;
	}
	if (!parse_decimal(&s, UINT16_MAX, &n) || n == 0 || *s != '\0')
		return false;
	to->port = (uint16_t)n;
	return true;
}

/* Logs what is wrong with the options and ends the program as the common parser does. */
#define BULK_USAGE_ERROR(...)                                     \
	do {                                                      \
		mist_log_at(MIST_LOG_ERROR, "args", __VA_ARGS__); \
		mist_exit(BULK_EXIT_USAGE);                       \
	} while (0)

int mist_main(struct mist_env *env)
{
	uint16_t port = env->args->has_port ? env->args->port : BULK_PORT;
	bool source = str_equal(bulk_options.mode, "source");

	if (!source && !str_equal(bulk_options.mode, "sink"))
		BULK_USAGE_ERROR("--mode=%s: expected sink or source", bulk_options.mode);
	if (bulk_options.peer != NULL && !source)
		BULK_USAGE_ERROR("--peer=%s: only with --mode=source (a sink listens)",
		                 bulk_options.peer);
	if (bulk_options.peer != NULL && !parse_peer(bulk_options.peer, &bulk_options.to))
		BULK_USAGE_ERROR("--peer=%s: expected ADDR:PORT, e.g. 10.77.0.1:8083",
		                 bulk_options.peer);
	if (env->net == NULL) {
		mist_error("bulk needs a network: --tap=NAME --ipv4=ADDR/PREFIX");
		return MIST_EINVAL;
	}
	return source ? bulk_source_main(env, port) : bulk_sink_main(env, port);
}
