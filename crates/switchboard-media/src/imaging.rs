//! Images: dimensions, a small JPEG thumbnail, and removal of metadata (EXIF with its
//! GPS position, XMP, IPTC, text chunks) before a photo is shared. CPU-bound: callers
//! run these on a blocking thread.
//!
//! Metadata is removed losslessly by dropping the segments or chunks that carry it
//! (JPEG APP1/APP13/COM, PNG eXIf/tEXt/zTXt/iTXt, WebP EXIF/XMP, GIF comments and XMP
//! application extensions). HEIC/HEIF EXIF and XMP items are overwritten in place
//! ([`crate::heif`]): no byte moves, nothing is re-encoded. A JPEG whose EXIF
//! orientation is not upright is re-encoded with the rotation applied instead, so the
//! photo still shows the right way up without its EXIF.

use std::io::Cursor;

use image::codecs::jpeg::JpegEncoder;
use image::metadata::Orientation;
use image::{DynamicImage, ImageDecoder, ImageReader, Limits};

/// The longest side of a thumbnail, in pixels.
pub const THUMB_SIDE: u32 = 320;
const THUMB_QUALITY: u8 = 70;
/// Decoding limits: a small file may claim huge dimensions (a decompression bomb).
const MAX_SIDE: u32 = 12_000;
const MAX_ALLOC: u64 = 512 * 1024 * 1024;

fn limits() -> Limits {
    let mut l = Limits::default();
    l.max_image_width = Some(MAX_SIDE);
    l.max_image_height = Some(MAX_SIDE);
    l.max_alloc = Some(MAX_ALLOC);
    l
}

fn reader(bytes: &[u8]) -> Option<ImageReader<Cursor<&[u8]>>> {
    let mut r = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .ok()?;
    r.limits(limits());
    Some(r)
}

/// Width and height from the image header, without decoding the pixels (for HEIF,
/// the primary item's `ispe` property).
pub fn dimensions(bytes: &[u8]) -> Option<(u32, u32)> {
    if bytes.get(4..8) == Some(b"ftyp") {
        return crate::heif::dimensions(bytes);
    }
    reader(bytes)?.into_dimensions().ok()
}

/// Decodes with the EXIF orientation applied.
fn decode_upright(bytes: &[u8]) -> Option<DynamicImage> {
    let mut decoder = reader(bytes)?.into_decoder().ok()?;
    let orientation = decoder.orientation().unwrap_or(Orientation::NoTransforms);
    let mut img = DynamicImage::from_decoder(decoder).ok()?;
    img.apply_orientation(orientation);
    Some(img)
}

fn encode_jpeg(img: &DynamicImage, quality: u8) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    JpegEncoder::new_with_quality(&mut out, quality)
        .encode_image(&img.to_rgb8())
        .ok()?;
    Some(out)
}

/// A JPEG thumbnail at most [`THUMB_SIDE`] pixels on its longest side (upright).
pub fn thumbnail(bytes: &[u8]) -> Option<Vec<u8>> {
    let img = decode_upright(bytes)?;
    let thumb = if img.width() > THUMB_SIDE || img.height() > THUMB_SIDE {
        img.thumbnail(THUMB_SIDE, THUMB_SIDE)
    } else {
        img
    };
    encode_jpeg(&thumb, THUMB_QUALITY)
}

/// The EXIF orientation of an image, if it has one that is not upright.
fn rotated(bytes: &[u8]) -> bool {
    reader(bytes)
        .and_then(|r| r.into_decoder().ok())
        .and_then(|mut d| d.orientation().ok())
        .is_some_and(|o| o != Orientation::NoTransforms)
}

/// The image without location or other metadata: `Ok(None)` when there was nothing to
/// remove, `Err` when the file is malformed and cannot be cleaned safely.
pub fn strip_metadata(mime: &str, bytes: &[u8]) -> Result<Option<Vec<u8>>, &'static str> {
    match mime {
        "image/jpeg" => {
            if rotated(bytes) {
                let img = decode_upright(bytes).ok_or("the photo cannot be decoded")?;
                return encode_jpeg(&img, 90)
                    .map(Some)
                    .ok_or("the photo cannot be re-encoded");
            }
            strip_jpeg(bytes)
        }
        "image/png" => strip_png(bytes),
        "image/webp" => strip_webp(bytes),
        "image/gif" => strip_gif(bytes),
        "image/heic" | "image/heif" => crate::heif::strip(bytes),
        _ => Ok(None),
    }
}

