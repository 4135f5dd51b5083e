//! Secrets at rest: tokens and verification codes are stored only as SHA-256 digests
//! and compared in constant time.

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// The digest stored for a bearer token (hex, 64 chars).
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// The digest stored for a verification code, salted with its registration id so
/// equal codes of different registrations do not share a digest.
pub fn code_hash(registration_id: &str, code: &str) -> String {
    let mut h = Sha256::new();
    h.update(registration_id.as_bytes());
    h.update(b"\0");
    h.update(code.as_bytes());
    hex::encode(h.finalize())
}

/// Constant-time equality of two digests.
pub fn digests_equal(a: &str, b: &str) -> bool {
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_differ_by_salt_and_compare() {
        assert_ne!(code_hash("r1", "123456"), code_hash("r2", "123456"));
        assert!(digests_equal(&token_hash("t"), &token_hash("t")));
        assert!(!digests_equal(&token_hash("t"), &token_hash("u")));
        assert!(!digests_equal("ab", "abc"));
    }
}
