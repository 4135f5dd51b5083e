//! Video and audio through `ffprobe` and `ffmpeg` when they are installed: duration,
//! dimensions and a poster thumbnail. Without them (or on any failure) the answers are
//! simply absent; an upload never fails because probing did.

use std::path::Path;
use std::process::Stdio;
use std::sync::OnceLock;
use std::time::Duration;

use serde::Deserialize;
use tokio::process::Command;

const TIMEOUT: Duration = Duration::from_secs(30);

/// What `ffprobe` found.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AvInfo {
    pub duration_ms: Option<u64>,
    pub width: Option<u32>,
    pub height: Option<u32>,
}

/// Whether `ffprobe` and `ffmpeg` can be run (checked once per process).
pub fn available() -> bool {
    static AVAILABLE: OnceLock<bool> = OnceLock::new();
    *AVAILABLE.get_or_init(|| {
        ["ffprobe", "ffmpeg"].iter().all(|bin| {
            std::process::Command::new(bin)
                .arg("-version")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        })
    })
}

async fn run(cmd: &mut Command) -> Option<Vec<u8>> {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true);
    let out = tokio::time::timeout(TIMEOUT, cmd.output())
        .await
        .ok()?
        .ok()?;
    out.status.success().then_some(out.stdout)
}

#[derive(Deserialize)]
struct Probe {
    #[serde(default)]
    streams: Vec<Stream>,
    format: Option<Format>,
}

#[derive(Deserialize)]
struct Stream {
    codec_type: Option<String>,
    width: Option<u32>,
    height: Option<u32>,
    duration: Option<String>,
}

#[derive(Deserialize)]
struct Format {
    duration: Option<String>,
}

fn seconds_to_ms(s: &str) -> Option<u64> {
    let secs: f64 = s.trim().parse().ok()?;
    (secs.is_finite() && secs >= 0.0).then(|| (secs * 1000.0).round() as u64)
}

/// Parses `ffprobe -print_format json -show_format -show_streams` output.
pub fn parse_probe(json: &[u8]) -> Option<AvInfo> {
    let p: Probe = serde_json::from_slice(json).ok()?;
    let video = p
        .streams
        .iter()
        .find(|s| s.codec_type.as_deref() == Some("video"));
    let duration_ms = p
        .format
        .and_then(|f| f.duration)
        .or_else(|| p.streams.iter().find_map(|s| s.duration.clone()))
        .and_then(|d| seconds_to_ms(&d));
    Some(AvInfo {
        duration_ms,
        width: video.and_then(|v| v.width),
        height: video.and_then(|v| v.height),
    })
}

/// Duration and dimensions of a video or audio file, if `ffprobe` can tell.
pub async fn probe(path: &Path) -> Option<AvInfo> {
    if !available() {
        return None;
    }
    let out = run(Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-print_format",
            "json",
            "-show_format",
            "-show_streams",
        ])
        .arg(path))
    .await?;
    parse_probe(&out)
}

/// A JPEG poster frame at most 320 pixels wide, if `ffmpeg` can make one.
pub async fn poster(path: &Path) -> Option<Vec<u8>> {
    if !available() {
        return None;
    }
    let out = run(Command::new("ffmpeg")
        .args(["-v", "error", "-nostdin", "-i"])
        .arg(path)
        .args([
            "-frames:v",
            "1",
            "-vf",
            "scale='min(320,iw)':-2",
            "-f",
            "image2pipe",
            "-c:v",
            "mjpeg",
            "-q:v",
            "5",
            "-",
        ]))
    .await?;
    (out.starts_with(&[0xff, 0xd8])).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_ffprobe_json() {
        let json = br#"{"streams":[{"codec_type":"audio","duration":"1.5"},{"codec_type":"video","width":320,"height":240}],"format":{"duration":"2.040000"}}"#;
        assert_eq!(
            parse_probe(json),
            Some(AvInfo {
                duration_ms: Some(2040),
                width: Some(320),
                height: Some(240)
            })
        );
        let audio = br#"{"streams":[{"codec_type":"audio","duration":"0.5"}]}"#;
        assert_eq!(
            parse_probe(audio),
            Some(AvInfo {
                duration_ms: Some(500),
                width: None,
                height: None
            })
        );
        assert_eq!(parse_probe(b"garbage"), None);
    }
}
