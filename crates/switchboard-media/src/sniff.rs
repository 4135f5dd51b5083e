//! The type of an upload, from its first bytes (never from the declared header), and
//! the size limit of each kind.
//!
//! Allowed: JPEG, PNG, WebP, GIF, HEIC; MP4, 3GP, WebM, QuickTime; AAC, MP3, OGG/Opus,
//! AMR, M4A; PDF, Office documents, plain text, ZIP. Executables and scripts are refused
//! as dangerous (415); anything else as unsupported (415).

use crate::MediaError;

const MIB: u64 = 1024 * 1024;
/// Bytes looked at to decide the type (more than any signature needs; enough for
/// `infer` to look inside a ZIP for Office documents).
pub const SNIFF_BYTES: usize = 8 * 1024;
/// The largest upload of any kind.
pub const MAX_UPLOAD: u64 = 100 * MIB;

/// What an upload is, which decides its limit and its processing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Image,
    Video,
    Audio,
    Document,
}

impl Kind {
    /// Images 16 MiB, video and audio 64 MiB, documents 100 MiB.
    pub fn limit(self) -> u64 {
        match self {
            Kind::Image => 16 * MIB,
            Kind::Video | Kind::Audio => 64 * MIB,
            Kind::Document => MAX_UPLOAD,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Image => "image",
            Kind::Video => "video",
            Kind::Audio => "audio",
            Kind::Document => "document",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        Some(match s {
            "image" => Kind::Image,
            "video" => Kind::Video,
            "audio" => Kind::Audio,
            "document" => Kind::Document,
            _ => return None,
        })
    }
}

/// The sniffed type of an upload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sniffed {
    pub mime: &'static str,
    pub kind: Kind,
}

impl Sniffed {
    fn new(mime: &'static str, kind: Kind) -> Self {
        Sniffed { mime, kind }
    }
}

/// Types by their ISO base media file format brand (`ftyp` box at offset 4).
fn by_ftyp(head: &[u8]) -> Option<Result<Sniffed, MediaError>> {
    if head.len() < 12 || &head[4..8] != b"ftyp" {
        return None;
    }
    let brand = &head[8..12];
    Some(Ok(match brand {
        b"heic" | b"heix" | b"heim" | b"heis" | b"hevc" | b"hevx" | b"mif1" | b"msf1" => {
            Sniffed::new("image/heic", Kind::Image)
        }
        b"avif" | b"avis" => return Some(Err(MediaError::Unsupported("image/avif".into()))),
        b"3gp4" | b"3gp5" | b"3gp6" | b"3gp7" | b"3gs7" | b"3g2a" | b"3g2b" | b"3g2c" => {
            Sniffed::new("video/3gpp", Kind::Video)
        }
        b"qt  " => Sniffed::new("video/quicktime", Kind::Video),
        b"M4A " | b"M4B " | b"M4P " => Sniffed::new("audio/mp4", Kind::Audio),
        _ => Sniffed::new("video/mp4", Kind::Video),
    }))
}

fn dangerous(head: &[u8]) -> Option<&'static str> {
    const SIGS: [(&[u8], &str); 9] = [
        (b"\x7fELF", "an ELF executable"),
        (b"MZ", "a Windows executable"),
        (b"\xfe\xed\xfa\xce", "a Mach-O executable"),
        (b"\xfe\xed\xfa\xcf", "a Mach-O executable"),
        (b"\xce\xfa\xed\xfe", "a Mach-O executable"),
        (b"\xcf\xfa\xed\xfe", "a Mach-O executable"),
        (b"\xca\xfe\xba\xbe", "a Mach-O or Java executable"),
        (b"\0asm", "a WebAssembly module"),
        (b"dex\n", "an Android executable"),
    ];
    if let Some((_, what)) = SIGS.iter().find(|(sig, _)| head.starts_with(sig)) {
        return Some(what);
    }
    if head.starts_with(b"#!") && !head.starts_with(b"#!AMR") {
        return Some("a script");
    }
    None
}

