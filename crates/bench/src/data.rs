//! Deterministic land-petition data for the benchmarks, shaped like a county bureau's ledger:
//! petitioners with Chinese names, valid resident ID numbers (GB 11643), phones and addresses;
//! request texts of a few hundred characters drawn from the phrases land petitions use; whole
//! cases with 1 to 3 submissions and their event history; and rows of the canonical ledger
//! layout for import. The same seed always gives the same data.

use std::collections::BTreeMap;

use chrono::{Datelike, Days, NaiveDate};
use ledger_domain::fixtures::TOWNSHIPS;
use ledger_domain::model::case_number;
use ledger_domain::{
    ActionKind, Case, CaseId, Channel, CloseReason, Event, EventHead, Identity, NewCase,
    NewPetitioner, NewSubmission, Outcome, RegistrationContext, Role, Satisfaction, Source, Status,
    Submission,
};
use uuid::Uuid;

use crate::rng::Rng;

/// The first day a generated case may be received.
pub const FIRST_DAY: NaiveDate = match NaiveDate::from_ymd_opt(2023, 1, 3) {
    Some(d) => d,
    None => NaiveDate::MIN,
};

/// The last day a generated case may be received (or anything happen on it), unless today is
/// earlier: fixed, so the data do not change from one day to the next.
pub const LAST_DAY: NaiveDate = match NaiveDate::from_ymd_opt(2026, 11, 1) {
    Some(d) => d,
    None => NaiveDate::MIN,
};

const SURNAMES: [&str; 40] = [
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "周", "吴", "曾", "肖", "邓", "彭", "谢", "罗",
    "唐", "蒋", "胡", "尹", "邹", "龙", "向", "伍", "袁", "石", "易", "贺", "毛", "田", "谭", "廖",
    "雷", "戴", "段", "夏", "钟", "阳", "欧阳", "司马",
];

const GIVEN_NAMES: [&str; 60] = [
    "建国", "建军", "建华", "国华", "国庆", "志强", "志明", "德明", "德华", "春生", "春花", "秋菊",
    "秀英", "秀兰", "桂兰", "桂英", "玉梅", "玉兰", "小平", "小红", "细妹", "满秀", "冬生", "水生",
    "永福", "永红", "红梅", "海燕", "卫东", "卫国", "爱民", "爱华", "新民", "立新", "文华", "光辉",
    "伟", "强", "勇", "军", "芳", "敏", "跃进", "和平", "解放", "长青", "金花", "银秀", "石生",
    "松林", "福生", "贵生", "荣华", "明亮", "友良", "正平", "运来", "顺英", "雪梅", "丽华",
];

const GIVEN_CHARS: [&str; 48] = [
    "明", "华", "强", "伟", "芳", "娟", "敏", "静", "丽", "军", "勇", "杰", "涛", "斌", "超", "磊",
    "刚", "平", "辉", "鹏", "林", "峰", "波", "宇", "云", "霞", "红", "兰", "英", "秀", "梅", "琴",
    "燕", "萍", "玲", "桂", "春", "秋", "冬", "生", "福", "贵", "荣", "德", "海", "山", "金", "根",
];

const VILLAGES: [&str; 36] = [
    "大屋", "竹山", "石门", "黄泥", "杨柳", "枫树", "桃花", "新塘", "高坪", "长冲", "白沙", "岩口",
    "青山", "茶园", "田心", "花桥", "龙潭", "水口", "金竹", "柏树", "松林", "荷叶", "塘湾", "马鞍",
    "凉亭", "木瓜", "梅子", "石桥", "双江", "横山", "洪山", "桐木", "坪上", "杉木", "油茶", "栗山",
];

/// Resident ID regions: 洞口县 most often, then the rest of 邵阳.
const REGIONS: [(u64, &str); 8] = [
    (70, "430525"),
    (5, "430521"),
    (5, "430522"),
    (4, "430523"),
    (5, "430524"),
    (3, "430527"),
    (5, "430581"),
    (3, "430502"),
];

const MOBILE_PREFIXES: [&str; 16] = [
    "130", "131", "133", "135", "136", "137", "138", "139", "150", "151", "152", "158", "173",
    "180", "187", "199",
];

const COMPANIES: [&str; 8] = [
    "鑫源砂石场",
    "宏达实业有限公司",
    "县城市建设投资公司",
    "某建材公司",
    "兴旺养殖场",
    "恒丰房地产开发公司",
    "顺发石料厂",
    "绿源农业开发公司",
];

const PROJECTS: [&str; 7] = [
    "县道X047改扩建工程",
    "高速公路连接线",
    "工业园区二期",
    "移民安置小区",
    "中学扩建工程",
    "蓼水河堤加固工程",
    "集镇农贸市场",
];

const FORWARD_TO: [&str; 4] = ["县住房和城乡建设局", "县林业局", "县农业农村局", "县人民法院"];

const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK: [char; 11] = ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'];

/// What a petition is about; decides its phrases, category and domain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Topic {
    Homestead,
    Farmland,
    Acquisition,
    Contract,
    Certificate,
    Mining,
    Forest,
}

const TOPICS: [(u64, Topic); 7] = [
    (30, Topic::Homestead),
    (22, Topic::Farmland),
    (12, Topic::Acquisition),
    (10, Topic::Contract),
    (14, Topic::Certificate),
    (5, Topic::Mining),
    (7, Topic::Forest),
];

