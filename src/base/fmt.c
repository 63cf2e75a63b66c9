/*
 * snprintf without libc. It implements C11 7.21.6.1 for the conversions d i
 * u x X o c s p %, the flags - + space # 0, width and precision (also given
 * as *), and the length modifiers hh h l ll z j t; where C leaves a case
 * undefined it does what glibc does (%p as "0x..." or "(nil)", a NULL %s as
 * "(null)"). It adds two of the Linux kernel's pointer extensions: %pI4
 * prints the 4 bytes at the pointer as a dotted IPv4 address and %pM prints 6
 * bytes as a MAC address. There is no floating point: this code is built
 * without FP registers. An unknown conversion (%f, %n, ...) is copied to the
 * output as text and consumes no argument. Freestanding.
 */
#include "base/fmt.h"

#include <stdbool.h>
#include <stdint.h>

#include "base/str.h"

/*
 * The output: `len` counts every byte produced, stored or not; `overflow`
 * is set when the length cannot be returned as an int.
 */
struct out {
	char *buf;
	size_t size;
	size_t len;
	bool overflow;
};

static void put(struct out *o, const char *s, size_t n)
{
	if (o->len < o->size) {
		size_t room = o->size - o->len;

		mist_memcpy(o->buf + o->len, s, n < room ? n : room);
	}
	o->len += n;
}

/* Produces `n` copies of `c`, storing only what fits. */
static void pad(struct out *o, char c, size_t n)
{
	if (o->len < o->size) {
		size_t room = o->size - o->len;

		mist_memset(o->buf + o->len, c, n < room ? n : room);
	}
	o->len += n;
}

enum {
	F_LEFT = 1 << 0,  /* '-': pad on the right */
	F_PLUS = 1 << 1,  /* '+': sign even for non-negative values */
	F_SPACE = 1 << 2, /* ' ': a space where a '+' would go */
	F_ALT = 1 << 3,   /* '#': 0 before octal, 0x before hex */
	F_ZERO = 1 << 4,  /* '0': pad numbers with zeros after the sign */
	F_PREC = 1 << 5,  /* a precision was given */
};

enum length { LEN_NONE, LEN_HH, LEN_H, LEN_L, LEN_LL, LEN_Z, LEN_J, LEN_T };

struct spec {
	unsigned flags;
	size_t width;
	size_t prec;
	bool width_arg; /* the width is the next argument ('*') */
	bool prec_arg;  /* the precision is the next argument ('*') */
	enum length length;
};

/*
 * The largest width or precision accepted; beyond it the output's length
 * cannot be returned as an int, which C11 7.21.6.5 reports as an error.
 */
#define FIELD_MAX ((size_t)__INT_MAX__)

/* Reads a decimal width or precision, saturating at FIELD_MAX + 1. */
static size_t read_field(const char **fmt)
{
	size_t v = 0;

	while (**fmt >= '0' && **fmt <= '9') {
		if (v <= FIELD_MAX)
			v = v * 10 + (size_t)(**fmt - '0');
		(*fmt)++;
	}
	return v;
}

/* Pads a field of `len` bytes to the width: on the left, or with '-' on the right. */
static void pad_left(struct out *o, const struct spec *sp, size_t len)
{
	if (!(sp->flags & F_LEFT) && sp->width > len)
		pad(o, ' ', sp->width - len);
}

static void pad_right(struct out *o, const struct spec *sp, size_t len)
{
	if ((sp->flags & F_LEFT) && sp->width > len)
		pad(o, ' ', sp->width - len);
}

static void put_field(struct out *o, const struct spec *sp, const char *s, size_t len)
{
	pad_left(o, sp, len);
	put(o, s, len);
	pad_right(o, sp, len);
}

/*
 * Formats an integer: `mag` is its magnitude, `neg` its sign. C11 7.21.6.1:
 * the precision is the minimum number of digits (default 1; zero digits for
 * the value 0 with precision 0), '#' makes octal start with 0 and puts 0x
 * before non-zero hex, and '0' pads with zeros between the sign or prefix and
 * the digits unless a precision is given or '-' is.
 */
static void put_int(struct out *o, const struct spec *sp, uintmax_t mag, bool neg, unsigned base,
                    bool upper, bool is_signed)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	/* Enough for a 64-bit value in octal, the longest form. */
	char text[24];
	size_t ndigits = 0;
	char prefix[3];
	size_t nprefix = 0;
	size_t prec = (sp->flags & F_PREC) ? sp->prec : 1;
	size_t zeros;
	size_t len;

	for (uintmax_t v = mag; v != 0; v /= base)
		text[sizeof(text) - ++ndigits] = digits[v % base];

	if (is_signed) {
		if (neg)
			prefix[nprefix++] = '-';
		else if (sp->flags & F_PLUS)
			prefix[nprefix++] = '+';
		else if (sp->flags & F_SPACE)
			prefix[nprefix++] = ' ';
	}
	if ((sp->flags & F_ALT) && base == 16 && mag != 0) {
		prefix[nprefix++] = '0';
		prefix[nprefix++] = upper ? 'X' : 'x';
	}
	if ((sp->flags & F_ALT) && base == 8 && prec <= ndigits)
		prec = ndigits + 1;

	zeros = prec > ndigits ? prec - ndigits : 0;
	len = nprefix + zeros + ndigits;
	if ((sp->flags & (F_ZERO | F_LEFT | F_PREC)) == F_ZERO && sp->width > len) {
		zeros += sp->width - len;
		len = sp->width;
	}
	pad_left(o, sp, len);
	put(o, prefix, nprefix);
	pad(o, '0', zeros);
	put(o, text + sizeof(text) - ndigits, ndigits);
	pad_right(o, sp, len);
}

