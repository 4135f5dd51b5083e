//! Configuration, read once at start: defaults < TOML file < `SWITCHBOARD_*`
//! environment < command-line flags. Validated here, so the rest of the server works
//! with typed, checked values.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The settings a TOML file may hold. Every field is optional in the file; missing
/// ones take the default. Unknown keys are refused, so a typo does not go unnoticed.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub listen: Option<String>,
    pub data_dir: Option<PathBuf>,
    /// Where media blobs live; default `<data_dir>/media`. Nodes of one cluster
    /// (`database` set) must share it (a shared filesystem) unless blobs are in S3.
    pub media_dir: Option<PathBuf>,
    pub dev: Option<bool>,
    pub demo: Option<bool>,
    pub admin_token: Option<String>,
    /// PostgreSQL connection string; unset: the embedded store in `data_dir`.
    pub database: Option<String>,
    /// NATS URL for fan-out between nodes; unset: in-process fan-out (one node).
    pub bus: Option<String>,
    /// Prefix of the per-user NATS subjects (deployments sharing one NATS differ here).
    pub bus_subject_prefix: Option<String>,
    #[serde(default)]
    pub limits: FileLimits,
    #[serde(default)]
    pub sms: FileSms,
    #[serde(default)]
    pub media: FileMedia,
    #[serde(default)]
    pub business: FileBusiness,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FileBusiness {
    /// The address clients reach this server at, e.g. `https://chat.example.com`;
    /// media URLs of the business API are absolute and start with it. Unset: taken
    /// from the request's `Host` header (fine behind a proxy that keeps it).
    pub public_url: Option<String>,
    /// Allow webhook URLs on loopback and private networks (always allowed in dev mode).
    pub allow_private_webhooks: Option<bool>,
    /// Messages per second a business number may send unless the admin sets another.
    pub default_mps: Option<u32>,
    /// The price table (per category and calling code, in micros); unset: the
    /// shipped default table.
    pub prices: Option<switchboard_business::pricing::PriceTable>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FileMedia {
    /// Keep media blobs in this S3 bucket instead of `media_dir` (a build with
    /// feature `s3`; credentials and region from the standard `AWS_*` variables).
    pub s3_bucket: Option<String>,
    /// Prefix of the object keys in the bucket.
    pub s3_prefix: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FileLimits {
    pub registrations_per_phone_per_hour: Option<u32>,
    pub registrations_per_address_per_hour: Option<u32>,
    pub max_connections: Option<usize>,
    pub outbox_frames: Option<usize>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FileSms {
    /// An HTTP endpoint that receives `{"phone", "code"}` as JSON and sends the SMS.
    pub hook_url: Option<String>,
}

/// Values given on the command line or in the environment (clap reads both; flags win).
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub listen: Option<String>,
    pub database: Option<String>,
    pub bus: Option<String>,
    pub data_dir: Option<PathBuf>,
    pub media_dir: Option<PathBuf>,
    /// `SWITCHBOARD_MEDIA_S3_BUCKET` / `--media-s3-bucket`; empty: the filesystem.
    pub media_s3_bucket: Option<String>,
    pub media_s3_prefix: Option<String>,
    pub dev: bool,
    pub demo: bool,
    pub admin_token: Option<String>,
}

/// The validated configuration the server runs with.
#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    /// Media blobs on the local filesystem (`<data_dir>/media` unless set).
    pub media_dir: PathBuf,
    /// Media blobs in this S3 bucket instead of `media_dir` (feature `s3`).
    pub media_s3_bucket: Option<String>,
    /// Prefix of the media object keys in the S3 bucket.
    pub media_s3_prefix: String,
    /// Dev mode: verification codes are returned as `dev_code`; limits are roomy.
    pub dev: bool,
    /// Seed demo users and chats at start.
    pub demo: bool,
    /// The platform admin token; `None` disables the admin API.
    pub admin_token: Option<String>,
    /// PostgreSQL instead of the embedded store (scale-out).
    pub database: Option<String>,
    /// NATS instead of in-process fan-out (scale-out).
    pub bus: Option<String>,
    pub bus_subject_prefix: String,
    pub registrations_per_phone_per_hour: u32,
    pub registrations_per_address_per_hour: u32,
    /// WebSocket connections held at once; more are refused with 503.
    pub max_connections: usize,
    /// Frames queued for one connection before it counts as a slow consumer.
    pub outbox_frames: usize,
    pub sms_hook_url: Option<String>,
    /// Business API: see `FileBusiness`.
    pub public_url: Option<String>,
    pub allow_private_webhooks: bool,
    pub default_mps: u32,
    pub prices: switchboard_business::pricing::PriceTable,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config file {path} is not valid: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("invalid {name} {value:?}: {hint}")]
    Invalid {
        name: &'static str,
        value: String,
        hint: &'static str,
    },
    #[error("invalid business.prices: {0}")]
    Prices(String),
}

pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
pub const DEFAULT_DATA_DIR: &str = "./switchboard-data";

impl Config {
    /// Reads the optional TOML file, applies the overrides and validates the result.
    pub fn load(file: Option<&Path>, o: Overrides) -> Result<Config, ConfigError> {
        let fc = match file {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                    path: path.to_owned(),
                    source,
                })?;
                toml::from_str::<FileConfig>(&text).map_err(|e| ConfigError::Parse {
                    path: path.to_owned(),
                    message: e.to_string(),
                })?
            }
            None => FileConfig::default(),
        };
        Config::resolve(fc, o)
    }

    /// Merges file values and overrides over the defaults.
    pub fn resolve(fc: FileConfig, o: Overrides) -> Result<Config, ConfigError> {
        let listen_text = o
            .listen
            .or(fc.listen)
            .unwrap_or_else(|| DEFAULT_LISTEN.to_owned());
        let listen = listen_text
            .parse::<SocketAddr>()
            .map_err(|_| ConfigError::Invalid {
                name: "listen",
                value: listen_text.clone(),
                hint: "expected IP:PORT, e.g. 127.0.0.1:8080",
            })?;
        let demo = o.demo || fc.demo.unwrap_or(false);
        // Demo users log in with dev codes, so demo data implies dev mode.
        let dev = o.dev || fc.dev.unwrap_or(false) || demo;
        let admin_token = o.admin_token.or(fc.admin_token).filter(|t| !t.is_empty());
        if let Some(t) = &admin_token
            && t.len() < 16
        {
            return Err(ConfigError::Invalid {
                name: "admin_token",
                value: "<hidden>".into(),
                hint: "use at least 16 characters",
            });
        }
        let l = fc.limits;
        let data_dir = o
            .data_dir
            .or(fc.data_dir)
            .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR));
        let config = Config {
            listen,
            media_dir: o
                .media_dir
                .or(fc.media_dir)
                .filter(|d| !d.as_os_str().is_empty())
                .unwrap_or_else(|| data_dir.join("media")),
            media_s3_bucket: o
                .media_s3_bucket
                .or(fc.media.s3_bucket)
                .filter(|b| !b.is_empty()),
            media_s3_prefix: o.media_s3_prefix.or(fc.media.s3_prefix).unwrap_or_default(),
            data_dir,
            dev,
            demo,
            admin_token,
            database: o.database.or(fc.database).filter(|d| !d.is_empty()),
            bus: o.bus.or(fc.bus).filter(|b| !b.is_empty()),
            bus_subject_prefix: fc.bus_subject_prefix.unwrap_or_else(|| "sb.u".to_owned()),
            registrations_per_phone_per_hour: l
                .registrations_per_phone_per_hour
                .unwrap_or(if dev { 1000 } else { 5 }),
            registrations_per_address_per_hour: l
                .registrations_per_address_per_hour
                .unwrap_or(if dev { 100_000 } else { 30 }),
            max_connections: l.max_connections.unwrap_or(200_000),
            outbox_frames: l.outbox_frames.unwrap_or(1024),
            sms_hook_url: fc.sms.hook_url,
            public_url: fc
                .business
                .public_url
                .map(|u| u.trim_end_matches('/').to_owned())
                .filter(|u| !u.is_empty()),
            allow_private_webhooks: dev || fc.business.allow_private_webhooks.unwrap_or(false),
            default_mps: fc
                .business
                .default_mps
                .unwrap_or(switchboard_business::policy::DEFAULT_MPS),
            prices: fc.business.prices.unwrap_or_default(),
        };
        config.prices.validate().map_err(ConfigError::Prices)?;
        if config.default_mps == 0 {
            return Err(ConfigError::Invalid {
                name: "business.default_mps",
                value: "0".into(),
                hint: "must be at least 1",
            });
        }
        if let Some(url) = &config.public_url
            && !(url.starts_with("http://") || url.starts_with("https://"))
        {
            return Err(ConfigError::Invalid {
                name: "business.public_url",
                value: url.clone(),
                hint: "expected an http:// or https:// URL",
            });
        }
        if config.max_connections == 0 {
            return Err(ConfigError::Invalid {
                name: "limits.max_connections",
                value: "0".into(),
                hint: "must be at least 1",
            });
        }
        if !(16..=1_000_000).contains(&config.outbox_frames) {
            return Err(ConfigError::Invalid {
                name: "limits.outbox_frames",
                value: config.outbox_frames.to_string(),
                hint: "must be between 16 and 1000000",
            });
        }
        if let Some(url) = &config.bus
            && !url.starts_with("nats://")
        {
            return Err(ConfigError::Invalid {
                name: "bus",
                value: url.clone(),
                hint: "expected a nats:// URL, e.g. nats://127.0.0.1:4222",
            });
        }
        if config.bus_subject_prefix.is_empty()
            || !config
                .bus_subject_prefix
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_' || b == b'-')
        {
            return Err(ConfigError::Invalid {
                name: "bus_subject_prefix",
                value: config.bus_subject_prefix.clone(),
                hint: "use letters, digits, '.', '_' or '-'",
            });
        }
        if let Some(url) = &config.sms_hook_url
            && !(url.starts_with("http://") || url.starts_with("https://"))
        {
            return Err(ConfigError::Invalid {
                name: "sms.hook_url",
                value: url.clone(),
                hint: "expected an http:// or https:// URL",
            });
        }
        Ok(config)
    }

    /// A configuration for tests: dev mode, ephemeral port, the given data directory.
    pub fn for_tests(data_dir: &Path) -> Config {
        let mut c = Config::resolve(
            FileConfig::default(),
            Overrides {
                listen: Some("127.0.0.1:0".into()),
                data_dir: Some(data_dir.to_owned()),
                dev: true,
                ..Overrides::default()
            },
        )
        .expect("the test configuration is valid");
        c.admin_token = Some("test-admin-token-0123456789".into());
        c
    }
}

