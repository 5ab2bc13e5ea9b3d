//! Reading a leads CSV: the header maps to the lead's own fields (or the
//! columns named in a mapping); every other column becomes a custom
//! property, in file order. Broken rows are refused one by one.

use std::io::{Read, Seek, SeekFrom};

use super::{RowReport, columns};
use crate::domain::lead::{ConsentFields, LeadInput, RowCode};

/// Which CSV columns hold the lead's own fields; `None` = recognize the
/// usual names (phone/number/mobile, first name, last name, time zone).
/// Every other column becomes a custom property, in file order.
#[derive(Debug, Clone, Default)]
pub struct CsvMapping {
    pub phone: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub time_zone: Option<String>,
    pub region: Option<String>,
}

/// Why a whole file was refused.
#[derive(Debug, thiserror::Error)]
pub enum CsvError {
    #[error("the file is empty: the first line must be a header row")]
    Empty,
    #[error("the header row is not valid UTF-8")]
    HeaderEncoding,
    #[error("no phone column: name one \"phone\" or map it (columns: {0})")]
    NoPhoneColumn(String),
    #[error("the mapped column {0:?} is not in the header")]
    MappedColumnMissing(String),
    #[error("the file could not be read: {0}")]
    Read(std::io::Error),
}

/// A parsed file: the rows to import and the rows refused while reading.
/// A row's index counts data rows from 0 (the first row after the header;
/// blank lines are skipped).
#[derive(Debug, Default)]
pub struct ParsedCsv {
    pub rows: Vec<CsvRow>,
    pub refused: Vec<RowReport>,
}

#[derive(Debug)]
pub struct CsvRow {
    pub index: usize,
    pub lead: LeadInput,
}

fn find_column(
    header: &[String],
    mapped: Option<&str>,
    usual: &[&str],
) -> Result<Option<usize>, CsvError> {
    match mapped {
        Some(name) => header
            .iter()
            .position(|h| h.trim().eq_ignore_ascii_case(name.trim()))
            .map(Some)
            .ok_or_else(|| CsvError::MappedColumnMissing(name.to_owned())),
        None => Ok(columns::guess(header, usual)),
    }
}

/// Read a leads CSV held in memory (see [`LeadsCsv`]).
pub fn parse_leads_csv(bytes: &[u8], mapping: &CsvMapping) -> Result<ParsedCsv, CsvError> {
    let mut csv = LeadsCsv::open(std::io::Cursor::new(bytes), mapping)?;
    let mut parsed = ParsedCsv::default();
    loop {
        let (rows, refused) = csv.next_batch(usize::MAX);
        if rows.is_empty() && refused.is_empty() {
            return Ok(parsed);
        }
        parsed.rows.extend(rows);
        parsed.refused.extend(refused);
    }
}

/// A leads CSV read from a file (or any seekable source) a batch at a
/// time, so a file of any size is imported in bounded memory: a header
/// row, then one lead a row. Handles a UTF-8 BOM, CRLF line ends and
/// quoted fields; a row with the wrong number of fields, bytes that are
/// not UTF-8 or a quote never closed properly is refused on its own.
///
/// Opening reads the source once to find such quotes (so they cannot
/// swallow the rows after them) and to count the rows; the rows are then
/// read in a second pass.
pub struct LeadsCsv<R: Read + Seek> {
    header: Vec<String>,
    phone: usize,
    first: Option<usize>,
    last: Option<usize>,
    zone: Option<usize>,
    region: Option<usize>,
    /// The consent's columns: kind, when, how, source (by header name).
    consent: [Option<usize>; 4],
    records: csv::Reader<Patched<R>>,
    /// Lines of the stray quotes not reached yet, in file order.
    stray_lines: std::collections::VecDeque<u64>,
    index: usize,
    /// Rows after the header, blank ones not counted.
    pub total_rows: usize,
}

