//! What one GraphQL request may ask, checked right after parsing and before
//! async-graphql validates or runs anything: the document's size, how many
//! field selections it expands to, its cost with list sizes counted, and
//! the length of every string it passes in.
//!
//! The walk visits each fragment once and remembers its totals, so a
//! document whose fragments spread each other twice over (2^n selections)
//! is refused in time linear in its own size, never expanded. Lengths are
//! keyed by the input field's name and type (`ID`s, `reason`, `notes`, …) in
//! one table, [`max_chars`], which `docs/api.md` lists.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextPrepareRequest,
};
use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, OperationType, Selection, SelectionSet,
};
use async_graphql::registry::{MetaType, MetaTypeName, Registry};
use async_graphql::{Name, Pos, Positioned, ServerError, ServerResult, Variables};
use async_graphql_value::{ConstValue, Value};

use super::connection::DEFAULT_PAGE;
use super::error::ApiError;

/// The bounds a request is held to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueryLimits {
    /// Bytes of query text.
    pub max_document_bytes: usize,
    /// Field selections once every fragment is expanded in place.
    pub max_selections: u64,
    /// Objects the response may hold: each object-valued field counts once
    /// per item of the lists above it (`first: 200` counts 200 times, an
    /// unpaged list 10 times); scalar fields are bounded by
    /// `max_selections`.
    pub max_cost: u64,
}

impl Default for QueryLimits {
    fn default() -> Self {
        QueryLimits {
            max_document_bytes: 100_000,
            max_selections: 2_000,
            max_cost: 25_000,
        }
    }
}

/// How many items an unpaged list is assumed to hold when costing a query.
pub const LIST_GUESS: u64 = 10;

/// A document whose fragments each spread the previous one twice, up to
/// `F{n}`: 2^n selections in about 40 bytes a level (for tests and
/// `pinline bench engine --attack`).
pub fn fragment_bomb(n: usize) -> String {
    let mut q = format!("query {{ me {{ ...F{n} }} }}\nfragment F0 on User {{ id name }}\n");
    for i in 1..=n {
        q.push_str(&format!(
            "fragment F{i} on User {{ ...F{p} ...F{p} }}\n",
            p = i - 1
        ));
    }
    q
}

/// The longest string (in characters) an input field or argument takes.
/// `docs/api.md` ("Limits") lists the same table.
pub fn max_chars(field: &str, type_name: &str) -> usize {
    if type_name == "ID" {
        return 64;
    }
    match field {
        "email" => 254,
        "password" => 256,
        // Lead rows report a bad number, or a field over 1 000
        // characters, row by row (`addLeads`): the edge lets those through.
        "phone" | "phones" => 256,
        "firstName" | "lastName" | "key" | "value" => 1_000,
        "callerId" => 64,
        "timeZone" => 64,
        "defaultRegion" => 8,
        "start" | "end" | "date" => 16,
        "name" | "label" | "reason" | "search" | "dispositionCode" | "code" => 200,
        "after" | "before" => 200,
        "message" | "safeHarborMessage" | "voicemailMessage" => 2_000,
        "url" => 2_048,
        "secret" => 512,
        "token" => 4_096,
        "notes" => 10_000,
        "sdpOffer" | "sdpAnswer" => 65_536,
        _ => DEFAULT_MAX_CHARS,
    }
}

/// Any other string input.
pub const DEFAULT_MAX_CHARS: usize = 1_000;

/// Why a document was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LimitError {
    DocumentTooLarge { bytes: usize, max: usize },
    TooDeep { max: usize },
    TooManySelections { max: u64 },
    TooCostly { max: u64 },
    FragmentCycle { name: String, pos: Pos },
    StringTooLong { field: String, max: usize, pos: Pos },
}

