//! `selfup stats …`: the statistics calculator.

use std::fmt::Display;
use std::path::Path;

use anyhow::Context as _;
use selfup_stats::calculator::{self, CalcError, PowerArgs};
use serde::Serialize;

use crate::cli::StatsCommand;
use crate::exit::Exit;

/// Runs one calculator command.
pub fn run(command: &StatsCommand) -> anyhow::Result<()> {
    match command {
        StatsCommand::Ztest {
            a,
            b,
            unpooled,
            alpha,
            json,
        } => print(calculator::ztest(a, b, !unpooled, *alpha), *json),
        StatsCommand::Welch { a, b, alpha, json } => {
            print(calculator::welch_test(a, b, *alpha), *json)
        }
        StatsCommand::Mannwhitney { a, b, alpha, json } => {
            let (a_text, b_text) = (read(a)?, read(b)?);
            let (a_name, b_name) = (a.display().to_string(), b.display().to_string());
            print(
                calculator::mannwhitney(&a_name, &a_text, &b_name, &b_text, *alpha),
                *json,
            )
        }
        StatsCommand::Srm {
            counts,
            weights,
            json,
        } => print(calculator::srm(counts, weights), *json),
        StatsCommand::Power {
            baseline,
            sd,
            effect,
            n,
            alpha,
            power,
            sequential,
            json,
        } => print(
            calculator::power(PowerArgs {
                baseline: *baseline,
                sd: *sd,
                effect: *effect,
                n: *n,
                alpha: *alpha,
                power: *power,
                sequential: *sequential,
            }),
            *json,
        ),
        StatsCommand::Hash {
            seed,
            subject,
            weights,
            coverage,
            json,
        } => print(
            calculator::hash(seed, subject, weights.as_deref(), *coverage),
            *json,
        ),
    }
}

fn read(path: &Path) -> anyhow::Result<String> {
    std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the sample file {}", path.display()))
}

fn print<T: Serialize + Display>(result: Result<T, CalcError>, json: bool) -> anyhow::Result<()> {
    let output = result.map_err(|e| Exit::new(2, e.to_string()))?;
    if json {
        println!("{}", serde_json::to_string_pretty(&output)?);
    } else {
        println!("{output}");
    }
    Ok(())
}