impl<R: Read + Seek> LeadsCsv<R> {
    pub fn open(mut source: R, mapping: &CsvMapping) -> Result<Self, CsvError> {
        let mut bom = [0u8; 3];
        let read = read_up_to(&mut source, &mut bom).map_err(CsvError::Read)?;
        let start = if read == 3 && bom == *b"\xEF\xBB\xBF" {
            3
        } else {
            0
        };
        let scan = scan(&mut source, start).map_err(CsvError::Read)?;
        source
            .seek(SeekFrom::Start(start))
            .map_err(CsvError::Read)?;
        let patched = Patched {
            inner: source,
            at: start,
            offsets: scan.strays.iter().map(|s| s.0).collect(),
        };
        let mut records = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(patched);
        let mut header = csv::ByteRecord::new();
        match records.read_byte_record(&mut header) {
            Ok(true) => {}
            _ => return Err(CsvError::Empty),
        }
        let header: Vec<String> = header
            .iter()
            .map(|f| std::str::from_utf8(f).map(|s| s.trim().to_owned()))
            .collect::<Result<_, _>>()
            .map_err(|_| CsvError::HeaderEncoding)?;
        let phone = find_column(&header, mapping.phone.as_deref(), columns::PHONE)?
            .ok_or_else(|| CsvError::NoPhoneColumn(header.join(", ")))?;
        let first = find_column(&header, mapping.first_name.as_deref(), columns::FIRST_NAME)?;
        let last = find_column(&header, mapping.last_name.as_deref(), columns::LAST_NAME)?;
        let zone = find_column(&header, mapping.time_zone.as_deref(), columns::TIME_ZONE)?;
        let region = find_column(&header, mapping.region.as_deref(), columns::REGION)?;
        let consent = [
            columns::CONSENT,
            columns::CONSENT_AT,
            columns::CONSENT_METHOD,
            columns::CONSENT_SOURCE,
        ]
        .map(|usual| columns::guess(&header, usual));
        Ok(LeadsCsv {
            header,
            phone,
            first,
            last,
            zone,
            region,
            consent,
            records,
            stray_lines: scan.strays.iter().map(|s| s.1).collect(),
            index: 0,
            total_rows: scan.rows.saturating_sub(1),
        })
    }

    /// Up to `n` rows read (and the rows refused on the way); both empty at
    /// the end. Each row's `index` counts data rows from 0, as the file has
    /// them (blank lines are skipped).
    pub fn next_batch(&mut self, n: usize) -> (Vec<CsvRow>, Vec<RowReport>) {
        let [c_kind, c_at, c_method, c_source] = self.consent;
        let own = [
            Some(self.phone),
            self.first,
            self.last,
            self.zone,
            self.region,
            c_kind,
            c_at,
            c_method,
            c_source,
        ];
        let (mut rows, mut refused) = (Vec::new(), Vec::new());
        let mut record = csv::ByteRecord::new();
        while rows.len() < n {
            let index = self.index;
            let refuse = |code: RowCode, message: String, phone: String| RowReport {
                index,
                phone,
                code,
                message,
            };
            match self.records.read_byte_record(&mut record) {
                Ok(false) => break,
                Ok(true) => {}
                Err(e) => {
                    self.index += 1;
                    let io = matches!(e.kind(), csv::ErrorKind::Io(_));
                    refused.push(refuse(
                        RowCode::BadRow,
                        format!("unreadable row: {e}"),
                        String::new(),
                    ));
                    // An I/O error ends the file; a bad row does not.
                    if io {
                        break;
                    }
                    continue;
                }
            }
            self.index += 1;
            if record.iter().all(|f| f.iter().all(u8::is_ascii_whitespace)) {
                continue;
            }
            let raw_phone =
                String::from_utf8_lossy(record.get(self.phone).unwrap_or_default()).into_owned();
            // The reader's own line numbers count CRLF files differently:
            // the patched byte itself says which row had the stray quote.
            if record.iter().any(|f| f.contains(&(STRAY as u8))) {
                let line = self.stray_lines.pop_front().unwrap_or_default();
                refused.push(refuse(
                    RowCode::BadRow,
                    format!(
                        "line {line}: a quoted field is not closed where it should be (or runs over \
                         {MAX_QUOTED_LINES} lines): a quote is missing; the rows after it were read on their own"
                    ),
                    raw_phone.trim_start_matches(STRAY).to_owned(),
                ));
                continue;
            }
            if record.len() != self.header.len() {
                refused.push(refuse(
                    RowCode::BadRow,
                    format!(
                        "the row has {} fields; the header has {}",
                        record.len(),
                        self.header.len()
                    ),
                    raw_phone,
                ));
                continue;
            }
            let fields: Result<Vec<&str>, _> = record.iter().map(std::str::from_utf8).collect();
            let Ok(fields) = fields else {
                refused.push(refuse(
                    RowCode::BadEncoding,
                    "the row is not valid UTF-8: save the file as UTF-8".into(),
                    raw_phone,
                ));
                continue;
            };
            let pick = |i: Option<usize>| i.and_then(|i| fields.get(i)).map(|s| (*s).to_owned());
            rows.push(CsvRow {
                index,
                lead: LeadInput {
                    phone: fields[self.phone].to_owned(),
                    first_name: pick(self.first),
                    last_name: pick(self.last),
                    time_zone: pick(self.zone).filter(|z| !z.trim().is_empty()),
                    time_zone_verified: false,
                    region: pick(self.region).filter(|r| !r.trim().is_empty()),
                    consent: ConsentFields {
                        kind: pick(c_kind),
                        at: pick(c_at),
                        method: pick(c_method),
                        source: pick(c_source),
                    },
                    custom_properties: self
                        .header
                        .iter()
                        .enumerate()
                        .filter(|(i, _)| !own.contains(&Some(*i)))
                        .map(|(i, name)| (name.clone(), fields[i].to_owned()))
                        .collect(),
                },
            });
        }
        (rows, refused)
    }
}

