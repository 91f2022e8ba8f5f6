use super::*;
use chrono::NaiveDate;
use chrono_tz::America::Argentina::Buenos_Aires;
use chrono_tz::Europe::Madrid;
use serde_json::json;

fn utc(s: &str) -> DateTime<Utc> {
    match DateTime::parse_from_rfc3339(s) {
        Ok(t) => t.with_timezone(&Utc),
        Err(e) => panic!("bad test instant {s}: {e}"),
    }
}

fn hm(h: u32, m: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(h, m, 0).unwrap()
}

fn window(start: (u32, u32), end: (u32, u32), days: Weekdays) -> SendWindow {
    let w = SendWindow::new(hm(start.0, start.1), hm(end.0, end.1), days, WindowZone::Recipient);
    assert_eq!(w.validate(), Ok(()));
    w
}

fn days(list: &[Weekday]) -> Weekdays {
    list.iter().copied().collect()
}

/// Checks `is_open` at `at` and `next_open` from it.
#[track_caller]
fn check(w: &SendWindow, tz: Tz, at: &str, open: bool, next: &str) {
    let at = utc(at);
    assert_eq!(w.is_open(at, tz), open, "is_open at {at} in {tz:?}");
    assert_eq!(w.next_open(at, tz), utc(next), "next_open from {at} in {tz:?}");
}

#[test]
fn office_hours_in_buenos_aires_and_madrid() {
    let w = window((9, 0), (18, 0), Weekdays::ALL);
    // 2025-01-15 is a Wednesday. Buenos Aires is UTC-3 all year; Madrid is UTC+1 in January.
    check(&w, Buenos_Aires, "2025-01-15T12:00:00Z", true, "2025-01-15T12:00:00Z");
    check(&w, Buenos_Aires, "2025-01-15T11:59:59Z", false, "2025-01-15T12:00:00Z");
    check(
        &w,
        Buenos_Aires,
        "2025-01-15T11:59:59.999Z",
        false,
        "2025-01-15T12:00:00Z",
    );
    check(&w, Buenos_Aires, "2025-01-15T20:59:59Z", true, "2025-01-15T20:59:59Z");
    check(&w, Buenos_Aires, "2025-01-15T21:00:00Z", false, "2025-01-16T12:00:00Z");
    check(&w, Buenos_Aires, "2025-01-15T03:00:00Z", false, "2025-01-15T12:00:00Z");

    check(&w, Madrid, "2025-01-15T08:00:00Z", true, "2025-01-15T08:00:00Z");
    check(&w, Madrid, "2025-01-15T07:59:00Z", false, "2025-01-15T08:00:00Z");
    check(&w, Madrid, "2025-01-15T16:59:59Z", true, "2025-01-15T16:59:59Z");
    check(&w, Madrid, "2025-01-15T17:00:00Z", false, "2025-01-16T08:00:00Z");
    check(&w, Madrid, "2025-01-15T23:30:00Z", false, "2025-01-16T08:00:00Z");

    // One instant, two answers: 10:00Z is 11:00 in Madrid and 07:00 in Buenos Aires.
    check(&w, Madrid, "2025-01-15T10:00:00Z", true, "2025-01-15T10:00:00Z");
    check(&w, Buenos_Aires, "2025-01-15T10:00:00Z", false, "2025-01-15T12:00:00Z");
    // 19:00Z is 20:00 in Madrid and 16:00 in Buenos Aires.
    check(&w, Madrid, "2025-01-15T19:00:00Z", false, "2025-01-16T08:00:00Z");
    check(&w, Buenos_Aires, "2025-01-15T19:00:00Z", true, "2025-01-15T19:00:00Z");
    // In summer Madrid is UTC+2.
    check(&w, Madrid, "2025-07-15T06:30:00Z", false, "2025-07-15T07:00:00Z");
    check(&w, Madrid, "2025-07-15T16:00:00Z", false, "2025-07-16T07:00:00Z");
}

