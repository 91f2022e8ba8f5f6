//! Provider accounts: which provider, which sender, what it may send, and its (write-only) credentials.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

/// The WhatsApp providers Pregon sends through.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ProviderKind {
    /// Meta WhatsApp Cloud API.
    #[serde(rename = "meta")]
    Meta,
    /// Gupshup.
    #[serde(rename = "gupshup")]
    Gupshup,
    /// Infobip.
    #[serde(rename = "infobip")]
    Infobip,
    /// 360dialog.
    #[serde(rename = "360dialog")]
    Dialog360,
    /// Clickatell.
    #[serde(rename = "clickatell")]
    Clickatell,
    /// The built-in sandbox: no network, simulated statuses.
    #[serde(rename = "sandbox")]
    Sandbox,
}

impl ProviderKind {
    /// Every provider.
    pub const ALL: &'static [ProviderKind] = &[
        ProviderKind::Meta,
        ProviderKind::Gupshup,
        ProviderKind::Infobip,
        ProviderKind::Dialog360,
        ProviderKind::Clickatell,
        ProviderKind::Sandbox,
    ];

    /// The name used in the API, the database and webhook URLs.
    pub const fn as_str(self) -> &'static str {
        match self {
            ProviderKind::Meta => "meta",
            ProviderKind::Gupshup => "gupshup",
            ProviderKind::Infobip => "infobip",
            ProviderKind::Dialog360 => "360dialog",
            ProviderKind::Clickatell => "clickatell",
            ProviderKind::Sandbox => "sandbox",
        }
    }

    /// The Chat-Tonic `platform` name (`whatsapp-gupshup`, …) of this provider, where Chat-Tonic has one.
    pub const fn chat_tonic_platform(self) -> Option<&'static str> {
        match self {
            ProviderKind::Gupshup => Some("whatsapp-gupshup"),
            ProviderKind::Infobip => Some("whatsapp-infobip"),
            ProviderKind::Clickatell => Some("whatsapp-clickatell"),
            ProviderKind::Dialog360 => Some("whatsapp-360dialog"),
            ProviderKind::Meta => Some("whatsapp-cloud"),
            ProviderKind::Sandbox => Some("whatsapp-sandbox"),
        }
    }

    /// Credential keys this provider needs.
    pub const fn required_credentials(self) -> &'static [&'static str] {
        match self {
            ProviderKind::Meta => &["access_token"],
            ProviderKind::Gupshup => &["api_key", "app_name"],
            ProviderKind::Infobip | ProviderKind::Dialog360 | ProviderKind::Clickatell => &["api_key"],
            ProviderKind::Sandbox => &[],
        }
    }

    /// Credential keys this provider may have besides the required ones.
    pub const fn optional_credentials(self) -> &'static [&'static str] {
        match self {
            // app_secret checks webhook signatures, verify_token answers the webhook handshake,
            // waba_id lets templates be synced.
            ProviderKind::Meta => &["app_secret", "verify_token", "waba_id"],
            // A shared secret that the provider's callback URL must carry, for providers that sign nothing.
            ProviderKind::Gupshup | ProviderKind::Infobip | ProviderKind::Dialog360 | ProviderKind::Clickatell => {
                &["webhook_secret"]
            }
            ProviderKind::Sandbox => &[],
        }
    }

    /// Whether the account must name its own API root (`base_url`): Infobip gives each customer one.
    pub const fn needs_base_url(self) -> bool {
        matches!(self, ProviderKind::Infobip)
    }
}

impl fmt::Display for ProviderKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A provider name that Pregon does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown provider `{0}`; expected one of meta, gupshup, infobip, 360dialog, clickatell, sandbox")]
pub struct UnknownProvider(pub String);

impl FromStr for ProviderKind {
    type Err = UnknownProvider;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ProviderKind::ALL
            .iter()
            .copied()
            .find(|p| p.as_str() == s || p.chat_tonic_platform() == Some(s))
            .ok_or_else(|| UnknownProvider(s.to_owned()))
    }
}

/// Provider credentials. Write-only: there is no `Serialize`, and `Debug` prints only the key names, so they
/// cannot end up in a response or a log line by accident. The store reads and writes them through
/// [`Credentials::to_json`] / [`Credentials::from_json`].
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Credentials(BTreeMap<String, String>);

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Credentials(redacted: {:?})", self.0.keys().collect::<Vec<_>>())
    }
}

impl Credentials {
    /// Credentials from key/value pairs.
    pub fn new(map: BTreeMap<String, String>) -> Self {
        Self(map)
    }

    /// One credential's value.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }

    /// The key/value pairs, to merge a change into.
    pub fn into_map(self) -> BTreeMap<String, String> {
        self.0
    }

