//! The command line's shape (clap).

use std::path::PathBuf;

use chrono::NaiveDate;
use clap::{Parser, Subcommand, ValueEnum};

/// 信访台账: the office's petition ledger from a terminal.
#[derive(Debug, Parser)]
#[command(name = "ledger", version, about = "信访台账命令行：登记、办理、查询、统计、导入导出")]
pub(crate) struct Cli {
    /// 数据目录 (the store); default: the desktop app's directory.
    #[arg(long, global = true, env = "LEDGER_DATA_DIR")]
    pub(crate) data_dir: Option<PathBuf>,
    /// 办理人 to record (must be on the staff list); default: the first staff member.
    #[arg(long, global = true, env = "LEDGER_HANDLER")]
    pub(crate) handler: Option<String>,
    /// Show the technical cause of errors.
    #[arg(long, short, global = true)]
    pub(crate) verbose: bool,
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// 创建台账: create this office's store.
    Init {
        /// 单位代码.
        #[arg(long)]
        office: String,
        /// 单位名称 (黄桥镇国土所).
        #[arg(long)]
        name: String,
        /// township or bureau.
        #[arg(long)]
        role: String,
        /// A township this office answers for (repeat for several).
        #[arg(long)]
        township: Vec<String>,
        /// A staff member (办理人); repeat for several; the first is the default.
        #[arg(long)]
        staff: Vec<String>,
    },
    /// 人员名单: the staff who record actions.
    Staff {
        #[command(subcommand)]
        command: StaffCommand,
    },
    /// 导入台账: import a ledger, CSV (UTF-8 or GBK) or Excel (.xlsx).
    Import {
        /// The file.
        file: PathBuf,
        /// Import the good rows and list the bad ones.
        #[arg(long)]
        skip_invalid: bool,
        /// 只报告导入将做什么，不写入任何数据
        #[arg(long)]
        dry_run: bool,
        /// 确认：与本台账已有案件同号（但没有案件标识）的行是该案件的重复信访件，追加到该案件
        #[arg(long)]
        join_by_number: bool,
    },
    /// 导出台账.
    Export {
        /// Write the ledger as CSV here.
        #[arg(long, required_unless_present = "xlsx")]
        csv: Option<PathBuf>,
        /// Write the ledger as an Excel workbook (.xlsx) here.
        #[arg(long)]
        xlsx: Option<PathBuf>,
    },
    /// 案件: register, list, show, act.
    Case {
        #[command(subcommand)]
        command: CaseCommand,
    },
    /// 期限: overdue and due soon.
    Due {
        /// One township.
        #[arg(long)]
        township: Option<String>,
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
    /// 统计报表.
    Report {
        /// A calendar year.
        #[arg(long, conflicts_with_all = ["from", "to", "month"])]
        year: Option<i32>,
        /// A calendar month (2017-03).
        #[arg(long, conflicts_with_all = ["from", "to"])]
        month: Option<String>,
        /// First day.
        #[arg(long, requires = "to")]
        from: Option<NaiveDate>,
        /// Last day.
        #[arg(long, requires = "from")]
        to: Option<NaiveDate>,
        /// One township.
        #[arg(long)]
        township: Option<String>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
        format: ReportFormat,
        /// Write to a file instead of stdout (required for xlsx).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// 文书: print a statutory document of a case as HTML (a preview unless --issue).
    Doc {
        /// Case id or number.
        id: String,
        /// 受理告知书, 不予受理告知书, 延长办理期限告知书, 信访处理意见书, 办结报告 (or the code).
        kind: String,
        /// Issue it: assign the 文书编号 and record the issue on the case.
        #[arg(long)]
        issue: bool,
        /// The HTML file to write; default stdout.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// 备份: a consistent copy of the store.
    Backup {
        /// The backup file.
        #[arg(long)]
        out: PathBuf,
    },
    /// 恢复: replace the store with a backup (a new device identity is minted).
    Restore {
        /// The backup file.
        file: PathBuf,
    },
    /// 数据自检: check the store file and count what it holds.
    Check {
        /// Also load and read every document, check every change waiting for the hub, and
        /// judge each as the hub would.
        #[arg(long)]
        deep: bool,
    },
    /// 登记到县局: create this device's store, bound to its office at the hub.
    Enroll {
        /// The hub's address (`http://10.0.0.5:8750`).
        #[arg(long)]
        hub: String,
        /// The one-time token from the bureau.
        #[arg(long)]
        token: String,
        /// A staff member (办理人); repeat for several.
        #[arg(long)]
        staff: Vec<String>,
    },
    /// 同步: sync with the hub until nothing is left to move.
    Sync {
        /// Give up after this many seconds.
        #[arg(long, default_value_t = 120)]
        timeout: u64,
    },
    /// 数据修复: recover cases whose changes the hub refused (the hub's record is kept and this
    /// office's actions recorded again), then compare every document with the hub and fix the
    /// ones that differ.
    Repair,
    /// 同步包: sync by USB stick when there is no link at all.
    Bundle {
        #[command(subcommand)]
        command: BundleCommand,
    },
    /// 同步状态.
    Status {
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
    /// Imports the demo data set (marked as such; removable in the desktop app's settings).
    #[command(hide = true)]
    DemoSeed,
    /// Registers cases in a loop, printing each id once it is saved (crash tests).
    #[command(hide = true)]
    WriteLoop {
        /// How many cases.
        #[arg(long, default_value_t = 1000)]
        count: u32,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum StaffCommand {
    /// Add a staff member.
    Add {
        /// 姓名.
        name: String,
    },
    /// Remove a staff member.
    Remove {
        /// 姓名.
        name: String,
    },
    /// List the staff.
    List,
}

#[derive(Debug, Subcommand)]
pub(crate) enum CaseCommand {
    /// 登记: register a case from JSON (a file, or - for stdin); prints the new id.
    New {
        /// The JSON file.
        #[arg(long)]
        json: PathBuf,
    },
    /// 列表: list, filter, search, page.
    List {
        /// Status code or label.
        #[arg(long)]
        status: Option<String>,
        /// Township name.
        #[arg(long)]
        township: Option<String>,
        /// Search text (names, villages, request, numbers).
        #[arg(long)]
        query: Option<String>,
        /// Only overdue cases.
        #[arg(long)]
        overdue: bool,
        /// Page size.
        #[arg(long)]
        limit: Option<u32>,
        /// Rows to skip.
        #[arg(long)]
        offset: Option<u32>,
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
    /// 详情.
    Show {
        /// Case id or number.
        id: String,
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
    /// 办理: record a workflow action.
    Act {
        /// Case id or number.
        id: String,
        /// accept, not_accept, forward, assign, reassign, investigate, extend, reply, follow_up,
        /// evaluate, close, void (or the Chinese label).
        action: String,
        /// Township (assign, reassign) or body (forward).
        #[arg(long)]
        to: Option<String>,
        /// Deadline (assign) or new deadline (extend).
        #[arg(long)]
        due: Option<NaiveDate>,
        /// Note, reason or reply text.
        #[arg(long)]
        text: Option<String>,
        /// 满意, 基本满意 or 不满意 (evaluate).
        #[arg(long)]
        result: Option<String>,
        /// 办结原因 (close).
        #[arg(long)]
        reason: Option<String>,
        /// 处理意见 (reply): 予以支持, 部分支持, 解释说明 or 不予支持.
        #[arg(long)]
        outcome: Option<String>,
    },
    /// 附件: attach a file.
    Attach {
        /// Case id or number.
        id: String,
        /// The file.
        file: PathBuf,
    },
    /// 修改字段: edit a field (问题类别, 被反映对象 ...).
    Set {
        /// Case id or number.
        id: String,
        /// Field code or label.
        field: String,
        /// New value.
        value: String,
    },
    /// 再次来信来访: add a repeat submission from JSON.
    Submit {
        /// Case id or number.
        id: String,
        /// The JSON file.
        #[arg(long)]
        json: PathBuf,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum ReportFormat {
    /// A readable Chinese table.
    Text,
    /// The statistics JSON.
    Json,
    /// The summary paragraph of the annual report.
    Summary,
    /// The statistics workbook (.xlsx; needs --out).
    Xlsx,
}

#[derive(Debug, Subcommand)]
pub(crate) enum BundleCommand {
    /// Writes every change waiting to go up to a signed bundle for the bureau to import.
    Export {
        /// The bundle file.
        #[arg(long)]
        out: PathBuf,
    },
    /// Applies the return bundle the bureau wrote.
    Import {
        /// The return bundle.
        file: PathBuf,
    },
}