fn read_up_to(source: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match source.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

/// A source with the stray quotes' bytes replaced by [`STRAY`] as they
/// are read.
struct Patched<R> {
    inner: R,
    /// The absolute offset of the next byte read.
    at: u64,
    /// Offsets to patch, ascending.
    offsets: std::collections::VecDeque<u64>,
}

impl<R: Read> Read for Patched<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        let end = self.at + n as u64;
        while let Some(&o) = self.offsets.front() {
            if o >= end {
                break;
            }
            if o >= self.at {
                buf[(o - self.at) as usize] = STRAY as u8;
            }
            self.offsets.pop_front();
        }
        self.at = end;
        Ok(n)
    }
}

/// A quoted field longer than this many lines is taken for a missing
/// quote rather than a long note.
pub const MAX_QUOTED_LINES: u64 = 50;

/// What an opening quote that is never closed becomes, so the CSV reader
/// reads its line as a row of its own (then refused).
const STRAY: char = '\u{1A}';

/// What the first pass over a file found.
struct Scan {
    /// Each stray opening quote: its offset and its 1-based line, in
    /// file order.
    strays: Vec<(u64, u64)>,
    /// Rows with anything in them, the header included.
    rows: usize,
}

/// Where a field opened by a quote began: the quote's offset, its line,
/// and where its row starts.
#[derive(Clone, Copy, Default)]
struct Open {
    at: u64,
    line: u64,
    row_start: u64,
}

