//! Traffic channels: GA4's default channel groups, in GA4's order, plus two offline groups of our
//! own (in-store and phone) because a small business's till and phone are channels too. The rules
//! that assign them live in the ingest crate; this is only the vocabulary.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Channel {
    Direct,
    CrossNetwork,
    PaidShopping,
    PaidSearch,
    PaidSocial,
    PaidVideo,
    Display,
    PaidOther,
    OrganicShopping,
    OrganicSocial,
    OrganicVideo,
    OrganicSearch,
    Referral,
    Email,
    Affiliates,
    Audio,
    Sms,
    MobilePushNotifications,
    /// Ours: a visit or purchase at the business's premises (medium `offline`, `in-store`, `pos`).
    InStore,
    /// Ours: a phone call (medium `phone`).
    Phone,
    Unassigned,
}

impl Channel {
    pub const ALL: [Channel; 21] = [
        Channel::Direct,
        Channel::CrossNetwork,
        Channel::PaidShopping,
        Channel::PaidSearch,
        Channel::PaidSocial,
        Channel::PaidVideo,
        Channel::Display,
        Channel::PaidOther,
        Channel::OrganicShopping,
        Channel::OrganicSocial,
        Channel::OrganicVideo,
        Channel::OrganicSearch,
        Channel::Referral,
        Channel::Email,
        Channel::Affiliates,
        Channel::Audio,
        Channel::Sms,
        Channel::MobilePushNotifications,
        Channel::InStore,
        Channel::Phone,
        Channel::Unassigned,
    ];

    /// The display name, as GA4 spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Direct => "Direct",
            Channel::CrossNetwork => "Cross-network",
            Channel::PaidShopping => "Paid Shopping",
            Channel::PaidSearch => "Paid Search",
            Channel::PaidSocial => "Paid Social",
            Channel::PaidVideo => "Paid Video",
            Channel::Display => "Display",
            Channel::PaidOther => "Paid Other",
            Channel::OrganicShopping => "Organic Shopping",
            Channel::OrganicSocial => "Organic Social",
            Channel::OrganicVideo => "Organic Video",
            Channel::OrganicSearch => "Organic Search",
            Channel::Referral => "Referral",
            Channel::Email => "Email",
            Channel::Affiliates => "Affiliates",
            Channel::Audio => "Audio",
            Channel::Sms => "SMS",
            Channel::MobilePushNotifications => "Mobile Push Notifications",
            Channel::InStore => "In-store",
            Channel::Phone => "Phone",
            Channel::Unassigned => "Unassigned",
        }
    }

    /// Reads a display name, case-insensitively.
    pub fn parse(text: &str) -> Option<Channel> {
        let text = text.trim();
        Channel::ALL.into_iter().find(|c| c.as_str().eq_ignore_ascii_case(text))
    }

    /// Whether money is usually spent on this channel (the paid groups, display, cross-network).
    pub fn is_paid(self) -> bool {
        matches!(
            self,
            Channel::CrossNetwork
                | Channel::PaidShopping
                | Channel::PaidSearch
                | Channel::PaidSocial
                | Channel::PaidVideo
                | Channel::Display
                | Channel::PaidOther
        )
    }
}

impl std::fmt::Display for Channel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for c in Channel::ALL {
            assert_eq!(Channel::parse(&c.as_str().to_uppercase()), Some(c));
        }
        assert_eq!(Channel::parse("Carrier pigeon"), None);
    }
}
