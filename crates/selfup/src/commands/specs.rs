//! `selfup specs list|show`: the capability specifications the LLM wrote
//! for gaps no catalog package closes (proposals for people: nothing is
//! built from them); `selfup notifications`: the delivery log of what the
//! loop told people.

use selfup_store::notifications::DeliveryStatus;

use crate::cli::{NotificationsArgs, SpecsCommand};
use crate::context::Context;
use crate::exit::Exit;
use crate::format::utc_time;
use crate::table::Table;

/// Runs `selfup specs …`.
pub fn run(ctx: &Context, command: &SpecsCommand) -> anyhow::Result<()> {
    let store = ctx.open_store()?;
    match command {
        SpecsCommand::List { json } => {
            let specs = store.capability_specs()?;
            if *json {
                println!("{}", serde_json::to_string_pretty(&specs)?);
                return Ok(());
            }
            if specs.is_empty() {
                println!(
                    "no capability specifications yet (the llm and hybrid engines write them for gaps no catalog package closes)"
                );
                return Ok(());
            }
            let mut table = Table::new(&["id", "written", "name", "gap", "status"]);
            for s in &specs {
                table.row(vec![
                    s.id.to_string(),
                    utc_time(s.created_at_ms),
                    s.name.clone(),
                    s.gap_id.clone(),
                    s.status.clone(),
                ]);
            }
            print!("{}", table.render());
            Ok(())
        }
        SpecsCommand::Show { id, json } => {
            let spec = store
                .capability_specs()?
                .into_iter()
                .find(|s| s.id == *id)
                .ok_or_else(|| {
                    Exit::new(
                        2,
                        format!("there is no specification {id}; see `selfup specs list`"),
                    )
                })?;
            if *json {
                println!("{}", serde_json::to_string_pretty(&spec)?);
                return Ok(());
            }
            let s = &spec.spec;
            println!(
                "specification {}: {} (gap {})",
                spec.id, spec.name, spec.gap_id
            );
            println!("written {} · {}", utc_time(spec.created_at_ms), spec.status);
            println!("\n{}", s["description"].as_str().unwrap_or_default());
            for key in ["input_schema", "output_schema"] {
                println!(
                    "\n{key}:\n{}",
                    serde_json::to_string_pretty(&s[key]).unwrap_or_default()
                );
            }
            println!(
                "\napproach:\n{}",
                s["approach"].as_str().unwrap_or_default()
            );
            for key in ["dependencies", "testing", "security_considerations"] {
                println!("\n{}:", key.replace('_', " "));
                for item in s[key].as_array().into_iter().flatten() {
                    println!("  - {}", item.as_str().unwrap_or_default());
                }
            }
            Ok(())
        }
    }
}

/// Runs `selfup notifications`.
pub fn notifications(ctx: &Context, args: &NotificationsArgs) -> anyhow::Result<()> {
    let store = ctx.open_store()?;
    let status = match args.status.as_deref() {
        Some("pending") => Some(DeliveryStatus::Pending),
        Some("delivered") => Some(DeliveryStatus::Delivered),
        Some("failed") => Some(DeliveryStatus::Failed),
        _ => None,
    };
    let deliveries = store.notification_deliveries(status, args.limit)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&deliveries)?);
        return Ok(());
    }
    if deliveries.is_empty() {
        println!("no notifications sent yet (notifications.channels in the configuration)");
        return Ok(());
    }
    let mut table = Table::new(&[
        "created",
        "event",
        "upgrade",
        "channel",
        "status",
        "attempts",
        "last error",
    ]);
    for d in &deliveries {
        table.row(vec![
            utc_time(d.created_at_ms),
            d.event.clone(),
            d.upgrade_id.map_or("-".to_owned(), |id| id.to_string()),
            format!("{} {}", d.channel_kind, d.destination),
            d.status.as_str().to_owned(),
            d.attempts.to_string(),
            d.last_error.clone().unwrap_or_default(),
        ]);
    }
    print!("{}", table.render());
    Ok(())
}
