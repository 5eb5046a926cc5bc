/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Times and numbers as a user types them: `tail --since` and `report
 * --since` take RFC 3339 times or durations back from now (SPEC §4), event
 * times are RFC 3339 UTC with microseconds (SPEC §3), and numeric options
 * are strict decimals.
 *
 * Build and run: make test-build && .output/tests/test_util
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "util.h"
#include "unit.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define NS 1000000000ULL

/* 2023-11-14T22:13:20Z */
#define T0 1700000000ULL

/* Parse S; on success *NS, else ~0. */
static uint64_t parse(const char *s)
{
	uint64_t ns = 0;

	return cg_parse_time(s, &ns) == 0 ? ns : ~0ULL;
}

#define CHECK_TIME(s, want)                                                  \
	CHECK(parse(s) == (want), "\"%s\": got %llu, want %llu", (s),       \
	      (unsigned long long)parse(s), (unsigned long long)(want))

#define CHECK_BAD_TIME(s)                                                    \
	CHECK(parse(s) == ~0ULL, "\"%s\" accepted as %llu", (s),             \
	      (unsigned long long)parse(s))

static void format_time_is_rfc3339_utc_micros(void)
{
	char buf[64];

	cg_format_time(0, buf, sizeof(buf));
	CHECK_STR(buf, "1970-01-01T00:00:00.000000Z");
	cg_format_time(T0 * NS + 123456789, buf, sizeof(buf));
	CHECK_STR(buf, "2023-11-14T22:13:20.123456Z");
	cg_format_time(1709210096 * NS + 999999999, buf, sizeof(buf));
	CHECK_STR(buf, "2024-02-29T12:34:56.999999Z");
	cg_format_time(1735689599 * NS, buf, sizeof(buf));
	CHECK_STR(buf, "2024-12-31T23:59:59.000000Z");
	/* A short buffer gets a cut, NUL-terminated string. */
	memset(buf, 'X', sizeof(buf));
	cg_format_time(0, buf, 5);
	CHECK_STR(buf, "1970");
}

static void format_then_parse_round_trips(void)
{
	static const uint64_t times[] = {
		0,
		1000,
		T0 * NS + 123456000,
		1709210096 * NS + 999999000, /* 2024-02-29 */
		951782400 * NS,		     /* 2000-02-29 */
		4102444799 * NS + 1000,	     /* 2099-12-31T23:59:59 */
		16725225599 * NS,	     /* 2499-12-31T23:59:59 */
	};
	char buf[64];

	for (size_t i = 0; i < ARRAY_SIZE(times); i++) {
		uint64_t got = 0;

		cg_format_time(times[i], buf, sizeof(buf));
		CHECK(cg_parse_time(buf, &got) == 0, "\"%s\" refused", buf);
		CHECK(got == times[i], "\"%s\": got %llu, want %llu", buf,
		      (unsigned long long)got, (unsigned long long)times[i]);
	}
	/* Nanoseconds are cut to microseconds on the way out. */
	cg_format_time(T0 * NS + 123456789, buf, sizeof(buf));
	CHECK_TIME(buf, T0 * NS + 123456000);
}

static void parse_time_offsets(void)
{
	CHECK_TIME("2023-11-14T22:13:20Z", T0 * NS);
	CHECK_TIME("2023-11-15T00:13:20+02:00", T0 * NS);
	CHECK_TIME("2023-11-14T20:13:20-02:00", T0 * NS);
	CHECK_TIME("2023-11-15T03:43:20+05:30", T0 * NS);
	CHECK_TIME("2023-11-14T22:13:20+00:00", T0 * NS);
	CHECK_TIME("2023-11-14T22:13:20-00:00", T0 * NS);
	/* Across a day and a year boundary. */
	CHECK_TIME("2024-01-01T01:00:00+02:00", 1704063600 * NS);
	CHECK_TIME("2023-12-31T20:00:00-03:00", 1704063600 * NS);
	/* Offset with a fraction. */
	CHECK_TIME("2023-11-15T00:13:20.5+02:00", T0 * NS + 500000000);
}

static void parse_time_lenient_rfc3339_forms(void)
{
	/* RFC 3339 §5.6 allows lowercase t/z, and a space for T (NOTE). */
	CHECK_TIME("2023-11-14t22:13:20z", T0 * NS);
	CHECK_TIME("2023-11-14 22:13:20Z", T0 * NS);
}

