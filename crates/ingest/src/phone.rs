//! Phone numbers as people write them, to E.164, checked against the numbering plans of libphonenumber (the
//! metadata shipped in the `phonenumber` crate).
//!
//! Why this does not call `phonenumber::parse` + `is_valid` for every row: the crate keeps its compiled patterns in
//! one LRU cache of 100 entries behind a global mutex, keyed by the pattern's text. A file with numbers from many
//! countries thrashes that cache and recompiles patterns all the time (measured: 2.4 ms per number), and even with
//! the cache enlarged every match takes the lock and hashes a long pattern (20–30 µs per number, serialised across
//! threads): ten times the budget of a whole row. So `Plan` runs the crate's own algorithm (`parse`, then
//! `is_valid`) step for step on the crate's own metadata, with each region's patterns compiled once, on first use,
//! into dense DFAs that need no lock (0.2 µs per number from one country, 0.36 µs from a worldwide mix). A test
//! compares the answers with the crate's on every region, and `examples/phone_speed.rs` on 1,000,000 numbers.

use phonenumber::metadata::{DATABASE, Descriptor, Metadata};
use regex::{Regex, RegexBuilder};
use regex_automata::dfa::{Automaton, StartKind, dense};
use regex_automata::nfa::thompson::{self, WhichCaptures};
use regex_automata::util::primitives::StateID;
use regex_automata::util::syntax;
use regex_automata::{Anchored, Input};
use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{LazyLock, OnceLock};

/// Why a phone was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhoneError {
    /// Nothing in the cell.
    #[error("the phone is empty")]
    Empty,
    /// Not a number of any numbering plan; the text says what was read.
    #[error("{0}")]
    Invalid(String),
}

/// Normalise a phone as people write it to E.164 with a real numbering-plan check (the `phonenumber` crate's
/// metadata and algorithm, not a regex of ours).
///
/// Accepts `+`, spaces, dashes, dots, slashes and brackets; digits with the country code and no `+` (Jelou's rule:
/// "código internacional sin el símbolo +"); a leading `00` international prefix; a spreadsheet's number written as
/// text in scientific notation (`5.49112345678E12`) or with a `.0` tail, when the value is a whole number; and, when
/// `default_region` is given (ISO 3166 alpha-2, e.g. "AR"), a national number of that country. Digits without `+`
/// are read with their country code first, and as a national number of `default_region` only when that fails, since
/// both campaign formats require the country code. Returns `"+<digits>"`.
pub fn normalize(raw: &str, default_region: Option<&str>) -> Result<String, PhoneError> {
    let text = raw.trim();
    if text.is_empty() {
        return Err(PhoneError::Empty);
    }
    let invalid = |why: &str| PhoneError::Invalid(format!("`{text}` is not a valid phone number{why}"));
    // Longer than any written phone: refuse before doing work on it.
    if text.len() > 64 {
        return Err(invalid(""));
    }
    let spreadsheet;
    let written;
    let (plus, digits): (bool, &str) = match spreadsheet_number(text) {
        Some(Ok(digits)) => {
            spreadsheet = digits;
            (false, &spreadsheet)
        }
        Some(Err(())) => {
            return Err(PhoneError::Invalid(format!(
                "`{text}` is a number that is not whole (digits were lost in the spreadsheet): write the phone as text"
            )));
        }
        None => {
            written = strip_formatting(text)
                .ok_or_else(|| invalid(": it has characters that are not part of a phone number"))?;
            (written.plus, written.as_str())
        }
    };
    if digits.is_empty() {
        return Err(invalid(""));
    }
    let plan = &*PLAN;
    if plus {
        return international(plan, digits).ok_or_else(|| invalid(" in any numbering plan"));
    }
    if let Some(e164) = international(plan, digits) {
        return Ok(e164);
    }
    if let Some(e164) = digits.strip_prefix("00").and_then(|rest| international(plan, rest)) {
        return Ok(e164);
    }
    match default_region {
        Some(region) => {
            let region = region.trim().to_ascii_uppercase();
            if let Some(p) = plan.national(&region, digits) {
                return Ok(p.e164());
            }
            if plan.region_by_id(&region).is_none() {
                return Err(invalid(&format!(" (and `{region}` is not a country Pregon knows)")));
            }
            Err(invalid(&format!(
                " with its country code, nor as a national number of {region}"
            )))
        }
        None => Err(invalid(
            " in any numbering plan (write it with its country code, e.g. +5491123456789)",
        )),
    }
}

/// A number with its country code, as E.164. The one answer that differs from the crate's: Mexico stopped dialling
/// a `1` before mobile numbers in 2019 and the numbering plan dropped it, but WhatsApp ids and the contact lists made
/// from them still carry it (`521 55 1234 5678`); such a number is the same line as `+52 55 1234 5678`.
fn international(plan: &Plan, digits: &str) -> Option<String> {
    if let Some(parsed) = plan.international(digits) {
        return Some(parsed.e164());
    }
    let rest = digits.strip_prefix("521").filter(|rest| rest.len() == 10)?;
    let mut without = String::with_capacity(12);
    without.push_str("52");
    without.push_str(rest);
    plan.international(&without).map(|p| p.e164())
}

