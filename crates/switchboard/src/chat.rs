//! `switchboard chat`: the terminal client (owned by the SDK/CLI work; placeholder).
#[derive(clap::Args)]
pub struct ChatArgs {}
pub async fn run(_args: ChatArgs) -> anyhow::Result<()> {
    anyhow::bail!("not yet")
}
