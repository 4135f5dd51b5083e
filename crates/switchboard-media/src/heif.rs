//! HEIF/HEIC (ISO base media file format) still images: the primary item's size, and
//! removal of the EXIF and XMP items without re-encoding and without moving a byte.
//!
//! The top-level boxes are walked; `meta` gives the items (`iinf`/`infe`), where their
//! bytes are (`iloc`, construction methods 0 and 1), the primary item (`pitm`) and its
//! properties (`iprp`/`ipco`/`ipma`, `ispe` for the size). Every `Exif` item and every
//! `mime` item of type `application/rdf+xml` (XMP) is overwritten in place: EXIF keeps
//! its 4-byte TIFF header offset and gets an empty TIFF followed by zeros; XMP becomes
//! spaces. Anything that cannot be understood is an error, so the caller refuses the
//! photo instead of sharing data that may carry a location. Every read is
//! bounds-checked; malformed input returns an error, never panics.

/// Why a file was refused.
pub const BAD: &str = "malformed or unsupported HEIF structure";

type R<T> = Result<T, &'static str>;

/// A minimal valid TIFF: little-endian header, IFD0 at 8 with no entries, no next IFD.
const EMPTY_TIFF: [u8; 14] = [b'I', b'I', 0x2a, 0, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0];
const XMP_TYPE: &[u8] = b"application/rdf+xml";

/// A box: its type, and where its payload (after the header) starts and ends.
#[derive(Debug, Clone, Copy)]
struct Bx {
    kind: [u8; 4],
    body: usize,
    end: usize,
}

fn u16_at(b: &[u8], i: usize) -> R<u16> {
    let s = b.get(i..i.checked_add(2).ok_or(BAD)?).ok_or(BAD)?;
    Ok(u16::from_be_bytes([s[0], s[1]]))
}

