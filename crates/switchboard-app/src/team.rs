//! A business's team: the users who answer from its number, each with a role, a
//! capacity for auto-assignment and an optional signature shown to customers.

use serde::{Deserialize, Serialize};

use crate::role::Role;

/// Longest signature, in characters.
pub const MAX_SIGNATURE: usize = 40;
/// Most members a team may have.
pub const MAX_AGENTS: usize = 200;
/// Open conversations an agent gets by auto-assignment unless set otherwise.
pub const DEFAULT_CAPACITY: u32 = 20;

/// One member of the team; stored under [`crate::kinds::AGENT`], keyed by user id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Agent {
    pub user_id: String,
    pub role: Role,
    /// Open conversations auto-assignment may give this agent at once (0: none).
    #[serde(default = "default_capacity")]
    pub capacity: u32,
    /// Appended to this agent's messages ("— Anna") when set.
    #[serde(default)]
    pub signature: Option<String>,
    /// Whether auto-assignment may pick this agent now (away agents get nothing new).
    #[serde(default = "yes")]
    pub available: bool,
    pub added_at: i64,
}

fn default_capacity() -> u32 {
    DEFAULT_CAPACITY
}

fn yes() -> bool {
    true
}

impl Agent {
    /// The business's own user: always the owner, even without a stored record.
    pub fn owner(user_id: &str, now: i64) -> Agent {
        Agent {
            user_id: user_id.to_owned(),
            role: Role::Owner,
            capacity: DEFAULT_CAPACITY,
            signature: None,
            available: true,
            added_at: now,
        }
    }
}
