//! Convergence as a property: 25 township offices and the bureau, each behind its own fault
//! proxy, make random edits and workflow actions while links go down and come back and offices
//! sync in random orders. Once every link is healed and everyone has synced:
//! - every replica holds exactly the cases it may see, with documents identical to the bureau's;
//! - the hub logged every change exactly once;
//! - the bureau's statistics equal those computed from the union of every replica's edits.
//!
//! A dozen cases run in the normal suite; `LEDGER_PROPTEST_CASES=200` runs more. Failures are
//! kept in `proptest-regressions/convergence.txt` and replayed first.

#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use ledger_domain::automerge::Automerge;
use ledger_domain::schema::{self, CaseField, Draft};
use ledger_domain::stats::{Period, StatsQuery, statistics};
use ledger_domain::workflow::replay;
use ledger_domain::{ActionKind, CaseFacts, CaseId, PolicyTable, Role, Satisfaction, WorkCalendar};
use ledger_office::ActionInput;
use ledger_store::DocKind;
use ledger_tests::{FaultProxy, LinkProfile, TestHub, TestOffice, case_input};
use proptest::prelude::*;

const TODAY: &str = "2024-06-28";
const OFFICES: usize = 25;

fn township(i: usize) -> String {
    format!("第{i:02}镇")
}

#[derive(Debug, Clone)]
enum Op {
    /// An office registers a case (a township for its own township; the bureau for any).
    Register { office: usize, township: usize },
    /// The bureau assigns or reassigns a case to a township.
    Assign { case: usize, township: usize },
    /// The office holding a case investigates it.
    Investigate { office: usize, case: usize },
    /// The office holding a case replies.
    Reply { office: usize, case: usize },
    /// An office edits a governed field.
    Subject { office: usize, case: usize, text: u8 },
    /// An office drafts the investigation report.
    Draft { office: usize, case: usize, text: u8 },
    /// The bureau rates and closes a case.
    Close { case: usize },
    /// An office syncs.
    Sync { office: usize },
    /// An office's link goes down or comes back.
    Link { office: usize, up: bool },
}

fn op() -> impl Strategy<Value = Op> {
    let office = 0..=OFFICES;
    prop_oneof![
        3 => (office.clone(), 0..OFFICES).prop_map(|(office, township)| Op::Register { office, township }),
        2 => (0..64usize, 0..OFFICES).prop_map(|(case, township)| Op::Assign { case, township }),
        2 => (office.clone(), 0..64usize).prop_map(|(office, case)| Op::Investigate { office, case }),
        2 => (office.clone(), 0..64usize).prop_map(|(office, case)| Op::Reply { office, case }),
        2 => (office.clone(), 0..64usize, any::<u8>()).prop_map(|(office, case, text)| Op::Subject { office, case, text }),
        2 => (office.clone(), 0..64usize, any::<u8>()).prop_map(|(office, case, text)| Op::Draft { office, case, text }),
        1 => (0..64usize).prop_map(|case| Op::Close { case }),
        5 => office.clone().prop_map(|office| Op::Sync { office }),
        2 => (office, any::<bool>()).prop_map(|(office, up)| Op::Link { office, up }),
    ]
}

struct Fleet {
    hub: TestHub,
    proxies: Vec<FaultProxy>,
    /// Index 0 is the bureau, 1..=25 the township offices (office i answers for township i-1).
    offices: Vec<TestOffice>,
    cases: Vec<CaseId>,
}

impl Fleet {
    async fn start() -> Self {
        let hub = TestHub::start().await.unwrap();
        let mut proxies = Vec::new();
        let mut offices = Vec::new();
        for i in 0..=OFFICES {
            let proxy = FaultProxy::start(hub.addr(), LinkProfile::clean()).await.unwrap();
            let token = if i == 0 {
                hub.add_office("county", "县局", Role::Bureau, &[]).unwrap()
            } else {
                let t = township(i - 1);
                hub.add_office(&format!("t{i:02}"), &format!("{t}国土所"), Role::Township, &[&t])
                    .unwrap()
            };
            let mut office =
                TestOffice::enroll(&proxy.url(), &token, "办理人", TODAY).await.unwrap();
            office.config.request_timeout = Duration::from_secs(5);
            office.config.backoff_base = Duration::from_millis(5);
            office.config.backoff_max = Duration::from_millis(40);
            offices.push(office);
            proxies.push(proxy);
        }
        Self { hub, proxies, offices, cases: Vec::new() }
    }

    fn case(&self, n: usize) -> Option<CaseId> {
        (!self.cases.is_empty()).then(|| self.cases[n % self.cases.len()])
    }

    async fn try_sync(&self, office: usize, patience: Duration) {
        let o = &self.offices[office];
        let deadline = tokio::time::Instant::now() + patience;
        let mut budget = o.config.max_batch;
        let _ = ledger_client::sync_until_done(
            o.client(),
            &o.target(),
            &o.config,
            deadline,
            &mut budget,
        )
        .await;
    }

