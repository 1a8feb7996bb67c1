//! One row of a file after its columns have been matched to our fields, whatever the file format:
//! the builders read records from this, so CSV and NDJSON share every rule about values (text in
//! `text`, numbers in `number`, times in `time`).

use crate::fields::FieldSpec;
use crate::number;
use crate::text::{self, TextRule};
use crate::{Layout, RecordKind, parse_timestamp};
use serde_json::Value;
use std::borrow::Cow;
use trailmap_model::{Currency, DecimalMark, Money, Properties, Timestamp};

/// A field's value and the column (or JSON key) it came from.
#[derive(Debug)]
pub(crate) struct Val<'a> {
    pub text: Cow<'a, str>,
    pub column: &'a str,
    /// Written as a JSON number, so never ambiguous whatever the decimal mark.
    pub json_number: bool,
}

/// A row's values by field index, trimmed; blank cells are absent.
#[derive(Debug, Default)]
pub(crate) struct Row<'a> {
    pub values: Vec<Option<Val<'a>>>,
    /// Columns that match no field, for the kinds that keep them as properties.
    pub extras: Vec<(Cow<'a, str>, Value)>,
    /// Nested `properties`/`traits` objects of an NDJSON record.
    pub nested: Vec<&'a serde_json::Map<String, Value>>,
    /// An NDJSON order's array of line items (`lines`, `items`, `products`).
    pub items: Option<&'a [Value]>,
}

/// Why a row was rejected, before the reader adds the file, line and raw text.
#[derive(Debug)]
pub(crate) struct Fail {
    pub column: Option<String>,
    pub reason: String,
}

impl Fail {
    pub fn row(reason: impl Into<String>) -> Fail {
        Fail {
            column: None,
            reason: reason.into(),
        }
    }
}

/// What the builders need to know about the file, beyond the row.
#[derive(Debug)]
pub(crate) struct Ctx {
    pub kind: RecordKind,
    pub layout: Layout,
    pub currency: Currency,
    /// The decimal mark declared for the file, if any (see [`crate::number`]).
    pub decimal_mark: Option<DecimalMark>,
    pub specs: &'static [FieldSpec],
    /// For CSV, the header's name of the column matched to each field; used to name the column
    /// of an empty required cell.
    pub columns: Vec<Option<String>>,
}

impl Ctx {
    /// The name to show for a field with no value: its column when the header has one.
    pub fn column_of(&self, field: usize) -> String {
        match self.columns.get(field) {
            Some(Some(c)) => c.clone(),
            _ => self.specs[field].name.to_string(),
        }
    }
}

