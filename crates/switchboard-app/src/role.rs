//! Who may do what in a business: owner, admin, agent. Every endpoint of the business
//! app names the least role it needs; roles are ordered, so a check is one comparison.
//!
//! - **agent**: works conversations (read, reply, notes, labels on chats and
//!   messages, assign to self, order status), uses quick replies and the catalog,
//!   sees statistics.
//! - **admin**: everything an agent does, plus the business's set-up (catalog,
//!   quick replies, labels, greeting and away, links, broadcasts), assigning others,
//!   and managing agents.
//! - **owner**: everything, plus the profile, verification and managing admins. The
//!   business's own user is always its owner.

use serde::{Deserialize, Serialize};

use crate::error::{AppError, AppResult};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Agent,
    Admin,
    Owner,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Agent => "agent",
            Role::Admin => "admin",
            Role::Owner => "owner",
        }
    }

    pub fn parse(s: &str) -> AppResult<Role> {
        match s.trim().to_ascii_lowercase().as_str() {
            "agent" => Ok(Role::Agent),
            "admin" => Ok(Role::Admin),
            "owner" => Ok(Role::Owner),
            _ => Err(AppError::invalid(
                "invalid_role",
                format!("unknown role {s:?}; use owner, admin or agent"),
            )),
        }
    }

    /// `Forbidden` unless this role is at least `needed`.
    pub fn require(self, needed: Role) -> AppResult<()> {
        if self >= needed {
            Ok(())
        } else {
            Err(AppError::Forbidden(format!(
                "this needs the {} role; you are {}",
                needed.as_str(),
                self.as_str()
            )))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_ordered() {
        assert!(Role::Owner.require(Role::Admin).is_ok());
        assert!(Role::Admin.require(Role::Admin).is_ok());
        assert_eq!(
            Role::Agent.require(Role::Admin).map_err(|e| e.code()),
            Err("forbidden")
        );
        assert_eq!(Role::parse(" Admin ").expect("parses"), Role::Admin);
        assert!(Role::parse("boss").is_err());
    }
}