#[test]
fn weekdays_are_skipped() {
    let w = window((9, 0), (18, 0), Weekdays::MON_TO_FRI);
    // Friday 2025-01-17 18:00 in Madrid → Monday 2025-01-20 09:00.
    check(&w, Madrid, "2025-01-17T17:00:00Z", false, "2025-01-20T08:00:00Z");
    check(&w, Madrid, "2025-01-17T16:59:00Z", true, "2025-01-17T16:59:00Z");
    // Saturday noon and Sunday 23:59 in Madrid → Monday 09:00.
    check(&w, Madrid, "2025-01-18T11:00:00Z", false, "2025-01-20T08:00:00Z");
    check(&w, Madrid, "2025-01-19T22:59:00Z", false, "2025-01-20T08:00:00Z");
    // Friday 18:00 in Buenos Aires (21:00Z) → Monday 09:00 (12:00Z).
    check(&w, Buenos_Aires, "2025-01-17T21:00:00Z", false, "2025-01-20T12:00:00Z");
    // Sunday 23:00 UTC is already Monday 00:00 in Madrid: next opening is that Monday, 9 hours later.
    check(&w, Madrid, "2025-01-19T23:00:00Z", false, "2025-01-20T08:00:00Z");

    // A single day: Wednesday only. From Thursday, six days ahead.
    let wed = window((10, 0), (11, 0), days(&[Weekday::Wed]));
    check(&wed, Madrid, "2025-01-16T09:00:00Z", false, "2025-01-22T09:00:00Z");
    // From Wednesday 11:00, exactly seven days ahead: still within the look-ahead.
    check(&wed, Madrid, "2025-01-15T10:00:00Z", false, "2025-01-22T09:00:00Z");
}

#[test]
fn overnight_windows() {
    // Friday 22:00 to Saturday 06:00, Buenos Aires.
    let w = window((22, 0), (6, 0), days(&[Weekday::Fri]));
    assert!(w.is_overnight());
    // Fri 2025-01-17 22:00 local is 2025-01-18 01:00Z.
    check(&w, Buenos_Aires, "2025-01-18T01:00:00Z", true, "2025-01-18T01:00:00Z");
    check(&w, Buenos_Aires, "2025-01-18T00:59:00Z", false, "2025-01-18T01:00:00Z");
    // Sat 05:59 local still open (the window opened on Friday), Sat 06:00 closed until next Friday.
    check(&w, Buenos_Aires, "2025-01-18T08:59:00Z", true, "2025-01-18T08:59:00Z");
    check(&w, Buenos_Aires, "2025-01-18T09:00:00Z", false, "2025-01-25T01:00:00Z");
    // Sat 23:00 local: Saturday is not a day of the window.
    check(&w, Buenos_Aires, "2025-01-19T02:00:00Z", false, "2025-01-25T01:00:00Z");
    // Fri 03:00 local belongs to Thursday's window, which there is not.
    check(&w, Buenos_Aires, "2025-01-17T06:00:00Z", false, "2025-01-18T01:00:00Z");

    // Every night, Madrid in winter.
    let nightly = window((22, 0), (6, 0), Weekdays::ALL);
    check(&nightly, Madrid, "2025-01-15T22:00:00Z", true, "2025-01-15T22:00:00Z");
    check(&nightly, Madrid, "2025-01-16T04:59:00Z", true, "2025-01-16T04:59:00Z");
    check(&nightly, Madrid, "2025-01-16T05:00:00Z", false, "2025-01-16T21:00:00Z");
    check(&nightly, Madrid, "2025-01-15T12:00:00Z", false, "2025-01-15T21:00:00Z");

    // Until midnight: 09:00–00:00 ("24:00").
    let late = window((9, 0), (0, 0), Weekdays::ALL);
    check(&late, Madrid, "2025-01-15T22:59:59Z", true, "2025-01-15T22:59:59Z");
    check(&late, Madrid, "2025-01-15T23:00:00Z", false, "2025-01-16T08:00:00Z");
    // From midnight on.
    let early = window((0, 0), (6, 0), days(&[Weekday::Mon]));
    check(&early, Madrid, "2025-01-19T22:59:00Z", false, "2025-01-19T23:00:00Z");
    check(&early, Madrid, "2025-01-19T23:00:00Z", true, "2025-01-19T23:00:00Z");
}

