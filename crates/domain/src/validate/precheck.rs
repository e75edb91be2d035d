//! Reads a change chunk's header and column layout without Automerge, so that nothing a few
//! bytes declare can make Automerge do unbounded work: a compressed chunk would be inflated
//! without limit, and a run-length-encoded column can declare billions of operations in a
//! handful of bytes, which Automerge would walk one by one before any other check runs.
//!
//! Layout (automerge's binary format): magic, checksum, chunk type, length; then dependencies,
//! actor, seq, start_op, time, message, other actors, the column specifications with their
//! lengths, the column data and extra bytes. Every column but raw values is a sequence of runs
//! whose lengths are written out, so the values a column declares are counted from its runs.

use super::{Limits, Rejection, Rule, Verdict};

const MAGIC: [u8; 4] = [0x85, 0x6f, 0x4a, 0x83];
const CHANGE_CHUNK: u8 = 1;
const DEFLATE_BIT: u64 = 0b1000;

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

fn malformed() -> Rejection {
    Rejection::new(Rule::Structure, "更改的格式有误")
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Verdict<&'a [u8]> {
        let end =
            self.pos.checked_add(n).filter(|e| *e <= self.bytes.len()).ok_or_else(malformed)?;
        let out = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(out)
    }

    fn uleb(&mut self) -> Verdict<u64> {
        let mut value: u64 = 0;
        for shift in (0..70).step_by(7) {
            let byte = *self.take(1)?.first().ok_or_else(malformed)?;
            let part = u64::from(byte & 0x7f);
            if shift >= 64 || (shift == 63 && part > 1) {
                return Err(malformed());
            }
            value |= part << shift;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(malformed())
    }

    /// A signed LEB128, as a magnitude and sign (enough to count and skip with).
    fn sleb(&mut self) -> Verdict<i128> {
        let mut value: i128 = 0;
        let mut shift = 0;
        loop {
            let byte = *self.take(1)?.first().ok_or_else(malformed)?;
            if shift >= 70 {
                return Err(malformed());
            }
            value |= i128::from(byte & 0x7f) << shift;
            shift += 7;
            if byte & 0x80 == 0 {
                if byte & 0x40 != 0 {
                    value -= 1_i128 << shift;
                }
                return Ok(value);
            }
        }
    }

    fn len(&mut self) -> Verdict<usize> {
        usize::try_from(self.uleb()?).map_err(|_| malformed())
    }

    fn done(&self) -> bool {
        self.pos >= self.bytes.len()
    }
}

/// Checks what a change chunk declares, before Automerge is given it.
pub(super) fn precheck(bytes: &[u8], limits: &Limits) -> Verdict<()> {
    let mut r = Reader { bytes, pos: 0 };
    if r.take(4)? != MAGIC {
        return Err(malformed());
    }
    r.take(4)?;
    match r.take(1)?.first() {
        Some(&CHANGE_CHUNK) => {}
        _ => return Err(Rejection::new(Rule::Structure, "只接受未压缩的单条更改")),
    }
    let body = r.len()?;
    if body != bytes.len() - r.pos {
        return Err(malformed());
    }
    let deps = r.len()?;
    if deps > limits.max_deps {
        return Err(Rejection::new(Rule::Size, format!("更改依赖 {deps} 个版本，超过上限")));
    }
    r.take(deps.checked_mul(32).ok_or_else(malformed)?)?;
    let actor = r.len()?;
    if actor > 64 {
        return Err(malformed());
    }
    r.take(actor)?;
    r.uleb()?;
    r.uleb()?;
    r.sleb()?;
    let message = r.len()?;
    if message > 1024 {
        return Err(Rejection::new(Rule::Size, "更改附带的说明过长"));
    }
    r.take(message)?;
    let others = r.len()?;
    if others > 4096 {
        return Err(Rejection::new(Rule::Size, "更改引用的设备过多"));
    }
    for _ in 0..others {
        let n = r.len()?;
        if n > 64 {
            return Err(malformed());
        }
        r.take(n)?;
    }
    let columns = r.len()?;
    if columns > 64 {
        return Err(malformed());
    }
    let mut specs = Vec::with_capacity(columns);
    for _ in 0..columns {
        let spec = r.uleb()?;
        let len = r.len()?;
        if spec & DEFLATE_BIT != 0 {
            return Err(Rejection::new(Rule::Structure, "只接受未压缩的更改列"));
        }
        specs.push((spec, len));
    }
    let max = u128::try_from(limits.max_change_ops).unwrap_or(u128::MAX);
    for (spec, len) in specs {
        let data = r.take(len)?;
        let declared = count(spec & 0b111, data)?;
        if declared > max {
            return Err(Rejection::new(
                Rule::Size,
                format!("更改声明了 {declared} 项操作，超过上限 {}", limits.max_change_ops),
            ));
        }
    }
    Ok(())
}

