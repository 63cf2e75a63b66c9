/*
 * Unit tests for src/base: the memory functions against the host's libc on
 * random sizes, alignments and overlaps; the string functions; the number,
 * IPv4 and MAC parsers on good and bad text (the IPv4 parser also against
 * inet_pton on random strings); and mist_snprintf against the host's
 * snprintf, byte for byte, on many thousands of generated conversions and
 * on every buffer size for some of them, plus the %pI4 and %pM extensions.
 * The random inputs come from a fixed seed, so a failure replays.
 */
#include <arpa/inet.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/fmt.h"
#include "base/str.h"
#include "mist/mist.h"

/* xorshift64*: a small deterministic generator for test inputs. */
static uint64_t rng_state = 0x9e3779b97f4a7c15u;

static uint64_t rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1du;
}

static size_t rnd_below(size_t n)
{
	return (size_t)(rnd() % n);
}

static void fill_random(void *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		((uint8_t *)p)[i] = (uint8_t)rnd();
}

static int sign(int v)
{
	return (v > 0) - (v < 0);
}

/* Mostly small sizes, where the head and tail loops matter; sometimes several pages. */
static size_t random_size(void)
{
	return rnd_below(4) == 0 ? rnd_below(9000) : rnd_below(80);
}

#define BUF_LEN 9100

static void memcpy_matches_libc(void **state)
{
	static uint8_t src[BUF_LEN], want[BUF_LEN], got[BUF_LEN];

	for (int round = 0; round < 20000; round++) {
		size_t n = random_size();
		size_t so = rnd_below(16), doff = rnd_below(16);

		fill_random(src, sizeof(src));
		fill_random(want, sizeof(want));
		memcpy(got, want, sizeof(got));
		memcpy(want + doff, src + so, n);
		assert_ptr_equal(mist__memcpy(got + doff, src + so, n), got + doff);
		assert_memory_equal(got, want, sizeof(got));
	}
}

/* Exactly sized heap buffers, so that ASan reports any access outside them. */
static void memcpy_stays_within_exact_buffers(void **state)
{
	for (int round = 0; round < 3000; round++) {
		size_t n = random_size();
		uint8_t *src = malloc(n + 1), *dst = malloc(n + 1);

		fill_random(src, n);
		assert_ptr_equal(mist__memcpy(dst, src, n), dst);
		assert_memory_equal(dst, src, n);
		mist__memset(dst, (int)rnd(), n);
		mist__memmove(dst, src, n);
		assert_int_equal(mist__memcmp(dst, src, n), 0);
		free(src);
		free(dst);
	}
}

static void memmove_matches_libc_with_overlap(void **state)
{
	static uint8_t want[BUF_LEN], got[BUF_LEN];

	for (int round = 0; round < 20000; round++) {
		size_t n = random_size();
		size_t src = rnd_below(BUF_LEN - n + 1);
		size_t dst;

		/* Mostly overlapping moves by a small distance, either way. */
		if (rnd_below(4) != 0) {
			size_t delta = rnd_below(n + 17);

			dst = rnd_below(2) ? src + delta : (src >= delta ? src - delta : 0);
			if (dst > BUF_LEN - n)
				dst = BUF_LEN - n;
		} else {
			dst = rnd_below(BUF_LEN - n + 1);
		}
		fill_random(want, sizeof(want));
		memcpy(got, want, sizeof(got));
		memmove(want + dst, want + src, n);
		assert_ptr_equal(mist__memmove(got + dst, got + src, n), got + dst);
		assert_memory_equal(got, want, sizeof(got));
	}
}

static void memset_matches_libc(void **state)
{
	static uint8_t want[BUF_LEN], got[BUF_LEN];

	for (int round = 0; round < 20000; round++) {
		size_t n = random_size();
		size_t off = rnd_below(16);
		/* Any int: only its value converted to unsigned char is stored. */
		int c = (int)(uint32_t)rnd();

		fill_random(want, sizeof(want));
		memcpy(got, want, sizeof(got));
		memset(want + off, c, n);
		assert_ptr_equal(mist__memset(got + off, c, n), got + off);
		assert_memory_equal(got, want, sizeof(got));
	}
}

