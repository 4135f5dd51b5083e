//! Identifier shapes. Ids are opaque to clients; their shape here serves the server:
//! a direct chat's id is derived from its two members (the same pair always gets the
//! same chat, on any node, without a lookup), and a message id names its chat and seq
//! (a `reply_to` is checked without an index).

/// The id of the direct chat between two users, independent of their order.
pub fn direct_chat_id(a: &str, b: &str) -> String {
    let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
    format!("d{lo}-{hi}")
}

/// Whether a chat id names a direct chat.
pub fn is_direct(chat_id: &str) -> bool {
    chat_id.starts_with('d')
}

/// The two members of a direct chat, from its id; `None` for other chats.
pub fn direct_members(chat_id: &str) -> Option<(&str, &str)> {
    chat_id.strip_prefix('d')?.split_once('-')
}

/// The id of a new group from 16 random bytes.
pub fn group_chat_id(random: [u8; 16]) -> String {
    format!("g{}", hex::encode(random))
}

/// A chat id is short printable ASCII without the separators used in keys.
pub fn valid_chat_id(chat_id: &str) -> bool {
    (2..=80).contains(&chat_id.len())
        && chat_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// The id of the message at `seq` in `chat_id`.
pub fn message_id(chat_id: &str, seq: u64) -> String {
    format!("{chat_id}.{seq}")
}

/// Splits a message id into chat id and seq; `None` for anything malformed.
pub fn parse_message_id(id: &str) -> Option<(&str, u64)> {
    let (chat, seq) = id.rsplit_once('.')?;
    if !valid_chat_id(chat) {
        return None;
    }
    let seq: u64 = seq.parse().ok()?;
    (seq > 0).then_some((chat, seq))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn direct_ids_are_symmetric() {
        assert_eq!(direct_chat_id("491", "492"), direct_chat_id("492", "491"));
        assert!(is_direct(&direct_chat_id("491", "492")));
        assert!(valid_chat_id(&direct_chat_id("491", "492")));
        assert!(!is_direct(&group_chat_id([7; 16])));
        assert!(valid_chat_id(&group_chat_id([7; 16])));
    }

    #[test]
    fn message_ids_round_trip() {
        let chat = group_chat_id([1; 16]);
        let id = message_id(&chat, 42);
        assert_eq!(parse_message_id(&id), Some((chat.as_str(), 42)));
        assert_eq!(parse_message_id("nope"), None);
        assert_eq!(parse_message_id("g1.0"), None);
        assert_eq!(parse_message_id("g/x.1"), None);
    }
}
