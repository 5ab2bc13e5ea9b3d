//! The web app's hand-written GraphQL operations, checked against the
//! server's schema: every operation string in `frontend/src` is found,
//! put together as the app puts it together (`const` selections and
//! `format!` with constants or selection functions), then parsed and
//! validated by the real schema (its limits included) without running.
//! A schema change that would break the app fails here, not in a browser.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextExecute};

/// Validation runs; execution does not.
struct ValidateOnly;

impl ExtensionFactory for ValidateOnly {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(ValidateOnly)
    }
}

#[async_graphql::async_trait::async_trait]
impl Extension for ValidateOnly {
    async fn execute(
        &self,
        _ctx: &ExtensionContext<'_>,
        _operation_name: Option<&str>,
        _next: NextExecute<'_>,
    ) -> async_graphql::Response {
        async_graphql::Response::new(async_graphql::Value::Null)
    }
}

/// A Rust string literal's text starting at `src[at]` (`"` or `r#"`):
/// its value and where it ends.
fn literal(src: &str, at: usize) -> Option<(String, usize)> {
    let b = src.as_bytes();
    if b[at] == b'r' {
        let hashes = src[at + 1..].bytes().take_while(|c| *c == b'#').count();
        let open = at + 1 + hashes;
        if b.get(open) != Some(&b'"') {
            return None;
        }
        let close = format!("\"{}", "#".repeat(hashes));
        let end = src[open + 1..].find(&close)? + open + 1;
        return Some((src[open + 1..end].to_owned(), end + close.len()));
    }
    let mut out = String::new();
    let mut i = at + 1;
    while i < b.len() {
        match b[i] {
            b'"' => return Some((out, i + 1)),
            b'\\' => {
                match b.get(i + 1)? {
                    b'\n' => {
                        // A line continuation: the newline and the next
                        // line's leading whitespace go.
                        i += 2;
                        while i < b.len() && b[i].is_ascii_whitespace() {
                            i += 1;
                        }
                        continue;
                    }
                    b'n' => out.push('\n'),
                    b't' => out.push('\t'),
                    b'"' => out.push('"'),
                    b'\\' => out.push('\\'),
                    other => out.push(*other as char),
                }
                i += 2;
            }
            _ => {
                let ch = src[i..].chars().next()?;
                out.push(ch);
                i += ch.len_utf8();
            }
        }
    }
    None
}

/// `const NAME: &str = "…";` across the app.
fn constants(files: &[(PathBuf, String)]) -> HashMap<String, String> {
    let mut out = HashMap::new();
    for (_, src) in files {
        let mut rest = 0;
        while let Some(pos) = src[rest..].find("const ") {
            let start = rest + pos + "const ".len();
            rest = start;
            let Some(colon) = src[start..].find(':') else {
                break;
            };
            let name = src[start..start + colon].trim();
            if !name
                .bytes()
                .all(|c| c.is_ascii_uppercase() || c == b'_' || c.is_ascii_digit())
            {
                continue;
            }
            let after = &src[start + colon..];
            let Some(eq) = after.find('=') else { continue };
            if !after[..eq].contains("&str") {
                continue;
            }
            let lit_at = start + colon + eq + 1;
            let skip = src[lit_at..].len() - src[lit_at..].trim_start().len();
            if let Some((value, _)) = literal(src, lit_at + skip) {
                out.insert(name.to_owned(), value);
            }
        }
    }
    out
}

/// `fn name() -> String { format!("…", …) }` bodies, as unresolved calls.
fn selection_fns(files: &[(PathBuf, String)]) -> HashMap<String, (String, usize)> {
    let mut out = HashMap::new();
    for (i, (_, src)) in files.iter().enumerate() {
        let mut rest = 0;
        while let Some(pos) = src[rest..].find("fn ") {
            let start = rest + pos + 3;
            rest = start;
            let Some(paren) = src[start..].find("()") else {
                continue;
            };
            let name = &src[start..start + paren];
            if !name.bytes().all(|c| c.is_ascii_lowercase() || c == b'_') {
                continue;
            }
            let sig = &src[start + paren..];
            if sig
                .trim_start_matches("()")
                .trim_start()
                .starts_with("-> String")
            {
                out.insert(name.to_owned(), (i.to_string(), start + paren));
            }
        }
    }
    out
}

struct Resolver<'a> {
    files: &'a [(PathBuf, String)],
    consts: HashMap<String, String>,
    fns: HashMap<String, (String, usize)>,
}