/// Drops APP1 (EXIF, XMP), APP13 (IPTC) and COM segments before the scan data.
pub fn strip_jpeg(b: &[u8]) -> Result<Option<Vec<u8>>, &'static str> {
    const BAD: &str = "malformed JPEG";
    if !b.starts_with(&[0xff, 0xd8]) {
        return Err(BAD);
    }
    let mut out = Vec::with_capacity(b.len());
    out.extend_from_slice(&b[..2]);
    let mut i = 2;
    let mut dropped = false;
    loop {
        if i >= b.len() {
            return Err(BAD);
        }
        if b[i] != 0xff {
            return Err(BAD);
        }
        // Fill bytes before a marker.
        while i + 1 < b.len() && b[i + 1] == 0xff {
            i += 1;
        }
        let marker = *b.get(i + 1).ok_or(BAD)?;
        if marker == 0xd9 || (0xd0..=0xd7).contains(&marker) || marker == 0x01 {
            out.extend_from_slice(&b[i..i + 2]);
            i += 2;
            if marker == 0xd9 {
                break;
            }
            continue;
        }
        let len =
            u16::from_be_bytes([*b.get(i + 2).ok_or(BAD)?, *b.get(i + 3).ok_or(BAD)?]) as usize;
        if len < 2 || i + 2 + len > b.len() {
            return Err(BAD);
        }
        let end = i + 2 + len;
        if marker == 0xda {
            // Start of scan: the rest is image data.
            out.extend_from_slice(&b[i..]);
            break;
        }
        if matches!(marker, 0xe1 | 0xed | 0xfe) {
            dropped = true;
        } else {
            out.extend_from_slice(&b[i..end]);
        }
        i = end;
    }
    Ok(dropped.then_some(out))
}

/// Drops the eXIf, tEXt, zTXt and iTXt chunks (EXIF and XMP live there).
pub fn strip_png(b: &[u8]) -> Result<Option<Vec<u8>>, &'static str> {
    const BAD: &str = "malformed PNG";
    const SIG: &[u8] = b"\x89PNG\r\n\x1a\n";
    if !b.starts_with(SIG) {
        return Err(BAD);
    }
    let mut out = Vec::with_capacity(b.len());
    out.extend_from_slice(SIG);
    let mut i = SIG.len();
    let mut dropped = false;
    while i < b.len() {
        if i + 8 > b.len() {
            return Err(BAD);
        }
        let len = u32::from_be_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]) as usize;
        let kind = &b[i + 4..i + 8];
        let end = i
            .checked_add(12)
            .and_then(|x| x.checked_add(len))
            .ok_or(BAD)?;
        if end > b.len() {
            return Err(BAD);
        }
        if matches!(kind, b"eXIf" | b"tEXt" | b"zTXt" | b"iTXt") {
            dropped = true;
        } else {
            out.extend_from_slice(&b[i..end]);
        }
        i = end;
        if kind == b"IEND" {
            break;
        }
    }
    Ok(dropped.then_some(out))
}

/// Drops the EXIF and XMP chunks and clears their flags in VP8X.
pub fn strip_webp(b: &[u8]) -> Result<Option<Vec<u8>>, &'static str> {
    const BAD: &str = "malformed WebP";
    if b.len() < 12 || &b[..4] != b"RIFF" || &b[8..12] != b"WEBP" {
        return Err(BAD);
    }
    let mut out = Vec::with_capacity(b.len());
    out.extend_from_slice(&b[..12]);
    let mut i = 12;
    let mut dropped = false;
    let mut vp8x_at = None;
    while i + 8 <= b.len() {
        let kind = &b[i..i + 4];
        let len = u32::from_le_bytes([b[i + 4], b[i + 5], b[i + 6], b[i + 7]]) as usize;
        let end = (i + 8).checked_add(len + (len & 1)).ok_or(BAD)?;
        if end > b.len() {
            return Err(BAD);
        }
        if matches!(kind, b"EXIF" | b"XMP ") {
            dropped = true;
        } else {
            if kind == b"VP8X" {
                vp8x_at = Some(out.len() + 8);
            }
            out.extend_from_slice(&b[i..end]);
        }
        i = end;
    }
    if !dropped {
        return Ok(None);
    }
    if let Some(at) = vp8x_at
        && let Some(flags) = out.get_mut(at)
    {
        *flags &= !(0x08 | 0x04);
    }
    let riff = u32::try_from(out.len() - 8).map_err(|_| BAD)?;
    out[4..8].copy_from_slice(&riff.to_le_bytes());
    Ok(Some(out))
}

