//! Spreadsheet cell → text, one rule for XLSX and XLS.
//!
//! Phones are the reason this matters: a spreadsheet stores `5491123456789` as the float `5491123456789.0`, and a
//! phone typed as `5.49112345678E12` as `5491123456780.0`. Both must come out as exact digits, never in scientific
//! notation and never with a `.0`.

use calamine::{DataType, ExcelDateTime};
use chrono::{NaiveDateTime, TimeDelta, Timelike};

/// Integral floats below this print as integers; every integer below it is exact in an `f64` (2^53 ≈ 9.007e15),
/// and E.164 numbers have at most 15 digits.
const INTEGRAL_BELOW: f64 = 1e15;

/// The text of one cell: strings as they are; integral floats below 1e15 as integers, other floats in Rust's
/// shortest round-trip form (never an exponent); ints as ints; booleans `true`/`false`; dates in ISO 8601
/// (`2024-03-15` at midnight, else `2024-03-16T10:30:00`; a time-only cell `10:30:00`); errors and empty cells "".
pub fn cell_text<T: DataType>(cell: &T) -> String {
    if let Some(s) = cell.get_string() {
        return s.to_owned();
    }
    if let Some(f) = cell.get_float() {
        return float_text(f);
    }
    if let Some(i) = cell.get_int() {
        return i.to_string();
    }
    if let Some(b) = cell.get_bool() {
        return b.to_string();
    }
    if let Some(d) = cell.get_datetime() {
        return datetime_text(&d);
    }
    if let Some(s) = cell.get_datetime_iso() {
        return s.to_owned();
    }
    if let Some(s) = cell.get_duration_iso() {
        return s.to_owned();
    }
    String::new()
}

/// A float as a spreadsheet user typed it.
pub fn float_text(f: f64) -> String {
    if f.is_finite() && f.fract() == 0.0 && f.abs() < INTEGRAL_BELOW {
        // In range by the check above, so the cast is exact.
        return (f as i64).to_string();
    }
    f.to_string()
}

fn datetime_text(d: &ExcelDateTime) -> String {
    let serial = d.as_f64();
    if d.is_duration() {
        let seconds = (serial * 86_400.0).round() as i64;
        let sign = if seconds < 0 { "-" } else { "" };
        let s = seconds.abs();
        return format!("{sign}{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60);
    }
    let Some(dt) = d.as_datetime().and_then(round_to_second) else {
        return float_text(serial);
    };
    // Serial 0.x is a time of day with no date (Excel shows it as 1900-01-00).
    if (0.0..1.0).contains(&serial) {
        return dt.format("%H:%M:%S").to_string();
    }
    if dt.time() == chrono::NaiveTime::MIN {
        dt.format("%Y-%m-%d").to_string()
    } else {
        dt.format("%Y-%m-%dT%H:%M:%S").to_string()
    }
}

/// Excel stores times as fractions of a day, so 10:30 may come back as 10:29:59.999.
fn round_to_second(dt: NaiveDateTime) -> Option<NaiveDateTime> {
    dt.checked_add_signed(TimeDelta::milliseconds(500))?.with_nanosecond(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use calamine::{Data, DataRef, ExcelDateTimeType};

    fn date(value: f64) -> Data {
        Data::DateTime(ExcelDateTime::new(value, ExcelDateTimeType::DateTime, false))
    }

    #[test]
    fn numbers_are_exact_digits() {
        assert_eq!(cell_text(&Data::Float(5491123456789.0)), "5491123456789");
        assert_eq!(cell_text(&Data::Float(5.49112345678e12)), "5491123456780");
        assert_eq!(cell_text(&Data::Float(-0.0)), "0");
        assert_eq!(cell_text(&Data::Float(12.5)), "12.5");
        assert_eq!(cell_text(&Data::Float(0.1 + 0.2)), "0.30000000000000004");
        assert_eq!(cell_text(&Data::Float(1e15)), "1000000000000000");
        assert_eq!(cell_text(&Data::Float(1e21)), "1000000000000000000000");
        assert_eq!(cell_text(&Data::Int(-42)), "-42");
        assert_eq!(cell_text(&DataRef::Float(34612345678.0)), "34612345678");
    }

    #[test]
    fn other_cells() {
        assert_eq!(cell_text(&Data::Bool(true)), "true");
        assert_eq!(cell_text(&Data::Bool(false)), "false");
        assert_eq!(cell_text(&Data::String(" x ".into())), " x ");
        assert_eq!(cell_text(&DataRef::SharedString("shared")), "shared");
        assert_eq!(cell_text(&Data::Empty), "");
        assert_eq!(cell_text(&Data::Error(calamine::CellErrorType::NA)), "");
        assert_eq!(
            cell_text(&Data::DateTimeIso("2024-03-15T10:00:00".into())),
            "2024-03-15T10:00:00"
        );
    }

    #[test]
    fn dates_in_iso_8601() {
        assert_eq!(cell_text(&date(45366.0)), "2024-03-15");
        assert_eq!(cell_text(&date(45367.4375)), "2024-03-16T10:30:00");
        // 10:30 a hair early, as float arithmetic leaves it.
        assert_eq!(cell_text(&date(45367.4375 - 1e-9)), "2024-03-16T10:30:00");
        assert_eq!(cell_text(&date(0.4375)), "10:30:00");
        let duration = Data::DateTime(ExcelDateTime::new(1.5, ExcelDateTimeType::TimeDelta, false));
        assert_eq!(cell_text(&duration), "36:00:00");
    }
}
