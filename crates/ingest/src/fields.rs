//! Our field names per record kind, the header aliases each accepts, and the matching of a file's
//! columns to them. Names compare case- and punctuation-insensitively, so `Customer Email`,
//! `customer_email` and `customerEmail` are the same column. The lists are public so `--help` and
//! the documentation show exactly what is accepted.

use crate::RecordKind;
use crate::text::TextRule;

/// One of our fields and the column names that fill it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldSpec {
    /// Our name, also the name to use in a column override.
    pub name: &'static str,
    /// A file without a column for a required field is refused before any row is read.
    pub required: bool,
    /// Column names accepted, best first: when a file has two of them, the earlier alias wins.
    pub aliases: &'static [&'static str],
    pub description: &'static str,
    /// What the field's text may hold (its length limit, and whether it may span lines).
    pub text: TextRule,
}

/// The fields of a record kind, in a fixed order.
pub fn fields(kind: RecordKind) -> &'static [FieldSpec] {
    match kind {
        RecordKind::Events => &EVENT_FIELDS,
        RecordKind::Customers => &CUSTOMER_FIELDS,
        RecordKind::Orders => &ORDER_FIELDS,
        RecordKind::Spend => &SPEND_FIELDS,
        RecordKind::Feedback => &FEEDBACK_FIELDS,
    }
}

/// Lower-cases a column name and drops everything but letters and digits.
pub(crate) fn normalise(name: &str) -> String {
    name.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

const fn field(
    name: &'static str,
    required: bool,
    aliases: &'static [&'static str],
    description: &'static str,
) -> FieldSpec {
    FieldSpec {
        name,
        required,
        aliases,
        description,
        text: TextRule::LINE,
    }
}

impl FieldSpec {
    /// The field with another text rule than one line of 1 KiB.
    const fn with_text(self, text: TextRule) -> FieldSpec {
        FieldSpec { text, ..self }
    }
}

// The three identity fields come first in every kind that has identities, so the code that reads
// identities can use the same indices for all of them.
pub(crate) const CUSTOMER_ID: usize = 0;
pub(crate) const EMAIL: usize = 1;
pub(crate) const ANONYMOUS_ID: usize = 2;

const ID_EXTERNAL: FieldSpec = field(
    "customer_id",
    false,
    &[
        "customer_id",
        "user_id",
        "external_id",
        "customer_number",
        "customer_ref",
    ],
    "the business's own customer id (an external identity)",
)
.with_text(TextRule::ID);
const ID_EMAIL: FieldSpec = field(
    "email",
    false,
    &[
        "email",
        "customer_email",
        "email_address",
        "user_email",
        "e_mail",
    ],
    "the customer's email (an email identity, compared lower-cased)",
)
.with_text(TextRule::ID);
const ID_ANONYMOUS: FieldSpec = field(
    "anonymous_id",
    false,
    &[
        "anonymous_id",
        "visitor_id",
        "anon_id",
        "cookie_id",
        "device_id",
        "client_id",
    ],
    "an anonymous visitor id (an anonymous identity)",
)
.with_text(TextRule::ID);

/// Indices into [`EVENT_FIELDS`].
pub(crate) mod ev {
    pub const NAME: usize = 3;
    pub const TIME: usize = 4;
    pub const CHANNEL: usize = 5;
    pub const SOURCE: usize = 6;
    pub const MEDIUM: usize = 7;
    pub const CAMPAIGN: usize = 8;
    pub const REFERRER: usize = 9;
    pub const PAGE: usize = 10;
    pub const REVENUE: usize = 11;
    pub const CURRENCY: usize = 12;
    pub const MESSAGE_ID: usize = 13;
    pub const PROPERTIES: usize = 14;
    pub const USER_AGENT: usize = 15;
}

