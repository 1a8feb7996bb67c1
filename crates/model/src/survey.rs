//! Surveys, their questions and the responses to them. A response can carry hidden fields (customer
//! id, order id, email) that join it to the customer's journey.

use crate::{
    BusinessId, CustomerId, QuestionId, ResponseId, StageId, SurveyId, Timestamp, TouchpointId,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Survey {
    pub id: SurveyId,
    pub business: BusinessId,
    pub name: String,
    pub touchpoint: Option<TouchpointId>,
    pub stage: Option<StageId>,
    pub questions: Vec<Question>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Question {
    pub id: QuestionId,
    pub text: String,
    pub kind: QuestionKind,
    pub required: bool,
    /// Skip this question when an earlier answer says so.
    pub skip: Option<SkipRule>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum QuestionKind {
    /// 0-10, "how likely are you to recommend".
    Nps,
    /// 1-5 satisfaction.
    Csat,
    /// 1-7 effort.
    Ces,
    Rating { max: u8 },
    SingleChoice { options: Vec<String> },
    MultipleChoice { options: Vec<String> },
    FreeText,
}

/// Skip the question when the answer to `question` is one of `values`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SkipRule {
    pub question: QuestionId,
    pub values: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SurveyResponse {
    pub id: ResponseId,
    pub survey: SurveyId,
    pub customer: Option<CustomerId>,
    pub submitted_at: Timestamp,
    pub hidden: BTreeMap<String, String>,
    pub answers: Vec<Answer>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Answer {
    pub question: QuestionId,
    pub value: AnswerValue,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum AnswerValue {
    Number(f64),
    Choices(Vec<String>),
    Text(String),
}
