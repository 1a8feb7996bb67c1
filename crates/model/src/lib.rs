//! Trailmap's one domain model. Every other crate speaks in these types, so a later capability adds
//! behaviour, not a second model. Nothing here does I/O; the few methods are pure (rule matching,
//! defaults, key derivation).

mod account;
mod business;
mod change;
mod channel;
mod customer;
mod duration;
mod event;
mod feedback;
mod ids;
mod incoming;
mod map;
mod money;
mod order;
mod persona;
mod persona_rule;
mod rule_text;
mod spend;
mod stage;
mod survey;
mod table;
mod time;
mod touchpoint;

pub use account::{ApiKeyInfo, Invitation, Membership, Role, User};
pub use business::Business;
pub use change::Change;
pub use change::{CardRef, ChangeMetric, MetricParseError, METRIC_FORMS};
pub use channel::Channel;
pub use duration::{MAX_DURATION_MS, parse_duration};
pub use customer::{Customer, Identity, IdentityKind};
pub use event::{Event, EventKey, Properties};
pub use feedback::{Feedback, FeedbackKind};
pub use ids::*;
pub use incoming::{IncomingCustomer, IncomingEvent, IncomingFeedback, IncomingOrder, IncomingResponse, IncomingSpend};
pub use map::{Card, Evidence, JourneyMap, Lane, MapStage, MapVersionKind, PersonaEmotion};
pub use map::CardAction;
pub use money::{Currency, DecimalMark, Money};
pub use order::{Order, OrderLine, OrderTable};
pub use persona::{CustomerCondition, CustomerField, CustomerRule, Persona, initials_of};
pub use persona_rule::{RULE_FIELDS as CUSTOMER_RULE_FIELDS, RULE_OPERATORS, RuleParseError, value_text};
pub use spend::Spend;
pub use stage::{Stage, DEFAULT_STAGES};
pub use survey::{Answer, AnswerValue, Question, QuestionKind, SkipRule, Survey, SurveyResponse};
pub use table::{EventColumns, EventTable, StringId};
pub use table::EventSelection;
pub use table::{ColumnsMut, CustomerColumn, CustomerIter};
pub use time::{Timestamp, TimestampError};
pub use rule_text::{parse_alternatives, RuleError, OFFLINE_KIND_PROPERTY, RULE_FIELDS};
pub use touchpoint::{event_field, Condition, EventField, EventRule, Op, Touchpoint, TouchpointChannel};
