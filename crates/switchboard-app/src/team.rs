//! A business's team: the users who answer from its number, each with a role, a
//! capacity for auto-assignment and an optional signature shown to customers.

use serde::{Deserialize, Serialize};

use crate::error::{AppError, AppResult};
use crate::role::Role;
use crate::text::text;

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

/// The role a new member may get: agent or admin (a business has one owner, its
/// own user). Only the owner adds admins; admins add agents.
pub fn check_add(actor: Role, role: Role) -> AppResult<()> {
    if role == Role::Owner {
        return Err(AppError::invalid(
            "invalid_role",
            "a business has one owner, its own account; add an agent or an admin",
        ));
    }
    check_manage(actor, role)
}

/// Whether `actor` may manage (change or remove) a member of role `target`: admins
/// manage agents, the owner manages admins too, nobody changes the owner's role.
pub fn check_manage(actor: Role, target: Role) -> AppResult<()> {
    match target {
        Role::Owner => Err(AppError::conflict(
            "owner_is_fixed",
            "the owner (the business's own account) cannot be removed or demoted",
        )),
        Role::Admin => actor.require(Role::Owner),
        Role::Agent => actor.require(Role::Admin),
    }
}

/// A change of a member's settings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AgentChange {
    pub role: Option<Role>,
    pub capacity: Option<u32>,
    /// `Some(None)` clears the signature.
    pub signature: Option<Option<String>>,
    pub available: Option<bool>,
}

/// Most open conversations one agent can be given.
pub const MAX_CAPACITY: u32 = 1000;

/// Applies `change` to `target` as `actor` (`self_change`: the actor is the target).
/// Anyone changes their own availability and signature; capacity and role follow
/// [`check_manage`], and a new role must be one the actor could give.
pub fn apply_change(
    actor: Role,
    self_change: bool,
    target: &Agent,
    change: &AgentChange,
) -> AppResult<Agent> {
    let personal_only = change.role.is_none() && change.capacity.is_none();
    if !(self_change && personal_only) {
        if change.role.is_some_and(|r| r != target.role) || !self_change {
            check_manage(actor, target.role)?;
        } else {
            // Own capacity: an agent asks an admin; admins and the owner set theirs.
            actor.require(Role::Admin)?;
        }
    }
    let mut next = target.clone();
    if let Some(role) = change.role
        && role != target.role
    {
        check_add(actor, role)?;
        next.role = role;
    }
    if let Some(c) = change.capacity {
        next.capacity = capacity(c)?;
    }
    if let Some(s) = &change.signature {
        next.signature = signature(s.as_deref())?;
    }
    if let Some(a) = change.available {
        next.available = a;
    }
    Ok(next)
}

/// A checked capacity.
pub fn capacity(c: u32) -> AppResult<u32> {
    if c > MAX_CAPACITY {
        return Err(AppError::invalid(
            "invalid_capacity",
            format!("capacity must be 0 to {MAX_CAPACITY} (got {c})"),
        ));
    }
    Ok(c)
}

/// A checked signature (`None` or empty: no signature).
pub fn signature(s: Option<&str>) -> AppResult<Option<String>> {
    match s {
        None => Ok(None),
        Some(s) => {
            let v = text("signature", s, 0, MAX_SIGNATURE, false)?;
            Ok((!v.is_empty()).then_some(v))
        }
    }
}

/// Text an agent's message ends with when they sign it.
pub fn signed(text: &str, signature: Option<&str>) -> String {
    match signature {
        Some(s) => format!("{text}\n— {s}"),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn agent(role: Role) -> Agent {
        Agent {
            user_id: "4915100000009".into(),
            role,
            capacity: 3,
            signature: None,
            available: true,
            added_at: 1,
        }
    }

    fn code<T>(r: AppResult<T>) -> Option<&'static str> {
        r.err().map(|e| e.code())
    }

    #[test]
    fn who_adds_whom() {
        assert_eq!(code(check_add(Role::Admin, Role::Agent)), None);
        assert_eq!(code(check_add(Role::Admin, Role::Admin)), Some("forbidden"));
        assert_eq!(code(check_add(Role::Owner, Role::Admin)), None);
        assert_eq!(code(check_add(Role::Agent, Role::Agent)), Some("forbidden"));
        assert_eq!(
            code(check_add(Role::Owner, Role::Owner)),
            Some("invalid_role")
        );
    }

    #[test]
    fn changes_follow_the_roles() {
        let personal = AgentChange {
            available: Some(false),
            signature: Some(Some(" Anna ".into())),
            ..Default::default()
        };
        let a = apply_change(Role::Agent, true, &agent(Role::Agent), &personal).expect("own");
        assert_eq!((a.available, a.signature.as_deref()), (false, Some("Anna")));
        // Not someone else's, and not their own capacity or role.
        assert_eq!(
            code(apply_change(
                Role::Agent,
                false,
                &agent(Role::Agent),
                &personal
            )),
            Some("forbidden")
        );
        let cap = AgentChange {
            capacity: Some(5),
            ..Default::default()
        };
        assert_eq!(
            code(apply_change(Role::Agent, true, &agent(Role::Agent), &cap)),
            Some("forbidden")
        );
        assert_eq!(
            apply_change(Role::Admin, false, &agent(Role::Agent), &cap)
                .expect("admin sets an agent's capacity")
                .capacity,
            5
        );
        let promote = AgentChange {
            role: Some(Role::Admin),
            ..Default::default()
        };
        assert_eq!(
            code(apply_change(
                Role::Admin,
                false,
                &agent(Role::Agent),
                &promote
            )),
            Some("forbidden")
        );
        assert_eq!(
            code(apply_change(Role::Admin, false, &agent(Role::Admin), &cap)),
            Some("forbidden")
        );
        assert!(apply_change(Role::Owner, false, &agent(Role::Agent), &promote).is_ok());
        let demote = AgentChange {
            role: Some(Role::Agent),
            ..Default::default()
        };
        assert_eq!(
            code(apply_change(
                Role::Owner,
                true,
                &agent(Role::Owner),
                &demote
            )),
            Some("owner_is_fixed")
        );
        let long = AgentChange {
            signature: Some(Some("x".repeat(41))),
            ..Default::default()
        };
        assert_eq!(
            code(apply_change(Role::Agent, true, &agent(Role::Agent), &long)),
            Some("invalid_length")
        );
    }

    #[test]
    fn signatures_are_appended() {
        assert_eq!(signed("Hi", Some("Anna")), "Hi\n— Anna");
        assert_eq!(signed("Hi", None), "Hi");
    }
}