/// The ISO country of an E.164 number (for send windows in the recipient's time zone later). `None` for an invalid
/// number and for numbers of no country (`+800` freephone, `+882` networks, …).
pub fn region_of(e164: &str) -> Option<String> {
    let digits = e164.strip_prefix('+').unwrap_or(e164);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let plan = &*PLAN;
    let parsed = plan.international(digits)?;
    let region = &plan.regions[parsed.region?];
    (!region.non_geographic).then(|| region.meta.id().to_owned())
}

/// A number written as a spreadsheet writes numbers: `5.49112345678E12`, `5491123456789.0`. `None` when `text` is
/// not one (then it is read as a written phone); `Err` when it is one but not a whole number.
fn spreadsheet_number(text: &str) -> Option<Result<Cow<'_, str>, ()>> {
    let (mantissa, exponent) = match text.find(['e', 'E']) {
        Some(i) => {
            let exp = text[i + 1..].strip_prefix('+').unwrap_or(&text[i + 1..]);
            if exp.is_empty() || exp.len() > 2 || !exp.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            (&text[..i], exp.parse::<usize>().ok()?)
        }
        None => (text, 0),
    };
    let (int, frac) = match mantissa.split_once('.') {
        Some(parts) => parts,
        None if exponent > 0 => (mantissa, ""),
        None => return None,
    };
    if int.is_empty() || !int.bytes().all(|b| b.is_ascii_digit()) || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if exponent == 0 {
        // Without an exponent only `digits.000` is a spreadsheet's number; `11.2345` is a phone written with dots.
        if frac.is_empty() || !frac.bytes().all(|b| b == b'0') || int.len() < 7 {
            return None;
        }
        return Some(Ok(Cow::Borrowed(int)));
    }
    let frac = frac.trim_end_matches('0');
    if frac.len() > exponent {
        return Some(Err(()));
    }
    let mut digits = String::with_capacity(int.len() + exponent);
    digits.push_str(int);
    digits.push_str(frac);
    digits.extend(std::iter::repeat_n('0', exponent - frac.len()));
    Some(Ok(Cow::Owned(digits)))
}

/// The digits of a written phone and whether it starts with `+`; `None` when it has anything that is not a digit or
/// a separator people use (letters, `*`, `#`, a `+` in the middle).
fn strip_formatting(text: &str) -> Option<Written> {
    let mut written = Written {
        plus: false,
        digits: [0; MAX_DIGITS],
        len: 0,
    };
    for c in text.chars() {
        match c {
            '0'..='9' => {
                // More digits than any number has: refused below, by the caller.
                *written.digits.get_mut(written.len)? = c as u8;
                written.len += 1;
            }
            // Only before the first digit: `+54 …`, `(+54) …`.
            '+' | '\u{FF0B}' if !written.plus && written.len == 0 => written.plus = true,
            ' '
            | '-'
            | '.'
            | '('
            | ')'
            | '/'
            | '\u{00A0}'
            | '\u{2007}'
            | '\u{2009}'
            | '\u{202F}'
            | '\u{2010}'..='\u{2015}'
            | '\u{2212}' => {}
            _ => return None,
        }
    }
    Some(written)
}

/// The longest number the crate reads: a 3-digit country code and 17 national digits.
const MAX_DIGITS: usize = MAX_LENGTH_FOR_COUNTRY_CODE + MAX_LENGTH_FOR_NSN;

/// The digits of a written phone, on the stack: a row's phone costs no allocation until its E.164 is made.
struct Written {
    plus: bool,
    digits: [u8; MAX_DIGITS],
    len: usize,
}

impl Written {
    fn as_str(&self) -> &str {
        std::str::from_utf8(&self.digits[..self.len]).unwrap_or("")
    }
}

/// A number that passed the check.
struct Parsed<'a> {
    code: u16,
    national: Cow<'a, str>,
    /// The region whose plan it is valid in (index into [`Plan::regions`]).
    region: Option<usize>,
}

impl Parsed<'_> {
    fn e164(&self) -> String {
        let mut out = String::with_capacity(1 + 3 + self.national.len());
        out.push('+');
        out.push_str(itoa3(self.code).as_str());
        out.push_str(&self.national);
        out
    }
}

/// A calling code (1..=999) as text, without the allocation of `to_string`.
fn itoa3(code: u16) -> Itoa3 {
    let mut buf = [0u8; 3];
    let mut n = code.min(999);
    let mut start = 3;
    loop {
        start -= 1;
        buf[start] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 || start == 0 {
            break;
        }
    }
    Itoa3 { buf, start }
}

