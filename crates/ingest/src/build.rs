//! Turning a matched row into a model record, one function per kind. Every rule about values lives
//! here (what is required, how money, ratings, periods and statuses are read), so CSV and NDJSON
//! files behave the same.

use crate::Layout;
use crate::enrich::{DropReason, Enricher};
use crate::fields::{ANONYMOUS_ID, CUSTOMER_ID, EMAIL, cu, ev, fb, or, sp};
use crate::row::{Ctx, Fail, Row};
use crate::time::parse_period;
use serde_json::Value;
use trailmap_model::{
    Channel, Currency, Event, EventKey, FeedbackKind, Identity, IdentityKind, IncomingCustomer,
    IncomingEvent, IncomingFeedback, IncomingOrder, IncomingSpend, Money, OrderLine,
};

/// A row's outcome when it is not an error: a record, or a reasoned drop.
#[derive(Debug)]
pub(crate) enum Built<T> {
    Record(T),
    Drop(DropReason),
}

/// The row's identities, most trusted first (external id, email, anonymous id).
fn identities(row: &Row, ctx: &Ctx) -> Result<Vec<Identity>, Fail> {
    let mut ids = Vec::with_capacity(3);
    for (field, kind) in [
        (CUSTOMER_ID, IdentityKind::External),
        (EMAIL, IdentityKind::Email),
        (ANONYMOUS_ID, IdentityKind::Anonymous),
    ] {
        if let Some(value) = row.get(field) {
            if kind == IdentityKind::Email && !value.contains('@') {
                return Err(row.fail(ctx, field, format!("not an email address: {value:?}")));
            }
            ids.extend(Identity::new(kind, value));
        }
    }
    Ok(ids)
}

fn require_identities(row: &Row, ctx: &Ctx) -> Result<Vec<Identity>, Fail> {
    let ids = identities(row, ctx)?;
    if ids.is_empty() {
        return Err(Fail::row(
            "no identity: customer_id, email and anonymous_id are all empty",
        ));
    }
    Ok(ids)
}

/// An event. Its `identity` is the most trusted identity of the row and `also_known_as` holds all of
/// them, the primary included. The key is computed after enrichment, from the message id when there
/// is one, else from the content, so importing a file twice yields the same keys.
pub(crate) fn event(
    row: &Row,
    ctx: &Ctx,
    enricher: &mut Enricher,
) -> Result<Built<IncomingEvent>, Fail> {
    // The bot check runs first because it is cheap and spares all other work for dropped rows.
    if let Some(reason) = crate::enrich::bot(row.get(ev::USER_AGENT)) {
        return Ok(Built::Drop(reason));
    }
    let ids = require_identities(row, ctx)?;
    let name = row.require(ctx, ev::NAME)?.to_string();
    let time = row.require_time(ctx, ev::TIME)?;
    let currency = row.currency(ctx, ev::CURRENCY)?;
    let revenue = row.money(ctx, ev::REVENUE, currency)?;
    let properties = row.properties(ctx, ev::PROPERTIES)?;
    let mut event = Event {
        key: EventKey(0),
        name,
        time,
        identity: ids[0].clone(),
        channel: row.owned(ev::CHANNEL),
        source: row.owned(ev::SOURCE),
        medium: row.owned(ev::MEDIUM),
        campaign: row.owned(ev::CAMPAIGN),
        referrer: row.owned(ev::REFERRER),
        page: row.owned(ev::PAGE),
        revenue,
        properties,
    };
    if let Err(reason) = enricher.enrich(&mut event, None) {
        return Ok(Built::Drop(reason));
    }
    event.key = match row.get(ev::MESSAGE_ID) {
        Some(id) => EventKey::from_id("import", id),
        None => event.content_key(),
    };
    Ok(Built::Record(IncomingEvent {
        event,
        also_known_as: ids,
    }))
}

