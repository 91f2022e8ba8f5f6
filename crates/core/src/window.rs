//! Send windows: the hours of the day and the days of the week a campaign may deliver in, either in one fixed IANA
//! time zone or in each recipient's local time.
//!
//! A window is `start`..`end` (end exclusive) on each of its `days`. When `end` is earlier than `start` the window
//! runs over midnight: `22:00`–`06:00` on Friday is open from Friday 22:00 to Saturday 06:00, so the day named is
//! the day the window *opens* (Saturday 03:00 is open only if Friday is one of the days). `start == end` is refused
//! by [`SendWindow::validate`].
//!
//! Times are wall-clock times in the zone. Across a daylight-saving change the window follows the clock: when
//! clocks jump forward over `start` the window opens at the first instant after the jump; when they fall back, an
//! hour that occurs twice is open both times if it is inside the window.
//!
//! For windows in the recipient's time, the zone comes from the recipient's phone-number region
//! ([`time_zone_of_region`]): a country with one time zone gets it; a country with several gets its **most populous
//! zone** (US → `America/New_York`, BR → `America/Sao_Paulo`, MX → `America/Mexico_City`, RU → `Europe/Moscow`,
//! CA → `America/Toronto`, AU → `Australia/Sydney`, ID → `Asia/Jakarta`, AR → `America/Argentina/Buenos_Aires`,
//! ES → `Europe/Madrid`, …), since a phone number does not say where in the country its owner is. A recipient whose
//! region is unknown gets the window's `fallback` zone, or UTC when there is none.
//!
//! The JSON shape:
//!
//! ```json
//! {"start": "09:00", "end": "18:00", "days": ["mon", "tue", "wed", "thu", "fri"],
//!  "zone": "recipient", "fallback": "America/Argentina/Buenos_Aires"}
//! ```
//!
//! `days` may be left out for every day; `end` may be written `"24:00"` for midnight; `zone` is an IANA name such
//! as `"Europe/Madrid"` or `"recipient"`; `fallback` is only used with `"recipient"`.

use std::fmt;
use std::str::FromStr;

use chrono::{
    DateTime, Datelike, LocalResult, NaiveDateTime, NaiveTime, Offset, TimeDelta, TimeZone, Timelike, Utc, Weekday,
};
use chrono_tz::{GapInfo, Tz};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// How far ahead [`SendWindow::next_open`] looks.
pub const LOOKAHEAD_DAYS: i64 = 8;

/// A set of weekdays, stored as a bitmask (bit 0 = Monday). Serialised as `["mon", "tue", …]` in week order.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Weekdays(u8);

const DAY_NAMES: [(&str, &str, Weekday); 7] = [
    ("mon", "monday", Weekday::Mon),
    ("tue", "tuesday", Weekday::Tue),
    ("wed", "wednesday", Weekday::Wed),
    ("thu", "thursday", Weekday::Thu),
    ("fri", "friday", Weekday::Fri),
    ("sat", "saturday", Weekday::Sat),
    ("sun", "sunday", Weekday::Sun),
];

impl Weekdays {
    /// No day.
    pub const NONE: Weekdays = Weekdays(0);
    /// Every day of the week.
    pub const ALL: Weekdays = Weekdays(0b111_1111);
    /// Monday to Friday.
    pub const MON_TO_FRI: Weekdays = Weekdays(0b001_1111);

    const fn bit(day: Weekday) -> u8 {
        1 << day.num_days_from_monday()
    }

    /// Whether `day` is in the set.
    pub const fn contains(self, day: Weekday) -> bool {
        self.0 & Self::bit(day) != 0
    }

    /// The set with `day` added.
    #[must_use]
    pub const fn with(self, day: Weekday) -> Weekdays {
        Weekdays(self.0 | Self::bit(day))
    }

    /// Adds `day` to the set.
    pub fn insert(&mut self, day: Weekday) {
        self.0 |= Self::bit(day);
    }

    /// Whether the set is empty.
    pub const fn is_empty(self) -> bool {
        self.0 & Self::ALL.0 == 0
    }

    /// How many days the set holds.
    pub const fn len(self) -> usize {
        (self.0 & Self::ALL.0).count_ones() as usize
    }

    /// The days in week order, Monday first.
    pub fn iter(self) -> impl Iterator<Item = Weekday> {
        DAY_NAMES.iter().map(|(_, _, d)| *d).filter(move |d| self.contains(*d))
    }
}

impl FromIterator<Weekday> for Weekdays {
    fn from_iter<I: IntoIterator<Item = Weekday>>(iter: I) -> Self {
        iter.into_iter().fold(Weekdays::NONE, Weekdays::with)
    }
}