struct Itoa3 {
    buf: [u8; 3],
    start: usize,
}

impl Itoa3 {
    fn as_str(&self) -> &str {
        std::str::from_utf8(&self.buf[self.start..]).unwrap_or("")
    }
}

// The crate's limits (`phonenumber::consts`, private there).
const MIN_LENGTH_FOR_NSN: usize = 2;
const MAX_LENGTH_FOR_NSN: usize = 17;
const MAX_LENGTH_FOR_COUNTRY_CODE: usize = 3;

static PLAN: LazyLock<Plan> = LazyLock::new(Plan::load);

/// The crate's metadata, indexed for the lookups the algorithm makes, with patterns compiled per region on first use.
struct Plan {
    regions: Vec<Region>,
    /// Calling code → regions, in the crate's order (the main country first).
    by_code: Vec<Vec<usize>>,
    by_id: HashMap<&'static str, usize>,
}

struct Region {
    meta: &'static Metadata,
    /// `001`: a calling code of no country (the crate answers these with `Right(code)`).
    non_geographic: bool,
    /// Whether the crate can name the region (`country::Id`); it treats a region it cannot name as no region.
    known: bool,
    rules: OnceLock<Rules>,
}

/// One region's patterns, compiled anchored at the start: the crate accepts a match only at offset 0.
struct Rules {
    general: Desc,
    /// The descriptors `number_type` tries (a number of none of them is `Unknown`, so invalid): length filters and
    /// patterns.
    types: Vec<(Vec<u16>, String)>,
    /// By national number length, one matcher for the union of the type patterns that admit that length. A number
    /// has a type when one of them matches, so one DFA run answers what up to ten would.
    types_by_length: [OnceLock<Option<Matcher>>; MAX_LENGTH_FOR_NSN + 1],
    leading_digits: Option<Matcher>,
    /// The DFA says whether the prefix is there and where it ends; the regex's groups are needed only for a transform
    /// rule, and not even then for an empty match when the rule's group cannot be empty (Argentina's pattern matches
    /// empty on every international number).
    national_prefix_for_parsing: Option<(Matcher, Regex)>,
    last_group_may_be_empty: bool,
    international_prefix: Option<Matcher>,
}

struct Desc {
    lengths: Vec<u16>,
    pattern: Option<Matcher>,
}

impl Desc {
    fn new(d: &Descriptor) -> Desc {
        Desc {
            lengths: d.possible_length().to_vec(),
            pattern: Matcher::new(d.national_number().as_str()),
        }
    }

    /// `Descriptor::is_match`: a possible length, and the pattern matches from the first digit.
    fn is_match(&self, national: &str) -> bool {
        (self.lengths.is_empty() || self.lengths.contains(&(national.len() as u16)))
            && self.pattern.as_ref().is_some_and(|p| p.is_match(national))
    }
}

/// A pattern that only has to say whether (and where) it matches from the first digit. A dense DFA answers that
/// in one table step per digit, with no cache to borrow: the regex crate's lazy DFA costs ~10x more per call on
/// these 10-digit haystacks (measured). A pattern too large for a DFA falls back to `Regex`.
enum Matcher {
    Dfa {
        dfa: Box<dense::DFA<Vec<u32>>>,
        /// The anchored start state, when it does not depend on what comes before (it never does at offset 0).
        start: Option<StateID>,
    },
    Regex(Regex),
}

/// Far above every pattern of the metadata (the largest DFA is 23 KB, a test says); a bound so a bad pattern cannot eat
/// memory.
const DFA_LIMIT: usize = 8 << 20;

impl Matcher {
    fn new(pattern: &str) -> Option<Matcher> {
        let dfa = dense::Builder::new()
            .syntax(syntax::Config::new().ignore_whitespace(true).unicode(false).utf8(false))
            .thompson(thompson::Config::new().utf8(false).which_captures(WhichCaptures::None))
            .configure(
                dense::Config::new()
                    .start_kind(StartKind::Anchored)
                    .dfa_size_limit(Some(DFA_LIMIT))
                    .determinize_size_limit(Some(DFA_LIMIT)),
            )
            .build(&format!("(?:{pattern}\n)"));
        match dfa {
            Ok(dfa) => Some(Matcher::Dfa {
                start: dfa.universal_start_state(Anchored::Yes),
                dfa: Box::new(dfa),
            }),
            Err(_) => compile(pattern).map(Matcher::Regex),
        }
    }