// Placeholders: {n} a person, {y} a year, {m} square metres, {mu} mu, {g} a village group,
// {h} households, {k} yuan, {c} a company, {p} a project.
const OPENERS: [&str; 5] = [
    "本人{n}，系{t}{v}{g}组村民，现就以下问题向县国土资源局反映。",
    "我们是{t}{v}{g}组的村民，共{h}户联名反映本组的土地问题，恳请领导重视。",
    "信访人反映：{t}{v}{g}组存在下列问题，多次向村、镇两级反映未果。",
    "尊敬的县局领导：我叫{n}，家住{t}{v}{g}组，有一件事情压在心里多年，今天写信反映。",
    "{t}{v}村民{n}来访反映，其本人及同组{h}户村民的合法权益受到侵害。",
];

const HOMESTEAD: [&str; 10] = [
    "{y}年，同组村民{n}未经批准，在其承包的责任田上建房，占地约{m}平方米。",
    "该户已有宅基地一处，又以建房为名强占集体土地，违反一户一宅的规定。",
    "本人于{y}年申请宅基地建房，已按要求提交全部材料，至今未获审批。",
    "邻居{n}建房时越界占用我家宅基地约{m}平方米，经村组调解无果。",
    "我家宅基地使用证于{y}年办理，四至界址清楚，对方拒不承认。",
    "村里分配宅基地不公开、不公平，部分村干部亲属多占多建。",
    "{n}将老宅基地连同房屋私下卖给外村人，买方正在拆旧建新。",
    "旧房拆除后原宅基地一直未退还集体，新房又占用了公路边的耕地{m}平方米。",
    "我家老屋倒塌后重建，村里以宅基地超标为由不予签字，面积只有{m}平方米。",
    "对方在宅基地上建的三层楼房挡住我家唯一的出路，排水也被堵死。",
];

const FARMLAND: [&str; 10] = [
    "有人在基本农田上挖塘、堆放砂石，耕地已被严重破坏，面积约{mu}亩。",
    "{c}未办理任何用地手续，擅自占用集体耕地{mu}亩修建厂房。",
    "违法建筑已经封顶，镇国土所下达停工通知后对方仍在继续施工。",
    "占用耕地修建的围墙和硬化地面至今未拆除，影响周边{h}户农户耕种。",
    "{n}在责任田里倾倒建筑垃圾，连续数月每天都有渣土车进出。",
    "{y}年以来，组里的水田被陆续填平建房，耕地面积减少了{mu}亩。",
    "{c}在河边良田上建设搅拌站，粉尘和污水流进稻田，禾苗成片枯死。",
    "以发展设施农业为名修建的大棚实际上改作仓库，占用耕地约{m}平方米。",
    "村道两旁的农田被人挖走表层耕作土出售，留下深坑无人复垦。",
    "镇里曾经组织拆除过一次，但不到一个月又重新建了起来。",
];

const ACQUISITION: [&str; 9] = [
    "{y}年修建{p}征收我组土地{mu}亩，征地补偿款至今未足额发放。",
    "征地补偿标准低于县政府公布的标准，每亩相差约{k}元。",
    "青苗补偿和地上附着物补偿没有张榜公示，村组账目不清。",
    "被征地农民的社会保障没有落实，失地后全家生活困难。",
    "{p}实际占地比征地红线多出{mu}亩，多占部分没有任何补偿。",
    "组里把征地补偿款截留{k}元用于修路，没有召开村民会议讨论。",
    "我家被征收的房屋面积测量有误，少算了{m}平方米。",
    "安置地块至今没有落实，{h}户被征地户只能在外租房居住。",
    "征地时承诺安排的就业岗位没有兑现，补偿协议上的签名不是本人所签。",
];

const CONTRACT: [&str; 8] = [
    "本人承包的责任田{mu}亩被村组收回另行发包，没有给任何说法。",
    "土地流转合同到期后，流转方拒不退还土地，也不支付租金{k}元。",
    "土地承包经营权证上的面积与实际面积不符，相差约{mu}亩。",
    "{n}私自把集体的{mu}亩荒山转让给{c}，转让款去向不明。",
    "村组将机动地发包给村干部亲属，承包价格明显偏低。",
    "二轮延包时我家{h}口人只分到{mu}亩地，与同组农户相差很大。",
    "{c}租用我组土地后改变用途建设厂房，与合同约定的种植用途不符。",
    "出嫁女的承包地被组里收回，户口仍在本组却不能参与分配。",
];

const CERTIFICATE: [&str; 8] = [
    "本人房屋建于{y}年，至今未办理不动产权证，多次到窗口咨询未果。",
    "请求告知农村房地一体确权登记的办理程序和所需材料。",
    "不动产登记中心以历史遗留问题为由不予办理登记。",
    "我家宅基地和房屋已经测绘完毕，登记发证却迟迟没有下文。",
    "购买的安置房已入住{y}年，开发商未办理土地分割手续，无法办证。",
    "继承父母的房屋需要办理转移登记，不知道需要哪些证明材料。",
    "确权测量时把我家的自留地划给了邻居{n}，面积约{m}平方米。",
    "林权证与土地承包经营权证的四至重叠，请求明确以哪个为准。",
];

const MINING: [&str; 7] = [
    "{n}等人在后山无证开采砂石，放炮震裂我家房屋墙体。",
    "采石场越界开采，山体滑坡隐患严重，威胁下方{h}户村民安全。",
    "{c}采矿许可证到期后仍在继续开采，运输车辆压坏村道。",
    "河道里有人夜间偷采河砂，河岸塌方已冲毁农田{mu}亩。",
    "开采造成地下水位下降，{g}组{h}户村民的水井干涸。",
    "矿山闭坑后没有进行地质环境恢复治理，留下大片裸露山体。",
    "采矿占用的林地和耕地没有办理临时用地手续，也没有复垦。",
];