#[test]
fn madrid_spring_forward() {
    // 2025-03-30: at 01:00Z clocks go from 02:00 CET to 03:00 CEST; 02:00–02:59 does not exist.
    let office = window((9, 0), (18, 0), Weekdays::ALL);
    check(&office, Madrid, "2025-03-29T17:00:00Z", false, "2025-03-30T07:00:00Z");
    check(&office, Madrid, "2025-03-30T16:00:00Z", false, "2025-03-31T07:00:00Z");

    // Opening inside the gap: the window opens when the clock lands at 03:00.
    let w = window((2, 30), (4, 0), Weekdays::ALL);
    check(&w, Madrid, "2025-03-30T00:30:00Z", false, "2025-03-30T01:00:00Z");
    check(&w, Madrid, "2025-03-30T00:59:59Z", false, "2025-03-30T01:00:00Z");
    check(&w, Madrid, "2025-03-30T01:59:00Z", true, "2025-03-30T01:59:00Z");
    check(&w, Madrid, "2025-03-30T02:00:00Z", false, "2025-03-31T00:30:00Z");

    // A window entirely inside the gap does not open that day.
    let lost = window((2, 0), (2, 30), Weekdays::ALL);
    check(&lost, Madrid, "2025-03-29T23:00:00Z", false, "2025-03-31T00:00:00Z");

    // Over midnight across the change: Saturday 22:00 CET to Sunday 06:00 CEST is 7 hours.
    let nightly = window((22, 0), (6, 0), Weekdays::ALL);
    check(&nightly, Madrid, "2025-03-30T03:59:00Z", true, "2025-03-30T03:59:00Z");
    check(&nightly, Madrid, "2025-03-30T04:00:00Z", false, "2025-03-30T20:00:00Z");
}

#[test]
fn madrid_fall_back() {
    // 2025-10-26: at 01:00Z clocks go from 03:00 CEST back to 02:00 CET; 02:00–02:59 happens twice
    // (00:00Z–01:00Z, then 01:00Z–02:00Z).
    let office = window((9, 0), (18, 0), Weekdays::ALL);
    check(&office, Madrid, "2025-10-25T16:00:00Z", false, "2025-10-26T08:00:00Z");

    // Opening in the repeated hour: the first time it comes.
    let w = window((2, 30), (4, 0), Weekdays::ALL);
    check(&w, Madrid, "2025-10-25T23:00:00Z", false, "2025-10-26T00:30:00Z");
    // 00:45Z is 02:45 CEST: open until the clock goes back to 02:00 CET, then open again from 02:30 CET.
    check(&w, Madrid, "2025-10-26T00:45:00Z", true, "2025-10-26T00:45:00Z");
    check(&w, Madrid, "2025-10-26T01:15:00Z", false, "2025-10-26T01:30:00Z");
    check(&w, Madrid, "2025-10-26T02:15:00Z", true, "2025-10-26T02:15:00Z");
    check(&w, Madrid, "2025-10-26T03:00:00Z", false, "2025-10-27T01:30:00Z");

    // A window inside the repeated hour opens twice.
    let twice = window((2, 0), (2, 30), Weekdays::ALL);
    check(&twice, Madrid, "2025-10-26T00:10:00Z", true, "2025-10-26T00:10:00Z");
    check(&twice, Madrid, "2025-10-26T00:30:00Z", false, "2025-10-26T01:00:00Z");
    check(&twice, Madrid, "2025-10-26T01:30:00Z", false, "2025-10-27T01:00:00Z");

    // Closing in the repeated hour: closed at 02:30 CEST, open again when the clock goes back to 02:00 CET.
    let reopen = window((1, 0), (2, 30), Weekdays::ALL);
    check(&reopen, Madrid, "2025-10-26T00:29:00Z", true, "2025-10-26T00:29:00Z");
    check(&reopen, Madrid, "2025-10-26T00:40:00Z", false, "2025-10-26T01:00:00Z");
    check(&reopen, Madrid, "2025-10-26T01:30:00Z", false, "2025-10-27T00:00:00Z");
}