static void parse_time_fraction_digits_0_to_9(void)
{
	static const struct {
		const char *s;
		uint64_t frac;
	} cases[] = {
		{ "2023-11-14T22:13:20Z", 0 },
		{ "2023-11-14T22:13:20.1Z", 100000000 },
		{ "2023-11-14T22:13:20.12Z", 120000000 },
		{ "2023-11-14T22:13:20.123Z", 123000000 },
		{ "2023-11-14T22:13:20.1234Z", 123400000 },
		{ "2023-11-14T22:13:20.12345Z", 123450000 },
		{ "2023-11-14T22:13:20.123456Z", 123456000 },
		{ "2023-11-14T22:13:20.1234567Z", 123456700 },
		{ "2023-11-14T22:13:20.12345678Z", 123456780 },
		{ "2023-11-14T22:13:20.123456789Z", 123456789 },
		/* Past nanoseconds: kept to the nanosecond, not rounded. */
		{ "2023-11-14T22:13:20.123456789999Z", 123456789 },
		{ "2023-11-14T22:13:20.000000001Z", 1 },
		{ "2023-11-14T22:13:20.999999999Z", 999999999 },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
		CHECK_TIME(cases[i].s, T0 * NS + cases[i].frac);
}

static void parse_time_rejects_invalid_forms(void)
{
	static const char *const bad[] = {
		"",
		"2023",
		"2023-11-14",
		"2023-11-14T22:13",
		"2023-11-14T22:13:20",	   /* no Z or offset */
		"2023-13-14T22:13:20Z",	   /* month 13 */
		"2023-00-14T22:13:20Z",	   /* month 0 */
		"2023-11-00T22:13:20Z",	   /* day 0 */
		"2023-11-32T22:13:20Z",	   /* day 32 */
		"2023-11-14T24:00:00Z",	   /* hour 24 */
		"2023-11-14T22:60:00Z",	   /* minute 60 */
		"2023-11-14T22:13:61Z",	   /* second 61 */
		"2023-11-14T22:13:20Zjunk", /* trailing junk */
		"2023-11-14T22:13:20Z ",
		"2023-11-14T22:13:20.Z", /* '.' without digits */
		"2023-11-14T22:13:20.123",
		"2023-11-14T22:13:20+02", /* offset without minutes */
		"2023-11-14T22:13:20+0200",
		"2023-11-14T22:13:20+02:00x",
		"2023-11-14X22:13:20Z",
		"2023/11/14T22:13:20Z",
		"23-11-14T22:13:20Z",
		"2023-1-14T22:13:20Z",
		"2023-11-14T2:13:20Z",
		" 2023-11-14T22:13:20Z",
		"+2023-11-14T22:13:20Z",
		"1969-12-31T23:59:59Z", /* before the epoch */
		"1970-01-01T00:30:00+01:00",
		"90s",
		"now",
	};

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		CHECK_BAD_TIME(bad[i]);
}

/* Dates that do not exist must not become other dates. */
static void parse_time_rejects_day_past_end_of_month(void)
{
	CHECK_BAD_TIME("2023-02-29T00:00:00Z"); /* not a leap year */
	CHECK_BAD_TIME("2023-02-30T00:00:00Z");
	CHECK_BAD_TIME("2023-04-31T00:00:00Z");
	CHECK_BAD_TIME("2100-02-29T00:00:00Z");
	CHECK_TIME("2024-02-29T00:00:00Z", 1709164800 * NS);
	CHECK_TIME("2000-02-29T00:00:00Z", 951782400 * NS);
}

/* RFC 3339 time-numoffset: hours 00-23, minutes 00-59. */
static void parse_time_rejects_offset_out_of_range(void)
{
	CHECK_BAD_TIME("2023-11-14T22:13:20+24:00");
	CHECK_BAD_TIME("2023-11-14T22:13:20+99:99");
	CHECK_BAD_TIME("2023-11-14T22:13:20-00:60");
	CHECK_TIME("2023-11-14T22:13:20+23:59", T0 * NS - (23 * 3600 + 59 * 60) * NS);
}

/* ---- cg_parse_since --------------------------------------------------- */

/* S parses to now - BACK seconds, within the time the call took + 1 s. */
static void check_since(const char *s, uint64_t back)
{
	uint64_t before, after, got = 0;
	int r;

	before = cg_now_real_ns();
	r = cg_parse_since(s, &got);
	after = cg_now_real_ns();
	CHECK(r == 0, "\"%s\" refused", s);
	if (r)
		return;
	CHECK(got + back * NS >= before - NS && got + back * NS <= after + NS,
	      "\"%s\": %lld ns off", s,
	      (long long)(got + back * NS) - (long long)before);
}

static void parse_since_durations_back_from_now(void)
{
	check_since("90s", 90);
	check_since("15m", 15 * 60);
	check_since("2h", 2 * 3600);
	check_since("1d", 86400);
	check_since("0s", 0);
	check_since("7d", 7 * 86400);
	check_since("3600s", 3600);
	check_since("1000d", 1000ULL * 86400);
}

static void parse_since_takes_rfc3339(void)
{
	uint64_t got = 0;

	CHECK_INT(cg_parse_since("2023-11-14T22:13:20Z", &got), 0);
	CHECK(got == T0 * NS, "got %llu", (unsigned long long)got);
	CHECK_INT(cg_parse_since("2023-11-15T00:13:20.25+02:00", &got), 0);
	CHECK(got == T0 * NS + 250000000, "got %llu", (unsigned long long)got);
}

static void parse_since_rejects_bad_durations(void)
{
	static const char *const bad[] = {
		"", "s", "m", "5", "5x", "5S", "5M", "-5m", "+5m", " 5m", "5m ",
		"5 m", "5ms", "1.5h", "0x10s", "h2", "5mm", "1e3s", "5w", "5y",
		"99999999999999999999999s", "2023-13-01T00:00:00Z",
	};
	uint64_t got;

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		got = 12345;
		CHECK(cg_parse_since(bad[i], &got) == -1, "\"%s\" accepted",
		      bad[i]);
		CHECK(got == 12345, "\"%s\": output written on failure",
		      bad[i]);
	}
}

