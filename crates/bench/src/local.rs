//! The local store benchmark (`ledger-bench local`): a county bureau's store on disk with N
//! realistic cases, and the user paths measured on it through the `Office` facade: register
//! (with its fsync), open in a fresh process, a filtered page, a two-character name search, a
//! three-character request search, and the import of a ledger file into a fresh store.
//!
//! Setup writes generated cases straight through `Store::create_cases` in batches, which is what
//! registration and import end in, to save time; every measured operation is a real user path.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use ledger_domain::fixtures::TOWNSHIPS;
use ledger_domain::{Role, Status};
use ledger_office::{
    CaseQuery, ImportOptions, LEDGER_COLUMNS, Office, OfficeConfig, Unlock, system_clock,
};
use serde::Serialize;

use crate::data::{Generator, LAST_DAY, Registrar};
use crate::error::{BenchError, Result};
use crate::measure::{Timing, memory, round3, timed};
use crate::probe::{self, ProbeReport};

/// Cases written per store transaction while populating.
const BATCH: usize = 1000;

/// The township of the township-filtered page.
const PAGE_TOWNSHIP: &str = "黄桥镇";

/// The status of the filtered pages.
const PAGE_STATUS: Status = Status::Closed;

/// The two-character name search: a common given name.
pub const NAME_QUERY: &str = "建国";

/// The two-character request search: a word in many request texts (占用耕地 ...), not in any
/// name, village or number, so only the request-text index can find it.
pub const PAIR_QUERY: &str = "耕地";

/// The three-character request search: in many request texts, not all.
pub const REQUEST_QUERY: &str = "宅基地";

/// What to run.
#[derive(Debug, Clone)]
pub struct LocalOptions {
    /// Cases in the store before measuring.
    pub cases: usize,
    /// Rows of the ledger file imported into a fresh store.
    pub import_rows: usize,
    /// Where to put the stores (kept); a temporary directory when `None`.
    pub dir: Option<PathBuf>,
    /// Samples per timed figure.
    pub samples: usize,
    /// Fresh processes that open the store.
    pub open_samples: usize,
    /// The data seed.
    pub seed: u64,
    /// This benchmark's executable, re-run as the open probe.
    pub exe: PathBuf,
    /// Encrypted stores (SQLCipher), their key in the keyring or behind [`BENCH_PASSPHRASE`],
    /// as the app keeps them; plain when `None`.
    pub encrypted: Option<Unlock>,
}

/// The passphrase of the benchmark's encrypted stores.
pub const BENCH_PASSPHRASE: &str = "基准测试台账口令";

/// How `--encrypted` names the two ways: `keyring` or `passphrase`.
pub fn parse_unlock(text: &str) -> std::result::Result<Unlock, String> {
    match text {
        "keyring" => Ok(Unlock::Keyring),
        "passphrase" => Ok(Unlock::Passphrase(BENCH_PASSPHRASE.to_owned())),
        other => Err(format!("--encrypted keyring|passphrase, not {other}")),
    }
}

/// A new store, encrypted when asked.
pub(crate) fn init_office(dir: &Path, encrypted: Option<&Unlock>) -> Result<Office> {
    Ok(match encrypted {
        Some(unlock) => Office::init_unlocked(dir, bureau_config(), unlock, system_clock())?.office,
        None => Office::init(dir, bureau_config(), system_clock())?,
    })
}

/// Opens a store made by [`init_office`]: an encrypted one the way its key slots say (the
/// keyring, or the passphrase with Argon2 included).
pub(crate) fn open_office(dir: &Path) -> Result<Office> {
    let Some(file) = ledger_office::vault::read(dir)? else {
        return Ok(Office::open(dir, system_clock())?);
    };
    Ok(Office::open_unlocked(dir, &unlock_of(&file), system_clock(), &mut |_, _| {})?.office)
}

