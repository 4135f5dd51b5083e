//! `switchboard biz verification …`: apply for the verified badge, see where the
//! application stands (a rejection's reason included), and rename the business
//! (held for review when the name resembles a verified business's).

use serde_json::{Value, json};
use switchboard_client::Method;

use super::Ctx;

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Subcommand)]
enum Command {
    /// The verification status and the latest application.
    Status,
    /// Apply for verification (owner).
    Apply {
        #[arg(long)]
        legal_name: String,
        #[arg(long)]
        registration_number: String,
        /// ISO 3166-1 alpha-2 country code (DE, FR, US, …).
        #[arg(long)]
        country: String,
        #[arg(long)]
        address: String,
        #[arg(long)]
        website: Option<String>,
        /// Media ids of uploaded documents (up to 5; repeatable).
        #[arg(long = "document")]
        documents: Vec<String>,
    },
    /// Rename the business (owner); may be held for an admin's review.
    Rename { name: String },
    /// The business's name and its latest name review.
    Name,
}

pub async fn run(ctx: &Ctx, args: Args) -> anyhow::Result<()> {
    match args.command {
        Command::Status => {
            let v = ctx.call(Method::GET, "/verification", None).await?;
            ctx.print(&v, status_text);
        }
        Command::Apply {
            legal_name,
            registration_number,
            country,
            address,
            website,
            documents,
        } => {
            let mut body = json!({
                "legal_name": legal_name,
                "registration_number": registration_number,
                "country": country,
                "address": address,
                "document_media_ids": documents,
            });
            if let Some(w) = website {
                body["website"] = json!(w);
            }
            let v = ctx.call(Method::POST, "/verification", Some(body)).await?;
            ctx.print(&v, |_| "applied; the application waits for review".into());
        }
        Command::Rename { name } => {
            let v = ctx
                .call(Method::PUT, "/name", Some(json!({ "name": name })))
                .await?;
            ctx.print(&v, name_text);
        }
        Command::Name => {
            let v = ctx.call(Method::GET, "/name", None).await?;
            ctx.print(&v, name_text);
        }
    }
    Ok(())
}

fn status_text(v: &Value) -> String {
    let mut out = format!(
        "verification: {}",
        v["verification"].as_str().unwrap_or("?")
    );
    if let Some(r) = v["reason"].as_str() {
        out.push_str(&format!("\nreason: {r}"));
    }
    if let Some(at) = v["application"]["submitted_at"].as_i64() {
        out.push_str(&format!(
            "\nlatest application: {} (submitted at {at} ms)",
            v["application"]["status"].as_str().unwrap_or("?")
        ));
    }
    out
}

fn name_text(v: &Value) -> String {
    let mut out = format!("name: {}", v["name"].as_str().unwrap_or("?"));
    let review = &v["review"];
    if let Some(status) = review["status"].as_str() {
        out.push_str(&format!(
            "\nrequested {:?}: {status}",
            review["requested"].as_str().unwrap_or("?")
        ));
        if let Some(similar) = review["similar_to"]["name"].as_str() {
            out.push_str(&format!(" (resembles the verified {similar:?})"));
        }
        if let Some(reason) = review["reason"].as_str() {
            out.push_str(&format!("\nreason: {reason}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn arguments_are_consistent() {
        use clap::{CommandFactory, Parser};
        #[derive(Parser)]
        struct Cli {
            #[command(flatten)]
            args: super::Args,
        }
        Cli::command().debug_assert();
        let apply = [
            "x",
            "apply",
            "--legal-name",
            "A GmbH",
            "--registration-number",
            "HRB 1",
            "--country",
            "DE",
            "--address",
            "Street 1",
            "--document",
            "m1",
            "--document",
            "m2",
        ];
        assert!(Cli::try_parse_from(apply).is_ok());
        assert!(Cli::try_parse_from(["x", "apply"]).is_err());
    }
}