    /// Whether it matches from the first byte (any length).
    fn is_match(&self, haystack: &str) -> bool {
        match self {
            Matcher::Dfa {
                dfa,
                start: Some(start),
            } => {
                // The search loop of `try_search_fwd` without its set-up, which costs as much as the ten steps here.
                let mut state = *start;
                for &byte in haystack.as_bytes() {
                    state = dfa.next_state(state, byte);
                    if dfa.is_special_state(state) {
                        if dfa.is_match_state(state) {
                            return true;
                        }
                        if dfa.is_dead_state(state) {
                            return false;
                        }
                    }
                }
                dfa.is_match_state(dfa.next_eoi_state(state))
            }
            Matcher::Dfa { dfa, start: None } => {
                let input = Input::new(haystack).anchored(Anchored::Yes).earliest(true);
                matches!(dfa.try_search_fwd(&input), Ok(Some(_)))
            }
            Matcher::Regex(re) => re.is_match(haystack),
        }
    }

    /// Where the leftmost-first match from the first byte ends (what `Regex::find` gives when it starts at 0).
    fn find_end(&self, haystack: &str) -> Option<usize> {
        match self {
            Matcher::Dfa { dfa, .. } => {
                let input = Input::new(haystack).anchored(Anchored::Yes);
                dfa.try_search_fwd(&input).ok().flatten().map(|m| m.offset())
            }
            Matcher::Regex(re) => re.find(haystack).map(|m| m.end()),
        }
    }
}

/// The crate compiles with `ignore_whitespace` (the patterns are laid out over several lines in the XML). The closing
/// bracket goes on its own line so a `#` comment in a pattern could not swallow it. ASCII classes are enough for
/// the digit strings matched here and much cheaper than Unicode ones; a pattern that needs Unicode still compiles.
fn compile(pattern: &str) -> Option<Regex> {
    let anchored = format!("^(?:{pattern}\n)");
    RegexBuilder::new(&anchored)
        .ignore_whitespace(true)
        .unicode(false)
        .build()
        .or_else(|_| RegexBuilder::new(&anchored).ignore_whitespace(true).build())
        .ok()
}

/// A region chosen by `source_for`.
#[derive(Clone, Copy)]
struct Source {
    region: usize,
    /// The number was found to have a type in this region (so it is valid there).
    typed: bool,
}

/// Outcome of the crate's `validator::length` for the general descriptor, reduced to what `parse` asks.
#[derive(PartialEq, Eq)]
enum Length {
    Possible,
    TooShort,
    Other,
}

impl Plan {
    fn load() -> Plan {
        let db = &*DATABASE;
        let mut regions = Vec::new();
        let mut by_code = vec![Vec::new(); 1000];
        let mut by_id = HashMap::new();
        for (code, slot) in by_code.iter_mut().enumerate() {
            let Some(metas) = db.by_code(&(code as u16)) else {
                continue;
            };
            for meta in metas {
                let non_geographic = meta.id() == "001";
                if !non_geographic {
                    by_id.insert(meta.id(), regions.len());
                }
                slot.push(regions.len());
                regions.push(Region {
                    meta,
                    non_geographic,
                    known: non_geographic || meta.id().parse::<phonenumber::country::Id>().is_ok(),
                    rules: OnceLock::new(),
                });
            }
        }
        Plan {
            regions,
            by_code,
            by_id,
        }
    }

    fn region_by_id(&self, id: &str) -> Option<usize> {
        self.by_id.get(id).copied()
    }

    fn rules(&self, region: usize) -> &Rules {
        let meta = self.regions[region].meta;
        self.regions[region].rules.get_or_init(|| {
            let d = meta.descriptors();
            Rules {
                general: Desc::new(d.general()),
                types: [
                    d.premium_rate(),
                    d.toll_free(),
                    d.shared_cost(),
                    d.voip(),
                    d.personal_number(),
                    d.pager(),
                    d.uan(),
                    d.voicemail(),
                    d.fixed_line(),
                    d.mobile(),
                ]
                .into_iter()
                .flatten()
                .map(|d| (d.possible_length().to_vec(), d.national_number().as_str().to_owned()))
                .collect(),
                types_by_length: Default::default(),
                leading_digits: meta.leading_digits().and_then(|r| Matcher::new(r.as_str())),
                national_prefix_for_parsing: meta
                    .national_prefix_for_parsing()
                    .and_then(|r| Some((Matcher::new(r.as_str())?, compile(r.as_str())?))),
                international_prefix: meta.international_prefix().and_then(|r| Matcher::new(r.as_str())),
                last_group_may_be_empty: meta
                    .national_prefix_for_parsing()
                    .is_none_or(|r| last_group_may_be_empty(r.as_str())),
            }
        })
    }

    /// `validator::number_type(meta, national) != Type::Unknown`.
    fn has_type(&self, region: usize, national: &str) -> bool {
        let rules = self.rules(region);
        if !rules.general.is_match(national) {
            return false;
        }
        let Some(slot) = rules.types_by_length.get(national.len()) else {
            return false;
        };
        let union = slot.get_or_init(|| {
            let len = national.len() as u16;
            let admitted: Vec<String> = rules
                .types
                .iter()
                .filter(|(lengths, _)| lengths.is_empty() || lengths.contains(&len))
                .map(|(_, pattern)| format!("(?:{pattern}\n)"))
                .collect();
            if admitted.is_empty() {
                return None;
            }
            Matcher::new(&admitted.join("|"))
        });
        union.as_ref().is_some_and(|m| m.is_match(national))
    }