static EVENT_FIELDS: [FieldSpec; 16] = [
    ID_EXTERNAL,
    ID_EMAIL,
    ID_ANONYMOUS,
    field(
        "name",
        true,
        &["name", "event", "event_name", "event_type", "type"],
        "what happened: page_view, purchase, store_visit...",
    ),
    field(
        "time",
        true,
        &[
            "time",
            "timestamp",
            "ts",
            "date",
            "created_at",
            "datetime",
            "event_time",
            "occurred_at",
        ],
        "when it happened",
    ),
    field(
        "channel",
        false,
        &["channel", "channel_group", "default_channel_group"],
        "the traffic channel; when given it wins over the grouping rules",
    ),
    field(
        "source",
        false,
        &["source", "utm_source", "traffic_source"],
        "the traffic source (google, newsletter...)",
    ),
    field(
        "medium",
        false,
        &["medium", "utm_medium"],
        "the traffic medium (cpc, email, organic...)",
    ),
    field(
        "campaign",
        false,
        &["campaign", "utm_campaign", "campaign_name"],
        "the campaign name",
    ),
    field(
        "referrer",
        false,
        &["referrer", "referer", "referring_url", "document_referrer"],
        "the referring URL",
    )
    .with_text(TextRule::URL),
    field(
        "page",
        false,
        &[
            "page",
            "url",
            "page_url",
            "path",
            "page_path",
            "page_location",
            "location",
        ],
        "the page URL or path; the place for offline events",
    )
    .with_text(TextRule::URL),
    field(
        "revenue",
        false,
        &["revenue", "value", "amount", "total"],
        "money the event brought, in major units",
    ),
    field(
        "currency",
        false,
        &["currency", "currency_code"],
        "ISO 4217 code of the revenue",
    ),
    field(
        "message_id",
        false,
        &["message_id", "event_id", "id"],
        "the source's id of the event, used to import it once",
    )
    .with_text(TextRule::ID),
    field(
        "properties",
        false,
        &["properties", "props"],
        "a JSON object merged into the event's properties",
    )
    .with_text(TextRule::TEXT),
    field(
        "user_agent",
        false,
        &["user_agent", "ua"],
        "the browser's user agent; used to drop bots, not stored",
    )
    .with_text(TextRule::URL),
];

/// Indices into [`CUSTOMER_FIELDS`].
pub(crate) mod cu {
    pub const NAME: usize = 3;
    pub const FIRST_NAME: usize = 4;
    pub const LAST_NAME: usize = 5;
    pub const CREATED_AT: usize = 6;
    pub const PROPERTIES: usize = 7;
}

static CUSTOMER_FIELDS: [FieldSpec; 8] = [
    ID_EXTERNAL,
    ID_EMAIL,
    ID_ANONYMOUS,
    field(
        "name",
        false,
        &["name", "full_name", "customer_name", "display_name"],
        "the customer's name",
    ),
    field(
        "first_name",
        false,
        &["first_name", "firstname", "given_name"],
        "first name, joined with last_name when there is no name",
    ),
    field(
        "last_name",
        false,
        &["last_name", "lastname", "surname", "family_name"],
        "last name",
    ),
    field(
        "created_at",
        false,
        &[
            "created_at",
            "first_seen",
            "signup_date",
            "signed_up_at",
            "created",
            "customer_since",
            "joined_at",
        ],
        "when the customer was first seen",
    ),
    field(
        "properties",
        false,
        &["properties", "traits", "props"],
        "a JSON object merged into the customer's properties",
    )
    .with_text(TextRule::TEXT),
];

/// Indices into [`ORDER_FIELDS`].
pub(crate) mod or {
    pub const ORDER_ID: usize = 3;
    pub const TIME: usize = 4;
    pub const TOTAL: usize = 5;
    pub const CURRENCY: usize = 6;
    pub const SUBTOTAL: usize = 7;
    pub const SHIPPING: usize = 8;
    pub const TAX: usize = 9;
    pub const DISCOUNT: usize = 10;
    pub const STATUS: usize = 11;
    pub const CHANNEL: usize = 12;
    pub const SOURCE: usize = 13;
    pub const SKU: usize = 14;
    pub const LINE_NAME: usize = 15;
    pub const QUANTITY: usize = 16;
    pub const PRICE: usize = 17;
    pub const REFUNDED: usize = 18;
    pub const CAPTURED: usize = 19;
}

