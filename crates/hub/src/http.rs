//! The HTTP routes: each handler extracts its input, calls one engine or store method on a
//! blocking thread, and converts the error. Every non-2xx answer carries an
//! [`ErrorBody`](ledger_protocol::ErrorBody) in JSON with a Chinese message.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use ledger_domain::stats::{Period, StatsQuery, statistics};
use ledger_protocol::{
    CONTENT_TYPE, DecodeError, EnrollRequest, ErrorBody, MAX_BODY_BYTES, RepairRequest, RepairSync,
    SUPPORTED_VERSIONS, SyncRequest, decode, encode,
};
use serde::{Deserialize, Serialize};

use crate::auth::{self, AuthError};
use crate::engine::{Caller, SyncError};
use crate::store::StoreError;
use crate::{HubState, now_ms};

/// The hub's routes.
pub fn router(state: Arc<HubState>) -> Router {
    Router::new()
        .route("/v1/health", get(health))
        .route("/v1/enroll", post(enroll))
        .route("/v1/sync", post(sync))
        .route("/v1/repair/digests", post(repair_digests))
        .route("/v1/repair/sync", post(repair_sync))
        .route("/v1/offices", get(offices))
        .route("/v1/stats", get(stats))
        // One byte over the limit is enough to know a body is too large.
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES + 1))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state)
}

/// An error answer.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    body: ErrorBody,
}

impl ApiError {
    fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        Self {
            status,
            body: ErrorBody {
                code: code.to_owned(),
                message: message.into(),
                refused: Vec::new(),
                supported_versions: Vec::new(),
            },
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if self.status.is_server_error() {
            tracing::error!(code = %self.body.code, message = %self.body.message, "request failed");
        }
        (self.status, Json(self.body)).into_response()
    }
}

impl From<AuthError> for ApiError {
    fn from(e: AuthError) -> Self {
        match e {
            AuthError::Store(s) => s.into(),
            AuthError::BadActor => Self::new(StatusCode::BAD_REQUEST, "bad_request", e.to_string()),
            other => Self::new(StatusCode::UNAUTHORIZED, "unauthorized", other.to_string()),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        tracing::error!(error = %e, "store error");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "县局服务器内部错误，请稍后重试")
    }
}

impl From<SyncError> for ApiError {
    fn from(e: SyncError) -> Self {
        match e {
            SyncError::BadRequest(m) => {
                Self::new(StatusCode::BAD_REQUEST, "bad_request", format!("同步数据有误：{m}"))
            }
            SyncError::Forbidden(refused) => {
                let mut err = Self::new(
                    StatusCode::FORBIDDEN,
                    "forbidden",
                    format!("县局拒收了 {} 条更改；其余更改不受影响", refused.len()),
                );
                err.body.refused = refused;
                err
            }
            SyncError::Store(s) => s.into(),
        }
    }
}

fn decode_error(e: DecodeError) -> ApiError {
    match e {
        DecodeError::TooLarge => {
            ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "too_large", "同步数据过大")
        }
        DecodeError::Version(v) => {
            let mut err = ApiError::new(
                StatusCode::CONFLICT,
                "unsupported_version",
                format!(
                    "同步协议版本 {v} 不受支持；请升级软件（县局支持：{SUPPORTED_VERSIONS:?}）"
                ),
            );
            err.body.supported_versions = SUPPORTED_VERSIONS.to_vec();
            err
        }
        other => ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_request",
            format!("同步数据无法解析：{other}"),
        ),
    }
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f).await.unwrap_or_else(|_| {
        Err(ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "县局服务器内部错误"))
    })
}

async fn caller(state: &Arc<HubState>, headers: &HeaderMap) -> Result<Caller, ApiError> {
    let credential = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_owned)
        .ok_or_else(|| ApiError::from(AuthError::InvalidCredential))?;
    let state = state.clone();
    blocking(move || Ok(auth::authenticate(state.store().as_ref(), &credential)?)).await
}

#[derive(Serialize)]
struct Health {
    status: &'static str,
    version: &'static str,
    protocol: &'static [u16],
}

async fn health() -> Json<Health> {
    Json(Health { status: "ok", version: env!("CARGO_PKG_VERSION"), protocol: SUPPORTED_VERSIONS })
}

