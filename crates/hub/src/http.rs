//! The HTTP routes: each handler extracts its input, calls one engine or store method on a
//! blocking thread, and converts the error. Every non-2xx answer carries an
//! [`ErrorBody`](ledger_protocol::ErrorBody) in JSON with a Chinese message.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Query, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use ledger_domain::stats::{Period, StatsQuery, statistics};
use ledger_protocol::{
    CONTENT_TYPE, DecodeError, EnrollRequest, ErrorBody, MAX_BODY_BYTES, MAX_REPEAT_BYTES,
    RepairRequest, RepairSync, RepeatQuery, SUPPORTED_VERSIONS, SyncRequest, decode, decode_within,
    encode,
};
use serde::{Deserialize, Serialize};

use crate::auth::{self, AuthError};
use crate::engine::{Caller, SyncError};
use crate::store::StoreError;
use crate::{HubState, now_ms};

/// The hub's routes.
pub fn router(state: Arc<HubState>) -> Router {
    Router::new()
        .route("/metrics", get(metrics))
        .route("/v1/health", get(health))
        // Enrollment is the one unauthenticated body: a few KiB at most.
        .route("/v1/enroll", post(enroll).layer(DefaultBodyLimit::max(ENROLL_MAX_BYTES)))
        .route("/v1/sync", post(sync))
        .route("/v1/repair/digests", post(repair_digests))
        .route("/v1/repair/sync", post(repair_sync))
        .route("/v1/repeat", post(repeat))
        .route("/v1/offices", get(offices))
        .route("/v1/stats", get(stats))
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), count))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state)
}

/// Counts every answered request for the metrics: its route's pattern (never the raw path,
/// which an unauthenticated caller chooses), status and body bytes; and times sync exchanges.
async fn count(
    State(state): State<Arc<HubState>>,
    matched: Option<axum::extract::MatchedPath>,
    request: Request,
    next: axum::middleware::Next,
) -> Response {
    let route = matched.map_or_else(|| "other".to_owned(), |m| m.as_str().to_owned());
    let bytes_in = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(0);
    let started = std::time::Instant::now();
    let response = next.run(request).await;
    let bytes_out = axum::body::HttpBody::size_hint(response.body()).exact().unwrap_or(0);
    state.metrics.record_request(&route, response.status().as_u16(), bytes_in, bytes_out);
    if route == "/v1/sync" {
        state.metrics.record_sync_seconds(started.elapsed().as_secs_f64());
    }
    response
}

/// `GET /metrics`: Prometheus text, to this machine only (the pending counts name offices).
async fn metrics(
    State(state): State<Arc<HubState>>,
    extensions: axum::http::Extensions,
) -> Result<Response, ApiError> {
    if !peer(&extensions).is_some_and(|ip| ip.to_canonical().is_loopback()) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "监控指标只对本机开放；请在县局服务器上采集",
        ));
    }
    let st = state.clone();
    let gauges = blocking(move || {
        let store = st.store();
        let mut pending: std::collections::BTreeMap<String, u64> =
            std::collections::BTreeMap::new();
        for device in store.devices(None)?.into_iter().filter(|d| d.revoked_at.is_none()) {
            *pending.entry(device.office).or_default() += device.pending;
        }
        Ok(crate::metrics::Gauges { pending: pending.into_iter().collect(), pool: store.pool() })
    })
    .await?;
    let text = state.metrics.render(&gauges);
    Ok(([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], text).into_response())
}

/// The largest enrollment body.
const ENROLL_MAX_BYTES: usize = 4 * 1024;

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
            AuthError::BadActor | AuthError::BadKey => {
                Self::new(StatusCode::BAD_REQUEST, "bad_request", e.to_string())
            }
            other => Self::new(StatusCode::UNAUTHORIZED, "unauthorized", other.to_string()),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        if let StoreError::Busy(what) = &e {
            tracing::info!(%what, "document written by another process meanwhile; office will retry");
            return Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "busy",
                "县局服务器正忙，请稍后重试",
            );
        }
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
                    "本机软件的同步协议（第 {v} 版）已不受县局支持，请升级信访台账软件后再同步（县局支持：{SUPPORTED_VERSIONS:?}）"
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

