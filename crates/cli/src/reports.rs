//! `ledger report`, `ledger export` and `ledger doc`: statistics as text, JSON, the summary
//! paragraph or a workbook; the ledger as CSV or XLSX; a statutory document as HTML.

use std::path::Path;

use anyhow::{Context, anyhow, bail};
use chrono::NaiveDate;
use ledger_office::{DocumentKind, Office, Period};

use crate::args::ReportFormat;

/// The period asked for: `--year`, `--month` or `--from`/`--to`.
pub(crate) fn period(
    year: Option<i32>,
    month: Option<&str>,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> anyhow::Result<Period> {
    match (year, month, from, to) {
        (Some(y), None, None, None) => Period::year(y).ok_or_else(|| anyhow!("年份 {y} 无效")),
        (None, Some(m), None, None) => {
            let parsed = m
                .trim()
                .split_once(['-', '/', '.'])
                .and_then(|(y, m)| Some((y.parse::<i32>().ok()?, m.parse::<u32>().ok()?)));
            parsed
                .and_then(|(y, m)| Period::month(y, m))
                .ok_or_else(|| anyhow!("月份「{m}」无效：请写作 2017-03"))
        }
        (None, None, Some(f), Some(t)) if f <= t => Ok(Period { from: f, to: t }),
        (None, None, Some(_), Some(_)) => bail!("--from 须早于或等于 --to"),
        _ => bail!("请用 --year 年份、--month 年-月，或 --from 日期 --to 日期 指定统计期间"),
    }
}

fn write_or_print(out: Option<&Path>, text: &str) -> anyhow::Result<()> {
    match out {
        Some(path) => {
            std::fs::write(path, text.as_bytes())
                .with_context(|| format!("无法写入 {}", path.display()))?;
            eprintln!("已写入 {}", path.display());
        }
        None => println!("{text}"),
    }
    Ok(())
}

/// `ledger report`.
pub(crate) fn report(
    office: &Office,
    period: Period,
    township: Option<&str>,
    format: ReportFormat,
    out: Option<&Path>,
) -> anyhow::Result<()> {
    match format {
        ReportFormat::Text => {
            write_or_print(out, &office.report_tables(period, township)?.to_text())
        }
        ReportFormat::Json => write_or_print(
            out,
            &serde_json::to_string_pretty(&office.statistics(period, township)?)?,
        ),
        ReportFormat::Summary => write_or_print(out, &office.summary(period, township)?),
        ReportFormat::Xlsx => {
            let Some(path) = out else {
                bail!("Excel 统计表须写入文件：请加上 --out 文件名.xlsx");
            };
            office.statistics_xlsx(period, township, path)?;
            eprintln!("已写入统计表 {}", path.display());
            Ok(())
        }
    }
}

/// `ledger export --csv FILE | --xlsx FILE`.
pub(crate) fn export(dir: &Path, csv: Option<&Path>, xlsx: Option<&Path>) -> anyhow::Result<()> {
    let office = crate::open(dir)?;
    let mut progress = |p: ledger_office::Progress| {
        if p.total >= 1000 {
            eprintln!("导出进度 {}/{}", p.done, p.total);
        }
    };
    if let Some(path) = csv {
        let rows = office.export_csv(path, &mut progress)?;
        eprintln!("已导出 {rows} 行到 {}", path.display());
    }
    if let Some(path) = xlsx {
        let rows = office.export_xlsx(path, &mut progress)?;
        eprintln!("已导出 {rows} 行到 {}", path.display());
    }
    Ok(())
}

/// `ledger doc ID KIND [--issue] [--out FILE.html]`: writes the HTML; when issued, prints the
/// 文书编号.
pub(crate) fn document(
    office: &Office,
    id: &str,
    kind: &str,
    issue: bool,
    handler: Option<&str>,
    out: Option<&Path>,
) -> anyhow::Result<()> {
    let id = crate::case_id(office, id)?;
    let kind = DocumentKind::parse(kind).ok_or_else(|| {
        let known: Vec<String> =
            DocumentKind::KNOWN.iter().map(|k| format!("{}（{}）", k.label(), k.code())).collect();
        anyhow!("不认识文书「{kind}」，可用：{}", known.join("、"))
    })?;
    let html = office.document(id, &kind, issue, handler)?;
    match out {
        Some(path) => {
            std::fs::write(path, html.as_bytes())
                .with_context(|| format!("无法写入 {}", path.display()))?;
        }
        None => print!("{html}"),
    }
    if issue {
        let number = office
            .view(id)?
            .documents
            .into_iter()
            .rfind(|d| d.kind == kind)
            .map(|d| d.number)
            .unwrap_or_default();
        eprintln!("已出具{}，文书编号 {number}", kind.label());
        if out.is_some() {
            println!("{number}");
        }
    } else if let Some(path) = out {
        let issued = office.view(id)?.documents.into_iter().rfind(|d| d.kind == kind);
        match issued {
            Some(d) => {
                eprintln!("已重印{}（文书编号 {}）：{}", kind.label(), d.number, path.display())
            }
            None => eprintln!(
                "已生成{}预览稿：{}；核对无误后加 --issue 出具并编号",
                kind.label(),
                path.display()
            ),
        }
    }
    Ok(())
}