async fn enroll(
    State(state): State<Arc<HubState>>,
    body: Result<Json<EnrollRequest>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<ledger_protocol::EnrollResponse>, ApiError> {
    let Json(req) = body.map_err(|e| {
        ApiError::new(StatusCode::BAD_REQUEST, "bad_request", format!("登记请求有误：{e}"))
    })?;
    let response =
        blocking(move || Ok(auth::enroll(state.store().as_ref(), &req, now_ms())?)).await?;
    Ok(Json(response))
}

async fn sync(
    State(state): State<Arc<HubState>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let (caller, req): (Caller, SyncRequest) = binary(&state, &headers, body).await?;
    let response = blocking(move || Ok(state.engine.sync(&caller, &req, now_ms())?)).await?;
    Ok(binary_response(&response))
}

/// A binary request body: authenticated, size-checked, decoded.
async fn binary<T: for<'de> Deserialize<'de> + Send + 'static>(
    state: &Arc<HubState>,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<(Caller, T), ApiError> {
    let caller = caller(state, headers).await?;
    let body = body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "too_large", "同步数据过大")
        } else {
            ApiError::new(StatusCode::BAD_REQUEST, "bad_request", format!("读取同步数据失败：{e}"))
        }
    })?;
    if body.len() > MAX_BODY_BYTES {
        return Err(ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "too_large", "同步数据过大"));
    }
    let message = blocking(move || decode(&body).map_err(decode_error)).await?;
    Ok((caller, message))
}

fn binary_response<T: Serialize>(message: &T) -> Response {
    ([(header::CONTENT_TYPE, CONTENT_TYPE)], encode(message)).into_response()
}

async fn repair_digests(
    State(state): State<Arc<HubState>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let (caller, req): (Caller, RepairRequest) = binary(&state, &headers, body).await?;
    let response = blocking(move || Ok(state.engine.repair_digests(&caller, &req)?)).await?;
    Ok(binary_response(&response))
}

async fn repair_sync(
    State(state): State<Arc<HubState>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let (caller, req): (Caller, RepairSync) = binary(&state, &headers, body).await?;
    let response = blocking(move || Ok(state.engine.repair_sync(&caller, &req)?)).await?;
    Ok(binary_response(&response))
}

/// One device's sync health, for the bureau's per-office view.
#[derive(Serialize)]
struct OfficeHealth {
    office: String,
    name: String,
    role: String,
    townships: Vec<String>,
    devices: Vec<crate::store::DeviceRecord>,
    last_sync: Option<i64>,
    pending: u64,
    last_error: Option<String>,
    clock_skew_ms: Option<i64>,
}

async fn offices(
    State(state): State<Arc<HubState>>,
    headers: HeaderMap,
) -> Result<Json<Vec<OfficeHealth>>, ApiError> {
    let caller = caller(&state, &headers).await?;
    if !auth::is_bureau(&caller) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "只有县局可以查看各单位的同步情况",
        ));
    }
    let list = blocking(move || {
        let store = state.store();
        let mut out = Vec::new();
        for office in store.offices()? {
            let devices = store.devices(Some(&office.code))?;
            let latest =
                devices.iter().filter(|d| d.revoked_at.is_none()).max_by_key(|d| d.last_sync);
            out.push(OfficeHealth {
                last_sync: devices.iter().filter_map(|d| d.last_sync).max(),
                pending: devices.iter().filter(|d| d.revoked_at.is_none()).map(|d| d.pending).sum(),
                last_error: latest.and_then(|d| d.last_error.clone()),
                clock_skew_ms: latest.and_then(|d| d.skew_ms),
                office: office.code,
                name: office.name,
                role: office.role.code().to_owned(),
                townships: office.townships,
                devices,
            });
        }
        Ok(out)
    })
    .await?;
    Ok(Json(list))
}

#[derive(Deserialize)]
struct StatsParams {
    year: Option<i32>,
    township: Option<String>,
}

async fn stats(
    State(state): State<Arc<HubState>>,
    headers: HeaderMap,
    Query(params): Query<StatsParams>,
) -> Result<Json<ledger_domain::Statistics>, ApiError> {
    let caller = caller(&state, &headers).await?;
    if !auth::is_bureau(&caller) {
        return Err(ApiError::new(StatusCode::FORBIDDEN, "forbidden", "只有县局可以查看全县统计"));
    }
    let today = ledger_domain::model::china_date(now_ms());
    let year =
        params.year.unwrap_or_else(|| today.format("%Y").to_string().parse().unwrap_or(2024));
    let period = Period::year(year)
        .ok_or_else(|| ApiError::new(StatusCode::BAD_REQUEST, "bad_request", "年份无效"))?;
    let result = blocking(move || {
        let facts = state.engine.facts()?;
        let policy = ledger_domain::PolicyTable::default();
        let query = StatsQuery {
            period,
            township: params.township.as_deref(),
            as_of: period.to.min(today),
            settled_window_days: policy.current().settled_window_days,
        };
        Ok(statistics(&facts, &query))
    })
    .await?;
    Ok(Json(result))
}
