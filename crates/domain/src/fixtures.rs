//! The seed's 2017 county year as cases (`shared/seed/`: 洞口县国土资源局 2017年信访工作总结), for
//! tests and benchmarks. Built deterministically; enabled by the `fixtures` feature.
//!
//! 137 submissions, each its own matter: by source 28 (14 省信访局交办 + 14 市信访局交办) + 15
//! 县级部门交办 + 36 (20 12336举报 + 16 网络舆情) + 5 市国土局交办 + 53 本局接收 (3 letters and
//! 50 visits: 50 batches, 116 persons); by category 5 / 107 / 15 / 3 / 6 / 1; by domain 涉土 132,
//! 涉矿 3, 其它 2 (the seed prints 122, which cannot sum to 137). Every matter was decided and
//! assigned in time and answered, except the ones received in December that were still under
//! investigation at year end ("除正在调查中的还未回复"), so 回复率 is 100%.

use chrono::{Datelike, NaiveDate};
use uuid::Uuid;

use crate::idcard::mask_name;
use crate::model::{Case, CaseId, Event, EventHead, PetitionerRef, Submission};
use crate::terms::{
    Category, Channel, CloseReason, PetitionerKind, Purpose, Role, Satisfaction, Sector, Source,
};
use crate::workflow::ActionKind;

/// The county's 24 townships (23 land offices and a branch).
pub const TOWNSHIPS: [&str; 24] = [
    "洞口镇",
    "高沙镇",
    "竹市镇",
    "石江镇",
    "黄桥镇",
    "山门镇",
    "醪田镇",
    "花园镇",
    "岩山镇",
    "水东镇",
    "杨林镇",
    "石柱镇",
    "月溪镇",
    "毓兰镇",
    "江口镇",
    "渣坪乡",
    "桐山乡",
    "古楼乡",
    "罗溪瑶族乡",
    "长塘瑶族乡",
    "大屋瑶族乡",
    "那溪瑶族乡",
    "雪峰街道",
    "文昌街道",
];

const SURNAMES: [&str; 12] =
    ["王", "李", "张", "刘", "陈", "杨", "黄", "赵", "周", "吴", "曾", "肖"];
const GIVEN: [&str; 10] =
    ["建国", "秀英", "志强", "桂兰", "小平", "春生", "玉梅", "国华", "德明", "细妹"];

/// The bureau's office code in fixtures.
pub const BUREAU: &str = "county";

/// One submission's slot in the year: source, channel, category, sector, persons.
struct Slot {
    source: Source,
    channel: Channel,
    category: Category,
    sector: Sector,
    persons: u32,
}

fn slots() -> Vec<Slot> {
    let mut sources = Vec::new();
    let push = |v: &mut Vec<(Source, Channel)>, n, s: Source, c: Channel| {
        v.extend(std::iter::repeat_n((s, c), n));
    };
    push(&mut sources, 14, Source::ProvincialBureau, Channel::Letter);
    push(&mut sources, 14, Source::CityBureau, Channel::Letter);
    push(&mut sources, 15, Source::CountyDepartment, Channel::Letter);
    push(&mut sources, 20, Source::Report12336, Channel::Phone);
    push(&mut sources, 16, Source::OnlineOpinion, Channel::Online);
    push(&mut sources, 5, Source::CityLandBureau, Channel::Letter);
    push(&mut sources, 3, Source::Direct, Channel::Letter);
    push(&mut sources, 50, Source::Direct, Channel::Visit);

    // Categories, interleaved so every source gets a realistic mix; the 12336 reports are all
    // violations (违法占地建设).
    let mut categories: Vec<(Category, Sector)> = Vec::new();
    categories.extend(std::iter::repeat_n((Category::IllegalTransfer, Sector::Land), 5));
    categories.extend(std::iter::repeat_n((Category::EnquiryCertificate, Sector::Land), 14));
    categories.push((Category::EnquiryCertificate, Sector::Other));
    categories.extend(std::iter::repeat_n((Category::MiningRight, Sector::Mineral), 3));
    categories.extend(std::iter::repeat_n((Category::Dispute, Sector::Land), 6));
    categories.push((Category::Other, Sector::Other));
    let others = categories.len(); // 30 non-violation matters
    let mut out = Vec::new();
    let mut next_other = 0;
    let mut visit_no = 0;
    for (i, (source, channel)) in sources.into_iter().enumerate() {
        let (category, sector) =
            if source != Source::Report12336 && i % 4 == 1 && next_other < others {
                next_other += 1;
                categories[next_other - 1].clone()
            } else {
                (Category::IllegalOccupation, Sector::Land)
            };
        let persons = if channel == Channel::Visit {
            visit_no += 1;
            // 34 visits of two and 16 of three: 116 person-visits.
            if visit_no <= 34 { 2 } else { 3 }
        } else {
            1
        };
        out.push(Slot { source, channel, category, sector, persons });
    }
    // Whatever categories the interleave did not place go to the last direct visits.
    let mut tail = out.len();
    while next_other < others {
        tail -= 1;
        if out[tail].category == Category::IllegalOccupation && out[tail].source == Source::Direct {
            let (c, s) = categories[next_other].clone();
            out[tail].category = c;
            out[tail].sector = s;
            next_other += 1;
        }
    }
    out
}