/* Reads a signed argument of the given length (C11 7.21.6.1p7). */
static intmax_t arg_signed(va_list *ap, enum length length)
{
	switch (length) {
	case LEN_HH:
		return (signed char)va_arg(*ap, int);
	case LEN_H:
		return (short)va_arg(*ap, int);
	case LEN_L:
		return va_arg(*ap, long);
	case LEN_LL:
		return va_arg(*ap, long long);
	case LEN_Z:
		/* The signed type of size_t's width; ptrdiff_t on every ABI we target. */
		return va_arg(*ap, ptrdiff_t);
	case LEN_J:
		return va_arg(*ap, intmax_t);
	case LEN_T:
		return va_arg(*ap, ptrdiff_t);
	case LEN_NONE:
		break;
	}
	return va_arg(*ap, int);
}

static uintmax_t arg_unsigned(va_list *ap, enum length length)
{
	switch (length) {
	case LEN_HH:
		return (unsigned char)va_arg(*ap, unsigned);
	case LEN_H:
		return (unsigned short)va_arg(*ap, unsigned);
	case LEN_L:
		return va_arg(*ap, unsigned long);
	case LEN_LL:
		return va_arg(*ap, unsigned long long);
	case LEN_Z:
		return va_arg(*ap, size_t);
	case LEN_J:
		return va_arg(*ap, uintmax_t);
	case LEN_T:
		/* The unsigned type of ptrdiff_t's width; size_t on every ABI we target. */
		return va_arg(*ap, size_t);
	case LEN_NONE:
		break;
	}
	return va_arg(*ap, unsigned);
}

static void put_hex_byte(char *p, uint8_t b)
{
	static const char hex[] = "0123456789abcdef";

	p[0] = hex[b >> 4];
	p[1] = hex[b & 0xf];
}

/* %pI4: four bytes as dotted decimal, "255.255.255.255" at most. */
static size_t format_ipv4(char *p, const uint8_t *a)
{
	size_t n = 0;

	for (int i = 0; i < 4; i++) {
		unsigned v = a[i];

		if (i > 0)
			p[n++] = '.';
		if (v >= 100)
			p[n++] = (char)('0' + v / 100);
		if (v >= 10)
			p[n++] = (char)('0' + v / 10 % 10);
		p[n++] = (char)('0' + v % 10);
	}
	return n;
}

/* %pM: six bytes as "xx:xx:xx:xx:xx:xx". */
static size_t format_mac(char *p, const uint8_t *m)
{
	for (int i = 0; i < 6; i++) {
		put_hex_byte(p + 3 * i, m[i]);
		if (i < 5)
			p[3 * i + 2] = ':';
	}
	return 17;
}

/* The longest text an extension produces: a MAC address. */
#define EXT_TEXT_MAX sizeof("xx:xx:xx:xx:xx:xx")

/*
 * %p and its extensions; `*fmt` points after the 'p' and is advanced past
 * an extension's letters. Plain %p is glibc's: "(nil)" for NULL, otherwise
 * the value as by %#lx, which takes the flags and precision of an integer.
 */
static void put_pointer(struct out *o, struct spec *sp, const char **fmt, const void *p)
{
	char text[EXT_TEXT_MAX];
	size_t len;

	if ((*fmt)[0] == 'I' && (*fmt)[1] == '4') {
		*fmt += 2;
		if (p == NULL) {
			put_field(o, sp, "(null)", 6);
			return;
		}
		len = format_ipv4(text, p);
		put_field(o, sp, text, len);
		return;
	}
	if ((*fmt)[0] == 'M') {
		*fmt += 1;
		if (p == NULL) {
			put_field(o, sp, "(null)", 6);
			return;
		}
		len = format_mac(text, p);
		put_field(o, sp, text, len);
		return;
	}
	if (p == NULL) {
		put_field(o, sp, "(nil)", 5);
		return;
	}
	sp->flags |= F_ALT;
	put_int(o, sp, (uintptr_t)p, false, 16, false, true);
}

/*
 * %s: the precision caps the bytes read, so the string need not be
 * terminated within it. glibc prints a NULL string as "(null)", or as
 * nothing when the precision is too small to hold that.
 */
static void put_string(struct out *o, const struct spec *sp, const char *s)
{
	size_t max = (sp->flags & F_PREC) ? sp->prec : SIZE_MAX;

	if (s == NULL)
		s = max >= 6 ? "(null)" : "";
	put_field(o, sp, s, mist_strnlen(s, max));
}