static void memcmp_sign_matches_libc(void **state)
{
	static uint8_t a[BUF_LEN], b[BUF_LEN];

	for (int round = 0; round < 20000; round++) {
		size_t n = random_size();
		size_t ao = rnd_below(16), bo = rnd_below(16);

		fill_random(a, sizeof(a));
		memcpy(b + bo, a + ao, n);
		/* Usually one byte differs, anywhere, including the high bit. */
		if (n > 0 && rnd_below(4) != 0)
			b[bo + rnd_below(n)] ^= (uint8_t)(1 + rnd_below(255));
		assert_int_equal(sign(mist__memcmp(a + ao, b + bo, n)),
		                 sign(memcmp(a + ao, b + bo, n)));
	}
	assert_int_equal(mist__memcmp(a, b, 0), 0);
	assert_true(mist__memcmp("\x80", "\x7f", 1) > 0);
}

/* A random string of `len` bytes over an alphabet that includes bytes with the high bit set. */
static void random_string(char *s, size_t len)
{
	static const char alphabet[] = "ab\x7f\x80\xff";

	for (size_t i = 0; i < len; i++)
		s[i] = alphabet[rnd_below(sizeof(alphabet) - 1)];
	s[len] = '\0';
}

static void strlen_and_strnlen(void **state)
{
	char s[200];

	for (int round = 0; round < 5000; round++) {
		size_t len = rnd_below(150);
		size_t off = rnd_below(16);
		size_t max = rnd_below(200);

		random_string(s + off, len);
		assert_int_equal(mist_strlen(s + off), len);
		assert_int_equal(mist_strnlen(s + off, max), len < max ? len : max);
	}
	assert_int_equal(mist_strlen(""), 0);
	assert_int_equal(mist_strnlen("abc", 0), 0);
	/* strnlen reads no further than max, so the text needs no NUL within it. */
	char unterminated[3] = {'a', 'b', 'c'};
	assert_int_equal(mist_strnlen(unterminated, 3), 3);
}

static void strcmp_and_strncmp_sign_match_libc(void **state)
{
	char a[40], b[40];

	for (int round = 0; round < 20000; round++) {
		size_t n = rnd_below(40);

		random_string(a, rnd_below(6));
		if (rnd_below(2))
			random_string(b, rnd_below(6));
		else
			strcpy(b, a);
		assert_int_equal(sign(mist_strcmp(a, b)), sign(strcmp(a, b)));
		assert_int_equal(sign(mist_strncmp(a, b, n)), sign(strncmp(a, b, n)));
	}
	assert_int_equal(mist_strncmp("abc", "abd", 2), 0);
	assert_true(mist_strncmp("abc", "abd", 3) < 0);
	assert_true(mist_strcmp("a\xff", "a\x01") > 0);
}

static void strchr_matches_libc(void **state)
{
	static const char s[] = "hello, w\xe9rld";
	static const int cs[] = {'h', 'l', 'o', 'd', 'z', 0, 0xe9, (char)0xe9, 'l' + 256, -1};

	for (size_t i = 0; i < sizeof(cs) / sizeof(cs[0]); i++)
		assert_ptr_equal(mist_strchr(s, cs[i]), strchr(s, cs[i]));
	assert_ptr_equal(mist_strchr(s, '\0'), s + strlen(s));
}

static void strlcpy_truncates_and_terminates(void **state)
{
	static const char src[] = "truncate me";
	char dst[32];

	for (size_t size = 0; size < sizeof(dst); size++) {
		size_t copied = size == 0 ? 0 : strlen(src) < size - 1 ? strlen(src) : size - 1;

		memset(dst, 'x', sizeof(dst));
		assert_int_equal(mist_strlcpy(dst, src, size), strlen(src));
		assert_memory_equal(dst, src, copied);
		if (size > 0)
			assert_int_equal(dst[copied], '\0');
		for (size_t i = size; i < sizeof(dst); i++)
			assert_int_equal(dst[i], 'x');
	}
	assert_int_equal(mist_strlcpy(NULL, "abc", 0), 3);
}