    /// Runs one operation. Operations the workflow, the role table or the office's scope do not
    /// allow are simply refused, as they would be for a user.
    async fn run(&mut self, op: &Op) {
        let act = |action: ActionKind| ActionInput {
            outcome: (action == ActionKind::Reply).then_some(ledger_domain::Outcome::Supported),
            action: Some(action),
            ..Default::default()
        };
        match *op {
            Op::Register { office, township: t } => {
                let t = if office == 0 { township(t) } else { township(office - 1) };
                let input = case_input(
                    &t,
                    "本局接收",
                    &format!("信访人{}", self.cases.len()),
                    "反映宅基地纠纷",
                );
                if let Ok(id) = self.offices[office].office.register(&input, None) {
                    self.cases.push(id);
                }
            }
            Op::Assign { case, township: t } => {
                let Some(id) = self.case(case) else { return };
                let bureau = &self.offices[0].office;
                for action in [ActionKind::Assign, ActionKind::Reassign] {
                    let input = ActionInput {
                        action: Some(action),
                        target: Some(township(t)),
                        ..Default::default()
                    };
                    if bureau.act(id, &input).is_ok() {
                        break;
                    }
                }
            }
            Op::Investigate { office, case } => {
                if let Some(id) = self.case(case) {
                    let _ = self.offices[office].office.act(id, &act(ActionKind::Investigate));
                }
            }
            Op::Reply { office, case } => {
                if let Some(id) = self.case(case) {
                    let input = ActionInput {
                        text: Some("经调查核实，已处理。".into()),
                        ..act(ActionKind::Reply)
                    };
                    let _ = self.offices[office].office.act(id, &input);
                }
            }
            Op::Subject { office, case, text } => {
                if let Some(id) = self.case(case) {
                    let _ = self.offices[office].office.set_field(
                        id,
                        &CaseField::Subject,
                        &format!("对象{text}"),
                    );
                }
            }
            Op::Draft { office, case, text } => {
                if let Some(id) = self.case(case) {
                    let _ = self.offices[office].office.set_draft(
                        id,
                        Draft::Investigation,
                        &format!("调查记录{text}"),
                    );
                }
            }
            Op::Close { case } => {
                if let Some(id) = self.case(case) {
                    let bureau = &self.offices[0].office;
                    let rate = ActionInput {
                        result: Some(Satisfaction::Satisfied),
                        ..act(ActionKind::Evaluate)
                    };
                    let _ = bureau.act(id, &rate);
                    let _ = bureau.act(id, &act(ActionKind::Close));
                }
            }
            Op::Sync { office } => self.try_sync(office, Duration::from_millis(400)).await,
            Op::Link { office, up } => {
                if up {
                    self.proxies[office].resume();
                } else {
                    self.proxies[office].stop();
                }
            }
        }
    }

    async fn heal_and_settle(&self) {
        for p in &self.proxies {
            p.resume();
        }
        for _ in 0..3 {
            for i in 0..self.offices.len() {
                self.offices[i].sync().await.unwrap();
            }
        }
    }

    fn check(&self) {
        let bureau = &self.offices[0].office;
        let bureau_ids: BTreeSet<CaseId> = bureau.store().case_ids().unwrap().into_iter().collect();
        let created: BTreeSet<CaseId> = self.cases.iter().copied().collect();
        assert_eq!(bureau_ids, created, "the bureau holds every case");
        for (i, o) in self.offices.iter().enumerate().skip(1) {
            let mine: BTreeSet<CaseId> = o.office.store().case_ids().unwrap().into_iter().collect();
            let t = township(i - 1);
            let expected: BTreeSet<CaseId> = bureau_ids
                .iter()
                .copied()
                .filter(|id| {
                    let c = bureau.case(*id).unwrap();
                    match &c.jurisdiction {
                        Some(j) => *j == t,
                        None => c.registered_by == o.office.config().code,
                    }
                })
                .collect();
            assert_eq!(mine, expected, "office {i} holds exactly the cases it may see");
            for id in &mine {
                assert_eq!(
                    o.office.store().heads(*id, DocKind::Case).unwrap(),
                    bureau.store().heads(*id, DocKind::Case).unwrap(),
                    "office {i}, case {id}: same document"
                );
                assert!(!o.office.store().row(*id).unwrap().unwrap().handed_over);
            }
            assert_eq!(o.office.store().outbox_len().unwrap(), 0, "office {i}: nothing stuck");
        }
        // Every change at the hub exactly once.
        self.hub.assert_log_exactly_once();
        // The statistics of the union of every replica's edits equal the bureau's.
        let mut union: BTreeMap<CaseId, Automerge> = BTreeMap::new();
        for o in &self.offices {
            for id in o.office.store().case_ids().unwrap() {
                let mut doc = o.office.store().with_doc(id, DocKind::Case, Clone::clone).unwrap();
                match union.get_mut(&id) {
                    Some(existing) => {
                        existing.merge(&mut doc).unwrap();
                    }
                    None => {
                        union.insert(id, doc);
                    }
                }
            }
        }
        let (policies, calendar) = (PolicyTable::default(), WorkCalendar::china());
        let facts: Vec<CaseFacts> = union
            .values()
            .map(|doc| {
                let case = schema::read_case(doc).unwrap();
                CaseFacts::project(&case, &replay(&case.events), &policies, &calendar)
            })
            .collect();
        let period = Period::year(2024).unwrap();
        let query = StatsQuery {
            period,
            township: None,
            as_of: TODAY.parse().unwrap(),
            settled_window_days: policies.current().settled_window_days,
        };
        assert_eq!(bureau.statistics(period, None).unwrap(), statistics(&facts, &query));
    }
}

fn cases() -> u32 {
    std::env::var("LEDGER_PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(12)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), max_shrink_iters: 64, ..ProptestConfig::default() })]

    #[test]
    fn every_replica_converges_through_partitions(ops in prop::collection::vec(op(), 10..60)) {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        runtime.block_on(async {
            let mut fleet = Fleet::start().await;
            for op in &ops {
                fleet.run(op).await;
            }
            fleet.heal_and_settle().await;
            fleet.check();
        });
    }
}