/// The day named `s`: `mon`, `Monday`, `TUE`, … (three-letter or full English name, any case).
pub fn parse_weekday(s: &str) -> Option<Weekday> {
    let s = s.trim();
    DAY_NAMES
        .iter()
        .find(|(short, long, _)| s.eq_ignore_ascii_case(short) || s.eq_ignore_ascii_case(long))
        .map(|(_, _, d)| *d)
}

fn weekday_name(day: Weekday) -> &'static str {
    DAY_NAMES[day.num_days_from_monday() as usize].0
}

impl Serialize for Weekdays {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter().map(weekday_name))
    }
}

impl<'de> Deserialize<'de> for Weekdays {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let names = Vec::<String>::deserialize(d)?;
        parse_days(&names).map_err(serde::de::Error::custom)
    }
}

fn parse_days(names: &[String]) -> Result<Weekdays, WindowError> {
    names
        .iter()
        .map(|n| parse_weekday(n).ok_or_else(|| WindowError::UnknownDay(n.clone())))
        .collect()
}

/// Which clock a window follows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum WindowZone {
    /// One IANA zone for every recipient. Serialised as its name, like `"Europe/Madrid"`.
    Fixed(Tz),
    /// Each recipient's local time, from their phone number's region. Serialised as `"recipient"`.
    Recipient,
}

/// The IANA zone named `name`: exact first, then ignoring ASCII case (`america/argentina/buenos_aires`).
pub fn parse_time_zone(name: &str) -> Option<Tz> {
    let name = name.trim();
    Tz::from_str(name).ok().or_else(|| {
        chrono_tz::TZ_VARIANTS
            .iter()
            .copied()
            .find(|tz| tz.name().eq_ignore_ascii_case(name))
    })
}

impl WindowZone {
    /// `"recipient"` (any case) or an IANA zone name.
    pub fn parse(s: &str) -> Result<WindowZone, WindowError> {
        if s.trim().eq_ignore_ascii_case("recipient") {
            return Ok(WindowZone::Recipient);
        }
        parse_time_zone(s)
            .map(WindowZone::Fixed)
            .ok_or_else(|| WindowError::UnknownZone {
                field: "zone",
                name: s.to_owned(),
            })
    }

    /// The serialised form: the IANA name or `recipient`.
    pub fn as_str(&self) -> &'static str {
        match self {
            WindowZone::Fixed(tz) => tz.name(),
            WindowZone::Recipient => "recipient",
        }
    }
}

impl FromStr for WindowZone {
    type Err = WindowError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        WindowZone::parse(s)
    }
}

impl fmt::Display for WindowZone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for WindowZone {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for WindowZone {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        WindowZone::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// Why a send window was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WindowError {
    /// `days` is empty: the window would never open.
    #[error("`days` must name at least one day (mon, tue, wed, thu, fri, sat, sun)")]
    NoDays,
    /// `start == end`: the window would never open.
    #[error("`start` and `end` are both {0}: the window would never open")]
    StartIsEnd(String),
    /// A time that is not on a whole minute.
    #[error("`{0}` must be a whole minute (HH:MM)")]
    NotWholeMinute(&'static str),
    /// A time that is not `HH:MM`.
    #[error("`{field}`: `{value}` is not a time of day written HH:MM, like 09:00 or 18:30")]
    BadTime {
        /// `start` or `end`.
        field: &'static str,
        /// What was given.
        value: String,
    },
    /// A day name that is not a day.
    #[error("`days`: `{0}` is not a day; use mon, tue, wed, thu, fri, sat or sun")]
    UnknownDay(String),
    /// A zone that is not an IANA zone name.
    #[error("`{field}`: `{name}` is not an IANA time zone such as `America/Argentina/Buenos_Aires` or `Europe/Madrid`")]
    UnknownZone {
        /// `zone` or `fallback`.
        field: &'static str,
        /// What was given.
        name: String,
    },
    /// The JSON is not a window object (a field missing or of the wrong type).
    #[error("not a send window: {0}")]
    Shape(String),
}

impl WindowError {
    /// The field the error is about, for `details.field`.
    pub fn field(&self) -> Option<&'static str> {
        match self {
            WindowError::NoDays | WindowError::UnknownDay(_) => Some("days"),
            WindowError::StartIsEnd(_) => Some("end"),
            WindowError::NotWholeMinute(field) => Some(field),
            WindowError::BadTime { field, .. } | WindowError::UnknownZone { field, .. } => Some(field),
            WindowError::Shape(_) => None,
        }
    }
}

/// When a campaign may deliver: `start`..`end` (end exclusive, over midnight when `end < start`) on `days`, in
/// `zone`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "WireWindow", into = "WireWindow")]
pub struct SendWindow {
    /// The local time the window opens, on a whole minute.
    pub start: NaiveTime,
    /// The local time it closes (exclusive), on a whole minute; before `start` for a window over midnight.
    pub end: NaiveTime,
    /// The days the window opens on.
    pub days: Weekdays,
    /// The clock it follows.
    pub zone: WindowZone,
    /// With [`WindowZone::Recipient`], the zone of recipients whose region has none; UTC when absent.
    pub fallback: Option<Tz>,
}

#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct WireWindow {
    start: String,
    end: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    days: Option<Vec<String>>,
    zone: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    fallback: Option<String>,
}