static void explicit_bzero_zeroes(void **state)
{
	uint8_t buf[100], zeros[100] = {0};

	memset(buf, 0xa5, sizeof(buf));
	mist_explicit_bzero(buf + 3, 90);
	assert_memory_equal(buf + 3, zeros, 90);
	assert_int_equal(buf[2], 0xa5);
	assert_int_equal(buf[93], 0xa5);
}

static int parse_u64(const char *s, uint64_t max, uint64_t *v)
{
	return mist_parse_u64(s, strlen(s), max, v);
}

static void parse_u64_accepts_decimal_and_hex(void **state)
{
	uint64_t v = 1;

	assert_int_equal(parse_u64("0", UINT64_MAX, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(parse_u64("1500", UINT64_MAX, &v), 0);
	assert_int_equal(v, 1500);
	assert_int_equal(parse_u64("18446744073709551615", UINT64_MAX, &v), 0);
	assert_int_equal(v, UINT64_MAX);
	assert_int_equal(parse_u64("0x1F", UINT64_MAX, &v), 0);
	assert_int_equal(v, 31);
	assert_int_equal(parse_u64("0Xffffffffffffffff", UINT64_MAX, &v), 0);
	assert_int_equal(v, UINT64_MAX);
	assert_int_equal(parse_u64("007", UINT64_MAX, &v), 0);
	assert_int_equal(v, 7);
	assert_int_equal(parse_u64("255", 255, &v), 0);
	assert_int_equal(v, 255);
	/* Only s[0..len) is read. */
	assert_int_equal(mist_parse_u64("1234junk", 4, UINT64_MAX, &v), 0);
	assert_int_equal(v, 1234);
}

static void parse_u64_rejects_junk_and_overflow(void **state)
{
	static const char *const bad[] = {
	        "",
	        "0x",
	        " 1",
	        "1 ",
	        "+1",
	        "-1",
	        "12a",
	        "0x1g",
	        "1.0",
	        "0b1",
	        "x10",
	        "0xx1",
	        "1_000",
	        "18446744073709551616",
	        "0x10000000000000000",
	        "99999999999999999999999",
	};
	uint64_t v = 42;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(parse_u64(bad[i], UINT64_MAX, &v), MIST_EINVAL);
	assert_int_equal(parse_u64("256", 255, &v), MIST_EINVAL);
	assert_int_equal(parse_u64("0x100", 255, &v), MIST_EINVAL);
	assert_int_equal(v, 42);
}

static void parse_ipv4_accepts_dotted_quads(void **state)
{
	uint8_t a[4];

	assert_int_equal(mist_parse_ipv4("10.0.0.1", 8, a), 0);
	assert_memory_equal(a, "\x0a\x00\x00\x01", 4);
	assert_int_equal(mist_parse_ipv4("255.255.255.255", 15, a), 0);
	assert_memory_equal(a, "\xff\xff\xff\xff", 4);
	assert_int_equal(mist_parse_ipv4("0.0.0.0", 7, a), 0);
	assert_memory_equal(a, "\0\0\0\0", 4);
	assert_int_equal(mist_parse_ipv4("192.168.100.200/24", 15, a), 0);
	assert_memory_equal(a, "\xc0\xa8\x64\xc8", 4);
}

static void parse_ipv4_rejects_malformed(void **state)
{
	static const char *const bad[] = {
	        "",         "1",          "1.2.3",     "1.2.3.4.5", "1.2.3.4.",   ".1.2.3.4",
	        "1..2.3",   "1.2.3.256",  "256.1.1.1", "1.2.3.4 ",  " 1.2.3.4",   "1.2.3.4x",
	        "1.2.3.-4", "1.2.3.+4",   "01.2.3.4",  "1.2.3.00",  "1.2.3.1234", "1.2.3.0x1",
	        "a.b.c.d",  "1.2.3.4/24", "1,2,3,4",   "1.2.3.999",
	};
	uint8_t a[4] = {9, 9, 9, 9};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(mist_parse_ipv4(bad[i], strlen(bad[i]), a), MIST_EINVAL);
	assert_memory_equal(a, "\x09\x09\x09\x09", 4);
}

/* POSIX inet_pton() accepts exactly the dotted-decimal form the parser documents. */
static void parse_ipv4_agrees_with_inet_pton(void **state)
{
	static const char alphabet[] = "0123456789..........x -";
	char s[24];

	for (int round = 0; round < 200000; round++) {
		size_t len = rnd_below(18);
		struct in_addr in;
		uint8_t a[4];
		int ok;

		for (size_t i = 0; i < len; i++)
			s[i] = alphabet[rnd_below(rnd_below(8) == 0 ? sizeof(alphabet) - 1 : 14)];
		s[len] = '\0';
		ok = inet_pton(AF_INET, s, &in) == 1;
		if (ok != (mist_parse_ipv4(s, len, a) == 0))
			fail_msg("\"%s\": inet_pton %s it, mist_parse_ipv4 does not", s,
			         ok ? "accepts" : "rejects");
		if (ok)
			assert_memory_equal(a, &in, 4);
	}
}

static void parse_mac_accepts_both_cases(void **state)
{
	uint8_t m[6];

	assert_int_equal(mist_parse_mac("02:00:00:00:00:01", 17, m), 0);
	assert_memory_equal(m, "\x02\x00\x00\x00\x00\x01", 6);
	assert_int_equal(mist_parse_mac("aA:bB:Cc:dD:eE:fF", 17, m), 0);
	assert_memory_equal(m, "\xaa\xbb\xcc\xdd\xee\xff", 6);
}

static void parse_mac_rejects_malformed(void **state)
{
	static const char *const bad[] = {
	        "",
	        "02:00:00:00:00",
	        "02:00:00:00:00:0",
	        "02:00:00:00:00:01:",
	        "02:00:00:00:00:011",
	        "02-00-00-00-00-01",
	        "02:00:00:00:00:0g",
	        "2:00:00:00:00:001",
	        "0200:00:00:00:001",
	        "02:00:00:00:00:01 ",
	        " 02:00:00:00:00:01",
	        "02:00:00:00:00:+1",
	};
	uint8_t m[6] = {7, 7, 7, 7, 7, 7};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(mist_parse_mac(bad[i], strlen(bad[i]), m), MIST_EINVAL);
	assert_memory_equal(m, "\x07\x07\x07\x07\x07\x07", 6);
}

/* --- mist_snprintf against the host's snprintf ----------------------------- */

/* Printable text between conversions; never '%', nor 'I' or 'M' which would extend a %p. */
static size_t random_text(char *out)
{
	static const char alphabet[] = "abcxyz 019-+.#:|";
	size_t n = rnd_below(4);

	for (size_t i = 0; i < n; i++)
		out[i] = alphabet[rnd_below(sizeof(alphabet) - 1)];
	return n;
}

/* Argument types, one for each way a conversion and length modifier read the argument. */
enum arg_type {
	A_NONE,
	A_INT,
	A_UINT,
	A_LONG,
	A_ULONG,
	A_LLONG,
	A_ULLONG,
	A_PTRDIFF,
	A_SIZE,
	A_INTMAX,
	A_UINTMAX,
	A_STR,
	A_PTR,
};

struct fmt_case {
	char fmt[64];
	enum arg_type type;
	int nstars;
	int star[2];
	uint64_t v;
	const char *s;
	void *p;
};

static uint64_t random_value(void)
{
	static const uint64_t extremes[] = {
	        0,
	        1,
	        7,
	        8,
	        9,
	        10,
	        15,
	        16,
	        100,
	        127,
	        128,
	        255,
	        256,
	        32767,
	        32768,
	        65535,
	        65536,
	        INT_MAX,
	        (uint64_t)INT_MAX + 1,
	        UINT_MAX,
	        (uint64_t)UINT_MAX + 1,
	        LLONG_MAX,
	        (uint64_t)LLONG_MAX + 1,
	        UINT64_MAX,
	        (uint64_t)(int64_t)INT_MIN,
	        (uint64_t)(int64_t)SHRT_MIN,
	        (uint64_t)(int64_t)SCHAR_MIN,
	        (uint64_t)(int64_t)-1,
	};

	switch (rnd_below(4)) {
	case 0:
		return extremes[rnd_below(sizeof(extremes) / sizeof(extremes[0]))];
	case 1:
		return rnd() >> rnd_below(64);
	case 2:
		return rnd_below(1000);
	default:
		return (uint64_t) - (int64_t)rnd_below(1000);
	}
}

static const char *random_string_arg(char *scratch)
{
	static const char *const fixed[] = {"", "a", "hello", "(null)", "tab\there", NULL};
	size_t i = rnd_below(sizeof(fixed) / sizeof(fixed[0]) + 1);

	if (i < sizeof(fixed) / sizeof(fixed[0]))
		return fixed[i];
	random_string(scratch, rnd_below(40));
	return scratch;
}

static void *random_pointer(void)
{
	static void *const fixed[] = {NULL, (void *)1, (void *)0x1234, (void *)UINTPTR_MAX};

	if (rnd_below(2))
		return fixed[rnd_below(4)];
	return (void *)(uintptr_t)rnd();
}

/* Appends a flag, width, precision or length text; `star` receives a '*' argument. */
static void gen_flags(struct fmt_case *c, char **f)
{
	static const char flags[] = "-+ #0";

	for (size_t n = rnd_below(4); n > 0; n--)
		*(*f)++ = flags[rnd_below(sizeof(flags) - 1)];
	switch (rnd_below(8)) {
	case 0:
	case 1:
	case 2:
		*f += sprintf(*f, "%zu", rnd_below(31));
		break;
	case 3:
		*(*f)++ = '*';
		c->star[c->nstars++] = (int)rnd_below(61) - 30;
		break;
	default:
		break;
	}
	switch (rnd_below(8)) {
	case 0:
		*(*f)++ = '.';
		break;
	case 1:
	case 2:
		*f += sprintf(*f, ".%zu", rnd_below(31));
		break;
	case 3:
		*f += sprintf(*f, ".*");
		c->star[c->nstars++] = (int)rnd_below(40) - 8;
		break;
	default:
		break;
	}
}

static void gen_case(struct fmt_case *c, char *scratch)
{
	static const char convs[] = "diuoxXcsp%";
	static const char *const lengths[] = {"", "hh", "h", "l", "ll", "z", "j", "t"};
	static const enum arg_type signed_types[] = {A_INT,   A_INT,     A_INT,    A_LONG,
	                                             A_LLONG, A_PTRDIFF, A_INTMAX, A_PTRDIFF};
	static const enum arg_type unsigned_types[] = {A_UINT,   A_UINT, A_UINT,    A_ULONG,
	                                               A_ULLONG, A_SIZE, A_UINTMAX, A_SIZE};
	char conv = convs[rnd_below(sizeof(convs) - 1)];
	char *f = c->fmt;
	size_t len = rnd_below(8);

	memset(c, 0, sizeof(*c));
	f += random_text(f);
	*f++ = '%';
	/* C defines no flags, width or precision for %%. */
	if (conv != '%')
		gen_flags(c, &f);
	switch (conv) {
	case 'd':
	case 'i':
		f += sprintf(f, "%s", lengths[len]);
		c->type = signed_types[len];
		c->v = random_value();
		break;
	case 'u':
	case 'o':
	case 'x':
	case 'X':
		f += sprintf(f, "%s", lengths[len]);
		c->type = unsigned_types[len];
		c->v = random_value();
		break;
	case 'c':
		c->type = A_INT;
		c->v = (uint64_t)(int64_t)((int)rnd_below(600) - 300);
		break;
	case 's':
		c->type = A_STR;
		c->s = random_string_arg(scratch);
		break;
	case 'p':
		c->type = A_PTR;
		c->p = random_pointer();
		break;
	default:
		c->type = A_NONE;
		break;
	}
	*f++ = conv;
	f += random_text(f);
	*f = '\0';
}

static void print_escaped(const char *what, const char *s, size_t n)
{
	print_message("%s: \"", what);
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch >= 0x20 && ch < 0x7f && ch != '"' && ch != '\\')
			print_message("%c", ch);
		else
			print_message("\\x%02x", ch);
	}
	print_message("\"\n");
}