/// How the bench unlocks a store it made: the keyring if it has a keyring slot.
fn unlock_of(file: &ledger_office::vault::KeyFile) -> Unlock {
    if file.slots.iter().any(|s| matches!(s, ledger_office::vault::Slot::Keyring { .. })) {
        Unlock::Keyring
    } else {
        Unlock::Passphrase(BENCH_PASSPHRASE.to_owned())
    }
}

/// For an encrypted store, the time of fetching its key once (reading the slots, then the
/// keyring or Argon2), ms; `None` for a plain store.
pub(crate) fn time_key_fetch(dir: &Path) -> Result<Option<f64>> {
    let start = Instant::now();
    let Some(file) = ledger_office::vault::read(dir)? else { return Ok(None) };
    ledger_office::vault::open(&file, &unlock_of(&file))?;
    Ok(Some(crate::measure::ms(start.elapsed())))
}

/// A timed list query.
#[derive(Debug, Clone, Serialize)]
pub struct QueryFigures {
    /// The query, as words.
    pub query: String,
    /// Matching cases.
    pub total: u64,
    /// The page's offset.
    pub offset: u32,
    /// Rows on the page.
    pub rows: usize,
    /// The timing.
    #[serde(flatten)]
    pub timing: Timing,
}

/// Opening the store in fresh processes.
#[derive(Debug, Clone, Serialize)]
pub struct OpenFigures {
    /// `Office::open` plus the first page of 50, inside the process.
    #[serde(flatten)]
    pub timing: Timing,
    /// `Office::open` alone, median ms.
    pub open_median_ms: f64,
    /// The first page alone, median ms.
    pub first_page_median_ms: f64,
    /// Of an encrypted store, one fetch of its key (keyring or Argon2), median ms.
    pub key_median_ms: Option<f64>,
    /// Open plus first page less the probe's own key fetch, median ms: what the store's
    /// encryption costs once the key is in hand (for a plain store, the open plus first page).
    pub key_in_hand_median_ms: f64,
    /// The whole process (exec, open, page, exit), median ms.
    pub process_median_ms: f64,
    /// The highest peak resident memory (VmHWM) of any probe, MiB.
    pub peak_resident_mib: f64,
    /// Resident memory after the first page (VmRSS), median MiB.
    pub resident_mib: f64,
    /// Cases the probe saw.
    pub cases: u64,
}

/// The import of a generated ledger file into a fresh store.
#[derive(Debug, Clone, Serialize)]
pub struct ImportFigures {
    /// Data rows in the file.
    pub rows: usize,
    /// The file's size, MiB.
    pub file_mib: f64,
    /// Cases created.
    pub cases: usize,
    /// Rows that became a further submission of a case (rows sharing a 案件编号).
    pub further_submissions: usize,
    /// `Office::import_csv`, seconds.
    pub seconds: f64,
    /// The fresh store's size after it, MiB.
    pub store_mib: f64,
    /// The benchmark process's peak resident memory (VmHWM) before the import, MiB.
    pub process_peak_before_mib: f64,
    /// The same after the import: higher when the import itself set the peak.
    pub process_peak_after_mib: f64,
}

/// How long each phase of the run took, seconds.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Phases {
    /// Generating and writing the N cases.
    pub populate: f64,
    /// The register samples.
    pub register: f64,
    /// The open probes.
    pub open: f64,
    /// The list and search samples.
    pub queries: f64,
    /// Generating and writing the ledger file.
    pub import_file: f64,
    /// The import.
    pub import: f64,
    /// The whole run.
    pub total: f64,
}

/// One figure against the target.
#[derive(Debug, Clone, Serialize)]
pub struct Target {
    /// The figure.
    pub figure: &'static str,
    /// Its value.
    pub value: f64,
    /// The target (at most).
    pub target: f64,
    /// The unit.
    pub unit: &'static str,
    /// Whether the value is within the target.
    pub met: bool,
}