/* Parses the flags, width, precision and length of a specification. */
static const char *parse_spec(const char *f, struct spec *sp)
{
	for (;; f++) {
		if (*f == '-')
			sp->flags |= F_LEFT;
		else if (*f == '+')
			sp->flags |= F_PLUS;
		else if (*f == ' ')
			sp->flags |= F_SPACE;
		else if (*f == '#')
			sp->flags |= F_ALT;
		else if (*f == '0')
			sp->flags |= F_ZERO;
		else
			break;
	}
	if (*f == '*') {
		sp->width_arg = true;
		f++;
	} else {
		sp->width = read_field(&f);
	}
	if (*f == '.') {
		sp->flags |= F_PREC;
		if (*++f == '*') {
			sp->prec_arg = true;
			f++;
		} else {
			sp->prec = read_field(&f);
		}
	}
	switch (*f) {
	case 'h':
		sp->length = f[1] == 'h' ? LEN_HH : LEN_H;
		return f + (sp->length == LEN_HH ? 2 : 1);
	case 'l':
		sp->length = f[1] == 'l' ? LEN_LL : LEN_L;
		return f + (sp->length == LEN_LL ? 2 : 1);
	case 'z':
		sp->length = LEN_Z;
		return f + 1;
	case 'j':
		sp->length = LEN_J;
		return f + 1;
	case 't':
		sp->length = LEN_T;
		return f + 1;
	default:
		return f;
	}
}

/*
 * Takes a '*' width and precision from the arguments. C11 7.21.6.1p5: a
 * negative width is a '-' flag and a positive width; a negative precision
 * is taken as if it were omitted.
 */
static void star_args(struct spec *sp, va_list *ap)
{
	if (sp->width_arg) {
		int w = va_arg(*ap, int);

		if (w < 0) {
			sp->flags |= F_LEFT;
			sp->width = (size_t)0 - (size_t)(intmax_t)w;
		} else {
			sp->width = (size_t)w;
		}
	}
	if (sp->prec_arg) {
		int p = va_arg(*ap, int);

		if (p < 0)
			sp->flags &= ~(unsigned)F_PREC;
		else
			sp->prec = (size_t)p;
	}
}

/*
 * Formats one conversion specification; `*fmt` points after its '%' and is
 * advanced past it. Returns false, consuming no argument, if the conversion
 * is unknown; the caller then copies the specification as text.
 */
static bool convert(struct out *o, const char **fmt, va_list *ap)
{
	struct spec sp = {.flags = 0};
	const char *f = parse_spec(*fmt, &sp);
	char conv = *f++;
	intmax_t i;
	uintmax_t u;
	char ch;

	if (conv == '\0' || mist_strchr("diuoxXcsp%", conv) == NULL)
		return false;
	star_args(&sp, ap);
	if (sp.width > FIELD_MAX || sp.prec > FIELD_MAX)
		o->overflow = true;

	switch (conv) {
	case 'd':
	case 'i':
		i = arg_signed(ap, sp.length);
		put_int(o, &sp, i < 0 ? (uintmax_t)0 - (uintmax_t)i : (uintmax_t)i, i < 0, 10,
		        false, true);
		break;
	case 'u':
	case 'o':
	case 'x':
	case 'X':
		u = arg_unsigned(ap, sp.length);
		put_int(o, &sp, u, false,
		        conv == 'u'   ? 10
		        : conv == 'o' ? 8
		                      : 16,
		        conv == 'X', false);
		break;
	case 'c':
		ch = (char)(unsigned char)va_arg(*ap, int);
		put_field(o, &sp, &ch, 1);
		break;
	case 's':
		put_string(o, &sp, va_arg(*ap, const char *));
		break;
	case 'p':
		put_pointer(o, &sp, &f, va_arg(*ap, const void *));
		break;
	default:
		/* '%%' prints a '%'; C gives it no flags, glibc ignores any. */
		put(o, "%", 1);
		break;
	}
	*fmt = f;
	return true;
}

int mist_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct out o = {.buf = buf, .size = size, .len = 0, .overflow = false};
	va_list args;

	/*
	 * The conversions take arguments through a pointer to this copy: a
	 * va_list parameter cannot portably be passed on by address, and
	 * passing it by value leaves the caller's copy indeterminate.
	 */
	va_copy(args, ap);
	while (*fmt != '\0' && !o.overflow && o.len <= FIELD_MAX) {
		const char *start = fmt;

		while (*fmt != '\0' && *fmt != '%')
			fmt++;
		put(&o, start, (size_t)(fmt - start));
		if (*fmt == '\0')
			break;
		fmt++;
		if (!convert(&o, &fmt, &args)) {
			/* An unknown conversion is copied as text, '%' included. */
			put(&o, "%", 1);
		}
	}
	va_end(args);

	if (size > 0)
		buf[o.len < size ? o.len : size - 1] = '\0';
	return !o.overflow && o.len <= FIELD_MAX ? (int)o.len : -1;
}

int mist_snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = mist_vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}
