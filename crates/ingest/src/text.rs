//! What text a field may hold, checked the same way for every way in (file imports, the tracking
//! API, survey and feedback imports, public survey forms): no control characters, and no more
//! bytes than the field's limit. A NUL inside an event name, or half a megabyte in a customer id,
//! is a broken export or an attack, never data; stored, it would corrupt names and grouping.
//!
//! Control characters are C0 (U+0000 to U+001F), DEL (U+007F) and C1 (U+0080 to U+009F). Tab and
//! line breaks are allowed in free text (a CSV field can only hold a line break when quoted); C1
//! characters are what Windows-1252 text turns into when it is decoded as Latin-1, so their
//! refusal says so.

use std::fmt;

/// The limits of one field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TextRule {
    /// The most bytes (UTF-8) the field may hold.
    pub max_bytes: usize,
    /// Whether tab and line breaks are allowed (free text); single-line fields allow neither.
    pub multiline: bool,
}

impl TextRule {
    /// Names, codes, statuses, times: one line, 1 KiB.
    pub const LINE: TextRule = TextRule { max_bytes: 1024, multiline: false };
    /// Ids and emails: one line, 512 bytes.
    pub const ID: TextRule = TextRule { max_bytes: 512, multiline: false };
    /// URLs and user agents: one line, 8 KiB.
    pub const URL: TextRule = TextRule { max_bytes: 8 * 1024, multiline: false };
    /// Free text (feedback, notes, property values, JSON objects): 64 KiB, tabs and line breaks
    /// allowed.
    pub const TEXT: TextRule = TextRule { max_bytes: 64 * 1024, multiline: true };

    /// The limit as people read it: "1 KiB", "64 KiB", "512 bytes".
    pub fn limit_text(&self) -> String {
        if self.max_bytes >= 1024 * 1024 && self.max_bytes.is_multiple_of(1024 * 1024) {
            format!("{} MiB", self.max_bytes / (1024 * 1024))
        } else if self.max_bytes >= 1024 && self.max_bytes.is_multiple_of(1024) {
            format!("{} KiB", self.max_bytes / 1024)
        } else {
            format!("{} bytes", self.max_bytes)
        }
    }
}

/// The most bytes one row (a CSV record or an NDJSON line) may take. A longer one is refused
/// without being held in memory whole.
pub const MAX_RECORD_BYTES: usize = 1024 * 1024;

/// Why a text was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TextProblem {
    /// A control character, with its position in characters from 1.
    Control { character: char, position: usize },
    TooLong { bytes: usize, limit: usize },
}

impl fmt::Display for TextProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TextProblem::Control { character, position } => {
                let code = u32::from(*character);
                let name = match code {
                    0 => " (NUL)".to_string(),
                    9 => " (tab)".to_string(),
                    10 => " (line feed)".to_string(),
                    13 => " (carriage return)".to_string(),
                    _ => String::new(),
                };
                write!(f, "a control character U+{code:04X}{name} at character {position}")?;
                if (0x80..=0x9f).contains(&code) {
                    f.write_str(
                        "; text in Windows-1252 decoded as Latin-1 has these in place of quotes and dashes: re-export the file as UTF-8, or import it with the encoding windows-1252",
                    )?;
                }
                Ok(())
            }
            TextProblem::TooLong { bytes, limit } => {
                write!(f, "{bytes} bytes, over the field's limit of {}", TextRule { max_bytes: *limit, multiline: false }.limit_text())
            }
        }
    }
}

/// Checks a value against a rule.
pub fn check(value: &str, rule: TextRule) -> Result<(), TextProblem> {
    if value.len() > rule.max_bytes {
        return Err(TextProblem::TooLong { bytes: value.len(), limit: rule.max_bytes });
    }
    // Most text is ASCII without controls; one pass over the bytes answers it.
    if value.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        return Ok(());
    }
    for (i, c) in value.chars().enumerate() {
        let allowed_space = rule.multiline && matches!(c, '\t' | '\n' | '\r');
        if is_control(c) && !allowed_space {
            return Err(TextProblem::Control { character: c, position: i + 1 });
        }
    }
    Ok(())
}

fn is_control(c: char) -> bool {
    let code = u32::from(c);
    code < 0x20 || (0x7f..=0x9f).contains(&code)
}

/// Checks every key and string of a JSON value (an event's properties, a customer's traits): keys
/// as [`TextRule::LINE`], strings as [`TextRule::TEXT`]. Returns the path of the first refused
/// one (`plan`, `items[2].name`) with the problem.
pub fn check_json(value: &serde_json::Value) -> Result<(), (String, TextProblem)> {
    walk(value, &mut String::new())
}

/// [`check_json`] on an object's entries.
pub fn check_object(map: &serde_json::Map<String, serde_json::Value>) -> Result<(), (String, TextProblem)> {
    let mut path = String::new();
    walk_object(map, &mut path)
}

fn walk_object(map: &serde_json::Map<String, serde_json::Value>, path: &mut String) -> Result<(), (String, TextProblem)> {
    for (key, item) in map {
        let len = path.len();
        if !path.is_empty() {
            path.push('.');
        }
        path.push_str(key);
        check(key, TextRule::LINE).map_err(|p| (format!("{path} (the key)"), p))?;
        walk(item, path)?;
        path.truncate(len);
    }
    Ok(())
}

fn walk(value: &serde_json::Value, path: &mut String) -> Result<(), (String, TextProblem)> {
    match value {
        serde_json::Value::String(s) => check(s, TextRule::TEXT).map_err(|p| (path.clone(), p)),
        serde_json::Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                walk(item, path)?;
                path.truncate(len);
            }
            Ok(())
        }
        serde_json::Value::Object(map) => walk_object(map, path),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_refused_where_they_do_not_belong() {
        assert_eq!(check("sign\0up", TextRule::LINE), Err(TextProblem::Control { character: '\0', position: 5 }));
        assert!(check("line\none", TextRule::LINE).is_err());
        assert!(check("tab\there", TextRule::ID).is_err());
        assert!(check("line\none\tand\r\nmore", TextRule::TEXT).is_ok());
        assert!(check("bell\u{7}", TextRule::TEXT).is_err());
        assert!(check("del\u{7f}", TextRule::TEXT).is_err());
        let c1 = check("\u{93}quoted\u{94}", TextRule::TEXT).unwrap_err();
        assert!(c1.to_string().contains("Windows-1252"), "{c1}");
        assert!(check("café, 東京, emoji 😀", TextRule::LINE).is_ok());
        assert_eq!(
            TextProblem::Control { character: '\0', position: 5 }.to_string(),
            "a control character U+0000 (NUL) at character 5"
        );
    }

    #[test]
    fn limits_count_bytes() {
        assert!(check(&"a".repeat(512), TextRule::ID).is_ok());
        assert_eq!(check(&"a".repeat(513), TextRule::ID), Err(TextProblem::TooLong { bytes: 513, limit: 512 }));
        assert_eq!(TextProblem::TooLong { bytes: 70000, limit: 65536 }.to_string(), "70000 bytes, over the field's limit of 64 KiB");
        assert_eq!(TextRule::ID.limit_text(), "512 bytes");
    }

    #[test]
    fn json_walks_name_the_path() {
        let value = serde_json::json!({"plan": "pro", "items": [{"name": "ok"}, {"name": "bad\u{0}"}]});
        let (path, problem) = check_json(&value).unwrap_err();
        assert_eq!(path, "items[1].name");
        assert!(matches!(problem, TextProblem::Control { character: '\0', .. }));
        assert!(check_json(&serde_json::json!({"a\nb": 1})).unwrap_err().0.contains("(the key)"));
    }
}
