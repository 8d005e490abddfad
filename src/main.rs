//! The `brook` command line. Parses arguments and dispatches to `cli/`; nothing imports this.

mod cli;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    cli::init_tracing(&args.log_level);
    // Statements run on this thread (the shell, `brook run`, startup files): give it the stack
    // every statement thread has.
    let command = std::thread::Builder::new()
        .name("brook".into())
        .stack_size(brook::common::limits::THREAD_STACK_BYTES)
        .spawn(move || cli::run(args));
    let outcome = match command {
        Ok(handle) => handle
            .join()
            .unwrap_or_else(|_| Err(anyhow::anyhow!("the command panicked"))),
        Err(e) => Err(anyhow::anyhow!("starting the command's thread: {e}")),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if cli::is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