    /// `validator::source_for`: the region whose plan a number of this calling code is read with, and whether it
    /// was chosen because the number has a type there (then `is_valid` need not ask again).
    fn source_for(&self, code: u16, national: &str) -> Option<Source> {
        let list = self.by_code.get(usize::from(code))?;
        match list.as_slice() {
            [] => None,
            [only] => self.regions[*only].known.then_some(Source {
                region: *only,
                typed: false,
            }),
            many => many
                .iter()
                .find_map(|&region| match &self.rules(region).leading_digits {
                    Some(leading) => leading.is_match(national).then_some(Source { region, typed: false }),
                    None => self
                        .has_type(region, national)
                        .then_some(Source { region, typed: true }),
                }),
        }
    }

    /// `validator::length(meta, number, Type::Unknown)`, as far as `parse` looks at it.
    fn length(&self, region: usize, national: &str) -> Length {
        let general = self.regions[region].meta.descriptors().general();
        let len = national.len() as u16;
        let possible = general.possible_length();
        let Some(&minimum) = possible.first() else {
            return Length::Other;
        };
        if general.possible_local_length().contains(&len) || len == minimum {
            Length::Possible
        } else if len < minimum {
            Length::TooShort
        } else if possible.contains(&len) {
            Length::Possible
        } else {
            Length::Other
        }
    }

    /// `helper::national_number`: strip the national prefix (and carrier code) the way the region says, or apply its
    /// transform rule (Argentina's `0 11 15 …` → `9 11 …`).
    fn national_number<'a>(&self, region: usize, national: Cow<'a, str>) -> Cow<'a, str> {
        let meta = self.regions[region].meta;
        let rules = self.rules(region);
        let Some((prefilter, parsing)) = &rules.national_prefix_for_parsing else {
            if let Some(prefix) = meta.national_prefix()
                && national.starts_with(prefix)
            {
                return trim(national, prefix.len());
            }
            return national;
        };
        let Some(end) = prefilter.find_end(&national) else {
            return national;
        };
        let transform = meta.national_prefix_transform_rule();
        if transform.is_none() || (end == 0 && !rules.last_group_may_be_empty) {
            // Without a rule the crate strips the match; an empty match leaves the last group out, so no rule applies.
            return trim(national, end);
        }
        let Some(caps) = parsing.captures(&national) else {
            return national;
        };
        let end = caps.get(0).map_or(0, |m| m.end());
        let viable = rules.general.is_match(&national);
        let first_group_matched = caps.get(1).is_some();
        let last_group_matched = caps.get(caps.len() - 1).is_some();
        match transform {
            Some(transform) if last_group_matched => {
                // The crate unwraps the first group here; a rule without one would panic there, so keep the number.
                if !first_group_matched {
                    return national;
                }
                let transformed = parsing.replace(&national, transform).into_owned();
                if viable && !rules.general.is_match(&transformed) {
                    return national;
                }
                Cow::Owned(transformed)
            }
            // The crate compares against the number from the match's start, which is 0: never refused here.
            _ => trim(national, end),
        }
    }

    /// `phonenumber::parse(None, "+" + digits)` then `is_valid`.
    fn international<'a>(&self, digits: &'a str) -> Option<Parsed<'a>> {
        // `is_viable` wants three digits, `country_code` more than two.
        if digits.len() <= MIN_LENGTH_FOR_NSN || digits.starts_with('0') {
            return None;
        }
        let (code, national) = (1..=MAX_LENGTH_FOR_COUNTRY_CODE).find_map(|len| {
            let code: u16 = digits[..len].parse().ok()?;
            (!self.by_code[usize::from(code)].is_empty()).then(|| (code, &digits[len..]))
        })?;
        let trimmed = national.trim_start_matches('0');
        let source = self.source_for(code, trimmed);
        // `is_valid` asks `source_for` again with the final national number; usually that is this one.
        let seen = (trimmed.len() == national.len()).then_some((national, source));
        self.finish(code, Cow::Borrowed(national), source.map(|s| s.region), seen)
    }

    /// `phonenumber::parse(Some(region), digits)` then `is_valid`: an international prefix of that country, or its
    /// country code without `+`, or a national number.
    fn national<'a>(&self, region_id: &str, digits: &'a str) -> Option<Parsed<'a>> {
        let region = self.region_by_id(region_id)?;
        if !self.regions[region].known || digits.len() < MIN_LENGTH_FOR_NSN {
            return None;
        }
        let rules = self.rules(region);
        let meta = self.regions[region].meta;
        let idd_end = rules
            .international_prefix
            .as_ref()
            .and_then(|idd| idd.find_end(digits))
            .filter(|&end| !digits[end..].starts_with('0'));
        let (code, national) = match idd_end {
            Some(end) => {
                let national = &digits[end..];
                if national.len() <= MIN_LENGTH_FOR_NSN || national.starts_with('0') {
                    return None;
                }
                (1..=MAX_LENGTH_FOR_COUNTRY_CODE).find_map(|len| {
                    let code: u16 = national[..len].parse().ok()?;
                    (!self.by_code[usize::from(code)].is_empty()).then(|| (code, &national[len..]))
                })?
            }
            None => {
                let code = meta.country_code();
                let code_text = itoa3(code);
                let code_text = code_text.as_str();
                let national = if digits.starts_with(code_text)
                    && (!rules.general.is_match(digits) || self.length(region, digits) != Length::Possible)
                {
                    &digits[code_text.len()..]
                } else {
                    digits
                };
                (code, national)
            }
        };
        // The crate strips the national prefix with the default region's rules even after an international prefix.
        self.finish(code, Cow::Borrowed(national), Some(region), None)
    }

    /// The end of `parse` (national prefix, length limits) and `is_valid`. `seen`: a national number `source_for`
    /// already answered for, and its answer.
    fn finish<'a>(
        &self,
        code: u16,
        mut national: Cow<'a, str>,
        meta: Option<usize>,
        seen: Option<(&str, Option<Source>)>,
    ) -> Option<Parsed<'a>> {
        if let Some(region) = meta {
            let mut potential = self.national_number(region, national.clone());
            if let Some(prefix) = self.regions[region].meta.national_prefix()
                && potential.starts_with(prefix)
            {
                potential = trim(potential, prefix.len());
            }
            if self.length(region, &potential) != Length::TooShort {
                national = potential;
            }
        }
        if national.len() < MIN_LENGTH_FOR_NSN || national.len() > MAX_LENGTH_FOR_NSN {
            return None;
        }
        // `NationalNumber::from_str`: leading zeros are counted apart, the rest must be a number below 2^56.
        let significant = national.trim_start_matches('0');
        if significant.is_empty() || significant.parse::<u64>().ok()? >= 1 << 56 {
            return None;
        }
        let source = match seen {
            Some((seen, source)) if seen == national => source,
            _ => self.source_for(code, &national),
        }?;
        (source.typed || self.has_type(source.region, &national)).then_some(Parsed {
            code,
            national,
            region: Some(source.region),
        })
    }
}