/// Plain text: UTF-8 (a sequence cut at the end of `head` is fine unless the upload is
/// complete) without NUL or other binary control characters.
fn looks_like_text(head: &[u8], complete: bool) -> bool {
    let valid = match std::str::from_utf8(head) {
        Ok(s) => s,
        Err(e) if !complete && e.error_len().is_none() => {
            // Only the last, cut sequence is invalid.
            match std::str::from_utf8(&head[..e.valid_up_to()]) {
                Ok(s) => s,
                Err(_) => return false,
            }
        }
        Err(_) => return false,
    };
    !valid.is_empty()
        && !valid
            .chars()
            .any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r' | '\x0c' | '\x1b'))
}

/// The type of an upload from its first bytes. `complete` says whether `head` is the
/// whole upload (a short text file) or only its beginning.
pub fn sniff(head: &[u8], complete: bool) -> Result<Sniffed, MediaError> {
    if head.is_empty() {
        return Err(MediaError::Empty);
    }
    if let Some(what) = dangerous(head) {
        return Err(MediaError::Dangerous(what.into()));
    }
    if let Some(r) = by_ftyp(head) {
        return r;
    }
    if head.starts_with(b"#!AMR") {
        return Ok(Sniffed::new("audio/amr", Kind::Audio));
    }
    if head.starts_with(b"\x1a\x45\xdf\xa3") {
        // EBML: WebM is allowed, other Matroska files are not.
        let doc = &head[..head.len().min(64)];
        if doc.windows(7).any(|w| w == b"\x42\x82\x84webm") {
            return Ok(Sniffed::new("video/webm", Kind::Video));
        }
        return Err(MediaError::Unsupported("video/x-matroska".into()));
    }
    if let Some(t) = infer::get(head) {
        use Kind::*;
        let mime = t.mime_type();
        let s = match mime {
            "image/jpeg" | "image/png" | "image/webp" | "image/gif" => Sniffed::new(mime, Image),
            "image/heif" => Sniffed::new("image/heic", Image),
            "video/mp4" | "video/x-m4v" => Sniffed::new("video/mp4", Video),
            "video/webm" | "video/quicktime" => Sniffed::new(mime, Video),
            "audio/mpeg" | "audio/aac" | "audio/ogg" | "audio/amr" => Sniffed::new(mime, Audio),
            "audio/opus" => Sniffed::new("audio/ogg", Audio),
            "audio/m4a" => Sniffed::new("audio/mp4", Audio),
            "application/pdf"
            | "application/zip"
            | "application/rtf"
            | "application/msword"
            | "application/vnd.ms-excel"
            | "application/vnd.ms-powerpoint"
            | "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
            | "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            | "application/vnd.openxmlformats-officedocument.presentationml.presentation"
            | "application/vnd.oasis.opendocument.text"
            | "application/vnd.oasis.opendocument.spreadsheet"
            | "application/vnd.oasis.opendocument.presentation" => Sniffed::new(mime, Document),
            _ if t.matcher_type() == infer::MatcherType::App => {
                return Err(MediaError::Dangerous(mime.into()));
            }
            other => return Err(MediaError::Unsupported(other.into())),
        };
        return Ok(s);
    }
    if looks_like_text(head, complete) {
        return Ok(Sniffed::new("text/plain", Kind::Document));
    }
    Err(MediaError::Unsupported(
        "unrecognised content; send a photo, video, audio, PDF, Office document, text or ZIP"
            .into(),
    ))
}

