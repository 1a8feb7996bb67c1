//! Evidence as people type it: the one-line forms of `Evidence::parse` (`quote:ID`,
//! `answer:R:Q`, `score:nps|csat|ces[:touchpoint:ID|:stage:ID]`, `metric:FORM`, `note:TEXT`),
//! with a survey score's touchpoint or stage also given by its name
//! (`score:csat:touchpoint:Checkout`), resolved against the business here so the CLI needs no
//! ids. Also the map lookup by id or name the CLI's map commands share.

use crate::{App, AppError, Result};
use trailmap_store::Store;
use trailmap_model::{Business, Evidence, EVIDENCE_FORMS, MapId};

fn invalid(field: &str, value: &str, reason: impl Into<String>) -> AppError {
    AppError::InvalidField { field: field.to_string(), value: Some(value.to_string()), reason: reason.into() }
}

/// Names for an error message, or "none".
fn names<'a>(names: impl Iterator<Item = &'a str>) -> String {
    let list: Vec<&str> = names.collect();
    if list.is_empty() { "none".to_string() } else { list.join(", ") }
}

impl App {
    /// Reads one piece of evidence in its text form; a score's touchpoint or stage may be a name
    /// (ignoring case). Errors name the field `evidence` and say the forms.
    pub fn parse_evidence(&self, business: &Business, text: &str) -> Result<Evidence> {
        let trimmed = text.trim();
        let parts: Vec<&str> = trimmed.splitn(4, ':').collect();
        let resolved = match parts.as_slice() {
            [kind, score, scope @ ("touchpoint" | "stage"), name]
                if kind.eq_ignore_ascii_case("score") && name.trim().parse::<i64>().is_err() =>
            {
                let name = name.trim();
                let id = if *scope == "touchpoint" {
                    let all = self.store().touchpoints(business.id)?;
                    all.iter().find(|t| t.name.eq_ignore_ascii_case(name)).map(|t| t.id.0).ok_or_else(|| {
                        invalid(
                            "evidence",
                            trimmed,
                            format!("{} has no touchpoint {name:?}; it has: {}", business.name, names(all.iter().map(|t| t.name.as_str()))),
                        )
                    })?
                } else {
                    let all = self.store().stages(business.id)?;
                    all.iter().find(|s| s.name.eq_ignore_ascii_case(name)).map(|s| s.id.0).ok_or_else(|| {
                        invalid(
                            "evidence",
                            trimmed,
                            format!("{} has no stage {name:?}; it has: {}", business.name, names(all.iter().map(|s| s.name.as_str()))),
                        )
                    })?
                };
                format!("score:{score}:{scope}:{id}")
            }
            _ => trimmed.to_string(),
        };
        Evidence::parse(&resolved).map_err(|reason| invalid("evidence", trimmed, format!("{reason} (forms: {EVIDENCE_FORMS})")))
    }

    /// A journey map of the business by its id or its name (ignoring case); the error lists the
    /// maps there are.
    pub fn map_by_id_or_name(&self, business: &Business, wanted: &str) -> Result<MapId> {
        let wanted = wanted.trim();
        let maps = self.store().maps(business.id)?;
        let found = maps.iter().find(|m| wanted.parse::<i64>().is_ok_and(|id| id == m.id.0)).or_else(|| maps.iter().find(|m| m.name.eq_ignore_ascii_case(wanted)));
        found.map(|m| m.id).ok_or_else(|| {
            invalid(
                "map",
                wanted,
                format!(
                    "no such journey map in {}; its maps are: {}",
                    business.name,
                    if maps.is_empty() { "none".to_string() } else { maps.iter().map(|m| format!("{} ({})", m.id.0, m.name)).collect::<Vec<_>>().join(", ") }
                ),
            )
        })
    }
}
