//! `selfup specs list|show`: the capability specifications the LLM wrote
//! for gaps no catalog package closes (proposals for people: nothing is
//! built from them).

use crate::cli::SpecsCommand;
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
