//! People who use Trailmap (not customers of a business): users, their role in each business they
//! belong to, invitations to join a business, and API keys for scripts. An agency user belongs to
//! several businesses, one membership each.

use crate::{Business, Timestamp, UserId};
use serde::{Deserialize, Serialize};

/// What a user may do in one business. Owners manage members and the business itself; editors
/// change maps, touchpoints and data; viewers read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Owner,
    Editor,
    Viewer,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Owner, Role::Editor, Role::Viewer];

    pub fn parse(text: &str) -> Option<Role> {
        match text.trim().to_ascii_lowercase().as_str() {
            "owner" => Some(Role::Owner),
            "editor" => Some(Role::Editor),
            "viewer" => Some(Role::Viewer),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Editor => "editor",
            Role::Viewer => "viewer",
        }
    }

    /// May change the business's data, maps and settings other than members.
    pub fn can_edit(self) -> bool {
        matches!(self, Role::Owner | Role::Editor)
    }

    /// May invite, remove and re-role members, rename the business.
    pub fn can_manage(self) -> bool {
        self == Role::Owner
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Someone who signs in. The password hash never leaves the store crate's account tables.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: UserId,
    /// Lower-case; unique across the installation.
    pub email: String,
    pub name: String,
    pub created: Timestamp,
}

/// A user's place in one business.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Membership {
    pub business: Business,
    pub role: Role,
}

/// An invitation to join a business with a role, by a link carrying a secret token.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Invitation {
    pub business: Business,
    pub role: Role,
    /// When set, only this address may accept.
    pub email: Option<String>,
    pub invited_by: UserId,
    pub expires: Timestamp,
    pub accepted: Option<Timestamp>,
}

/// An API key as lists show it: never the key itself, only its first characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKeyInfo {
    pub id: i64,
    pub user: UserId,
    pub name: String,
    /// The key's first characters, to tell keys apart.
    pub prefix: String,
    pub created: Timestamp,
    pub last_used: Option<Timestamp>,
    pub revoked: Option<Timestamp>,
}