/*
 * A duration that reaches back past 1970 must not wrap around to a time in
 * the far future (which would make `tail --since 30000d` print nothing):
 * refuse it or clamp it to the epoch.
 */
static void parse_since_longer_than_epoch_does_not_wrap(void)
{
	static const char *const longs[] = { "30000d", "1000000h",
					     "3000000000s", "36500d" };

	for (size_t i = 0; i < ARRAY_SIZE(longs); i++) {
		uint64_t got = 0, now = cg_now_real_ns();
		int r = cg_parse_since(longs[i], &got);

		CHECK(r == -1 || got <= now,
		      "\"%s\" gives %llu ns, after now (%llu)", longs[i],
		      (unsigned long long)got, (unsigned long long)now);
	}
}

/* ---- cg_parse_u64 ----------------------------------------------------- */

static uint64_t u64_or(const char *s, uint64_t min, uint64_t max,
		       uint64_t fail)
{
	uint64_t v = fail;

	return cg_parse_u64(s, min, max, &v) == 0 ? v : fail;
}

#define BAD 0xbadbadULL

static void parse_u64_bounds(void)
{
	CHECK(u64_or("0", 0, 10, BAD) == 0, "0");
	CHECK(u64_or("10", 0, 10, BAD) == 10, "max is inclusive");
	CHECK(u64_or("11", 0, 10, BAD) == BAD, "past max");
	CHECK(u64_or("5", 5, 5, BAD) == 5, "min == max");
	CHECK(u64_or("4", 5, 10, BAD) == BAD, "below min");
	CHECK(u64_or("65535", 1, 65535, BAD) == 65535, "port 65535");
	CHECK(u64_or("65536", 1, 65535, BAD) == BAD, "port 65536");
	CHECK(u64_or("0", 1, 65535, BAD) == BAD, "port 0");
	CHECK(u64_or("18446744073709551615", 0, UINT64_MAX, BAD) == UINT64_MAX,
	      "UINT64_MAX");
	CHECK(u64_or("18446744073709551616", 0, UINT64_MAX, BAD) == BAD,
	      "UINT64_MAX + 1");
	CHECK(u64_or("99999999999999999999999", 0, UINT64_MAX, BAD) == BAD,
	      "far past UINT64_MAX");
	CHECK(u64_or("007", 0, 10, BAD) == 7, "leading zeros are decimal");
}

static void parse_u64_rejects_junk_and_signs(void)
{
	static const char *const bad[] = {
		"",    "-1",  "-0",	"+1",	" 1", "1 ", "1x", "x1", "0x10",
		"1e3", "1.0", "1,000", "\t1", "1\n", "--1", "\xd9\xa1",
	};
	uint64_t v;

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		v = BAD;
		CHECK(cg_parse_u64(bad[i], 0, UINT64_MAX, &v) == -1,
		      "\"%s\" accepted as %llu", bad[i], (unsigned long long)v);
		CHECK(v == BAD, "\"%s\": output written on failure", bad[i]);
	}
	CHECK(cg_parse_u64(NULL, 0, 10, &v) == -1, "NULL accepted");
}

int main(void)
{
	RUN(format_time_is_rfc3339_utc_micros);
	RUN(format_then_parse_round_trips);
	RUN(parse_time_offsets);
	RUN(parse_time_lenient_rfc3339_forms);
	RUN(parse_time_fraction_digits_0_to_9);
	RUN(parse_time_rejects_invalid_forms);
	RUN(parse_time_rejects_day_past_end_of_month);
	RUN(parse_time_rejects_offset_out_of_range);
	RUN(parse_since_durations_back_from_now);
	RUN(parse_since_takes_rfc3339);
	RUN(parse_since_rejects_bad_durations);
	RUN(parse_since_longer_than_epoch_does_not_wrap);
	RUN(parse_u64_bounds);
	RUN(parse_u64_rejects_junk_and_signs);
	UNIT_DONE();
}
