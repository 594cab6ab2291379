//! Standard output of the commands. `println!` panics when the reader has gone (`creditloop … |
//! head`); by the time a command prints, what it did is done (records stored, a check stored and
//! audited), so a closed pipe ends the command quietly instead, the way Unix tools end.

use std::io::Write as _;

/// Writes one line to standard output; a closed pipe ends the process with success, any other
/// write error with a message and status 1.
pub fn line(args: std::fmt::Arguments<'_>) {
    match write_line(args) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => std::process::exit(0),
        Err(e) => {
            eprintln!("错误 error: 无法写入标准输出 cannot write to standard output: {e}");
            std::process::exit(1);
        }
    }
}

/// `println!` through [`line`].
macro_rules! outln {
    ($($arg:tt)*) => {
        $crate::out::line(format_args!($($arg)*))
    };
}
pub(crate) use outln;

/// Writes one line to standard output and goes on whatever happens: for what a server says as it
/// starts, which must not stop it when nobody reads its output.
pub fn notice(args: std::fmt::Arguments<'_>) {
    let _ = write_line(args);
}

fn write_line(args: std::fmt::Arguments<'_>) -> std::io::Result<()> {
    let mut stdout = std::io::stdout().lock();
    stdout.write_fmt(args)?;
    stdout.write_all(b"\n")?;
    stdout.flush()
}

/// `println!` through [`notice`].
macro_rules! noticeln {
    ($($arg:tt)*) => {
        $crate::out::notice(format_args!($($arg)*))
    };
}
pub(crate) use noticeln;
