//! Errors of the office's use cases: each has a stable code the UI keys on and a Chinese
//! message that says what to do.

use ledger_domain::FieldError;
use ledger_store::StoreError;

/// An error of a use case.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OfficeError {
    /// The workflow or the role table does not allow the action now.
    #[error("{0}")]
    Refused(String),
    /// Input failed its checks; one entry per field.
    #[error("{}", .0.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("；"))]
    Invalid(Vec<FieldError>),
    /// A case, document or blob that is not here.
    #[error("{0}")]
    NotFound(String),
    /// The case was handed to another township and is read-only until it leaves.
    #[error("案件已转交其他乡镇（已转交），只能查看，不能再办理")]
    HandedOver,
    /// An import file with invalid rows; nothing was imported.
    #[error("导入文件有{}处错误，未导入任何记录：\n{}", .0.len(), .0.join("\n"))]
    ImportRejected(Vec<String>),
    /// A file that cannot be read as a ledger.
    #[error("{0}")]
    BadFile(String),
    /// A value the office keeps in its store does not read back (a damaged file): says which,
    /// and what mends it.
    #[error("{0}")]
    Damaged(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Talking to the hub failed.
    #[error("{}", sync_message(.0))]
    Sync(ledger_client::ClientError),
}

/// A Chinese sentence for a sync failure, saying what to do.
pub fn sync_message(e: &ledger_client::ClientError) -> String {
    use ledger_client::ClientError as C;
    match e {
        C::Unreachable(_) | C::Offline(_) => {
            "无法连接县局服务器：请检查网络；本机的更改已保存，联网后会自动上传".to_owned()
        }
        C::Timeout => "县局服务器长时间没有响应：网络可能不稳定，稍后会自动重试".to_owned(),
        C::Unauthorized(m) => m.clone(),
        C::Refused(r) => {
            format!("县局拒收了 {} 条更改，已移入「被拒更改」；其余更改照常同步", r.len())
        }
        C::TooLarge => "一次上传的数据过大，已自动缩小批次重试".to_owned(),
        C::UnsupportedVersion(v) => {
            format!("本机软件版本过旧，县局只支持同步协议 {v:?}；请升级软件")
        }
        C::BadRequest(m) => format!("县局无法读取本机的同步数据：{m}"),
        C::Server(code, _) => format!("县局服务器出错（{code}），稍后会自动重试"),
        C::Decode(_) => "县局的回复无法读取，稍后会自动重试".to_owned(),
        C::Local(m) => format!("本机台账出错：{m}"),
        C::Encode(m) => format!("本机无法写出同步数据（{m}）：请把这条提示报给县局信息科"),
        C::SyncPositionDamaged(_) => {
            "本机的同步进度记录已损坏：台账数据不受影响，从头重新同步即可恢复（已有案件不会重复或丢失）"
                .to_owned()
        }
        C::NotEnrolled => "本机尚未接入县局：请在设置中填写县局服务器地址和接入令牌".to_owned(),
        C::Tls(problem) => sync_error_text(problem.code()).to_owned(),
    }
}

impl OfficeError {
    /// A stable code for the UI and scripts.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Refused(_) => "refused",
            Self::Invalid(_) => "invalid_input",
            Self::NotFound(_) => "not_found",
            Self::HandedOver => "handed_over",
            Self::ImportRejected(_) => "import_rejected",
            Self::BadFile(_) => "bad_file",
            Self::Damaged(_) => "damaged",
            Self::Store(StoreError::InUse { .. }) => "store_in_use",
            Self::Store(StoreError::Missing(_)) => "not_initialised",
            Self::Store(StoreError::DiskFull(_)) => "disk_full",
            Self::Store(StoreError::NoCase(_)) => "not_found",
            Self::Store(StoreError::BadSyncPosition(_)) => "sync_position_damaged",
            Self::Store(_) => "storage",
            Self::Sync(e) => e.code(),
        }
    }

    pub(crate) fn invalid(field: &str, label: &str, message: impl Into<String>) -> Self {
        Self::Invalid(vec![FieldError {
            field: field.to_owned(),
            label: label.to_owned(),
            message: message.into(),
        }])
    }
}

/// Results of the office.
pub type Result<T, E = OfficeError> = std::result::Result<T, E>;

/// A Chinese sentence for a stored sync error code (the status keeps only the code).
pub fn sync_error_text(code: &str) -> &'static str {
    match code {
        "offline" => "无法连接县局服务器：请检查网络；本机的更改已保存，联网后会自动上传",
        "timeout" => "县局服务器长时间没有响应：网络可能不稳定，稍后会自动重试",
        "unauthorized" => "本机的同步凭据无效或已被停用：请向县局索取新的接入令牌，重新接入县局",
        "refused" => "县局拒收了部分更改，已移入「被拒更改」；其余更改照常同步",
        "too_large" => "一次上传的数据过大，已自动缩小批次重试",
        "unsupported_version" => "本机软件版本过旧，请升级软件",
        "bad_request" => "县局无法读取本机的同步数据，请联系县局技术人员",
        "server_error" => "县局服务器出错，稍后会自动重试",
        "bad_response" => "县局的回复无法读取，稍后会自动重试",
        "local_error" => "本机台账出错，请运行数据自检",
        "sync_position_damaged" => {
            "本机的同步进度记录已损坏：台账数据不受影响，从头重新同步即可恢复（已有案件不会重复或丢失）"
        }
        "not_enrolled" => "本机尚未接入县局：请在设置中填写县局服务器地址和接入令牌",
        "tls_untrusted" => {
            "县局服务器的证书不是本机信任的县级根证书签发的：可能填错了根证书或指纹，也可能有人冒充县局。请向县局核对根证书（ca.pem）或指纹后重新填写，切勿忽略"
        }
        "tls_expired" => {
            "县局服务器的证书已过期（或本机日期不对）：请先核对本机日期；日期无误时请县局管理员运行 ledger-hub tls init 续签证书"
        }
        "tls_not_yet_valid" => "县局服务器的证书尚未生效：请核对本机的日期和时间",
        "tls_wrong_name" => {
            "县局服务器的证书与所填地址不符：请使用县局给出的地址（证书上的主机名或 IP 地址）"
        }
        "tls_failed" => {
            "无法与县局服务器建立加密连接：请确认地址以 https:// 开头、端口正确；仍不行请联系县局技术人员"
        }
        "plain_http" => {
            "与县局的连接没有加密（http://）：信访材料会明文经过网络。请向县局索取 https:// 地址和根证书后改用加密连接"
        }
        _ => "同步出错，稍后会自动重试",
    }
}
