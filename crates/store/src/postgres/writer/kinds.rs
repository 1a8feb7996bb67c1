//! The [`Writer`] trait on PostgreSQL: each kind of write (businesses, touchpoints, personas,
//! maps, surveys, changes, customers, events, orders, spend, feedback, answers, write keys),
//! with the SQLite writer's checks, messages and duplicate rules, on top of the identity
//! resolution, deduplication and caches of the parent module.

use super::{PgWriter, hash_key, json};
use crate::postgres::pool::{is_foreign_key_violation, is_unique_violation};
use crate::{Result, StoreError, WriteSummary, Writer};
use postgres::Transaction;
use std::collections::HashMap;
use trailmap_model::*;

/// Runs one statement that may break a constraint inside a savepoint: a failed statement aborts a
/// PostgreSQL transaction, while the caller may go on writing after the refusal (as it can on
/// SQLite, where only the statement fails). The outer error is the savepoint's own.
fn guarded<T>(
    tx: &mut Transaction<'_>,
    run: impl FnOnce(&mut Transaction<'_>) -> std::result::Result<T, postgres::Error>,
) -> Result<std::result::Result<T, postgres::Error>> {
    let mut savepoint = tx.savepoint("guarded")?;
    match run(&mut savepoint) {
        Ok(value) => {
            savepoint.commit()?;
            Ok(Ok(value))
        }
        Err(e) => {
            savepoint.rollback()?;
            Ok(Err(e))
        }
    }
}

/// The message of an order number seen again with other content.
fn conflict_message(o: &IncomingOrder, differences: &[String]) -> String {
    let origin = if o.origin.is_empty() { String::new() } else { format!(" ({})", o.origin) };
    format!(
        "order {:?}{origin} is stored already with other content ({}); an order number must name one order",
        o.external_id,
        differences.join("; ")
    )
}

/// The key of an order's `purchase` event, as the SQLite writer makes it.
fn order_event_key(origin: &str, number: &str) -> EventKey {
    if origin.is_empty() { EventKey::from_id("order", number) } else { EventKey::from_id(&format!("order:{origin}"), number) }
}

fn taken_touchpoint_name(error: postgres::Error, name: &str) -> StoreError {
    if is_unique_violation(&error) { StoreError::Conflict(format!("a touchpoint named {name:?} already exists")) } else { error.into() }
}

fn identity_refs<'a>(primary: Option<&'a Identity>, others: &'a [Identity]) -> Vec<&'a Identity> {
    let mut all: Vec<&Identity> = primary.into_iter().collect();
    for identity in others {
        if !all.contains(&identity) {
            all.push(identity);
        }
    }
    all
}

fn day(date: chrono::NaiveDate) -> String {
    date.format("%Y-%m-%d").to_string()
}

impl Writer for PgWriter<'_, '_> {
    fn create_business(&mut self, name: &str, currency: Currency, timezone: &str) -> Result<(Business, Vec<Stage>)> {
        let name = name.trim();
        if name.is_empty() {
            return Err(StoreError::Invalid("a business needs a name".into()));
        }
        if self.query_opt("SELECT id FROM businesses WHERE lower(name) = lower($1)", &[&name])?.is_some() {
            return Err(StoreError::Invalid(format!("a business named {name:?} already exists")));
        }
        let now = self.now;
        let id = self.insert_returning_id(
            "INSERT INTO businesses (name, currency, timezone, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
            &[&name, &currency.as_str(), &timezone, &now],
        )?;
        let business = BusinessId(id);
        let mut stages = Vec::new();
        for (position, (stage, description)) in DEFAULT_STAGES.iter().enumerate() {
            let id = self.insert_returning_id(
                "INSERT INTO stages (business, name, position, description) VALUES ($1, $2, $3, $4) RETURNING id",
                &[&business.0, stage, &(position as i64), description],
            )?;
            stages.push(Stage { id: StageId(id), business, name: stage.to_string(), position: position as u32, description: description.to_string() });
        }
        Ok((Business { id: business, name: name.to_string(), currency, timezone: timezone.to_string(), decimal_mark: None }, stages))
    }

    fn set_decimal_mark(&mut self, business: BusinessId, mark: Option<DecimalMark>) -> Result<()> {
        self.check_business(business)?;
        self.execute("UPDATE businesses SET decimal_mark = $2 WHERE id = $1", &[&business.0, &mark.map(DecimalMark::as_str)])?;
        Ok(())
    }

    fn create_touchpoint(&mut self, t: &Touchpoint) -> Result<TouchpointId> {
        self.check_business(t.business)?;
        self.check_touchpoint_name(t)?;
        let statement = self.statement(
            "INSERT INTO touchpoints (business, name, channel, stage, online, rule, description, position)
             VALUES ($1, $2, $3, $4, $5, $6, $7, (SELECT coalesce(max(position) + 1, 0) FROM touchpoints WHERE business = $1))
             RETURNING id",
        )?;
        let rule = json(&t.rule)?;
        let row = guarded(self.tx, |tx| {
            tx.query_one(&statement, &[&t.business.0, &t.name, &t.channel.as_str(), &t.stage.map(|s| s.0), &t.online, &rule, &t.description])
        })?
        .map_err(|e| taken_touchpoint_name(e, &t.name))?;
        Ok(TouchpointId(row.get(0)))
    }

    fn update_touchpoint(&mut self, t: &Touchpoint) -> Result<()> {
        self.check_business(t.business)?;
        self.check_touchpoint_name(t)?;
        let statement = self.statement(
            "UPDATE touchpoints SET name = $3, channel = $4, stage = $5, online = $6, rule = $7, description = $8 WHERE id = $1 AND business = $2",
        )?;
        let rule = json(&t.rule)?;
        let updated = guarded(self.tx, |tx| {
            tx.execute(&statement, &[&t.id.0, &t.business.0, &t.name, &t.channel.as_str(), &t.stage.map(|s| s.0), &t.online, &rule, &t.description])
        })?
        .map_err(|e| taken_touchpoint_name(e, &t.name))?;
        if updated == 0 {
            return Err(StoreError::NotFound { what: "touchpoint", id: t.id.0 });
        }
        Ok(())
    }

    fn delete_touchpoint(&mut self, business: BusinessId, touchpoint: TouchpointId) -> Result<()> {
        self.check_business(business)?;
        // A savepoint: a refused delete must leave the write's transaction usable, as SQLite's
        // failed statement does.
        let statement = self.statement("DELETE FROM touchpoints WHERE id = $1 AND business = $2")?;
        let deleted = guarded(self.tx, |tx| tx.execute(&statement, &[&touchpoint.0, &business.0]))?.map_err(|e| {
            if is_foreign_key_violation(&e) {
                StoreError::Conflict(format!("touchpoint {} is still named by feedback", touchpoint.0))
            } else {
                e.into()
            }
        })?;
        if deleted == 0 {
            return Err(StoreError::NotFound { what: "touchpoint", id: touchpoint.0 });
        }
        Ok(())
    }

    fn reorder_touchpoints(&mut self, business: BusinessId, order: &[TouchpointId]) -> Result<()> {
        self.check_business(business)?;
        let mut ids: Vec<i64> = self.query("SELECT id FROM touchpoints WHERE business = $1", &[&business.0])?.iter().map(|r| r.get(0)).collect();
        ids.sort_unstable();
        let mut given: Vec<i64> = order.iter().map(|t| t.0).collect();
        given.sort_unstable();
        if given != ids {
            return Err(StoreError::Invalid(format!(
                "a new order names each of the business's {} touchpoints once; {} were given",
                ids.len(),
                order.len()
            )));
        }
        let ids: Vec<i64> = order.iter().map(|t| t.0).collect();
        let positions: Vec<i64> = (0..order.len() as i64).collect();
        self.execute(
            "UPDATE touchpoints t SET position = u.p FROM unnest($1::bigint[], $2::bigint[]) AS u(id, p) WHERE t.id = u.id",
            &[&ids, &positions],
        )?;
        Ok(())
    }

    fn dismiss_touchpoint_suggestion(&mut self, business: BusinessId, key: &str) -> Result<()> {
        self.check_business(business)?;
        let now = self.now;
        self.execute(
            "INSERT INTO dismissed_touchpoint_suggestions (business, key, dismissed_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
            &[&business.0, &key, &now],
        )?;
        Ok(())
    }

    fn set_change_metric(&mut self, business: BusinessId, change: ChangeId, metric: Option<&ChangeMetric>) -> Result<()> {
        self.check_business(business)?;
        let metric = metric.map(json).transpose()?;
        let updated = self.execute("UPDATE changes SET metric = $3 WHERE id = $1 AND business = $2", &[&change.0, &business.0, &metric])?;
        if updated == 0 {
            return Err(StoreError::NotFound { what: "change", id: change.0 });
        }
        Ok(())
    }

    fn set_feedback_tags(&mut self, business: BusinessId, feedback: FeedbackId, tags: &[String]) -> Result<()> {
        self.check_business(business)?;
        let tags = json(&tags)?;
        let updated = self.execute("UPDATE feedback SET tags = $3 WHERE id = $1 AND business = $2", &[&feedback.0, &business.0, &tags])?;
        if updated == 0 {
            return Err(StoreError::NotFound { what: "feedback", id: feedback.0 });
        }
        self.execute("UPDATE businesses SET feedback_edits = feedback_edits + 1 WHERE id = $1", &[&business.0])?;
        Ok(())
    }

    fn set_survey_touchpoint(&mut self, business: BusinessId, survey: SurveyId, touchpoint: Option<TouchpointId>) -> Result<()> {
        self.check_business(business)?;
        let doc: String = self
            .query_opt("SELECT doc FROM surveys WHERE id = $1 AND business = $2", &[&survey.0, &business.0])?
            .map(|r| r.get(0))
            .ok_or(StoreError::NotFound { what: "survey", id: survey.0 })?;
        if let Some(t) = touchpoint {
            let owner: Option<i64> = self.query_opt("SELECT business FROM touchpoints WHERE id = $1", &[&t.0])?.map(|r| r.get(0));
            if owner != Some(business.0) {
                return Err(StoreError::NotFound { what: "touchpoint", id: t.0 });
            }
        }
        let mut stored: Survey = crate::rows::parse_json(&doc, "survey")?;
        stored.touchpoint = touchpoint;
        let doc = json(&stored)?;
        self.execute("UPDATE surveys SET doc = $2 WHERE id = $1", &[&survey.0, &doc])?;
        Ok(())
    }

    fn create_persona(&mut self, p: &Persona) -> Result<PersonaId> {
        self.check_business(p.business)?;
        self.check_persona_name(p.business, None, &p.name)?;
        let doc = json(p)?;
        Ok(PersonaId(self.insert_returning_id("INSERT INTO personas (business, doc) VALUES ($1, $2) RETURNING id", &[&p.business.0, &doc])?))
    }

    fn update_persona(&mut self, p: &Persona) -> Result<()> {
        self.check_business(p.business)?;
        if self.query_opt("SELECT id FROM personas WHERE id = $1 AND business = $2", &[&p.id.0, &p.business.0])?.is_none() {
            return Err(StoreError::NotFound { what: "persona", id: p.id.0 });
        }
        self.check_persona_name(p.business, Some(p.id), &p.name)?;
        let doc = json(p)?;
        self.execute("UPDATE personas SET doc = $2 WHERE id = $1", &[&p.id.0, &doc])?;
        Ok(())
    }

    fn delete_persona(&mut self, business: BusinessId, persona: PersonaId) -> Result<()> {
        self.check_business(business)?;
        let name: Option<String> = self
            .query_opt("SELECT doc::jsonb->>'name' FROM personas WHERE id = $1 AND business = $2", &[&persona.0, &business.0])?
            .map(|r| r.get(0));
        let Some(name) = name else {
            return Err(StoreError::NotFound { what: "persona", id: persona.0 });
        };
        // Only the maps as they are now hold the persona back (see the SQLite writer).
        let maps: Vec<String> = self
            .query(
                "SELECT v.doc::jsonb->>'name' FROM journey_maps m JOIN map_versions v ON v.map = m.id
                 WHERE m.business = $1 AND v.version = (SELECT max(version) FROM map_versions WHERE map = m.id)
                   AND coalesce(v.doc::jsonb->'personas', '[]'::jsonb) @> jsonb_build_array($2::bigint)
                 ORDER BY m.id",
                &[&business.0, &persona.0],
            )?
            .iter()
            .map(|r| r.get(0))
            .collect();
        if !maps.is_empty() {
            let names: Vec<String> = maps.iter().map(|m| format!("{m:?}")).collect();
            return Err(StoreError::Conflict(format!(
                "persona {name:?} is on the map{} {}: take it off {} first",
                if maps.len() == 1 { "" } else { "s" },
                names.join(", "),
                if maps.len() == 1 { "it" } else { "them" }
            )));
        }
        self.execute("DELETE FROM personas WHERE id = $1", &[&persona.0])?;
        Ok(())
    }

    fn save_map(&mut self, map: &JourneyMap, author: &str) -> Result<MapId> {
        self.check_business(map.business)?;
        let now = self.now;
        let id = if map.id.0 == 0 {
            self.insert_returning_id("INSERT INTO journey_maps (business, created_at) VALUES ($1, $2) RETURNING id", &[&map.business.0, &now])?
        } else {
            let owner: Option<i64> = self.query_opt("SELECT business FROM journey_maps WHERE id = $1", &[&map.id.0])?.map(|r| r.get(0));
            if owner != Some(map.business.0) {
                return Err(StoreError::NotFound { what: "journey map", id: map.id.0 });
            }
            map.id.0
        };
        let stored = JourneyMap { id: MapId(id), ..map.clone() };
        let doc = json(&stored)?;
        self.execute(
            "INSERT INTO map_versions (map, version, author, created_at, doc)
             VALUES ($1, (SELECT coalesce(max(version), 0) + 1 FROM map_versions WHERE map = $1), $2, $3, $4)",
            &[&id, &author, &now, &doc],
        )?;
        Ok(MapId(id))
    }

    fn create_survey(&mut self, survey: &Survey) -> Result<Survey> {
        self.check_business(survey.business)?;
        let id = SurveyId(self.insert_returning_id("INSERT INTO surveys (business, doc) VALUES ($1, '{}') RETURNING id", &[&survey.business.0])?);
        let mut stored = Survey { id, ..survey.clone() };
        // Skip rules name earlier questions by their position's placeholder id; map old to new.
        let mut renumber = HashMap::new();
        for question in stored.questions.iter_mut() {
            let new = QuestionId(self.insert_returning_id("INSERT INTO questions (survey) VALUES ($1) RETURNING id", &[&id.0])?);
            renumber.insert(question.id, new);
            question.id = new;
        }
        for question in stored.questions.iter_mut() {
            if let Some(skip) = question.skip.as_mut() {
                skip.question = *renumber.get(&skip.question).ok_or_else(|| {
                    StoreError::Invalid(format!("question {:?} skips on a question not in the survey", question.text))
                })?;
            }
        }
        let doc = json(&stored)?;
        self.execute("UPDATE surveys SET doc = $2 WHERE id = $1", &[&id.0, &doc])?;
        Ok(stored)
    }

    fn add_change(&mut self, c: &Change) -> Result<ChangeId> {
        self.check_business(c.business)?;
        let (date, touchpoints, stages) = (day(c.date), json(&c.touchpoints)?, json(&c.stages)?);
        let (metric, answers) = (c.metric.as_ref().map(json).transpose()?, c.answers.as_ref().map(json).transpose()?);
        Ok(ChangeId(self.insert_returning_id(
            "INSERT INTO changes (business, title, description, date, touchpoints, stages, kpi, owner, metric, answers)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
            &[&c.business.0, &c.title, &c.description, &date, &touchpoints, &stages, &c.kpi, &c.owner, &metric, &answers],
        )?))
    }

    fn add_customer(&mut self, business: BusinessId, c: &IncomingCustomer) -> Result<(CustomerId, bool)> {
        let identities = identity_refs(None, &c.identities);
        let time = c.first_seen.map_or(self.now, |t| t.0);
        let (customer, created, _) = self.resolve(business, &identities, time)?;
        if !c.properties.is_empty() || c.name.is_some() {
            let properties: String = self.query_one("SELECT properties FROM customers WHERE id = $1", &[&customer])?.get(0);
            let mut merged: Properties = crate::rows::parse_json(&properties, "customer properties")?;
            for (k, v) in &c.properties {
                merged.insert(k.clone(), v.clone());
            }
            let merged = json(&merged)?;
            self.execute("UPDATE customers SET properties = $2, name = coalesce($3, name) WHERE id = $1", &[&customer, &merged, &c.name])?;
        }
        if !created {
            self.summary.customers_updated += 1;
        }
        Ok((CustomerId(customer), created))
    }

    fn add_event(&mut self, business: BusinessId, e: &IncomingEvent) -> Result<bool> {
        let identities = identity_refs(Some(&e.event.identity), &e.also_known_as);
        let (customer, _, identity) = self.resolve(business, &identities, e.event.time.0)?;
        self.push_event(business, e.event.key, (customer, identity), &e.event)
    }

    fn add_order(&mut self, business: BusinessId, o: &IncomingOrder) -> Result<bool> {
        if o.external_id.trim().is_empty() {
            return Err(StoreError::Invalid("an order needs an order number".into()));
        }
        self.check_business(business)?;
        let identities = identity_refs(None, &o.customer);
        if identities.is_empty() {
            return Err(StoreError::Invalid("a record names no customer (no id, email or anonymous id)".into()));
        }
        // The order number is looked at before any customer is resolved, so an order that is not
        // added creates no customer and no identity.
        if let Some(stored) = self.stored_order(business, &o.origin, &o.external_id)? {
            let differences = self.order_differences(business, &stored, o, &identities)?;
            if differences.is_empty() {
                self.summary.orders_duplicate += 1;
                return Ok(false);
            }
            return Err(StoreError::Conflict(conflict_message(o, &differences)));
        }
        if !o.origin.is_empty()
            && let Some(stored) = self.stored_order(business, "", &o.external_id)?
            && self.order_differences(business, &stored, o, &identities)?.is_empty()
        {
            self.summary.orders_duplicate += 1;
            return Ok(false);
        }
        let (customer, _, identity) = self.resolve(business, &identities, o.time.0)?;
        let properties = json(&o.properties)?;
        let order = self.insert_returning_id(
            "INSERT INTO orders (business, origin, external_id, customer, time, currency, total, subtotal, shipping, tax, discount, status, channel, source, properties)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) RETURNING id",
            &[
                &business.0,
                &o.origin,
                &o.external_id,
                &customer,
                &o.time.0,
                &o.total.currency.as_str(),
                &o.total.minor,
                &o.subtotal.map(|m| m.minor),
                &o.shipping.map(|m| m.minor),
                &o.tax.map(|m| m.minor),
                &o.discount.map(|m| m.minor),
                &o.status,
                &o.channel,
                &o.source,
                &properties,
            ],
        )?;
        for (position, line) in o.lines.iter().enumerate() {
            self.execute(
                "INSERT INTO order_lines (order_id, position, sku, name, quantity, unit_price) VALUES ($1, $2, $3, $4, $5, $6)",
                &[&order, &(position as i64), &line.sku, &line.name, &line.quantity, &line.unit_price.minor],
            )?;
        }
        self.summary.orders_added += 1;
        // The purchase event puts the order in the one stream the engine reads.
        let (channel, medium) = match o.channel.as_deref().map(str::to_ascii_lowercase).as_deref() {
            Some("in-store" | "in_store" | "instore" | "pos" | "store" | "offline") => {
                (Some(Channel::InStore.as_str().to_string()), Some("offline".to_string()))
            }
            Some("phone") => (Some(Channel::Phone.as_str().to_string()), Some("phone".to_string())),
            _ => (None, None),
        };
        let mut properties = Properties::new();
        properties.insert("order_id".into(), o.external_id.clone().into());
        if let Some(channel) = &o.channel {
            properties.insert("order_channel".into(), channel.clone().into());
        }
        let event = Event {
            key: order_event_key(&o.origin, &o.external_id),
            channel,
            source: o.source.clone(),
            medium,
            revenue: Some(o.total),
            properties,
            ..Event::new("purchase", o.time, identities[0].clone())
        };
        let key = event.key;
        self.push_event(business, key, (customer, identity), &event)?;
        Ok(true)
    }

    fn add_spend(&mut self, business: BusinessId, s: &IncomingSpend) -> Result<bool> {
        self.check_business(business)?;
        if s.end < s.start {
            return Err(StoreError::Invalid(format!("spend period ends ({}) before it starts ({})", s.end, s.start)));
        }
        let inserted = self.execute(
            "INSERT INTO spend (business, channel, source, campaign, start_date, end_date, currency, amount) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
             ON CONFLICT DO NOTHING",
            &[&business.0, &s.channel, &s.source, &s.campaign, &day(s.start), &day(s.end), &s.amount.currency.as_str(), &s.amount.minor],
        )?;
        if inserted == 0 {
            self.summary.spend_duplicate += 1;
        } else {
            self.summary.spend_added += 1;
        }
        Ok(inserted > 0)
    }

    fn add_feedback(&mut self, business: BusinessId, f: &IncomingFeedback) -> Result<bool> {
        self.check_business(business)?;
        // The touchpoint is checked first so a rejected row creates no customer.
        let touchpoint: Option<i64> = match &f.touchpoint {
            Some(name) => Some(
                self.query_opt("SELECT id FROM touchpoints WHERE business = $1 AND lower(name) = lower($2) ORDER BY id LIMIT 1", &[&business.0, name])?
                    .map(|r| r.get(0))
                    .ok_or_else(|| StoreError::Invalid(format!("no touchpoint named {name:?}")))?,
            ),
            None => None,
        };
        let customer = if f.customer.is_empty() { None } else { Some(self.resolve(business, &identity_refs(None, &f.customer), f.time.0)?.0) };
        let dedup_key = match &f.external_id {
            Some(id) => hash_key(&[f.kind.as_str(), &f.source, id]),
            None => hash_key(&[f.kind.as_str(), &f.source, &f.time.0.to_string(), f.author.as_deref().unwrap_or(""), &f.text]),
        };
        let tags = json(&f.tags)?;
        let inserted = self.execute(
            "INSERT INTO feedback (business, kind, source, external_id, customer, author, time, rating, text, link, touchpoint, tags, dedup_key)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) ON CONFLICT DO NOTHING",
            &[
                &business.0,
                &f.kind.as_str(),
                &f.source,
                &f.external_id,
                &customer,
                &f.author,
                &f.time.0,
                &f.rating.map(f64::from),
                &f.text,
                &f.link,
                &touchpoint,
                &tags,
                &dedup_key,
            ],
        )?;
        if inserted == 0 {
            self.summary.feedback_duplicate += 1;
        } else {
            self.summary.feedback_added += 1;
        }
        Ok(inserted > 0)
    }

    fn add_response(&mut self, business: BusinessId, r: &IncomingResponse) -> Result<bool> {
        let owner: Option<i64> = self.query_opt("SELECT business FROM surveys WHERE id = $1", &[&r.survey.0])?.map(|row| row.get(0));
        if owner != Some(business.0) {
            return Err(StoreError::NotFound { what: "survey", id: r.survey.0 });
        }
        let customer = if r.customer.is_empty() { None } else { Some(self.resolve(business, &identity_refs(None, &r.customer), r.submitted_at.0)?.0) };
        let hidden = json(&r.hidden)?;
        let answers = json(&r.answers)?;
        let who: Vec<String> = r.customer.iter().map(|i| i.to_string()).collect();
        let dedup_key = hash_key(&[&r.survey.0.to_string(), &who.join(","), &r.submitted_at.0.to_string(), &hidden, &answers]);
        let inserted = self.execute(
            "INSERT INTO survey_responses (business, survey, customer, submitted_at, hidden, answers, dedup_key)
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
            &[&business.0, &r.survey.0, &customer, &r.submitted_at.0, &hidden, &answers, &dedup_key],
        )?;
        if inserted == 0 {
            self.summary.responses_duplicate += 1;
        } else {
            self.summary.responses_added += 1;
        }
        Ok(inserted > 0)
    }

    fn erased(&mut self, business: BusinessId, identity: &Identity) -> Result<Option<Timestamp>> {
        self.erased_identity(business, identity)
    }

    fn create_write_key(&mut self, business: BusinessId, name: &str, key_hash: &str) -> Result<i64> {
        self.check_business(business)?;
        if self.query_opt("SELECT id FROM write_keys WHERE key_hash = $1", &[&key_hash])?.is_some() {
            return Err(StoreError::Invalid("that write key exists already".into()));
        }
        let now = self.now;
        self.insert_returning_id(
            "INSERT INTO write_keys (business, name, key_hash, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
            &[&business.0, &name, &key_hash, &now],
        )
    }

    fn touch_write_key(&mut self, key: i64, at: Timestamp) -> Result<bool> {
        // greatest(): a group commit that started earlier never moves the time back.
        let touched = self.execute(
            "UPDATE write_keys SET last_used = greatest(coalesce(last_used, 0), $2) WHERE id = $1 AND revoked_at IS NULL",
            &[&key, &at.0],
        )?;
        Ok(touched > 0)
    }

    fn revoke_write_key(&mut self, business: BusinessId, key: i64, at: Timestamp) -> Result<()> {
        let found: Option<Option<i64>> =
            self.query_opt("SELECT revoked_at FROM write_keys WHERE id = $1 AND business = $2", &[&key, &business.0])?.map(|r| r.get(0));
        match found {
            None => Err(StoreError::NotFound { what: "write key", id: key }),
            Some(Some(_)) => Err(StoreError::Conflict(format!("write key {key} is revoked already"))),
            Some(None) => {
                self.execute("UPDATE write_keys SET revoked_at = $2 WHERE id = $1", &[&key, &at.0])?;
                Ok(())
            }
        }
    }

    fn delete_card_comments(&mut self, map: MapId, cards: &[u32]) -> Result<u64> {
        let cards: Vec<i64> = cards.iter().map(|&c| i64::from(c)).collect();
        self.execute("DELETE FROM map_comments WHERE map = $1 AND card = ANY($2)", &[&map.0, &cards])
    }

    fn count_tracking_drops(&mut self, business: BusinessId, reason: &str, count: u64) -> Result<()> {
        if count == 0 {
            return Ok(());
        }
        self.execute(
            "INSERT INTO tracking_drops (business, reason, count) VALUES ($1, $2, $3)
             ON CONFLICT (business, reason) DO UPDATE SET count = tracking_drops.count + excluded.count",
            &[&business.0, &reason, &(count as i64)],
        )?;
        Ok(())
    }

    fn record_import(&mut self, business: BusinessId, kind: &str, file: &str) -> Result<()> {
        let (added, duplicates, now) = (self.summary.added() as i64, self.summary.duplicates() as i64, self.now);
        self.execute(
            "INSERT INTO imports (business, kind, file, added, duplicates, at) VALUES ($1, $2, $3, $4, $5, $6)",
            &[&business.0, &kind, &file, &added, &duplicates, &now],
        )?;
        Ok(())
    }

    fn summary(&self) -> WriteSummary {
        self.summary
    }

    fn bulk(&mut self) {
        self.bulk = true;
    }
}
