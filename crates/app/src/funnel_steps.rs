//! What a funnel step can be, for a person picking one rather than typing event names: the
//! business's stages, touchpoints and event names, each with the customers behind it, in the
//! funnel's step language (`stage:NAME`, `touchpoint:NAME`, the event name). The funnel page lists
//! them in its step picker.

use crate::{App, Result};
use serde::Serialize;
use std::collections::HashSet;
use trailmap_model::{Business, CustomerId};
use trailmap_store::Store;

/// One thing a funnel step can be.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StepChoice {
    /// The step as the funnel reads it: `stage:Purchase`, `touchpoint:Newsletter`, `add_to_cart`.
    pub step: String,
    /// What a person reads: the stage's, touchpoint's or event's name.
    pub label: String,
    /// Customers with at least one event the step matches, over all recorded time.
    pub customers: usize,
}

/// The steps a business's funnel can use, by kind, each list in the business's order (stages,
/// touchpoints) or by customers, most first (events).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct StepChoices {
    pub stages: Vec<StepChoice>,
    pub touchpoints: Vec<StepChoice>,
    pub events: Vec<StepChoice>,
}

impl App {
    /// The stages (those with touchpoints), touchpoints and event names of `business`, each with
    /// the number of customers it matches: a stage counts a customer reaching any of its
    /// touchpoints, as the funnel's `stage:NAME` step does.
    pub fn funnel_step_choices(&self, business: &Business) -> Result<StepChoices> {
        let catalogue = self.touchpoint_catalogue(business, None)?;
        let data = self.business_data(business.id)?;
        let table = data.journeys().table();
        let mut customers_of_name: Vec<HashSet<CustomerId>> = vec![HashSet::new(); table.strings.len()];
        for (row, &name) in table.name.iter().enumerate() {
            if let (Some(set), Some(customer)) = (customers_of_name.get_mut(name as usize), table.customer.get(row)) {
                set.insert(customer);
            }
        }
        let mut events: Vec<StepChoice> = customers_of_name
            .iter()
            .enumerate()
            .filter(|(id, set)| *id != 0 && !set.is_empty())
            .map(|(id, set)| {
                let name = table.string(id as u32).to_string();
                StepChoice { step: name.clone(), label: name, customers: set.len() }
            })
            .collect();
        events.sort_by(|a, b| b.customers.cmp(&a.customers).then_with(|| a.label.cmp(&b.label)));
        let touchpoints: Vec<StepChoice> = catalogue
            .touchpoints
            .iter()
            .map(|t| StepChoice { step: format!("touchpoint:{}", t.name), label: t.name.clone(), customers: t.customers.n })
            .collect();
        let stages = self
            .store()
            .stages(business.id)?
            .into_iter()
            .filter_map(|stage| {
                let on_stage: Vec<_> = catalogue.touchpoints.iter().filter(|t| t.stage.as_deref() == Some(stage.name.as_str())).collect();
                if on_stage.is_empty() {
                    // `stage:NAME` refuses a stage without touchpoints: not a choice.
                    return None;
                }
                let reached: HashSet<CustomerId> = on_stage.iter().flat_map(|t| t.customers.customers.iter().copied()).collect();
                Some(StepChoice { step: format!("stage:{}", stage.name), label: stage.name, customers: reached.len() })
            })
            .collect();
        Ok(StepChoices { stages, touchpoints, events })
    }
}