fn day(year_day: u32) -> NaiveDate {
    NaiveDate::from_yo_opt(2017, year_day).unwrap_or(NaiveDate::MIN)
}

fn event(case: &Case, n: u32, action: ActionKind, role: Role, date: NaiveDate) -> Event {
    let lamport = case.next_lamport();
    let at = date.and_hms_opt(2, 0, 0).map(|t| t.and_utc().timestamp_millis()).unwrap_or(0);
    let (office, actor) = match role {
        Role::Township => (format!("t{:02}", n % 24), "township".to_owned()),
        _ => (BUREAU.to_owned(), "bureau".to_owned()),
    };
    Event::new(EventHead {
        id: format!("{:08x}-0000-7000-8000-{:012x}", n, lamport),
        lamport,
        action,
        actor,
        office,
        role,
        handler: "刘洪".to_owned(),
        at,
        date,
        imported: true,
    })
}

/// The seed's 2017 year as 137 cases.
pub fn seed_2017() -> Vec<Case> {
    slots()
        .into_iter()
        .enumerate()
        .map(|(i, slot)| {
            let n = u32::try_from(i).unwrap_or(0);
            // Spread over the year: receipt days 3..=360.
            let received = day(3 + n * 357 / 137);
            let township = TOWNSHIPS[i % TOWNSHIPS.len()];
            let name = format!("{}{}", SURNAMES[i % SURNAMES.len()], GIVEN[(i / 3) % GIVEN.len()]);
            let petitioner = format!("p-{n:04}");
            let purpose = match (&slot.source, &slot.category) {
                (Source::Report12336, _) => Purpose::Report,
                (_, Category::EnquiryCertificate) => Purpose::Enquiry,
                (_, Category::IllegalOccupation | Category::IllegalTransfer) => Purpose::Report,
                _ => Purpose::Appeal,
            };
            let mut case = Case {
                id: CaseId(Uuid::from_u128(0x2017_0000_0000_7000_8000_0000_0000_0000 | n as u128)),
                schema_version: crate::SCHEMA_VERSION,
                number: format!("洞口-2017-A-{:04}", n + 1),
                official_number: None,
                registered_by: BUREAU.to_owned(),
                purpose,
                sector: slot.sector.clone(),
                category: slot.category.clone(),
                jurisdiction: Some(township.to_owned()),
                subject: String::new(),
                request: format!(
                    "反映{}{}组{}问题，请求依法查处。",
                    township,
                    1 + i % 9,
                    slot.category
                ),
                village: format!("{}家村", SURNAMES[(i / 2) % SURNAMES.len()]),
                confidential: false,
                identity_released: false,
                restrictive_values: false,
                demo: false,
                petitioners: vec![PetitionerRef {
                    id: petitioner.clone(),
                    kind: PetitionerKind::Citizen,
                    display_name: mask_name(&name),
                }],
                submissions: vec![Submission {
                    id: format!("s-{n:04}"),
                    channel: slot.channel.clone(),
                    source: slot.source.clone(),
                    received,
                    batches: u32::from(slot.channel == Channel::Visit),
                    persons: slot.persons,
                    collective: false,
                    skip_level: false,
                    repeat: false,
                    anonymous: false,
                    confidential: false,
                    petitioners: vec![petitioner],
                    summary: String::new(),
                    registered_by: BUREAU.to_owned(),
                    fingerprint: None,
                    referred_by: None,
                    referral_number: None,
                    platform_number: None,
                    representatives: Vec::new(),
                    urgent: false,
                    threat: false,
                    litigation: false,
                }],
                events: Vec::new(),
                attachments: Vec::new(),
                reply_draft: String::new(),
                investigation_report: String::new(),
            };
            let days = |d: u64| received + chrono::Days::new(d);
            case.events.push(event(&case, n, ActionKind::Register, Role::Bureau, received));
            let mut assign = event(&case, n, ActionKind::Assign, Role::Bureau, days(3));
            assign.target = Some(township.to_owned());
            case.events.push(assign);
            let investigate = event(&case, n, ActionKind::Investigate, Role::Township, days(10));
            case.events.push(investigate);
            // Received in December: still under investigation at year end.
            if received.month() == 12 {
                return case;
            }
            let mut reply = event(&case, n, ActionKind::Reply, Role::Township, days(30));
            reply.text = Some("经调查核实，已依法处理。".to_owned());
            case.events.push(reply);
            if i % 3 == 0 {
                let mut rate = event(&case, n, ActionKind::Evaluate, Role::Bureau, days(35));
                rate.satisfaction = Some(if i % 9 == 0 {
                    Satisfaction::BasicallySatisfied
                } else {
                    Satisfaction::Satisfied
                });
                case.events.push(rate);
            }
            if days(31) <= day(365) {
                let mut close = event(&case, n, ActionKind::Close, Role::Bureau, days(31));
                close.close_reason = Some(CloseReason::Replied);
                case.events.push(close);
            }
            case
        })
        .collect()
}
