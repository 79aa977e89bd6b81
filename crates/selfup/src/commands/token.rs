//! `selfup token create|list|revoke`.

use selfup_core::clock::Clock;
use selfup_store::system_clock::SystemClock;
use selfup_store::tokens::TOKEN_PREFIX;

use crate::cli::TokenCommand;
use crate::context::Context;
use crate::exit::Exit;
use crate::table::Table;

/// A new random token: the prefix and 32 random bytes in hex.
pub fn new_token() -> anyhow::Result<String> {
    let mut secret = [0u8; 32];
    getrandom::fill(&mut secret)
        .map_err(|e| Exit::new(1, format!("no randomness available for the token: {e}")))?;
    Ok(format!("{TOKEN_PREFIX}{}", hex::encode(secret)))
}

/// Runs a token command.
pub fn run(ctx: &Context, command: &TokenCommand) -> anyhow::Result<()> {
    let store = ctx.open_store()?;
    match command {
        TokenCommand::Create { name } => {
            let token = new_token()?;
            let id = store.create_token(name, &token, SystemClock.now_ms())?;
            eprintln!(
                "token {id} ({name}) created; it is shown once — keep it, only its hash is stored:"
            );
            println!("{token}");
        }
        TokenCommand::List { json } => {
            let tokens = store.tokens()?;
            if *json {
                println!("{}", serde_json::to_string_pretty(&tokens)?);
            } else if tokens.is_empty() {
                println!("no tokens; create one with `selfup token create`");
            } else {
                let mut table = Table::new(&[">ID", "NAME", "CREATED (UTC)", "STATE"]);
                for t in tokens {
                    table.row(vec![
                        t.id.to_string(),
                        t.name,
                        crate::format::utc_time(t.created_at_ms),
                        t.revoked_at_ms
                            .map_or("live".to_owned(), |_| "revoked".to_owned()),
                    ]);
                }
                print!("{}", table.render());
            }
        }
        TokenCommand::Revoke { id } => {
            if store.revoke_token(*id, SystemClock.now_ms())? {
                println!("token {id} revoked");
            } else {
                return Err(Exit::new(
                    2,
                    format!("there is no live token {id}; see `selfup token list`"),
                )
                .into());
            }
        }
    }
    Ok(())
}