/*
 * Formats with both implementations into buffers of exactly `size` bytes
 * (NULL when size is 0), pre-filled alike, and requires the same return value
 * and the same bytes everywhere in the buffer. Returns the full length.
 */
static int compare_v(size_t size, const char *fmt, va_list ap)
{
	char *want = size > 0 ? malloc(size) : NULL;
	char *got = size > 0 ? malloc(size) : NULL;
	va_list ap2;
	int rw, rg;

	if (size > 0) {
		memset(want, 0xa5, size);
		memset(got, 0xa5, size);
	}
	va_copy(ap2, ap);
	rw = vsnprintf(want, size, fmt, ap);
	rg = mist_vsnprintf(got, size, fmt, ap2);
	va_end(ap2);
	if (rw != rg || (size > 0 && memcmp(want, got, size) != 0)) {
		print_message("format \"%s\", size %zu: libc returns %d, mist %d\n", fmt, size, rw,
		              rg);
		if (size > 0) {
			print_escaped("libc", want, size);
			print_escaped("mist", got, size);
		}
		free(want);
		free(got);
		fail();
	}
	free(want);
	free(got);
	return rw;
}

static int compare(size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = compare_v(size, fmt, ap);
	va_end(ap);
	return n;
}

/* Passes the case's '*' arguments and then its value, converted to its type. */
#define COMPARE_WITH(size, c, arg)                                         \
	((c)->nstars == 0   ? compare((size), (c)->fmt, arg)               \
	 : (c)->nstars == 1 ? compare((size), (c)->fmt, (c)->star[0], arg) \
	                    : compare((size), (c)->fmt, (c)->star[0], (c)->star[1], arg))