/// A customer: at least one identity; the name, or first and last name joined; `created_at` as
/// first seen; every other column as a property.
pub(crate) fn customer(row: &Row, ctx: &Ctx) -> Result<IncomingCustomer, Fail> {
    let identities = require_identities(row, ctx)?;
    let name = row.owned(cu::NAME).or_else(|| {
        let parts: Vec<&str> = [cu::FIRST_NAME, cu::LAST_NAME]
            .iter()
            .filter_map(|&f| row.get(f))
            .collect();
        (!parts.is_empty()).then(|| parts.join(" "))
    });
    Ok(IncomingCustomer {
        identities,
        name,
        first_seen: row.time(ctx, cu::CREATED_AT)?,
        properties: row.properties(ctx, cu::PROPERTIES)?,
    })
}

/// Spend over a period. The period is `start`..`end` (a month in `start` means its first day, in
/// `end` its last; `end` defaults to the end of `start`), or a single `date` or `month`. The amount
/// must not be negative. The channel is kept as written, respelled when it is a GA4 channel name.
pub(crate) fn spend(row: &Row, ctx: &Ctx) -> Result<IncomingSpend, Fail> {
    let channel = row.require(ctx, sp::CHANNEL)?;
    let channel =
        Channel::parse(channel).map_or_else(|| channel.to_string(), |c| c.as_str().to_string());
    let period = |field: usize| -> Result<Option<_>, Fail> {
        row.get(field)
            .map(|t| parse_period(t).map_err(|e| row.fail(ctx, field, e)))
            .transpose()
    };
    let (start, end) = match (
        period(sp::START)?,
        period(sp::END)?,
        period(sp::DATE)?,
        period(sp::MONTH)?,
    ) {
        (Some(s), e, _, _) => (s.0, e.unwrap_or(s).1),
        (None, Some(_), _, _) => return Err(row.missing(ctx, sp::START)),
        (None, None, Some(d), _) | (None, None, None, Some(d)) => d,
        (None, None, None, None) => {
            return Err(Fail::row(
                "no period: give start and end, a date, or a month like 2024-03",
            ));
        }
    };
    if end < start {
        return Err(row.fail(
            ctx,
            sp::END,
            format!("the period ends ({end}) before it starts ({start})"),
        ));
    }
    let currency = row.currency(ctx, sp::CURRENCY)?;
    let amount = row.require_money(ctx, sp::AMOUNT, currency)?;
    if amount.minor < 0 {
        return Err(row.fail(
            ctx,
            sp::AMOUNT,
            format!("negative amount: {:?}", row.get(sp::AMOUNT).unwrap_or("")),
        ));
    }
    Ok(IncomingSpend {
        channel,
        source: row.owned(sp::SOURCE),
        campaign: row.owned(sp::CAMPAIGN),
        start,
        end,
        amount,
    })
}

