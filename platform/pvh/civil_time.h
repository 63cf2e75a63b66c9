/*
 * Calendar dates to seconds since the Unix epoch, for the CMOS real-time
 * clock, which counts in calendar fields. Proleptic Gregorian calendar, UTC,
 * years from 1970. Header-only and pure, for unit tests on the host.
 */
#ifndef MIST_PLATFORM_PVH_CIVIL_TIME_H
#define MIST_PLATFORM_PVH_CIVIL_TIME_H

#include <stdint.h>

#define CIVIL_SECONDS_PER_DAY 86400u

/*
 * Days from 1970-01-01 to `year`-`month`-`day` (month 1..12, day 1..31).
 * Counting years from March puts the leap day last, so that a year's
 * length before the month is a simple formula: 153 days per 5 months
 * (31+30+31+30+31) gives every month's start, and leap years add up as
 * year/4 - year/100 + year/400.
 */
static inline uint64_t civil_days_since_epoch(unsigned year, unsigned month, unsigned day)
{
	uint64_t y = month <= 2 ? year - 1 : year;
	unsigned march_month = month <= 2 ? month + 9 : month - 3; /* March = 0 */
	uint64_t day_of_year = (153 * march_month + 2) / 5 + day - 1;
	uint64_t days = y * 365 + y / 4 - y / 100 + y / 400 + day_of_year;
	/* The same count for 1970-01-01, from the same origin (0000-03-01). */
	const uint64_t epoch = 1969 * 365 + 1969 / 4 - 1969 / 100 + 1969 / 400 + 306;
	return days - epoch;
}

static inline uint64_t civil_to_unix_seconds(unsigned year, unsigned month, unsigned day,
                                             unsigned hour, unsigned minute, unsigned second)
{
	return civil_days_since_epoch(year, month, day) * CIVIL_SECONDS_PER_DAY + hour * 3600u +
	       minute * 60u + second;
}

#endif
