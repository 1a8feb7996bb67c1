//! Matching a file's columns to our fields, shared by CSV headers and Parquet schemas: the
//! person's overrides first, then the columns a detected layout fills (Shopify's and Stripe's
//! exports), then each field's aliases, best first. Columns left over are kept as properties for
//! the kinds that keep them. Names compare without case or punctuation (see `fields`).

use crate::error::{Hint, ImportError};
use crate::fields::{ANONYMOUS_ID, CUSTOMER_ID, EMAIL, FieldSpec, normalise, or, sp};
use crate::row::Ctx;
use crate::{ImportOptions, Layout, RecordKind};
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

/// What a column is used for.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Use {
    Skip,
    Field(usize),
    /// Kept as a property under the column's own name.
    Extra,
    /// Kept as a property under this name (the few useful columns of Shopify and Stripe exports).
    Prop(&'static str),
}

/// A field (or a group of fields of which one is needed: an identity, a period) that no column of
/// the file fills, with the column names tried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingColumn {
    /// Our field's name, or the group's names joined ("customer_id, email or anonymous_id").
    pub field: String,
    pub tried: Vec<String>,
}

/// A file's columns matched to our fields.
#[derive(Debug)]
pub(crate) struct Matched {
    /// What each column of the file is used for, in the file's order.
    pub plan: Vec<Use>,
    pub ctx: Ctx,
    /// What the file lacks; a strict reader refuses the file for the first of them.
    pub missing: Vec<MissingColumn>,
}

impl MissingColumn {
    pub(crate) fn error(&self, file: &str, hint: Option<Hint>) -> ImportError {
        ImportError::MissingColumn { file: file.to_string(), field: self.field.clone(), tried: self.tried.clone(), hint }
    }
}

/// The reason a header cannot be used when it names a column twice.
pub(crate) fn duplicate(headers: &[String]) -> Option<String> {
    let mut seen = HashMap::default();
    for (i, name) in headers.iter().enumerate() {
        if name.is_empty() {
            continue;
        }
        if let Some(first) = seen.insert(name.as_str(), i) {
            return Some(format!("column `{name}` appears twice (columns {} and {})", first + 1, i + 1));
        }
    }
    None
}

/// Matches `headers` (the file's column names, trimmed) to the fields of `specs`. An override
/// naming a column that is not there is an error; missing required columns are listed in
/// [`Matched::missing`] for the caller to refuse or to show.
pub(crate) fn match_columns(
    headers: &[String],
    options: &ImportOptions,
    specs: &'static [FieldSpec],
    overrides: &[(usize, String)],
) -> Result<Matched, ImportError> {
    let file = &options.file_name;
    let normalised: Vec<String> = headers.iter().map(|h| normalise(h)).collect();
    let layout = options.layout.unwrap_or_else(|| detect_layout(options.kind, &normalised));
    let (implicit, layout_props): (Implicit, &[(&str, &str)]) = match layout {
        Layout::Generic => (&[], &[]),
        Layout::ShopifyOrders => (SHOPIFY_COLUMNS, SHOPIFY_PROPERTIES),
        Layout::StripePayments => (STRIPE_COLUMNS, STRIPE_PROPERTIES),
    };

    let mut field_col: Vec<Option<usize>> = vec![None; specs.len()];
    let mut claimed = vec![false; headers.len()];
    // An override with an empty column takes the field from no column at all.
    let mut unmapped = vec![false; specs.len()];
    for (field, column) in overrides {
        if column.is_empty() {
            unmapped[*field] = true;
            continue;
        }
        let found = headers
            .iter()
            .position(|h| h == column)
            .or_else(|| normalised.iter().position(|n| *n == normalise(column)));
        let Some(i) = found else {
            return Err(ImportError::UnknownOverrideColumn {
                file: file.clone(),
                field: specs[*field].name.to_string(),
                column: column.clone(),
                available: headers.to_vec(),
            });
        };
        field_col[*field] = Some(i);
        claimed[i] = true;
    }
    let mut claim = |field: usize, names: &[&str], field_col: &mut Vec<Option<usize>>| {
        if field_col[field].is_some() || unmapped[field] {
            return;
        }
        for name in names {
            let wanted = normalise(name);
            if let Some(i) = (0..headers.len()).find(|&i| !claimed[i] && normalised[i] == wanted) {
                field_col[field] = Some(i);
                claimed[i] = true;
                return;
            }
        }
    };
    for (field, names) in implicit {
        claim(*field, names, &mut field_col);
    }
    for (field, spec) in specs.iter().enumerate() {
        claim(field, spec.aliases, &mut field_col);
    }

    let mut missing = Vec::new();
    let lacking = |name: &str, tried: &[&FieldSpec]| MissingColumn {
        field: name.to_string(),
        tried: tried.iter().flat_map(|s| s.aliases.iter().map(|a| a.to_string())).collect(),
    };
    for (field, spec) in specs.iter().enumerate() {
        if spec.required && field_col[field].is_none() {
            missing.push(lacking(spec.name, &[spec]));
        }
    }
    let needs_identity = matches!(options.kind, RecordKind::Events | RecordKind::Customers | RecordKind::Orders);
    if needs_identity && [CUSTOMER_ID, EMAIL, ANONYMOUS_ID].iter().all(|&f| field_col[f].is_none()) {
        missing.push(lacking("customer_id, email or anonymous_id", &[&specs[CUSTOMER_ID], &specs[EMAIL], &specs[ANONYMOUS_ID]]));
    }
    if options.kind == RecordKind::Spend && [sp::START, sp::DATE, sp::MONTH].iter().all(|&f| field_col[f].is_none()) {
        missing.push(lacking("start, date or month", &[&specs[sp::START], &specs[sp::DATE], &specs[sp::MONTH]]));
    }

    let keeps_extras = matches!(options.kind, RecordKind::Events | RecordKind::Customers);
    let mut plan = vec![Use::Skip; headers.len()];
    for (field, col) in field_col.iter().enumerate() {
        if let Some(i) = col {
            plan[*i] = Use::Field(field);
        }
    }
    for (i, name) in headers.iter().enumerate() {
        if !matches!(plan[i], Use::Skip) || name.is_empty() {
            continue;
        }
        if let Some((_, prop)) = layout_props.iter().find(|(col, _)| normalise(col) == normalised[i]) {
            plan[i] = Use::Prop(prop);
        } else if keeps_extras {
            plan[i] = Use::Extra;
        }
    }
    let ctx = Ctx {
        kind: options.kind,
        layout,
        currency: options.default_currency,
        decimal_mark: options.decimal_mark_for(layout),
        specs,
        columns: field_col.iter().map(|c| c.map(|i| headers[i].clone())).collect(),
    };
    Ok(Matched { plan, ctx, missing })
}