/// Everything `ledger-bench local` prints.
#[derive(Debug, Clone, Serialize)]
pub struct LocalReport {
    /// `local`.
    pub benchmark: &'static str,
    /// `plain`, or the encrypted store's key: `keyring` or `passphrase`.
    pub encryption: &'static str,
    /// The data seed.
    pub seed: u64,
    /// Cases written before measuring.
    pub cases: usize,
    /// Cases in the store when the queries ran (the N plus the registered samples).
    pub cases_in_store: u64,
    /// Submissions of the N cases.
    pub submissions: usize,
    /// Events of the N cases.
    pub events: usize,
    /// Cases per status code when the queries ran.
    pub statuses: BTreeMap<String, u64>,
    /// The store's files (database, WAL), MiB.
    pub store_mib: f64,
    /// `Office::register`, per case.
    pub register: Timing,
    /// `Office::open` and the first page, in fresh processes.
    pub open: OpenFigures,
    /// A page of 50 of one status, from the middle.
    pub page_status: QueryFigures,
    /// A page of 50 of one status in one township, from the middle.
    pub page_status_township: QueryFigures,
    /// A two-character name search, first page of 50.
    pub name_search: QueryFigures,
    /// A two-character request-text search, first page of 50.
    pub pair_search: QueryFigures,
    /// A three-character request search, first page of 50.
    pub request_search: QueryFigures,
    /// `Office::refresh_index` after a rules change (every index row re-projected), seconds.
    pub reindex_s: f64,
    /// Importing a ledger file into a fresh store.
    pub import: ImportFigures,
    /// Phase durations, seconds.
    pub phases_s: Phases,
    /// The figures against the targets.
    pub targets: Vec<Target>,
}

/// The bureau office the benchmark stores belong to.
pub fn bureau_config() -> OfficeConfig {
    let mut config = OfficeConfig::new("county", "洞口县国土资源局", Role::Bureau);
    config.townships = TOWNSHIPS.iter().map(|t| (*t).to_owned()).collect();
    config.staff = ["刘洪", "李娟", "王卫东", "陈小红"].iter().map(|s| (*s).to_owned()).collect();
    config
}

fn dir_mib(dir: &Path) -> Result<f64> {
    let mut bytes = 0u64;
    for entry in std::fs::read_dir(dir)? {
        let meta = entry?.metadata()?;
        if meta.is_file() {
            bytes += meta.len();
        }
    }
    Ok(round3(bytes as f64 / 1_048_576.0))
}