/// The peer's address, when the server was started with connection info.
fn peer(request_extensions: &axum::http::Extensions) -> Option<IpAddr> {
    request_extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip())
}

fn too_many() -> ApiError {
    ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "too_many_failures",
        "认证失败次数过多，请稍后再试；如本机凭据失效，请联系县局",
    )
}

/// Authenticates the caller from the headers alone: nothing of the body is read before.
/// Failures are logged and counted per address; past the limit an address's failures are
/// answered 429. A valid credential is always served, so one bad client behind a shared address
/// (a township's NAT, a reverse proxy) cannot lock the others out.
async fn caller(
    state: &Arc<HubState>,
    headers: &HeaderMap,
    ip: Option<IpAddr>,
) -> Result<Caller, ApiError> {
    let credential = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_owned);
    let result = match credential {
        None => Err(ApiError::from(AuthError::InvalidCredential)),
        Some(credential) => {
            let st = state.clone();
            blocking(move || Ok(auth::authenticate(st.store().as_ref(), &credential)?)).await
        }
    };
    if let Err(e) = &result
        && e.status == StatusCode::UNAUTHORIZED
    {
        if state.limiter.loggable(ip) {
            tracing::warn!(peer = ?ip, code = %e.body.code, reason = %e.body.message, "authentication failed");
        }
        if let Some(ip) = ip
            && state.limiter.failed(ip)
        {
            return Err(too_many());
        }
    }
    result
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
    extensions: axum::http::Extensions,
    body: Result<Json<EnrollRequest>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<ledger_protocol::EnrollResponse>, ApiError> {
    let ip = peer(&extensions);
    let Json(req) = body.map_err(|e| {
        ApiError::new(StatusCode::BAD_REQUEST, "bad_request", format!("登记请求有误：{e}"))
    })?;
    let st = state.clone();
    let result = blocking(move || {
        let mut response = auth::enroll(st.store().as_ref(), &req, now_ms())?;
        response.roster = st.engine.roster_for_enrollment(&response.office, now_ms())?;
        response.directory = Some(st.engine.directory()?);
        Ok(response)
    })
    .await;
    if let Err(e) = &result
        && e.status == StatusCode::UNAUTHORIZED
    {
        if state.limiter.loggable(ip) {
            tracing::warn!(peer = ?ip, reason = %e.body.message, "enrollment failed");
        }
        if let Some(ip) = ip
            && state.limiter.failed(ip)
        {
            return Err(too_many());
        }
    }
    Ok(Json(result?))
}

async fn sync(State(state): State<Arc<HubState>>, request: Request) -> Result<Response, ApiError> {
    let (caller, req): (Caller, SyncRequest) = binary(&state, request).await?;
    let response = blocking(move || {
        let hub_key = match &req.device_key {
            Some(key) => {
                auth::register_key(state.store().as_ref(), &caller, key)?;
                Some(auth::hub_key(state.store().as_ref())?.public().to_hex())
            }
            None => None,
        };
        let result = state.engine.sync(&caller, &req, now_ms());
        match &result {
            Ok(response) => state.metrics.record_changes(response.acked.len(), &response.refused),
            Err(SyncError::Forbidden(refused)) => state.metrics.record_changes(0, refused),
            Err(_) => {}
        }
        let mut response = result?;
        response.hub_key = hub_key;
        Ok(response)
    })
    .await?;
    Ok(binary_response(&response))
}

