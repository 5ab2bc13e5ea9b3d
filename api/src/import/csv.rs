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

#[cfg(test)]
mod tests {
    use super::*;

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
