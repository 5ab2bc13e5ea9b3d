//! Reading a leads CSV: the header maps to the lead's own fields (or the
//! columns named in a mapping); every other column becomes a custom
//! property, in file order. Broken rows are refused one by one.

use super::{RowReport, columns};
use crate::domain::lead::{LeadInput, RowCode};

/// Which CSV columns hold the lead's own fields; `None` = recognize the
/// usual names (phone/number/mobile, first name, last name, time zone).
/// Every other column becomes a custom property, in file order.
#[derive(Debug, Clone, Default)]
pub struct CsvMapping {
    pub phone: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub time_zone: Option<String>,
}

/// Why a whole file was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CsvError {
    #[error("the file is empty: the first line must be a header row")]
    Empty,
    #[error("the header row is not valid UTF-8")]
    HeaderEncoding,
    #[error("no phone column: name one \"phone\" or map it (columns: {0})")]
    NoPhoneColumn(String),
    #[error("the mapped column {0:?} is not in the header")]
    MappedColumnMissing(String),
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

/// Read a leads CSV: a header row, then one lead a row. Handles a UTF-8
/// BOM, CRLF line ends and quoted fields; a row with the wrong number of
/// fields or bytes that are not UTF-8 is refused on its own.
pub fn parse_leads_csv(bytes: &[u8], mapping: &CsvMapping) -> Result<ParsedCsv, CsvError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    // A quote that is never closed would take every following row into
    // one field: its line is refused and the rows after it are read.
    let (patched, stray) = defuse_stray_quotes(bytes);
    let bytes: &[u8] = &patched;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes);
    let mut records = reader.byte_records();
    let header = match records.next() {
        Some(Ok(h)) => h,
        _ => return Err(CsvError::Empty),
    };
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
    let own = [Some(phone), first, last, zone];
    let mut parsed = ParsedCsv::default();
    let mut stray_lines = stray.iter();
    for (index, record) in records.enumerate() {
        let refuse = |code: RowCode, message: String, phone: String| RowReport {
            index,
            phone,
            code,
            message,
        };
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                parsed.refused.push(refuse(
                    RowCode::BadRow,
                    format!("unreadable row: {e}"),
                    String::new(),
                ));
                continue;
            }
        };
        // The reader's own line numbers count CRLF files differently: the
        // patched byte itself says which row had the stray quote.
        if record.iter().any(|f| f.contains(&(STRAY as u8))) {
            let line = stray_lines.next().copied().unwrap_or_default();
            let raw_phone =
                String::from_utf8_lossy(record.get(phone).unwrap_or_default()).into_owned();
            parsed.refused.push(refuse(
                RowCode::BadRow,
                format!(
                    "line {line}: a quoted field is not closed where it should be (or runs over \
                     {MAX_QUOTED_LINES} lines): a quote is missing; the rows after it were read on their own"
                ),
                raw_phone.trim_start_matches(STRAY).to_owned(),
            ));
            continue;
        }
        if record.iter().all(|f| f.iter().all(u8::is_ascii_whitespace)) {
            continue;
        }
        let raw_phone = String::from_utf8_lossy(record.get(phone).unwrap_or_default()).into_owned();
        if record.len() != header.len() {
            parsed.refused.push(refuse(
                RowCode::BadRow,
                format!(
                    "the row has {} fields; the header has {}",
                    record.len(),
                    header.len()
                ),
                raw_phone,
            ));
            continue;
        }
        let fields: Result<Vec<&str>, _> = record.iter().map(std::str::from_utf8).collect();
        let Ok(fields) = fields else {
            parsed.refused.push(refuse(
                RowCode::BadEncoding,
                "the row is not valid UTF-8: save the file as UTF-8".into(),
                raw_phone,
            ));
            continue;
        };
        let pick = |i: Option<usize>| i.and_then(|i| fields.get(i)).map(|s| (*s).to_owned());
        parsed.rows.push(CsvRow {
            index,
            lead: LeadInput {
                phone: fields[phone].to_owned(),
                first_name: pick(first),
                last_name: pick(last),
                time_zone: pick(zone).filter(|z| !z.trim().is_empty()),
                custom_properties: header
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| !own.contains(&Some(*i)))
                    .map(|(i, name)| (name.clone(), fields[i].to_owned()))
                    .collect(),
            },
        });
    }
    Ok(parsed)
}

/// A quoted field longer than this many lines is taken for a missing
/// quote rather than a long note.
pub const MAX_QUOTED_LINES: u64 = 50;

/// What an opening quote that is never closed becomes, so the CSV reader
/// reads its line as a row of its own (then refused).
const STRAY: char = '\u{1A}';

/// The file with each opening quote that is never closed properly (see
/// [`stray_quote`]) replaced by [`STRAY`], and
/// the 1-based lines where they were. Same length as the input, so the
/// reader's line numbers stay the file's.
fn defuse_stray_quotes(bytes: &[u8]) -> (std::borrow::Cow<'_, [u8]>, Vec<u64>) {
    let mut out = std::borrow::Cow::Borrowed(bytes);
    let mut lines = Vec::new();
    // Each pass resumes at the start of the line it fixed.
    let (mut from, mut line) = (0, 1);
    for _ in 0..10_000 {
        match stray_quote(&out[from..], line) {
            Some((at, at_line, row_start)) => {
                out.to_mut()[from + at] = STRAY as u8;
                lines.push(at_line);
                from += row_start;
                line = at_line;
            }
            None => break,
        }
    }
    (out, lines)
}

/// The first opening quote (offset, its line, its row's start) whose field
/// is never closed, is "closed" by a quote that does not end the field, or
/// runs over [`MAX_QUOTED_LINES`] lines; `line` is the line number of
/// `bytes[0]`, which starts a row.
fn stray_quote(bytes: &[u8], mut line: u64) -> Option<(usize, u64, usize)> {
    let (mut in_quotes, mut field_start, mut row_start) = (false, true, 0);
    let mut open = (0, 0u64, 0);
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if in_quotes {
            match b {
                b'"' if bytes.get(i + 1) == Some(&b'"') => i += 1,
                // A closing quote ends its field: anything else after it
                // means this quote opened another field and the first
                // one was never closed.
                b'"' if !matches!(bytes.get(i + 1), None | Some(b',' | b'\r' | b'\n')) => {
                    return Some(open);
                }
                b'"' => in_quotes = false,
                b'\n' => {
                    line += 1;
                    if line - open.1 > MAX_QUOTED_LINES {
                        return Some(open);
                    }
                }
                _ => {}
            }
        } else {
            match b {
                b'"' if field_start => {
                    in_quotes = true;
                    open = (i, line, row_start);
                }
                b',' => {
                    field_start = true;
                    i += 1;
                    continue;
                }
                b'\n' => {
                    line += 1;
                    row_start = i + 1;
                    field_start = true;
                    i += 1;
                    continue;
                }
                b'\r' => {
                    i += 1;
                    continue;
                }
                _ => {}
            }
            field_start = false;
        }
        i += 1;
    }
    in_quotes.then_some(open)
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
        assert_eq!(
            parse_leads_csv(b"", &CsvMapping::default()).unwrap_err(),
            CsvError::Empty
        );
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