static ORDER_FIELDS: [FieldSpec; 20] = [
    ID_EXTERNAL,
    ID_EMAIL,
    ID_ANONYMOUS,
    field(
        "order_id",
        true,
        &[
            "order_id",
            "order_number",
            "order",
            "order_no",
            "order_name",
            "order_ref",
            "id",
        ],
        "the order number; consecutive rows with the same one are lines of one order",
    )
    .with_text(TextRule::ID),
    field(
        "time",
        true,
        &[
            "time",
            "created_at",
            "ordered_at",
            "order_date",
            "date",
            "timestamp",
            "processed_at",
            "placed_at",
        ],
        "when the order was placed",
    ),
    field(
        "total",
        true,
        &[
            "total",
            "order_total",
            "total_price",
            "grand_total",
            "amount",
            "revenue",
            "value",
        ],
        "what the customer paid, in major units; must not be negative",
    ),
    field(
        "currency",
        false,
        &["currency", "currency_code"],
        "ISO 4217 code of every amount in the row",
    ),
    field(
        "subtotal",
        false,
        &["subtotal", "sub_total", "subtotal_price"],
        "total before shipping and tax",
    ),
    field(
        "shipping",
        false,
        &["shipping", "shipping_cost", "shipping_price", "delivery"],
        "shipping charged",
    ),
    field(
        "tax",
        false,
        &["tax", "taxes", "total_tax", "vat", "sales_tax"],
        "tax charged",
    ),
    field(
        "discount",
        false,
        &[
            "discount",
            "discounts",
            "discount_amount",
            "total_discounts",
        ],
        "discount given (a negative value is read as positive)",
    ),
    field(
        "status",
        false,
        &[
            "status",
            "financial_status",
            "payment_status",
            "order_status",
        ],
        "paid, refunded, pending... as the source says",
    ),
    field(
        "channel",
        false,
        &["channel", "sales_channel"],
        "where it was bought: online, in-store, phone",
    ),
    field(
        "source",
        false,
        &["source", "source_name", "order_source"],
        "the system or sales source the order came from",
    ),
    field(
        "sku",
        false,
        &["sku", "product_sku", "item_sku", "lineitem_sku"],
        "a line's SKU",
    ),
    field(
        "line_name",
        false,
        &[
            "line_name",
            "product",
            "product_name",
            "item",
            "item_name",
            "lineitem_name",
            "title",
        ],
        "a line's product name",
    ),
    field(
        "quantity",
        false,
        &["quantity", "qty", "lineitem_quantity", "units"],
        "a line's quantity (a whole number, 1 when empty)",
    ),
    field(
        "price",
        false,
        &[
            "price",
            "unit_price",
            "item_price",
            "lineitem_price",
            "line_price",
        ],
        "a line's unit price",
    ),
    field(
        "refunded",
        false,
        &[
            "refunded",
            "amount_refunded",
            "refunded_amount",
            "refund_amount",
        ],
        "money refunded; sets the status to refunded or partially_refunded",
    ),
    field(
        "captured",
        false,
        &["captured"],
        "false for a charge that was never captured, which is not an order",
    ),
];

/// Indices into [`SPEND_FIELDS`].
pub(crate) mod sp {
    pub const CHANNEL: usize = 0;
    pub const SOURCE: usize = 1;
    pub const CAMPAIGN: usize = 2;
    pub const START: usize = 3;
    pub const END: usize = 4;
    pub const DATE: usize = 5;
    pub const MONTH: usize = 6;
    pub const AMOUNT: usize = 7;
    pub const CURRENCY: usize = 8;
}

static SPEND_FIELDS: [FieldSpec; 9] = [
    field(
        "channel",
        true,
        &["channel", "channel_group"],
        "the channel the money bought (a GA4 channel name such as Paid Social)",
    ),
    field(
        "source",
        false,
        &["source", "platform", "network"],
        "the ad platform (google, facebook...)",
    ),
    field(
        "campaign",
        false,
        &["campaign", "campaign_name"],
        "the campaign name",
    ),
    field(
        "start",
        false,
        &[
            "start",
            "start_date",
            "from",
            "period_start",
            "date_start",
            "since",
        ],
        "first day of the period (a day, or a month like 2024-03)",
    ),
    field(
        "end",
        false,
        &["end", "end_date", "to", "period_end", "date_end", "until"],
        "last day of the period, inclusive (a month means its last day)",
    ),
    field(
        "date",
        false,
        &["date", "day"],
        "a single day (or month) instead of start and end",
    ),
    field(
        "month",
        false,
        &["month"],
        "a whole month like 2024-03 instead of start and end",
    ),
    field(
        "amount",
        true,
        &["amount", "spend", "cost", "spent", "amount_spent"],
        "money spent, in major units; must not be negative",
    ),
    field(
        "currency",
        false,
        &["currency", "currency_code"],
        "ISO 4217 code of the amount",
    ),
];