impl<'a> Row<'a> {
    pub fn with_fields(n: usize) -> Row<'a> {
        let mut values = Vec::with_capacity(n);
        values.resize_with(n, || None);
        Row {
            values,
            ..Row::default()
        }
    }

    pub fn get(&self, field: usize) -> Option<&str> {
        self.values[field].as_ref().map(|v| v.text.as_ref())
    }

    pub fn owned(&self, field: usize) -> Option<String> {
        self.get(field).map(str::to_string)
    }

    /// The column the value came from, for error messages.
    pub fn column(&self, ctx: &Ctx, field: usize) -> String {
        match &self.values[field] {
            Some(v) => v.column.to_string(),
            None => ctx.column_of(field),
        }
    }

    pub fn fail(&self, ctx: &Ctx, field: usize, reason: impl Into<String>) -> Fail {
        Fail {
            column: Some(self.column(ctx, field)),
            reason: reason.into(),
        }
    }

    pub fn require(&self, ctx: &Ctx, field: usize) -> Result<&str, Fail> {
        self.get(field).ok_or_else(|| self.missing(ctx, field))
    }

    pub fn missing(&self, ctx: &Ctx, field: usize) -> Fail {
        let spec = &ctx.specs[field];
        match ctx.columns.get(field) {
            Some(Some(c)) => Fail {
                column: Some(c.clone()),
                reason: format!("empty, but `{}` is required", spec.name),
            },
            _ => Fail::row(format!(
                "missing `{}` (tried: {})",
                spec.name,
                spec.aliases.join(", ")
            )),
        }
    }

    pub fn time(&self, ctx: &Ctx, field: usize) -> Result<Option<Timestamp>, Fail> {
        match self.get(field) {
            None => Ok(None),
            Some(t) => parse_timestamp(t)
                .map(Some)
                .map_err(|e| self.fail(ctx, field, e)),
        }
    }

    pub fn require_time(&self, ctx: &Ctx, field: usize) -> Result<Timestamp, Fail> {
        self.time(ctx, field)?
            .ok_or_else(|| self.missing(ctx, field))
    }

    /// The row's currency: its currency column when filled, else the file's default.
    pub fn currency(&self, ctx: &Ctx, field: usize) -> Result<Currency, Fail> {
        match self.get(field) {
            None => Ok(ctx.currency),
            Some(code) => Currency::parse(code).ok_or_else(|| {
                self.fail(
                    ctx,
                    field,
                    format!("not a currency code: {code:?} (expected three letters like EUR)"),
                )
            }),
        }
    }

    pub fn money(
        &self,
        ctx: &Ctx,
        field: usize,
        currency: Currency,
    ) -> Result<Option<Money>, Fail> {
        let Some(val) = &self.values[field] else {
            return Ok(None);
        };
        let parsed = if val.json_number {
            number::parse_json_amount(&val.text, currency)
        } else {
            number::parse_amount(&val.text, ctx.decimal_mark, currency)
        };
        parsed.map(Some).map_err(|reason| self.fail(ctx, field, reason))
    }

    /// A number that is not money (a rating), by the same rules.
    pub fn number(&self, ctx: &Ctx, field: usize) -> Result<Option<f64>, Fail> {
        let Some(val) = &self.values[field] else {
            return Ok(None);
        };
        let mark = if val.json_number { Some(DecimalMark::Point) } else { ctx.decimal_mark };
        number::parse_number(&val.text, mark).map(Some).map_err(|reason| self.fail(ctx, field, reason))
    }

    /// A whole number (a quantity), by the same rules.
    pub fn whole(&self, ctx: &Ctx, field: usize) -> Result<Option<i64>, Fail> {
        let Some(val) = &self.values[field] else {
            return Ok(None);
        };
        let mark = if val.json_number { Some(DecimalMark::Point) } else { ctx.decimal_mark };
        number::parse_whole(&val.text, mark).map(Some).map_err(|reason| self.fail(ctx, field, reason))
    }

    /// Checks every value of the row against its field's text rule, the columns kept as
    /// properties (names and values) and nested objects as free text, so no control character
    /// or over-long value gets into a record.
    pub fn check_text(&self, ctx: &Ctx) -> Result<(), Fail> {
        for (field, val) in self.values.iter().enumerate() {
            if let Some(val) = val {
                text::check(&val.text, ctx.specs[field].text)
                    .map_err(|problem| Fail { column: Some(val.column.to_string()), reason: problem.to_string() })?;
            }
        }
        for (key, value) in &self.extras {
            text::check(key, TextRule::LINE)
                .map_err(|problem| Fail { column: Some(key.to_string()), reason: format!("the column's name: {problem}") })?;
            text::check_json(value).map_err(|(path, problem)| Fail {
                column: Some(if path.is_empty() { key.to_string() } else { format!("{key}.{path}") }),
                reason: problem.to_string(),
            })?;
        }
        for nested in &self.nested {
            for (key, value) in *nested {
                text::check(key, TextRule::LINE)
                    .map_err(|problem| Fail { column: Some(key.to_string()), reason: format!("the key: {problem}") })?;
                text::check_json(value).map_err(|(path, problem)| Fail {
                    column: Some(if path.is_empty() { key.to_string() } else { format!("{key}.{path}") }),
                    reason: problem.to_string(),
                })?;
            }
        }
        if let Some(items) = self.items {
            for (i, item) in items.iter().enumerate() {
                text::check_json(item).map_err(|(path, problem)| Fail {
                    column: Some(if path.is_empty() { format!("lines[{i}]") } else { format!("lines[{i}].{path}") }),
                    reason: problem.to_string(),
                })?;
            }
        }
        Ok(())
    }

    pub fn require_money(
        &self,
        ctx: &Ctx,
        field: usize,
        currency: Currency,
    ) -> Result<Money, Fail> {
        self.money(ctx, field, currency)?
            .ok_or_else(|| self.missing(ctx, field))
    }

    /// Merges the row's leftover columns, nested objects and its `properties` JSON column (in that
    /// order, later ones winning) into one map.
    pub fn properties(&self, ctx: &Ctx, json_field: usize) -> Result<Properties, Fail> {
        let mut props = Properties::new();
        for (k, v) in &self.extras {
            props.insert(k.to_string(), v.clone());
        }
        for nested in &self.nested {
            for (k, v) in *nested {
                props.insert(k.clone(), v.clone());
            }
        }
        if let Some(text) = self.get(json_field) {
            match crate::json::parse_strict(text.as_bytes()) {
                Ok(Value::Object(map)) => {
                    text::check_object(&map)
                        .map_err(|(path, problem)| self.fail(ctx, json_field, format!("{path}: {problem}")))?;
                    props.extend(map)
                }
                Ok(_) => {
                    return Err(self.fail(ctx, json_field, format!("not a JSON object: {text:?}")));
                }
                Err(e) => {
                    return Err(self.fail(ctx, json_field, format!("not a JSON object: {e}")));
                }
            }
        }
        Ok(props)
    }
}