/* Compares one case at one buffer size; returns the length of the full output. */
static int compare_case(const struct fmt_case *c, size_t size)
{
	switch (c->type) {
	case A_NONE:
		/* An unused argument, so that the call has one like every other. */
		return COMPARE_WITH(size, c, 0);
	case A_INT:
		return COMPARE_WITH(size, c, (int)c->v);
	case A_UINT:
		return COMPARE_WITH(size, c, (unsigned)c->v);
	case A_LONG:
		return COMPARE_WITH(size, c, (long)c->v);
	case A_ULONG:
		return COMPARE_WITH(size, c, (unsigned long)c->v);
	case A_LLONG:
		return COMPARE_WITH(size, c, (long long)c->v);
	case A_ULLONG:
		return COMPARE_WITH(size, c, (unsigned long long)c->v);
	case A_PTRDIFF:
		return COMPARE_WITH(size, c, (ptrdiff_t)c->v);
	case A_SIZE:
		return COMPARE_WITH(size, c, (size_t)c->v);
	case A_INTMAX:
		return COMPARE_WITH(size, c, (intmax_t)c->v);
	case A_UINTMAX:
		return COMPARE_WITH(size, c, (uintmax_t)c->v);
	case A_STR:
		return COMPARE_WITH(size, c, c->s);
	case A_PTR:
		return COMPARE_WITH(size, c, c->p);
	}
	fail_msg("unknown argument type %d", (int)c->type);
	return 0;
}