impl LimitError {
    pub fn into_server_error(self) -> ServerError {
        let pos = match &self {
            LimitError::FragmentCycle { pos, .. } | LimitError::StringTooLong { pos, .. } => *pos,
            _ => Pos { line: 1, column: 1 },
        };
        let api = match self {
            LimitError::DocumentTooLarge { bytes, max } => ApiError::validation(
                "query",
                format!("is {bytes} bytes: at most {max} are accepted"),
            ),
            LimitError::TooDeep { max } => {
                ApiError::validation("query", format!("nests brackets more than {max} deep"))
            }
            LimitError::TooManySelections { max } => ApiError::validation(
                "query",
                format!("selects more than {max} fields once its fragments are expanded"),
            ),
            LimitError::TooCostly { max } => ApiError::validation(
                "query",
                format!(
                    "costs more than {max}: each object counts once per item of the lists above it \
                     (`first`, or {LIST_GUESS} for an unpaged list); ask for fewer items"
                ),
            ),
            LimitError::FragmentCycle { name, .. } => {
                ApiError::validation("query", format!("fragment {name} spreads itself"))
            }
            LimitError::StringTooLong { field, max, .. } => {
                ApiError::validation(&field, format!("must be at most {max} characters"))
            }
        };
        async_graphql::Error::from(api).into_server_error(pos)
    }
}

/// Check a parsed document against `limits`.
pub fn check(
    registry: &Registry,
    doc: &ExecutableDocument,
    variables: &Variables,
    limits: &QueryLimits,
) -> Result<(), LimitError> {
    let mut walk = Walk {
        registry,
        doc,
        variables,
        limits,
        fragments: HashMap::new(),
    };
    let operations: Vec<_> = match &doc.operations {
        DocumentOperations::Single(op) => vec![op],
        DocumentOperations::Multiple(ops) => ops.values().collect(),
    };
    for op in operations {
        let root = match op.node.ty {
            OperationType::Query => Some(registry.query_type.as_str()),
            OperationType::Mutation => registry.mutation_type.as_deref(),
            OperationType::Subscription => registry.subscription_type.as_deref(),
        };
        let total = walk.selection_set(&op.node.selection_set.node, root, false)?;
        walk.within(total)?;
    }
    Ok(())
}

/// Selections and cost of a piece of a document.
#[derive(Debug, Clone, Copy, Default)]
struct Tally {
    selections: u64,
    cost: u64,
}

impl Tally {
    fn add(&mut self, other: Tally) {
        self.selections = self.selections.saturating_add(other.selections);
        self.cost = self.cost.saturating_add(other.cost);
    }
}

enum Fragment {
    InProgress,
    Done(Tally),
}

struct Walk<'a> {
    registry: &'a Registry,
    doc: &'a ExecutableDocument,
    variables: &'a Variables,
    limits: &'a QueryLimits,
    fragments: HashMap<&'a str, Fragment>,
}

impl<'a> Walk<'a> {
    fn within(&self, t: Tally) -> Result<(), LimitError> {
        if t.selections > self.limits.max_selections {
            return Err(LimitError::TooManySelections {
                max: self.limits.max_selections,
            });
        }
        if t.cost > self.limits.max_cost {
            return Err(LimitError::TooCostly {
                max: self.limits.max_cost,
            });
        }
        Ok(())
    }

    /// `introspection`: inside `__schema`/`__type`, whose lists are bounded
    /// by the schema itself and count once.
    fn selection_set(
        &mut self,
        set: &'a SelectionSet,
        ty: Option<&'a str>,
        introspection: bool,
    ) -> Result<Tally, LimitError> {
        let mut total = Tally::default();
        for item in &set.items {
            let part = match &item.node {
                Selection::Field(f) => self.field(&f.node, ty, introspection)?,
                Selection::InlineFragment(i) => {
                    let ty = match &i.node.type_condition {
                        Some(c) => Some(c.node.on.node.as_str()),
                        None => ty,
                    };
                    self.selection_set(&i.node.selection_set.node, ty, introspection)?
                }
                Selection::FragmentSpread(s) => {
                    self.fragment(&s.node.fragment_name, introspection)?
                }
            };
            total.add(part);
            // Stop as soon as the bound is passed: the work stays bounded
            // however the rest of the document is shaped.
            self.within(total)?;
        }
        Ok(total)
    }