/// The first whole minute from `at` at which the window is open, by walking minute by minute.
fn brute_next_open(w: &SendWindow, at: DateTime<Utc>, tz: Tz) -> DateTime<Utc> {
    let limit = at + TimeDelta::days(LOOKAHEAD_DAYS);
    let mut t = at;
    while t <= limit {
        if w.is_open(t, tz) {
            return t;
        }
        t += TimeDelta::minutes(1);
    }
    limit
}

#[test]
fn next_open_agrees_with_a_minute_by_minute_walk() {
    let zones = [
        Madrid,
        Buenos_Aires,
        chrono_tz::America::New_York,
        chrono_tz::America::Santiago,    // changes at midnight
        chrono_tz::America::Havana,      // changes at midnight (00:00 → 01:00)
        chrono_tz::Australia::Lord_Howe, // 30-minute DST
        chrono_tz::Asia::Kathmandu,      // +05:45
        chrono_tz::Pacific::Apia,        // skipped 2011-12-30 entirely
        chrono_tz::Pacific::Chatham,     // +12:45 / +13:45
    ];
    let windows = [
        window((9, 0), (18, 0), Weekdays::MON_TO_FRI),
        window((22, 0), (6, 0), days(&[Weekday::Fri, Weekday::Sat])),
        window((2, 0), (2, 30), Weekdays::ALL),
        window((2, 30), (4, 0), days(&[Weekday::Sun])),
        window((1, 0), (2, 30), Weekdays::ALL),
        window((0, 0), (1, 0), days(&[Weekday::Sun, Weekday::Tue])),
        window((23, 30), (0, 30), Weekdays::ALL),
        window((10, 0), (11, 0), days(&[Weekday::Fri])),
    ];
    // Around the DST changes of 2025 (northern and southern) and Samoa's skipped day.
    let starts = [
        "2025-03-08T00:00:00Z",
        "2025-03-29T00:00:00Z",
        "2025-04-05T00:00:00Z",
        "2025-09-06T00:00:00Z",
        "2025-10-25T00:00:00Z",
        "2025-11-01T12:00:00Z",
        "2011-12-28T00:00:00Z",
    ];
    let mut checked = 0;
    for tz in zones {
        for w in &windows {
            for start in starts {
                // A few instants a day for two days, on odd minutes so they do not line up with the windows.
                for step in 0..6 {
                    let at = utc(start) + TimeDelta::minutes(step * 367);
                    let got = w.next_open(at, tz);
                    let want = brute_next_open(w, at, tz);
                    assert_eq!(got, want, "{tz:?} {w:?} from {at}");
                    checked += 1;
                }
            }
        }
    }
    assert_eq!(checked, 9 * 8 * 7 * 6);
}

#[test]
fn samoa_skipped_day() {
    // Pacific/Apia went from Thursday 2011-12-29 23:59:59 (-10) to Saturday 2011-12-31 00:00 (+14).
    let apia = chrono_tz::Pacific::Apia;
    let friday = window((9, 0), (18, 0), days(&[Weekday::Fri]));
    // There was no Friday: the next one is 2012-01-06 09:00 +14 = 2012-01-05 19:00Z.
    check(&friday, apia, "2011-12-29T20:00:00Z", false, "2012-01-05T19:00:00Z");
}

#[test]
fn never_opening_windows_do_not_loop_or_panic() {
    let at = utc("2025-01-15T12:00:00Z");
    let empty = SendWindow::new(hm(9, 0), hm(18, 0), Weekdays::NONE, WindowZone::Recipient);
    assert!(!empty.is_open(at, Madrid));
    assert_eq!(empty.next_open(at, Madrid), at + TimeDelta::days(LOOKAHEAD_DAYS));
    let same = SendWindow::new(hm(9, 0), hm(9, 0), Weekdays::ALL, WindowZone::Recipient);
    assert!(!same.is_open(at, Madrid));
    assert_eq!(same.next_open(at, Madrid), at + TimeDelta::days(LOOKAHEAD_DAYS));
}