fn parse_hhmm(field: &'static str, value: &str) -> Result<NaiveTime, WindowError> {
    let bad = || WindowError::BadTime {
        field,
        value: value.to_owned(),
    };
    let (h, m) = value.trim().split_once(':').ok_or_else(bad)?;
    let digits = |s: &str, lens: std::ops::RangeInclusive<usize>| {
        lens.contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit())
    };
    if !digits(h, 1..=2) || !digits(m, 2..=2) {
        return Err(bad());
    }
    let (h, m): (u32, u32) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    if field == "end" && h == 24 && m == 0 {
        return Ok(NaiveTime::MIN);
    }
    NaiveTime::from_hms_opt(h, m, 0).ok_or_else(bad)
}

impl TryFrom<WireWindow> for SendWindow {
    type Error = WindowError;
    fn try_from(w: WireWindow) -> Result<Self, Self::Error> {
        let window = SendWindow {
            start: parse_hhmm("start", &w.start)?,
            end: parse_hhmm("end", &w.end)?,
            days: match &w.days {
                Some(names) => parse_days(names)?,
                None => Weekdays::ALL,
            },
            zone: WindowZone::parse(&w.zone)?,
            fallback: match &w.fallback {
                Some(name) => Some(parse_time_zone(name).ok_or_else(|| WindowError::UnknownZone {
                    field: "fallback",
                    name: name.clone(),
                })?),
                None => None,
            },
        };
        window.validate()?;
        Ok(window)
    }
}

impl From<SendWindow> for WireWindow {
    fn from(w: SendWindow) -> Self {
        WireWindow {
            start: w.start.format("%H:%M").to_string(),
            end: w.end.format("%H:%M").to_string(),
            days: Some(w.days.iter().map(|d| weekday_name(d).to_owned()).collect()),
            zone: w.zone.as_str().to_owned(),
            fallback: w.fallback.map(|tz| tz.name().to_owned()),
        }
    }
}

/// `utc` in `tz` as a wall-clock time, or `None` at the very ends of the representable range.
fn local_time(at: DateTime<Utc>, tz: Tz) -> Option<NaiveDateTime> {
    let utc = at.naive_utc();
    utc.checked_add_offset(tz.offset_from_utc_datetime(&utc).fix())
}

impl SendWindow {
    /// A window `start`..`end` on `days` in `zone`, without a fallback. Call [`SendWindow::validate`] before use.
    pub fn new(start: NaiveTime, end: NaiveTime, days: Weekdays, zone: WindowZone) -> SendWindow {
        SendWindow {
            start,
            end,
            days,
            zone,
            fallback: None,
        }
    }

    /// Read and validate a window from its JSON form.
    pub fn from_json(value: &serde_json::Value) -> Result<SendWindow, WindowError> {
        let wire: WireWindow = serde_json::from_value(value.clone()).map_err(|e| WindowError::Shape(e.to_string()))?;
        SendWindow::try_from(wire)
    }

    /// Whether the window can ever open: at least one day, `start != end`, both on whole minutes.
    pub fn validate(&self) -> Result<(), WindowError> {
        for (field, t) in [("start", self.start), ("end", self.end)] {
            if t.second() != 0 || t.nanosecond() != 0 {
                return Err(WindowError::NotWholeMinute(field));
            }
        }
        if self.days.is_empty() {
            return Err(WindowError::NoDays);
        }
        if self.start == self.end {
            return Err(WindowError::StartIsEnd(self.start.format("%H:%M").to_string()));
        }
        Ok(())
    }

    /// Whether the window runs over midnight (`end` before `start`).
    pub fn is_overnight(&self) -> bool {
        self.end < self.start
    }

    /// The zone to evaluate the window in for a recipient whose phone number is from `region` (ISO 3166 alpha-2,
    /// `None` when unknown): the fixed zone, else the region's zone, else `fallback`, else UTC.
    pub fn zone_for(&self, region: Option<&str>) -> Tz {
        match self.zone {
            WindowZone::Fixed(tz) => tz,
            WindowZone::Recipient => region
                .and_then(time_zone_of_region)
                .or(self.fallback)
                .unwrap_or(Tz::UTC),
        }
    }