    fn fragment(
        &mut self,
        name: &'a Positioned<Name>,
        introspection: bool,
    ) -> Result<Tally, LimitError> {
        match self.fragments.get(name.node.as_str()) {
            Some(Fragment::Done(t)) => return Ok(*t),
            Some(Fragment::InProgress) => {
                return Err(LimitError::FragmentCycle {
                    name: name.node.to_string(),
                    pos: name.pos,
                });
            }
            None => {}
        }
        // An unknown fragment is validation's to report.
        let Some(def) = self.doc.fragments.get(&name.node) else {
            return Ok(Tally::default());
        };
        self.fragments
            .insert(name.node.as_str(), Fragment::InProgress);
        let ty = Some(def.node.type_condition.node.on.node.as_str());
        let t = self.selection_set(&def.node.selection_set.node, ty, introspection)?;
        self.fragments.insert(name.node.as_str(), Fragment::Done(t));
        Ok(t)
    }

    fn field(
        &mut self,
        f: &'a async_graphql::parser::types::Field,
        parent: Option<&'a str>,
        introspection: bool,
    ) -> Result<Tally, LimitError> {
        let name = f.name.node.as_str();
        let meta = parent
            .and_then(|t| self.registry.types.get(t))
            .and_then(|t| t.field_by_name(name));
        for (arg, value) in &f.arguments {
            let ty = meta
                .and_then(|m| m.args.get(arg.node.as_str()))
                .map(|a| a.ty.as_str());
            self.value(arg.node.as_str(), &value.node, ty, value.pos)?;
        }
        let (child_ty, introspection) = match name {
            "__schema" => (Some("__Schema"), true),
            "__type" => (Some("__Type"), true),
            _ => (
                meta.map(|m| MetaTypeName::concrete_typename(&m.ty)),
                introspection,
            ),
        };
        let children = if f.selection_set.node.items.is_empty() {
            Tally::default()
        } else {
            self.selection_set(&f.selection_set.node, child_ty, introspection)?
        };
        let times = if introspection {
            1
        } else {
            self.times(f, meta.map(|m| m.ty.as_str()), child_ty)
        };
        // A scalar costs nothing beyond its selection; an object-valued
        // field counts one, and what is under it once per item.
        let own = u64::from(!f.selection_set.node.items.is_empty());
        Ok(Tally {
            selections: children.selections.saturating_add(1),
            cost: children.cost.saturating_mul(times).saturating_add(own),
        })
    }

    /// How many times a field's selections may run: `first`/`last` when
    /// given, a connection's default page, a guess for other lists.
    fn times(
        &self,
        f: &async_graphql::parser::types::Field,
        ty: Option<&str>,
        concrete: Option<&str>,
    ) -> u64 {
        for (arg, value) in &f.arguments {
            if matches!(arg.node.as_str(), "first" | "last") {
                let n = match &value.node {
                    Value::Number(n) => n.as_i64(),
                    Value::Variable(v) => match self.variables.get(v) {
                        Some(ConstValue::Number(n)) => n.as_i64(),
                        _ => None,
                    },
                    _ => None,
                };
                if let Some(n) = n {
                    return n.max(1) as u64;
                }
            }
        }
        let name = f.name.node.as_str();
        if matches!(name, "edges" | "nodes") {
            // Sized by the connection above, already counted there.
            return 1;
        }
        if concrete.is_some_and(|c| c.ends_with("Connection")) {
            return DEFAULT_PAGE as u64;
        }
        if ty.is_some_and(|t| MetaTypeName::create(t).is_list()) {
            return LIST_GUESS;
        }
        1
    }

    /// Every string in an argument, however deep in lists and input
    /// objects, and whether given inline or through a variable.
    fn value(
        &self,
        field: &str,
        value: &Value,
        ty: Option<&str>,
        pos: Pos,
    ) -> Result<(), LimitError> {
        match value {
            Value::String(s) => self.string(field, s, ty, pos),
            Value::Variable(v) => match self.variables.get(v) {
                Some(c) => self.const_value(field, c, ty, pos),
                None => Ok(()),
            },
            Value::List(items) => {
                let inner = ty.map(element_type);
                items
                    .iter()
                    .try_for_each(|v| self.value(field, v, inner, pos))
            }
            Value::Object(fields) => fields.iter().try_for_each(|(k, v)| {
                self.value(k.as_str(), v, self.input_field_type(ty, k.as_str()), pos)
            }),
            _ => Ok(()),
        }
    }

