//! Where generated data goes. The demo generator and the journey fixtures write into a [`Sink`]; the
//! app crate implements it over the store, and [`MemorySink`] keeps everything in vectors so tests
//! can look at exactly what was produced without a database.

use serde::Serialize;
use std::collections::BTreeMap;
use std::convert::Infallible;
use trailmap_model::{
    Business, BusinessId, Change, ChangeId, Currency, CustomerId, Identity, IncomingCustomer,
    IncomingEvent, IncomingFeedback, IncomingOrder, IncomingResponse, IncomingSpend, JourneyMap,
    MapId, Persona, PersonaId, QuestionId, Stage, StageId, Survey, SurveyId, Touchpoint,
    TouchpointId, DEFAULT_STAGES,
};

/// Receives everything a generator makes, in the order it is made.
pub trait Sink {
    type Error: std::error::Error + Send + Sync + 'static;
    /// Creates a business with the five default stages; returns its id and those stages (in order).
    fn business(
        &mut self,
        name: &str,
        currency: Currency,
        timezone: &str,
    ) -> Result<(BusinessId, Vec<Stage>), Self::Error>;
    /// Records passed for creation carry id 0 (and business set); the sink assigns ids and returns them.
    fn touchpoint(&mut self, touchpoint: Touchpoint) -> Result<TouchpointId, Self::Error>;
    fn persona(&mut self, persona: Persona) -> Result<PersonaId, Self::Error>;
    fn journey_map(&mut self, map: JourneyMap, author: &str) -> Result<MapId, Self::Error>;
    /// Question ids in the argument are 0; returns the survey as stored, with real ids.
    fn survey(&mut self, survey: Survey) -> Result<Survey, Self::Error>;
    fn change(&mut self, change: Change) -> Result<ChangeId, Self::Error>;
    fn customer(
        &mut self,
        business: BusinessId,
        customer: IncomingCustomer,
    ) -> Result<CustomerId, Self::Error>;
    fn event(&mut self, business: BusinessId, event: IncomingEvent) -> Result<(), Self::Error>;
    /// The store also records a `purchase` event for every order (revenue = total, channel and source from the order), so do NOT emit purchase events yourself.
    fn order(&mut self, business: BusinessId, order: IncomingOrder) -> Result<(), Self::Error>;
    fn spend(&mut self, business: BusinessId, spend: IncomingSpend) -> Result<(), Self::Error>;
    fn feedback(
        &mut self,
        business: BusinessId,
        feedback: IncomingFeedback,
    ) -> Result<(), Self::Error>;
    fn survey_response(
        &mut self,
        business: BusinessId,
        response: IncomingResponse,
    ) -> Result<(), Self::Error>;
}

/// A sink that keeps every record in memory, in arrival order, assigning ids 1, 2, 3... per kind.
/// It resolves nothing: identities stay as they came, so a test sees the raw stream. Use
/// [`MemorySink::people`] for the grouping of identities a store would arrive at.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct MemorySink {
    pub businesses: Vec<Business>,
    pub stages: Vec<Stage>,
    pub touchpoints: Vec<Touchpoint>,
    pub personas: Vec<Persona>,
    /// Each map with the author who saved it.
    pub maps: Vec<(JourneyMap, String)>,
    pub surveys: Vec<Survey>,
    pub changes: Vec<Change>,
    /// Each registered customer with the id handed back for it.
    pub customers: Vec<(BusinessId, CustomerId, IncomingCustomer)>,
    pub events: Vec<(BusinessId, IncomingEvent)>,
    pub orders: Vec<(BusinessId, IncomingOrder)>,
    pub spend: Vec<(BusinessId, IncomingSpend)>,
    pub feedback: Vec<(BusinessId, IncomingFeedback)>,
    pub responses: Vec<(BusinessId, IncomingResponse)>,
    next_question: i64,
}

impl MemorySink {
    pub fn new() -> MemorySink {
        MemorySink::default()
    }

    /// The business with this name, if one was created.
    pub fn business_named(&self, name: &str) -> Option<&Business> {
        self.businesses.iter().find(|b| b.name == name)
    }

    /// The events of one business, in arrival order.
    pub fn events_of(&self, business: BusinessId) -> impl Iterator<Item = &IncomingEvent> {
        self.events.iter().filter(move |(b, _)| *b == business).map(|(_, e)| e)
    }

    /// The orders of one business, in arrival order.
    pub fn orders_of(&self, business: BusinessId) -> impl Iterator<Item = &IncomingOrder> {
        self.orders.iter().filter(move |(b, _)| *b == business).map(|(_, o)| o)
    }

    /// Groups the identities of one business into people the way a store's identity resolution
    /// would: identities that appear together on a registered customer, on one event row (its
    /// identity and `also_known_as`) or on one order belong to the same person. Returns, for every
    /// identity seen, a person number; numbers are dense from 0 and follow first appearance.
    pub fn people(&self, business: BusinessId) -> BTreeMap<Identity, usize> {
        let mut groups = IdentityGroups::default();
        for (b, _, customer) in &self.customers {
            if *b == business {
                groups.join(customer.identities.iter());
            }
        }
        for (b, event) in &self.events {
            if *b == business {
                groups.join(std::iter::once(&event.event.identity).chain(&event.also_known_as));
            }
        }
        for (b, order) in &self.orders {
            if *b == business {
                groups.join(order.customer.iter());
            }
        }
        for (b, feedback) in &self.feedback {
            if *b == business {
                groups.join(feedback.customer.iter());
            }
        }
        for (b, response) in &self.responses {
            if *b == business {
                groups.join(response.customer.iter());
            }
        }
        groups.finish()
    }
}