/// A binary request: authenticated from its headers first, then its body read (bounded),
/// size-checked and decoded.
async fn binary<T: for<'de> Deserialize<'de> + Send + 'static>(
    state: &Arc<HubState>,
    request: Request,
) -> Result<(Caller, T), ApiError> {
    let (parts, body): (_, Body) = request.into_parts();
    let caller = caller(state, &parts.headers, peer(&parts.extensions)).await?;
    // A body declared too large is refused before a byte of it is read.
    let declared = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_BODY_BYTES as u64) {
        return Err(ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "too_large", "同步数据过大"));
    }
    // One byte over the limit is enough to know a body is too large.
    let body = axum::body::to_bytes(body, MAX_BODY_BYTES + 1).await.map_err(|e| {
        let too_large = std::error::Error::source(&e)
            .is_some_and(|s| s.is::<http_body_util::LengthLimitError>());
        if too_large {
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
    match encode(message) {
        Ok(body) => ([(header::CONTENT_TYPE, CONTENT_TYPE)], body).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "answer could not be encoded");
            ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "县局无法生成应答")
                .into_response()
        }
    }
}

async fn repair_digests(
    State(state): State<Arc<HubState>>,
    request: Request,
) -> Result<Response, ApiError> {
    let (caller, req): (Caller, RepairRequest) = binary(&state, request).await?;
    let response = blocking(move || Ok(state.engine.repair_digests(&caller, &req)?)).await?;
    Ok(binary_response(&response))
}

async fn repair_sync(
    State(state): State<Arc<HubState>>,
    request: Request,
) -> Result<Response, ApiError> {
    let (caller, req): (Caller, RepairSync) = binary(&state, request).await?;
    let response = blocking(move || Ok(state.engine.repair_sync(&caller, &req)?)).await?;
    Ok(binary_response(&response))
}

/// `POST /v1/repeat`: the open matters of the same petitioners elsewhere in the county.
///
/// The query is charged to the office before its body is read, so malformed queries count too;
/// the body is a few KiB at most, decompressed included.
async fn repeat(
    State(state): State<Arc<HubState>>,
    request: Request,
) -> Result<Response, ApiError> {
    let (parts, body): (_, Body) = request.into_parts();
    let caller = caller(&state, &parts.headers, peer(&parts.extensions)).await?;
    state.repeats.admit(&caller, now_ms())?;
    let too_large = || ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "too_large", "查询数据过大");
    let body = axum::body::to_bytes(body, MAX_REPEAT_BYTES + 1).await.map_err(|_| too_large())?;
    let query: RepeatQuery = decode_within(&body, MAX_REPEAT_BYTES).map_err(|e| match e {
        DecodeError::TooLarge => too_large(),
        other => decode_error(other),
    })?;
    let answer = blocking(move || {
        state.repeats.answer(&state.engine, &caller, &query).map_err(ApiError::from)
    })
    .await?;
    Ok(binary_response(&answer))
}

impl From<crate::repeat::RepeatError> for ApiError {
    fn from(e: crate::repeat::RepeatError) -> Self {
        use crate::repeat::RepeatError;
        match e {
            RepeatError::TooMany => {
                Self::new(StatusCode::TOO_MANY_REQUESTS, "too_many_queries", e.to_string())
            }
            RepeatError::BadRequest(m) => Self::new(StatusCode::BAD_REQUEST, "bad_request", m),
            RepeatError::Store(s) => s.into(),
        }
    }
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
    extensions: axum::http::Extensions,
    headers: HeaderMap,
) -> Result<Json<Vec<OfficeHealth>>, ApiError> {
    let caller = caller(&state, &headers, peer(&extensions)).await?;
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
    extensions: axum::http::Extensions,
    headers: HeaderMap,
    Query(params): Query<StatsParams>,
) -> Result<Json<ledger_domain::Statistics>, ApiError> {
    let caller = caller(&state, &headers, peer(&extensions)).await?;
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
        let rules = state.engine.rules();
        let as_of = period.to.min(today);
        let query = StatsQuery {
            period,
            township: params.township.as_deref(),
            as_of,
            settled_window_days: rules.policies.for_date(as_of).settled_window_days,
        };
        Ok(statistics(&facts, &query))
    })
    .await?;
    Ok(Json(result))
}
