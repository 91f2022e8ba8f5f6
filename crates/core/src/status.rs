//! Campaign and message statuses and the only place that decides which moves between them are allowed
//! (DESIGN §4). Stores and workers call [`CampaignStatus::transition`] / [`MessageStatus::transition`]
//! instead of writing statuses directly.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A move between two statuses that the lifecycle does not allow.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot move a {kind} from `{from}` to `{to}`")]
pub struct TransitionError {
    /// `campaign` or `message`.
    pub kind: &'static str,
    /// The current status.
    pub from: &'static str,
    /// The status that was asked for.
    pub to: &'static str,
}

/// An unknown status name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown status `{0}`")]
pub struct UnknownStatus(pub String);

macro_rules! status_enum {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($(#[$vdoc])* $variant),+
        }

        impl $name {
            /// Every status, in lifecycle order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The status as stored and as shown in the API.
            pub const fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = UnknownStatus;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($text => Ok($name::$variant),)+
                    other => Err(UnknownStatus(other.to_owned())),
                }
            }
        }
    };
}

status_enum!(
    /// Where a campaign is in its lifecycle.
    CampaignStatus {
        /// The file is being read and validated; nothing is sent yet.
        Ingesting => "ingesting",
        /// Every row is stored; waiting for its start time.
        Scheduled => "scheduled",
        /// Messages are being sent.
        Running => "running",
        /// Stopped by a user or by the failure-ratio guard; resumable.
        Paused => "paused",
        /// Every message reached a final send outcome.
        Completed => "completed",
        /// Stopped for good; unsent messages became `cancelled`.
        Cancelled => "cancelled",
        /// Ingestion could not finish; the reason is stored.
        Failed => "failed",
    }
);

impl CampaignStatus {
    /// Whether the lifecycle allows moving from `self` to `next`.
    ///
    /// `completed → running` exists for `retry-failed`, which re-queues transiently failed messages.
    /// `paused → scheduled` is a resume before the start time.
    pub const fn can_move_to(self, next: CampaignStatus) -> bool {
        use CampaignStatus::*;
        matches!(
            (self, next),
            (Ingesting, Scheduled | Failed | Cancelled)
                | (Scheduled, Running | Paused | Cancelled)
                | (Running, Paused | Completed | Cancelled)
                | (Paused, Running | Scheduled | Cancelled)
                | (Completed, Running)
        )
    }

    /// `next` if the lifecycle allows it, else a [`TransitionError`].
    pub fn transition(self, next: CampaignStatus) -> Result<CampaignStatus, TransitionError> {
        if self.can_move_to(next) {
            Ok(next)
        } else {
            Err(TransitionError {
                kind: "campaign",
                from: self.as_str(),
                to: next.as_str(),
            })
        }
    }

    /// No move leaves this status.
    pub const fn is_terminal(self) -> bool {
        matches!(self, CampaignStatus::Cancelled | CampaignStatus::Failed)
    }
}

status_enum!(
    /// Where one message is. Moves only forward; see [`MessageStatus::can_move_to`].
    MessageStatus {
        /// Stored, waiting for its campaign to run.
        Pending => "pending",
        /// Handed to a sender.
        Queued => "queued",
        /// A request to the provider is in flight.
        Sending => "sending",
        /// The provider accepted it.
        Sent => "sent",
        /// It reached the recipient's phone.
        Delivered => "delivered",
        /// The recipient opened it.
        Read => "read",
        /// The provider refused it, or every retry failed.
        Failed => "failed",
        /// The input row was invalid; never sent.
        Rejected => "rejected",
        /// The recipient opted out; never sent.
        Suppressed => "suppressed",
        /// Its campaign was cancelled before it was sent.
        Cancelled => "cancelled",
    }
);

impl MessageStatus {
    /// Whether a message may move from `self` to `next`.
    ///
    /// Two moves go back on purpose: `sending → queued` (a transient failure waits for its retry) and
    /// `failed → queued` (`retry-failed`). Webhook events use [`MessageStatus::advance`], which never goes back.
    pub const fn can_move_to(self, next: MessageStatus) -> bool {
        use MessageStatus::*;
        matches!(
            (self, next),
            (Pending, Queued | Suppressed | Cancelled)
                | (Queued, Sending | Suppressed | Cancelled)
                | (Sending, Sent | Failed | Queued)
                | (Sent, Delivered | Read | Failed)
                | (Delivered, Read)
                | (Failed, Queued)
        )
    }

    /// `next` if allowed, else a [`TransitionError`].
    pub fn transition(self, next: MessageStatus) -> Result<MessageStatus, TransitionError> {
        if self.can_move_to(next) {
            Ok(next)
        } else {
            Err(TransitionError {
                kind: "message",
                from: self.as_str(),
                to: next.as_str(),
            })
        }
    }

    /// Apply a provider event (`sent`, `delivered`, `read`, `failed`): returns the new status if the event moves the
    /// message forward, `None` if it is late or repeated. A `sending` message that gets `delivered` first (the
    /// webhook raced the send answer) moves straight to `delivered`.
    pub const fn advance(self, event: MessageStatus) -> Option<MessageStatus> {
        use MessageStatus::*;
        let allowed = match self {
            Queued | Sending => matches!(event, Sent | Delivered | Read | Failed),
            Sent => matches!(event, Delivered | Read | Failed),
            Delivered => matches!(event, Read),
            _ => false,
        };
        if allowed { Some(event) } else { None }
    }