/// Whether the highest-numbered group of a pattern can match the empty string (then an empty match may still
/// include it). Unreadable → `true`, the safe answer.
fn last_group_may_be_empty(pattern: &str) -> bool {
    use regex_syntax::hir::{Hir, HirKind};
    fn walk(hir: &Hir, last: &mut Option<(u32, bool)>) {
        match hir.kind() {
            HirKind::Capture(group) => {
                if last.is_none_or(|(index, _)| group.index > index) {
                    *last = Some((group.index, group.sub.properties().minimum_len() == Some(0)));
                }
                walk(&group.sub, last);
            }
            HirKind::Concat(all) | HirKind::Alternation(all) => all.iter().for_each(|h| walk(h, last)),
            HirKind::Repetition(repeated) => walk(&repeated.sub, last),
            _ => {}
        }
    }
    let parsed = regex_syntax::ParserBuilder::new()
        .ignore_whitespace(true)
        .unicode(false)
        .utf8(false)
        .build()
        .parse(pattern);
    let Ok(hir) = parsed else {
        return true;
    };
    let mut last = None;
    walk(&hir, &mut last);
    // No group: the crate takes the whole match as the last group, which an empty match is.
    last.is_none_or(|(_, empty)| empty)
}

fn trim(value: Cow<'_, str>, start: usize) -> Cow<'_, str> {
    match value {
        Cow::Borrowed(v) => Cow::Borrowed(&v[start..]),
        Cow::Owned(mut v) => {
            v.drain(..start);
            Cow::Owned(v)
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn ok(raw: &str, region: Option<&str>) -> String {
        normalize(raw, region).unwrap_or_else(|e| panic!("{raw:?} ({region:?}): {e}"))
    }

    fn invalid(raw: &str, region: Option<&str>) -> String {
        match normalize(raw, region) {
            Err(PhoneError::Invalid(why)) => why,
            other => panic!("{raw:?} ({region:?}): {other:?}"),
        }
    }

    #[test]
    fn written_forms_with_the_country_code() {
        for raw in [
            "+5491123456789",
            "+54 9 11 2345-6789",
            " (+54) 9 11 2345.6789 ",
            "+54 (9) 11/2345-6789",
            "5491123456789",
            "54 9 11 2345 6789",
            "0054 9 11 2345 6789",
            "+54\u{a0}9\u{a0}11\u{a0}2345\u{2011}6789",
            "＋5491123456789",
        ] {
            assert_eq!(ok(raw, None), "+5491123456789", "{raw:?}");
        }
        assert_eq!(ok("+1 (650) 253-0000", None), "+16502530000");
        assert_eq!(ok("16502530000", None), "+16502530000");
        assert_eq!(ok("+44 7912 345678", None), "+447912345678");
        assert_eq!(ok("593 99 123 4567", None), "+593991234567");
        assert_eq!(ok("+39 02 3661 8300", None), "+390236618300");
    }

    #[test]
    fn argentina_national_prefix_rules_apply_to_international_numbers() {
        // `+54 11 15 …` is how people write a mobile with its old `15`: the plan turns it into `9 11 …`.
        assert_eq!(ok("+54 11 15 2345 6789", None), "+5491123456789");
        // Without the 9 and without 15 it is a landline, and valid as one.
        assert_eq!(ok("+54 11 2345 6789", None), "+541123456789");
    }

    #[test]
    fn mexico_s_old_mobile_one_is_dropped() {
        assert_eq!(ok("5215512345678", None), "+525512345678");
        assert_eq!(ok("+52 1 55 1234 5678", None), "+525512345678");
        assert_eq!(ok("+52 55 1234 5678", None), "+525512345678");
    }

    #[test]
    fn spreadsheet_numbers() {
        assert_eq!(ok("5.49112345678E12", None), "+5491123456780");
        assert_eq!(ok("5.491123456789E12", None), "+5491123456789");
        assert_eq!(ok("5.491123456789e+12", None), "+5491123456789");
        assert_eq!(ok("5491123456789.0", None), "+5491123456789");
        assert_eq!(ok("5491123456789.000", None), "+5491123456789");
        let why = invalid("5.4911234567891E12", None);
        assert!(why.contains("not whole"), "{why}");
        // A dotted phone is not a decimal number.
        assert_eq!(ok("54.9.11.2345.6789", None), "+5491123456789");
        assert_eq!(ok("+54 911.2345.6789", None), "+5491123456789");
    }

    #[test]
    fn national_numbers_need_the_default_region() {
        assert_eq!(ok("011 15-2345-6789", Some("AR")), "+5491123456789");
        assert_eq!(ok("11 2345-6789", Some("ar")), "+541123456789");
        assert_eq!(ok("(650) 253-0000", Some("US")), "+16502530000");
        assert_eq!(ok("07912 345678", Some("GB")), "+447912345678");
        assert_eq!(ok("099 123 4567", Some("EC")), "+593991234567");
        assert_eq!(ok("55 1234 5678", Some("MX")), "+525512345678");
        // The country's own code without `+`, and its international prefix.
        assert_eq!(ok("011 54 9 11 2345 6789", Some("US")), "+5491123456789");
        // With the country code, the region is not needed and not used.
        assert_eq!(ok("+16502530000", Some("AR")), "+16502530000");
        let why = invalid("011 15-2345-6789", None);
        assert!(why.contains("write it with its country code"), "{why}");
        let why = invalid("12345", Some("AR"));
        assert!(why.ends_with("nor as a national number of AR"), "{why}");
        let why = invalid("011 15-2345-6789", Some("XX"));
        assert!(why.contains("`XX` is not a country"), "{why}");
    }

    #[test]
    fn empty_and_invalid() {
        assert_eq!(normalize("", None), Err(PhoneError::Empty));
        assert_eq!(normalize(" \t ", None), Err(PhoneError::Empty));
        assert_eq!(
            invalid("+54 11 1234", None),
            "`+54 11 1234` is not a valid phone number in any numbering plan"
        );
        for raw in [
            "+",
            "---",
            "12",
            "+0 11 2345 6789",
            "+999 123456789",
            "5491123456789000000000",
        ] {
            invalid(raw, None);
        }
        let why = invalid("+54 9 11 2345 6789 ext. 12", None);
        assert!(why.contains("characters that are not part of a phone number"), "{why}");
        for raw in ["abc", "+54+9112345678", "54911234567#", "tel:+5491123456789"] {
            invalid(raw, None);
        }
        invalid(&"1".repeat(80), None);
        // A fictional 555 number is not in the plan.
        invalid("+1 555 555 5555", None);
    }

    #[test]
    fn regions_of_numbers() {
        assert_eq!(region_of("+5491123456789").as_deref(), Some("AR"));
        assert_eq!(region_of("+16502530000").as_deref(), Some("US"));
        assert_eq!(region_of("+447912345678").as_deref(), Some("GB"));
        assert_eq!(region_of("+525512345678").as_deref(), Some("MX"));
        // Shared calling codes are told apart by their plans.
        assert_eq!(region_of("+14169671111").as_deref(), Some("CA"));
        assert_eq!(region_of("+18092345678").as_deref(), Some("DO"));
        assert_eq!(region_of("+80012345678"), None);
        assert_eq!(region_of("5491123456789").as_deref(), Some("AR"));
        assert_eq!(region_of("+54 11"), None);
        assert_eq!(region_of(""), None);
    }

    /// xorshift64, so the sample is the same on every run.
    struct Rng(u64);

    impl Rng {
        fn below(&mut self, n: usize) -> usize {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            (self.0 % n as u64) as usize
        }
    }

    /// What the crate answers on its own.
    fn crate_answer(raw: &str, region: Option<phonenumber::country::Id>) -> Option<String> {
        let number = phonenumber::parse(region, raw).ok()?;
        phonenumber::is_valid(&number).then(|| number.format().mode(phonenumber::Mode::E164).to_string())
    }

    /// Numbers of every kind of every region of the metadata (its examples, with digits changed, cut or added), read
    /// by `Plan` and by the crate: the answers must be the same. `examples/phone_speed.rs` runs this on 1,000,000.
    #[test]
    fn plan_answers_as_the_crate_does() {
        // Big enough that the crate does not recompile patterns all the time (it would be minutes in a debug build).
        DATABASE.cache().lock().unwrap().set_capacity(100_000);
        let plan = &*PLAN;
        let mut rng = Rng(0x2545_F491_4F6C_DD1D);
        let (mut checked, mut valid) = (0, 0);
        for region in &plan.regions {
            let d = region.meta.descriptors();
            let descriptors = [
                d.mobile(),
                d.fixed_line(),
                d.toll_free(),
                d.voip(),
                d.uan(),
                d.premium_rate(),
            ];
            for example in descriptors.into_iter().flatten().filter_map(|d| d.example()) {
                for _ in 0..3 {
                    let mut digits: Vec<u8> = example.bytes().collect();
                    let len = digits.len();
                    for d in &mut digits[len.saturating_sub(3)..] {
                        *d = b'0' + rng.below(10) as u8;
                    }
                    match rng.below(8) {
                        0 => {
                            digits.pop();
                        }
                        1 => digits.push(b'0' + rng.below(10) as u8),
                        2 => digits.insert(0, b'0'),
                        _ => {}
                    }
                    let national = String::from_utf8(digits).unwrap();
                    let code = region.meta.country_code();
                    let international = format!("{code}{national}");
                    let ours = plan.international(&international).map(|p| p.e164());
                    let theirs = crate_answer(&format!("+{international}"), None);
                    assert_eq!(ours, theirs, "+{international}");
                    valid += usize::from(ours.is_some());
                    checked += 1;
                    if let Ok(id) = region.meta.id().parse::<phonenumber::country::Id>() {
                        let ours = plan.national(region.meta.id(), &national).map(|p| p.e164());
                        assert_eq!(
                            ours,
                            crate_answer(&national, Some(id)),
                            "{national} in {}",
                            region.meta.id()
                        );
                        let with_prefix = format!("0{national}");
                        let ours = plan.national(region.meta.id(), &with_prefix).map(|p| p.e164());
                        assert_eq!(
                            ours,
                            crate_answer(&with_prefix, Some(id)),
                            "{with_prefix} in {}",
                            region.meta.id()
                        );
                        checked += 2;
                    }
                }
            }
        }
        assert!(
            checked > 5_000 && valid > checked / 10,
            "{checked} checked, {valid} valid"
        );
    }

    /// Every pattern compiles to a DFA (the fast path), and the DFAs stay small.
    #[test]
    fn every_pattern_is_a_small_dfa() {
        let plan = &*PLAN;
        let mut largest = 0;
        let mut check = |m: &Matcher| match m {
            Matcher::Dfa { dfa, start } => {
                assert!(start.is_some());
                largest = largest.max(dfa.memory_usage());
            }
            Matcher::Regex(re) => panic!("not a DFA: {re}"),
        };
        for i in 0..plan.regions.len() {
            let rules = plan.rules(i);
            for lengths in 0..=MAX_LENGTH_FOR_NSN {
                // Compile every length's union, as numbers of every length would.
                let national = "1".repeat(lengths);
                plan.has_type(i, &national);
            }
            if let Some(m) = &rules.general.pattern {
                check(m);
            }
            for m in [&rules.leading_digits, &rules.international_prefix]
                .into_iter()
                .flatten()
            {
                check(m);
            }
            if let Some((m, _)) = &rules.national_prefix_for_parsing {
                check(m);
            }
            for slot in &rules.types_by_length {
                if let Some(Some(m)) = slot.get() {
                    check(m);
                }
            }
        }
        assert!(largest < DFA_LIMIT / 4, "{largest}");
        println!("largest DFA: {largest} bytes");
    }

    #[test]
    fn threads_share_the_plan() {
        let handles: Vec<_> = (0..4)
            .map(|i| {
                std::thread::spawn(move || {
                    (0..200).all(|n| normalize(&format!("+54 9 11 2345 {:04}", i * 1000 + n), None).is_ok())
                })
            })
            .collect();
        assert!(handles.into_iter().all(|h| h.join().unwrap()));
    }
}
