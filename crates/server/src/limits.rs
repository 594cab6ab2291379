//! Abuse limits in front of every handler: a declared body over the limit is refused before it is
//! read, and anonymous callers are rate limited per client IP (限流), so that the public pages and
//! the open subject search cannot be flooded from one address.

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::time::Duration;

use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::AppState;
use crate::auth::Auth;
use crate::error::ApiError;

/// Requests per minute an anonymous client IP may make by default.
pub const DEFAULT_PUBLIC_PER_MINUTE: u32 = 600;
/// Requests an anonymous client IP may make at once by default (a page and its assets, a burst of
/// searches).
pub const DEFAULT_PUBLIC_BURST: u32 = 120;

/// Client addresses tracked at most before the idle ones are forgotten.
const MAX_TRACKED: usize = 100_000;

/// A token bucket per client IP for anonymous callers: `per_minute` tokens a minute, at most
/// `burst` at once.
pub struct PublicRateLimit {
    limiter: DefaultKeyedRateLimiter<IpAddr>,
    clock: DefaultClock,
}

impl PublicRateLimit {
    /// `None` when `per_minute` is 0 (no limit).
    pub fn new(per_minute: u32, burst: u32) -> Option<Self> {
        let per_minute = NonZeroU32::new(per_minute)?;
        let burst = NonZeroU32::new(burst).unwrap_or(per_minute);
        Some(PublicRateLimit {
            limiter: RateLimiter::keyed(Quota::per_minute(per_minute).allow_burst(burst)),
            clock: DefaultClock::default(),
        })
    }

    /// `Ok` when `ip` may make one more request now, else how long it has to wait.
    pub fn check(&self, ip: IpAddr) -> Result<(), Duration> {
        if self.limiter.len() > MAX_TRACKED {
            self.limiter.retain_recent();
        }
        self.limiter
            .check_key(&canonical(ip))
            .map_err(|not_until| not_until.wait_time_from(self.clock.now()))
    }
}

/// An IPv4 client seen through an IPv6 socket counts as itself.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// Time a request has to be answered (its body read and the handler done).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(120);

/// Middleware: a request not answered within [`REQUEST_TIMEOUT`] is a 408 problem.
pub async fn request_timeout(req: Request, next: Next) -> Response {
    match tokio::time::timeout(REQUEST_TIMEOUT, next.run(req)).await {
        Ok(r) => r,
        Err(_) => ApiError::RequestTimeout.into_response(),
    }
}

/// Middleware: a `Content-Length` over the body limit is a 413 at once, before the body is read
/// (a chunked body over the limit is refused by the extractors as it is read).
pub async fn declared_length(State(max_body): State<usize>, req: Request, next: Next) -> Response {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > max_body as u64) {
        return ApiError::TooLarge.into_response();
    }
    next.run(req).await
}

/// Middleware: anonymous callers (and callers whose credentials fail) spend a token of their IP's
/// bucket; authenticated callers, and everyone under open access, do not.
pub async fn public_rate(
    State(state): State<std::sync::Arc<AppState>>,
    req: Request,
    next: Next,
) -> Response {
    let Some(limit) = state.public_rate.as_deref() else {
        return next.run(req).await;
    };
    let (mut parts, body) = req.into_parts();
    let authenticated = matches!(
        Auth::from_request_parts(&mut parts, &state).await,
        Ok(Auth(Some(_)))
    );
    let peer = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    if !authenticated
        && let Some(ip) = peer
        && let Err(wait) = limit.check(ip)
    {
        let retry_after = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        return ApiError::TooManyRequests {
            zh: format!("请求过于频繁，请在 {retry_after} 秒后重试；登录或使用接口令牌不受此限制"),
            en: format!(
                "too many requests from this address: retry in {retry_after} s, or authenticate"
            ),
            retry_after: retry_after.max(1),
        }
        .into_response();
    }
    next.run(Request::from_parts(parts, body)).await
}
