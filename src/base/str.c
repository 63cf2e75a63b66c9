/*
 * Memory and string functions for code built without libc, and the small
 * text parsers used by the boot arguments (numbers, IPv4 and MAC addresses).
 * The mist__mem* functions are the out-of-line copies behind the compiler's
 * builtins on targets without a C library (base/libc.c forwards memcpy and
 * friends to them); they move eight bytes per step once the destination is
 * aligned. Freestanding: depends only on the compiler's headers.
 */
#include "base/str.h"

#include "mist/mist.h"

/*
 * A 64-bit word that may sit at any address and may alias any object: the
 * compiler emits an unaligned load or store (or byte accesses on a machine
 * that needs them), and neither alias analysis nor UBSan's alignment check
 * objects to it.
 */
typedef uint64_t __attribute__((may_alias, aligned(1))) mist__word;

#define WORD            sizeof(mist__word)
#define WORD_ALIGNED(p) (((uintptr_t)(p) & (WORD - 1)) == 0)

/* Every byte of a word set to 0x01, to spread a byte over a word by multiplication. */
#define ONES ((uint64_t)0x0101010101010101)

/*
 * Hides `p` from the optimiser for one loop iteration. In a hosted build,
 * gcc (-ftree-loop-distribute-patterns, on at -O2) and clang (loop idiom
 * recognition) turn a copy or fill loop into a call to memcpy, memmove or
 * memset; -ffreestanding stops them today, but whether it does depends on
 * the compiler's version and on the flags of whoever builds this file (a
 * kernel build system, an LTO link). On a target without libc such a call
 * reaches base/libc.c, which forwards back here, and would recurse forever.
 * An empty asm that claims to change the pointer makes the address sequence
 * opaque, so no idiom is recognised under any flags. It emits no instruction
 * and works with both compilers (gcc's optimize attribute does not exist in
 * clang).
 */
#define OPAQUE(p) __asm__("" : "+r"(p))

void *mist__memcpy(void *restrict dst, const void *restrict src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;

	while (n > 0 && !WORD_ALIGNED(d)) {
		OPAQUE(d);
		*d++ = *s++;
		n--;
	}
	while (n >= WORD) {
		OPAQUE(d);
		*(mist__word *)d = *(const mist__word *)s;
		d += WORD;
		s += WORD;
		n -= WORD;
	}
	while (n > 0) {
		OPAQUE(d);
		*d++ = *s++;
		n--;
	}
	return dst;
}

/*
 * Copies front to back when the destination starts below the source (each
 * word is read before any store can reach it) and back to front otherwise.
 */
void *mist__memmove(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;

	if (d == s || n == 0)
		return dst;
	if ((uintptr_t)d < (uintptr_t)s) {
		while (n > 0 && !WORD_ALIGNED(d)) {
			OPAQUE(d);
			*d++ = *s++;
			n--;
		}
		while (n >= WORD) {
			OPAQUE(d);
			*(mist__word *)d = *(const mist__word *)s;
			d += WORD;
			s += WORD;
			n -= WORD;
		}
		while (n > 0) {
			OPAQUE(d);
			*d++ = *s++;
			n--;
		}
		return dst;
	}
	d += n;
	s += n;
	while (n > 0 && !WORD_ALIGNED(d)) {
		OPAQUE(d);
		*--d = *--s;
		n--;
	}
	while (n >= WORD) {
		OPAQUE(d);
		d -= WORD;
		s -= WORD;
		*(mist__word *)d = *(const mist__word *)s;
		n -= WORD;
	}
	while (n > 0) {
		OPAQUE(d);
		*--d = *--s;
		n--;
	}
	return dst;
}

void *mist__memset(void *dst, int c, size_t n)
{
	unsigned char *d = dst;
	unsigned char byte = (unsigned char)c;
	uint64_t word = byte * ONES;

	while (n > 0 && !WORD_ALIGNED(d)) {
		OPAQUE(d);
		*d++ = byte;
		n--;
	}
	while (n >= WORD) {
		OPAQUE(d);
		*(mist__word *)d = word;
		d += WORD;
		n -= WORD;
	}
	while (n > 0) {
		OPAQUE(d);
		*d++ = byte;
		n--;
	}
	return dst;
}

/*
 * Skips equal words, then finds the first differing byte; the result's sign
 * is that of the difference of the two bytes as unsigned char, as in C.
 */
int mist__memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *p = a;
	const unsigned char *q = b;

	while (n >= WORD && *(const mist__word *)p == *(const mist__word *)q) {
		p += WORD;
		q += WORD;
		n -= WORD;
	}
	while (n > 0) {
		if (*p != *q)
			return *p - *q;
		p++;
		q++;
		n--;
	}
	return 0;
}

size_t mist_strlen(const char *s)
{
	const char *p = s;

	while (*p != '\0')
		p++;
	return (size_t)(p - s);
}