const FOREST: [&str; 7] = [
    "我组与邻组的山林权属界线不清，双方多次发生纠纷。",
    "{n}强行在我家承包的林地上砍伐杉木约{h}0株。",
    "争议地块有{y}年的老山林权证为证，对方所持证件系重复发证。",
    "{c}在林地上修建道路和厂房，没有办理林地占用审批手续。",
    "祖坟所在山地被{n}开挖种植油茶，双方为此发生冲突。",
    "村里把集体山林承包给外地老板，承包期长达{h}年，村民不知情。",
    "山林被划入公益林后，补偿款只发给了少数几户。",
];

const GENERAL: [&str; 12] = [
    "此事已于{y}年向村委会和镇政府反映，至今没有处理结果。",
    "镇国土所工作人员到现场看过，但一直没有下文。",
    "对方仗着有亲戚在乡里工作，态度蛮横，扬言不怕告。",
    "为此双方多次发生争吵，险些酿成打架斗殴事件。",
    "我们多次找村干部协调，村干部互相推诿，无人负责。",
    "家中老人年事已高，生活困难，实在无力长期奔波。",
    "现附上现场照片{h}张和当年的协议复印件一份。",
    "群众对此意见很大，有{h}户村民准备联名到市里上访。",
    "如果得不到解决，我们只能依法向上级机关反映。",
    "今年{y}月份我们又打了12336举报电话，也没有人来处理。",
    "去年汛期因水沟被填，{g}组有{h}户村民的稻田被淹。",
    "村里开过一次协调会，会上说好的事情会后又不认账。",
];

const REQUESTS: [&str; 8] = [
    "请求县国土资源局依法查处，责令其拆除违法建筑，恢复土地原状。",
    "恳请领导高度重视，尽快派人实地调查，依法维护我们的合法权益。",
    "请求依法确认土地权属，制止对方的侵权行为。",
    "请求依法依规补发征地补偿款，并公开补偿明细。",
    "请求尽快为我家办理不动产登记，发放证书。",
    "请求书面答复处理结果。",
    "请求对相关责任人依法依纪追究责任。",
    "请求组织双方调解，划清界址。",
];

const REPLIES: [&str; 4] = [
    "经调查核实，反映的问题基本属实，已责令当事人停止违法行为并限期拆除，由镇国土所跟踪督办。",
    "经现场核查，所反映地块权属清楚，对方行为不构成违法，已向信访人解释说明相关政策。",
    "经调查，征地补偿已按标准发放至村组，已督促村组张榜公示分配方案。",
    "经核实，信访人的登记申请材料齐全，已告知其到不动产登记中心窗口办理。",
];

/// The 信访目的 a clerk picks for a matter of this category: reports of violations are
/// 检举控告, enquiries 咨询, disputes and the rest 申诉求决.
fn purpose_of(category: &str, source: &Source) -> &'static str {
    match category {
        _ if *source == Source::Report12336 => "检举控告",
        "咨询及要求办证" => "咨询",
        "纠纷调处" | "涉采矿权" | "其它" => "申诉求决",
        _ => "检举控告",
    }
}

/// The office the generated cases belong to, as registration needs it.
#[derive(Debug, Clone)]
pub struct Registrar<'a> {
    /// 单位代码 of the registering office.
    pub office: &'a str,
    /// Its Automerge actor, hex.
    pub actor: &'a str,
    /// The prefix of its case numbers.
    pub prefix: &'a str,
    /// Its device letter.
    pub device: &'a str,
    /// Its staff (办理人); the first is the default.
    pub staff: &'a [String],
    /// The townships it answers for.
    pub townships: &'a [String],
    /// Persons from whom a submission counts as collective.
    pub collective_threshold: u32,
    /// The most representatives a visit may name.
    pub representatives_max: u32,
}

/// How far a case got.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Stage {
    Registered,
    Decided,
    Investigated,
    Replied,
    Closed,
}

/// A case's history as dates, before it becomes events or ledger cells.
#[derive(Debug, Clone)]
struct Timeline {
    fate: Fate,
    stage: Stage,
    extended: bool,
    review: bool,
    evaluated: Option<Satisfaction>,
    self_handled: bool,
    decided: NaiveDate,
    investigated: NaiveDate,
    replied: NaiveDate,
    evaluated_on: NaiveDate,
    closed: NaiveDate,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fate {
    Handled,
    NotAccepted,
    Forwarded,
    Voided,
}

/// Who records an event.
#[derive(Debug, Clone)]
struct Actor {
    role: Role,
    office: String,
    actor: String,
    handler: String,
}

impl Timeline {
    /// The status the timeline ends in.
    fn status(&self) -> Status {
        match (self.fate, self.stage) {
            (Fate::NotAccepted, _) => Status::NotAccepted,
            (Fate::Forwarded, _) => Status::Forwarded,
            (Fate::Voided, _) => Status::Voided,
            (_, Stage::Registered) => Status::Registered,
            (_, Stage::Decided) if self.self_handled => Status::Accepted,
            (_, Stage::Decided) => Status::Assigned,
            (_, Stage::Investigated) if self.extended => Status::Extended,
            (_, Stage::Investigated) => Status::InProgress,
            (_, Stage::Replied) if self.review => Status::UnderReview,
            (_, Stage::Replied) => Status::Replied,
            (_, Stage::Closed) => Status::Closed,
        }
    }
}

/// A matter's classification: source, channel, category and domain, all as labels.
#[derive(Debug, Clone)]
struct Matter {
    topic: Topic,
    source: Source,
    channel: Channel,
    category: &'static str,
    sector: &'static str,
}

/// Builds petitioners, request texts, registration input, whole cases and ledger rows from one
/// seed.
#[derive(Debug, Clone)]
pub struct Generator {
    rng: Rng,
    ids: Rng,
    /// The townships its cases are in (the fixture county's 24 unless told).
    townships: Vec<String>,
    numbers: BTreeMap<i32, u64>,
    official: BTreeMap<i32, u64>,
}

fn day_ms(date: NaiveDate, minute_of_day: u64) -> i64 {
    // Office hours in China Standard Time: 08:00 CST is 00:00 UTC.
    let minute = u32::try_from(minute_of_day.min(9 * 60)).unwrap_or(0);
    date.and_hms_opt(minute / 60, minute % 60, 0)
        .map(|t| t.and_utc().timestamp_millis())
        .unwrap_or(0)
}

fn add_days(date: NaiveDate, days: u64) -> NaiveDate {
    date.checked_add_days(Days::new(days)).unwrap_or(date)
}

/// The GB 11643 check character of the first 17 digits.
pub fn check_char(first17: &str) -> char {
    let sum: u32 = first17.chars().zip(WEIGHTS).map(|(c, w)| c.to_digit(10).unwrap_or(0) * w).sum();
    CHECK[(sum % 11) as usize]
}

impl Generator {
    /// A generator for `seed`.
    pub fn new(seed: u64) -> Self {
        Self {
            rng: Rng::new(seed),
            ids: Rng::new(seed ^ 0x05EE_D1D5),
            townships: TOWNSHIPS.iter().map(|t| (*t).to_owned()).collect(),
            numbers: BTreeMap::new(),
            official: BTreeMap::new(),
        }
    }