    fn is_open_local(&self, local: NaiveDateTime) -> bool {
        let (t, day) = (local.time(), local.weekday());
        if self.start < self.end {
            self.days.contains(day) && self.start <= t && t < self.end
        } else if self.end < self.start {
            (self.start <= t && self.days.contains(day)) || (t < self.end && self.days.contains(day.pred()))
        } else {
            false
        }
    }

    /// Whether the window is open at `at`, read on the clock of `tz`.
    pub fn is_open(&self, at: DateTime<Utc>, tz: Tz) -> bool {
        local_time(at, tz).is_some_and(|local| self.is_open_local(local))
    }

    /// The earliest instant at or after `at` at which the window is open in `tz`: `at` itself when open. When the
    /// opening time falls in a daylight-saving gap, the window opens at the end of the gap. Looks at most
    /// [`LOOKAHEAD_DAYS`] ahead: a window that never opens (no days, or `start == end`, both refused by
    /// [`SendWindow::validate`]) gives `at` plus that many days.
    pub fn next_open(&self, at: DateTime<Utc>, tz: Tz) -> DateTime<Utc> {
        let limit = at
            .checked_add_signed(TimeDelta::days(LOOKAHEAD_DAYS))
            .unwrap_or(DateTime::<Utc>::MAX_UTC);
        if self.is_open(at, tz) {
            return at;
        }
        let Some(today) = local_time(at, tz).map(|l| l.date()) else {
            return limit;
        };
        // The window goes from closed to open only when the clock reaches `start` (once, twice in a repeated hour,
        // or at the end of a gap that swallows it) or when clocks fall back from past `end` to before it. Every
        // such instant within reach is a candidate; the earliest one at which the window is open is the answer.
        let mut candidates: Vec<DateTime<Utc>> = Vec::with_capacity(24);
        for offset in -1..=LOOKAHEAD_DAYS + 1 {
            let Some(date) = today.checked_add_signed(TimeDelta::days(offset)) else {
                continue;
            };
            let opening = date.and_time(self.start);
            match tz.from_local_datetime(&opening) {
                LocalResult::Single(t) => candidates.push(t.with_timezone(&Utc)),
                LocalResult::Ambiguous(a, b) => {
                    candidates.push(a.with_timezone(&Utc));
                    candidates.push(b.with_timezone(&Utc));
                }
                LocalResult::None => {
                    if let Some(end) = GapInfo::new(&opening, &tz).and_then(|g| g.end) {
                        candidates.push(end.with_timezone(&Utc));
                    }
                }
            }
            if let LocalResult::Ambiguous(a, b) = tz.from_local_datetime(&date.and_time(self.end)) {
                let (a, b) = (a.with_timezone(&Utc), b.with_timezone(&Utc));
                let later = tz.offset_from_utc_datetime(&b.naive_utc()).fix();
                if let Some(t) = first_instant(a, b, |u| tz.offset_from_utc_datetime(&u.naive_utc()).fix() == later) {
                    candidates.push(t);
                }
            }
        }
        candidates
            .into_iter()
            .filter(|c| *c >= at && *c <= limit && self.is_open(*c, tz))
            .min()
            .unwrap_or(limit)
    }
}

