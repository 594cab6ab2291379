//! The floor of the HTTP check benchmark: what this machine gives for the HTTP part alone. The
//! same request as a real check (`POST /api/v1/checks` with the JSON body of
//! `crates/bench/wrk/checks.lua`), parsed the same way, answered with a JSON body of the size of a
//! real answer, and nothing else: no index, no check log, no audit log, no middleware.
//!
//! ```text
//! cargo run --release -p creditloop-bench --bin http_floor -- --listen 127.0.0.1:8091
//! wrk -t1 -c32 -d20s --latency -s crates/bench/wrk/checks.lua http://127.0.0.1:8091
//! ```
//!
//! A real check can only be slower; the gap between the two is what checking, storing and
//! auditing cost (BENCHMARKS.md, "The floor of the HTTP benchmark").

use std::net::SocketAddr;

use axum::Router;
use axum::body::Bytes;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde::Deserialize;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The size of a real single-check answer of the benchmark's population (about 1,000–1,200 bytes).
const ANSWER_BYTES: usize = 1_100;

#[derive(Deserialize)]
struct Request<'a> {
    subject: &'a str,
    scenario: &'a str,
    #[serde(default)]
    agency: Option<&'a str>,
}

async fn check(body: Bytes) -> Response {
    let Ok(req) = serde_json::from_slice::<Request>(&body) else {
        return (StatusCode::BAD_REQUEST, "bad request").into_response();
    };
    let mut answer = format!(
        r#"{{"subject":"{}","scenario":"{}","agency":"{}","decision":"normal","measures":[],"pad":""#,
        req.subject,
        req.scenario,
        req.agency.unwrap_or("")
    );
    while answer.len() < ANSWER_BYTES - 2 {
        answer.push('x');
    }
    answer.push_str("\"}");
    ([(header::CONTENT_TYPE, "application/json")], answer).into_response()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut listen: SocketAddr = "127.0.0.1:8091".parse()?;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--listen" => listen = args.next().ok_or("--listen needs a value")?.parse()?,
            other => return Err(format!("unknown option {other}").into()),
        }
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(listen).await?;
        println!("serving on http://{listen}/");
        let app = Router::new().route("/api/v1/checks", post(check));
        axum::serve(listener, app).await
    })?;
    Ok(())
}
