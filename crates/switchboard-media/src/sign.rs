//! Short-lived signed URLs (`?exp=&sig=`) for clients that cannot send headers, such as
//! an `<img>` or `<video>` tag: HMAC-SHA256 over the media id, the variant and the
//! expiry, with a per-server secret kept in `<data_dir>/media.key`.

use std::io::Write;
use std::path::Path;

use hmac::{Hmac, KeyInit, Mac};
use rand::RngExt;
use sha2::Sha256;

use crate::MediaError;

type HmacSha256 = Hmac<Sha256>;

/// Signs and checks media URLs.
#[derive(Clone)]
pub struct UrlSigner {
    key: [u8; 32],
}

impl std::fmt::Debug for UrlSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("UrlSigner(..)")
    }
}

impl UrlSigner {
    pub fn new(key: [u8; 32]) -> Self {
        UrlSigner { key }
    }

    /// Reads the secret at `path`, creating it (mode 0600) on first use.
    pub fn load_or_create(path: &Path) -> Result<Self, MediaError> {
        if let Ok(bytes) = std::fs::read(path)
            && let Ok(key) = <[u8; 32]>::try_from(bytes.as_slice())
        {
            return Ok(UrlSigner::new(key));
        }
        let mut key = [0u8; 32];
        rand::rng().fill(&mut key[..]);
        let tmp = path.with_extension("key.tmp");
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
        let mut f = opts.open(&tmp)?;
        f.write_all(&key)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)?;
        Ok(UrlSigner::new(key))
    }

    fn mac(&self, media_id: &str, variant: &str, exp: i64) -> HmacSha256 {
        let mut mac = HmacSha256::new_from_slice(&self.key).expect("HMAC takes any key length");
        mac.update(format!("switchboard-media-v1\n{media_id}\n{variant}\n{exp}").as_bytes());
        mac
    }

    /// The signature for `media_id`'s `variant` ("file" or "thumbnail") valid until
    /// `exp` (Unix seconds).
    pub fn sign(&self, media_id: &str, variant: &str, exp: i64) -> String {
        hex::encode(self.mac(media_id, variant, exp).finalize().into_bytes())
    }

    /// Checks a signature in constant time and that `now` (Unix seconds) is before `exp`.
    pub fn verify(&self, media_id: &str, variant: &str, exp: i64, sig: &str, now: i64) -> bool {
        if now > exp {
            return false;
        }
        let Ok(sig) = hex::decode(sig) else {
            return false;
        };
        self.mac(media_id, variant, exp).verify_slice(&sig).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_bind_id_variant_and_expiry() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("media.key");
        let s = UrlSigner::load_or_create(&path).expect("create");
        let again = UrlSigner::load_or_create(&path).expect("load");
        let sig = s.sign("m1", "file", 1000);
        assert!(again.verify("m1", "file", 1000, &sig, 999));
        assert!(!s.verify("m1", "file", 1000, &sig, 1001), "expired");
        assert!(!s.verify("m2", "file", 1000, &sig, 0));
        assert!(!s.verify("m1", "thumbnail", 1000, &sig, 0));
        assert!(!s.verify("m1", "file", 2000, &sig, 0));
        assert!(!s.verify("m1", "file", 1000, "zz", 0));
        let other = UrlSigner::new([7; 32]);
        assert!(!other.verify("m1", "file", 1000, &sig, 0));
    }
}