/// The columns a layout fills before the aliases are tried: (field, the export's column names).
type Implicit = &'static [(usize, &'static [&'static str])];

const SHOPIFY_COLUMNS: Implicit = &[
    (or::ORDER_ID, &["Name"]),
    (EMAIL, &["Email"]),
    (or::TIME, &["Created at"]),
    (or::TOTAL, &["Total"]),
    (or::SUBTOTAL, &["Subtotal"]),
    (or::SHIPPING, &["Shipping"]),
    (or::TAX, &["Taxes"]),
    (or::DISCOUNT, &["Discount Amount"]),
    (or::CURRENCY, &["Currency"]),
    (or::STATUS, &["Financial Status"]),
    (or::SOURCE, &["Source"]),
    (or::QUANTITY, &["Lineitem quantity"]),
    (or::LINE_NAME, &["Lineitem name"]),
    (or::PRICE, &["Lineitem price"]),
    (or::SKU, &["Lineitem sku"]),
    (or::REFUNDED, &["Refunded Amount"]),
];

const SHOPIFY_PROPERTIES: &[(&str, &str)] = &[
    ("Id", "shopify_id"),
    ("Discount Code", "discount_code"),
    ("Fulfillment Status", "fulfillment_status"),
    ("Payment Method", "payment_method"),
    ("Shipping Method", "shipping_method"),
    ("Tags", "tags"),
    ("Location", "location"),
    ("Billing Country", "billing_country"),
    ("Cancelled at", "cancelled_at"),
];

const STRIPE_COLUMNS: Implicit = &[
    (or::ORDER_ID, &["id"]),
    (or::TIME, &["Created (UTC)", "Created date (UTC)"]),
    (or::TOTAL, &["Amount"]),
    (or::CURRENCY, &["Currency"]),
    (EMAIL, &["Customer Email"]),
    (CUSTOMER_ID, &["Customer ID"]),
    (or::STATUS, &["Status"]),
    (or::CAPTURED, &["Captured"]),
    (or::REFUNDED, &["Amount Refunded"]),
    (or::TAX, &["Tax"]),
];

const STRIPE_PROPERTIES: &[(&str, &str)] = &[
    ("Description", "description"),
    ("Customer Description", "customer_description"),
    ("Card Brand", "card_brand"),
];

fn detect_layout(kind: RecordKind, normalised: &[String]) -> Layout {
    if kind != RecordKind::Orders {
        return Layout::Generic;
    }
    let has: HashSet<&str> = normalised.iter().map(String::as_str).collect();
    let all = |names: &[&str]| names.iter().all(|n| has.contains(n));
    let any = |names: &[&str]| names.iter().any(|n| has.contains(n));
    if all(&["name", "email", "financialstatus", "lineitemname"]) {
        Layout::ShopifyOrders
    } else if all(&["id", "amount"])
        && any(&["createdutc", "createddateutc"])
        && any(&["status", "captured"])
        && any(&["customeremail", "customerid"])
    {
        Layout::StripePayments
    } else {
        Layout::Generic
    }
}
