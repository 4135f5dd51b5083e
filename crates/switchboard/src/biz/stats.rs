//! `switchboard biz stats`: the business's daily statistics as a table, JSON, or the
//! CSV export.

use serde_json::Value;
use switchboard_client::Method;

use super::Ctx;

#[derive(clap::Args)]
pub struct Args {
    /// First day, `YYYY-MM-DD` (default: 29 days before `--to`).
    #[arg(long)]
    from: Option<String>,
    /// Last day, `YYYY-MM-DD` (default: today in the business's time zone).
    #[arg(long)]
    to: Option<String>,
    /// Print the CSV export (or write it to `--out`).
    #[arg(long)]
    csv: bool,
    /// With `--csv`: the file to write.
    #[arg(long, requires = "csv")]
    out: Option<std::path::PathBuf>,
}

fn query(args: &Args) -> String {
    let parts: Vec<String> = [("from", &args.from), ("to", &args.to)]
        .iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}={v}")))
        .collect();
    if parts.is_empty() {
        String::new()
    } else {
        format!("?{}", parts.join("&"))
    }
}

fn opt(v: &Value) -> String {
    v.as_i64()
        .map(|n| n.to_string())
        .unwrap_or_else(|| "-".into())
}

fn row(date: &str, f: &Value) -> String {
    format!(
        "{date:<10}  {:>6} {:>9} {:>6} {:>8}  {:>5} {:>12}  {:>5} {:>12}",
        f["sent"],
        f["delivered"],
        f["read"],
        f["received"],
        f["first_responses"],
        opt(&f["avg_first_response_ms"]),
        f["resolutions"],
        opt(&f["avg_resolution_ms"]),
    )
}

fn table(v: &Value) -> String {
    let mut out = vec![format!(
        "{:<10}  {:>6} {:>9} {:>6} {:>8}  {:>5} {:>12}  {:>5} {:>12}",
        "date",
        "sent",
        "delivered",
        "read",
        "received",
        "first",
        "avg first ms",
        "resol",
        "avg resol ms"
    )];
    for d in v["days"].as_array().into_iter().flatten() {
        out.push(row(d["date"].as_str().unwrap_or(""), d));
    }
    out.push(row("total", &v["totals"]));
    out.join("\n")
}

pub async fn run(ctx: &Ctx, args: Args) -> anyhow::Result<()> {
    let q = query(&args);
    if args.csv {
        let (bytes, _) = ctx
            .client
            .bytes(&format!("/v1/biz/{}/stats.csv{q}", ctx.waba_id))
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        match &args.out {
            Some(path) => {
                std::fs::write(path, &bytes)
                    .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
                println!("wrote {}", path.display());
            }
            None => print!("{}", String::from_utf8_lossy(&bytes)),
        }
        return Ok(());
    }
    let v = ctx.call(Method::GET, &format!("/stats{q}"), None).await?;
    ctx.print(&v, table);
    Ok(())
}