#[test]
fn extreme_instants_and_every_zone_do_not_panic() {
    let windows = [
        window((9, 0), (18, 0), Weekdays::MON_TO_FRI),
        window((22, 0), (6, 0), days(&[Weekday::Sun])),
        window((0, 0), (0, 1), Weekdays::ALL),
    ];
    let extremes = [
        DateTime::<Utc>::MIN_UTC,
        DateTime::<Utc>::MIN_UTC + TimeDelta::days(1),
        DateTime::<Utc>::MAX_UTC,
        DateTime::<Utc>::MAX_UTC - TimeDelta::days(3),
        DateTime::<Utc>::UNIX_EPOCH,
        utc("1900-01-01T00:00:00Z"),
    ];
    for tz in chrono_tz::TZ_VARIANTS {
        for w in &windows {
            for at in extremes {
                let open = w.is_open(at, tz);
                let next = w.next_open(at, tz);
                assert!(next >= at);
                assert!(!open || next == at);
            }
            // Modern instants: the answer is open and within the look-ahead.
            let at = utc("2025-10-26T00:30:00Z");
            let next = w.next_open(at, tz);
            assert!(next >= at && next <= at + TimeDelta::days(LOOKAHEAD_DAYS));
            assert!(w.is_open(next, tz), "{tz:?} {w:?} {next}");
        }
    }
}

#[test]
fn zone_for_recipients() {
    let mut w = window((9, 0), (18, 0), Weekdays::ALL);
    assert_eq!(w.zone_for(Some("AR")), Buenos_Aires);
    assert_eq!(w.zone_for(Some("es")), Madrid);
    assert_eq!(w.zone_for(Some("ZZ")), Tz::UTC);
    assert_eq!(w.zone_for(None), Tz::UTC);
    w.fallback = Some(Buenos_Aires);
    assert_eq!(w.zone_for(None), Buenos_Aires);
    assert_eq!(w.zone_for(Some("ZZ")), Buenos_Aires);
    assert_eq!(w.zone_for(Some("ES")), Madrid);
    w.zone = WindowZone::Fixed(Madrid);
    assert_eq!(w.zone_for(Some("AR")), Madrid);
    assert_eq!(w.zone_for(None), Madrid);
}

#[test]
fn serde_round_trip() {
    let value = json!({
        "start": "09:00",
        "end": "18:30",
        "days": ["mon", "tue", "wed", "thu", "fri"],
        "zone": "recipient",
        "fallback": "America/Argentina/Buenos_Aires",
    });
    let w: SendWindow = serde_json::from_value(value.clone()).unwrap();
    assert_eq!(
        w,
        SendWindow {
            start: hm(9, 0),
            end: hm(18, 30),
            days: Weekdays::MON_TO_FRI,
            zone: WindowZone::Recipient,
            fallback: Some(Buenos_Aires),
        }
    );
    assert_eq!(serde_json::to_value(&w).unwrap(), value);
    assert_eq!(SendWindow::from_json(&value), Ok(w));

    let fixed = SendWindow::new(
        hm(22, 0),
        hm(6, 0),
        days(&[Weekday::Sun, Weekday::Fri]),
        WindowZone::Fixed(Madrid),
    );
    let v = serde_json::to_value(&fixed).unwrap();
    assert_eq!(
        v,
        json!({"start": "22:00", "end": "06:00", "days": ["fri", "sun"], "zone": "Europe/Madrid"})
    );
    assert_eq!(serde_json::from_value::<SendWindow>(v).unwrap(), fixed);

    // Lenient input: no days means every day, day names in any case or spelled out, duplicates, 24:00, zone case.
    let lenient: SendWindow = serde_json::from_value(json!({
        "start": "9:00", "end": "24:00", "zone": "europe/madrid"
    }))
    .unwrap();
    assert_eq!(lenient.days, Weekdays::ALL);
    assert_eq!(lenient.start, hm(9, 0));
    assert_eq!(lenient.end, NaiveTime::MIN);
    assert_eq!(lenient.zone, WindowZone::Fixed(Madrid));
    let spelled: SendWindow = serde_json::from_value(json!({
        "start": "09:00", "end": "10:00", "days": ["Monday", "MON", "sunday"], "zone": "RECIPIENT"
    }))
    .unwrap();
    assert_eq!(spelled.days, days(&[Weekday::Mon, Weekday::Sun]));
    assert_eq!(spelled.zone, WindowZone::Recipient);

    // The pieces on their own.
    assert_eq!(
        serde_json::to_value(Weekdays::ALL).unwrap(),
        json!(["mon", "tue", "wed", "thu", "fri", "sat", "sun"])
    );
    assert_eq!(serde_json::to_value(WindowZone::Recipient).unwrap(), json!("recipient"));
    assert_eq!(serde_json::to_value(WindowZone::Fixed(Tz::UTC)).unwrap(), json!("UTC"));
    assert_eq!(
        serde_json::from_value::<WindowZone>(json!("Asia/Kolkata")).unwrap(),
        WindowZone::Fixed(chrono_tz::Asia::Kolkata)
    );
    assert!(serde_json::from_value::<WindowZone>(json!("Mars/Olympus_Mons")).is_err());
    assert!(serde_json::from_value::<Weekdays>(json!(["mon", "funday"])).is_err());
}

