/*
 * Splitting the PVH command line (cmdline.h). It depends only on base/str.h
 * and base/fmt.h.
 */
#include <stdbool.h>
#include <stdint.h>

#include "base/fmt.h"
#include "base/str.h"
#include "cmdline.h"
#include "mist/mist.h"

#define VIRTIO_MMIO_WORD "virtio_mmio.device="
#define GSI_MAX          255 /* the largest interrupt input an IOAPIC can number */

/* Linux words that loaders add and that mean nothing to Mist (see cmdline.h). */
static const char *const ignored_prefixes[] = {
        "console=", "earlyprintk=", "reboot=", "panic=", "pci=", "acpi=", "i8042.",
};

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static bool has_prefix(const char *word, const char *prefix)
{
	return mist_strncmp(word, prefix, mist_strlen(prefix)) == 0;
}

/* Position of `c` in s[0..len), or len. */
static size_t find(const char *s, size_t len, char c)
{
	size_t i = 0;
	while (i < len && s[i] != c)
		i++;
	return i;
}

/* Parses "<size>@<base>:<irq>[:<id>]" (Linux's drivers/virtio/virtio_mmio.c). */
static int parse_virtio_mmio(const char *s, struct pvh_virtio_mmio *dev)
{
	size_t len = mist_strlen(s);
	size_t at = find(s, len, '@');
	if (at == len)
		return MIST_EINVAL;
	const char *base = s + at + 1;
	size_t base_len = find(base, len - at - 1, ':');
	if (base_len == len - at - 1)
		return MIST_EINVAL;
	const char *irq = base + base_len + 1;
	size_t irq_len = mist_strlen(irq);
	size_t id = find(irq, irq_len, ':');
	uint64_t size, addr, gsi, unused_id;

	if (mist_parse_size(s, at, &size) != 0 || size == 0 ||
	    mist_parse_u64(base, base_len, UINT64_MAX - size, &addr) != 0 ||
	    mist_parse_u64(irq, id, GSI_MAX, &gsi) != 0 ||
	    (id < irq_len &&
	     mist_parse_u64(irq + id + 1, irq_len - id - 1, UINT32_MAX, &unused_id) != 0))
		return MIST_EINVAL;
	dev->base = addr;
	dev->size = size;
	dev->irq = (unsigned)gsi;
	return 0;
}

/*
 * Sets *taken to whether `word` is the platform's, parsing it if so. Returns 0,
 * or MIST_EINVAL after writing the reason into `error`.
 */
static int take_platform_word(const char *word, struct pvh_cmdline *out, char *error,
                              size_t error_len, bool *taken)
{
	*taken = true;
	if (has_prefix(word, VIRTIO_MMIO_WORD)) {
		if (out->virtio_count == PVH_VIRTIO_MMIO_MAX) {
			mist_snprintf(error, error_len, "%s: more than %d virtio-mmio devices",
			              word, PVH_VIRTIO_MMIO_MAX);
			return MIST_EINVAL;
		}
		if (parse_virtio_mmio(word + mist_strlen(VIRTIO_MMIO_WORD),
		                      &out->virtio[out->virtio_count]) != 0) {
			mist_snprintf(error, error_len,
			              "%s: expected virtio_mmio.device=<size>@<base>:<irq>", word);
			return MIST_EINVAL;
		}
		out->virtio_count++;
		return 0;
	}
	for (size_t i = 0; i < sizeof(ignored_prefixes) / sizeof(ignored_prefixes[0]); i++)
		if (has_prefix(word, ignored_prefixes[i]))
			return 0;
	*taken = false;
	return 0;
}

int pvh_cmdline_parse(char *text, const char *program, struct pvh_cmdline *out, char *error,
                      size_t error_len)
{
	mist_memset(out, 0, sizeof(*out));
	out->argv[out->argc++] = (char *)program;

	char *p = text;
	for (;;) {
		while (is_blank(*p))
			p++;
		if (*p == '\0')
			break;
		char *word = p;
		while (*p != '\0' && !is_blank(*p))
			p++;
		if (*p != '\0')
			*p++ = '\0';

		bool taken;
		int err = take_platform_word(word, out, error, error_len, &taken);
		if (err != 0)
			return err;
		if (taken)
			continue;
		if (out->argc == PVH_ARGV_MAX) {
			mist_snprintf(error, error_len, "more than %d boot arguments",
			              PVH_ARGV_MAX - 1);
			return MIST_EINVAL;
		}
		out->argv[out->argc++] = word;
	}
	out->argv[out->argc] = NULL;
	return 0;
}