/// Feedback. The kind defaults to review. A rating is normalised to 1-5: with a `rating_scale`
/// (the maximum), or when the rating exceeds 5 (then the scale is taken as 10, or 100 above 10), it
/// is scaled proportionally (`rating * 5 / scale`) and clamped to 1-5, so 8 of 10 is 4 and 0 of 10
/// is 1. Tags are split on commas and semicolons.
pub(crate) fn feedback(row: &Row, ctx: &Ctx) -> Result<IncomingFeedback, Fail> {
    let kind = match row.get(fb::KIND) {
        None => FeedbackKind::Review,
        Some(k) => FeedbackKind::parse(k).ok_or_else(|| {
            row.fail(
                ctx,
                fb::KIND,
                format!("unknown kind {k:?} (expected review, mention or note)"),
            )
        })?,
    };
    let text = row.require(ctx, fb::TEXT)?.to_string();
    let number = |field: usize| -> Result<Option<f64>, Fail> {
        match row.number(ctx, field) {
            Ok(Some(v)) if v < 0.0 => Err(row.fail(
                ctx,
                field,
                format!("not a rating (a number, 0 or more): {:?}", row.get(field).unwrap_or("")),
            )),
            Ok(v) => Ok(v),
            Err(fail) => Err(Fail {
                reason: format!("not a rating: {}", fail.reason),
                ..fail
            }),
        }
    };
    let rating = match (number(fb::RATING)?, number(fb::RATING_SCALE)?) {
        (None, _) => None,
        (Some(_), Some(0.0)) => {
            return Err(row.fail(ctx, fb::RATING_SCALE, "the rating scale is 0"));
        }
        (Some(r), scale) => {
            let scale = match scale {
                Some(s) => s,
                None if r <= 5.0 => 5.0,
                None if r <= 10.0 => 10.0,
                None if r <= 100.0 => 100.0,
                None => {
                    return Err(row.fail(
                        ctx,
                        fb::RATING,
                        format!("rating {r} is above 100 and no rating_scale says out of what"),
                    ));
                }
            };
            Some((r * 5.0 / scale).clamp(1.0, 5.0) as f32)
        }
    };
    let tags = row
        .get(fb::TAGS)
        .map(|t| {
            t.split([',', ';'])
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    Ok(IncomingFeedback {
        kind,
        source: row.require(ctx, fb::SOURCE)?.to_string(),
        external_id: row.owned(fb::EXTERNAL_ID),
        customer: identities(row, ctx)?,
        author: row.owned(fb::AUTHOR),
        time: row.require_time(ctx, fb::TIME)?,
        rating,
        text,
        link: row.owned(fb::LINK),
        touchpoint: row.owned(fb::TOUCHPOINT),
        tags,
    })
}

/// The order a row starts: its order-level fields and its own line, if any. Rows that continue the
/// order only add lines ([`order_lines`]).
///
/// The total must not be negative; a negative discount is read as its absolute value. A refunded
/// amount sets the status to `refunded` (all of it) or `partially_refunded` when the file gave no
/// status. For Shopify, `Source` `pos` means channel `in-store` and anything else `online`. For
/// Stripe, only paid charges are orders: a row whose Status is not Paid, succeeded, Refunded or
/// Partially refunded, or whose Captured is false, is dropped with [`DropReason::UnpaidCharge`];
/// the status becomes `paid`, `refunded` or `partially_refunded` from `Amount Refunded`.
pub(crate) fn order_head(row: &Row, ctx: &Ctx) -> Result<Built<IncomingOrder>, Fail> {
    let external_id = row.require(ctx, or::ORDER_ID)?.to_string();
    if ctx.layout == Layout::StripePayments && !stripe_paid(row) {
        return Ok(Built::Drop(DropReason::UnpaidCharge));
    }
    let customer = require_identities(row, ctx)?;
    let time = row.require_time(ctx, or::TIME)?;
    let currency = row.currency(ctx, or::CURRENCY)?;
    let total = row.require_money(ctx, or::TOTAL, currency)?;
    if total.minor < 0 {
        return Err(row.fail(
            ctx,
            or::TOTAL,
            format!("negative total: {:?}", row.get(or::TOTAL).unwrap_or("")),
        ));
    }
    let discount = row
        .money(ctx, or::DISCOUNT, currency)?
        .map(|d| Money::new(d.minor.abs(), d.currency));
    let refunded = row
        .money(ctx, or::REFUNDED, currency)?
        .filter(|r| r.minor > 0);
    let refund_status = refunded.map(|r| {
        if r.minor >= total.minor {
            "refunded"
        } else {
            "partially_refunded"
        }
    });
    let status = match ctx.layout {
        Layout::StripePayments => Some(refund_status.unwrap_or("paid").to_string()),
        _ => row.owned(or::STATUS).or(refund_status.map(str::to_string)),
    };
    let source = row.owned(or::SOURCE);
    let channel = match ctx.layout {
        Layout::ShopifyOrders => row.owned(or::CHANNEL).or_else(|| {
            let pos = source
                .as_deref()
                .is_some_and(|s| s.eq_ignore_ascii_case("pos"));
            Some(if pos { "in-store" } else { "online" }.to_string())
        }),
        _ => row.owned(or::CHANNEL),
    };
    let mut properties = trailmap_model::Properties::new();
    for (key, value) in &row.extras {
        properties.insert(key.to_string(), value.clone());
    }
    let origin = match ctx.layout {
        Layout::ShopifyOrders => "shopify",
        Layout::StripePayments => "stripe",
        Layout::Generic => "",
    };
    Ok(Built::Record(IncomingOrder {
        external_id,
        origin: origin.to_string(),
        customer,
        time,
        total,
        subtotal: row.money(ctx, or::SUBTOTAL, currency)?,
        shipping: row.money(ctx, or::SHIPPING, currency)?,
        tax: row.money(ctx, or::TAX, currency)?,
        discount,
        status,
        channel,
        source,
        lines: order_lines(row, ctx, currency)?,
        properties,
    }))
}

fn stripe_paid(row: &Row) -> bool {
    let captured = row.get(or::CAPTURED).map(str::to_ascii_lowercase);
    if captured.as_deref() == Some("false") {
        return false;
    }
    match row.get(or::STATUS).map(str::to_ascii_lowercase) {
        Some(status) => matches!(
            status.as_str(),
            "paid" | "succeeded" | "refunded" | "partially refunded" | "partially_refunded"
        ),
        None => captured.as_deref() == Some("true"),
    }
}

/// The line items a row carries: the row's own line (when it has a product name or SKU), or an
/// NDJSON record's array of items. A line needs a price; its quantity defaults to 1.
pub(crate) fn order_lines(
    row: &Row,
    ctx: &Ctx,
    currency: Currency,
) -> Result<Vec<OrderLine>, Fail> {
    if let Some(items) = row.items {
        return items
            .iter()
            .enumerate()
            .map(|(i, item)| json_line(item, i, ctx, currency))
            .collect();
    }
    let (sku, name) = (row.owned(or::SKU), row.owned(or::LINE_NAME));
    if sku.is_none() && name.is_none() {
        return Ok(Vec::new());
    }
    let quantity = row.whole(ctx, or::QUANTITY)?.unwrap_or(1);
    let unit_price = row.require_money(ctx, or::PRICE, currency)?;
    let name = name.or_else(|| sku.clone()).unwrap_or_default();
    Ok(vec![OrderLine {
        sku,
        name,
        quantity,
        unit_price,
    }])
}

/// One line item of an NDJSON order. Amounts and quantities written as JSON numbers are exact;
/// written as strings they follow the file's decimal mark like any other number.
fn json_line(item: &Value, index: usize, ctx: &Ctx, currency: Currency) -> Result<OrderLine, Fail> {
    let fail = |reason: String| Fail {
        column: Some(format!("lines[{index}]")),
        reason,
    };
    let text = |keys: &[&str]| -> Option<String> {
        keys.iter().find_map(|k| match item.get(*k)? {
            Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        })
    };
    let number = |keys: &[&str]| -> Option<(String, bool)> {
        keys.iter().find_map(|k| match item.get(*k)? {
            Value::String(s) if !s.trim().is_empty() => Some((s.trim().to_string(), false)),
            Value::Number(n) => Some((n.to_string(), true)),
            _ => None,
        })
    };
    let sku = text(&["sku", "product_id"]);
    let name = text(&["name", "product", "title", "line_name"]).or_else(|| sku.clone());
    let name = name.ok_or_else(|| fail("a line needs a name or a sku".into()))?;
    let quantity = match number(&["quantity", "qty"]) {
        None => 1,
        Some((q, exact)) => {
            let mark = if exact { Some(trailmap_model::DecimalMark::Point) } else { ctx.decimal_mark };
            crate::number::parse_whole(&q, mark).map_err(|e| fail(format!("quantity: {e}")))?
        }
    };
    let (price, exact) = number(&["price", "unit_price"]).ok_or_else(|| fail("a line needs a price".into()))?;
    let unit_price = if exact {
        crate::number::parse_json_amount(&price, currency)
    } else {
        crate::number::parse_amount(&price, ctx.decimal_mark, currency)
    }
    .map_err(|e| fail(format!("price: {e}")))?;
    Ok(OrderLine {
        sku,
        name,
        quantity,
        unit_price,
    })
}
