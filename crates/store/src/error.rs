//! What can go wrong in the store, with messages an office worker can act on.

use std::path::PathBuf;

use ledger_domain::CaseId;
use ledger_domain::schema::SchemaError;

/// A store error. Messages are Chinese sentences saying what to do; the source carries the
/// technical cause.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// Another process holds the store.
    #[error("数据目录 {dir} 正被另一个程序使用（{holder}）；请先关闭它，再重试")]
    InUse {
        /// The data directory.
        dir: PathBuf,
        /// Who holds it, as the lock file says.
        holder: String,
    },
    /// No store in the directory.
    #[error("数据目录 {0} 中还没有台账；请先运行 `ledger init` 或在设置中登记本单位")]
    Missing(PathBuf),
    /// A store already exists where a new one was asked for.
    #[error("数据目录 {0} 中已有台账，不能重复创建")]
    Exists(PathBuf),
    /// The store file was written by a newer version.
    #[error(
        "台账文件由更新版本的软件创建（结构版本 {found}，本软件支持到 {supported}）；请升级软件"
    )]
    TooNew {
        /// The store's migration level.
        found: i64,
        /// The newest this build knows.
        supported: i64,
    },
    /// No such case here.
    #[error("找不到案件 {0}")]
    NoCase(CaseId),
    /// A document is unreadable.
    #[error("案件 {case} 的数据无法读取：{source}")]
    Document {
        /// The case.
        case: CaseId,
        /// Why.
        #[source]
        source: Box<SchemaError>,
    },
    /// Automerge refused bytes or a change.
    #[error("案件数据格式有误：{0}")]
    Automerge(Box<ledger_domain::automerge::AutomergeError>),
    /// The disk is full.
    #[error("磁盘已满，本次操作未保存；请清理磁盘空间后重试（已保存的数据不受影响）")]
    DiskFull(#[source] rusqlite::Error),
    /// SQLite failed.
    #[error("台账数据库出错：{0}")]
    Sqlite(#[source] rusqlite::Error),
    /// The file system failed.
    #[error("读写文件出错：{0}")]
    Io(#[from] std::io::Error),
    /// A backup file is not a usable store.
    #[error("备份文件 {path} 不可用：{reason}")]
    BadBackup {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The key does not open the store (a wrong passphrase, another machine's keyring).
    #[error("口令不对，或台账文件不是用这把钥匙加密的：请核对口令后重试（也可以使用恢复口令）")]
    WrongKey,
    /// The store is encrypted and was opened without its key.
    #[error("台账已加密：需要口令（或系统密钥环）才能打开")]
    Encrypted,
    /// A key was given for a store that is not encrypted yet (it has to be encrypted first).
    #[error("台账尚未加密")]
    NotEncrypted,
    /// The thread that copies the store's WAL into its file could not start.
    #[error(
        "台账数据库的后台写盘线程无法启动（{0}）；请关闭程序后重新打开，仍不行请联系县局技术人员"
    )]
    Checkpoints(String),
    /// A write inside a batch failed part-way; the batch was rolled back whole.
    #[error("写入中途出错（{0}），本批数据已整体撤销，此前保存的数据不受影响")]
    BatchFailed(String),
    /// A whole document received from the hub does not load.
    #[error("收到的案件 {id} 数据无法读取：{reason}")]
    Unloadable {
        /// The case.
        id: CaseId,
        /// What Automerge said.
        reason: String,
    },
    /// A change received from the hub does not parse or apply (damaged on the way, or a
    /// hostile hub): skipped alone, the stored document untouched.
    #[error("收到的案件 {id} 的一条更改无法读取：{reason}")]
    BadChange {
        /// The case.
        id: CaseId,
        /// What Automerge said.
        reason: String,
    },
    /// The office's place in the hub's log does not read back (a damaged file); the cases
    /// are not affected, and a restart of sync from the beginning merges everything again.
    #[error(
        "本机的同步进度记录已损坏（{0}）。台账数据不受影响；可以从头重新同步，已有案件不会重复或丢失"
    )]
    BadSyncPosition(String),
    /// Stored JSON did not parse (a bug or a corrupted file).
    #[error("台账索引数据有误：{0}")]
    Json(#[from] serde_json::Error),
}

impl From<ledger_domain::automerge::AutomergeError> for StoreError {
    fn from(e: ledger_domain::automerge::AutomergeError) -> Self {
        Self::Automerge(Box::new(e))
    }
}

impl StoreError {
    /// A document of `case` that could not be read or written.
    pub fn document(case: CaseId, source: SchemaError) -> Self {
        Self::Document { case, source: Box::new(source) }
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        match e.sqlite_error_code() {
            Some(rusqlite::ErrorCode::DiskFull) => Self::DiskFull(e),
            _ => Self::Sqlite(e),
        }
    }
}

/// Results of the store.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;
