//! One module per analysis command: its arguments and how it turns the app's answer into output.

pub mod alert;
pub mod attribution;
pub mod change;
pub mod change_impact;
pub mod clv;
pub mod compact;
pub mod customer;
pub mod digest;
pub mod feedback;
pub mod funnel;
pub mod import;
pub mod insights;
pub mod map;
pub mod paths;
pub mod personas;
pub mod report;
pub mod retention;
pub mod segments;
pub mod serve;
pub mod source;
pub mod survey;
pub mod touchpoint;
pub mod track;
pub mod user;
pub mod voice_import;