/// Read the source from `start` to the end: find each opening quote whose
/// field is never closed, is "closed" by a quote that does not end the
/// field, or runs over [`MAX_QUOTED_LINES`] lines — then read on from the
/// start of its row with that quote taken as a plain character — and
/// count the rows with anything in them.
fn scan<R: Read + Seek>(source: &mut R, start: u64) -> std::io::Result<Scan> {
    let mut strays: Vec<(u64, u64)> = Vec::new();
    // Each stray sends the scan back to its row: the bytes read in all are
    // bounded, so a file built to force pass after pass is refused.
    let len = source.seek(SeekFrom::End(0))?;
    let budget = len.saturating_mul(8).saturating_add(1 << 20);
    let mut scanned = 0u64;
    // Rows counted by earlier passes, before the row they restart at.
    let mut rows_before = 0usize;
    let (mut from, mut line) = (start, 1u64);
    for _ in 0..100_000 {
        source.seek(SeekFrom::Start(from))?;
        let mut bytes = std::io::BufReader::with_capacity(64 * 1024, &mut *source)
            .bytes()
            .peekable();
        let (mut in_quotes, mut field_start, mut row_has) = (false, true, false);
        let mut row_start = from;
        let mut open = Open::default();
        // Rows completed in this pass, and how many were before `open`'s row.
        let (mut rows, mut rows_at_open) = (0usize, 0usize);
        let (mut at, mut this_line) = (from, line);
        let mut stray_found = None;
        while let Some(b) = bytes.next() {
            let b = b?;
            scanned += 1;
            if scanned > budget {
                return Err(std::io::Error::other(
                    "too many quotes that are never closed properly: is this a CSV file?",
                ));
            }
            // Strays found in this row by earlier passes read as plain.
            let b = if strays
                .iter()
                .rev()
                .take_while(|s| s.0 >= from)
                .any(|s| s.0 == at)
            {
                STRAY as u8
            } else {
                b
            };
            if in_quotes {
                match b {
                    b'"' => {
                        let peek = match bytes.peek() {
                            Some(Ok(p)) => Some(*p),
                            _ => None,
                        };
                        match peek {
                            Some(b'"') => {
                                bytes.next();
                                at += 1;
                            }
                            None | Some(b',' | b'\r' | b'\n') => in_quotes = false,
                            // A quote that does not end its field: this
                            // one opened another; the first never closed.
                            Some(_) => {
                                stray_found = Some(open);
                                break;
                            }
                        }
                    }
                    b'\n' => {
                        this_line += 1;
                        if this_line - open.line > MAX_QUOTED_LINES {
                            stray_found = Some(open);
                            break;
                        }
                    }
                    _ => {}
                }
            } else {
                match b {
                    b'"' if field_start => {
                        in_quotes = true;
                        row_has = true;
                        open = Open {
                            at,
                            line: this_line,
                            row_start,
                        };
                        rows_at_open = rows;
                    }
                    b'\n' => {
                        this_line += 1;
                        rows += usize::from(row_has);
                        row_has = false;
                        row_start = at + 1;
                    }
                    b',' => row_has = true,
                    b'\r' | b' ' | b'\t' => {}
                    _ => row_has = true,
                }
                field_start = matches!(b, b',' | b'\n') || (field_start && b == b'\r');
            }
            at += 1;
        }
        if stray_found.is_none() && in_quotes {
            stray_found = Some(open);
        }
        match stray_found {
            Some(o) => {
                strays.push((o.at, o.line));
                rows_before += rows_at_open;
                from = o.row_start;
                line = o.line;
            }
            None => {
                rows += usize::from(row_has);
                strays.sort_unstable();
                return Ok(Scan {
                    strays,
                    rows: rows_before + rows,
                });
            }
        }
    }
    Err(std::io::Error::other("too many stray quotes"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_quote_never_closed_refuses_its_line_only() {
        let file = b"phone,name,notes\n2125550101,Ann,\"fine, quoted\"\n2125550102,\"Bob,oops\n2125550103,Cy,x\n2125550104,Di,\"two\nlines\"\n2125550105,Ed,y\n";
        let parsed = parse_leads_csv(file, &CsvMapping::default()).expect("parsed");
        let phones: Vec<&str> = parsed.rows.iter().map(|r| r.lead.phone.as_str()).collect();
        assert_eq!(
            phones,
            ["2125550101", "2125550103", "2125550104", "2125550105"]
        );
        assert_eq!(parsed.rows[2].lead.custom_properties[1].1, "two\nlines");
        assert_eq!(parsed.refused.len(), 1);
        let r = &parsed.refused[0];
        assert_eq!(
            (r.index, r.code, r.phone.as_str()),
            (1, RowCode::BadRow, "2125550102")
        );
        assert!(
            r.message
                .starts_with("line 3: a quoted field is not closed"),
            "{}",
            r.message
        );
        // At the very end, and twice.
        let file = b"phone\n\"1\n2\n\"3\n";
        let parsed = parse_leads_csv(file, &CsvMapping::default()).expect("parsed");
        assert_eq!(parsed.rows.len(), 1, "{parsed:?}");
        assert_eq!(parsed.refused.len(), 2, "{parsed:?}");
    }

    #[test]
    fn a_state_column_is_the_leads_region() {
        let file = b"Phone,State,Plan\n2125550101,FL,gold\n2125550102,,silver\n";
        let parsed = parse_leads_csv(file, &CsvMapping::default()).expect("parsed");
        assert_eq!(parsed.rows[0].lead.region.as_deref(), Some("FL"));
        assert_eq!(parsed.rows[1].lead.region, None);
        assert_eq!(
            parsed.rows[0].lead.custom_properties,
            vec![("Plan".to_owned(), "gold".to_owned())]
        );
        // Or a column named by the upload.
        let file = b"phone,home\n2125550101,US-MD\n";
        let mapping = CsvMapping {
            region: Some("home".into()),
            ..CsvMapping::default()
        };
        let parsed = parse_leads_csv(file, &mapping).expect("parsed");
        assert_eq!(parsed.rows[0].lead.region.as_deref(), Some("US-MD"));
    }

    #[test]
    fn a_quoted_field_over_fifty_lines_is_a_missing_quote() {
        let mut file = b"phone,notes\n2125550101,\"opened\n".to_vec();
        for i in 0..60 {
            file.extend_from_slice(format!("21255502{i:02},row\n").as_bytes());
        }
        file.extend_from_slice(b"2125550199,\"closed much later\"\n");
        let parsed = parse_leads_csv(&file, &CsvMapping::default()).expect("parsed");
        assert_eq!(parsed.refused.len(), 1, "{:?}", parsed.refused);
        assert!(parsed.rows.len() >= 60, "{}", parsed.rows.len());
    }

    #[test]
    fn reads_messy_files_row_by_row() {
        let mut file = b"\xEF\xBB\xBFPhone,First Name,Plan,Notes,Time Zone\r\n".to_vec();
        file.extend_from_slice(b"212 555 0101,Ann,Gold,\"likes calls, mornings\",\r\n");
        file.extend_from_slice(b"212 555 0102,Bob,Silver\r\n");
        file.extend_from_slice(b"212 555 0103,Caf\xE9,Gold,x,\r\n");
        file.extend_from_slice(b"\r\n");
        file.extend_from_slice(b"+44 20 7946 0958,Dee,Bronze,,Europe/London\n");
        let parsed = parse_leads_csv(&file, &CsvMapping::default()).expect("parsed");
        assert_eq!(parsed.rows.len(), 2);
        let ann = &parsed.rows[0].lead;
        assert_eq!(parsed.rows[0].index, 0);
        assert_eq!(ann.phone, "212 555 0101");
        assert_eq!(ann.first_name.as_deref(), Some("Ann"));
        assert_eq!(ann.time_zone, None);
        assert_eq!(
            ann.custom_properties,
            vec![
                ("Plan".into(), "Gold".into()),
                ("Notes".into(), "likes calls, mornings".into())
            ]
        );
        assert_eq!(parsed.rows[1].index, 3, "blank lines are not rows");
        assert_eq!(
            parsed.rows[1].lead.time_zone.as_deref(),
            Some("Europe/London")
        );
        let refused: Vec<(usize, RowCode)> =
            parsed.refused.iter().map(|r| (r.index, r.code)).collect();
        assert_eq!(
            refused,
            vec![(1, RowCode::BadRow), (2, RowCode::BadEncoding)]
        );
    }

    #[test]
    fn header_problems_refuse_the_file() {
        assert!(matches!(
            parse_leads_csv(b"", &CsvMapping::default()),
            Err(CsvError::Empty)
        ));
        assert!(matches!(
            parse_leads_csv(b"name,plan\nAnn,Gold\n", &CsvMapping::default()).unwrap_err(),
            CsvError::NoPhoneColumn(_)
        ));
        let mapped = CsvMapping {
            phone: Some("Cell".into()),
            ..Default::default()
        };
        let parsed = parse_leads_csv(b"Name,Cell\nAnn,2125550101\n", &mapped).expect("mapped");
        assert_eq!(parsed.rows[0].lead.phone, "2125550101");
        assert_eq!(
            parsed.rows[0].lead.custom_properties,
            vec![("Name".into(), "Ann".into())]
        );
        let missing = CsvMapping {
            phone: Some("Mobile".into()),
            ..Default::default()
        };
        assert!(matches!(
            parse_leads_csv(b"Cell\n1\n", &missing),
            Err(CsvError::MappedColumnMissing(_))
        ));
    }
}