    /// The names of the credentials present (safe to show).
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.0.keys().map(String::as_str)
    }

    /// The JSON the store keeps.
    pub fn to_json(&self) -> String {
        serde_json::to_string(&self.0).unwrap_or_else(|_| "{}".into())
    }

    /// Back from the stored JSON.
    pub fn from_json(s: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(s).map(Self)
    }

    /// Check the keys against what `provider` needs: every required key present and non-empty, no unknown key.
    pub fn check(&self, provider: ProviderKind) -> Result<(), AccountError> {
        for key in provider.required_credentials() {
            if self.get(key).is_none_or(|v| v.trim().is_empty()) {
                return Err(AccountError::MissingCredential { provider, key });
            }
        }
        for key in self.0.keys() {
            let known = provider.required_credentials().contains(&key.as_str())
                || provider.optional_credentials().contains(&key.as_str());
            if !known {
                return Err(AccountError::UnknownCredential {
                    provider,
                    key: key.clone(),
                });
            }
        }
        Ok(())
    }
}

/// Why account settings were refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccountError {
    /// A required credential is missing or empty.
    #[error("a {provider} account needs the credential `{key}`")]
    MissingCredential {
        /// The provider.
        provider: ProviderKind,
        /// The missing key.
        key: &'static str,
    },
    /// A credential this provider does not use (probably a typo).
    #[error("`{key}` is not a {provider} credential")]
    UnknownCredential {
        /// The provider.
        provider: ProviderKind,
        /// The unknown key.
        key: String,
    },
    /// A field is out of range or malformed.
    #[error("`{field}`: {reason}")]
    Invalid {
        /// The field.
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },
}

/// The highest rate Pregon accepts for one account (Meta allows up to 1,000/s per number; the sandbox may go higher).
pub const MAX_RATE_PER_SECOND: u32 = 10_000;
/// The highest number of requests in flight for one account.
pub const MAX_CONCURRENCY: u32 = 1_000;

/// The non-secret settings of an account, as validated before storing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountSettings {
    /// A name to recognise the account by; unique in its app.
    pub name: String,
    /// The provider.
    pub provider: ProviderKind,
    /// Meta: the phone-number id; BSPs: the source number.
    pub sender: String,
    /// Messages per second, across all processes.
    pub rate_per_second: u32,
    /// Requests in flight at once.
    pub concurrency: u32,
    /// Messages per day (the WhatsApp messaging tier), if capped.
    pub daily_cap: Option<u32>,
    /// Override of the provider's API root (mocks, regional endpoints).
    pub base_url: Option<String>,
    /// The language a campaign row without `languageCode` takes (`es`, `en_US`, …).
    #[serde(default)]
    pub default_language: Option<String>,
    /// The country (ISO 3166 alpha-2, `AR`) of phone numbers written without a country code.
    #[serde(default)]
    pub default_region: Option<String>,
}

impl AccountSettings {
    /// Default rate: Meta's default throughput per phone number.
    pub const DEFAULT_RATE_PER_SECOND: u32 = 80;
    /// Default concurrency.
    pub const DEFAULT_CONCURRENCY: u32 = 16;

    /// Check every field.
    pub fn validate(&self) -> Result<(), AccountError> {
        let invalid = |field, reason: &str| {
            Err(AccountError::Invalid {
                field,
                reason: reason.to_owned(),
            })
        };
        let name = self.name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            return invalid("name", "must be 1 to 100 characters");
        }
        if self.sender.trim().is_empty() || self.sender.chars().count() > 64 {
            return invalid("sender", "must be 1 to 64 characters");
        }
        if self.rate_per_second == 0 || self.rate_per_second > MAX_RATE_PER_SECOND {
            return invalid(
                "rate_per_second",
                &format!("must be between 1 and {MAX_RATE_PER_SECOND}"),
            );
        }
        if self.concurrency == 0 || self.concurrency > MAX_CONCURRENCY {
            return invalid("concurrency", &format!("must be between 1 and {MAX_CONCURRENCY}"));
        }
        if self.daily_cap == Some(0) {
            return invalid("daily_cap", "must be at least 1, or absent for no cap");
        }
        if let Some(lang) = &self.default_language
            && !crate::template::is_language_code(lang)
        {
            return invalid(
                "default_language",
                "must be a WhatsApp language code such as `es`, `en_US` or `pt_BR`",
            );
        }
        if let Some(region) = &self.default_region
            && !(region.len() == 2 && region.bytes().all(|b| b.is_ascii_uppercase()))
        {
            return invalid(
                "default_region",
                "must be an ISO 3166 country code such as `AR` or `US`",
            );
        }
        match &self.base_url {
            Some(url) if !is_http_url(url) => {
                return invalid("base_url", "must be an http:// or https:// URL");
            }
            None if self.provider.needs_base_url() => {
                return invalid(
                    "base_url",
                    "an infobip account needs its own base_url (e.g. https://xxxxx.api.infobip.com)",
                );
            }
            _ => {}
        }
        Ok(())
    }
}