#[test]
fn invalid_windows_are_refused_with_the_field() {
    let refused = |v: serde_json::Value| match SendWindow::from_json(&v) {
        Ok(w) => panic!("accepted {v}: {w:?}"),
        Err(e) => {
            // Deserialising directly gives the same message.
            let direct = serde_json::from_value::<SendWindow>(v.clone())
                .map(|_| ())
                .unwrap_err()
                .to_string();
            assert!(
                direct.contains(&e.to_string()) || matches!(e, WindowError::Shape(_)),
                "{direct} / {e}"
            );
            e
        }
    };
    let base = || json!({"start": "09:00", "end": "18:00", "days": ["mon"], "zone": "Europe/Madrid"});
    let with = |key: &str, value: serde_json::Value| {
        let mut v = base();
        v[key] = value;
        v
    };
    assert_eq!(refused(with("days", json!([]))), WindowError::NoDays);
    assert_eq!(
        refused(with("end", json!("09:00"))),
        WindowError::StartIsEnd("09:00".into())
    );
    let e = refused(with("zone", json!("Europe/Madird")));
    assert_eq!(
        e,
        WindowError::UnknownZone {
            field: "zone",
            name: "Europe/Madird".into()
        }
    );
    assert_eq!(e.field(), Some("zone"));
    assert!(e.to_string().contains("Europe/Madird"));
    let e = refused(with("fallback", json!("Nowhere")));
    assert_eq!(e.field(), Some("fallback"));
    assert_eq!(
        refused(with("days", json!(["mon", "xyz"]))),
        WindowError::UnknownDay("xyz".into())
    );
    for bad in [
        "9",
        "09:0",
        "25:00",
        "09:60",
        "09:00:00",
        "-1:00",
        "0900",
        "",
        "24:00",
        "٠٩:٠٠",
        "09:00 pm",
    ] {
        let e = refused(with("start", json!(bad)));
        assert_eq!(e.field(), Some("start"), "{bad}");
        assert!(matches!(e, WindowError::BadTime { .. }), "{bad}: {e:?}");
    }
    assert!(matches!(
        refused(with("end", json!("24:01"))),
        WindowError::BadTime { field: "end", .. }
    ));
    assert!(matches!(
        refused(json!({"start": "09:00", "end": "18:00"})),
        WindowError::Shape(_)
    ));
    assert!(matches!(refused(with("extra", json!(1))), WindowError::Shape(_)));
    assert!(matches!(refused(with("start", json!(9))), WindowError::Shape(_)));
    assert!(matches!(refused(json!("09:00-18:00")), WindowError::Shape(_)));

    // validate() on windows built in code.
    let w = |start: NaiveTime, end: NaiveTime, d: Weekdays| {
        SendWindow::new(start, end, d, WindowZone::Fixed(Madrid)).validate()
    };
    assert_eq!(w(hm(9, 0), hm(18, 0), Weekdays::NONE), Err(WindowError::NoDays));
    assert_eq!(
        w(hm(0, 0), hm(0, 0), Weekdays::ALL),
        Err(WindowError::StartIsEnd("00:00".into()))
    );
    let seconds = NaiveTime::from_hms_opt(9, 0, 30).unwrap();
    assert_eq!(
        w(seconds, hm(18, 0), Weekdays::ALL),
        Err(WindowError::NotWholeMinute("start"))
    );
    assert_eq!(
        w(hm(9, 0), seconds, Weekdays::ALL),
        Err(WindowError::NotWholeMinute("end"))
    );
    assert_eq!(w(hm(18, 0), hm(9, 0), Weekdays::ALL), Ok(()));
}