/// Indices into [`FEEDBACK_FIELDS`].
pub(crate) mod fb {
    pub const KIND: usize = 3;
    pub const SOURCE: usize = 4;
    pub const EXTERNAL_ID: usize = 5;
    pub const AUTHOR: usize = 6;
    pub const TIME: usize = 7;
    pub const RATING: usize = 8;
    pub const RATING_SCALE: usize = 9;
    pub const TEXT: usize = 10;
    pub const LINK: usize = 11;
    pub const TOUCHPOINT: usize = 12;
    pub const TAGS: usize = 13;
}

static FEEDBACK_FIELDS: [FieldSpec; 14] = [
    // Feedback's own `external_id` is the review's id, so the customer's id does not take that alias.
    field(
        "customer_id",
        false,
        &["customer_id", "user_id"],
        "the business's own id of the author, when they are a customer",
    ),
    field(
        "email",
        false,
        &["email", "customer_email", "author_email", "reviewer_email"],
        "the author's email, when known",
    ),
    ID_ANONYMOUS,
    field(
        "kind",
        false,
        &["kind", "type", "feedback_type"],
        "review, mention or note (review when empty)",
    ),
    field(
        "source",
        true,
        &["source", "platform", "site"],
        "where it came from: google, yelp, instagram, interview 2024-03",
    ),
    field(
        "external_id",
        false,
        &["external_id", "review_id", "feedback_id", "id"],
        "the source's id of it, used to import it once",
    )
    .with_text(TextRule::ID),
    field(
        "author",
        false,
        &[
            "author",
            "reviewer",
            "author_name",
            "reviewer_name",
            "name",
            "user_name",
            "username",
        ],
        "who wrote it",
    ),
    field(
        "time",
        true,
        &[
            "time",
            "date",
            "created_at",
            "timestamp",
            "review_date",
            "posted_at",
            "submitted_at",
        ],
        "when it was written",
    ),
    field(
        "rating",
        false,
        &["rating", "stars", "score", "star_rating"],
        "a rating, normalised to 1-5",
    ),
    field(
        "rating_scale",
        false,
        &[
            "rating_scale",
            "scale",
            "max_rating",
            "rating_max",
            "out_of",
            "best_rating",
        ],
        "the rating's maximum (5 when empty and no rating exceeds 5)",
    ),
    field(
        "text",
        true,
        &[
            "text",
            "review",
            "body",
            "comment",
            "content",
            "message",
            "feedback",
            "review_text",
        ],
        "what they said; must not be empty",
    )
    .with_text(TextRule::TEXT),
    field(
        "link",
        false,
        &["link", "url", "review_url", "permalink"],
        "where to read it",
    )
    .with_text(TextRule::URL),
    field(
        "touchpoint",
        false,
        &["touchpoint", "touch_point"],
        "the touchpoint it is about, by name",
    ),
    field(
        "tags",
        false,
        &["tags", "tag", "labels", "topics"],
        "tags separated by commas or semicolons",
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_constants_match_the_lists() {
        let name = |kind, i: usize| fields(kind)[i].name;
        assert_eq!(name(RecordKind::Events, CUSTOMER_ID), "customer_id");
        assert_eq!(name(RecordKind::Events, EMAIL), "email");
        assert_eq!(name(RecordKind::Events, ANONYMOUS_ID), "anonymous_id");
        assert_eq!(name(RecordKind::Events, ev::NAME), "name");
        assert_eq!(name(RecordKind::Events, ev::PAGE), "page");
        assert_eq!(name(RecordKind::Events, ev::USER_AGENT), "user_agent");
        assert_eq!(name(RecordKind::Customers, cu::PROPERTIES), "properties");
        assert_eq!(name(RecordKind::Orders, or::ORDER_ID), "order_id");
        assert_eq!(name(RecordKind::Orders, or::PRICE), "price");
        assert_eq!(name(RecordKind::Orders, or::CAPTURED), "captured");
        assert_eq!(name(RecordKind::Spend, sp::CURRENCY), "currency");
        assert_eq!(name(RecordKind::Feedback, fb::TAGS), "tags");
        assert_eq!(name(RecordKind::Feedback, EMAIL), "email");
        for kind in RecordKind::ALL {
            for spec in fields(kind) {
                assert_eq!(
                    spec.aliases[0], spec.name,
                    "{kind}: the first alias is the field's name"
                );
            }
        }
    }

    #[test]
    fn names_compare_without_case_or_punctuation() {
        assert_eq!(normalise("Customer Email"), "customeremail");
        assert_eq!(normalise("customer_email"), normalise("customerEmail"));
        assert_eq!(normalise("Created (UTC)"), "createdutc");
    }
}