#define FMT_BUF_LEN 256

static void snprintf_matches_libc_on_generated_formats(void **state)
{
	char scratch[48];

	for (int round = 0; round < 200000; round++) {
		struct fmt_case c;

		gen_case(&c, scratch);
		compare_case(&c, FMT_BUF_LEN);
	}
}

/* Every buffer size from 0 (a NULL buffer) to one past the full output. */
static void snprintf_truncates_like_libc_at_every_size(void **state)
{
	char scratch[48];

	for (int round = 0; round < 3000; round++) {
		struct fmt_case c;
		int len;

		gen_case(&c, scratch);
		len = compare_case(&c, FMT_BUF_LEN);
		for (int size = 0; size <= len + 1; size++)
			compare_case(&c, (size_t)size);
	}
}

/* Several conversions in one format, so the argument list must advance by each type's size. */
static void snprintf_matches_libc_with_many_arguments(void **state)
{
	char scratch[48];

	for (int round = 0; round < 20000; round++) {
		int w = (int)rnd_below(41) - 20, p = (int)rnd_below(30) - 5;
		const char *s = random_string_arg(scratch);
		uint64_t v[8];

		for (size_t i = 0; i < 8; i++)
			v[i] = random_value();
		compare(FMT_BUF_LEN, "%d|%lld|%s|%hhu|%zx|%p|%c|%jd|%td|%#o|%%|%*.*hd|%-*s|%lu|%X",
		        (int)v[0], (long long)v[1], s, (unsigned)v[2], (size_t)v[3],
		        (void *)(uintptr_t)v[4], (int)(v[5] & 0xff), (intmax_t)v[6],
		        (ptrdiff_t)v[7], (unsigned)v[0], w, p, (int)v[1], w, s, (unsigned long)v[2],
		        (unsigned)v[3]);
		compare(1 + rnd_below(60), "%+.3i %-#8llx %08.3s %#.0o %#x %.0d %5.1u", (int)v[4],
		        (unsigned long long)v[5], s, (unsigned)v[6], 0u, 0, (unsigned)v[7]);
	}
}

