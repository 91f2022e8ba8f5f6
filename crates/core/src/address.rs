//! Which IP addresses are internal (loopback, private, link-local, metadata, reserved…): Pregon neither fetches from
//! them (`file_url`, callbacks) nor accepts them in media URLs, unless configured to. Pure: no resolution here.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Why `ip` must not be reached (e.g. "a loopback address"), or `None` for a public address.
pub fn forbidden_reason(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(ip) => forbidden_v4(ip),
        IpAddr::V6(ip) => forbidden_v6(ip),
    }
}

/// Whether `ip` is internal: an address Pregon refuses to reach when private addresses are not allowed.
pub fn is_forbidden(ip: IpAddr) -> bool {
    forbidden_reason(ip).is_some()
}

/// IPv4 ranges that are not globally reachable unicast (IANA special-purpose registry), most specific first.
const FORBIDDEN_V4: &[(Ipv4Addr, u8, &str)] = &[
    (Ipv4Addr::new(255, 255, 255, 255), 32, "the broadcast address"),
    (
        Ipv4Addr::new(0, 0, 0, 0),
        8,
        "an unspecified (\"this network\") address",
    ),
    (Ipv4Addr::new(10, 0, 0, 0), 8, "a private address"),
    (Ipv4Addr::new(100, 64, 0, 0), 10, "a carrier-grade NAT address"),
    (Ipv4Addr::new(127, 0, 0, 0), 8, "a loopback address"),
    (
        Ipv4Addr::new(169, 254, 0, 0),
        16,
        "a link-local address (cloud metadata lives here)",
    ),
    (Ipv4Addr::new(172, 16, 0, 0), 12, "a private address"),
    (Ipv4Addr::new(192, 0, 0, 0), 24, "an IETF protocol address"),
    (Ipv4Addr::new(192, 0, 2, 0), 24, "a documentation address"),
    (Ipv4Addr::new(192, 88, 99, 0), 24, "a 6to4 relay address"),
    (Ipv4Addr::new(192, 168, 0, 0), 16, "a private address"),
    (Ipv4Addr::new(198, 18, 0, 0), 15, "a benchmarking address"),
    (Ipv4Addr::new(198, 51, 100, 0), 24, "a documentation address"),
    (Ipv4Addr::new(203, 0, 113, 0), 24, "a documentation address"),
    (Ipv4Addr::new(224, 0, 0, 0), 4, "a multicast address"),
    (Ipv4Addr::new(240, 0, 0, 0), 4, "a reserved address"),
];

/// IPv6 ranges refused outright; the IPv4-embedding ones (mapped, NAT64) are classified by their IPv4 address.
const FORBIDDEN_V6: &[(Ipv6Addr, u8, &str)] = &[
    (Ipv6Addr::UNSPECIFIED, 128, "the unspecified address"),
    (Ipv6Addr::LOCALHOST, 128, "a loopback address"),
    (
        Ipv6Addr::new(0, 0, 0, 0, 0, 0, 0, 0),
        96,
        "an IPv4-compatible address (deprecated)",
    ),
    (
        Ipv6Addr::new(0x64, 0xff9b, 1, 0, 0, 0, 0, 0),
        48,
        "a local-use NAT64 address",
    ),
    (Ipv6Addr::new(0x100, 0, 0, 0, 0, 0, 0, 0), 64, "a discard-only address"),
    (
        Ipv6Addr::new(0x2001, 0, 0, 0, 0, 0, 0, 0),
        23,
        "an IETF protocol address (Teredo, benchmarking, ORCHID)",
    ),
    (
        Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0),
        32,
        "a documentation address",
    ),
    (
        Ipv6Addr::new(0x2002, 0, 0, 0, 0, 0, 0, 0),
        16,
        "a 6to4 address (embeds an IPv4 address)",
    ),
    (
        Ipv6Addr::new(0x3fff, 0, 0, 0, 0, 0, 0, 0),
        20,
        "a documentation address",
    ),
    (
        Ipv6Addr::new(0x5f00, 0, 0, 0, 0, 0, 0, 0),
        16,
        "a segment-routing address",
    ),
    (
        Ipv6Addr::new(0xfc00, 0, 0, 0, 0, 0, 0, 0),
        7,
        "a unique local (private) address",
    ),
    (Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0), 10, "a link-local address"),
    (
        Ipv6Addr::new(0xfec0, 0, 0, 0, 0, 0, 0, 0),
        10,
        "a site-local address (deprecated)",
    ),
    (Ipv6Addr::new(0xff00, 0, 0, 0, 0, 0, 0, 0), 8, "a multicast address"),
];

