//! The command line's shape (clap). Every text a person reads in `--help` is Chinese; the
//! headings clap adds itself are translated in [`crate::help`].

use std::path::PathBuf;

use chrono::NaiveDate;
use clap::{Parser, Subcommand, ValueEnum};

/// 信访台账命令行：登记、办理、查询、统计、导入导出、同步。
#[derive(Debug, Parser)]
#[command(name = "ledger", version)]
pub(crate) struct Cli {
    /// 数据目录（台账所在）；默认与桌面程序相同。
    #[arg(long, global = true, env = "LEDGER_DATA_DIR")]
    pub(crate) data_dir: Option<PathBuf>,
    /// 记录为办理人的人员（须在人员名单上）；默认名单上的第一位。
    #[arg(long, global = true, env = "LEDGER_HANDLER")]
    pub(crate) handler: Option<String>,
    /// 出错时同时显示技术原因。
    #[arg(long, short, global = true)]
    pub(crate) verbose: bool,
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// 创建台账：在数据目录中新建本单位的台账（不接入县局）。
    Init {
        /// 单位代码。
        #[arg(long)]
        office: String,
        /// 单位名称（如 黄桥镇国土所）。
        #[arg(long)]
        name: String,
        /// 单位类别：bureau（县局）或 township（乡镇国土所）。
        #[arg(long)]
        role: String,
        /// 本单位管辖的乡镇；可重复填写多个。
        #[arg(long)]
        township: Vec<String>,
        /// 办理人；可重复填写多个，第一位为默认办理人。
        #[arg(long)]
        staff: Vec<String>,
    },
    /// 人员名单：可记录办理操作的人员。
    Staff {
        #[command(subcommand)]
        command: StaffCommand,
    },
    /// 全县规则：期限规则、节假日安排、文书设置（复查机关、文书出具机关）和法律依据；由县局修改，随同步发往各所。不加子命令时显示。
    Rules {
        #[command(subcommand)]
        command: Option<RulesCommand>,
    },
    /// 导入台账：CSV（UTF-8 或 GBK）或 Excel（.xlsx）；工作记录文件（.jsonl）；或一个文件夹中的全部这类文件（如 samples/2017）。
    Import {
        /// 台账文件、工作记录文件或文件夹。
        file: PathBuf,
        /// 只导入正确的行，列出有错误的行。
        #[arg(long)]
        skip_invalid: bool,
        /// 只报告导入将做什么，不写入任何数据。
        #[arg(long)]
        dry_run: bool,
        /// 确认：与本台账已有案件同号（但没有案件标识）的行是该案件的重复信访件，追加到该案件。
        #[arg(long)]
        join_by_number: bool,
    },
    /// 导出台账。
    Export {
        /// 导出为 CSV 文件。
        #[arg(long, required_unless_present = "xlsx")]
        csv: Option<PathBuf>,
        /// 导出为 Excel 工作簿（.xlsx）。
        #[arg(long)]
        xlsx: Option<PathBuf>,
    },
    /// 案件：登记、列表、详情、办理。
    Case {
        #[command(subcommand)]
        command: CaseCommand,
    },
    /// 政策咨询：记录在窗口或电话中解答的政策咨询（计次，不是信访案件）。
    Consult {
        #[command(subcommand)]
        command: ConsultCommand,
    },
    /// 宣传与培训：记录宣传活动（4.22地球日、6.25土地日等）和信访业务培训。
    Outreach {
        #[command(subcommand)]
        command: OutreachCommand,
    },
    /// 矛盾纠纷排查：本单位每月的排查表（增加事项、报送）；县局查看全县当月排查情况和未报送的单位。
    Screening {
        #[command(subcommand)]
        command: ScreeningCommand,
    },
    /// 信访值班：排班，查看今天的值班和未来几天无人值班的日子。
    Duty {
        #[command(subcommand)]
        command: DutyCommand,
    },
    /// 领导包案包片：记录领导包案（一件信访事项）或包片（一个片区），及其化解情况（计入化解率）。
    Leader {
        #[command(subcommand)]
        command: LeaderCommand,
    },
    /// 领导接待日：记录接待日（日期、接待领导、地点）和当天接待的来访（每批来访先登记为案件）。
    Reception {
        #[command(subcommand)]
        command: ReceptionCommand,
    },
    /// 工作记录：查看、更正或作废一份政策咨询、宣传培训、排查、值班、包案或接待日记录（记录只能由建立它的单位修改）。
    Work {
        #[command(subcommand)]
        command: WorkCommand,
    },
    /// 期限：已超期和即将到期的案件。
    Due {
        /// 只看一个乡镇。
        #[arg(long)]
        township: Option<String>,
        /// 输出 JSON（供脚本使用）。
        #[arg(long)]
        json: bool,
    },
    /// 统计报表。
    Report {
        /// 统计一个年度。
        #[arg(long, conflicts_with_all = ["from", "to", "month"])]
        year: Option<i32>,
        /// 统计一个月份（如 2017-03）。
        #[arg(long, conflicts_with_all = ["from", "to"])]
        month: Option<String>,
        /// 统计期间的第一天。
        #[arg(long, requires = "to")]
        from: Option<NaiveDate>,
        /// 统计期间的最后一天。
        #[arg(long, requires = "from")]
        to: Option<NaiveDate>,
        /// 只统计一个乡镇。
        #[arg(long)]
        township: Option<String>,
        /// 输出格式。
        #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
        format: ReportFormat,
        /// 写入文件而不是输出到屏幕（xlsx 必须写入文件）。
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// 文书：把案件的法定文书输出为 HTML（不加 --issue 时为预览稿）。
    Doc {
        /// 案件标识或案件编号。
        id: String,
        /// 受理告知书、不予受理告知书、延长办理期限告知书、信访处理意见书、办结报告（或其代码）。
        kind: String,
        /// 正式出具：编文书编号并记入案件。
        #[arg(long)]
        issue: bool,
        /// 写入的 HTML 文件；默认输出到屏幕。
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// 备份：台账的一致副本（加密台账另写密钥文件「备份文件名.keys」，两者须一起保存）。
    Backup {
        /// 备份文件。
        #[arg(long)]
        out: PathBuf,
    },
    /// 恢复：用备份替换台账（本机启用新的设备标识）。加密的备份须与其密钥文件（备份文件名.keys）放在一起，在另一台电脑上用恢复口令（LEDGER_PASSPHRASE）打开。
    Restore {
        /// 备份文件。
        file: PathBuf,
    },
    /// 更换台账的钥匙：新的数据钥匙、新的恢复口令（只显示一次）；旧口令随即失效。当前口令取自 LEDGER_PASSPHRASE（未设置时用系统密钥环），新口令取自 LEDGER_NEW_PASSPHRASE。
    Rekey {
        /// 新钥匙存入系统密钥环，不用口令。
        #[arg(long)]
        keyring: bool,
    },
    /// 数据自检：检查台账文件并清点其内容。
    Check {
        /// 同时读取每份文档，并按县局的校验规则检查每条待上传的更改。
        #[arg(long)]
        deep: bool,
    },
    /// 接入县局：凭接入令牌在数据目录中创建本机的台账，绑定到县局的本单位。
    Enroll {
        /// 县局服务器地址（如 https://10.0.0.5:8750）。
        #[arg(long)]
        hub: String,
        /// 县局发给本单位的一次性接入令牌。
        #[arg(long)]
        token: String,
        /// 办理人；可重复填写多个。
        #[arg(long)]
        staff: Vec<String>,
        #[command(flatten)]
        trust: TrustArgs,
    },
    /// 县局服务器地址：改用加密连接（https）或新地址，不必重新接入。
    Hub {
        #[command(subcommand)]
        command: HubCommand,
    },
    /// 同步：与县局同步，直到没有待传的数据。
    Sync {
        /// 超过这么多秒仍未完成就停止。
        #[arg(long, default_value_t = 120)]
        timeout: u64,
        /// 同步进度记录损坏时使用：先清除本机的同步进度，再从头与县局核对（已有案件合并，不会重复或丢失；未上传的更改照常上传）。
        #[arg(long)]
        restart: bool,
    },
    /// 数据修复：取回被县局拒收的案件（以县局记录为准，再重新记录本机的办理操作），然后逐份与县局核对并修复不一致的文档。
    Repair,
    /// 同步包：完全没有网络时用 U 盘同步。
    Bundle {
        #[command(subcommand)]
        command: BundleCommand,
    },
    /// 同步状态。
    Status {
        /// 输出 JSON（供脚本使用）。
        #[arg(long)]
        json: bool,
    },
    /// 导入演示数据（标记为演示数据，可在桌面程序的设置中清除）。
    #[command(hide = true)]
    DemoSeed,
    /// 循环登记案件，每件保存后输出其标识（崩溃测试用）。
    #[command(hide = true)]
    WriteLoop {
        /// 登记多少件。
        #[arg(long, default_value_t = 1000)]
        count: u32,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum RulesCommand {
    /// 显示全县规则：现行期限规则、节假日表覆盖范围、文书设置、法律依据和变更记录。
    Show,
    /// 修改一项规则（县局）：规则项可用代码或名称，如 county.review_body 或 复查机关、policy.decide_days、basis.illegal_occupation。
    Set {
        /// 规则项。
        item: String,
        /// 新的值。
        value: String,
        /// 生效日期（YYYY-MM-DD，默认今天；不能早于今天）。
        #[arg(long)]
        from: Option<NaiveDate>,
        /// 依据（文件名称或文号）。
        #[arg(long, default_value = "")]
        note: String,
        /// 办理人。
        #[arg(long)]
        handler: Option<String>,
    },
    /// 录入一年的节假日安排（县局）：文件每行「日期 holiday|workday 名称」，如 2027-01-01 holiday 元旦。
    Holidays {
        /// 年份。
        year: i32,
        /// 节假日安排文件（UTF-8）。
        #[arg(long)]
        file: PathBuf,
        /// 依据（如 国务院办公厅关于2027年部分节假日安排的通知）。
        #[arg(long, default_value = "")]
        note: String,
        /// 办理人。
        #[arg(long)]
        handler: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum StaffCommand {
    /// 添加人员。
    Add {
        /// 姓名。
        name: String,
    },
    /// 移除人员。
    Remove {
        /// 姓名。
        name: String,
    },
    /// 列出人员名单。
    List,
}

#[derive(Debug, Subcommand)]
pub(crate) enum CaseCommand {
    /// 登记：按 JSON 登记一件案件（文件，或 - 表示标准输入）；输出新案件的标识。
    New {
        /// JSON 文件。
        #[arg(long)]
        json: PathBuf,
    },
    /// 列表：筛选、搜索、分页。
    List {
        /// 办理状态（代码或中文，如 登记、办理中）。
        #[arg(long)]
        status: Option<String>,
        /// 乡镇名称。
        #[arg(long)]
        township: Option<String>,
        /// 搜索文字（姓名、村、诉求内容、编号）。
        #[arg(long)]
        query: Option<String>,
        /// 只列已超期的案件。
        #[arg(long)]
        overdue: bool,
        /// 每页条数。
        #[arg(long)]
        limit: Option<u32>,
        /// 跳过的条数。
        #[arg(long)]
        offset: Option<u32>,
        /// 输出 JSON（供脚本使用）。
        #[arg(long)]
        json: bool,
    },
    /// 详情。
    Show {
        /// 案件标识或案件编号。
        id: String,
        /// 输出 JSON（供脚本使用）。
        #[arg(long)]
        json: bool,
    },
    /// 办理：记录一项办理操作。
    Act {
        /// 案件标识或案件编号。
        id: String,
        /// 办理动作：受理、不予受理、转送、交办、改派、调查核实、延期、答复、送达、复查、复查意见、复核、复核意见、督办、督办反馈、紧急上报、回访、评价、办结、作废等（中文或代码，如 accept）。
        action: String,
        /// 交办、改派的乡镇，转送的机关，送达的受送达人，作出复查、复核意见的机关，被督办单位（默认承办乡镇），或紧急上报的对象（如 县委县政府）。
        #[arg(long)]
        to: Option<String>,
        /// 交办限期，延期后的新期限，或督办单的反馈期限。
        #[arg(long)]
        due: Option<NaiveDate>,
        /// 说明、理由、答复内容、督办要求、督办反馈、上报内容或回访情况。
        #[arg(long)]
        text: Option<String>,
        /// 评价结果（评价时），或回访时信访人表示的满意度：满意、基本满意或不满意。
        #[arg(long)]
        result: Option<String>,
        /// 办结原因。
        #[arg(long)]
        reason: Option<String>,
        /// 处理意见（答复时）：予以支持、部分支持、解释说明或不予支持；复查意见、复核意见的结论：维持、撤销并责令重作或变更。
        #[arg(long)]
        outcome: Option<String>,
        /// 送达日期（送达时）：信访人收到文书之日；或紧急上报的日期（已先电话上报时）。默认今天。
        #[arg(long)]
        date: Option<NaiveDate>,
        /// 送达的文书（送达时），默认尚待送达的最新文书（答复意见书、复查意见书或复核意见书）。
        #[arg(long)]
        document: Option<String>,
        /// 办理程序（受理、交办时）：信访程序、检举控告办理、执法查处、诉讼或行政复议、仲裁、其他法定程序、建议意见办理；默认按信访目的提出。
        #[arg(long)]
        track: Option<String>,
        /// 所反馈的督办单（督办反馈时）：督办记录的标识（`ledger case show` 列出）；只有一份待反馈时可省略。
        #[arg(long)]
        refers: Option<String>,
        /// 回访方式（回访时）：电话、上门、短信、信函或约谈。
        #[arg(long)]
        method: Option<String>,
        /// 无法回访（回访时）：联系不上信访人。
        #[arg(long)]
        unreachable: bool,
    },
    /// 附件：为案件添加一个文件。
    Attach {
        /// 案件标识或案件编号。
        id: String,
        /// 文件。
        file: PathBuf,
    },
    /// 修改字段（问题类别、被反映对象等）。
    Set {
        /// 案件标识或案件编号。
        id: String,
        /// 字段（代码或中文名）。
        field: String,
        /// 新的值。
        value: String,
    },
    /// 再次来信来访：按 JSON 追加一件重复信访件。
    Submit {
        /// 案件标识或案件编号。
        id: String,
        /// JSON 文件。
        #[arg(long)]
        json: PathBuf,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum ReportFormat {
    /// 便于阅读的中文统计表。
    Text,
    /// 统计数据 JSON。
    Json,
    /// 年度报告的综述段落。
    Summary,
    /// 统计工作簿（.xlsx；须加 --out）。
    Xlsx,
}

/// How this office recognises the county hub's certificate.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct TrustArgs {
    /// 县局根证书文件（ledger-hub tls init 生成的 ca.pem）。
    #[arg(long, conflicts_with = "ca_fingerprint")]
    pub(crate) ca: Option<PathBuf>,
    /// 县局根证书指纹（ledger-hub 在接入令牌旁输出的 SHA-256 指纹）。
    #[arg(long)]
    pub(crate) ca_fingerprint: Option<String>,
    /// 允许以不加密的 http:// 连接其他计算机上的县局（不建议；状态中会一直提示）。
    #[arg(long)]
    pub(crate) allow_http: bool,
}

#[derive(Debug, Subcommand)]
pub(crate) enum HubCommand {
    /// 改用县局服务器的新地址（例如从 http:// 改为 https://），先连接核对再保存。
    SetUrl {
        /// 新地址（如 https://10.0.0.5:8750）。
        url: String,
        #[command(flatten)]
        trust: TrustArgs,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum BundleCommand {
    /// 导出同步包：把所有待上传的更改写入一个签名的同步包，交县局导入。
    Export {
        /// 同步包文件。
        #[arg(long)]
        out: PathBuf,
    },
    /// 导入县局返回的同步包。
    Import {
        /// 县局返回的同步包。
        file: PathBuf,
    },
}

/// Lists of work records: which year, and how to print.
#[derive(Debug, clap::Args)]
pub(crate) struct WorkListArgs {
    /// 只列出一个年度的记录。
    #[arg(long)]
    pub(crate) year: Option<i32>,
    /// 输出 JSON（供脚本使用）。
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Debug, Subcommand)]
pub(crate) enum ConsultCommand {
    /// 记录一次政策咨询解答。
    Add {
        /// 咨询日期（YYYY-MM-DD，默认今天）。
        #[arg(long)]
        date: Option<NaiveDate>,
        /// 咨询方式：窗口、电话或其他。
        #[arg(long, default_value = "窗口")]
        channel: String,
        /// 咨询事项。
        #[arg(long)]
        topic: String,
        /// 解答内容。
        #[arg(long)]
        answer: String,
        /// 咨询人（可不填）。
        #[arg(long)]
        asker: Option<String>,
    },
    /// 列出政策咨询记录。
    List(WorkListArgs),
}

#[derive(Debug, Subcommand)]
pub(crate) enum OutreachCommand {
    /// 记录一次宣传或培训活动。
    Add {
        /// 活动日期（YYYY-MM-DD，默认今天）。
        #[arg(long)]
        date: Option<NaiveDate>,
        /// 活动类型：4.22地球日、6.25土地日、12.4宪法日、信访业务培训、其他宣传。
        #[arg(long)]
        occasion: String,
        /// 地点。
        #[arg(long)]
        place: String,
        /// 主题。
        #[arg(long)]
        topic: Option<String>,
        /// 发放宣传单（张）。
        #[arg(long)]
        leaflets: Option<u64>,
        /// 张贴标语（条）。
        #[arg(long)]
        slogans: Option<u64>,
        /// 召开群众会（次）。
        #[arg(long)]
        mass_meetings: Option<u64>,
        /// 召开座谈会（次）。
        #[arg(long)]
        forums: Option<u64>,
        /// 举办培训（期）。
        #[arg(long)]
        trainings: Option<u64>,
        /// 参加人数。
        #[arg(long)]
        attendees: Option<u64>,
    },
    /// 列出宣传与培训记录。
    List(WorkListArgs),
}

#[derive(Debug, Subcommand)]
pub(crate) enum ScreeningCommand {
    /// 在本单位某月的排查表中增加一项矛盾纠纷（该月还没有排查表时先建立）。
    Add {
        /// 排查月份（如 2017-04，默认本月）。
        #[arg(long)]
        month: Option<String>,
        /// 当事人。
        #[arg(long)]
        parties: String,
        /// 地点。
        #[arg(long)]
        place: String,
        /// 矛盾纠纷情况。
        #[arg(long)]
        issue: String,
        /// 风险等级：高、中、低。
        #[arg(long)]
        risk: String,
        /// 稳控化解措施。
        #[arg(long)]
        measures: String,
        /// 责任人。
        #[arg(long)]
        owner: String,
        /// 状态：稳控中、化解中、已化解、已转为信访事项。
        #[arg(long, default_value = "稳控中")]
        status: String,
    },
    /// 报送本单位某月的排查表（本月没有矛盾纠纷时也报送，表示「零报告」）。
    File {
        /// 排查月份（如 2017-04，默认本月）。
        #[arg(long)]
        month: Option<String>,
    },
    /// 某月的排查情况：各单位的排查表，县局还能看到未报送的单位。
    Show {
        /// 排查月份（如 2017-04，默认本月）。
        #[arg(long)]
        month: Option<String>,
        /// 输出 JSON（供脚本使用）。
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum WorkCommand {
    /// 显示一份工作记录及其条目。
    Show {
        /// 记录标识。
        id: String,
        /// 输出 JSON（供脚本使用）。
        #[arg(long)]
        json: bool,
    },
    /// 更正记录（或其中一个条目）的字段：--set 字段=值，可重复，如 --set leaflets=16000 --set status=settled。
    Amend {
        /// 记录标识。
        id: String,
        /// 条目标识（更正排查表中的一项时填写）。
        #[arg(long)]
        item: Option<String>,
        /// 字段=值。
        #[arg(long = "set", required = true)]
        set: Vec<String>,
    },
    /// 作废记录（或其中一个条目）：记录保留，不再计入统计。
    Void {
        /// 记录标识。
        id: String,
        /// 条目标识（作废排查表中的一项时填写）。
        #[arg(long)]
        item: Option<String>,
        /// 作废理由。
        #[arg(long)]
        reason: String,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum DutyCommand {
    /// 安排一天的值班。
    Add {
        /// 值班日期（YYYY-MM-DD）。
        #[arg(long)]
        date: NaiveDate,
        /// 值班人员。
        #[arg(long)]
        staff: String,
        /// 班次：白班、夜班或全天。
        #[arg(long, default_value = "全天")]
        shift: String,
        /// 值班电话。
        #[arg(long)]
        phone: Option<String>,
    },
    /// 今天的值班，以及未来几天（含今天）的值班安排和无人值班的日子。
    Show {
        /// 查看几天（1 至 31，默认 7）。
        #[arg(long, default_value_t = 7)]
        days: u32,
        /// 查看另一单位的值班（县局；填单位代码）。
        #[arg(long)]
        office: Option<String>,
        /// 输出 JSON（供脚本使用）。
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum LeaderCommand {
    /// 记录一项领导包案或包片；化解后用 ledger work amend 记录结果（--set settlement=已化解 --set result=…）。
    Add {
        /// 包案或包片。
        #[arg(long, default_value = "包案")]
        scope: String,
        /// 包案领导。
        #[arg(long)]
        leader: String,
        /// 包案事项（如案件编号）或片区。
        #[arg(long)]
        matter: String,
        /// 开始日期（YYYY-MM-DD，默认今天）。
        #[arg(long)]
        start: Option<NaiveDate>,
    },
    /// 列出领导包案包片及化解情况。
    List(WorkListArgs),
}

#[derive(Debug, Subcommand)]
pub(crate) enum ReceptionCommand {
    /// 记录一次领导接待日；输出其标识。
    Add {
        /// 接待日期（YYYY-MM-DD，默认今天）。
        #[arg(long)]
        date: Option<NaiveDate>,
        /// 接待领导。
        #[arg(long)]
        leader: String,
        /// 接待地点。
        #[arg(long)]
        place: String,
    },
    /// 在接待日记入一批来访：先用 ledger case new 登记，再用其案件编号记入。
    Visitor {
        /// 接待日记录的标识。
        id: String,
        /// 案件编号（或案件标识）。
        #[arg(long = "case")]
        case: String,
        /// 反映问题。
        #[arg(long)]
        matter: String,
        /// 来访人数。
        #[arg(long)]
        persons: Option<u64>,
        /// 接待结果：当场解决或登记办理。
        #[arg(long)]
        outcome: String,
        /// 答复意见。
        #[arg(long)]
        result: Option<String>,
    },
    /// 列出领导接待日。
    List(WorkListArgs),
}
