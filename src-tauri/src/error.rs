//! The one error shape the UI sees: `{code, message, fields?}` with a Chinese message that says
//! what to do. Only this crate knows the IPC shape; the office's errors stay plain Rust.

use ledger_office::{ClientError, FieldError, OfficeError, sync_message};
use serde::Serialize;

/// An error returned to the UI.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct CommandError {
    /// A stable code the UI may key on (`invalid_input`, `refused`, `offline` ...).
    pub code: String,
    /// What happened and what to do, in Chinese.
    pub message: String,
    /// For invalid input: each field's problem.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(test, ts(optional))]
    pub fields: Option<Vec<FieldError>>,
}

impl CommandError {
    /// An error with a code and a message.
    pub fn new(code: &str, message: impl Into<String>) -> Self {
        Self { code: code.to_owned(), message: message.into(), fields: None }
    }

    /// The store is not set up yet.
    pub fn not_ready() -> Self {
        Self::new("not_ready", "本机还没有台账：请先在「设置」中接入县局，或选择离线使用")
    }
}

impl From<OfficeError> for CommandError {
    fn from(e: OfficeError) -> Self {
        let code = e.code().to_owned();
        let fields = match &e {
            OfficeError::Invalid(fields) => Some(fields.clone()),
            _ => None,
        };
        tracing::warn!(%code, error = %e, "command failed");
        Self { code, message: e.to_string(), fields }
    }
}

impl From<ClientError> for CommandError {
    fn from(e: ClientError) -> Self {
        Self::new(e.code(), sync_message(&e))
    }
}

impl From<std::io::Error> for CommandError {
    fn from(e: std::io::Error) -> Self {
        Self::new("io", format!("读写文件出错：{e}"))
    }
}

/// Results of commands.
pub type CommandResult<T> = Result<T, CommandError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_serialise_as_code_message_and_fields() {
        let e = CommandError::from(OfficeError::Refused("案件已作废，不能再办理".into()));
        assert_eq!(
            serde_json::to_string(&e).unwrap(),
            r#"{"code":"refused","message":"案件已作废，不能再办理"}"#
        );
        let invalid = OfficeError::Invalid(vec![FieldError {
            field: "received".into(),
            label: "登记日期".into(),
            message: "请填写信访日期".into(),
        }]);
        let json = serde_json::to_value(CommandError::from(invalid)).unwrap();
        assert_eq!(json["code"], "invalid_input");
        assert_eq!(json["fields"][0]["field"], "received");
        assert!(json["message"].as_str().unwrap().contains("登记日期"));
        let offline = CommandError::from(ClientError::Offline("refused".into()));
        assert_eq!(offline.code, "offline");
        assert!(offline.message.contains("无法连接县局服务器"));
    }
}
