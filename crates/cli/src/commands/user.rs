//! `trailmap user create|list`: accounts of the web app from the command line, e.g. the first owner
//! on a server without a browser at hand. The password comes from standard input
//! (`--password-stdin`, what scripts and tests use) or from a prompt that does not echo.

use crate::output::{Format, Output};
use anyhow::{Context, bail};
use std::io::{BufRead, IsTerminal, Write};
use trailmap_app::App;
use trailmap_model::{Role, Timestamp};

#[derive(Debug, clap::Subcommand)]
pub enum UserCommand {
    /// Create an account. The first account becomes owner of every business in the store unless
    /// --business says otherwise; --business (global) with --role adds a membership.
    Create {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
        /// The role in the business named by --business.
        #[arg(long, default_value = "owner", value_parser = parse_role)]
        role: Role,
    },
    /// List the accounts with their businesses and roles.
    List,
    /// Issue a one-time link (valid a day) that sets a new password for EMAIL; using it ends their sessions.
    ResetPassword {
        email: String,
        /// The server's address the link starts with, such as https://stats.example.com.
        #[arg(long, default_value = "http://127.0.0.1:8080")]
        base_url: String,
    },
}

fn parse_role(text: &str) -> Result<Role, String> {
    Role::parse(text).ok_or_else(|| format!("{text:?} is not owner, editor or viewer"))
}

/// The wall clock as the app's timestamp (the app takes "now" as an argument).
pub(crate) fn now() -> Timestamp {
    Timestamp::from_millis(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX)),
    )
}

/// The password from standard input: the first line when piped, or typed at a prompt with echo
/// turned off (by `stty`, so no extra dependency) when it is a terminal.
fn read_password(from_stdin: bool) -> anyhow::Result<String> {
    let stdin = std::io::stdin();
    let terminal = stdin.is_terminal();
    if !from_stdin && !terminal {
        bail!("no password: pass --password-stdin and send it on standard input, or run in a terminal to be prompted");
    }
    let hide = terminal && !from_stdin;
    if hide {
        eprint!("Password: ");
        let _ = std::io::stderr().flush();
        let _ = std::process::Command::new("stty").arg("-echo").stdin(std::process::Stdio::inherit()).status();
    }
    let mut line = String::new();
    let read = stdin.lock().read_line(&mut line);
    if hide {
        let _ = std::process::Command::new("stty").arg("echo").stdin(std::process::Stdio::inherit()).status();
        eprintln!();
    }
    read.context("reading the password from standard input")?;
    let password = line.trim_end_matches(['\r', '\n']).to_string();
    if password.is_empty() {
        bail!("the password is empty");
    }
    Ok(password)
}

pub fn run(app: &mut App, business: Option<&str>, command: UserCommand, format: Format, out: &mut dyn Write) -> anyhow::Result<()> {
    match command {
        UserCommand::Create { email, name, password_stdin, role } => {
            let password = read_password(password_stdin)?;
            // Resolve the business first, so a wrong name creates nothing.
            let target = business.map(|name| app.business(Some(name))).transpose()?;
            let first = app.user_count()? == 0;
            let user = app.create_user(&email, &name, &password, now())?;
            let mut joined = Vec::new();
            match target {
                Some(b) => {
                    app.set_member(b.id, user.id, role)?;
                    joined.push(format!("{} ({role})", b.name));
                }
                None if first => {
                    for b in app.adopt_unowned_businesses(user.id)? {
                        joined.push(format!("{} (owner)", b.name));
                    }
                }
                None => {}
            }
            let value = serde_json::json!({
                "id": user.id, "email": user.email, "name": user.name, "businesses": joined.join(", "),
            });
            Output::key_values(&value)?.with_title("Created").print(format, out)?;
            if joined.is_empty() && format == Format::Table {
                writeln!(out, "Not a member of any business yet: add one with --business NAME --role ROLE, or invite them from the web app.")?;
            }
            Ok(())
        }
        UserCommand::ResetPassword { email, base_url } => {
            let user = app.user_by_email(&email)?.ok_or_else(|| anyhow::anyhow!("no account has the email {email:?}; `trailmap user list` shows them"))?;
            let reset = app.issue_password_reset(None, user.id, now())?;
            let link = format!("{}{}", base_url.trim_end_matches('/'), reset.path());
            let json = serde_json::json!({ "email": reset.user.email, "link": link, "expires": reset.expires.to_rfc3339() });
            match format {
                Format::Table => {
                    writeln!(out, "A one-time link that sets a new password for {} (it works until {}; using it signs them out everywhere):", reset.user.email, reset.expires.to_rfc3339())?;
                    writeln!(out, "{link}")?;
                    Ok(())
                }
                _ => Output::new(&["email", "link", "expires"], vec![vec![reset.user.email.clone(), link.clone(), reset.expires.to_rfc3339()]], &json)?.print(format, out),
            }
        }
        UserCommand::List => {
            let mut rows = Vec::new();
            let mut json = Vec::new();
            for user in app.users()? {
                let memberships = app.memberships(user.id)?;
                let listed = memberships.iter().map(|m| format!("{} ({})", m.business.name, m.role)).collect::<Vec<_>>().join(", ");
                rows.push(vec![user.id.to_string(), user.email.clone(), user.name.clone(), user.created.to_rfc3339(), listed]);
                json.push(serde_json::json!({
                    "id": user.id, "email": user.email, "name": user.name, "created": user.created.to_rfc3339(),
                    "businesses": memberships.iter().map(|m| serde_json::json!({"id": m.business.id, "name": m.business.name, "role": m.role})).collect::<Vec<_>>(),
                }));
            }
            Output::new(&["id", "email", "name", "created", "businesses"], rows, &json)?.print(format, out)
        }
    }
}