    fn const_value(
        &self,
        field: &str,
        value: &ConstValue,
        ty: Option<&str>,
        pos: Pos,
    ) -> Result<(), LimitError> {
        match value {
            ConstValue::String(s) => self.string(field, s, ty, pos),
            ConstValue::List(items) => {
                let inner = ty.map(element_type);
                items
                    .iter()
                    .try_for_each(|v| self.const_value(field, v, inner, pos))
            }
            ConstValue::Object(fields) => fields.iter().try_for_each(|(k, v)| {
                self.const_value(k.as_str(), v, self.input_field_type(ty, k.as_str()), pos)
            }),
            _ => Ok(()),
        }
    }

    fn input_field_type(&self, ty: Option<&str>, field: &str) -> Option<&'a str> {
        let ty = MetaTypeName::concrete_typename(ty?);
        match self.registry.types.get(ty)? {
            MetaType::InputObject { input_fields, .. } => {
                input_fields.get(field).map(|f| f.ty.as_str())
            }
            _ => None,
        }
    }

    fn string(&self, field: &str, s: &str, ty: Option<&str>, pos: Pos) -> Result<(), LimitError> {
        let type_name = ty.map(MetaTypeName::concrete_typename).unwrap_or("String");
        let max = max_chars(field, type_name);
        // Bytes bound characters from above: count only when it matters.
        if s.len() > max && s.chars().count() > max {
            return Err(LimitError::StringTooLong {
                field: field.to_owned(),
                max,
                pos,
            });
        }
        Ok(())
    }
}

/// `[T!]!` → `T!`; anything else stays as it is (a single value where a
/// list is expected is coerced to a one-item list).
fn element_type(ty: &str) -> &str {
    let t = ty.strip_suffix('!').unwrap_or(ty);
    t.strip_prefix('[')
        .and_then(|t| t.strip_suffix(']'))
        .unwrap_or(ty)
}

/// The deepest nesting of `{`, `[` and `(` the parser is given: it
/// descends recursively, so depth is checked on the text first.
pub const MAX_NESTING: usize = 64;