/// Runs the benchmark.
pub fn run(opts: &LocalOptions) -> Result<LocalReport> {
    let started = Instant::now();
    let mut phases = Phases::default();
    let temp;
    let base = match &opts.dir {
        Some(dir) => {
            std::fs::create_dir_all(dir)?;
            dir.clone()
        }
        None => {
            temp = tempfile::tempdir()?;
            temp.path().to_path_buf()
        }
    };
    let office_dir = base.join("office");
    let import_dir = base.join("import");
    for dir in [&office_dir, &import_dir] {
        if dir.exists() {
            return Err(BenchError::NotEmpty(dir.clone()));
        }
    }

    let office = init_office(&office_dir, opts.encrypted.as_ref())?;
    let phase = Instant::now();
    let mut data = Generator::new(opts.seed);
    let (submissions, events) = populate(&office, &mut data, opts.cases)?;
    phases.populate = round3(phase.elapsed().as_secs_f64());

    let phase = Instant::now();
    let register = measure_register(&office, &mut data, opts.samples)?;
    phases.register = round3(phase.elapsed().as_secs_f64());
    drop(office);

    let phase = Instant::now();
    let open = measure_open(&opts.exe, &office_dir, opts.open_samples)?;
    phases.open = round3(phase.elapsed().as_secs_f64());

    let phase = Instant::now();
    let office = open_office(&office_dir)?;
    let statuses: BTreeMap<String, u64> = office.store().count_by_status()?.into_iter().collect();
    let cases_in_store = statuses.values().sum();
    let mid = |total: u64| u32::try_from(total / 2 / 50 * 50).unwrap_or(0);
    let closed = count(&office, &CaseQuery { status: Some(PAGE_STATUS), ..all() })?;
    let page_status = measure_query(
        &office,
        format!("status = {}, limit 50, offset {}", PAGE_STATUS.code(), mid(closed)),
        &CaseQuery { status: Some(PAGE_STATUS), offset: mid(closed), ..page() },
        opts.samples,
    )?;
    let both =
        CaseQuery { status: Some(PAGE_STATUS), township: Some(PAGE_TOWNSHIP.to_owned()), ..all() };
    let offset = mid(count(&office, &both)?);
    let page_status_township = measure_query(
        &office,
        format!(
            "status = {}, township = {PAGE_TOWNSHIP}, limit 50, offset {offset}",
            PAGE_STATUS.code()
        ),
        &CaseQuery { offset, limit: Some(50), ..both },
        opts.samples,
    )?;
    let name_search = measure_query(
        &office,
        format!("text = {NAME_QUERY}, limit 50"),
        &CaseQuery { text: Some(NAME_QUERY.to_owned()), ..page() },
        opts.samples,
    )?;
    let pair_search = measure_query(
        &office,
        format!("text = {PAIR_QUERY}, limit 50"),
        &CaseQuery { text: Some(PAIR_QUERY.to_owned()), ..page() },
        opts.samples,
    )?;
    let request_search = measure_query(
        &office,
        format!("text = {REQUEST_QUERY}, limit 50"),
        &CaseQuery { text: Some(REQUEST_QUERY.to_owned()), ..page() },
        opts.samples,
    )?;
    // A release with other rules (next year's holiday table) re-projects every index row on
    // its first open.
    office.store().set_meta(&[(ledger_office::INDEX_STAMP_KEY, "an older release")])?;
    let reindex = Instant::now();
    office.refresh_index(&mut |_, _| {})?;
    let reindex_s = round3(reindex.elapsed().as_secs_f64());
    drop(office);
    eprintln!("index refresh after a rules change (every row re-projected): {reindex_s} s");
    let store_mib = dir_mib(&office_dir)?;
    phases.queries = round3(phase.elapsed().as_secs_f64());

    let import = measure_import(&base, &import_dir, opts, &mut phases)?;
    phases.total = round3(started.elapsed().as_secs_f64());

    let targets = vec![
        target("register median", register.median_ms, 5.0, "ms"),
        target("open + first page median", open.timing.median_ms, 1000.0, "ms"),
        target("open peak resident", open.peak_resident_mib, 150.0, "MiB"),
        target("status page of 50 median", page_status.timing.median_ms, 20.0, "ms"),
        target(
            "status + township page of 50 median",
            page_status_township.timing.median_ms,
            20.0,
            "ms",
        ),
        target("two-character name search median", name_search.timing.median_ms, 30.0, "ms"),
        target("two-character request search median", pair_search.timing.median_ms, 30.0, "ms"),
        target(
            "three-character request search median",
            request_search.timing.median_ms,
            50.0,
            "ms",
        ),
        target("import of the ledger file", import.seconds, 30.0, "s"),
    ];
    Ok(LocalReport {
        benchmark: "local",
        encryption: encryption_name(opts.encrypted.as_ref()),
        seed: opts.seed,
        cases: opts.cases,
        cases_in_store,
        submissions,
        events,
        statuses,
        store_mib,
        register,
        open,
        page_status,
        page_status_township,
        name_search,
        pair_search,
        request_search,
        reindex_s,
        import,
        phases_s: phases,
        targets,
    })
}

fn target(figure: &'static str, value: f64, target: f64, unit: &'static str) -> Target {
    Target { figure, value, target, unit, met: value <= target }
}

fn all() -> CaseQuery {
    CaseQuery::default()
}

fn page() -> CaseQuery {
    CaseQuery { limit: Some(50), ..Default::default() }
}

fn count(office: &Office, query: &CaseQuery) -> Result<u64> {
    Ok(office.list(&CaseQuery { limit: Some(0), ..query.clone() })?.total)
}

