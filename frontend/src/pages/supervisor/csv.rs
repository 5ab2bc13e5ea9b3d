//! CSV in the browser: reading the first rows of a file for the import
//! preview (RFC 4180 quoting), and writing the tables people export.

/// The first `max_rows` records of `text` (header included), each a list
/// of fields. Quoted fields may hold commas, `""` and line breaks.
pub fn read(text: &str, max_rows: usize) -> Vec<Vec<String>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    field.push('"');
                    chars.next();
                }
                '"' => quoted = false,
                _ => field.push(c),
            }
            continue;
        }
        match c {
            '"' if field.is_empty() => quoted = true,
            ',' => row.push(std::mem::take(&mut field)),
            '\r' => {}
            '\n' => {
                row.push(std::mem::take(&mut field));
                let line = std::mem::take(&mut row);
                if !(line.len() == 1 && line[0].trim().is_empty()) {
                    rows.push(line);
                }
                if rows.len() == max_rows {
                    return rows;
                }
            }
            _ => field.push(c),
        }
    }
    if !field.is_empty() || !row.is_empty() {
        row.push(field);
        rows.push(row);
    }
    rows.truncate(max_rows);
    rows
}

/// One CSV document from a header and rows.
pub fn write(header: &[&str], rows: impl IntoIterator<Item = Vec<String>>) -> String {
    let mut out = String::new();
    let line = |out: &mut String, fields: &mut dyn Iterator<Item = &str>| {
        for (i, f) in fields.enumerate() {
            if i > 0 {
                out.push(',');
            }
            if f.contains([',', '"', '\n', '\r']) {
                out.push('"');
                out.push_str(&f.replace('"', "\"\""));
                out.push('"');
            } else {
                out.push_str(f);
            }
        }
        out.push_str("\r\n");
    };
    line(&mut out, &mut header.iter().copied());
    for r in rows {
        line(&mut out, &mut r.iter().map(String::as_str));
    }
    out
}

/// A link target that downloads `csv` (for `<a download=… href=…>`).
pub fn href(csv: &str) -> String {
    format!(
        "data:text/csv;charset=utf-8,{}",
        js_sys::encode_uri_component(csv)
    )
}
