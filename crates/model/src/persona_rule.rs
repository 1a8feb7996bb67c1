//! The text form of a customer (segment) rule, the one way people write a persona's rule: on the
//! personas page, in the CLI (`--rule`) and in the API (`"rule"`). [`CustomerRule::parse`] reads
//! it and [`CustomerRule::to_text`] (also `Display`) writes it back, so text -> rule -> text gives
//! the same text once written canonically, and every rule the parser makes prints to a text that
//! parses back to the same rule.
//!
//! ```text
//! rule      = condition *( "&" condition )            ; every condition must hold
//! condition = [ "!" ] field operator [ value ]         ; "!" negates the condition
//! field     = "orders" | "revenue" | "first_channel" | "first_source" | "days_since_last_order"
//!           | ( "property:" | "trait:" ) key           ; a customer property (trait)
//! key       = 1*( letter | digit | "_" | "-" | "." ) | quoted
//! operator  = "=" | "!=" | ">" | ">=" | "<" | "<="
//!           | [ "!" ] "contains" | [ "!" ] "starts_with" | [ "!" ] "exists"
//! value     = item *( "|" item )                       ; several items only after = and != (any of)
//! item      = bare | quoted
//! bare      = 1*( any character but white space, & | " ! = < > ( ) )
//! quoted    = DQUOTE *( any character but " and \ | \" | \\ ) DQUOTE
//! ```
//!
//! White space between the parts is free. Field names and word operators ignore case; values
//! compare ignoring ASCII case when the rule runs (see [`crate::Op`]). `orders`, `revenue` and
//! `days_since_last_order` are numbers: they take `=`, `!=`, the comparisons and `exists`, with
//! numbers as values. `first_channel` and `first_source` are text: `=`, `!=`, `contains`,
//! `starts_with` and `exists`. A property takes every operator (comparisons need a number).
//! Examples: `orders>=2 & first_channel=Referral`, `first_channel="Paid Social"|Email`,
//! `property:plan contains pro & !revenue>500`, `days_since_last_order exists`.
//!
//! A text that does not read is refused with the character offset (counted in characters, not
//! bytes, from 0) where reading stopped and the reason.

use crate::{CustomerCondition, CustomerField, CustomerRule, Op};
use std::fmt;

/// The fields a rule can test, as written, for help texts and the page's rule builder.
pub const RULE_FIELDS: [&str; 6] = ["orders", "revenue", "first_channel", "first_source", "days_since_last_order", "property:KEY"];

/// The operators, as written, for help texts and the page's rule builder.
pub const RULE_OPERATORS: [&str; 12] =
    ["=", "!=", ">", ">=", "<", "<=", "contains", "!contains", "starts_with", "!starts_with", "exists", "!exists"];

/// Why a rule's text does not read, and where: `offset` counts characters from 0.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleParseError {
    pub offset: usize,
    pub reason: String,
}

impl fmt::Display for RuleParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "at character {}: {}", self.offset + 1, self.reason)
    }
}

impl std::error::Error for RuleParseError {}

/// What values a field holds, which decides the operators it takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Number,
    Text,
    Property,
}

impl CustomerField {
    /// The field as the rule's text writes it (`orders`, `property:plan`, `property:"a b"`).
    pub fn to_text(&self) -> String {
        match self {
            CustomerField::FirstChannel => "first_channel".into(),
            CustomerField::FirstSource => "first_source".into(),
            CustomerField::Orders => "orders".into(),
            CustomerField::Revenue => "revenue".into(),
            CustomerField::DaysSinceLastOrder => "days_since_last_order".into(),
            CustomerField::Property(key) if !key.is_empty() && key.chars().all(is_key_char) => format!("property:{key}"),
            CustomerField::Property(key) => format!("property:{}", quote(key)),
        }
    }

    fn kind(&self) -> Kind {
        match self {
            CustomerField::Orders | CustomerField::Revenue | CustomerField::DaysSinceLastOrder => Kind::Number,
            CustomerField::FirstChannel | CustomerField::FirstSource => Kind::Text,
            CustomerField::Property(_) => Kind::Property,
        }
    }
}

