//! Event rules compiled against a table's string dictionary. A rule's text tests are run once per
//! distinct string instead of once per event, so matching ten million events against a touchpoint
//! is a few array lookups per row. Property tests still read each row's JSON, and only when the
//! table was loaded with properties.

use trailmap_model::{EventField, EventRule, EventTable, Op};

#[derive(Debug, Clone)]
enum CompiledCondition {
    /// Which string ids pass, indexed by id, for a text field (a dictionary column).
    Text { field: EventField, passes: Vec<bool> },
    /// A property test, evaluated per row.
    Property { field: EventField, op: Op, negate: bool },
}

/// A rule ready to test rows of one table. An empty rule matches nothing, as in the model.
#[derive(Debug, Clone)]
pub struct CompiledRule {
    conditions: Vec<CompiledCondition>,
}

impl CompiledRule {
    pub fn new(rule: &EventRule, table: &EventTable) -> CompiledRule {
        let conditions = rule
            .conditions
            .iter()
            .map(|condition| match &condition.field {
                EventField::Property(_) => CompiledCondition::Property {
                    field: condition.field.clone(),
                    op: condition.op.clone(),
                    negate: condition.negate,
                },
                field => CompiledCondition::Text {
                    field: field.clone(),
                    passes: table
                        .strings
                        .iter()
                        .enumerate()
                        .map(|(id, text)| {
                            let value = (id != 0).then_some(&**text);
                            condition.op.test(value) != condition.negate
                        })
                        .collect(),
                },
            })
            .collect();
        CompiledRule { conditions }
    }

    /// Whether row `row` of `table` (the table the rule was compiled for) matches.
    pub fn matches(&self, table: &EventTable, row: usize) -> bool {
        self.matches_row(table, row, &mut RowProperties::default())
    }

    /// [`CompiledRule::matches`] reading the row's properties through `properties`, which parses
    /// them once for every rule asked about the same row (a funnel step of many alternatives
    /// with property conditions would otherwise parse each event's JSON once per condition; the
    /// funnel_steps fuzz target found a step that took 11 seconds so).
    pub fn matches_row(&self, table: &EventTable, row: usize, properties: &mut RowProperties) -> bool {
        !self.conditions.is_empty()
            && self.conditions.iter().all(|condition| match condition {
                CompiledCondition::Text { field, passes } => table
                    .text_column(field)
                    .and_then(|column| passes.get(column[row] as usize))
                    .copied()
                    .unwrap_or(false),
                CompiledCondition::Property { field, op, negate } => op.test(properties.field(table, row, field).as_deref()) != *negate,
            })
    }

    /// When the rule tests the event name only: whether it passes, per string id of the table it
    /// was compiled for (ids past the end fail). This is the lookup table a funnel reads each
    /// row's name in, instead of evaluating the rule per row. None when the rule tests another
    /// field; an empty rule (which matches nothing) gives an empty table.
    pub fn name_passes(&self) -> Option<Vec<bool>> {
        let mut combined: Option<Vec<bool>> = None;
        for condition in &self.conditions {
            let CompiledCondition::Text { field: EventField::Name, passes } = condition else {
                return None;
            };
            combined = Some(match combined {
                None => passes.clone(),
                Some(so_far) => so_far.iter().zip(passes).map(|(a, b)| *a && *b).collect(),
            });
        }
        Some(combined.unwrap_or_default())
    }

    /// Whether the rule needs the properties column.
    pub fn needs_properties(&self) -> bool {
        self.conditions.iter().any(|c| matches!(c, CompiledCondition::Property { .. }))
    }
}

/// Up to 128 rules tested together: which of them a row matches, as bits (rule `i` is bit `i`).
/// Each text field the rules test becomes one table over the dictionary holding, per string id,
/// the rules that field does not rule out (those whose every condition on it passes, and those
/// with none on it), so a row costs one lookup per field tested, however many rules there are;
/// only rules with property conditions then read the row's properties (parsed once for all of
/// them). The bits are exactly those of each rule's [`CompiledRule::matches`].
#[derive(Debug, Clone)]
pub struct RuleSet {
    /// Per text field tested: the field and, per string id, the rules it lets through.
    fields: Vec<(EventField, Vec<u128>)>,
    /// Per text field tested: the rules with no condition on it (what an id past the dictionary
    /// lets through, as a condition fails on it).
    untested: Vec<u128>,
    /// The rules with at least one condition (an empty rule matches nothing).
    nonempty: u128,
    /// The rules with property conditions, with those conditions.
    properties: Vec<(usize, Vec<(EventField, Op, bool)>)>,
}

impl RuleSet {
    /// The most rules one set holds.
    pub const MAX_RULES: usize = 128;

