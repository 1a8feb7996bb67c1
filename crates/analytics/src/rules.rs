//! Event rules compiled against a table's string dictionary. A rule's text tests are run once per
//! distinct string instead of once per event, so matching ten million events against a touchpoint
//! is a few array lookups per row. Property tests still read each row's JSON, and only when the
//! table was loaded with properties.

use trailmap_model::{EventField, EventRule, EventTable, Op, StringId};

#[derive(Debug, Clone)]
enum CompiledCondition {
    /// Which string ids pass, indexed by id, for a text column.
    Text { column: TextColumn, passes: Vec<bool> },
    /// A property test, evaluated per row.
    Property { key: String, op: Op, negate: bool },
}

#[derive(Debug, Clone, Copy)]
enum TextColumn {
    Name,
    Channel,
    Source,
    Medium,
    Campaign,
    Referrer,
    Page,
}

impl TextColumn {
    fn of(field: &EventField) -> Option<TextColumn> {
        Some(match field {
            EventField::Name => TextColumn::Name,
            EventField::Channel => TextColumn::Channel,
            EventField::Source => TextColumn::Source,
            EventField::Medium => TextColumn::Medium,
            EventField::Campaign => TextColumn::Campaign,
            EventField::Referrer => TextColumn::Referrer,
            EventField::Page => TextColumn::Page,
            EventField::Property(_) => return None,
        })
    }

    fn get(self, table: &EventTable, row: usize) -> StringId {
        match self {
            TextColumn::Name => table.name[row],
            TextColumn::Channel => table.channel[row],
            TextColumn::Source => table.source[row],
            TextColumn::Medium => table.medium[row],
            TextColumn::Campaign => table.campaign[row],
            TextColumn::Referrer => table.referrer[row],
            TextColumn::Page => table.page[row],
        }
    }
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
            .map(|condition| match TextColumn::of(&condition.field) {
                Some(column) => CompiledCondition::Text {
                    column,
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
                None => CompiledCondition::Property {
                    key: match &condition.field {
                        EventField::Property(key) => key.clone(),
                        _ => String::new(),
                    },
                    op: condition.op.clone(),
                    negate: condition.negate,
                },
            })
            .collect();
        CompiledRule { conditions }
    }

    /// Whether row `row` of `table` (the table the rule was compiled for) matches.
    pub fn matches(&self, table: &EventTable, row: usize) -> bool {
        !self.conditions.is_empty()
            && self.conditions.iter().all(|condition| match condition {
                CompiledCondition::Text { column, passes } => {
                    passes.get(column.get(table, row) as usize).copied().unwrap_or(false)
                }
                CompiledCondition::Property { key, op, negate } => {
                    let value = table.field(row, &EventField::Property(key.clone()));
                    op.test(value.as_deref()) != *negate
                }
            })
    }

    /// Whether the rule needs the properties column.
    pub fn needs_properties(&self) -> bool {
        self.conditions.iter().any(|c| matches!(c, CompiledCondition::Property { .. }))
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
        ];
        for rule in &rules {
            let compiled = CompiledRule::new(rule, &t);
            for row in 0..t.len() {
                assert_eq!(compiled.matches(&t, row), t.matches(row, rule), "{rule:?} row {row}");
            }
        }
    }
}
