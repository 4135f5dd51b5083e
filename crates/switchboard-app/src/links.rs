//! Click-to-chat links: a short random code that opens a chat with the business,
//! optionally with a prefilled message, printed as a QR code on the shop's window.
//! The code is stored in the business (with its open count) and in a global index
//! so a code alone resolves to its business. Also the small PNG writer the QR
//! images need (grayscale, uncompressed deflate: a QR code is tiny).

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::error::{AppError, AppResult};
use crate::text::text;

/// A link; key: its code. Also in the global tenant, valued [`LinkIndex`].
pub const KIND_LINK: &str = "link";
pub const MAX_LINKS: u64 = 2_000;
pub const MAX_TEXT_CHARS: usize = 140;
pub const CODE_LEN: usize = 10;

/// Lower-case letters and digits without look-alikes (0/o, 1/l): 32 symbols, so a
/// code of 10 holds 50 random bits.
const ALPHABET: &[u8; 32] = b"abcdefghijkmnpqrstuvwxyz23456789";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Link {
    pub code: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    pub created_by: String,
    pub created_at: i64,
    pub opens: u64,
}

/// The global index record of a code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkIndex {
    pub waba_id: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewLink {
    #[serde(default)]
    pub text: Option<String>,
}

/// A code from random bytes.
pub fn new_code(random: [u8; CODE_LEN]) -> String {
    random
        .iter()
        .map(|b| char::from(ALPHABET[usize::from(*b & 31)]))
        .collect()
}

/// Whether `code` may be a link code (checked before it reaches the store).
pub fn valid_code(code: &str) -> bool {
    code.len() == CODE_LEN && code.bytes().all(|b| ALPHABET.contains(&b))
}

/// The prefilled text: at most 140 characters; empty is none.
pub fn prefill(t: Option<&str>) -> AppResult<Option<String>> {
    match t {
        None => Ok(None),
        Some(t) => {
            let t = text("text", t, 0, MAX_TEXT_CHARS, true)?;
            Ok((!t.is_empty()).then_some(t))
        }
    }
}

/// The address a link's QR code encodes.
pub fn link_url(base: &str, code: &str) -> String {
    format!("{}/c/{code}", base.trim_end_matches('/'))
}

impl Link {
    pub fn json(&self, base: &str) -> Value {
        json!({
            "code": self.code,
            "text": self.text,
            "url": link_url(base, &self.code),
            "opens": self.opens,
            "created_by": self.created_by,
            "created_at": self.created_at,
        })
    }
}

/// A business phone number in a number link: digits only, 6 to 15 of them.
pub fn phone_digits(s: &str) -> AppResult<String> {
    let d = s.trim_start_matches('+');
    if (6..=15).contains(&d.len()) && d.bytes().all(|b| b.is_ascii_digit()) {
        Ok(d.to_owned())
    } else {
        Err(AppError::NotFound("no business with this number".into()))
    }
}

/// A PNG of `modules` (a square of `width`×`width` dark/light cells), each cell
/// `scale` pixels, with a quiet zone of 4 cells: 8-bit grayscale, stored deflate
/// blocks.
pub fn qr_png(modules: &[bool], width: usize, scale: usize) -> Vec<u8> {
    const QUIET: usize = 4;
    let scale = scale.max(1);
    let side = (width + 2 * QUIET) * scale;
    let mut raw = Vec::with_capacity(side * (side + 1));
    for y in 0..side {
        raw.push(0); // filter: none
        let my = (y / scale).checked_sub(QUIET).filter(|m| *m < width);
        for x in 0..side {
            let mx = (x / scale).checked_sub(QUIET).filter(|m| *m < width);
            let dark = match (mx, my) {
                (Some(mx), Some(my)) => modules.get(my * width + mx).copied().unwrap_or(false),
                _ => false,
            };
            raw.push(if dark { 0 } else { 255 });
        }
    }
    let side32 = u32::try_from(side).unwrap_or(u32::MAX);
    let mut ihdr = Vec::with_capacity(13);
    ihdr.extend_from_slice(&side32.to_be_bytes());
    ihdr.extend_from_slice(&side32.to_be_bytes());
    ihdr.extend_from_slice(&[8, 0, 0, 0, 0]); // 8-bit grayscale, no interlace
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    chunk(&mut png, b"IHDR", &ihdr);
    chunk(&mut png, b"IDAT", &zlib_stored(&raw));
    chunk(&mut png, b"IEND", &[]);
    png
}

fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&u32::try_from(data.len()).unwrap_or(0).to_be_bytes());
    let start = out.len();
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let crc = crc32(out.get(start..).unwrap_or_default());
    out.extend_from_slice(&crc.to_be_bytes());
}

/// A zlib stream of stored (uncompressed) deflate blocks.
fn zlib_stored(data: &[u8]) -> Vec<u8> {
    let mut out = vec![0x78, 0x01];
    let mut blocks = data.chunks(65_535).peekable();
    if blocks.peek().is_none() {
        out.extend_from_slice(&[1, 0, 0, 0xff, 0xff]);
    }
    while let Some(block) = blocks.next() {
        out.push(u8::from(blocks.peek().is_none()));
        let len = u16::try_from(block.len()).unwrap_or(u16::MAX);
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(block);
    }
    out.extend_from_slice(&adler32(data).to_be_bytes());
    out
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xffff_ffffu32;
    for b in data {
        crc ^= u32::from(*b);
        for _ in 0..8 {
            let mask = (crc & 1).wrapping_neg();
            crc = (crc >> 1) ^ (0xedb8_8320 & mask);
        }
    }
    !crc
}

fn adler32(data: &[u8]) -> u32 {
    let (mut a, mut b) = (1u32, 0u32);
    for chunk in data.chunks(5552) {
        for x in chunk {
            a += u32::from(*x);
            b += a;
        }
        a %= 65_521;
        b %= 65_521;
    }
    (b << 16) | a
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes() {
        let c = new_code([0, 1, 2, 31, 32, 255, 7, 8, 9, 10]);
        assert_eq!(c.len(), CODE_LEN);
        assert!(valid_code(&c));
        assert!(!valid_code("ABCDEFGHJK"));
        assert!(!valid_code("abc"));
        assert!(!valid_code("abcdefghi0"));
        assert_eq!(link_url("http://x/", "abc"), "http://x/c/abc");
    }

    #[test]
    fn prefilled_text() {
        assert_eq!(prefill(Some(" Hi! ")).expect("ok").as_deref(), Some("Hi!"));
        assert_eq!(prefill(Some("")).expect("ok"), None);
        assert!(prefill(Some(&"x".repeat(140))).is_ok());
        assert_eq!(
            prefill(Some(&"x".repeat(141))).map_err(|e| e.code()),
            Err("invalid_length")
        );
    }

    #[test]
    fn checksums_match_known_values() {
        assert_eq!(crc32(b"123456789"), 0xcbf4_3926);
        assert_eq!(adler32(b"Wikipedia"), 0x11e6_0398);
    }

    #[test]
    fn png_has_the_right_header() {
        let png = qr_png(&[true, false, false, true], 2, 3);
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"));
        assert_eq!(png.get(12..16), Some(&b"IHDR"[..]));
        // (2 + 8) cells × 3 pixels.
        assert_eq!(png.get(16..20), Some(&30u32.to_be_bytes()[..]));
        assert!(png.ends_with(&[0xae, 0x42, 0x60, 0x82]));
    }

    #[test]
    fn phone_numbers() {
        assert_eq!(phone_digits("+4915100000001").expect("ok"), "4915100000001");
        assert!(phone_digits("12ab56").is_err());
        assert!(phone_digits("123").is_err());
    }
}