static void snprintf_formats_ipv4_extension(void **state)
{
	static const uint8_t addrs[][4] = {
	        {10, 0, 0, 1},      {0, 0, 0, 0},      {255, 255, 255, 255},
	        {192, 168, 100, 9}, {1, 20, 199, 200},
	};
	static const char *const text[] = {
	        "10.0.0.1", "0.0.0.0", "255.255.255.255", "192.168.100.9", "1.20.199.200",
	};
	char buf[64];

	for (size_t i = 0; i < sizeof(addrs) / sizeof(addrs[0]); i++) {
		assert_int_equal(mist_snprintf(buf, sizeof(buf), "%pI4", addrs[i]),
		                 (int)strlen(text[i]));
		assert_string_equal(buf, text[i]);
	}
	assert_int_equal(
	        mist_snprintf(buf, sizeof(buf), "[%12pI4][%-10pI4]:%u", addrs[0], addrs[0], 80u),
	        29);
	assert_string_equal(buf, "[    10.0.0.1][10.0.0.1  ]:80");
	assert_int_equal(mist_snprintf(buf, 6, "%pI4", addrs[2]), 15);
	assert_string_equal(buf, "255.2");
	assert_int_equal(mist_snprintf(buf, sizeof(buf), "%pI4", NULL), 6);
	assert_string_equal(buf, "(null)");
}

static void snprintf_formats_mac_extension(void **state)
{
	static const uint8_t mac[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01};
	static const uint8_t mac2[6] = {0xde, 0xad, 0xbe, 0xef, 0x0a, 0xff};
	char buf[64];

	assert_int_equal(mist_snprintf(buf, sizeof(buf), "%pM", mac), 17);
	assert_string_equal(buf, "02:00:00:00:00:01");
	assert_int_equal(mist_snprintf(buf, sizeof(buf), "mac %pM!", mac2), 22);
	assert_string_equal(buf, "mac de:ad:be:ef:0a:ff!");
	assert_int_equal(mist_snprintf(buf, sizeof(buf), "%19pM|%-18pM|", mac, mac), 39);
	assert_string_equal(buf, "  02:00:00:00:00:01|02:00:00:00:00:01 |");
	assert_int_equal(mist_snprintf(buf, 3, "%pM", mac), 17);
	assert_string_equal(buf, "02");
	assert_int_equal(mist_snprintf(buf, sizeof(buf), "%pM", NULL), 6);
	assert_string_equal(buf, "(null)");
}