    /// The statuses a message is created in.
    pub const fn is_initial(self) -> bool {
        matches!(
            self,
            MessageStatus::Pending | MessageStatus::Rejected | MessageStatus::Suppressed
        )
    }

    /// No move leaves this status (`failed` only through `retry-failed`).
    pub const fn is_terminal(self) -> bool {
        use MessageStatus::*;
        matches!(self, Read | Rejected | Suppressed | Cancelled)
    }

    /// The message is done with sending: it got an answer or will never be sent.
    pub const fn is_settled(self) -> bool {
        use MessageStatus::*;
        matches!(
            self,
            Sent | Delivered | Read | Failed | Rejected | Suppressed | Cancelled
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn pairs<T: Copy + Eq + std::hash::Hash>(all: &[T]) -> Vec<(T, T)> {
        all.iter().flat_map(|a| all.iter().map(move |b| (*a, *b))).collect()
    }

    #[test]
    fn campaign_transitions_are_exactly_the_lifecycle() {
        use CampaignStatus::*;
        let allowed: HashSet<_> = [
            (Ingesting, Scheduled),
            (Ingesting, Failed),
            (Ingesting, Cancelled),
            (Scheduled, Running),
            (Scheduled, Paused),
            (Scheduled, Cancelled),
            (Running, Paused),
            (Running, Completed),
            (Running, Cancelled),
            (Paused, Running),
            (Paused, Scheduled),
            (Paused, Cancelled),
            (Completed, Running),
        ]
        .into_iter()
        .collect();
        let all = pairs(CampaignStatus::ALL);
        assert_eq!(all.len(), 49);
        for (from, to) in all {
            let expected = allowed.contains(&(from, to));
            assert_eq!(from.can_move_to(to), expected, "{from} -> {to}");
            match from.transition(to) {
                Ok(s) => {
                    assert!(expected, "{from} -> {to} allowed but should not be");
                    assert_eq!(s, to);
                }
                Err(e) => {
                    assert!(!expected, "{from} -> {to} refused but should be allowed");
                    assert_eq!(e.to_string(), format!("cannot move a campaign from `{from}` to `{to}`"));
                }
            }
        }
        for s in CampaignStatus::ALL {
            let leaves = CampaignStatus::ALL.iter().any(|n| s.can_move_to(*n));
            assert_eq!(s.is_terminal(), !leaves, "{s}");
        }
    }

    #[test]
    fn message_transitions_are_exactly_the_lifecycle() {
        use MessageStatus::*;
        let allowed: HashSet<_> = [
            (Pending, Queued),
            (Pending, Suppressed),
            (Pending, Cancelled),
            (Queued, Sending),
            (Queued, Suppressed),
            (Queued, Cancelled),
            (Sending, Sent),
            (Sending, Failed),
            (Sending, Queued),
            (Sent, Delivered),
            (Sent, Read),
            (Sent, Failed),
            (Delivered, Read),
            (Failed, Queued),
        ]
        .into_iter()
        .collect();
        let all = pairs(MessageStatus::ALL);
        assert_eq!(all.len(), 100);
        for (from, to) in all {
            let expected = allowed.contains(&(from, to));
            assert_eq!(from.can_move_to(to), expected, "{from} -> {to}");
            assert_eq!(from.transition(to).is_ok(), expected, "{from} -> {to}");
        }
        for s in MessageStatus::ALL {
            let leaves = MessageStatus::ALL.iter().any(|n| s.can_move_to(*n));
            assert_eq!(s.is_terminal(), !leaves, "{s}");
        }
    }

    #[test]
    fn provider_events_only_move_forward() {
        use MessageStatus::*;
        let events = [Sent, Delivered, Read, Failed];
        let expected: HashSet<_> = [
            (Queued, Sent),
            (Queued, Delivered),
            (Queued, Read),
            (Queued, Failed),
            (Sending, Sent),
            (Sending, Delivered),
            (Sending, Read),
            (Sending, Failed),
            (Sent, Delivered),
            (Sent, Read),
            (Sent, Failed),
            (Delivered, Read),
        ]
        .into_iter()
        .collect();
        for from in MessageStatus::ALL {
            for event in events {
                let got = from.advance(event);
                if expected.contains(&(*from, event)) {
                    assert_eq!(got, Some(event), "{from} + {event}");
                } else {
                    assert_eq!(got, None, "{from} + {event} must change nothing");
                }
            }
        }
        // the concrete cases DESIGN §4 names
        assert_eq!(Read.advance(Delivered), None, "late delivered after read");
        assert_eq!(Sent.advance(Sent), None, "repeated sent");
        assert_eq!(Delivered.advance(Failed), None);
    }

    #[test]
    fn statuses_round_trip_through_text_and_json() {
        for s in CampaignStatus::ALL {
            assert_eq!(s.as_str().parse::<CampaignStatus>(), Ok(*s));
            assert_eq!(serde_json::to_string(s).unwrap_or_default(), format!("\"{s}\""));
        }
        for s in MessageStatus::ALL {
            assert_eq!(s.as_str().parse::<MessageStatus>(), Ok(*s));
            assert_eq!(serde_json::to_string(s).unwrap_or_default(), format!("\"{s}\""));
        }
        assert_eq!(
            "sending-ish".parse::<MessageStatus>(),
            Err(UnknownStatus("sending-ish".into()))
        );
        assert!(MessageStatus::ALL.iter().filter(|s| s.is_initial()).count() == 3);
        assert!(MessageStatus::Failed.is_settled() && !MessageStatus::Queued.is_settled());
    }
}