/// The first whole second in `(lo, hi]` for which `pred` holds, given `pred(hi)` and that `pred` does not go back
/// to false once true.
fn first_instant(lo: DateTime<Utc>, hi: DateTime<Utc>, pred: impl Fn(DateTime<Utc>) -> bool) -> Option<DateTime<Utc>> {
    let (mut lo, mut hi) = (lo.timestamp(), hi.timestamp());
    let at = |s: i64| DateTime::<Utc>::from_timestamp(s, 0);
    if !at(hi).is_some_and(&pred) {
        return None;
    }
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if at(mid).is_some_and(&pred) {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    at(hi)
}

/// The primary IANA zone of an ISO 3166-1 alpha-2 region (`"AR"`, `"es"`, …; as `phonenumber` names them): the
/// country's only zone, or its most populous one (see the module documentation). `None` for a region that is not
/// in the table.
pub fn time_zone_of_region(region: &str) -> Option<Tz> {
    let region = region.trim();
    let bytes = region.as_bytes();
    if bytes.len() != 2 || !bytes.iter().all(u8::is_ascii_alphabetic) {
        return None;
    }
    let key = [bytes[0].to_ascii_uppercase(), bytes[1].to_ascii_uppercase()];
    REGION_ZONES
        .binary_search_by(|(r, _)| r.as_bytes().cmp(&key[..]))
        .ok()
        .and_then(|i| REGION_ZONES.get(i))
        .map(|(_, tz)| *tz)
}

/// Every region Pregon knows a zone for, sorted by region, each with its primary zone. It holds every region
/// libphonenumber has metadata for (so every region a WhatsApp number can come from) plus the inhabited territories
/// of the tz database's `zone.tab`. Ascension (AC) and Tristan da Cunha (TA) use St Helena's zone and Kosovo (XK)
/// Belgrade's, as the tz database has none for them.
pub static REGION_ZONES: &[(&str, Tz)] = &[
    ("AC", Tz::Atlantic__St_Helena), // Ascension Island (no zone of its own in the tz database)
    ("AD", Tz::Europe__Andorra),     // Andorra
    ("AE", Tz::Asia__Dubai),         // United Arab Emirates
    ("AF", Tz::Asia__Kabul),         // Afghanistan
    ("AG", Tz::America__Antigua),    // Antigua & Barbuda
    ("AI", Tz::America__Anguilla),   // Anguilla
    ("AL", Tz::Europe__Tirane),      // Albania
    ("AM", Tz::Asia__Yerevan),       // Armenia
    ("AO", Tz::Africa__Luanda),      // Angola
    ("AR", Tz::America__Argentina__Buenos_Aires), // Argentina (most populous of 12 zones)
    ("AS", Tz::Pacific__Pago_Pago),  // Samoa (American)
    ("AT", Tz::Europe__Vienna),      // Austria
    ("AU", Tz::Australia__Sydney),   // Australia (most populous of 12 zones)
    ("AW", Tz::America__Aruba),      // Aruba
    ("AX", Tz::Europe__Mariehamn),   // Åland Islands
    ("AZ", Tz::Asia__Baku),          // Azerbaijan
    ("BA", Tz::Europe__Sarajevo),    // Bosnia & Herzegovina
    ("BB", Tz::America__Barbados),   // Barbados
    ("BD", Tz::Asia__Dhaka),         // Bangladesh
    ("BE", Tz::Europe__Brussels),    // Belgium
    ("BF", Tz::Africa__Ouagadougou), // Burkina Faso
    ("BG", Tz::Europe__Sofia),       // Bulgaria
    ("BH", Tz::Asia__Bahrain),       // Bahrain
    ("BI", Tz::Africa__Bujumbura),   // Burundi
    ("BJ", Tz::Africa__PortoNovo),   // Benin
    ("BL", Tz::America__St_Barthelemy), // St Barthelemy
    ("BM", Tz::Atlantic__Bermuda),   // Bermuda
    ("BN", Tz::Asia__Brunei),        // Brunei
    ("BO", Tz::America__La_Paz),     // Bolivia
    ("BQ", Tz::America__Kralendijk), // Caribbean NL
    ("BR", Tz::America__Sao_Paulo),  // Brazil (most populous of 16 zones)
    ("BS", Tz::America__Nassau),     // Bahamas
    ("BT", Tz::Asia__Thimphu),       // Bhutan
    ("BW", Tz::Africa__Gaborone),    // Botswana
    ("BY", Tz::Europe__Minsk),       // Belarus
    ("BZ", Tz::America__Belize),     // Belize
    ("CA", Tz::America__Toronto),    // Canada (most populous of 23 zones)
    ("CC", Tz::Indian__Cocos),       // Cocos (Keeling) Islands
    ("CD", Tz::Africa__Kinshasa),    // Congo (Dem. Rep.) (most populous of 2 zones)
    ("CF", Tz::Africa__Bangui),      // Central African Rep.
    ("CG", Tz::Africa__Brazzaville), // Congo (Rep.)
    ("CH", Tz::Europe__Zurich),      // Switzerland
    ("CI", Tz::Africa__Abidjan),     // Côte d'Ivoire
    ("CK", Tz::Pacific__Rarotonga),  // Cook Islands
    ("CL", Tz::America__Santiago),   // Chile (most populous of 4 zones)
    ("CM", Tz::Africa__Douala),      // Cameroon
    ("CN", Tz::Asia__Shanghai),      // China (most populous of 2 zones)
    ("CO", Tz::America__Bogota),     // Colombia
    ("CR", Tz::America__Costa_Rica), // Costa Rica
    ("CU", Tz::America__Havana),     // Cuba
    ("CV", Tz::Atlantic__Cape_Verde), // Cape Verde
    ("CW", Tz::America__Curacao),    // Curaçao
    ("CX", Tz::Indian__Christmas),   // Christmas Island
    ("CY", Tz::Asia__Nicosia),       // Cyprus (most populous of 2 zones)
    ("CZ", Tz::Europe__Prague),      // Czech Republic
    ("DE", Tz::Europe__Berlin),      // Germany (most populous of 2 zones)
    ("DJ", Tz::Africa__Djibouti),    // Djibouti
    ("DK", Tz::Europe__Copenhagen),  // Denmark
    ("DM", Tz::America__Dominica),   // Dominica
    ("DO", Tz::America__Santo_Domingo), // Dominican Republic
    ("DZ", Tz::Africa__Algiers),     // Algeria
    ("EC", Tz::America__Guayaquil),  // Ecuador (most populous of 2 zones)
    ("EE", Tz::Europe__Tallinn),     // Estonia
    ("EG", Tz::Africa__Cairo),       // Egypt
    ("EH", Tz::Africa__El_Aaiun),    // Western Sahara
    ("ER", Tz::Africa__Asmara),      // Eritrea
    ("ES", Tz::Europe__Madrid),      // Spain (most populous of 3 zones)
    ("ET", Tz::Africa__Addis_Ababa), // Ethiopia
    ("FI", Tz::Europe__Helsinki),    // Finland
    ("FJ", Tz::Pacific__Fiji),       // Fiji
    ("FK", Tz::Atlantic__Stanley),   // Falkland Islands
    ("FM", Tz::Pacific__Chuuk),      // Micronesia (most populous of 3 zones)
    ("FO", Tz::Atlantic__Faroe),     // Faroe Islands
    ("FR", Tz::Europe__Paris),       // France
    ("GA", Tz::Africa__Libreville),  // Gabon
    ("GB", Tz::Europe__London),      // Britain (UK)
    ("GD", Tz::America__Grenada),    // Grenada
    ("GE", Tz::Asia__Tbilisi),       // Georgia
    ("GF", Tz::America__Cayenne),    // French Guiana
    ("GG", Tz::Europe__Guernsey),    // Guernsey
    ("GH", Tz::Africa__Accra),       // Ghana
    ("GI", Tz::Europe__Gibraltar),   // Gibraltar
    ("GL", Tz::America__Nuuk),       // Greenland (most populous of 4 zones)
    ("GM", Tz::Africa__Banjul),      // Gambia
    ("GN", Tz::Africa__Conakry),     // Guinea
    ("GP", Tz::America__Guadeloupe), // Guadeloupe
    ("GQ", Tz::Africa__Malabo),      // Equatorial Guinea
    ("GR", Tz::Europe__Athens),      // Greece
    ("GS", Tz::Atlantic__South_Georgia), // South Georgia & the South Sandwich Islands
    ("GT", Tz::America__Guatemala),  // Guatemala
    ("GU", Tz::Pacific__Guam),       // Guam
    ("GW", Tz::Africa__Bissau),      // Guinea-Bissau
    ("GY", Tz::America__Guyana),     // Guyana
    ("HK", Tz::Asia__Hong_Kong),     // Hong Kong
    ("HN", Tz::America__Tegucigalpa), // Honduras
    ("HR", Tz::Europe__Zagreb),      // Croatia
    ("HT", Tz::America__PortauPrince), // Haiti
    ("HU", Tz::Europe__Budapest),    // Hungary
    ("ID", Tz::Asia__Jakarta),       // Indonesia (most populous of 4 zones)
    ("IE", Tz::Europe__Dublin),      // Ireland
    ("IL", Tz::Asia__Jerusalem),     // Israel
    ("IM", Tz::Europe__Isle_of_Man), // Isle of Man
    ("IN", Tz::Asia__Kolkata),       // India
    ("IO", Tz::Indian__Chagos),      // British Indian Ocean Territory
    ("IQ", Tz::Asia__Baghdad),       // Iraq
    ("IR", Tz::Asia__Tehran),        // Iran
    ("IS", Tz::Atlantic__Reykjavik), // Iceland
    ("IT", Tz::Europe__Rome),        // Italy
    ("JE", Tz::Europe__Jersey),      // Jersey
    ("JM", Tz::America__Jamaica),    // Jamaica
    ("JO", Tz::Asia__Amman),         // Jordan
    ("JP", Tz::Asia__Tokyo),         // Japan
    ("KE", Tz::Africa__Nairobi),     // Kenya
    ("KG", Tz::Asia__Bishkek),       // Kyrgyzstan
    ("KH", Tz::Asia__Phnom_Penh),    // Cambodia
    ("KI", Tz::Pacific__Tarawa),     // Kiribati (most populous of 3 zones)
    ("KM", Tz::Indian__Comoro),      // Comoros
    ("KN", Tz::America__St_Kitts),   // St Kitts & Nevis
    ("KP", Tz::Asia__Pyongyang),     // Korea (North)
    ("KR", Tz::Asia__Seoul),         // Korea (South)
    ("KW", Tz::Asia__Kuwait),        // Kuwait
    ("KY", Tz::America__Cayman),     // Cayman Islands
    ("KZ", Tz::Asia__Almaty),        // Kazakhstan (most populous of 7 zones)
    ("LA", Tz::Asia__Vientiane),     // Laos
    ("LB", Tz::Asia__Beirut),        // Lebanon
    ("LC", Tz::America__St_Lucia),   // St Lucia
    ("LI", Tz::Europe__Vaduz),       // Liechtenstein
    ("LK", Tz::Asia__Colombo),       // Sri Lanka
    ("LR", Tz::Africa__Monrovia),    // Liberia
    ("LS", Tz::Africa__Maseru),      // Lesotho
    ("LT", Tz::Europe__Vilnius),     // Lithuania
    ("LU", Tz::Europe__Luxembourg),  // Luxembourg
    ("LV", Tz::Europe__Riga),        // Latvia
    ("LY", Tz::Africa__Tripoli),     // Libya
    ("MA", Tz::Africa__Casablanca),  // Morocco
    ("MC", Tz::Europe__Monaco),      // Monaco
    ("MD", Tz::Europe__Chisinau),    // Moldova
    ("ME", Tz::Europe__Podgorica),   // Montenegro
    ("MF", Tz::America__Marigot),    // St Martin (French)
    ("MG", Tz::Indian__Antananarivo), // Madagascar
    ("MH", Tz::Pacific__Majuro),     // Marshall Islands (most populous of 2 zones)
    ("MK", Tz::Europe__Skopje),      // North Macedonia
    ("ML", Tz::Africa__Bamako),      // Mali
    ("MM", Tz::Asia__Yangon),        // Myanmar (Burma)
    ("MN", Tz::Asia__Ulaanbaatar),   // Mongolia (most populous of 2 zones)
    ("MO", Tz::Asia__Macau),         // Macau
    ("MP", Tz::Pacific__Saipan),     // Northern Mariana Islands
    ("MQ", Tz::America__Martinique), // Martinique
    ("MR", Tz::Africa__Nouakchott),  // Mauritania
    ("MS", Tz::America__Montserrat), // Montserrat
    ("MT", Tz::Europe__Malta),       // Malta
    ("MU", Tz::Indian__Mauritius),   // Mauritius
    ("MV", Tz::Indian__Maldives),    // Maldives
    ("MW", Tz::Africa__Blantyre),    // Malawi
    ("MX", Tz::America__Mexico_City), // Mexico (most populous of 12 zones)
    ("MY", Tz::Asia__Kuala_Lumpur),  // Malaysia (most populous of 2 zones)
    ("MZ", Tz::Africa__Maputo),      // Mozambique
    ("NA", Tz::Africa__Windhoek),    // Namibia
    ("NC", Tz::Pacific__Noumea),     // New Caledonia
    ("NE", Tz::Africa__Niamey),      // Niger
    ("NF", Tz::Pacific__Norfolk),    // Norfolk Island
    ("NG", Tz::Africa__Lagos),       // Nigeria
    ("NI", Tz::America__Managua),    // Nicaragua
    ("NL", Tz::Europe__Amsterdam),   // Netherlands
    ("NO", Tz::Europe__Oslo),        // Norway
    ("NP", Tz::Asia__Kathmandu),     // Nepal
    ("NR", Tz::Pacific__Nauru),      // Nauru
    ("NU", Tz::Pacific__Niue),       // Niue
    ("NZ", Tz::Pacific__Auckland),   // New Zealand (most populous of 2 zones)
    ("OM", Tz::Asia__Muscat),        // Oman
    ("PA", Tz::America__Panama),     // Panama
    ("PE", Tz::America__Lima),       // Peru
    ("PF", Tz::Pacific__Tahiti),     // French Polynesia (most populous of 3 zones)
    ("PG", Tz::Pacific__Port_Moresby), // Papua New Guinea (most populous of 2 zones)
    ("PH", Tz::Asia__Manila),        // Philippines
    ("PK", Tz::Asia__Karachi),       // Pakistan
    ("PL", Tz::Europe__Warsaw),      // Poland
    ("PM", Tz::America__Miquelon),   // St Pierre & Miquelon
    ("PN", Tz::Pacific__Pitcairn),   // Pitcairn
    ("PR", Tz::America__Puerto_Rico), // Puerto Rico
    ("PS", Tz::Asia__Hebron),        // Palestine (most populous of 2 zones)
    ("PT", Tz::Europe__Lisbon),      // Portugal (most populous of 3 zones)
    ("PW", Tz::Pacific__Palau),      // Palau
    ("PY", Tz::America__Asuncion),   // Paraguay
    ("QA", Tz::Asia__Qatar),         // Qatar
    ("RE", Tz::Indian__Reunion),     // Réunion
    ("RO", Tz::Europe__Bucharest),   // Romania
    ("RS", Tz::Europe__Belgrade),    // Serbia
    ("RU", Tz::Europe__Moscow),      // Russia (most populous of 26 zones)
    ("RW", Tz::Africa__Kigali),      // Rwanda
    ("SA", Tz::Asia__Riyadh),        // Saudi Arabia
    ("SB", Tz::Pacific__Guadalcanal), // Solomon Islands
    ("SC", Tz::Indian__Mahe),        // Seychelles
    ("SD", Tz::Africa__Khartoum),    // Sudan
    ("SE", Tz::Europe__Stockholm),   // Sweden
    ("SG", Tz::Asia__Singapore),     // Singapore
    ("SH", Tz::Atlantic__St_Helena), // St Helena
    ("SI", Tz::Europe__Ljubljana),   // Slovenia
    ("SJ", Tz::Arctic__Longyearbyen), // Svalbard & Jan Mayen
    ("SK", Tz::Europe__Bratislava),  // Slovakia
    ("SL", Tz::Africa__Freetown),    // Sierra Leone
    ("SM", Tz::Europe__San_Marino),  // San Marino
    ("SN", Tz::Africa__Dakar),       // Senegal
    ("SO", Tz::Africa__Mogadishu),   // Somalia
    ("SR", Tz::America__Paramaribo), // Suriname
    ("SS", Tz::Africa__Juba),        // South Sudan
    ("ST", Tz::Africa__Sao_Tome),    // Sao Tome & Principe
    ("SV", Tz::America__El_Salvador), // El Salvador
    ("SX", Tz::America__Lower_Princes), // St Maarten (Dutch)
    ("SY", Tz::Asia__Damascus),      // Syria
    ("SZ", Tz::Africa__Mbabane),     // Eswatini (Swaziland)
    ("TA", Tz::Atlantic__St_Helena), // Tristan da Cunha (no zone of its own in the tz database)
    ("TC", Tz::America__Grand_Turk), // Turks & Caicos Is
    ("TD", Tz::Africa__Ndjamena),    // Chad
    ("TF", Tz::Indian__Kerguelen),   // French S. Terr.
    ("TG", Tz::Africa__Lome),        // Togo
    ("TH", Tz::Asia__Bangkok),       // Thailand
    ("TJ", Tz::Asia__Dushanbe),      // Tajikistan
    ("TK", Tz::Pacific__Fakaofo),    // Tokelau
    ("TL", Tz::Asia__Dili),          // East Timor
    ("TM", Tz::Asia__Ashgabat),      // Turkmenistan
    ("TN", Tz::Africa__Tunis),       // Tunisia
    ("TO", Tz::Pacific__Tongatapu),  // Tonga
    ("TR", Tz::Europe__Istanbul),    // Turkey
    ("TT", Tz::America__Port_of_Spain), // Trinidad & Tobago
    ("TV", Tz::Pacific__Funafuti),   // Tuvalu
    ("TW", Tz::Asia__Taipei),        // Taiwan
    ("TZ", Tz::Africa__Dar_es_Salaam), // Tanzania
    ("UA", Tz::Europe__Kyiv),        // Ukraine (most populous of 2 zones)
    ("UG", Tz::Africa__Kampala),     // Uganda
    ("US", Tz::America__New_York),   // United States (most populous of 29 zones)
    ("UY", Tz::America__Montevideo), // Uruguay
    ("UZ", Tz::Asia__Tashkent),      // Uzbekistan (most populous of 2 zones)
    ("VA", Tz::Europe__Vatican),     // Vatican City
    ("VC", Tz::America__St_Vincent), // St Vincent
    ("VE", Tz::America__Caracas),    // Venezuela
    ("VG", Tz::America__Tortola),    // Virgin Islands (UK)
    ("VI", Tz::America__St_Thomas),  // Virgin Islands (US)
    ("VN", Tz::Asia__Ho_Chi_Minh),   // Vietnam
    ("VU", Tz::Pacific__Efate),      // Vanuatu
    ("WF", Tz::Pacific__Wallis),     // Wallis & Futuna
    ("WS", Tz::Pacific__Apia),       // Samoa (western)
    ("XK", Tz::Europe__Belgrade),    // Kosovo (no zone of its own in the tz database)
    ("YE", Tz::Asia__Aden),          // Yemen
    ("YT", Tz::Indian__Mayotte),     // Mayotte
    ("ZA", Tz::Africa__Johannesburg), // South Africa
    ("ZM", Tz::Africa__Lusaka),      // Zambia
    ("ZW", Tz::Africa__Harare),      // Zimbabwe
];

#[cfg(test)]
mod tests;