    /// A generator for `seed` whose cases are in `townships` (all of the fixture county's when
    /// the list is empty).
    pub fn with_townships(seed: u64, townships: Vec<String>) -> Self {
        let generator = Self::new(seed);
        if townships.is_empty() { generator } else { Self { townships, ..generator } }
    }

    /// Case numbers used so far, per year (to reserve them in the store's counters).
    pub fn case_numbers(&self) -> &BTreeMap<i32, u64> {
        &self.numbers
    }

    /// Official numbers (受理) used so far, per year.
    pub fn official_numbers(&self) -> &BTreeMap<i32, u64> {
        &self.official
    }

    /// A UUIDv7-shaped id minted at `ms`, from the seeded stream.
    fn uuid(ids: &mut Rng, ms: i64) -> Uuid {
        let ms = u128::from(u64::try_from(ms).unwrap_or(0)) & ((1 << 48) - 1);
        let rand_a = u128::from(ids.next_u64()) & 0xFFF;
        let rand_b = u128::from(ids.next_u64()) & ((1 << 62) - 1);
        Uuid::from_u128((ms << 80) | (0x7 << 76) | (rand_a << 64) | (0b10 << 62) | rand_b)
    }

    /// A Chinese name: mostly a common given name, sometimes two drawn characters.
    pub fn name(&mut self) -> String {
        let surname = *self.rng.pick(&SURNAMES);
        if self.rng.percent(70) {
            format!("{surname}{}", self.rng.pick(&GIVEN_NAMES))
        } else {
            format!("{surname}{}{}", self.rng.pick(&GIVEN_CHARS), self.rng.pick(&GIVEN_CHARS))
        }
    }

    /// A valid 18-digit resident ID number (GB 11643) of someone born 1940 to 1999.
    pub fn resident_id(&mut self) -> String {
        let region = *self.rng.weighted(&REGIONS);
        let birth = add_days(
            NaiveDate::from_ymd_opt(1940, 1, 1).unwrap_or(NaiveDate::MIN),
            self.rng.below(60 * 365),
        );
        let seq = self.rng.below(1000);
        let body = format!("{region}{}{seq:03}", birth.format("%Y%m%d"));
        let check = check_char(&body);
        format!("{body}{check}")
    }

    /// A mobile number, or now and then a county landline.
    pub fn phone(&mut self) -> String {
        if self.rng.percent(10) {
            format!("0739-72{:05}", self.rng.below(100_000))
        } else {
            format!("{}{:08}", self.rng.pick(&MOBILE_PREFIXES), self.rng.below(100_000_000))
        }
    }

    /// A village (问题属地).
    fn village(&mut self) -> String {
        format!("{}村", self.rng.pick(&VILLAGES))
    }

    /// A petitioner living in `township`'s `village`.
    pub fn petitioner(&mut self, township: &str, village: &str) -> NewPetitioner {
        let group = self.rng.range(1, 15);
        let address = if self.rng.percent(60) {
            format!("{township}{village}{group}组{}号", self.rng.range(1, 80))
        } else {
            format!("{township}{village}{group}组")
        };
        NewPetitioner {
            name: self.name(),
            id_number: self.resident_id(),
            phone: self.phone(),
            address,
            ..Default::default()
        }
    }

    fn fill(&mut self, template: &str, township: &str, village: &str) -> String {
        let mut out = String::with_capacity(template.len() + 32);
        let mut rest = template;
        while let Some(open) = rest.find('{') {
            out.push_str(&rest[..open]);
            let Some(close) = rest[open..].find('}') else { break };
            let key = &rest[open + 1..open + close];
            match key {
                "n" => out.push_str(&self.name()),
                "t" => out.push_str(township),
                "v" => out.push_str(village),
                "y" => out.push_str(&self.rng.range(2003, 2022).to_string()),
                "m" => out.push_str(&self.rng.range(30, 600).to_string()),
                "mu" => {
                    let tenths = self.rng.range(3, 120);
                    out.push_str(&format!("{}.{}", tenths / 10, tenths % 10));
                }
                "g" => out.push_str(&self.rng.range(1, 15).to_string()),
                "h" => out.push_str(&self.rng.range(3, 40).to_string()),
                "k" => out.push_str(&(self.rng.range(20, 900) * 100).to_string()),
                "c" => {
                    let company = *self.rng.pick(&COMPANIES);
                    out.push_str(company);
                }
                "p" => {
                    let project = *self.rng.pick(&PROJECTS);
                    out.push_str(project);
                }
                other => {
                    out.push('{');
                    out.push_str(other);
                    out.push('}');
                }
            }
            rest = &rest[open + close + 1..];
        }
        out.push_str(rest);
        out
    }