/// Writes `n` generated cases in batches; returns their submissions and events.
pub(crate) fn populate(office: &Office, data: &mut Generator, n: usize) -> Result<(usize, usize)> {
    let config = office.config();
    let actor = office.store().actor().to_hex_string();
    let policy = office.store().rules().policies.for_date(office.today()).clone();
    let registrar = Registrar {
        office: &config.code,
        actor: &actor,
        prefix: &config.number_prefix,
        device: &config.device,
        staff: &config.staff,
        townships: &config.townships,
        collective_threshold: policy.collective_threshold,
        representatives_max: policy.representatives_max,
    };
    let end = office.today().min(LAST_DAY);
    let start = Instant::now();
    let (mut submissions, mut events) = (0, 0);
    let mut batch = Vec::with_capacity(BATCH);
    let mut written = 0;
    while written < n {
        batch.clear();
        for _ in 0..BATCH.min(n - written) {
            let (mut case, identity) = data.case(&registrar, end).map_err(BenchError::Generated)?;
            // The generated history is the bureau's legacy ledger: imported, as the hub accepts
            // history on a case's creation from the office that holds it.
            for event in &mut case.events {
                event.office = config.code.clone();
                event.role = config.role.clone();
                event.actor = actor.clone();
                event.imported = true;
            }
            submissions += case.submissions.len();
            events += case.events.len();
            batch.push((case, identity, Vec::new()));
        }
        office.store().create_cases(&batch)?;
        written += batch.len();
        if written % 5000 < BATCH || written == n {
            let secs = start.elapsed().as_secs_f64();
            eprintln!(
                "populate: {written}/{n} cases ({:.0} cases/s, {secs:.1} s)",
                written as f64 / secs.max(1e-9)
            );
        }
    }
    // Registration after this must continue the numbering, as after an import.
    for (year, used) in data.case_numbers() {
        office.store().reserve_counter(&format!("case:{year}:{}", config.device), *used)?;
    }
    for (year, used) in data.official_numbers() {
        office.store().reserve_counter(&format!("official:{year}"), *used)?;
    }
    Ok((submissions, events))
}

pub(crate) fn measure_register(
    office: &Office,
    data: &mut Generator,
    samples: usize,
) -> Result<Timing> {
    let mut times = Vec::with_capacity(samples);
    for i in 0..samples {
        let input = data.new_case(office.today());
        let (result, t) = timed(|| office.register(&input, None));
        result?;
        times.push(t);
        if (i + 1) % 50 == 0 {
            eprintln!("register: {}/{samples}", i + 1);
        }
    }
    Ok(Timing::of(&times))
}

pub(crate) fn measure_open(exe: &Path, dir: &Path, samples: usize) -> Result<OpenFigures> {
    let mut probes: Vec<(ProbeReport, f64)> = Vec::with_capacity(samples);
    for i in 0..samples {
        let (report, wall) = probe::spawn(exe, dir)?;
        eprintln!(
            "open: probe {}/{samples}: open {} ms, first page {} ms, peak {} MiB",
            i + 1,
            report.open_ms,
            report.first_page_ms,
            report.memory.peak_resident_mib
        );
        probes.push((report, wall));
    }
    let median = |f: fn(&(ProbeReport, f64)) -> f64| {
        Timing::of(&probes.iter().map(f).collect::<Vec<_>>()).median_ms
    };
    Ok(OpenFigures {
        timing: Timing::of(&probes.iter().map(|(p, _)| p.total_ms).collect::<Vec<_>>()),
        open_median_ms: median(|(p, _)| p.open_ms),
        first_page_median_ms: median(|(p, _)| p.first_page_ms),
        key_median_ms: probes
            .iter()
            .all(|(p, _)| p.key_ms.is_some())
            .then(|| median(|(p, _)| p.key_ms.unwrap_or_default())),
        key_in_hand_median_ms: median(|(p, _)| p.total_ms - p.key_ms.unwrap_or_default()),
        process_median_ms: median(|(_, wall)| *wall),
        peak_resident_mib: probes
            .iter()
            .map(|(p, _)| p.memory.peak_resident_mib)
            .fold(0.0, f64::max),
        resident_mib: median(|(p, _)| p.memory.resident_mib),
        cases: probes.first().map_or(0, |(p, _)| p.cases),
    })
}

