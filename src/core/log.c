/*
 * Logging to the platform console: one line per call, prefixed with the time
 * since start and the tag. Each tag's level comes from --log; a small fixed
 * table holds the per-tag overrides, searched linearly (fine for the handful
 * of subsystems a program has). A line longer than the buffer is cut and
 * marked with "...".
 */
#include <stdarg.h>

#include "base/fmt.h"
#include "base/str.h"
#include "core/log_internal.h"
#include "core/platform.h"
#include "mist/mist.h"

#define LOG_LINE_MAX 512
#define LOG_TAGS_MAX 16
#define LOG_TAG_LEN  16

struct log_tag_level {
	char tag[LOG_TAG_LEN];
	enum mist_log_level level;
};

static enum mist_log_level log_default = MIST_LOG_INFO;
static struct log_tag_level log_tags[LOG_TAGS_MAX];
static unsigned log_ntags;
static uint64_t log_origin;

static const char *const log_level_names[] = {
        [MIST_LOG_ERROR] = "error",
        [MIST_LOG_WARN] = "warn",
        [MIST_LOG_INFO] = "info",
        [MIST_LOG_DEBUG] = "debug",
};

void mist_log_start(void)
{
	log_origin = mist_plat_monotonic();
}

void mist_log_reset(void)
{
	log_default = MIST_LOG_INFO;
	log_ntags = 0;
}

static int log_parse_level(const char *s, size_t len, enum mist_log_level *out)
{
	for (unsigned i = 0; i < sizeof(log_level_names) / sizeof(log_level_names[0]); i++) {
		if (mist_strlen(log_level_names[i]) == len &&
		    mist_strncmp(s, log_level_names[i], len) == 0) {
			*out = (enum mist_log_level)i;
			return 0;
		}
	}
	return MIST_EINVAL;
}

int mist_log_configure(const char *spec, size_t len)
{
	enum mist_log_level def = log_default;
	struct log_tag_level tags[LOG_TAGS_MAX];
	unsigned ntags = 0;
	size_t pos = 0;
	bool first = true;

	while (pos <= len) {
		size_t end = pos;
		while (end < len && spec[end] != ',')
			end++;
		const char *item = spec + pos;
		size_t item_len = end - pos;
		const char *eq = NULL;
		for (size_t i = 0; i < item_len; i++)
			if (item[i] == '=')
				eq = item + i;
		if (eq == NULL) {
			/* A bare level sets the default, and only as the first item. */
			if (!first || log_parse_level(item, item_len, &def) != 0)
				return MIST_EINVAL;
		} else {
			size_t tag_len = (size_t)(eq - item);
			if (tag_len == 0 || tag_len >= LOG_TAG_LEN || ntags == LOG_TAGS_MAX)
				return MIST_EINVAL;
			if (log_parse_level(eq + 1, item_len - tag_len - 1, &tags[ntags].level) !=
			    0)
				return MIST_EINVAL;
			mist_memcpy(tags[ntags].tag, item, tag_len);
			tags[ntags].tag[tag_len] = '\0';
			ntags++;
		}
		first = false;
		pos = end + 1;
	}
	log_default = def;
	mist_memcpy(log_tags, tags, sizeof(tags[0]) * ntags);
	log_ntags = ntags;
	return 0;
}

int mist_log_enabled(enum mist_log_level level, const char *tag)
{
	for (unsigned i = 0; i < log_ntags; i++)
		if (mist_strcmp(log_tags[i].tag, tag) == 0)
			return level <= log_tags[i].level;
	return level <= log_default;
}

void mist_log_at(enum mist_log_level level, const char *tag, const char *fmt, ...)
{
	char line[LOG_LINE_MAX];
	va_list ap;

	if (!mist_log_enabled(level, tag))
		return;
	/* One byte is kept for the newline; the formatters NUL-terminate within the rest. */
	size_t cap = sizeof(line) - 1;
	uint64_t t = mist_plat_monotonic() - log_origin;
	size_t n = (size_t)mist_snprintf(line, cap, "[%5llu.%06llu] %s: %s",
	                                 (unsigned long long)(t / MIST_SEC),
	                                 (unsigned long long)(t % MIST_SEC / MIST_USEC), tag,
	                                 level == MIST_LOG_ERROR  ? "error: "
	                                 : level == MIST_LOG_WARN ? "warning: "
	                                                          : "");
	if (n < cap) {
		va_start(ap, fmt);
		n += (size_t)mist_vsnprintf(line + n, cap - n, fmt, ap);
		va_end(ap);
	}
	if (n >= cap) {
		n = cap - 1;
		mist_memcpy(line + n - 3, "...", 3);
	}
	line[n] = '\n';
	mist_plat_console_write(line, n + 1);
}