    fn phrases(topic: Topic) -> &'static [&'static str] {
        match topic {
            Topic::Homestead => &HOMESTEAD,
            Topic::Farmland => &FARMLAND,
            Topic::Acquisition => &ACQUISITION,
            Topic::Contract => &CONTRACT,
            Topic::Certificate => &CERTIFICATE,
            Topic::Mining => &MINING,
            Topic::Forest => &FOREST,
        }
    }

    /// 诉求内容: a few hundred characters about `topic`, never twice the same.
    fn request(&mut self, topic: Topic, township: &str, village: &str) -> String {
        let opener = *self.rng.pick(&OPENERS);
        let mut text = self.fill(opener, township, village);
        let own = Self::phrases(topic);
        let count = usize::try_from(self.rng.range(3, 6)).unwrap_or(3);
        for i in self.rng.distinct(own.len(), count) {
            text.push_str(&self.fill(own[i], township, village));
        }
        // A petition often raises a second matter in passing.
        if self.rng.percent(25) {
            let other = *self.rng.weighted(&TOPICS);
            let phrase = *self.rng.pick(Self::phrases(other));
            text.push_str(&self.fill(phrase, township, village));
        }
        let count = usize::try_from(self.rng.range(2, 4)).unwrap_or(2);
        for i in self.rng.distinct(GENERAL.len(), count) {
            text.push_str(&self.fill(GENERAL[i], township, village));
        }
        let count = usize::try_from(self.rng.range(1, 2)).unwrap_or(1);
        for i in self.rng.distinct(REQUESTS.len(), count) {
            text.push_str(REQUESTS[i]);
        }
        text
    }

    fn matter(&mut self) -> Matter {
        let topic = *self.rng.weighted(&TOPICS);
        let (source, channel) = self
            .rng
            .weighted(&[
                (35, (Source::Direct, Channel::Visit)),
                (5, (Source::Direct, Channel::Letter)),
                (14, (Source::Report12336, Channel::Phone)),
                (8, (Source::ProvincialBureau, Channel::Letter)),
                (8, (Source::CityBureau, Channel::Letter)),
                (10, (Source::CountyDepartment, Channel::Letter)),
                (10, (Source::OnlineOpinion, Channel::Online)),
                (5, (Source::Hotline12345, Channel::Phone)),
                (5, (Source::CityLandBureau, Channel::Letter)),
            ])
            .clone();
        let report = source == Source::Report12336;
        let (category, sector) = match topic {
            Topic::Homestead if report => ("违法占地建设", "涉土"),
            Topic::Homestead => *self.rng.pick(&[("违法占地建设", "涉土"), ("纠纷调处", "涉土")]),
            Topic::Farmland if report => {
                *self.rng.pick(&[("违法占地建设", "涉土"), ("破坏耕地", "涉土")])
            }
            Topic::Farmland => *self.rng.pick(&[("违法占地建设", "涉土"), ("破坏耕地", "涉土")]),
            Topic::Acquisition => *self.rng.pick(&[("纠纷调处", "涉土"), ("其它", "涉土")]),
            Topic::Contract if report => ("非法转让土地", "涉土"),
            Topic::Contract => *self.rng.pick(&[("纠纷调处", "涉土"), ("非法转让土地", "涉土")]),
            Topic::Certificate => {
                *self.rng.pick(&[("咨询及要求办证", "涉土"), ("咨询及要求办证", "其它")])
            }
            Topic::Mining if report => ("违法开采", "涉矿"),
            Topic::Mining => ("涉采矿权", "涉矿"),
            Topic::Forest => *self.rng.pick(&[("纠纷调处", "其它"), ("其它", "其它")]),
        };
        Matter { topic, source, channel, category, sector }
    }

    /// Registration input for a new case received on `received`, as the register form gives it
    /// (the clerk picks the 信访目的 the matter calls for).
    pub fn new_case(&mut self, received: NaiveDate) -> NewCase {
        let matter = self.matter();
        self.new_case_for(&matter, received).0
    }

    fn new_case_for(&mut self, matter: &Matter, received: NaiveDate) -> (NewCase, usize) {
        let township_index = self.rng.index(self.townships.len());
        let township = self.townships[township_index].clone();
        let township = township.as_str();
        let village = self.village();
        let visit = matter.channel == Channel::Visit;
        let people = if visit && self.rng.percent(8) {
            self.rng.range(5, 20)
        } else if visit {
            self.rng.range(1, 3)
        } else {
            1
        };
        let named = if people >= 5 {
            3
        } else if self.rng.percent(12) {
            2
        } else {
            1
        };
        // 信访工作条例 §20: several visitors speak through representatives.
        let petitioners = (0..named)
            .map(|_| NewPetitioner {
                representative: people >= 5,
                ..self.petitioner(township, &village)
            })
            .collect();
        let subject = match matter.topic {
            Topic::Mining | Topic::Farmland if self.rng.percent(40) => {
                (*self.rng.pick(&COMPANIES)).to_owned()
            }
            Topic::Homestead | Topic::Forest | Topic::Farmland => self.name(),
            _ => String::new(),
        };
        let request = self.request(matter.topic, township, &village);
        let input = NewCase {
            submission: NewSubmission {
                received: Some(received),
                channel: matter.channel.label().to_owned(),
                source: matter.source.label().to_owned(),
                persons: Some(u32::try_from(people).unwrap_or(1)),
                batches: None,
                collective: None,
                skip_level: self.rng.percent(6),
                repeat: false,
                anonymous: false,
                confidential: false,
                summary: String::new(),
                referred_by: String::new(),
                referral_number: String::new(),
                ..NewSubmission::default()
            },
            purpose: purpose_of(matter.category, &matter.source).to_owned(),
            sector: matter.sector.to_owned(),
            category: matter.category.to_owned(),
            township: township.to_owned(),
            subject,
            request,
            village,
            petitioners,
        };
        (input, township_index)
    }

