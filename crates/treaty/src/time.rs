//! Calendar arithmetic for Art. 10's "six months", and times as people read them in
//! refusals (RFC 3339): pure, UTC, proleptic Gregorian.

use coop_core::Timestamp;

const DAY_MS: u64 = 86_400_000;

/// Days since 1970-01-01 → (year, month 1-12, day 1-31). H. Hinnant's algorithm.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// (year, month, day) → days since 1970-01-01.
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        4 | 6 | 9 | 11 => 30,
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        _ => 31,
    }
}

/// `t` plus `months` calendar months, same time of day; the day is clamped to the end of
/// a shorter month (31 August + 6 months = 28/29 February).
pub fn add_months(t: Timestamp, months: u32) -> Timestamp {
    let days = (t.0 / DAY_MS) as i64;
    let rest = t.0 % DAY_MS;
    let (y, m, d) = civil_from_days(days);
    let total = (m - 1) + months;
    let y2 = y + i64::from(total / 12);
    let m2 = total % 12 + 1;
    let d2 = d.min(days_in_month(y2, m2));
    let days2 = days_from_civil(y2, m2, d2);
    Timestamp(
        (days2.max(0) as u64)
            .saturating_mul(DAY_MS)
            .saturating_add(rest),
    )
}

/// `t` as RFC 3339 in UTC, to the second, with milliseconds when there are any
/// (`2026-12-07T10:00:00Z`, `2026-12-07T10:00:00.250Z`): how a refusal says a time
/// (issue 30: it said "1812307516834 ms since the epoch").
pub fn rfc3339(t: Timestamp) -> String {
    let days = (t.0 / DAY_MS) as i64;
    let rest = t.0 % DAY_MS;
    let (y, m, d) = civil_from_days(days);
    let (h, min, s, ms) = (
        rest / 3_600_000,
        rest / 60_000 % 60,
        rest / 1000 % 60,
        rest % 1000,
    );
    if ms == 0 {
        format!("{y:04}-{m:02}-{d:02}T{h:02}:{min:02}:{s:02}Z")
    } else {
        format!("{y:04}-{m:02}-{d:02}T{h:02}:{min:02}:{s:02}.{ms:03}Z")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(y: i64, m: u32, d: u32) -> Timestamp {
        Timestamp(days_from_civil(y, m, d) as u64 * DAY_MS)
    }

    #[test]
    fn times_read_as_rfc3339() {
        assert_eq!(rfc3339(Timestamp(0)), "1970-01-01T00:00:00Z");
        assert_eq!(
            rfc3339(Timestamp(1_764_028_800_000)),
            "2025-11-25T00:00:00Z"
        );
        assert_eq!(
            rfc3339(Timestamp(1_764_028_800_250)),
            "2025-11-25T00:00:00.250Z"
        );
    }

    #[test]
    fn six_months() {
        assert_eq!(add_months(ts(2025, 1, 15), 6), ts(2025, 7, 15));
        assert_eq!(add_months(ts(2025, 8, 31), 6), ts(2026, 2, 28));
        assert_eq!(add_months(ts(2027, 8, 31), 6), ts(2028, 2, 29));
        assert_eq!(add_months(ts(2025, 12, 1), 1), ts(2026, 1, 1));
        assert_eq!(
            add_months(Timestamp(ts(2024, 10, 10).0 + 5), 12),
            Timestamp(ts(2025, 10, 10).0 + 5)
        );
    }

    #[test]
    fn round_trip_days() {
        for z in [-1000i64, 0, 59, 60, 365, 10_000, 20_000, 100_000] {
            let (y, m, d) = civil_from_days(z);
            assert_eq!(days_from_civil(y, m, d), z);
        }
    }
}
