/*
 * The CMOS real-time clock (Motorola MC146818, as QEMU models it): the
 * wall clock at one-second resolution, read once; 0 (the epoch) without one. Its registers are read
 * through index port 0x70 and data port 0x71; the fields are BCD or binary
 * and the hour 12- or 24-hour as status register B says. The update cycle
 * is avoided by reading until two passes agree with no update in progress.
 */
#include "civil_time.h"
#include "io.h"
#include "pvh_internal.h"

#define CMOS_INDEX 0x70
#define CMOS_DATA  0x71

#define RTC_SECONDS  0x00
#define RTC_MINUTES  0x02
#define RTC_HOURS    0x04
#define RTC_DAY      0x07
#define RTC_MONTH    0x08
#define RTC_YEAR     0x09
#define RTC_STATUS_A 0x0a
#define RTC_STATUS_B 0x0b
#define RTC_CENTURY  0x32 /* where PC firmware, and QEMU, keep the century */

#define RTC_A_UPDATE_IN_PROGRESS 0x80
#define RTC_B_24_HOUR            0x02
#define RTC_B_BINARY             0x04
#define RTC_HOUR_PM              0x80

#define RTC_READ_TRIES 1000
/* An update takes under 2 ms; a flag stuck for this many polls means no RTC (0xff). */
#define RTC_UPDATE_POLLS 1000000u

struct rtc_fields {
	uint8_t second, minute, hour, day, month, year, century;
};

static uint8_t cmos_read(uint8_t reg)
{
	outb(CMOS_INDEX, reg);
	return inb(CMOS_DATA);
}

/* Reads every field once, outside an update. False if the update never ends. */
static bool rtc_read_fields(struct rtc_fields *f)
{
	unsigned polls = 0;
	while ((cmos_read(RTC_STATUS_A) & RTC_A_UPDATE_IN_PROGRESS) != 0)
		if (++polls == RTC_UPDATE_POLLS)
			return false;
	f->second = cmos_read(RTC_SECONDS);
	f->minute = cmos_read(RTC_MINUTES);
	f->hour = cmos_read(RTC_HOURS);
	f->day = cmos_read(RTC_DAY);
	f->month = cmos_read(RTC_MONTH);
	f->year = cmos_read(RTC_YEAR);
	f->century = cmos_read(RTC_CENTURY);
	return true;
}

static unsigned rtc_value(uint8_t v, bool binary)
{
	return binary ? v : (v >> 4) * 10u + (v & 0x0f);
}

uint64_t pvh_rtc_read(void)
{
	struct rtc_fields a, b;
	unsigned tries = 0;

	if (!rtc_read_fields(&b))
		return 0;
	do {
		a = b;
		if (!rtc_read_fields(&b))
			return 0;
	} while ((a.second != b.second || a.minute != b.minute || a.hour != b.hour ||
	          a.day != b.day || a.month != b.month || a.year != b.year) &&
	         ++tries < RTC_READ_TRIES);

	uint8_t status_b = cmos_read(RTC_STATUS_B);
	bool binary = (status_b & RTC_B_BINARY) != 0;
	bool pm = (b.hour & RTC_HOUR_PM) != 0;
	unsigned second = rtc_value(b.second, binary);
	unsigned minute = rtc_value(b.minute, binary);
	unsigned hour = rtc_value(b.hour & (uint8_t)~RTC_HOUR_PM, binary);
	unsigned day = rtc_value(b.day, binary);
	unsigned month = rtc_value(b.month, binary);
	unsigned year = rtc_value(b.year, binary);
	unsigned century = rtc_value(b.century, binary);
	if ((status_b & RTC_B_24_HOUR) == 0)
		hour = hour % 12 + (pm ? 12 : 0);
	year += (century >= 19 && century <= 30 ? century : 20) * 100;
	if (month < 1 || month > 12 || day < 1 || day > 31 || year < 1970)
		return 0;
	return civil_to_unix_seconds(year, month, day, hour, minute, second);
}