pub(crate) fn measure_query(
    office: &Office,
    query_words: String,
    query: &CaseQuery,
    samples: usize,
) -> Result<QueryFigures> {
    // One run first: the statement cache and the page cache warm up as they would after the
    // first screen of the app.
    let first = office.list(query)?;
    let mut times = Vec::with_capacity(samples);
    for _ in 0..samples {
        let (page, t) = timed(|| office.list(query));
        page?;
        times.push(t);
    }
    let timing = Timing::of(&times);
    eprintln!(
        "query [{query_words}]: {} of {} matches, median {} ms, p90 {} ms",
        first.rows.len(),
        first.total,
        timing.median_ms,
        timing.p90_ms
    );
    Ok(QueryFigures {
        query: query_words,
        total: first.total,
        offset: query.offset,
        rows: first.rows.len(),
        timing,
    })
}

/// A ledger file's header line, after the BOM Excel writes in 「CSV UTF-8」.
pub(crate) fn ledger_csv_header() -> String {
    format!("\u{feff}{}\r\n", LEDGER_COLUMNS.join(","))
}

/// Ledger rows as CSV lines, every field quoted (which any CSV reader accepts).
pub(crate) fn ledger_csv_rows(rows: &[Vec<String>]) -> String {
    let mut out = String::new();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push('"');
            out.push_str(&cell.replace('"', "\"\""));
            out.push('"');
        }
        out.push_str("\r\n");
    }
    out
}

/// How a report names a store's encryption: `plain`, `keyring` or `passphrase`.
pub(crate) fn encryption_name(encrypted: Option<&Unlock>) -> &'static str {
    match encrypted {
        None => "plain",
        Some(Unlock::Keyring) => "keyring",
        Some(Unlock::Passphrase(_)) => "passphrase",
    }
}

pub(crate) fn measure_import(
    base: &Path,
    import_dir: &Path,
    opts: &LocalOptions,
    phases: &mut Phases,
) -> Result<ImportFigures> {
    let phase = Instant::now();
    let office = init_office(import_dir, opts.encrypted.as_ref())?;
    let end = office.today().min(LAST_DAY);
    let rows = Generator::new(opts.seed ^ 0x1A9_0E7).ledger_rows(opts.import_rows, end);
    let text = ledger_csv_header() + &ledger_csv_rows(&rows);
    let file = base.join("ledger.csv");
    std::fs::write(&file, &text)?;
    let file_mib = round3(text.len() as f64 / 1_048_576.0);
    phases.import_file = round3(phase.elapsed().as_secs_f64());
    eprintln!("import: {} rows, {file_mib} MiB, into a fresh store", rows.len());

    let before = memory()?;
    let phase = Instant::now();
    let mut shown = 0;
    let report = office.import_csv(&file, ImportOptions::default(), &mut |p| {
        // Checking is the first half of the steps, writing the second.
        if p.done >= shown + p.total.max(10) / 10 {
            shown = p.done;
            let secs = phase.elapsed().as_secs_f64();
            eprintln!("import: step {}/{} ({secs:.1} s)", p.done, p.total);
        }
    });
    let seconds = round3(phase.elapsed().as_secs_f64());
    phases.import = seconds;
    let after = memory()?;
    let report = report?;
    if !report.invalid.is_empty() || report.duplicates > 0 || report.rows != rows.len() {
        let first: Vec<&String> = report.invalid.iter().take(5).collect();
        return Err(BenchError::Import(format!(
            "{} rows read of {}, {} duplicates, {} invalid: {first:?}",
            report.rows,
            rows.len(),
            report.duplicates,
            report.invalid.len()
        )));
    }
    drop(office);
    Ok(ImportFigures {
        rows: report.rows,
        file_mib,
        cases: report.cases,
        further_submissions: report.rows.saturating_sub(report.cases),
        seconds,
        store_mib: dir_mib(import_dir)?,
        process_peak_before_mib: before.peak_resident_mib,
        process_peak_after_mib: after.peak_resident_mib,
    })
}
