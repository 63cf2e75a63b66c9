/*
 * Logging: levels, per-subsystem tags, printf-style formatting.
 *
 * A line reads "[   1.234567] tag: message" with the monotonic time in
 * seconds. The level of each tag is set by --log=LEVEL[,TAG=LEVEL...]; the
 * default is info. Debug logging is compiled out unless the build defines
 * MIST_DEBUG_LOG, so it costs nothing in a release image.
 *
 * Besides the C conversions (d i u x X o c s p %, with flags, width,
 * precision and the hh h l ll z j t lengths), the format understands two of
 * the Linux kernel's pointer extensions, which keep the compiler's format
 * checking: %pI4 prints 4 bytes at the pointer as a dotted IPv4 address and
 * %pM prints 6 bytes as a colon-separated MAC address.
 */
#ifndef MIST_LOG_H
#define MIST_LOG_H

enum mist_log_level {
	MIST_LOG_ERROR = 0,
	MIST_LOG_WARN = 1,
	MIST_LOG_INFO = 2,
	MIST_LOG_DEBUG = 3,
};

/* The tag of a file's log lines; a file may define its own before including. */
#ifndef MIST_LOG_TAG
#define MIST_LOG_TAG "app"
#endif

/* Logs one line at `level` under `tag` if that tag's level admits it. */
void mist_log_at(enum mist_log_level level, const char *tag, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

/* True if a line at `level` under `tag` would be printed. */
int mist_log_enabled(enum mist_log_level level, const char *tag);

#define mist_log(...)   mist_log_at(MIST_LOG_INFO, MIST_LOG_TAG, __VA_ARGS__)
#define mist_warn(...)  mist_log_at(MIST_LOG_WARN, MIST_LOG_TAG, __VA_ARGS__)
#define mist_error(...) mist_log_at(MIST_LOG_ERROR, MIST_LOG_TAG, __VA_ARGS__)
#ifdef MIST_DEBUG_LOG
#define mist_debug(...) mist_log_at(MIST_LOG_DEBUG, MIST_LOG_TAG, __VA_ARGS__)
#else
#define mist_debug(...)                                                         \
	do {                                                                    \
		if (0)                                                          \
			mist_log_at(MIST_LOG_DEBUG, MIST_LOG_TAG, __VA_ARGS__); \
	} while (0)
#endif

#endif
