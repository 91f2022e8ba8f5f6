//! Why an input row did not become a message: one stable code per reason. `docs/errors.md` lists them; a test keeps
//! the two equal.

use serde::{Serialize, Serializer};
use std::fmt;

macro_rules! rejection_codes {
    ($($variant:ident => ($code:literal, $doc:literal)),+ $(,)?) => {
        /// A stable reason code for a rejected row.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum RejectionCode {
            $(#[doc = $doc] $variant),+
        }

        impl RejectionCode {
            /// Every code.
            pub const ALL: &'static [RejectionCode] = &[$(RejectionCode::$variant),+];

            /// The code as stored and shown.
            pub const fn as_str(self) -> &'static str {
                match self { $(RejectionCode::$variant => $code),+ }
            }

            /// What it means, for the docs.
            pub const fn description(self) -> &'static str {
                match self { $(RejectionCode::$variant => $doc),+ }
            }
        }
    };
}

rejection_codes! {
    MissingPhone => ("missing_phone", "The phone column is empty."),
    InvalidPhone => ("invalid_phone", "The phone is not a valid number in any numbering plan (after removing `+`, spaces, dashes and brackets)."),
    DuplicateRecipient => ("duplicate_recipient", "The same phone (in E.164) appears earlier in the file; the first row wins."),
    MissingTemplate => ("missing_template", "The row names no template (`elementName`) and the campaign has none."),
    UnknownTemplate => ("unknown_template", "The account has no template with this name and language."),
    TemplateNotApproved => ("template_not_approved", "The template exists but its status is not APPROVED."),
    ParameterCount => ("parameter_count", "The number of parameters differs from what the template's header and body take."),
    InvalidParameter => ("invalid_parameter", "A parameter is empty, has a new line or a tab, more than 4 consecutive spaces, or makes the text too long."),
    MissingMedia => ("missing_media", "The template has an IMAGE, VIDEO or DOCUMENT header and the row gives no media URL."),
    InvalidMedia => ("invalid_media", "The media URL is not an http(s) URL or points at an internal address, or the media type does not match the template header."),
    MissingButtonParameter => ("missing_button_parameter", "The template has a dynamic URL button and the row gives no `buttonParameter`."),
    MissingColumn => ("missing_column", "A column the mapping names is missing or empty in this row."),
    InvalidRow => ("invalid_row", "The row cannot be read: invalid UTF-8, a JSON element that is not an object, a value of the wrong type, or more cells than the header."),
}

impl fmt::Display for RejectionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for RejectionCode {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}