fn in_prefix(bits: u128, prefix: u128, len: u8, width: u32) -> bool {
    let shift = width - u32::from(len);
    // A shift by the full width would overflow; a zero-length prefix matches everything.
    len == 0 || (bits >> shift) == (prefix >> shift)
}

fn forbidden_v4(ip: Ipv4Addr) -> Option<&'static str> {
    FORBIDDEN_V4
        .iter()
        .find(|(net, len, _)| in_prefix(u32::from(ip).into(), u32::from(*net).into(), *len, 32))
        .map(|(_, _, reason)| *reason)
}

fn forbidden_v6(ip: Ipv6Addr) -> Option<&'static str> {
    // The system dials ::ffff:a.b.c.d as a.b.c.d, and a NAT64 gateway forwards 64:ff9b::a.b.c.d to a.b.c.d, so
    // the IPv4 address is the one that matters.
    if let Some(v4) = ip.to_ipv4_mapped() {
        return forbidden_v4(v4);
    }
    let bits = u128::from(ip);
    let nat64 = u128::from(Ipv6Addr::new(0x64, 0xff9b, 0, 0, 0, 0, 0, 0));
    if in_prefix(bits, nat64, 96, 128) {
        // Truncation is the point: the low 32 bits are the embedded IPv4 address.
        return forbidden_v4(Ipv4Addr::from(bits as u32));
    }
    if let Some((_, _, reason)) = FORBIDDEN_V6
        .iter()
        .find(|(net, len, _)| in_prefix(bits, u128::from(*net), *len, 128))
    {
        return Some(reason);
    }
    // Only 2000::/3 is allocated for global unicast; anything else is reserved and has no business being dialled.
    if !in_prefix(bits, u128::from(Ipv6Addr::new(0x2000, 0, 0, 0, 0, 0, 0, 0)), 3, 128) {
        return Some("a reserved address");
    }
    None
}

/// Why a URL's host names an internal address when written as one (an IP literal, `localhost`), or `None`.
///
/// `host` as a URL parser gives it (`url::Host`'s text: IPv6 in brackets). Names other than `localhost` are not
/// resolved here: whoever connects checks the addresses it resolves.
pub fn host_reason(host: &str) -> Option<&'static str> {
    let lower = host.trim_end_matches('.').to_ascii_lowercase();
    if lower == "localhost" || lower.ends_with(".localhost") {
        return Some("a loopback address");
    }
    let literal = lower
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(&lower);
    literal.parse::<IpAddr>().ok().and_then(forbidden_reason)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_of_every_length_match() {
        assert!(in_prefix(0, 0, 0, 32));
        assert!(in_prefix(u128::MAX, 0, 0, 128));
        assert!(in_prefix(5, 5, 32, 32));
        assert!(!in_prefix(4, 5, 32, 32));
    }

    #[test]
    fn hosts_written_as_internal_addresses_are_named() {
        for host in [
            "localhost",
            "LOCALHOST.",
            "api.localhost",
            "127.0.0.1",
            "[::1]",
            "169.254.169.254",
            "10.1.2.3",
            "[::ffff:192.168.0.1]",
        ] {
            assert!(host_reason(host).is_some(), "{host}");
        }
        for host in ["example.com", "8.8.8.8", "[2606:4700::1111]", "localhost.example.com"] {
            assert_eq!(host_reason(host), None, "{host}");
        }
    }
}