size_t mist_strnlen(const char *s, size_t max)
{
	size_t n = 0;

	while (n < max && s[n] != '\0')
		n++;
	return n;
}

int mist_strcmp(const char *a, const char *b)
{
	const unsigned char *p = (const unsigned char *)a;
	const unsigned char *q = (const unsigned char *)b;

	while (*p != '\0' && *p == *q) {
		p++;
		q++;
	}
	return *p - *q;
}

int mist_strncmp(const char *a, const char *b, size_t n)
{
	const unsigned char *p = (const unsigned char *)a;
	const unsigned char *q = (const unsigned char *)b;

	for (; n > 0; n--, p++, q++) {
		if (*p != *q)
			return *p - *q;
		if (*p == '\0')
			break;
	}
	return 0;
}

/* As in C, `c` is converted to char, and the terminating NUL can be found. */
char *mist_strchr(const char *s, int c)
{
	char ch = (char)c;

	for (;; s++) {
		if (*s == ch)
			return (char *)s;
		if (*s == '\0')
			return NULL;
	}
}

size_t mist_strlcpy(char *dst, const char *src, size_t size)
{
	size_t len = mist_strlen(src);

	if (size > 0) {
		size_t n = len < size - 1 ? len : size - 1;

		mist_memcpy(dst, src, n);
		dst[n] = '\0';
	}
	return len;
}

/*
 * The asm claims to read all memory through `p` after the stores, so the
 * compiler must perform them even when the object is dead afterwards.
 */
void mist_explicit_bzero(void *p, size_t n)
{
	mist_memset(p, 0, n);
	__asm__ __volatile__("" : : "r"(p) : "memory");
}

/* The value of hexadecimal digit `c`, or -1. */
static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int mist_parse_u64(const char *s, size_t len, uint64_t max, uint64_t *out)
{
	uint64_t base = 10;
	uint64_t v = 0;
	size_t i = 0;

	if (len >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		i = 2;
	}
	if (i == len)
		return MIST_EINVAL;
	for (; i < len; i++) {
		int d = hex_digit(s[i]);

		if (d < 0 || (uint64_t)d >= base)
			return MIST_EINVAL;
		if (v > (UINT64_MAX - (uint64_t)d) / base)
			return MIST_EINVAL;
		v = v * base + (uint64_t)d;
	}
	if (v > max)
		return MIST_EINVAL;
	*out = v;
	return 0;
}

/*
 * Accepts exactly four decimal octets of one to three digits, each at most
 * 255, separated by single dots. As in POSIX inet_pton(), an octet may not
 * have a leading zero: inet_aton() would read "010" as octal 8, so the text
 * is ambiguous and rejected.
 */
int mist_parse_ipv4(const char *s, size_t len, uint8_t addr[4])
{
	uint8_t tmp[4];
	size_t i = 0;

	for (int part = 0; part < 4; part++) {
		unsigned v = 0;
		size_t start = i;

		if (part > 0) {
			if (i >= len || s[i] != '.')
				return MIST_EINVAL;
			start = ++i;
		}
		while (i < len && s[i] >= '0' && s[i] <= '9' && i - start < 3) {
			v = v * 10 + (unsigned)(s[i] - '0');
			i++;
		}
		if (i == start || v > 255 || (s[start] == '0' && i - start > 1))
			return MIST_EINVAL;
		tmp[part] = (uint8_t)v;
	}
	if (i != len)
		return MIST_EINVAL;
	mist_memcpy(addr, tmp, sizeof(tmp));
	return 0;
}

/* The text form is six pairs of hex digits joined by five colons: 17 characters. */
#define MAC_TEXT_LEN 17

int mist_parse_mac(const char *s, size_t len, uint8_t mac[6])
{
	uint8_t tmp[6];

	if (len != MAC_TEXT_LEN)
		return MIST_EINVAL;
	for (size_t i = 0; i < 6; i++) {
		const char *p = s + 3 * i;
		int hi = hex_digit(p[0]);
		int lo = hex_digit(p[1]);

		if (hi < 0 || lo < 0 || (i < 5 && p[2] != ':'))
			return MIST_EINVAL;
		tmp[i] = (uint8_t)(hi << 4 | lo);
	}
	mist_memcpy(mac, tmp, sizeof(tmp));
	return 0;
}

int mist_parse_size(const char *s, size_t len, uint64_t *out)
{
	unsigned shift = 0;
	if (len > 0) {
		switch (s[len - 1]) {
		case 'k':
		case 'K':
			shift = 10;
			break;
		case 'm':
		case 'M':
			shift = 20;
			break;
		case 'g':
		case 'G':
			shift = 30;
			break;
		}
	}
	if (shift != 0)
		len--;
	uint64_t n;
	if (mist_parse_u64(s, len, UINT64_MAX >> shift, &n) != 0)
		return MIST_EINVAL;
	*out = n << shift;
	return 0;
}