    /// A received date in the data's span, no later than `end`.
    fn received(&mut self, end: NaiveDate) -> NaiveDate {
        let last = end.min(LAST_DAY);
        let span = u64::try_from((last - FIRST_DAY).num_days()).unwrap_or(0);
        add_days(FIRST_DAY, self.rng.below(span + 1))
    }

    fn timeline(&mut self, received: NaiveDate, end: NaiveDate) -> Timeline {
        let decided = add_days(received, self.rng.range(1, 5));
        let investigated = add_days(decided, self.rng.range(2, 12));
        let replied = add_days(investigated, self.rng.range(5, 40));
        let evaluated_on = add_days(replied, self.rng.range(3, 15));
        let closed = add_days(replied, self.rng.range(31, 45));
        let reachable = [
            (Stage::Closed, closed),
            (Stage::Replied, replied),
            (Stage::Investigated, investigated),
            (Stage::Decided, decided),
        ]
        .into_iter()
        .find(|(_, d)| *d <= end)
        .map_or(Stage::Registered, |(s, _)| s);
        // Most cases move as fast as the dates allow; some stall on the way.
        let stalled = [Stage::Registered, Stage::Decided, Stage::Investigated, Stage::Replied];
        let stage = if reachable == Stage::Registered || self.rng.percent(88) {
            reachable
        } else {
            let below: Vec<Stage> = stalled.into_iter().filter(|s| *s < reachable).collect();
            *self.rng.pick(&below)
        };
        let fate = if stage >= Stage::Decided {
            *self.rng.weighted(&[
                (92, Fate::Handled),
                (4, Fate::NotAccepted),
                (3, Fate::Forwarded),
                (1, Fate::Voided),
            ])
        } else {
            Fate::Handled
        };
        let handled = fate == Fate::Handled;
        let evaluated = (handled && stage == Stage::Closed && self.rng.percent(60)).then(|| {
            self.rng
                .weighted(&[
                    (70, Satisfaction::Satisfied),
                    (20, Satisfaction::BasicallySatisfied),
                    (10, Satisfaction::Dissatisfied),
                ])
                .clone()
        });
        Timeline {
            fate,
            stage,
            extended: handled && stage == Stage::Investigated && self.rng.percent(15),
            review: handled
                && stage == Stage::Replied
                && evaluated_on <= end
                && self.rng.percent(5),
            evaluated,
            self_handled: self.rng.percent(15),
            decided,
            investigated,
            replied,
            evaluated_on,
            closed,
        }
    }

    /// A whole case as the bureau's replica holds it: registered through the domain's own
    /// checks, with 1 to 3 submissions and the events its history implies, all dated no later
    /// than `end`.
    pub fn case(
        &mut self,
        registrar: &Registrar<'_>,
        end: NaiveDate,
    ) -> Result<(Case, Identity), String> {
        let matter = self.matter();
        let received = self.received(end);
        let (input, township_index) = self.new_case_for(&matter, received);
        let year = received.year();
        let seq = {
            let n = self.numbers.entry(year).or_insert(0);
            *n += 1;
            *n
        };
        let number =
            case_number(registrar.prefix, year, registrar.device, u32::try_from(seq).unwrap_or(0));
        let handler = registrar.staff.first().map_or("刘洪", String::as_str);
        let at = day_ms(received, self.rng.range(0, 9 * 60));
        let ids = &mut self.ids;
        let mut mint = || Self::uuid(ids, at).to_string();
        let mut ctx = RegistrationContext {
            case_id: CaseId(Uuid::nil()),
            number,
            mint_id: &mut mint,
            office: registrar.office,
            role: Role::Bureau,
            actor: registrar.actor,
            handler,
            at,
            today: received,
            townships: registrar.townships,
            default_township: None,
            collective_threshold: registrar.collective_threshold,
            representatives_max: registrar.representatives_max,
            fingerprint: None,
            legacy: false,
        };
        let (mut case, identity) = input.build(&mut ctx).map_err(|errors| {
            errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("；")
        })?;
        let id = CaseId(Self::uuid(&mut self.ids, at));
        case.id = id;
        let identity = Identity { case_id: id, ..identity };
        let timeline = self.timeline(received, end);
        self.repeat_submissions(&mut case, &timeline, end);
        self.history(&mut case, &timeline, registrar, township_index);
        Ok((case, identity))
    }