impl CustomerRule {
    /// Reads a rule's text (see the module's grammar); a blank text is an error, since a persona
    /// without a rule has no rule rather than an empty one.
    pub fn parse(text: &str) -> Result<CustomerRule, RuleParseError> {
        Parser { chars: text.chars().collect(), pos: 0 }.rule()
    }

    /// The rule's canonical text: conditions joined by ` & `, symbols without spaces
    /// (`orders>=2`), word operators between spaces, values quoted only when they must be.
    pub fn to_text(&self) -> String {
        self.conditions.iter().map(condition_text).collect::<Vec<_>>().join(" & ")
    }
}

impl fmt::Display for CustomerRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_text())
    }
}

fn condition_text(c: &CustomerCondition) -> String {
    let field = c.field.to_text();
    let numeric = c.field.kind() == Kind::Number;
    let value = |v: &str| if numeric && is_canonical_number(v) { v.to_string() } else { item(v) };
    let not = if c.negate { "!" } else { "" };
    match &c.op {
        Op::Equals(v) => format!("{field}{}={}", not, value(v)),
        Op::OneOf(vs) => format!("{field}{}={}", not, vs.iter().map(|v| value(v)).collect::<Vec<_>>().join("|")),
        Op::Contains(v) => format!("{field} {not}contains {}", item(v)),
        Op::StartsWith(v) => format!("{field} {not}starts_with {}", item(v)),
        Op::Exists => format!("{field} {not}exists"),
        Op::GreaterThan(x) => format!("{not}{field}>{x}"),
        Op::LessThan(x) => format!("{not}{field}<{x}"),
        Op::AtLeast(x) => format!("{not}{field}>={x}"),
        Op::AtMost(x) => format!("{not}{field}<={x}"),
    }
}

fn is_canonical_number(text: &str) -> bool {
    text.parse::<f64>().is_ok_and(|x| x.is_finite() && x.to_string() == text)
}

fn is_key_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '-' | '.')
}

fn is_bare_char(c: char) -> bool {
    !c.is_whitespace() && !matches!(c, '&' | '|' | '"' | '!' | '=' | '<' | '>' | '(' | ')')
}

/// A value as the rule's text writes it: bare when it can be, quoted otherwise (`Referral`,
/// `"Paid Social"`). For front ends that build a rule's text from parts.
pub fn value_text(value: &str) -> String {
    item(value)
}

/// A value as written: bare when it can be, quoted otherwise.
fn item(value: &str) -> String {
    if !value.is_empty() && value.chars().all(is_bare_char) { value.to_string() } else { quote(value) }
}