fn u32_at(b: &[u8], i: usize) -> R<u32> {
    let s = b.get(i..i.checked_add(4).ok_or(BAD)?).ok_or(BAD)?;
    Ok(u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
}

fn u64_at(b: &[u8], i: usize) -> R<u64> {
    let s = b.get(i..i.checked_add(8).ok_or(BAD)?).ok_or(BAD)?;
    let mut a = [0u8; 8];
    a.copy_from_slice(s);
    Ok(u64::from_be_bytes(a))
}

/// An unsigned big-endian integer of 0, 4 or 8 bytes (the `iloc` field sizes).
fn uint_at(b: &[u8], i: usize, size: u8) -> R<u64> {
    match size {
        0 => Ok(0),
        4 => u32_at(b, i).map(u64::from),
        8 => u64_at(b, i),
        _ => Err(BAD),
    }
}

fn to_usize(v: u64) -> R<usize> {
    usize::try_from(v).map_err(|_| BAD)
}

/// The boxes in `b[start..end]`, in order.
fn boxes(b: &[u8], start: usize, end: usize) -> R<Vec<Bx>> {
    if end > b.len() || start > end {
        return Err(BAD);
    }
    let mut out = Vec::new();
    let mut i = start;
    while i < end {
        if end - i < 8 {
            return Err(BAD);
        }
        let size = u32_at(b, i)?;
        let mut kind = [0u8; 4];
        kind.copy_from_slice(&b[i + 4..i + 8]);
        let (body, box_end) = match size {
            0 => (i + 8, end),
            1 => {
                let large = to_usize(u64_at(b, i + 8)?)?;
                if large < 16 {
                    return Err(BAD);
                }
                (i + 16, i.checked_add(large).ok_or(BAD)?)
            }
            n => {
                let n = to_usize(u64::from(n))?;
                if n < 8 {
                    return Err(BAD);
                }
                (i + 8, i.checked_add(n).ok_or(BAD)?)
            }
        };
        if box_end > end || body > box_end {
            return Err(BAD);
        }
        out.push(Bx {
            kind,
            body,
            end: box_end,
        });
        i = box_end;
    }
    Ok(out)
}

/// The version byte and the 24-bit flags of a full box, and where its fields start.
fn full_box(b: &[u8], bx: &Bx) -> R<(u8, u32, usize)> {
    if bx.end - bx.body < 4 {
        return Err(BAD);
    }
    let vf = u32_at(b, bx.body)?;
    Ok(((vf >> 24) as u8, vf & 0x00ff_ffff, bx.body + 4))
}

/// A NUL-terminated string in `b[i..end]`: its bytes and the index after the NUL (a
/// missing NUL at the end of the box is tolerated).
fn cstr(b: &[u8], i: usize, end: usize) -> R<(&[u8], usize)> {
    let s = b.get(i..end).ok_or(BAD)?;
    match s.iter().position(|&c| c == 0) {
        Some(n) => Ok((&s[..n], i + n + 1)),
        None => Ok((s, end)),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sensitive {
    Exif,
    Xmp,
}

#[derive(Debug, Default)]
struct Meta {
    primary: Option<u32>,
    /// Items to overwrite.
    sensitive: Vec<(u32, Sensitive)>,
    /// Item id → absolute byte ranges (in order).
    locations: Vec<(u32, Vec<(usize, usize)>)>,
    /// (width, height) of each property, by 1-based index; `None` for other properties.
    ispe: Vec<Option<(u32, u32)>>,
    /// Item id → property indexes.
    assoc: Vec<(u32, Vec<u16>)>,
}

/// What the parse found: the sensitive ranges and the primary item's size.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Layout {
    pub size: Option<(u32, u32)>,
    /// Absolute ranges of each EXIF or XMP item's bytes, in item order.
    exif: Vec<Vec<(usize, usize)>>,
    xmp: Vec<Vec<(usize, usize)>>,
}

fn parse_infe(b: &[u8], bx: &Bx) -> R<Option<(u32, Sensitive)>> {
    let (v, _, i) = full_box(b, bx)?;
    let (id, after) = match v {
        0 | 1 => {
            let id = u32::from(u16_at(b, i)?);
            // protection index at i + 2, then name, content type, encoding.
            let (_, j) = cstr(b, i + 4, bx.end)?;
            let (ct, _) = cstr(b, j, bx.end)?;
            return Ok((ct == XMP_TYPE).then_some((id, Sensitive::Xmp)));
        }
        // id, protection index, item type.
        2 => (u32::from(u16_at(b, i)?), i + 2 + 2 + 4),
        3 => (u32_at(b, i)?, i + 4 + 2 + 4),
        _ => return Err(BAD),
    };
    if after > bx.end {
        return Err(BAD);
    }
    let item_type = b.get(after - 4..after).ok_or(BAD)?;
    match item_type {
        b"Exif" => Ok(Some((id, Sensitive::Exif))),
        b"mime" => {
            let (_, j) = cstr(b, after, bx.end)?;
            let (ct, _) = cstr(b, j, bx.end)?;
            // Parameters (`; charset=…`) do not change what it is.
            let base = ct.split(|&c| c == b';').next().unwrap_or(ct);
            let base = base.trim_ascii();
            Ok(base
                .eq_ignore_ascii_case(XMP_TYPE)
                .then_some((id, Sensitive::Xmp)))
        }
        _ => Ok(None),
    }
}

fn parse_iinf(b: &[u8], bx: &Bx, m: &mut Meta) -> R<()> {
    let (v, _, i) = full_box(b, bx)?;
    let start = match v {
        0 => i + 2,
        _ => i + 4,
    };
    for infe in boxes(b, start, bx.end)? {
        if &infe.kind == b"infe"
            && let Some(s) = parse_infe(b, &infe)?
        {
            m.sensitive.push(s);
        }
    }
    Ok(())
}

/// Extents in one `iloc` beyond which a file is not believed (zero-sized fields make
/// extents free to declare; real files have a few per item).
const MAX_EXTENTS: u32 = 1 << 20;

/// `iloc`: absolute ranges of every sensitive item (`m.sensitive`, so `iinf` first)
/// stored in this file (construction method 0) or in the `idat` box (method 1). Items
/// stored elsewhere get no ranges; if one is sensitive the caller refuses the file.
fn parse_iloc(b: &[u8], bx: &Bx, idat: Option<(usize, usize)>, m: &mut Meta) -> R<()> {
    let (v, _, mut i) = full_box(b, bx)?;
    if v > 2 {
        return Err(BAD);
    }
    let s1 = *b.get(i).ok_or(BAD)?;
    let s2 = *b.get(i + 1).ok_or(BAD)?;
    let (offset_size, length_size, base_offset_size) = (s1 >> 4, s1 & 15, s2 >> 4);
    let index_size = if v == 0 { 0 } else { s2 & 15 };
    i += 2;
    let count = if v < 2 {
        let c = u32::from(u16_at(b, i)?);
        i += 2;
        c
    } else {
        let c = u32_at(b, i)?;
        i += 4;
        c
    };
    let mut total_extents = 0u32;
    for _ in 0..count {
        if i >= bx.end {
            return Err(BAD);
        }
        let id = if v < 2 {
            let x = u32::from(u16_at(b, i)?);
            i += 2;
            x
        } else {
            let x = u32_at(b, i)?;
            i += 4;
            x
        };
        let wanted = m.sensitive.iter().any(|(s, _)| *s == id);
        let method = if v == 0 {
            0
        } else {
            let x = u16_at(b, i)? & 0x0f;
            i += 2;
            x
        };
        let data_ref = u16_at(b, i)?;
        i += 2;
        let base = uint_at(b, i, base_offset_size)?;
        i += usize::from(base_offset_size);
        let extents = u16_at(b, i)?;
        i += 2;
        total_extents += u32::from(extents);
        if total_extents > MAX_EXTENTS {
            return Err(BAD);
        }
        let mut ranges = Vec::new();
        // Where offsets count from, and how far the item may reach.
        let place = match (data_ref, method) {
            (0, 0) => Some((0, b.len())),
            (0, 1) => idat,
            _ => None,
        };
        for _ in 0..extents {
            if index_size != 0 {
                uint_at(b, i, index_size)?;
                i += usize::from(index_size);
            }
            let off = uint_at(b, i, offset_size)?;
            i += usize::from(offset_size);
            let len = uint_at(b, i, length_size)?;
            i += usize::from(length_size);
            if i > bx.end {
                return Err(BAD);
            }
            let (true, Some((origin, limit))) = (wanted, place) else {
                continue;
            };
            let start = to_usize(base.checked_add(off).ok_or(BAD)?)?
                .checked_add(origin)
                .ok_or(BAD)?;
            let end = if len == 0 {
                limit
            } else {
                start.checked_add(to_usize(len)?).ok_or(BAD)?
            };
            if start > end || end > limit {
                return Err(BAD);
            }
            ranges.push((start, end));
        }
        if i > bx.end {
            return Err(BAD);
        }
        if wanted && place.is_some() {
            m.locations.push((id, ranges));
        }
    }
    Ok(())
}

fn parse_iprp(b: &[u8], bx: &Bx, m: &mut Meta) -> R<()> {
    for child in boxes(b, bx.body, bx.end)? {
        match &child.kind {
            b"ipco" => {
                for p in boxes(b, child.body, child.end)? {
                    if &p.kind == b"ispe" {
                        let (_, _, i) = full_box(b, &p)?;
                        m.ispe.push(Some((u32_at(b, i)?, u32_at(b, i + 4)?)));
                    } else {
                        m.ispe.push(None);
                    }
                }
            }
            b"ipma" => {
                let (v, flags, mut i) = full_box(b, &child)?;
                let count = u32_at(b, i)?;
                i += 4;
                for _ in 0..count {
                    if i >= child.end {
                        return Err(BAD);
                    }
                    let id = if v < 1 {
                        let x = u32::from(u16_at(b, i)?);
                        i += 2;
                        x
                    } else {
                        let x = u32_at(b, i)?;
                        i += 4;
                        x
                    };
                    let n = *b.get(i).ok_or(BAD)?;
                    i += 1;
                    let mut props = Vec::with_capacity(usize::from(n));
                    for _ in 0..n {
                        if flags & 1 == 1 {
                            props.push(u16_at(b, i)? & 0x7fff);
                            i += 2;
                        } else {
                            props.push(u16::from(*b.get(i).ok_or(BAD)? & 0x7f));
                            i += 1;
                        }
                    }
                    if i > child.end {
                        return Err(BAD);
                    }
                    m.assoc.push((id, props));
                }
            }
            _ => {}
        }
    }
    Ok(())
}

fn parse_meta(b: &[u8], bx: &Bx) -> R<Meta> {
    let (_, _, start) = full_box(b, bx)?;
    let children = boxes(b, start, bx.end)?;
    let mut m = Meta::default();
    let hdlr = children.iter().find(|c| &c.kind == b"hdlr").ok_or(BAD)?;
    let (_, _, i) = full_box(b, hdlr)?;
    if b.get(i + 4..i + 8) != Some(b"pict") {
        return Err(BAD);
    }
    let idat = children
        .iter()
        .find(|c| &c.kind == b"idat")
        .map(|c| (c.body, c.end));
    // Items first: `iloc` keeps the locations of the sensitive ones only.
    for c in children.iter().filter(|c| &c.kind == b"iinf") {
        parse_iinf(b, c, &mut m)?;
    }
    for c in &children {
        match &c.kind {
            b"pitm" => {
                let (v, _, i) = full_box(b, c)?;
                m.primary = Some(if v == 0 {
                    u32::from(u16_at(b, i)?)
                } else {
                    u32_at(b, i)?
                });
            }
            b"iloc" => parse_iloc(b, c, idat, &mut m)?,
            b"iprp" => parse_iprp(b, c, &mut m)?,
            _ => {}
        }
    }
    Ok(m)
}

/// Parses the file. `Ok` with no ranges when the file holds no EXIF or XMP items.
pub fn parse(b: &[u8]) -> R<Layout> {
    let top = boxes(b, 0, b.len())?;
    if top.first().map(|x| &x.kind) != Some(b"ftyp") {
        return Err(BAD);
    }
    let mut metas = top.iter().filter(|x| &x.kind == b"meta");
    let Some(meta) = metas.next() else {
        // No items at all, so no EXIF or XMP items. An image sequence (`moov`) keeps
        // its metadata in tracks, which is not cleaned here: refused.
        if top.iter().any(|x| &x.kind == b"moov") {
            return Err(BAD);
        }
        return Ok(Layout::default());
    };
    if metas.next().is_some() || top.iter().any(|x| &x.kind == b"moov") {
        return Err(BAD);
    }
    let m = parse_meta(b, meta)?;
    let mut layout = Layout::default();
    let mut total = 0usize;
    for &(id, what) in &m.sensitive {
        // Every entry for the item (a duplicate must not leave a copy behind).
        let mut found = false;
        for (_, ranges) in m.locations.iter().filter(|(i, _)| *i == id) {
            found = true;
            total = ranges
                .iter()
                .try_fold(total, |t, (s, e)| t.checked_add(e - s))
                .ok_or(BAD)?;
            match what {
                Sensitive::Exif => layout.exif.push(ranges.clone()),
                Sensitive::Xmp => layout.xmp.push(ranges.clone()),
            }
        }
        if !found {
            return Err(BAD);
        }
    }
    // Items do not overlap in a real file: more metadata bytes than the file holds
    // means extents repeated to make the work (and memory) blow up.
    if total > b.len() {
        return Err(BAD);
    }
    layout.size = m.primary.and_then(|p| {
        let (_, props) = m.assoc.iter().find(|(i, _)| *i == p)?;
        props.iter().find_map(|&ix| {
            let ix = usize::from(ix).checked_sub(1)?;
            m.ispe.get(ix).copied().flatten()
        })
    });
    Ok(layout)
}

/// The primary item's width and height (`ispe`), if the file can be parsed.
pub fn dimensions(b: &[u8]) -> Option<(u32, u32)> {
    parse(b).ok()?.size.filter(|&(w, h)| w > 0 && h > 0)
}

/// Reads an item's bytes (its extents concatenated).
fn gather(b: &[u8], ranges: &[(usize, usize)]) -> Vec<u8> {
    let mut v = Vec::new();
    for &(s, e) in ranges {
        v.extend_from_slice(&b[s..e]);
    }
    v
}

/// Writes `data` back over an item's extents.
fn scatter(out: &mut [u8], ranges: &[(usize, usize)], data: &[u8]) {
    let mut at = 0;
    for &(s, e) in ranges {
        let n = e - s;
        out[s..e].copy_from_slice(&data[at..at + n]);
        at += n;
    }
}

/// The EXIF item's new bytes: the TIFF header offset kept (when it only skips the
/// usual `Exif\0\0` identifier), an empty TIFF, zeros.
fn blank_exif(old: &[u8]) -> Vec<u8> {
    let mut new = vec![0u8; old.len()];
    if old.len() < 4 + EMPTY_TIFF.len() {
        return new;
    }
    let off = u32::from_be_bytes([old[0], old[1], old[2], old[3]]) as usize;
    let at = if off <= 6 && 4 + off + EMPTY_TIFF.len() <= old.len() {
        new[..4 + off].copy_from_slice(&old[..4 + off]);
        4 + off
    } else {
        4
    };
    new[at..at + EMPTY_TIFF.len()].copy_from_slice(&EMPTY_TIFF);
    new
}

/// The file with every EXIF and XMP item blanked in place: `Ok(None)` when it has
/// none, `Err` when its structure is not understood.
pub fn strip(b: &[u8]) -> R<Option<Vec<u8>>> {
    let layout = parse(b)?;
    if layout.exif.is_empty() && layout.xmp.is_empty() {
        return Ok(None);
    }
    let mut out = b.to_vec();
    for ranges in &layout.exif {
        let new = blank_exif(&gather(b, ranges));
        scatter(&mut out, ranges, &new);
    }
    for ranges in &layout.xmp {
        let n = ranges.iter().map(|(s, e)| e - s).sum();
        scatter(&mut out, ranges, &vec![b' '; n]);
    }
    Ok(Some(out))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    fn bx(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
        let mut v = ((body.len() + 8) as u32).to_be_bytes().to_vec();
        v.extend_from_slice(kind);
        v.extend_from_slice(body);
        v
    }

    fn full(kind: &[u8; 4], version: u8, flags: u32, body: &[u8]) -> Vec<u8> {
        let mut b = (u32::from(version) << 24 | flags).to_be_bytes().to_vec();
        b.extend_from_slice(body);
        bx(kind, &b)
    }

    fn infe(id: u16, kind: &[u8; 4], extra: &[u8]) -> Vec<u8> {
        let mut b = id.to_be_bytes().to_vec();
        b.extend_from_slice(&[0, 0]);
        b.extend_from_slice(kind);
        b.extend_from_slice(b"\0");
        b.extend_from_slice(extra);
        full(b"infe", 2, 0, &b)
    }

    pub(crate) fn exif_payload() -> Vec<u8> {
        let mut tiff = Vec::new();
        tiff.extend_from_slice(b"MM\0\x2a\0\0\0\x08");
        tiff.extend_from_slice(&1u16.to_be_bytes());
        tiff.extend_from_slice(&0x8825u16.to_be_bytes());
        tiff.extend_from_slice(&4u16.to_be_bytes());
        tiff.extend_from_slice(&1u32.to_be_bytes());
        tiff.extend_from_slice(&26u32.to_be_bytes());
        tiff.extend_from_slice(&0u32.to_be_bytes());
        tiff.extend_from_slice(&1u16.to_be_bytes());
        tiff.extend_from_slice(&2u16.to_be_bytes()); // GPSLatitude… as ASCII marker
        tiff.extend_from_slice(&2u16.to_be_bytes());
        tiff.extend_from_slice(&28u32.to_be_bytes());
        tiff.extend_from_slice(&44u32.to_be_bytes());
        tiff.extend_from_slice(&0u32.to_be_bytes());
        tiff.extend_from_slice(b"GPS-SECRET-52.5200N-13.4050E");
        let mut p = 6u32.to_be_bytes().to_vec();
        p.extend_from_slice(b"Exif\0\0");
        p.extend_from_slice(&tiff);
        p
    }

    /// A HEIC-like file: ftyp, meta (hdlr, pitm, iinf, iloc v`iloc_v`, iprp), mdat
    /// with the image item, the Exif item (split in two extents) and an XMP item.
    pub(crate) fn heic(iloc_v: u8) -> Vec<u8> {
        let exif = exif_payload();
        let xmp = b"<x:xmpmeta><exif:GPSLatitude>XMP-SECRET</exif:GPSLatitude></x:xmpmeta>";
        let hevc = [0xaau8; 40];
        let ftyp = bx(b"ftyp", b"heic\0\0\0\0mif1heic");
        let hdlr = full(b"hdlr", 0, 0, b"\0\0\0\0pict\0\0\0\0\0\0\0\0\0\0\0\0\0");
        let pitm = full(b"pitm", 0, 0, &1u16.to_be_bytes());
        let mut iinf_body = 3u16.to_be_bytes().to_vec();
        iinf_body.extend(infe(1, b"hvc1", b""));
        iinf_body.extend(infe(2, b"Exif", b""));
        iinf_body.extend(infe(3, b"mime", b"application/rdf+xml\0"));
        let iinf = full(b"iinf", 0, 0, &iinf_body);
        let ispe = full(b"ispe", 0, 0, &[0, 0, 2, 128, 0, 0, 1, 224]);
        let ipco = bx(b"ipco", &[bx(b"hvcC", &[1, 2, 3]), ispe].concat());
        let ipma = full(b"ipma", 0, 0, &[0, 0, 0, 1, 0, 1, 2, 0x81, 2]);
        let iprp = bx(b"iprp", &[ipco, ipma].concat());
        // iloc with 4-byte offsets and lengths; offsets patched once the layout is known.
        let build = |mdat_at: u32| {
            let mut b = vec![0x44, if iloc_v == 0 { 0x00 } else { 0x04 }];
            if iloc_v < 2 {
                b.extend_from_slice(&3u16.to_be_bytes());
            } else {
                b.extend_from_slice(&3u32.to_be_bytes());
            }
            let exif_at = mdat_at + hevc.len() as u32;
            let xmp_at = exif_at + exif.len() as u32;
            let split = 10u32;
            let items: [(u32, Vec<(u32, u32)>); 3] = [
                (1, vec![(mdat_at, hevc.len() as u32)]),
                (
                    2,
                    vec![
                        (exif_at, split),
                        (exif_at + split, exif.len() as u32 - split),
                    ],
                ),
                (3, vec![(xmp_at, xmp.len() as u32)]),
            ];
            for (id, extents) in items {
                if iloc_v < 2 {
                    b.extend_from_slice(&(id as u16).to_be_bytes());
                } else {
                    b.extend_from_slice(&id.to_be_bytes());
                }
                if iloc_v > 0 {
                    b.extend_from_slice(&0u16.to_be_bytes()); // construction method 0
                }
                b.extend_from_slice(&0u16.to_be_bytes()); // data reference
                b.extend_from_slice(&(extents.len() as u16).to_be_bytes());
                for (o, l) in extents {
                    if iloc_v > 0 {
                        b.extend_from_slice(&0u32.to_be_bytes()); // extent index
                    }
                    b.extend_from_slice(&o.to_be_bytes());
                    b.extend_from_slice(&l.to_be_bytes());
                }
            }
            full(b"iloc", iloc_v, 0, &b)
        };
        let meta_len = |iloc: &[u8]| {
            full(
                b"meta",
                0,
                0,
                &[&hdlr[..], &pitm, &iinf, iloc, &iprp].concat(),
            )
        };
        let probe = meta_len(&build(0));
        let mdat_at = (ftyp.len() + probe.len() + 8) as u32;
        let meta = meta_len(&build(mdat_at));
        let mdat = bx(b"mdat", &[&hevc[..], &exif, xmp].concat());
        [ftyp, meta, mdat].concat()
    }

    fn has(b: &[u8], needle: &[u8]) -> bool {
        b.windows(needle.len()).any(|w| w == needle)
    }

    #[test]
    fn exif_and_xmp_are_blanked_in_place() {
        for v in 0..=2 {
            let file = heic(v);
            assert!(has(&file, b"GPS-SECRET") && has(&file, b"XMP-SECRET"));
            assert_eq!(dimensions(&file), Some((640, 480)), "iloc v{v}");
            let clean = strip(&file).expect("valid").expect("changed");
            assert_eq!(clean.len(), file.len());
            assert!(!has(&clean, b"GPS-SECRET"), "iloc v{v}");
            assert!(!has(&clean, b"XMP-SECRET"), "iloc v{v}");
            assert!(has(&clean, b"Exif\0\0II*\0\x08\0\0\0\0\0\0\0\0\0"));
            assert!(has(&clean, &[0xaa; 40]), "the image data is untouched");
            assert_eq!(dimensions(&clean), Some((640, 480)));
            // Already clean: stripping again changes the bytes no further.
            assert_eq!(strip(&clean).expect("valid").expect("same"), clean);
        }
    }

    #[test]
    fn no_meta_means_nothing_to_remove() {
        let mut f = b"\0\0\0\x18ftypheic\0\0\0\0mif1heic".to_vec();
        f.resize(512, 0);
        assert_eq!(strip(&f), Ok(None));
        assert_eq!(dimensions(&f), None);
    }

    #[test]
    fn malformed_files_are_refused_never_panic() {
        let file = heic(1);
        for n in 0..file.len() {
            let cut = &file[..n];
            // A cut file may still parse (a size-0 box runs to the end), but it must
            // never panic, and never pass with the secret still present.
            if let Ok(Some(c)) = strip(cut) {
                assert!(!has(&c, b"GPS-SECRET"));
            }
            let _ = dimensions(cut);
        }
        // Flip each byte in turn.
        for i in 0..file.len() {
            for x in [0x00, 0xff, 0x01, 0x80] {
                let mut f = file.clone();
                f[i] ^= x;
                let _ = strip(&f);
                let _ = dimensions(&f);
            }
        }
        // Pseudo-random garbage after a valid ftyp.
        let mut seed = 0x1234_5678u32;
        for _ in 0..2000 {
            let mut f = b"\0\0\0\x10ftypheic\0\0\0\0".to_vec();
            for _ in 0..(seed % 200) {
                seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
                f.push((seed >> 16) as u8);
            }
            let _ = strip(&f);
        }
        // An Exif item whose two extents each cover the whole file: refused (more
        // metadata than file), not gathered over and over.
        let mut f = file.clone();
        let at = f.windows(4).position(|w| w == b"iloc").expect("iloc") + 4;
        let exif_at = f.windows(6).rposition(|w| w == b"Exif\0\0").expect("exif") - 4;
        for off in [exif_at as u32, exif_at as u32 + 10] {
            let k = (at..f.len() - 8)
                .find(|&k| f[k..k + 4] == off.to_be_bytes())
                .expect("extent");
            f[k..k + 8].copy_from_slice(&[0; 8]);
        }
        assert!(strip(&f).is_err());
        assert!(strip(b"").is_err());
        assert!(strip(b"\0\0\0\x08ftyp\0\0\0\x01meta").is_err());
        // Exif item without a location: refused.
        let mut f = file.clone();
        let at = f.windows(4).position(|w| w == b"iloc").expect("iloc");
        f[at..at + 4].copy_from_slice(b"xloc");
        assert!(strip(&f).is_err());
        // Handler not `pict`: refused.
        let mut f = file;
        let at = f.windows(4).position(|w| w == b"pict").expect("pict");
        f[at..at + 4].copy_from_slice(b"vide");
        assert!(strip(&f).is_err());
    }
}