/// The limit for an upload: the kind's, or the document limit for anything sent as a
/// document (a photo sent as a file keeps its original bytes and a larger limit).
pub fn limit_for(s: &Sniffed, as_document: bool) -> u64 {
    if as_document {
        Kind::Document.limit()
    } else {
        s.kind.limit()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mime(head: &[u8]) -> Result<(&'static str, Kind), &'static str> {
        sniff(head, true)
            .map(|s| (s.mime, s.kind))
            .map_err(|e| e.code())
    }

    #[test]
    fn images() {
        assert_eq!(
            mime(b"\xff\xd8\xff\xe0\0\x10JFIF\0"),
            Ok(("image/jpeg", Kind::Image))
        );
        assert_eq!(
            mime(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"),
            Ok(("image/png", Kind::Image))
        );
        assert_eq!(mime(b"GIF89a\x01\0\x01\0"), Ok(("image/gif", Kind::Image)));
        assert_eq!(
            mime(b"RIFF\x24\0\0\0WEBPVP8 "),
            Ok(("image/webp", Kind::Image))
        );
        assert_eq!(
            mime(b"\0\0\0\x18ftypheic\0\0\0\0mif1heic"),
            Ok(("image/heic", Kind::Image))
        );
        assert_eq!(
            mime(b"\0\0\0\x1cftypavif\0\0\0\0"),
            Err("unsupported_media_type")
        );
    }

    #[test]
    fn video_and_audio() {
        assert_eq!(
            mime(b"\0\0\0\x20ftypisom\0\0\x02\0isomiso2"),
            Ok(("video/mp4", Kind::Video))
        );
        assert_eq!(
            mime(b"\0\0\0\x14ftyp3gp4\0\0\0\0"),
            Ok(("video/3gpp", Kind::Video))
        );
        assert_eq!(
            mime(b"\0\0\0\x14ftypqt  \0\0\0\0"),
            Ok(("video/quicktime", Kind::Video))
        );
        assert_eq!(
            mime(b"\0\0\0\x18ftypM4A \0\0\0\0"),
            Ok(("audio/mp4", Kind::Audio))
        );
        assert_eq!(
            mime(b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\xf7\x81\x01\x42\xf2\x81\x04\x42\xf3\x81\x08\x42\x82\x84webm"),
            Ok(("video/webm", Kind::Video))
        );
        assert_eq!(
            mime(b"ID3\x04\0\0\0\0\0\0"),
            Ok(("audio/mpeg", Kind::Audio))
        );
        assert_eq!(
            mime(b"OggS\0\x02\0\0\0\0\0\0\0\0"),
            Ok(("audio/ogg", Kind::Audio))
        );
        assert_eq!(mime(b"#!AMR\n\x3c"), Ok(("audio/amr", Kind::Audio)));
        assert_eq!(
            mime(b"\xff\xf1\x50\x80\x02\x1f\xfc"),
            Ok(("audio/aac", Kind::Audio))
        );
    }

    #[test]
    fn documents() {
        assert_eq!(mime(b"%PDF-1.7\n"), Ok(("application/pdf", Kind::Document)));
        assert_eq!(
            mime(b"PK\x03\x04\x14\0\0\0\0\0"),
            Ok(("application/zip", Kind::Document))
        );
        assert_eq!(
            mime("hello, wörld\n".as_bytes()),
            Ok(("text/plain", Kind::Document))
        );
        // A multi-byte character cut at the end of the sniffed head is still text.
        let cut = &"aé".as_bytes()[..2];
        assert_eq!(sniff(cut, false).map(|s| s.mime).ok(), Some("text/plain"));
        assert!(sniff(cut, true).is_err());
    }

    #[test]
    fn refused() {
        assert_eq!(mime(b"\x7fELF\x02\x01\x01"), Err("dangerous_media_type"));
        assert_eq!(mime(b"MZ\x90\0\x03\0"), Err("dangerous_media_type"));
        assert_eq!(mime(b"#!/bin/sh\nrm -rf /\n"), Err("dangerous_media_type"));
        assert_eq!(mime(b"\0asm\x01\0\0\0"), Err("dangerous_media_type"));
        assert_eq!(mime(b"\0\x01\x02\x03binary"), Err("unsupported_media_type"));
        assert_eq!(mime(b"\x1f\x8b\x08\0"), Err("unsupported_media_type"));
        assert_eq!(mime(b""), Err("empty_upload"));
    }

    #[test]
    fn limits() {
        let img = Sniffed::new("image/png", Kind::Image);
        assert_eq!(limit_for(&img, false), 16 * MIB);
        assert_eq!(limit_for(&img, true), 100 * MIB);
        assert_eq!(Kind::Video.limit(), 64 * MIB);
        assert_eq!(Kind::Audio.limit(), 64 * MIB);
        assert_eq!(Kind::Document.limit(), 100 * MIB);
        let e = MediaError::TooLarge {
            kind: "image",
            limit: 1,
        };
        assert_eq!((e.status(), e.code()), (413, "media_too_large"));
        assert_eq!(MediaError::Unsupported("x".into()).status(), 415);
    }
}