impl Resolver<'_> {
    /// The value of a `format!` argument or a `{NAME}` placeholder.
    fn value(&self, expr: &str) -> Option<String> {
        // `model::CALL`, `model::presence_selection()`: the item's name.
        let expr = expr.trim().rsplit("::").next().unwrap_or("");
        if let Some(v) = self.consts.get(expr) {
            return Some(v.clone());
        }
        let name = expr.strip_suffix("()")?;
        let (file, at) = self.fns.get(name)?;
        let src = &self.files[file.parse::<usize>().ok()?].1;
        let f = src[*at..].find("format!(")? + at;
        self.format_at(src, f)
    }

    /// Resolve the `format!(` at `src[at]`.
    fn format_at(&self, src: &str, at: usize) -> Option<String> {
        let open = at + "format!(".len();
        let skip = src[open..].len() - src[open..].trim_start().len();
        let (template, end) = literal(src, open + skip)?;
        // The positional arguments: up to the closing parenthesis.
        let mut depth = 1;
        let mut close = end;
        for (i, c) in src[end..].char_indices() {
            match c {
                '(' => depth += 1,
                ')' => {
                    depth -= 1;
                    if depth == 0 {
                        close = end + i;
                        break;
                    }
                }
                _ => {}
            }
        }
        let args: Vec<&str> = src[end..close]
            .split(',')
            .map(str::trim)
            .filter(|a| !a.is_empty())
            .collect();
        self.fill(&template, &args)
    }

    fn fill(&self, template: &str, args: &[&str]) -> Option<String> {
        let mut out = String::new();
        let mut positional = args.iter();
        let mut chars = template.chars().peekable();
        while let Some(c) = chars.next() {
            match (c, chars.peek()) {
                ('{', Some('{')) => {
                    chars.next();
                    out.push('{');
                }
                ('}', Some('}')) => {
                    chars.next();
                    out.push('}');
                }
                ('{', _) => {
                    let name: String = chars.by_ref().take_while(|c| *c != '}').collect();
                    let v = if name.is_empty() {
                        self.value(positional.next()?)?
                    } else {
                        self.value(&name)?
                    };
                    out.push_str(&v);
                }
                _ => out.push(c),
            }
        }
        Some(out)
    }
}

fn rust_files(dir: &Path, out: &mut Vec<(PathBuf, String)>) {
    for entry in std::fs::read_dir(dir).expect("frontend dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let src = std::fs::read_to_string(&path).expect("source");
            out.push((path, src));
        }
    }
}

fn is_operation(text: &str) -> bool {
    let t = text.trim_start();
    ["query", "mutation", "subscription"]
        .iter()
        .any(|k| t.starts_with(k) && t[k.len()..].starts_with([' ', '(', '{']))
}

/// Every operation of the app: (where, text), and the ones that cannot be
/// put together statically (a value chosen at run time).
fn operations() -> (Vec<(String, String)>, Vec<String>) {
    let root = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../frontend/src"));
    let mut files = Vec::new();
    rust_files(root, &mut files);
    files.sort();
    let resolver = Resolver {
        consts: constants(&files),
        fns: selection_fns(&files),
        files: &files,
    };
    let (mut ops, mut dynamic) = (Vec::new(), Vec::new());
    for (path, src) in &files {
        let name = path
            .strip_prefix(root)
            .unwrap_or(path)
            .display()
            .to_string();
        let mut i = 0;
        while i < src.len() {
            let at = match src[i..].find('"') {
                Some(p) => i + p,
                None => break,
            };
            // Skip char literals like '"'.
            if at > 0 && src.as_bytes()[at - 1] == b'\'' {
                i = at + 1;
                continue;
            }
            let Some((text, end)) = literal(src, at) else {
                i = at + 1;
                continue;
            };
            i = end;
            if !is_operation(&text) {
                continue;
            }
            let line = src[..at].lines().count();
            let before = src[..at].trim_end();
            let resolved = if before.ends_with("format!(") {
                let f = before.len() - "format!(".len();
                resolver.format_at(src, f)
            } else {
                Some(text.clone())
            };
            match resolved {
                Some(op) => ops.push((format!("{name}:{line}"), op)),
                // Named by file and the operation's first words, not its
                // line: editing the file above it does not move the name.
                None => dynamic.push(format!(
                    "{name}: {}",
                    text.split_whitespace()
                        .take(3)
                        .collect::<Vec<_>>()
                        .join(" ")
                )),
            }
        }
    }
    (ops, dynamic)
}

#[test]
fn every_operation_of_the_web_app_validates_against_the_schema() {
    let (ops, dynamic) = operations();
    assert!(
        ops.len() >= 50,
        "only {} operations found: the extractor is broken",
        ops.len()
    );
    let schema = async_graphql::Schema::build(
        pinline::graphql::Query::default(),
        pinline::graphql::Mutation::default(),
        pinline::graphql::Subscription::default(),
    )
    .extension(pinline::graphql::limits::Limits(Default::default()))
    .extension(ValidateOnly)
    .finish();
    let mut failures = Vec::new();
    for (at, op) in &ops {
        let response = futures::executor::block_on(schema.execute(op.as_str()));
        if !response.errors.is_empty() {
            let messages: Vec<_> = response.errors.iter().map(|e| e.message.clone()).collect();
            failures.push(format!("{at}: {messages:?}\n    {op}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} operations do not validate:\n{}",
        failures.len(),
        failures.join("\n")
    );
    // Operations whose text is chosen at run time; each is checked by the
    // browser tests. A new one must be added here knowingly.
    assert_eq!(
        dynamic,
        vec!["pages/supervisor/campaign.rs: mutation($id: ID!) {{".to_owned()],
        "{dynamic:#?}"
    );
}