    /// Compiles `rules` against `table`'s dictionary; None with more than [`RuleSet::MAX_RULES`].
    pub fn new(rules: &[&EventRule], table: &EventTable) -> Option<RuleSet> {
        if rules.len() > Self::MAX_RULES {
            return None;
        }
        let mut set = RuleSet { fields: Vec::new(), untested: Vec::new(), nonempty: 0, properties: Vec::new() };
        let all: u128 = if rules.len() == 128 { u128::MAX } else { (1u128 << rules.len()) - 1 };
        for (i, rule) in rules.iter().enumerate() {
            if !rule.conditions.is_empty() {
                set.nonempty |= 1 << i;
            }
            let properties: Vec<(EventField, Op, bool)> = rule
                .conditions
                .iter()
                .filter(|c| matches!(c.field, EventField::Property(_)))
                .map(|c| (c.field.clone(), c.op.clone(), c.negate))
                .collect();
            if !properties.is_empty() {
                set.properties.push((i, properties));
            }
        }
        let mut tested: Vec<EventField> = Vec::new();
        for condition in rules.iter().flat_map(|r| r.conditions.iter()) {
            if !matches!(condition.field, EventField::Property(_)) && !tested.contains(&condition.field) {
                tested.push(condition.field.clone());
            }
        }
        for field in tested {
            let mut untested = all;
            let mut passes = vec![all; table.strings.len()];
            for (i, rule) in rules.iter().enumerate() {
                let conditions: Vec<_> = rule.conditions.iter().filter(|c| c.field == field).collect();
                if conditions.is_empty() {
                    continue;
                }
                untested &= !(1u128 << i);
                for (id, text) in table.strings.iter().enumerate() {
                    let value = (id != 0).then_some(&**text);
                    if !conditions.iter().all(|c| c.op.test(value) != c.negate) {
                        passes[id] &= !(1u128 << i);
                    }
                }
            }
            set.fields.push((field, passes));
            set.untested.push(untested);
        }
        Some(set)
    }

    /// The rules row `row` of `table` (the table the set was compiled for) matches.
    pub fn matches(&self, table: &EventTable, row: usize) -> u128 {
        let mut matched = self.nonempty;
        for ((field, passes), untested) in self.fields.iter().zip(&self.untested) {
            if matched == 0 {
                return 0;
            }
            let id = table.text_column(field).and_then(|column| column.get(row)).map_or(usize::MAX, |&id| id as usize);
            matched &= passes.get(id).copied().unwrap_or(*untested);
        }
        if matched == 0 || self.properties.is_empty() {
            return matched;
        }
        let mut row_properties = RowProperties::default();
        for (i, conditions) in &self.properties {
            if matched & (1 << i) != 0
                && !conditions.iter().all(|(field, op, negate)| op.test(row_properties.field(table, row, field).as_deref()) != *negate)
            {
                matched &= !(1u128 << i);
            }
        }
        matched
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use trailmap_model::CustomerId;

    fn table() -> EventTable {
        let mut t = EventTable { strings: vec!["".into(), "page_view".into(), "/checkout".into(), "/".into()], ..Default::default() };
        for (name, page, props) in [(1, 2, Some(r#"{"items":3}"#)), (1, 3, None), (0, 0, None)] {
            t.customer.push(CustomerId(1));
            t.time.push(0);
            t.name.push(name);
            t.page.push(page);
            for c in [&mut t.channel, &mut t.source, &mut t.medium, &mut t.campaign, &mut t.referrer, &mut t.currency] {
                c.push(0);
            }
            t.revenue_minor.push(0);
            t.properties.get_or_insert_with(Vec::new).push(props.map(Into::into));
        }
        t
    }

    #[test]
    fn compiled_rules_agree_with_the_model_on_every_row() {
        let t = table();
        let rules = [
            EventRule::named("page_view"),
            EventRule::named("page_view").and(EventField::Page, Op::StartsWith("/CHECK".into())),
            EventRule::named("page_view").and_not(EventField::Page, Op::Equals("/".into())),
            EventRule::default().and(EventField::Property("items".into()), Op::GreaterThan(2.0)),
            EventRule::default().and_not(EventField::Page, Op::Exists),
            EventRule::default(),
            EventRule::named("page_view").and_not(EventField::Name, Op::Equals("x".into())),
        ];
        let by_name = rules.iter().filter(|r| CompiledRule::new(r, &t).name_passes().is_some()).count();
        assert_eq!(by_name, 3, "named rules and the empty rule have a name table");
        // The set's bits are each rule's own answer, on every row.
        let set = RuleSet::new(&rules.iter().collect::<Vec<_>>(), &t).unwrap();
        for row in 0..t.len() {
            let expected = rules.iter().enumerate().fold(0u128, |m, (i, r)| m | u128::from(CompiledRule::new(r, &t).matches(&t, row)) << i);
            assert_eq!(set.matches(&t, row), expected, "row {row}");
        }
        for rule in &rules {
            let compiled = CompiledRule::new(rule, &t);
            for row in 0..t.len() {
                assert_eq!(compiled.matches(&t, row), t.matches(row, rule), "{rule:?} row {row}");
                if let Some(passes) = compiled.name_passes() {
                    let by_name = passes.get(t.name[row] as usize).copied().unwrap_or(false);
                    assert_eq!(by_name, t.matches(row, rule), "{rule:?} row {row} by name");
                }
            }
        }
    }
}

/// One row's properties, parsed the first time a condition reads them and kept for the next
/// conditions and rules asked about the same row. A new one per row.
#[derive(Debug, Default)]
pub struct RowProperties {
    parsed: Option<Option<serde_json::Map<String, serde_json::Value>>>,
}

impl RowProperties {
    /// The row's value of `field` as text, as [`EventTable::field`] reads it.
    fn field<'t>(&mut self, table: &'t EventTable, row: usize, field: &EventField) -> Option<std::borrow::Cow<'t, str>> {
        let EventField::Property(key) = field else { return table.field(row, field) };
        let parsed = self.parsed.get_or_insert_with(|| {
            let json = table.properties.as_ref()?.get(row)?.as_deref()?;
            serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(json).ok()
        });
        parsed.as_ref()?.get(key.as_str()).map(|v| match v {
            serde_json::Value::String(s) => std::borrow::Cow::Owned(s.clone()),
            other => std::borrow::Cow::Owned(other.to_string()),
        })
    }
}