/// Union-find over identities, numbering them in order of first appearance so the result does not
/// depend on map iteration order.
#[derive(Default)]
struct IdentityGroups {
    index: BTreeMap<Identity, usize>,
    parent: Vec<usize>,
}

impl IdentityGroups {
    fn find(&mut self, mut node: usize) -> usize {
        while self.parent[node] != node {
            // Path halving keeps the trees shallow without recursion.
            self.parent[node] = self.parent[self.parent[node]];
            node = self.parent[node];
        }
        node
    }

    fn node(&mut self, identity: &Identity) -> usize {
        if let Some(&node) = self.index.get(identity) {
            return node;
        }
        let node = self.parent.len();
        self.parent.push(node);
        self.index.insert(identity.clone(), node);
        node
    }

    fn join<'a>(&mut self, identities: impl Iterator<Item = &'a Identity>) {
        let mut first: Option<usize> = None;
        for identity in identities {
            let node = self.node(identity);
            let root = self.find(node);
            match first {
                None => first = Some(root),
                Some(keep) if keep != root => {
                    // The smaller node wins so the person number follows first appearance.
                    let (low, high) = if keep < root { (keep, root) } else { (root, keep) };
                    self.parent[high] = low;
                    first = Some(low);
                }
                Some(_) => {}
            }
        }
    }

    fn finish(mut self) -> BTreeMap<Identity, usize> {
        let mut person_of_root: BTreeMap<usize, usize> = BTreeMap::new();
        let mut roots = Vec::with_capacity(self.parent.len());
        for node in 0..self.parent.len() {
            let root = self.find(node);
            let next = person_of_root.len();
            roots.push(*person_of_root.entry(root).or_insert(next));
        }
        self.index.into_iter().map(|(identity, node)| (identity, roots[node])).collect()
    }
}

fn next_id(len: usize) -> i64 {
    len as i64 + 1
}

impl Sink for MemorySink {
    type Error = Infallible;

    fn business(
        &mut self,
        name: &str,
        currency: Currency,
        timezone: &str,
    ) -> Result<(BusinessId, Vec<Stage>), Infallible> {
        let id = BusinessId(next_id(self.businesses.len()));
        self.businesses.push(Business {
            id,
            name: name.to_string(),
            currency,
            timezone: timezone.to_string(),
            decimal_mark: None,
        });
        let mut stages = Vec::with_capacity(DEFAULT_STAGES.len());
        for (position, (stage_name, description)) in DEFAULT_STAGES.iter().enumerate() {
            let stage = Stage {
                id: StageId(next_id(self.stages.len())),
                business: id,
                name: (*stage_name).to_string(),
                position: position as u32,
                description: (*description).to_string(),
            };
            self.stages.push(stage.clone());
            stages.push(stage);
        }
        Ok((id, stages))
    }

    fn touchpoint(&mut self, mut touchpoint: Touchpoint) -> Result<TouchpointId, Infallible> {
        touchpoint.id = TouchpointId(next_id(self.touchpoints.len()));
        let id = touchpoint.id;
        self.touchpoints.push(touchpoint);
        Ok(id)
    }

    fn persona(&mut self, mut persona: Persona) -> Result<PersonaId, Infallible> {
        persona.id = PersonaId(next_id(self.personas.len()));
        let id = persona.id;
        self.personas.push(persona);
        Ok(id)
    }

    fn journey_map(&mut self, mut map: JourneyMap, author: &str) -> Result<MapId, Infallible> {
        map.id = MapId(next_id(self.maps.len()));
        let id = map.id;
        self.maps.push((map, author.to_string()));
        Ok(id)
    }

    fn survey(&mut self, mut survey: Survey) -> Result<Survey, Infallible> {
        survey.id = SurveyId(next_id(self.surveys.len()));
        for question in &mut survey.questions {
            self.next_question += 1;
            question.id = QuestionId(self.next_question);
        }
        self.surveys.push(survey.clone());
        Ok(survey)
    }

    fn change(&mut self, mut change: Change) -> Result<ChangeId, Infallible> {
        change.id = ChangeId(next_id(self.changes.len()));
        let id = change.id;
        // As the store's sink does: the action the change answers now names it.
        if let Some(card) = change.answers
            && let Some((map, _)) = self.maps.iter_mut().find(|(m, _)| m.id == card.map)
        {
            map.record_change(card.card, id);
        }
        self.changes.push(change);
        Ok(id)
    }

    fn customer(
        &mut self,
        business: BusinessId,
        customer: IncomingCustomer,
    ) -> Result<CustomerId, Infallible> {
        let id = CustomerId(next_id(self.customers.len()));
        self.customers.push((business, id, customer));
        Ok(id)
    }

    fn event(&mut self, business: BusinessId, event: IncomingEvent) -> Result<(), Infallible> {
        self.events.push((business, event));
        Ok(())
    }

    fn order(&mut self, business: BusinessId, order: IncomingOrder) -> Result<(), Infallible> {
        self.orders.push((business, order));
        Ok(())
    }

    fn spend(&mut self, business: BusinessId, spend: IncomingSpend) -> Result<(), Infallible> {
        self.spend.push((business, spend));
        Ok(())
    }

    fn feedback(
        &mut self,
        business: BusinessId,
        feedback: IncomingFeedback,
    ) -> Result<(), Infallible> {
        self.feedback.push((business, feedback));
        Ok(())
    }

    fn survey_response(
        &mut self,
        business: BusinessId,
        response: IncomingResponse,
    ) -> Result<(), Infallible> {
        self.responses.push((business, response));
        Ok(())
    }
}