#[test]
fn weekdays_set() {
    let mut set = Weekdays::NONE;
    assert!(set.is_empty());
    set.insert(Weekday::Sun);
    set.insert(Weekday::Mon);
    set.insert(Weekday::Sun);
    assert_eq!(set.len(), 2);
    assert!(set.contains(Weekday::Mon) && set.contains(Weekday::Sun) && !set.contains(Weekday::Tue));
    assert_eq!(set.iter().collect::<Vec<_>>(), vec![Weekday::Mon, Weekday::Sun]);
    assert_eq!(Weekdays::MON_TO_FRI.len(), 5);
    assert!(!Weekdays::MON_TO_FRI.contains(Weekday::Sat));
    assert_eq!(Weekdays::ALL.len(), 7);
    assert_eq!(parse_weekday(" Wed "), Some(Weekday::Wed));
    assert_eq!(parse_weekday("thursday"), Some(Weekday::Thu));
    assert_eq!(parse_weekday("th"), None);
}

#[test]
fn region_table_is_sorted_unique_and_real() {
    for pair in REGION_ZONES.windows(2) {
        assert!(pair[0].0 < pair[1].0, "{} before {}", pair[0].0, pair[1].0);
    }
    for (region, tz) in REGION_ZONES {
        assert!(
            region.len() == 2 && region.bytes().all(|b| b.is_ascii_uppercase()),
            "{region}"
        );
        // The name parses back to the same zone, and it is a geographic zone, not UTC or Etc/….
        assert_eq!(Tz::from_str(tz.name()), Ok(*tz), "{region}");
        assert!(
            tz.name().contains('/') && !tz.name().starts_with("Etc/"),
            "{region}: {}",
            tz.name()
        );
        assert_eq!(time_zone_of_region(region), Some(*tz));
        assert_eq!(time_zone_of_region(&region.to_ascii_lowercase()), Some(*tz));
    }
    assert!(REGION_ZONES.len() >= 245);
}

#[test]
fn every_region_whatsapp_serves_has_a_zone() {
    // Every region in libphonenumber's metadata (phonenumber 0.3.10, metadata 9.0.33), non-geographic 001 aside.
    let regions = "AC AD AE AF AG AI AL AM AO AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT \
        BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ \
        FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GT GU GW GY HK HN HR HT HU ID IE IL IM IN IO IQ IR IS IT \
        JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN \
        MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PR PS PT PW \
        PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TA TC TD TG TH TJ TK TL TM \
        TN TO TR TT TV TW TZ UA UG US UY UZ VA VC VE VG VI VN VU WF WS XK YE YT ZA ZM ZW";
    let regions: Vec<&str> = regions.split_whitespace().collect();
    assert_eq!(regions.len(), 245);
    for region in regions {
        assert!(time_zone_of_region(region).is_some(), "{region} has no zone");
    }
}