/// The deepest bracket nesting in GraphQL text, strings and comments
/// skipped; stops counting past `limit`.
pub fn nesting(text: &str, limit: usize) -> usize {
    let b = text.as_bytes();
    let (mut i, mut depth, mut deepest) = (0, 0usize, 0usize);
    while i < b.len() {
        match b[i] {
            b'#' => {
                while i < b.len() && b[i] != b'\n' && b[i] != b'\r' {
                    i += 1;
                }
            }
            b'"' if b[i..].starts_with(b"\"\"\"") => {
                i += 3;
                while i < b.len() && !b[i..].starts_with(b"\"\"\"") {
                    i += if b[i..].starts_with(b"\\\"\"\"") {
                        4
                    } else {
                        1
                    };
                }
                i += 2;
            }
            b'"' => {
                i += 1;
                while i < b.len() && b[i] != b'"' && b[i] != b'\n' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'{' | b'[' | b'(' => {
                depth += 1;
                deepest = deepest.max(depth);
                if deepest > limit {
                    return deepest;
                }
            }
            b'}' | b']' | b')' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    deepest
}

/// The extension that applies the limits to every request, over HTTP and
/// websockets alike. It parses the document itself, in `prepare_request`,
/// because async-graphql's own parse step already walks every fragment
/// spread in place (its recursion-depth check), which a fragment bomb
/// turns into 2^n work before any later hook runs.
pub struct Limits(pub QueryLimits);

impl ExtensionFactory for Limits {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(LimitsExtension(self.0))
    }
}

struct LimitsExtension(QueryLimits);

#[async_graphql::async_trait::async_trait]
impl Extension for LimitsExtension {
    async fn prepare_request(
        &self,
        ctx: &ExtensionContext<'_>,
        request: async_graphql::Request,
        next: NextPrepareRequest<'_>,
    ) -> ServerResult<async_graphql::Request> {
        let mut request = next.run(ctx, request).await?;
        let doc = parse_within(&request.query, &self.0)?;
        check(&ctx.schema_env.registry, &doc, &request.variables, &self.0)
            .map_err(LimitError::into_server_error)?;
        request.set_parsed_query(doc);
        Ok(request)
    }
}

/// Parse `query` once its size and nesting are known to be safe.
pub fn parse_within(query: &str, limits: &QueryLimits) -> ServerResult<ExecutableDocument> {
    if query.len() > limits.max_document_bytes {
        return Err(LimitError::DocumentTooLarge {
            bytes: query.len(),
            max: limits.max_document_bytes,
        }
        .into_server_error());
    }
    if nesting(query, MAX_NESTING) > MAX_NESTING {
        return Err(LimitError::TooDeep { max: MAX_NESTING }.into_server_error());
    }
    Ok(async_graphql::parser::parse_query(query)?)
}

/// graphql-js's `getIntrospectionQuery()`, as GraphiQL, Apollo and
/// codegen tools send it: the limits must let it through (tested here and
/// against a running server).
pub const STANDARD_INTROSPECTION: &str = "
query IntrospectionQuery {
  __schema {
    queryType { name }
    mutationType { name }
    subscriptionType { name }
    types { ...FullType }
    directives { name description locations args { ...InputValue } }
  }
}
fragment FullType on __Type {
  kind name description
  fields(includeDeprecated: true) {
    name description args { ...InputValue } type { ...TypeRef } isDeprecated deprecationReason
  }
  inputFields { ...InputValue }
  interfaces { ...TypeRef }
  enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason }
  possibleTypes { ...TypeRef }
}
fragment InputValue on __InputValue { name description type { ...TypeRef } defaultValue }
fragment TypeRef on __Type {
  kind name
  ofType { kind name ofType { kind name ofType { kind name ofType { kind name
    ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } } }
}";

#[cfg(test)]
mod tests {
    use super::*;

    use std::sync::Mutex;

    type Seen = Arc<Mutex<Option<Result<(), LimitError>>>>;

    /// Runs [`check`] where the extension would, against the real schema's
    /// registry, and stops the request there.
    struct Probe(Seen);

    impl ExtensionFactory for Probe {
        fn create(&self) -> Arc<dyn Extension> {
            Arc::new(Probe(self.0.clone()))
        }
    }

    #[async_graphql::async_trait::async_trait]
    impl Extension for Probe {
        async fn prepare_request(
            &self,
            ctx: &ExtensionContext<'_>,
            request: async_graphql::Request,
            _next: NextPrepareRequest<'_>,
        ) -> ServerResult<async_graphql::Request> {
            let doc = async_graphql::parser::parse_query(&request.query)?;
            let got = check(
                &ctx.schema_env.registry,
                &doc,
                &request.variables,
                &QueryLimits::default(),
            );
            *self.0.lock().expect("lock") = Some(got);
            Err(ServerError::new("stopped by the test", None))
        }
    }

    fn run(query: &str, vars: serde_json::Value) -> Result<(), LimitError> {
        use super::super::{Mutation, Query, Subscription};
        let seen: Seen = Default::default();
        let schema = async_graphql::Schema::build(
            Query::default(),
            Mutation::default(),
            Subscription::default(),
        )
        .extension(Probe(seen.clone()))
        .finish();
        let request = async_graphql::Request::new(query).variables(Variables::from_json(vars));
        let _ = futures::executor::block_on(schema.execute(request));
        let got = seen.lock().expect("lock").take();
        got.expect("the document parsed")
    }

    #[test]
    fn a_fragment_bomb_is_refused_without_expanding_it() {
        let q = fragment_bomb(60);
        assert!(q.len() < 3_000);
        let started = std::time::Instant::now();
        assert_eq!(
            run(&q, serde_json::json!({})),
            Err(LimitError::TooManySelections { max: 2_000 })
        );
        // 2^60 selections would take centuries; the check is linear.
        assert!(started.elapsed() < std::time::Duration::from_secs(1));
        // A small one passes.
        assert_eq!(run(&fragment_bomb(5), serde_json::json!({})), Ok(()));
    }

    #[test]
    fn a_fragment_that_spreads_itself_is_refused() {
        let q = "query { me { ...A } } fragment A on User { ...B } fragment B on User { ...A }";
        assert!(matches!(
            run(q, serde_json::json!({})),
            Err(LimitError::FragmentCycle { .. })
        ));
    }

    #[test]
    fn list_sizes_multiply_the_cost() {
        let nested = |outer: i64, inner: i64| {
            format!(
                "query {{ campaigns(first: {outer}) {{ edges {{ node {{ id \
                 leads(first: {inner}) {{ edges {{ node {{ id phone firstName lastName }} }} }} }} }} }} }}"
            )
        };
        // 10 campaigns × 10 leads: fine.
        assert_eq!(run(&nested(10, 10), serde_json::json!({})), Ok(()));
        // 200 × 200 = 40,000 leads: refused, though it is the same few selections.
        assert_eq!(
            run(&nested(200, 200), serde_json::json!({})),
            Err(LimitError::TooCostly { max: 25_000 })
        );
        // The same through a variable.
        let q = "query($n: Int) { campaigns(first: $n) { edges { node { id \
                 leads(first: $n) { edges { node { id phone } } } } } } }";
        assert_eq!(
            run(q, serde_json::json!({"n": 200})),
            Err(LimitError::TooCostly { max: 25_000 })
        );
        assert_eq!(run(q, serde_json::json!({"n": 20})), Ok(()));
    }

    #[test]
    fn many_aliases_count_as_many_selections() {
        let mut q = String::from("query { ");
        for i in 0..2_100 {
            q.push_str(&format!("a{i}: __typename "));
        }
        q.push('}');
        assert_eq!(
            run(&q, serde_json::json!({})),
            Err(LimitError::TooManySelections { max: 2_000 })
        );
    }

    #[test]
    fn introspection_as_tools_send_it_passes() {
        assert_eq!(run(STANDARD_INTROSPECTION, serde_json::json!({})), Ok(()));
    }

    #[test]
    fn deep_nesting_is_refused_before_the_parser_recurses() {
        let deep = format!("{{{}{}", "a {".repeat(20_000), "}".repeat(20_001));
        let err = parse_within(&deep, &QueryLimits::default()).expect_err("refused");
        assert!(err.message.contains("more than 64 deep"), "{}", err.message);
        // Brackets inside strings, block strings and comments do not count.
        let text = "query { a(s: \"{{{{\", t: \"\"\"[[[[ \\\"\"\" (((\"\"\") } # {{{{\n";
        assert_eq!(nesting(text, 64), 2);
        let ok = format!("{{{}{}", "a {".repeat(60), "}".repeat(61));
        assert_eq!(nesting(&ok, 64), 61);
    }

    #[test]
    fn long_strings_are_refused_by_their_field_inline_and_in_variables() {
        let long = "x".repeat(201);
        let q = format!(
            "mutation {{ setAgentStatus(input: {{contactCenterId: \"c\", status: BREAK, reason: \"{long}\"}}) {{ presence {{ status }} }} }}"
        );
        match run(&q, serde_json::json!({})) {
            Err(LimitError::StringTooLong { field, max, .. }) => {
                assert_eq!((field.as_str(), max), ("reason", 200));
            }
            other => panic!("{other:?}"),
        }
        let q = "mutation($i: SetAgentStatusInput!) { setAgentStatus(input: $i) { presence { status } } }";
        let vars =
            serde_json::json!({"i": {"contactCenterId": "c", "status": "BREAK", "reason": long}});
        assert!(matches!(
            run(q, vars),
            Err(LimitError::StringTooLong { ref field, .. }) if field == "reason"
        ));
        // An ID is an id's length.
        let q = format!("query {{ campaign(id: \"{}\") {{ id }} }}", "9".repeat(65));
        assert!(matches!(
            run(&q, serde_json::json!({})),
            Err(LimitError::StringTooLong { ref field, max: 64, .. }) if field == "id"
        ));
        // 200 characters of a multi-byte script are 200, not 600.
        let ok = "é".repeat(200);
        let q = "mutation($i: SetAgentStatusInput!) { setAgentStatus(input: $i) { presence { status } } }";
        let vars =
            serde_json::json!({"i": {"contactCenterId": "c", "status": "BREAK", "reason": ok}});
        assert_eq!(run(q, vars), Ok(()));
    }
}
