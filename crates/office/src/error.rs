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
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
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
            Self::Store(StoreError::InUse { .. }) => "store_in_use",
            Self::Store(StoreError::Missing(_)) => "not_initialised",
            Self::Store(StoreError::DiskFull(_)) => "disk_full",
            Self::Store(StoreError::NoCase(_)) => "not_found",
            Self::Store(_) => "storage",
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