#[test]
fn primary_zones() {
    let cases = [
        ("AR", "America/Argentina/Buenos_Aires"),
        ("ES", "Europe/Madrid"),
        ("US", "America/New_York"),
        ("BR", "America/Sao_Paulo"),
        ("MX", "America/Mexico_City"),
        ("IN", "Asia/Kolkata"),
        ("GB", "Europe/London"),
        ("DE", "Europe/Berlin"),
        ("FR", "Europe/Paris"),
        ("IT", "Europe/Rome"),
        ("CO", "America/Bogota"),
        ("CL", "America/Santiago"),
        ("PE", "America/Lima"),
        ("EC", "America/Guayaquil"),
        ("UY", "America/Montevideo"),
        ("PY", "America/Asuncion"),
        ("BO", "America/La_Paz"),
        ("VE", "America/Caracas"),
        ("CR", "America/Costa_Rica"),
        ("PA", "America/Panama"),
        ("GT", "America/Guatemala"),
        ("SV", "America/El_Salvador"),
        ("HN", "America/Tegucigalpa"),
        ("NI", "America/Managua"),
        ("DO", "America/Santo_Domingo"),
        ("PR", "America/Puerto_Rico"),
        ("CU", "America/Havana"),
        ("CA", "America/Toronto"),
        ("AU", "Australia/Sydney"),
        ("NZ", "Pacific/Auckland"),
        ("JP", "Asia/Tokyo"),
        ("CN", "Asia/Shanghai"),
        ("KR", "Asia/Seoul"),
        ("ID", "Asia/Jakarta"),
        ("PH", "Asia/Manila"),
        ("TH", "Asia/Bangkok"),
        ("VN", "Asia/Ho_Chi_Minh"),
        ("MY", "Asia/Kuala_Lumpur"),
        ("SG", "Asia/Singapore"),
        ("ZA", "Africa/Johannesburg"),
        ("NG", "Africa/Lagos"),
        ("KE", "Africa/Nairobi"),
        ("EG", "Africa/Cairo"),
        ("MA", "Africa/Casablanca"),
        ("TR", "Europe/Istanbul"),
        ("RU", "Europe/Moscow"),
        ("UA", "Europe/Kyiv"),
        ("PL", "Europe/Warsaw"),
        ("NL", "Europe/Amsterdam"),
        ("BE", "Europe/Brussels"),
        ("PT", "Europe/Lisbon"),
        ("CH", "Europe/Zurich"),
        ("AT", "Europe/Vienna"),
        ("SE", "Europe/Stockholm"),
        ("NO", "Europe/Oslo"),
        ("DK", "Europe/Copenhagen"),
        ("FI", "Europe/Helsinki"),
        ("IE", "Europe/Dublin"),
        ("IL", "Asia/Jerusalem"),
        ("SA", "Asia/Riyadh"),
        ("AE", "Asia/Dubai"),
        ("PK", "Asia/Karachi"),
        ("BD", "Asia/Dhaka"),
        ("KZ", "Asia/Almaty"),
        ("XK", "Europe/Belgrade"),
    ];
    for (region, name) in cases {
        assert_eq!(time_zone_of_region(region).map(|tz| tz.name()), Some(name), "{region}");
    }
    for bad in ["", "A", "ARG", "001", "Z1", "ZZ", "ÑÑ", "é", " ", "A\u{0}"] {
        assert_eq!(time_zone_of_region(bad), None, "{bad:?}");
    }
    assert_eq!(time_zone_of_region(" ar "), Some(Buenos_Aires));
}

#[test]
fn local_dates_are_what_the_tests_assume() {
    // Guards the fixed instants above: 2025-01-17 is a Friday, DST dates in Madrid are as described.
    assert_eq!(NaiveDate::from_ymd_opt(2025, 1, 17).unwrap().weekday(), Weekday::Fri);
    assert_eq!(NaiveDate::from_ymd_opt(2025, 3, 30).unwrap().weekday(), Weekday::Sun);
    assert_eq!(NaiveDate::from_ymd_opt(2025, 10, 26).unwrap().weekday(), Weekday::Sun);
    let before = utc("2025-03-30T00:59:59Z").with_timezone(&Madrid);
    let after = utc("2025-03-30T01:00:00Z").with_timezone(&Madrid);
    assert_eq!((before.hour(), after.hour()), (1, 3));
    let before = utc("2025-10-26T00:59:59Z").with_timezone(&Madrid);
    let after = utc("2025-10-26T01:00:00Z").with_timezone(&Madrid);
    assert_eq!((before.hour(), after.hour()), (2, 2));
}