/// The example config file shipped in the repository (`config/switchboard.example.toml`),
/// generated from the defaults so a test can tell when the file is stale.
pub fn example_toml() -> String {
    format!(
        r#"# Switchboard server configuration (all keys optional).
# Precedence: defaults < this file < SWITCHBOARD_* environment < command-line flags.

# Address to listen on.
listen = "{DEFAULT_LISTEN}"
# Where the embedded store keeps its files.
data_dir = "{DEFAULT_DATA_DIR}"
# Where media blobs are kept (default: <data_dir>/media). Every node of a cluster
# (database set) must see the same blobs: mount one shared filesystem here on every
# node, or keep blobs in S3 ([media] s3_bucket, a build with feature s3).
# media_dir = "/srv/switchboard-media"
# Dev mode: verification codes are returned in the API as `dev_code`.
dev = false
# Seed demo users and chats at start (implies dev mode).
demo = false
# Platform admin token (at least 16 characters); better set SWITCHBOARD_ADMIN_TOKEN.
# admin_token = "..."
# Scale-out: PostgreSQL for state and NATS for fan-out, shared by every node.
# Unset: the embedded store in data_dir and in-process fan-out (one node).
# database = "postgres://switchboard@db.internal/switchboard"
# bus = "nats://nats.internal:4222"
# Prefix of the per-user NATS subjects.
bus_subject_prefix = "sb.u"

[limits]
# Registrations per phone number per hour (dev mode default: 1000).
registrations_per_phone_per_hour = 5
# Registrations per client address per hour (dev mode default: 100000).
registrations_per_address_per_hour = 30
# WebSocket connections held at once.
max_connections = 200000
# Frames queued for one connection before it is closed as a slow consumer.
outbox_frames = 1024

[media]
# Keep media blobs in an S3 bucket instead of media_dir (needs a build with feature s3;
# credentials and region from the standard AWS_* variables). Overridden by
# SWITCHBOARD_MEDIA_S3_BUCKET and SWITCHBOARD_MEDIA_S3_PREFIX.
# s3_bucket = "switchboard-media"
# s3_prefix = "prod/"

[sms]
# Receives POST {{"phone", "code"}} and sends the SMS. Required outside dev mode.
# hook_url = "https://sms.example.com/send"

[business]
# The address clients reach this server at; the business API's media URLs start with
# it. Unset: taken from each request's Host header.
# public_url = "https://chat.example.com"
# Allow webhook URLs on loopback and private networks (always allowed in dev mode).
allow_private_webhooks = false
# Messages per second a business number may send unless the admin sets another rate.
default_mps = 80
# The price table in micros (millionths of the currency unit) per category, with
# per-calling-code overrides. Unset: the shipped default table.
# [business.prices]
# currency = "USD"
# default = {{ marketing = 25000, utility = 4000, authentication = 4000, authentication_international = 30000 }}
# [business.prices.countries]
# "49" = {{ marketing = 136500, utility = 49900, authentication = 49900, authentication_international = 49900 }}
"#
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn example_file_is_current_and_valid() {
        let path =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config/switchboard.example.toml");
        let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
        if on_disk != example_toml() {
            if std::env::var_os("UPDATE_EXAMPLES").is_some() {
                std::fs::write(&path, example_toml()).expect("write the example config");
            } else {
                panic!(
                    "{} is stale; run the tests with UPDATE_EXAMPLES=1 to regenerate it",
                    path.display()
                );
            }
        }
        let fc: FileConfig = toml::from_str(&example_toml()).expect("the example parses");
        let c = Config::resolve(fc, Overrides::default()).expect("the example is valid");
        assert_eq!(c.listen.to_string(), DEFAULT_LISTEN);
        assert_eq!(c.registrations_per_phone_per_hour, 5);
    }

    #[test]
    fn precedence_and_validation() {
        let fc: FileConfig = toml::from_str("listen = \"127.0.0.1:9000\"\ndev = true").unwrap();
        let c = Config::resolve(fc.clone(), Overrides::default()).unwrap();
        assert_eq!(c.listen.port(), 9000);
        assert!(c.dev);
        let c = Config::resolve(
            fc,
            Overrides {
                listen: Some("127.0.0.1:9001".into()),
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(c.listen.port(), 9001);
        assert!(toml::from_str::<FileConfig>("lissten = 1").is_err());
        let bad = Config::resolve(
            FileConfig::default(),
            Overrides {
                listen: Some("nope".into()),
                ..Default::default()
            },
        );
        assert!(matches!(
            bad,
            Err(ConfigError::Invalid { name: "listen", .. })
        ));
        let demo = Config::resolve(
            FileConfig::default(),
            Overrides {
                demo: true,
                ..Default::default()
            },
        )
        .unwrap();
        assert!(demo.dev);
    }

    #[test]
    fn media_s3_from_file_with_environment_overrides() {
        let fc: FileConfig =
            toml::from_str("[media]\ns3_bucket = \"b1\"\ns3_prefix = \"p/\"").unwrap();
        let c = Config::resolve(fc.clone(), Overrides::default()).unwrap();
        assert_eq!(c.media_s3_bucket.as_deref(), Some("b1"));
        assert_eq!(c.media_s3_prefix, "p/");
        let c = Config::resolve(
            fc.clone(),
            Overrides {
                media_s3_bucket: Some("b2".into()),
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(
            (c.media_s3_bucket.as_deref(), c.media_s3_prefix.as_str()),
            (Some("b2"), "p/")
        );
        // An empty override turns S3 off.
        let c = Config::resolve(
            fc,
            Overrides {
                media_s3_bucket: Some(String::new()),
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(c.media_s3_bucket, None);
        let c = Config::resolve(FileConfig::default(), Overrides::default()).unwrap();
        assert_eq!((c.media_s3_bucket, c.media_s3_prefix.as_str()), (None, ""));
        assert!(toml::from_str::<FileConfig>("[media]\ns3_buckt = \"x\"").is_err());
    }
}