    fn repeat_submissions(&mut self, case: &mut Case, timeline: &Timeline, end: NaiveDate) {
        let Some(first) = case.submissions.first().cloned() else { return };
        let last = if timeline.stage >= Stage::Replied { timeline.replied } else { end };
        let room = u64::try_from((last - first.received).num_days()).unwrap_or(0);
        let extra = *self.rng.weighted(&[(60, 0usize), (28, 1), (12, 2)]);
        if room < 3 {
            return;
        }
        for offset in self.rng.distinct(usize::try_from(room.saturating_sub(2)).unwrap_or(0), extra)
        {
            let received = add_days(first.received, 3 + offset as u64);
            let (channel, source) = if self.rng.percent(60) {
                (Channel::Visit, Source::Direct)
            } else {
                (first.channel.clone(), first.source.clone())
            };
            let visit = channel == Channel::Visit;
            let persons = if visit { u32::try_from(self.rng.range(1, 3)).unwrap_or(1) } else { 1 };
            let id = Self::uuid(&mut self.ids, day_ms(received, 60)).to_string();
            case.submissions.push(Submission {
                id,
                channel,
                source,
                received,
                batches: u32::from(visit),
                persons,
                collective: false,
                skip_level: self.rng.percent(10),
                repeat: true,
                anonymous: false,
                confidential: false,
                petitioners: first.petitioners.clone(),
                summary: "再次反映上述问题，要求尽快处理。".to_owned(),
                registered_by: first.registered_by.clone(),
                fingerprint: None,
                referred_by: None,
                referral_number: None,
                platform_number: None,
                representatives: Vec::new(),
                urgent: false,
                threat: false,
                litigation: false,
            });
        }
        case.submissions.sort_by(|a, b| (a.received, &a.id).cmp(&(b.received, &b.id)));
    }

    fn push_event(
        &mut self,
        case: &mut Case,
        action: ActionKind,
        who: &Actor,
        date: NaiveDate,
    ) -> usize {
        let at = day_ms(date, self.rng.range(0, 9 * 60));
        case.events.push(Event::new(EventHead {
            id: Self::uuid(&mut self.ids, at).to_string(),
            lamport: case.next_lamport(),
            action,
            actor: who.actor.clone(),
            office: who.office.clone(),
            role: who.role.clone(),
            handler: who.handler.clone(),
            at,
            date,
            imported: false,
        }));
        case.events.len() - 1
    }

    fn history(
        &mut self,
        case: &mut Case,
        t: &Timeline,
        registrar: &Registrar<'_>,
        township_index: usize,
    ) {
        if t.stage == Stage::Registered {
            return;
        }
        let handler = registrar.staff.get(self.rng.index(registrar.staff.len().max(1)));
        let bureau = Actor {
            role: Role::Bureau,
            office: registrar.office.to_owned(),
            actor: registrar.actor.to_owned(),
            handler: handler.map_or("刘洪", String::as_str).to_owned(),
        };
        let handling = if t.self_handled {
            bureau.clone()
        } else {
            Actor {
                role: Role::Township,
                office: format!("t{township_index:02}"),
                actor: format!("{:032x}", 0xA11C_E000_u64 + township_index as u64),
                handler: format!("{}{}", self.rng.pick(&SURNAMES), self.rng.pick(&GIVEN_NAMES)),
            }
        };
        match t.fate {
            Fate::NotAccepted => {
                let i = self.push_event(case, ActionKind::NotAccept, &bureau, t.decided);
                case.events[i].text = Some("所反映问题已进入诉讼程序，依法不予受理。".to_owned());
                return;
            }
            Fate::Forwarded => {
                let i = self.push_event(case, ActionKind::Forward, &bureau, t.decided);
                case.events[i].target = Some((*self.rng.pick(&FORWARD_TO)).to_owned());
                return;
            }
            Fate::Voided => {
                let i = self.push_event(case, ActionKind::Void, &bureau, t.decided);
                case.events[i].text = Some("重复登记，作废。".to_owned());
                return;
            }
            Fate::Handled => {}
        }
        if t.self_handled {
            self.push_event(case, ActionKind::Accept, &bureau, t.decided);
            let year = t.decided.year();
            let n = self.official.entry(year).or_insert(0);
            *n += 1;
            case.official_number = Some(format!("{}信〔{year}〕{n}号", registrar.prefix));
        } else {
            let i = self.push_event(case, ActionKind::Assign, &bureau, t.decided);
            case.events[i].target = case.jurisdiction.clone();
            case.events[i].due = Some(add_days(t.decided, 30));
        }
        if t.stage >= Stage::Investigated {
            let i = self.push_event(case, ActionKind::Investigate, &handling, t.investigated);
            case.events[i].text = Some("已到现场调查核实，询问了双方当事人。".to_owned());
        }
        if t.extended {
            let i = self.push_event(case, ActionKind::Extend, &bureau, t.investigated);
            case.events[i].due = Some(add_days(t.decided, 89));
            case.events[i].text = Some("案情复杂，需要进一步调查。".to_owned());
        }
        if t.stage >= Stage::Replied {
            let i = self.push_event(case, ActionKind::Reply, &handling, t.replied);
            case.events[i].text = Some((*self.rng.pick(&REPLIES)).to_owned());
            case.events[i].outcome = Some(
                self.rng
                    .weighted(&[
                        (30, Outcome::Supported),
                        (20, Outcome::PartlySupported),
                        (35, Outcome::Explained),
                        (15, Outcome::NotSupported),
                    ])
                    .clone(),
            );
        }
        if t.review {
            self.push_event(case, ActionKind::Review, &bureau, t.evaluated_on);
        }
        if let Some(result) = &t.evaluated {
            let i = self.push_event(case, ActionKind::Evaluate, &bureau, t.evaluated_on);
            case.events[i].satisfaction = Some(result.clone());
        }
        if t.stage == Stage::Closed {
            let i = self.push_event(case, ActionKind::Close, &bureau, t.closed);
            case.events[i].close_reason = Some(CloseReason::Replied);
        }
    }