/// Skips GIF data sub-blocks from `i` (each a length byte and data, ended by a zero
/// length); returns the index after the terminator.
fn gif_sub_blocks(b: &[u8], mut i: usize) -> Result<usize, &'static str> {
    loop {
        let n = *b.get(i).ok_or("malformed GIF")? as usize;
        i += 1 + n;
        if i > b.len() {
            return Err("malformed GIF");
        }
        if n == 0 {
            return Ok(i);
        }
    }
}

/// Drops comment extensions and application extensions carrying XMP (`XMP DataXMP`);
/// every other byte is kept as it is. Bytes after the trailer are dropped too.
pub fn strip_gif(b: &[u8]) -> Result<Option<Vec<u8>>, &'static str> {
    const BAD: &str = "malformed GIF";
    if b.len() < 13 || !(b.starts_with(b"GIF87a") || b.starts_with(b"GIF89a")) {
        return Err(BAD);
    }
    let color_table = |packed: u8| {
        if packed & 0x80 != 0 {
            3usize << ((packed & 7) + 1)
        } else {
            0
        }
    };
    let mut i = 13 + color_table(b[10]);
    if i > b.len() {
        return Err(BAD);
    }
    let mut out = Vec::with_capacity(b.len());
    out.extend_from_slice(&b[..i]);
    let mut dropped = false;
    // A missing trailer is tolerated at a block boundary (many encoders omit it).
    while let Some(&intro) = b.get(i) {
        let end = match intro {
            0x3b => {
                out.push(0x3b);
                dropped |= i + 1 < b.len();
                break;
            }
            0x21 => {
                let label = *b.get(i + 1).ok_or(BAD)?;
                let end = gif_sub_blocks(b, i + 2)?;
                let xmp = label == 0xff
                    && b.get(i + 2) == Some(&11)
                    && b.get(i + 3..i + 14) == Some(b"XMP DataXMP");
                if label == 0xfe || xmp {
                    dropped = true;
                    i = end;
                    continue;
                }
                end
            }
            0x2c => {
                let packed = *b.get(i + 9).ok_or(BAD)?;
                // Descriptor, local color table, LZW minimum code size, data.
                let data = i + 10 + color_table(packed) + 1;
                if data > b.len() {
                    return Err(BAD);
                }
                gif_sub_blocks(b, data)?
            }
            _ => return Err(BAD),
        };
        out.extend_from_slice(&b[i..end]);
        i = end;
    }
    Ok(dropped.then_some(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jpeg(w: u32, h: u32) -> Vec<u8> {
        let img = DynamicImage::ImageRgb8(image::RgbImage::from_fn(w, h, |x, y| {
            image::Rgb([(x % 256) as u8, (y % 256) as u8, 128])
        }));
        encode_jpeg(&img, 80).expect("encode")
    }

    /// Inserts an APP1 Exif segment with a GPS IFD right after SOI.
    pub fn with_gps(jpeg: &[u8]) -> Vec<u8> {
        let mut tiff = Vec::new();
        tiff.extend_from_slice(b"MM\0\x2a\0\0\0\x08"); // big-endian TIFF, IFD0 at 8
        tiff.extend_from_slice(&1u16.to_be_bytes()); // one entry
        tiff.extend_from_slice(&0x8825u16.to_be_bytes()); // GPSInfo pointer
        tiff.extend_from_slice(&4u16.to_be_bytes()); // LONG
        tiff.extend_from_slice(&1u32.to_be_bytes());
        tiff.extend_from_slice(&26u32.to_be_bytes()); // GPS IFD at 26
        tiff.extend_from_slice(&0u32.to_be_bytes()); // no next IFD
        tiff.extend_from_slice(&1u16.to_be_bytes());
        tiff.extend_from_slice(&1u16.to_be_bytes()); // GPSLatitudeRef
        tiff.extend_from_slice(&2u16.to_be_bytes()); // ASCII
        tiff.extend_from_slice(&2u32.to_be_bytes());
        tiff.extend_from_slice(b"N\0\0\0");
        tiff.extend_from_slice(&0u32.to_be_bytes());
        let mut app1 = b"Exif\0\0".to_vec();
        app1.extend_from_slice(&tiff);
        app1.extend_from_slice(b"GPS-SECRET-52.5200N-13.4050E");
        let mut out = jpeg[..2].to_vec();
        out.extend_from_slice(&[0xff, 0xe1]);
        out.extend_from_slice(&((app1.len() + 2) as u16).to_be_bytes());
        out.extend_from_slice(&app1);
        out.extend_from_slice(&jpeg[2..]);
        out
    }

    #[test]
    fn jpeg_gps_is_removed_and_pixels_kept() {
        let plain = jpeg(64, 48);
        let tagged = with_gps(&plain);
        assert!(tagged.windows(10).any(|w| w == b"GPS-SECRET"));
        let clean = strip_metadata("image/jpeg", &tagged)
            .expect("valid")
            .expect("something removed");
        assert!(!clean.windows(10).any(|w| w == b"GPS-SECRET"));
        assert_eq!(clean, plain);
        assert_eq!(dimensions(&clean), Some((64, 48)));
        assert_eq!(strip_metadata("image/jpeg", &plain), Ok(None));
        assert!(strip_jpeg(b"\xff\xd8\xff\xe1\xff\xff").is_err());
    }

    #[test]
    fn thumbnails_are_small_jpegs() {
        let t = thumbnail(&jpeg(1000, 500)).expect("thumbnail");
        assert!(t.starts_with(&[0xff, 0xd8]));
        assert_eq!(dimensions(&t), Some((320, 160)));
        assert!(thumbnail(b"not an image").is_none());
    }

    #[test]
    fn png_text_chunks_are_removed() {
        let img = DynamicImage::ImageRgb8(image::RgbImage::new(4, 4));
        let mut png = Vec::new();
        img.write_to(&mut Cursor::new(&mut png), image::ImageFormat::Png)
            .expect("png");
        // Insert a tEXt chunk after IHDR (8 + 25 bytes).
        let mut chunk = Vec::new();
        let data = b"GPS\0secret";
        chunk.extend_from_slice(&(data.len() as u32).to_be_bytes());
        chunk.extend_from_slice(b"tEXt");
        chunk.extend_from_slice(data);
        chunk.extend_from_slice(&[0, 0, 0, 0]);
        let mut tagged = png[..33].to_vec();
        tagged.extend_from_slice(&chunk);
        tagged.extend_from_slice(&png[33..]);
        assert_eq!(strip_png(&tagged), Ok(Some(png.clone())));
        assert_eq!(strip_png(&png), Ok(None));
    }

    #[test]
    fn gif_comments_and_xmp_are_removed() {
        let img = DynamicImage::ImageRgb8(image::RgbImage::from_fn(8, 6, |x, y| {
            image::Rgb([(x * 30) as u8, (y * 40) as u8, 7])
        }));
        let mut gif = Vec::new();
        img.write_to(&mut Cursor::new(&mut gif), image::ImageFormat::Gif)
            .expect("gif");
        assert_eq!(strip_gif(&gif), Ok(None));
        let head = 13
            + if gif[10] & 0x80 != 0 {
                3 << ((gif[10] & 7) + 1)
            } else {
                0
            };
        let mut comment = vec![0x21, 0xfe, 17];
        comment.extend_from_slice(b"GPS-SECRET-52.52N");
        comment.push(0);
        let mut xmp = vec![0x21, 0xff, 11];
        xmp.extend_from_slice(b"XMP DataXMP");
        xmp.extend_from_slice(&[10]);
        xmp.extend_from_slice(b"XMP-SECRET");
        xmp.push(0);
        let mut netscape = vec![0x21, 0xff, 11];
        netscape.extend_from_slice(b"NETSCAPE2.0");
        netscape.extend_from_slice(&[3, 1, 0, 0, 0]);
        let mut tagged = gif[..head].to_vec();
        tagged.extend_from_slice(&comment);
        tagged.extend_from_slice(&netscape);
        tagged.extend_from_slice(&xmp);
        tagged.extend_from_slice(&gif[head..]);
        let clean = strip_metadata("image/gif", &tagged)
            .expect("valid")
            .expect("changed");
        let mut expected = gif[..head].to_vec();
        expected.extend_from_slice(&netscape);
        expected.extend_from_slice(&gif[head..]);
        assert_eq!(clean, expected);
        assert_eq!(dimensions(&clean), Some((8, 6)));
        for n in 0..tagged.len() {
            if let Ok(Some(c)) = strip_gif(&tagged[..n]) {
                assert!(!c.windows(10).any(|w| w == b"GPS-SECRET"));
            }
        }
        assert!(strip_gif(b"GIF89a\x01\0\x01\0\x80\0\0").is_err());
    }
}
