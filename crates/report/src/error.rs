//! Errors of rendering and reading reports, each a Chinese sentence that says what to do.

/// Why a report, a workbook or a document could not be produced or read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReportError {
    /// The Excel writer failed.
    #[error("生成 Excel 文件出错：{0}；请重试，或改用 CSV 导出")]
    Write(String),
    /// The file is not a readable .xlsx workbook.
    #[error(
        "无法读取 Excel 文件（{0}）：请确认它是 .xlsx 格式；旧的 .xls 文件请先在 Excel 中另存为 .xlsx"
    )]
    Read(String),
    /// The workbook has no data to import.
    #[error("Excel 文件中没有数据：请把台账放在第一个工作表（或名为「台账」的工作表），首行为表头")]
    EmptySheet,
    /// The case lacks what the document states (a 信访处理意见书 without a 答复, say).
    #[error("{0}")]
    Refused(String),
}

impl From<rust_xlsxwriter::XlsxError> for ReportError {
    fn from(e: rust_xlsxwriter::XlsxError) -> Self {
        Self::Write(e.to_string())
    }
}