/// `http://host…` or `https://host…` with a non-empty host and no whitespace.
pub fn is_http_url(s: &str) -> bool {
    let rest = s.strip_prefix("https://").or_else(|| s.strip_prefix("http://"));
    match rest {
        Some(rest) => {
            let host = rest.split(['/', '?', '#']).next().unwrap_or("");
            !host.is_empty() && !s.chars().any(char::is_whitespace)
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(provider: ProviderKind) -> AccountSettings {
        AccountSettings {
            name: "main".into(),
            provider,
            sender: "106540352242922".into(),
            rate_per_second: 80,
            concurrency: 16,
            daily_cap: None,
            base_url: None,
            default_language: None,
            default_region: None,
        }
    }

    fn creds(pairs: &[(&str, &str)]) -> Credentials {
        Credentials::new(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect())
    }

    #[test]
    fn provider_names_round_trip() {
        for p in ProviderKind::ALL {
            assert_eq!(p.as_str().parse::<ProviderKind>(), Ok(*p));
            assert_eq!(serde_json::to_value(p).ok(), Some(serde_json::json!(p.as_str())));
        }
        assert_eq!("whatsapp-gupshup".parse::<ProviderKind>(), Ok(ProviderKind::Gupshup));
        assert!("twilio".parse::<ProviderKind>().is_err());
    }

    #[test]
    fn credentials_are_checked_per_provider() {
        assert!(
            creds(&[("access_token", "EAAG"), ("app_secret", "s")])
                .check(ProviderKind::Meta)
                .is_ok()
        );
        assert_eq!(
            creds(&[]).check(ProviderKind::Meta),
            Err(AccountError::MissingCredential {
                provider: ProviderKind::Meta,
                key: "access_token"
            })
        );
        assert_eq!(
            creds(&[("api_key", "k")]).check(ProviderKind::Gupshup),
            Err(AccountError::MissingCredential {
                provider: ProviderKind::Gupshup,
                key: "app_name"
            })
        );
        assert!(matches!(
            creds(&[("api_key", "k"), ("apikey", "typo")]).check(ProviderKind::Clickatell),
            Err(AccountError::UnknownCredential { .. })
        ));
        assert!(creds(&[("api_key", " ")]).check(ProviderKind::Dialog360).is_err());
        assert!(creds(&[]).check(ProviderKind::Sandbox).is_ok());
    }

    #[test]
    fn credentials_never_print() {
        let c = creds(&[("access_token", "EAAG-very-secret")]);
        let shown = format!("{c:?}");
        assert!(!shown.contains("very-secret"), "{shown}");
        assert!(shown.contains("access_token"));
        assert_eq!(Credentials::from_json(&c.to_json()).ok(), Some(c));
    }

    #[test]
    fn settings_are_validated() {
        assert!(settings(ProviderKind::Meta).validate().is_ok());
        let mut s = settings(ProviderKind::Meta);
        s.rate_per_second = 0;
        assert!(s.validate().is_err());
        s.rate_per_second = MAX_RATE_PER_SECOND + 1;
        assert!(s.validate().is_err());
        let mut s = settings(ProviderKind::Meta);
        s.concurrency = 0;
        assert!(s.validate().is_err());
        let mut s = settings(ProviderKind::Meta);
        s.daily_cap = Some(0);
        assert!(s.validate().is_err());
        let mut s = settings(ProviderKind::Meta);
        s.base_url = Some("ftp://x".into());
        assert!(s.validate().is_err());
        s.base_url = Some("http://127.0.0.1:9000".into());
        assert!(s.validate().is_ok());
        let mut s = settings(ProviderKind::Infobip);
        assert!(s.validate().is_err(), "infobip needs base_url");
        s.base_url = Some("https://abc.api.infobip.com".into());
        assert!(s.validate().is_ok());
        let mut s = settings(ProviderKind::Meta);
        s.default_language = Some("es_AR".into());
        s.default_region = Some("AR".into());
        assert!(s.validate().is_ok());
        s.default_language = Some("spanish".into());
        assert!(s.validate().is_err());
        s.default_language = None;
        s.default_region = Some("arg".into());
        assert!(s.validate().is_err());
        let mut s = settings(ProviderKind::Meta);
        s.name = " ".into();
        assert!(s.validate().is_err());
        let mut s = settings(ProviderKind::Meta);
        s.sender = String::new();
        assert!(s.validate().is_err());
    }

    #[test]
    fn http_urls() {
        assert!(is_http_url("https://graph.facebook.com"));
        assert!(is_http_url("http://localhost:8080/x"));
        assert!(!is_http_url("https://"));
        assert!(!is_http_url("https:// x"));
        assert!(!is_http_url("file:///etc/passwd"));
    }
}
