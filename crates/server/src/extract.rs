//! The extractors of the API: axum's `Json`, `Query` and `Path`, whose rejections are answered as
//! [`ApiError`] (problem+json in Chinese and English) instead of axum's `text/plain`. Each is a
//! drop-in for axum's own (`Json` also answers).

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// A JSON body (or answer).
#[derive(Debug, Clone, Copy, Default)]
pub struct Json<T>(pub T);

/// The query string.
#[derive(Debug, Clone, Copy, Default)]
pub struct Query<T>(pub T);

/// The path parameters.
#[derive(Debug, Clone, Copy, Default)]
pub struct Path<T>(pub T);

impl<T, S> FromRequest<S> for Json<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(Json(v)),
            Err(r) => Err(json_rejection(&r)),
        }
    }
}

impl<T: Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

impl<T, S> FromRequestParts<S> for Query<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(v)) => Ok(Query(v)),
            Err(r) => Err(query_rejection(&r)),
        }
    }
}

impl<T, S> FromRequestParts<S> for Path<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(v)) => Ok(Path(v)),
            Err(r) => Err(path_rejection(&r)),
        }
    }
}

fn json_rejection(r: &JsonRejection) -> ApiError {
    let text = r.body_text();
    match r {
        JsonRejection::MissingJsonContentType(_) => ApiError::NotJson,
        JsonRejection::JsonDataError(_) => ApiError::Unprocessable {
            zh: format!("请求体的 JSON 结构不符合接口文档：{text}"),
            en: text,
        },
        JsonRejection::JsonSyntaxError(_) => ApiError::BadRequest {
            zh: format!("请求体不是有效的 JSON：{text}"),
            en: text,
        },
        _ => body_rejection(r.status(), text),
    }
}

/// A body that could not be read: too large, or cut off.
pub(crate) fn body_rejection(status: StatusCode, text: String) -> ApiError {
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::TooLarge
    } else {
        ApiError::BadRequest {
            zh: format!("无法读取请求体：{text}"),
            en: text,
        }
    }
}

fn query_rejection(r: &QueryRejection) -> ApiError {
    let text = r.body_text();
    ApiError::BadRequest {
        zh: format!("查询参数无效：{text}"),
        en: text,
    }
}

fn path_rejection(r: &PathRejection) -> ApiError {
    let text = r.body_text();
    if r.status().is_server_error() {
        // A route whose handler wants parameters it does not have: a defect, not the caller's.
        return ApiError::Internal(text);
    }
    ApiError::BadRequest {
        zh: format!("路径参数无效：{text}"),
        en: text,
    }
}

/// A multipart body that could not be read; over the size limit it is a 413.
pub(crate) fn multipart_error(e: &axum::extract::multipart::MultipartError) -> ApiError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        return ApiError::TooLarge;
    }
    ApiError::bad_request(
        format!("无法读取上传表单：{e}"),
        format!("bad multipart body: {e}"),
    )
}

/// The raw body, read whole within the body limit.
#[derive(Debug, Clone, Default)]
pub struct RawBody(pub axum::body::Bytes);

impl<S: Send + Sync> FromRequest<S> for RawBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        match axum::body::Bytes::from_request(req, state).await {
            Ok(b) => Ok(RawBody(b)),
            Err(r) => Err(body_rejection(r.status(), r.body_text())),
        }
    }
}