/* A 'p' followed by other letters is a plain %p and text, as in libc. */
static void snprintf_plain_pointer_before_letters(void **state)
{
	void *p = (void *)0xabc;
	char want[64], got[64];

	snprintf(want, sizeof(want), "%pI6 %pi4 %pm", p, p, p);
	mist_snprintf(got, sizeof(got), "%pI6 %pi4 %pm", p, p, p);
	assert_string_equal(got, want);
	assert_string_equal(got, "0xabcI6 0xabci4 0xabcm");
}

static void snprintf_precision_bounds_string_read(void **state)
{
	char unterminated[5] = {'a', 'b', 'c', 'd', 'e'};
	char buf[16];

	assert_int_equal(mist_snprintf(buf, sizeof(buf), "%.5s|%.2s", unterminated, unterminated),
	                 8);
	assert_string_equal(buf, "abcde|ab");
}

/*
 * Returns `fmt` through a volatile, hiding it from the compiler's format
 * checks: the formats passed through it are ones the compiler would reject,
 * and the formatter must still handle them safely.
 */
static const char *hidden(const char *fmt)
{
	const char *volatile p = fmt;

	return p;
}

static void snprintf_reports_overflow_of_int(void **state)
{
	char buf[8];

	assert_int_equal(mist_snprintf(buf, sizeof(buf), "%2147483647d", 1), INT_MAX);
	assert_string_equal(buf, "       ");
	assert_int_equal(mist_snprintf(buf, sizeof(buf), hidden("%2147483647d%d"), 1, 2), -1);
	assert_int_equal(mist_snprintf(buf, sizeof(buf), hidden("%2147483648d"), 1), -1);
	assert_int_equal(mist_snprintf(NULL, 0, hidden("%*d"), INT_MIN, 1), -1);
}

static void snprintf_copies_unknown_conversions(void **state)
{
	char buf[32];

	assert_int_equal(mist_snprintf(buf, sizeof(buf), hidden("a%5kb %d"), 7), 7);
	assert_string_equal(buf, "a%5kb 7");
	/* The unused argument keeps clang from calling the call insecure. */
	assert_int_equal(mist_snprintf(buf, sizeof(buf), hidden("end%"), 0), 4);
	assert_string_equal(buf, "end%");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(memcpy_matches_libc),
	        cmocka_unit_test(memcpy_stays_within_exact_buffers),
	        cmocka_unit_test(memmove_matches_libc_with_overlap),
	        cmocka_unit_test(memset_matches_libc),
	        cmocka_unit_test(memcmp_sign_matches_libc),
	        cmocka_unit_test(strlen_and_strnlen),
	        cmocka_unit_test(strcmp_and_strncmp_sign_match_libc),
	        cmocka_unit_test(strchr_matches_libc),
	        cmocka_unit_test(strlcpy_truncates_and_terminates),
	        cmocka_unit_test(explicit_bzero_zeroes),
	        cmocka_unit_test(parse_u64_accepts_decimal_and_hex),
	        cmocka_unit_test(parse_u64_rejects_junk_and_overflow),
	        cmocka_unit_test(parse_ipv4_accepts_dotted_quads),
	        cmocka_unit_test(parse_ipv4_rejects_malformed),
	        cmocka_unit_test(parse_ipv4_agrees_with_inet_pton),
	        cmocka_unit_test(parse_mac_accepts_both_cases),
	        cmocka_unit_test(parse_mac_rejects_malformed),
	        cmocka_unit_test(snprintf_matches_libc_on_generated_formats),
	        cmocka_unit_test(snprintf_truncates_like_libc_at_every_size),
	        cmocka_unit_test(snprintf_matches_libc_with_many_arguments),
	        cmocka_unit_test(snprintf_formats_ipv4_extension),
	        cmocka_unit_test(snprintf_formats_mac_extension),
	        cmocka_unit_test(snprintf_plain_pointer_before_letters),
	        cmocka_unit_test(snprintf_precision_bounds_string_read),
	        cmocka_unit_test(snprintf_reports_overflow_of_int),
	        cmocka_unit_test(snprintf_copies_unknown_conversions),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
