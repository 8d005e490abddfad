//! The interactive SQL shell: reads statements (multi-line, ending with `;`) with history,
//! runs them on the engine, prints results as tables, and streams push-query rows until the
//! query's LIMIT or Ctrl-C.
//!
//! `remote.rs` runs the same shell against a server's HTTP API (`brook shell --server`).
//!
//! May import: `engine`, `http` (its client) and below.

pub mod remote;
pub mod render;

use crate::engine::{Engine, StatementResult};
use crate::exec::MemoryProcessingLog;
use crate::sql::split_statements;
use rustyline::DefaultEditor;
use rustyline::error::ReadlineError;
use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Set by Ctrl-C while a push query is streaming.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

pub struct ReplOptions {
    pub history: Option<PathBuf>,
}

/// Runs the shell on `engine` until EOF (Ctrl-D) or `exit`.
pub fn run(engine: Arc<Mutex<Engine>>, options: ReplOptions) -> std::io::Result<()> {
    run_with(options, |text| run_text(&engine, text))
}

/// Runs the shell against the HTTP API at `url` (`http://host:port`).
pub fn run_remote(url: &str, options: ReplOptions) -> std::io::Result<()> {
    let addr = remote::server_address(url)?;
    println!("Connected to {url} ({addr}).");
    let mut remote = remote::Remote {
        addr,
        properties: Default::default(),
    };
    run_with(options, |text| remote::run_text(&mut remote, text))
}

/// The shell's loop: reads complete statements and hands them to `execute`.
fn run_with(options: ReplOptions, mut execute: impl FnMut(&str) -> bool) -> std::io::Result<()> {
    let mut editor = DefaultEditor::new().map_err(std::io::Error::other)?;
    // After the editor: rustyline installs its own SIGINT handler when created. While reading a
    // line the terminal is raw (Ctrl-C is a key); while a push query streams, SIGINT lands here.
    let _ = ctrlc::set_handler(|| INTERRUPTED.store(true, Ordering::SeqCst));
    if let Some(h) = &options.history {
        let _ = editor.load_history(h);
    }
    println!("Brook shell. End statements with ';'. Ctrl-C stops a push query, Ctrl-D exits.");
    let mut buffer = String::new();
    loop {
        let prompt = if buffer.is_empty() {
            "brook> "
        } else {
            "    -> "
        };
        match editor.readline(prompt) {
            Ok(line) => {
                if buffer.is_empty()
                    && matches!(
                        line.trim().to_ascii_lowercase().as_str(),
                        "exit" | "quit" | "exit;" | "quit;"
                    )
                {
                    break;
                }
                buffer.push_str(&line);
                buffer.push('\n');
                if !is_complete(&buffer) {
                    continue;
                }
                let _ = editor.add_history_entry(buffer.trim());
                let text = std::mem::take(&mut buffer);
                let _ = execute(&text);
            }
            Err(ReadlineError::Interrupted) => buffer.clear(),
            Err(ReadlineError::Eof) => break,
            Err(e) => return Err(std::io::Error::other(e)),
        }
    }
    if let Some(h) = &options.history {
        let _ = editor.save_history(h);
    }
    Ok(())
}

/// A buffer is complete when it ends with `;` outside quotes and comments.
fn is_complete(buffer: &str) -> bool {
    let trimmed = buffer.trim_end();
    trimmed.ends_with(';') && split_statements(trimmed).is_ok_and(|s| !s.is_empty())
}

/// Executes every statement in `text`, printing results or errors. Stops at the first error
/// and returns false.
pub fn run_text(engine: &Arc<Mutex<Engine>>, text: &str) -> bool {
    let statements = match split_statements(text) {
        Ok(s) => s,
        Err(e) => {
            println!("error: {e}");
            return false;
        }
    };
    for statement in statements {
        let result = match engine.lock() {
            Ok(mut e) => e.execute_client_text(&statement),
            Err(_) => return false,
        };
        match result {
            Ok(r) => print_result(r),
            Err(e) => {
                print!("{}", render::error(&statement, &e));
                return false;
            }
        }
    }
    true
}

/// Prints one statement's result (push queries stream until done).
pub fn print_result(result: StatementResult) {
    match result {
        StatementResult::Success(m) if m.is_empty() => {}
        StatementResult::Success(m) => println!("{m}"),
        StatementResult::QueryStarted { message, .. } => println!("{message}"),
        StatementResult::Listing(l) => print!("{}", render::listing(&l)),
        StatementResult::QueryDescription(d) => print!("{}", render::listing(&d.listing())),
        StatementResult::PushQuery(q) => stream(*q),
        StatementResult::PullQuery(r) => print!("{}", render::pull(&r)),
    }
}

/// Streams a push query's rows until its LIMIT, Ctrl-C, or an error.
fn stream(mut q: crate::engine::results::PushQuery) {
    INTERRUPTED.store(false, Ordering::SeqCst);
    let widths: Vec<usize> = q.column_names.iter().map(|n| n.len().max(12)).collect();
    let header: Vec<String> = q.column_names.clone();
    let rule = format!(
        "+{}+",
        widths
            .iter()
            .map(|w| "-".repeat(w + 2))
            .collect::<Vec<_>>()
            .join("+")
    );
    println!(
        "{rule}\n|{}|\n{rule}",
        header
            .iter()
            .zip(&widths)
            .map(|(h, w)| format!(" {h:<w$} "))
            .collect::<Vec<_>>()
            .join("|")
    );
    let mut log = MemoryProcessingLog::default();
    let mut printed: u64 = 0;
    let mut out = std::io::stdout();
    while !INTERRUPTED.load(Ordering::SeqCst) {
        if let Err(e) = q.query.step(1000, Duration::from_millis(100), &mut log) {
            println!("error: {e}");
            break;
        }
        // (Reported as they happen, at debug level; not kept.)
        log.errors.clear();
        let rows = q
            .rows
            .lock()
            .map(|mut r| std::mem::take(&mut *r))
            .unwrap_or_default();
        for r in &rows {
            let _ = writeln!(out, "{}", render::row(&r.values, &widths));
        }
        printed += rows.len() as u64;
        let _ = out.flush();
        if q.query.is_finished() || q.limit.is_some_and(|l| printed >= l) {
            println!("Limit Reached\nQuery terminated");
            return;
        }
    }
    println!("{rule}\nQuery terminated");
}