/// The values one column declares.
fn count(column_type: u64, data: &[u8]) -> Verdict<u128> {
    let mut r = Reader { bytes: data, pos: 0 };
    let mut total: u128 = 0;
    match column_type {
        // Raw values: their count comes from the metadata column.
        7 => return Ok(0),
        // Booleans: alternating run lengths.
        4 => {
            while !r.done() {
                total = total.saturating_add(u128::from(r.uleb()?));
            }
        }
        // Run-length encoded: a positive length repeats one value, a negative one is followed
        // by that many literal values, zero is followed by a count of nulls.
        _ => {
            while !r.done() {
                let run = r.sleb()?;
                if run > 0 {
                    total = total.saturating_add(run.unsigned_abs());
                    skip_value(&mut r, column_type)?;
                } else if run < 0 {
                    let n = run.unsigned_abs();
                    // Every literal value takes at least a byte.
                    if n > (data.len() - r.pos) as u128 {
                        return Err(malformed());
                    }
                    total = total.saturating_add(n);
                    for _ in 0..n {
                        skip_value(&mut r, column_type)?;
                    }
                } else {
                    total = total.saturating_add(u128::from(r.uleb()?));
                }
            }
        }
    }
    Ok(total)
}

fn skip_value(r: &mut Reader<'_>, column_type: u64) -> Verdict<()> {
    match column_type {
        // Strings: a length and the bytes.
        5 => {
            let n = r.len()?;
            r.take(n)?;
        }
        // Delta-encoded integers are signed.
        3 => {
            r.sleb()?;
        }
        _ => {
            r.uleb()?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use automerge::transaction::Transactable;
    use automerge::{ActorId, Automerge, ObjType, ROOT, ReadDoc};

    fn real_change() -> Vec<u8> {
        let mut doc = Automerge::new().with_actor(ActorId::from(vec![1; 16]));
        let mut tx = doc.transaction();
        let text = tx.put_object(ROOT, "reply_draft", ObjType::Text).expect("text");
        tx.splice_text(&text, 0, 0, "经调查核实，情况属实。").expect("splice");
        tx.put(ROOT, "purpose", "report").expect("put");
        let (hash, _) = tx.commit();
        doc.get_change_by_hash(&hash.expect("a change")).expect("the change").raw_bytes().to_vec()
    }

    #[test]
    fn real_changes_pass_and_declared_counts_are_bounded() {
        let bytes = real_change();
        assert!(precheck(&bytes, &Limits::default()).is_ok());
        let tight = Limits { max_change_ops: 3, ..Limits::default() };
        assert_eq!(precheck(&bytes, &tight).map_err(|r| r.rule), Err(Rule::Size));
    }

    #[test]
    fn truncated_compressed_and_garbage_chunks_are_refused() {
        let bytes = real_change();
        for cut in [0, 3, 9, 12, bytes.len() - 1] {
            assert!(precheck(&bytes[..cut], &Limits::default()).is_err(), "cut at {cut}");
        }
        let mut compressed = bytes;
        compressed[8] = 2;
        assert!(precheck(&compressed, &Limits::default()).is_err());
        assert!(precheck(b"\x85\x6f\x4a\x83garbage", &Limits::default()).is_err());
    }

    #[test]
    fn a_run_declaring_billions_of_values_is_counted_not_walked() {
        // A run of 2^40 repeats of one value, in 7 bytes.
        let mut data = Vec::new();
        let mut n: u64 = 1 << 40;
        loop {
            let byte = (n & 0x7f) as u8;
            n >>= 7;
            if n == 0 && byte & 0x40 == 0 {
                data.push(byte);
                break;
            }
            data.push(byte | 0x80);
        }
        data.push(4); // the value
        assert_eq!(count(2, &data).ok(), Some(1u128 << 40));
    }
}
