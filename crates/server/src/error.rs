//! One error type for the HTTP API, answered as `application/problem+json` (RFC 9457) with a stable
//! code and a message in Chinese and English. Internal errors are logged, never sent to the client.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// Errors a handler can answer with. Each variant names the status it returns.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400: the request could not be read (bad JSON, bad multipart, bad query).
    #[error("bad request: {en}")]
    BadRequest { zh: String, en: String },
    /// 401: no credentials where they are needed, or a token that is unknown, expired or revoked.
    /// Answered with `WWW-Authenticate: Bearer`.
    #[error("unauthorized: {en}")]
    Unauthorized { zh: String, en: String },
    /// 403: authenticated, but the access rules (`creditloop_domain::access::allows`) say no.
    #[error("forbidden: {en}")]
    Forbidden { zh: String, en: String },
    /// 429: too many attempts (failed logins); try again after `retry_after` seconds.
    #[error("too many requests: {en}")]
    TooManyRequests {
        zh: String,
        en: String,
        retry_after: u64,
    },
    /// 404: nothing at that identifier.
    #[error("not found: {en}")]
    NotFound { zh: String, en: String },
    /// 409: the request conflicts with what is stored (e.g. a second, different feedback).
    #[error("conflict: {en}")]
    Conflict { zh: String, en: String },
    /// 422: the request was read but breaks a rule (e.g. feedback naming a measure that did not apply).
    #[error("unprocessable: {en}")]
    Unprocessable { zh: String, en: String },
    /// 413: the body is larger than the configured limit.
    #[error("payload too large")]
    TooLarge,
    /// 415: an upload in a format we do not read.
    #[error("unsupported media type: {0}")]
    UnsupportedMedia(String),
    /// 415: a JSON operation called without `Content-Type: application/json`.
    #[error("not json")]
    NotJson,
    /// 405: the path exists, but not with that method.
    #[error("method not allowed")]
    MethodNotAllowed,
    /// 408: the request was not received (or answered) in time.
    #[error("request timeout")]
    RequestTimeout,
    /// 500: storage or another internal failure; details go to the log only.
    #[error("internal: {0}")]
    Internal(String),
}

#[derive(Serialize)]
struct Problem<'a> {
    #[serde(rename = "type")]
    kind: String,
    title: &'a str,
    status: u16,
    code: &'a str,
    detail: String,
    detail_zh: String,
}

impl ApiError {
    pub fn bad_request(zh: impl Into<String>, en: impl Into<String>) -> Self {
        ApiError::BadRequest {
            zh: zh.into(),
            en: en.into(),
        }
    }

    pub fn not_found(zh: impl Into<String>, en: impl Into<String>) -> Self {
        ApiError::NotFound {
            zh: zh.into(),
            en: en.into(),
        }
    }

    fn parts(&self) -> (StatusCode, &'static str, &'static str, String, String) {
        match self {
            ApiError::BadRequest { zh, en } => (
                StatusCode::BAD_REQUEST,
                "bad_request",
                "Bad request",
                zh.clone(),
                en.clone(),
            ),
            ApiError::Unauthorized { zh, en } => (
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "Unauthorized",
                zh.clone(),
                en.clone(),
            ),
            ApiError::Forbidden { zh, en } => (
                StatusCode::FORBIDDEN,
                "forbidden",
                "Forbidden",
                zh.clone(),
                en.clone(),
            ),
            ApiError::TooManyRequests { zh, en, .. } => (
                StatusCode::TOO_MANY_REQUESTS,
                "too_many_requests",
                "Too many requests",
                zh.clone(),
                en.clone(),
            ),
            ApiError::NotFound { zh, en } => (
                StatusCode::NOT_FOUND,
                "not_found",
                "Not found",
                zh.clone(),
                en.clone(),
            ),
            ApiError::Conflict { zh, en } => (
                StatusCode::CONFLICT,
                "conflict",
                "Conflict",
                zh.clone(),
                en.clone(),
            ),
            ApiError::Unprocessable { zh, en } => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "unprocessable",
                "Unprocessable request",
                zh.clone(),
                en.clone(),
            ),
            ApiError::TooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                "Payload too large",
                "提交的内容超过大小限制".into(),
                "the request body exceeds the size limit".into(),
            ),
            ApiError::UnsupportedMedia(m) => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "Unsupported media type",
                format!("不支持的文件格式：{m}；请提交 CSV、XLSX、JSON 或 JSON Lines"),
                format!("unsupported format {m}: send CSV, XLSX, JSON or JSON Lines"),
            ),
            ApiError::NotJson => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "Unsupported media type",
                "请求体应为 JSON，并带有请求头 Content-Type: application/json".into(),
                "the body must be JSON, sent with `Content-Type: application/json`".into(),
            ),
            ApiError::MethodNotAllowed => (
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "Method not allowed",
                "该地址不支持此请求方法".into(),
                "this path does not take that method".into(),
            ),
            ApiError::RequestTimeout => (
                StatusCode::REQUEST_TIMEOUT,
                "request_timeout",
                "Request timeout",
                "请求未能在规定时间内完成".into(),
                "the request did not complete in time".into(),
            ),
            ApiError::Internal(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "Internal error",
                "服务器内部错误，已记录日志".into(),
                "internal error; it has been logged".into(),
            ),
        }
    }
}

impl ApiError {
    /// The status and the Chinese message, for the HTML pages; internal errors are logged here and
    /// answered without their details.
    pub(crate) fn status_zh(&self) -> (StatusCode, String) {
        if let ApiError::Internal(e) = self {
            tracing::error!(error = %e, "internal error");
        }
        let (status, _, _, zh, _) = self.parts();
        (status, zh)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::Internal(e) = &self {
            tracing::error!(error = %e, "internal error");
        }
        let (status, code, title, zh, en) = self.parts();
        let body = Problem {
            kind: format!("https://creditloop.invalid/problems/{code}"),
            title,
            status: status.as_u16(),
            code,
            detail: en,
            detail_zh: zh,
        };
        let json = serde_json::to_vec(&body).unwrap_or_default();
        let mut response = (
            status,
            [(header::CONTENT_TYPE, "application/problem+json")],
            json,
        )
            .into_response();
        let headers = response.headers_mut();
        match &self {
            ApiError::Unauthorized { .. } => {
                headers.insert(
                    header::WWW_AUTHENTICATE,
                    header::HeaderValue::from_static("Bearer realm=\"creditloop\""),
                );
            }
            ApiError::TooManyRequests { retry_after, .. } => {
                headers.insert(header::RETRY_AFTER, header::HeaderValue::from(*retry_after));
            }
            _ => {}
        }
        response
    }
}

impl From<creditloop_store::StoreError> for ApiError {
    fn from(e: creditloop_store::StoreError) -> Self {
        ApiError::Internal(e.to_string())
    }
}

impl From<tokio::task::JoinError> for ApiError {
    fn from(e: tokio::task::JoinError) -> Self {
        ApiError::Internal(e.to_string())
    }
}
