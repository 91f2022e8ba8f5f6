//! The Sunshine Conversations shorthand parser. Properties: nothing panics; a message that parses and can be
//! written back reads back as the same message; and every message written in the current `&(( … ))&` form can be
//! written back (only the deprecated `&[…](…)` form may hold what the current one cannot express).
#![no_main]

use libfuzzer_sys::fuzz_target;
use pregon_core::shorthand;

fuzz_target!(|data: &[u8]| {
    let Ok(input) = std::str::from_utf8(data) else {
        return;
    };
    let looks = shorthand::looks_like_shorthand(input);
    let Ok(parsed) = shorthand::parse(input) else {
        return;
    };
    assert!(looks, "parsed something that does not look like shorthand: {input:?}");
    let written = parsed.to_shorthand();
    if input.trim_start().starts_with(shorthand::OPEN) {
        assert!(written.is_some(), "cannot write back {parsed:?}, parsed from {input:?}");
    }
    if let Some(written) = written {
        let again = shorthand::parse(&written);
        assert_eq!(again.as_ref(), Ok(&parsed), "{written:?} reads back differently");
    }
});