    /// `rows` data rows of the canonical ledger layout (`LEDGER_COLUMNS` order), all valid: 1 to
    /// 3 rows (submissions) per case sharing its 案件编号, every date no later than `end`.
    pub fn ledger_rows(&mut self, rows: usize, end: NaiveDate) -> Vec<Vec<String>> {
        let mut out: Vec<Vec<String>> = Vec::with_capacity(rows);
        let mut seq = 0u32;
        while out.len() < rows {
            seq += 1;
            let matter = self.matter();
            let received = self.received(end);
            let (input, _) = self.new_case_for(&matter, received);
            let t = self.timeline(received, end);
            let status = t.status();
            let number = case_number("洞口", received.year(), "B", seq);
            let reply_on = matches!(status, Status::Replied | Status::UnderReview | Status::Closed)
                .then_some(t.replied);
            let closed_on = (status == Status::Closed).then_some(t.closed);
            let satisfaction = t.evaluated.as_ref().map(|s| s.label().to_owned());
            let last = reply_on.unwrap_or(end);
            let room = u64::try_from((last - received).num_days()).unwrap_or(0);
            let extra =
                if room < 3 { 0 } else { *self.rng.weighted(&[(60, 0usize), (28, 1), (12, 2)]) };
            let mut dates = vec![received];
            let offsets =
                self.rng.distinct(usize::try_from(room.saturating_sub(2)).unwrap_or(0), extra);
            dates.extend(offsets.into_iter().map(|o| add_days(received, 3 + o as u64)));
            dates.sort();
            let person = input.petitioners.first().cloned().unwrap_or_default();
            for (i, date) in dates.into_iter().enumerate() {
                if out.len() >= rows {
                    break;
                }
                let repeat = i > 0;
                let (channel, persons) = if repeat {
                    ("来访".to_owned(), self.rng.range(1, 3))
                } else {
                    (
                        input.submission.channel.clone(),
                        u64::from(input.submission.persons.unwrap_or(1)),
                    )
                };
                let source = if repeat {
                    "本局接收".to_owned()
                } else {
                    input.submission.source.clone()
                };
                let yes = |b: bool| if b { "是" } else { "否" }.to_owned();
                out.push(vec![
                    number.clone(),
                    date.to_string(),
                    channel,
                    source,
                    person.name.clone(),
                    person.id_number.clone(),
                    person.phone.clone(),
                    person.address.clone(),
                    persons.to_string(),
                    input.township.clone(),
                    input.sector.clone(),
                    input.category.clone(),
                    input.request.clone(),
                    yes(input.submission.skip_level && !repeat),
                    yes(repeat),
                    status.label().to_owned(),
                    reply_on.map(|d| d.to_string()).unwrap_or_default(),
                    closed_on.map(|d| d.to_string()).unwrap_or_default(),
                    satisfaction.clone().unwrap_or_default(),
                    input.purpose.clone(),
                    // A legacy ledger has no 案件标识: rows of one case share its 案件编号.
                    String::new(),
                    // 是否重大紧急, 是否扬言, 是否涉法涉诉, 平台编号.
                    yes(false),
                    yes(false),
                    yes(false),
                    String::new(),
                ]);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use ledger_domain::idcard::check_resident_id;
    use ledger_domain::workflow::replay;

    use super::*;

    fn registrar_parts() -> (Vec<String>, Vec<String>) {
        (vec!["刘洪".to_owned()], TOWNSHIPS.iter().map(|t| (*t).to_owned()).collect())
    }

    #[test]
    fn ids_are_valid_and_request_texts_distinct() {
        let mut g = Generator::new(42);
        for _ in 0..2000 {
            let id = g.resident_id();
            assert!(check_resident_id(&id).is_ok(), "{id}: {:?}", check_resident_id(&id));
        }
        let (staff, townships) = registrar_parts();
        let registrar = Registrar {
            office: "county",
            actor: "00",
            prefix: "洞口",
            device: "A",
            staff: &staff,
            townships: &townships,
            collective_threshold: 5,
            representatives_max: 5,
        };
        let end = LAST_DAY;
        let mut texts = HashSet::new();
        let mut homestead = 0;
        for _ in 0..500 {
            let (case, identity) = g.case(&registrar, end).unwrap();
            let chars = case.request.chars().count();
            assert!((150..=700).contains(&chars), "{chars} characters: {}", case.request);
            assert!(!case.request.contains('{'), "{}", case.request);
            homestead += usize::from(case.request.contains("宅基地"));
            assert!(texts.insert(case.request.clone()), "repeated text: {}", case.request);
            for person in &identity.persons {
                assert!(check_resident_id(&person.id_number).is_ok(), "{}", person.id_number);
            }
            let replayed = replay(&case.events);
            assert!(replayed.anomalies.is_empty(), "{:?}", replayed.anomalies);
            assert!((1..=3).contains(&case.submissions.len()));
            assert!(case.events.iter().all(|e| e.date <= end));
        }
        // The three-character search term is common but not everywhere.
        assert!((100..400).contains(&homestead), "宅基地 in {homestead} of 500");
        let again: Vec<String> = (0..3).map(|_| Generator::new(42).resident_id()).collect();
        assert!(again.iter().all(|id| *id == again[0]));
    }

    #[test]
    fn ledger_rows_fill_the_layout() {
        let mut g = Generator::new(7);
        let rows = g.ledger_rows(300, LAST_DAY);
        assert_eq!(rows.len(), 300);
        assert!(rows.iter().all(|r| r.len() == ledger_office::LEDGER_COLUMNS.len()));
        assert!(rows.iter().all(|r| check_resident_id(&r[5]).is_ok()));
    }
}