fn quote(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        if matches!(c, '"' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// The operator as read, before its value: which test and whether it was written negated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Operator {
    Equals,
    Greater,
    Less,
    AtLeast,
    AtMost,
    Contains,
    StartsWith,
    Exists,
}

struct Parser {
    chars: Vec<char>,
    pos: usize,
}

fn fail<T>(offset: usize, reason: impl Into<String>) -> Result<T, RuleParseError> {
    Err(RuleParseError { offset, reason: reason.into() })
}

impl Parser {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn starts_with(&self, text: &str) -> bool {
        text.chars().enumerate().all(|(i, c)| self.chars.get(self.pos + i) == Some(&c))
    }

    fn skip_space(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.pos += 1;
        }
    }

    /// What follows `pos`, shortened, for messages.
    fn found(&self) -> String {
        let rest: String = self.chars[self.pos..].iter().take(12).collect();
        if rest.is_empty() { "the end".into() } else { format!("{rest:?}") }
    }

    fn rule(mut self) -> Result<CustomerRule, RuleParseError> {
        self.skip_space();
        if self.peek().is_none() {
            return fail(0, "the rule is empty; write a condition such as orders>=2");
        }
        let mut conditions = Vec::new();
        loop {
            conditions.push(self.condition()?);
            self.skip_space();
            match self.peek() {
                None => return Ok(CustomerRule { conditions }),
                Some('&') => {
                    self.pos += 1;
                    self.skip_space();
                    if self.peek().is_none() {
                        return fail(self.pos, "expected a condition after \"&\"");
                    }
                }
                Some(_) => return fail(self.pos, format!("expected \"&\" between conditions, found {}", self.found())),
            }
        }
    }

    fn condition(&mut self) -> Result<CustomerCondition, RuleParseError> {
        let start = self.pos;
        let negated = self.peek() == Some('!');
        if negated {
            self.pos += 1;
            self.skip_space();
        }
        let field = self.field()?;
        self.skip_space();
        let op_at = self.pos;
        let (operator, op_negated) = self.operator(&field)?;
        if negated && op_negated {
            return fail(start, "the condition is negated twice (\"!\" before the field and in the operator)");
        }
        let kind = field.kind();
        let allowed = match (kind, operator) {
            (_, Operator::Equals | Operator::Exists) => true,
            (Kind::Number, Operator::Contains | Operator::StartsWith) => false,
            (Kind::Text, Operator::Greater | Operator::Less | Operator::AtLeast | Operator::AtMost) => false,
            _ => true,
        };
        if !allowed {
            let uses = if kind == Kind::Number {
                "is a number: use =, !=, >, >=, <, <= or exists"
            } else {
                "is text: use =, !=, contains, starts_with or exists"
            };
            return fail(op_at, format!("{} {uses}", field.to_text()));
        }
        let op = self.value(&field, operator)?;
        Ok(CustomerCondition { field, op, negate: negated || op_negated })
    }

    fn field(&mut self) -> Result<CustomerField, RuleParseError> {
        let start = self.pos;
        while self.peek().is_some_and(|c| c.is_ascii_alphanumeric() || c == '_') {
            self.pos += 1;
        }
        let name: String = self.chars[start..self.pos].iter().collect::<String>().to_ascii_lowercase();
        if name.is_empty() {
            return fail(start, format!("expected a field ({}), found {}", RULE_FIELDS.join(", "), self.found()));
        }
        if matches!(name.as_str(), "property" | "trait") && self.peek() == Some(':') {
            self.pos += 1;
            let key_at = self.pos;
            let key = if self.peek() == Some('"') {
                self.quoted()?
            } else {
                while self.peek().is_some_and(is_key_char) {
                    self.pos += 1;
                }
                self.chars[key_at..self.pos].iter().collect()
            };
            if key.is_empty() {
                return fail(key_at, format!("{name}: needs a key, as in {name}:plan"));
            }
            return Ok(CustomerField::Property(key));
        }
        Ok(match name.as_str() {
            "orders" => CustomerField::Orders,
            "revenue" => CustomerField::Revenue,
            "first_channel" => CustomerField::FirstChannel,
            "first_source" => CustomerField::FirstSource,
            "days_since_last_order" => CustomerField::DaysSinceLastOrder,
            _ => {
                return fail(start, format!("unknown field {name:?}: expected {}, or trait:KEY", RULE_FIELDS.join(", ")));
            }
        })
    }

    fn operator(&mut self, field: &CustomerField) -> Result<(Operator, bool), RuleParseError> {
        for (symbol, operator, negated) in [
            (">=", Operator::AtLeast, false),
            ("<=", Operator::AtMost, false),
            ("!=", Operator::Equals, true),
            (">", Operator::Greater, false),
            ("<", Operator::Less, false),
            ("=", Operator::Equals, false),
        ] {
            if self.starts_with(symbol) {
                self.pos += symbol.chars().count();
                return Ok((operator, negated));
            }
        }
        let start = self.pos;
        let negated = self.peek() == Some('!');
        if negated {
            self.pos += 1;
        }
        let word_at = self.pos;
        while self.peek().is_some_and(|c| c.is_ascii_alphabetic() || c == '_') {
            self.pos += 1;
        }
        let word: String = self.chars[word_at..self.pos].iter().collect::<String>().to_ascii_lowercase();
        match word.as_str() {
            "contains" => Ok((Operator::Contains, negated)),
            "starts_with" => Ok((Operator::StartsWith, negated)),
            "exists" => Ok((Operator::Exists, negated)),
            _ => {
                self.pos = start;
                fail(
                    start,
                    format!(
                        "expected an operator after {} (=, !=, >, >=, <, <=, contains, starts_with or exists), found {}",
                        field.to_text(),
                        self.found()
                    ),
                )
            }
        }
    }

    fn value(&mut self, field: &CustomerField, operator: Operator) -> Result<Op, RuleParseError> {
        if operator == Operator::Exists {
            return Ok(Op::Exists);
        }
        let mut items = vec![self.item(operator)?];
        loop {
            let before = self.pos;
            self.skip_space();
            if self.peek() != Some('|') {
                self.pos = before;
                break;
            }
            if operator != Operator::Equals {
                return fail(self.pos, "only = and != take several values (a|b)");
            }
            self.pos += 1;
            items.push(self.item(operator)?);
        }
        let kind = field.kind();
        let number = |(at, text): &(usize, String)| -> Result<f64, RuleParseError> {
            match text.trim().parse::<f64>() {
                Ok(x) if x.is_finite() => Ok(x),
                _ => fail(*at, format!("{}: {text:?} is not a number", field.to_text())),
            }
        };
        // A number field's value is kept in its canonical form ("2.50" as "2.5"), the way the
        // customer's measured value is written, so `=` compares like with like.
        let text = |item: &(usize, String)| -> Result<String, RuleParseError> {
            if kind == Kind::Number { Ok(number(item)?.to_string()) } else { Ok(item.1.clone()) }
        };
        let first = &items[0];
        Ok(match operator {
            Operator::Equals if items.len() > 1 => Op::OneOf(items.iter().map(text).collect::<Result<_, _>>()?),
            Operator::Equals => Op::Equals(text(first)?),
            Operator::Contains => Op::Contains(first.1.clone()),
            Operator::StartsWith => Op::StartsWith(first.1.clone()),
            Operator::Greater => Op::GreaterThan(number(first)?),
            Operator::Less => Op::LessThan(number(first)?),
            Operator::AtLeast => Op::AtLeast(number(first)?),
            Operator::AtMost => Op::AtMost(number(first)?),
            Operator::Exists => Op::Exists,
        })
    }

    /// One value: its offset and text.
    fn item(&mut self, operator: Operator) -> Result<(usize, String), RuleParseError> {
        self.skip_space();
        let at = self.pos;
        if self.peek() == Some('"') {
            return Ok((at, self.quoted()?));
        }
        while self.peek().is_some_and(is_bare_char) {
            self.pos += 1;
        }
        if self.pos == at {
            let after = match operator {
                Operator::Equals => "=",
                Operator::Greater => ">",
                Operator::Less => "<",
                Operator::AtLeast => ">=",
                Operator::AtMost => "<=",
                Operator::Contains => "contains",
                Operator::StartsWith => "starts_with",
                Operator::Exists => "exists",
            };
            return fail(at, format!("expected a value after {after:?} (quote a value holding spaces or & | \" ! = < > ( )), found {}", self.found()));
        }
        Ok((at, self.chars[at..self.pos].iter().collect()))
    }

    /// A double-quoted text with `\"` and `\\` escapes; `pos` is on the opening quote.
    fn quoted(&mut self) -> Result<String, RuleParseError> {
        let open = self.pos;
        self.pos += 1;
        let mut out = String::new();
        loop {
            match self.peek() {
                None => return fail(open, "the quoted text is not closed (a \" is missing)"),
                Some('"') => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some('\\') => match self.chars.get(self.pos + 1) {
                    Some(&c) if c == '"' || c == '\\' => {
                        out.push(c);
                        self.pos += 2;
                    }
                    _ => return fail(self.pos, "only \\\" and \\\\ may follow a backslash in quotes"),
                },
                Some(c) => {
                    out.push(c);
                    self.pos += 1;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    fn cond(field: CustomerField, op: Op, negate: bool) -> CustomerCondition {
        CustomerCondition { field, op, negate }
    }

    #[test]
    fn the_examples_read_as_meant() {
        let rule = CustomerRule::parse("orders>=2 & first_channel=Referral").unwrap();
        assert_eq!(
            rule.conditions,
            vec![
                cond(CustomerField::Orders, Op::AtLeast(2.0), false),
                cond(CustomerField::FirstChannel, Op::Equals("Referral".into()), false)
            ]
        );
        let rule = CustomerRule::parse(r#" first_channel = "Paid Social"|Email &trait:plan contains pro& !revenue>500.5 "#).unwrap();
        assert_eq!(
            rule.conditions,
            vec![
                cond(CustomerField::FirstChannel, Op::OneOf(vec!["Paid Social".into(), "Email".into()]), false),
                cond(CustomerField::Property("plan".into()), Op::Contains("pro".into()), false),
                cond(CustomerField::Revenue, Op::GreaterThan(500.5), true),
            ]
        );
        assert_eq!(rule.to_text(), r#"first_channel="Paid Social"|Email & property:plan contains pro & !revenue>500.5"#);
        let rule = CustomerRule::parse("DAYS_SINCE_LAST_ORDER Exists & orders!=1.50 & property:\"fav drink\" !starts_with \"oat \\\"m\"").unwrap();
        assert_eq!(
            rule.conditions,
            vec![
                cond(CustomerField::DaysSinceLastOrder, Op::Exists, false),
                cond(CustomerField::Orders, Op::Equals("1.5".into()), true),
                cond(CustomerField::Property("fav drink".into()), Op::StartsWith("oat \"m".into()), true),
            ]
        );
        assert_eq!(rule.to_text(), r#"days_since_last_order exists & orders!=1.5 & property:"fav drink" !starts_with "oat \"m""#);
        assert_eq!(rule.to_string(), rule.to_text());
        // JSON, as the store keeps it, carries a rule unchanged.
        let json = serde_json::to_string(&rule).unwrap();
        assert_eq!(serde_json::from_str::<CustomerRule>(&json).unwrap(), rule, "{json}");
    }

    #[test]
    fn bad_text_is_refused_with_the_character_and_the_reason() {
        let refused = |text: &str| CustomerRule::parse(text).unwrap_err();
        let cases: [(&str, usize, &str); 14] = [
            ("", 0, "the rule is empty"),
            ("   ", 0, "the rule is empty"),
            ("orders>>2", 7, "expected a value after \">\""),
            ("orders>=two", 8, "orders: \"two\" is not a number"),
            ("channel=Referral", 0, "unknown field \"channel\""),
            ("orders 2", 7, "expected an operator after orders"),
            ("first_channel>2", 13, "first_channel is text"),
            ("orders contains 2", 7, "orders is a number"),
            ("orders>=2 first_channel=Email", 10, "expected \"&\" between conditions"),
            ("orders>=2 &", 11, "expected a condition after \"&\""),
            ("first_channel=\"Paid Social", 14, "not closed"),
            ("property:=x", 9, "needs a key"),
            ("orders>1|2", 8, "only = and != take several values"),
            ("!orders!=2", 0, "negated twice"),
        ];
        for (text, offset, reason) in cases {
            let error = refused(text);
            assert_eq!(error.offset, offset, "{text:?}: {error}");
            assert!(error.reason.contains(reason), "{text:?}: {error}");
        }
        // Offsets count characters, not bytes.
        let error = refused("first_channel=Café & orders>=x");
        assert_eq!(error.offset, 29, "{error}");
        assert!(error.to_string().starts_with("at character 30: orders: \"x\""), "{error}");
        assert!(refused("revenue>=inf").reason.contains("not a number"));
    }

    #[test]
    fn numbers_are_kept_canonical_so_equality_compares_like_with_like() {
        let rule = CustomerRule::parse("orders=2.0 & revenue=0010.50|7").unwrap();
        assert_eq!(rule.to_text(), "orders=2 & revenue=10.5|7");
        assert!(rule.matches_with(|f| Some(match f {
            CustomerField::Orders => "2".into(),
            _ => "10.5".into(),
        })));
        let text = CustomerRule::parse("property:age=030").unwrap();
        assert_eq!(text.to_text(), "property:age=030", "a property's value stays as typed");
    }

    /// A random rule of the kind the parser makes: numbers on number fields, anything on text.
    fn random_rule(rng: &mut ChaCha8Rng) -> CustomerRule {
        const TEXTS: [&str; 12] = ["Referral", "Paid Social", "", "a&b", "say \"hi\"", "back\\slash", "x|y", "Café", "!", "=", "(1)", "-3"];
        let text = |rng: &mut ChaCha8Rng| -> String {
            if rng.random_bool(0.3) {
                (0..rng.random_range(1..6)).map(|_| char::from(rng.random_range(b'!'..=b'~'))).collect()
            } else {
                TEXTS[rng.random_range(0..TEXTS.len())].to_string()
            }
        };
        let number = |rng: &mut ChaCha8Rng| -> f64 {
            match rng.random_range(0..4) {
                0 => rng.random_range(0..100) as f64,
                1 => rng.random_range(-1e6..1e6),
                2 => rng.random_range(0.0..1.0) * 1e-9,
                _ => (rng.random_range(0..10_000) as f64) / 100.0,
            }
        };
        let conditions = (0..rng.random_range(1..5))
            .map(|_| {
                let field = match rng.random_range(0..6) {
                    0 => CustomerField::Orders,
                    1 => CustomerField::Revenue,
                    2 => CustomerField::DaysSinceLastOrder,
                    3 => CustomerField::FirstChannel,
                    4 => CustomerField::FirstSource,
                    _ => CustomerField::Property(match text(rng) {
                        key if key.is_empty() || rng.random_bool(0.5) => "plan".into(),
                        key => key,
                    }),
                };
                let kind = field.kind();
                let value = |rng: &mut ChaCha8Rng| if kind == Kind::Number { number(rng).to_string() } else { text(rng) };
                let comparisons = kind != Kind::Text;
                let words = kind != Kind::Number;
                let op = loop {
                    let op = match rng.random_range(0..9) {
                        0 => Op::Equals(value(rng)),
                        1 => Op::OneOf((0..rng.random_range(2..4)).map(|_| value(rng)).collect()),
                        2 if words => Op::Contains(text(rng)),
                        3 if words => Op::StartsWith(text(rng)),
                        4 => Op::Exists,
                        5 if comparisons => Op::GreaterThan(number(rng)),
                        6 if comparisons => Op::LessThan(number(rng)),
                        7 if comparisons => Op::AtLeast(number(rng)),
                        8 if comparisons => Op::AtMost(number(rng)),
                        _ => continue,
                    };
                    break op;
                };
                CustomerCondition { field, op, negate: rng.random_bool(0.3) }
            })
            .collect();
        CustomerRule { conditions }
    }

    #[test]
    fn every_rule_prints_to_text_that_reads_back_to_it_and_prints_the_same() {
        let mut rng = ChaCha8Rng::seed_from_u64(18);
        for _ in 0..5_000 {
            let rule = random_rule(&mut rng);
            let text = rule.to_text();
            let read = CustomerRule::parse(&text).unwrap_or_else(|e| panic!("{text:?} does not read back: {e}"));
            assert_eq!(read, rule, "{text:?}");
            assert_eq!(read.to_text(), text);
        }
    }

    #[test]
    fn any_text_reads_or_is_refused_inside_the_text_never_a_panic() {
        const FIELDS: [&str; 7] = ["orders", "revenue", "first_channel", "first_source", "property:plan", "trait:\"a b\"", "Orders"];
        const OPERATORS: [&str; 10] = ["=", "!=", ">=", "<", ">", "<=", " contains ", " !exists", " starts_with ", "=="];
        const VALUES: [&str; 8] = ["2", "-1.5", "Referral", "\"Paid Social\"", "a|b", "é", "\"x", ""];
        const JUNK: [&str; 10] = ["&", "|", "!", "\"", "\\", " ", "(", "property:", "=", "x y"];
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        let mut read = 0;
        for _ in 0..20_000 {
            let mut pieces: Vec<&str> = Vec::new();
            for i in 0..rng.random_range(1..4) {
                if i > 0 {
                    pieces.push(if rng.random_bool(0.5) { " & " } else { "&" });
                }
                if rng.random_bool(0.1) {
                    pieces.push("!");
                }
                pieces.push(FIELDS[rng.random_range(0..FIELDS.len())]);
                pieces.push(OPERATORS[rng.random_range(0..OPERATORS.len())]);
                pieces.push(VALUES[rng.random_range(0..VALUES.len())]);
            }
            if rng.random_bool(0.3) {
                let at = rng.random_range(0..=pieces.len());
                pieces.insert(at, JUNK[rng.random_range(0..JUNK.len())]);
            }
            let text = pieces.concat();
            match CustomerRule::parse(&text) {
                Ok(rule) => {
                    read += 1;
                    assert_eq!(CustomerRule::parse(&rule.to_text()).as_ref(), Ok(&rule), "{text:?}");
                }
                Err(e) => assert!(e.offset <= text.chars().count(), "{text:?}: {e}"),
            }
        }
        assert!((1_000..19_000).contains(&read), "{read} of 20,000 random texts read");
    }
}
