//! Field validation with Django REST framework's rules and messages, so that clients written
//! against the original see the same 400 bodies. Every error of a request is collected before
//! answering, as DRF does.

use std::collections::BTreeMap;

use crate::error::ApiError;
use chrono::NaiveDate;
use serde_json::{Map, Value};

use crate::body::python_type_name;

pub const REQUIRED: &str = "This field is required.";

/// How a text field is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Text {
    pub max_chars: usize,
    pub allow_blank: bool,
    /// DRF strips surrounding whitespace by default; passwords keep theirs.
    pub trim: bool,
    pub format: TextFormat,
}

/// What a text must look like besides its length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextFormat {
    Free,
    /// Django's UnicodeUsernameValidator.
    Username,
    /// Django's EmailValidator, unless the text is blank.
    Email,
    /// A new password: taken on writes and never shown back, and measured by
    /// [`password_problem`] (at least so many characters, at most so many bytes) instead of by
    /// `max_chars` alone.
    Password,
    /// The password a user has now, checked against its hash: taken on writes and never shown
    /// back, and held to no rule for new passwords, which it may predate.
    CurrentPassword,
}

impl Text {
    pub const fn required(max_chars: usize) -> Self {
        Self {
            max_chars,
            allow_blank: false,
            trim: true,
            format: TextFormat::Free,
        }
    }

    pub const fn blank_ok(max_chars: usize) -> Self {
        Self {
            max_chars,
            allow_blank: true,
            trim: true,
            format: TextFormat::Free,
        }
    }

    pub const fn untrimmed(self) -> Self {
        Self {
            trim: false,
            ..self
        }
    }

    pub const fn username(self) -> Self {
        Self {
            format: TextFormat::Username,
            ..self
        }
    }

    pub const fn email(self) -> Self {
        Self {
            format: TextFormat::Email,
            ..self
        }
    }

    /// A new password. `max_chars` is bcrypt's limit in bytes, which no longer text can meet;
    /// the check itself counts bytes.
    pub const fn new_password() -> Self {
        Self {
            max_chars: PASSWORD_MAX_BYTES,
            allow_blank: false,
            trim: false,
            format: TextFormat::Password,
        }
    }

    /// A password to check against the stored hash: none longer than bcrypt's limit can match.
    pub const fn current_password() -> Self {
        Self {
            format: TextFormat::CurrentPassword,
            ..Self::new_password()
        }
    }
}

/// A whole number within bounds, both inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Integer {
    pub min: i64,
    pub max: i64,
}

/// A calendar day, `YYYY-MM-DD`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Date;

/// The primary key of a related object, as DRF's PrimaryKeyRelatedField reads one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PrimaryKey {
    /// What the key names, e.g. "a user's id".
    pub of: &'static str,
}

/// One field of a write body: its name, whether a full write must carry it, and its rule. The
/// handlers validate through it and the OpenAPI document is built from it, so a field's name and
/// limits are stated once.
#[derive(Debug, Clone, Copy)]
pub struct Field<R> {
    name: &'static str,
    required: bool,
    rule: R,
}

impl<R> Field<R> {
    pub const fn required(name: &'static str, rule: R) -> Self {
        Self {
            name,
            required: true,
            rule,
        }
    }

    pub const fn name(&self) -> &'static str {
        self.name
    }

    /// Whether a full write (not a PATCH) must carry it.
    pub const fn is_required(&self) -> bool {
        self.required
    }

    pub const fn rule(&self) -> &R {
        &self.rule
    }
}

/// Only text may be left out of a full write: every other field of this API is required.
impl Field<Text> {
    pub const fn optional(name: &'static str, rule: Text) -> Self {
        Self {
            name,
            required: false,
            rule,
        }
    }

    pub fn read(&self, f: &mut Fields<'_>) -> Option<String> {
        f.text(self.name, self.required, self.rule)
    }
}

impl Field<Integer> {
    pub fn read(&self, f: &mut Fields<'_>) -> Option<i64> {
        f.integer(self.name, self.rule.min, self.rule.max)
    }
}

impl Field<Date> {
    pub fn read(&self, f: &mut Fields<'_>) -> Option<NaiveDate> {
        f.date(self.name)
    }
}

impl Field<PrimaryKey> {
    pub fn read(&self, f: &mut Fields<'_>) -> Option<Reference> {
        f.reference(self.name)
    }
}

/// Reads fields out of a request body, collecting errors per field.
pub struct Fields<'a> {
    data: &'a Map<String, Value>,
    /// A partial update (PATCH): absent fields are left alone rather than required.
    partial: bool,
    errors: BTreeMap<String, Vec<String>>,
}

impl<'a> Fields<'a> {
    pub fn new(data: &'a Map<String, Value>, partial: bool) -> Self {
        Self {
            data,
            partial,
            errors: BTreeMap::new(),
        }
    }

    pub fn error(&mut self, field: &str, message: impl Into<String>) {
        self.errors
            .entry(field.to_string())
            .or_default()
            .push(message.into());
    }

    pub fn has_error(&self, field: &str) -> bool {
        self.errors.contains_key(field)
    }

    /// The value if present and not null. A required field that is absent is an error unless
    /// this is a partial update; an optional one is just `None`.
    fn present(&mut self, field: &str, required: bool) -> Option<&'a Value> {
        match self.data.get(field) {
            None => {
                if required && !self.partial {
                    self.error(field, REQUIRED);
                }
                None
            }
            Some(Value::Null) => {
                self.error(field, "This field may not be null.");
                None
            }
            Some(value) => Some(value),
        }
    }

    pub fn text(&mut self, field: &str, required: bool, rule: Text) -> Option<String> {
        let value = self.present(field, required)?;
        let raw = match value {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            _ => {
                self.error(field, "Not a valid string.");
                return None;
            }
        };
        let text = if rule.trim {
            raw.trim().to_string()
        } else {
            raw
        };
        if text.contains('\0') {
            self.error(field, "Null characters are not allowed.");
            return None;
        }
        if text.is_empty() && !rule.allow_blank {
            self.error(field, "This field may not be blank.");
            return None;
        }
        if rule.format == TextFormat::Password {
            if let Some(problem) = password_problem(&text) {
                self.error(field, problem);
                return None;
            }
        } else if text.chars().count() > rule.max_chars {
            self.error(
                field,
                format!(
                    "Ensure this field has no more than {} characters.",
                    rule.max_chars
                ),
            );
            return None;
        }
        match rule.format {
            TextFormat::Username if !is_valid_username(&text) => {
                self.error(field, INVALID_USERNAME);
                None
            }
            TextFormat::Email if !text.is_empty() && !is_valid_email(&text) => {
                self.error(field, INVALID_EMAIL);
                None
            }
            _ => Some(text),
        }
    }

    pub fn integer(&mut self, field: &str, min: i64, max: i64) -> Option<i64> {
        let value = self.present(field, true)?;
        let Some(n) = as_integer(value) else {
            self.error(field, "A valid integer is required.");
            return None;
        };
        if n < min {
            self.error(
                field,
                format!("Ensure this value is greater than or equal to {min}."),
            );
            return None;
        }
        if n > max {
            self.error(
                field,
                format!("Ensure this value is less than or equal to {max}."),
            );
            return None;
        }
        Some(n)
    }

    /// `YYYY-MM-DD`.
    pub fn date(&mut self, field: &str) -> Option<NaiveDate> {
        let value = self.present(field, true)?;
        let parsed = match value {
            Value::String(s) => parse_date(s.trim()),
            _ => None,
        };
        if parsed.is_none() {
            self.error(
                field,
                "Date has wrong format. Use one of these formats instead: YYYY-MM-DD.",
            );
        }
        parsed
    }

    /// A primary key of a related object; whether the object exists is checked by the caller,
    /// with [`Reference::missing`].
    pub fn reference(&mut self, field: &str) -> Option<Reference> {
        let value = self.present(field, true)?;
        let shown = match value {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        match (value, as_integer(value)) {
            (Value::Number(_) | Value::String(_), Some(n)) => Some(Reference {
                // An id no row can have is simply an object that does not exist.
                id: i32::try_from(n).ok(),
                shown,
            }),
            (other, _) => {
                self.error(
                    field,
                    format!(
                        "Incorrect type. Expected pk value, received {}.",
                        python_type_name(other)
                    ),
                );
                None
            }
        }
    }

    /// The errors so far, as the 400 answer, or Ok when there are none.
    pub fn finish(self) -> Result<(), ApiError> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(ApiError::Validation(self.errors))
        }
    }
}

/// A related object's key as the client sent it.
#[derive(Debug, Clone)]
pub struct Reference {
    /// `None` when the value cannot be any row's id.
    pub id: Option<i32>,
    pub shown: String,
}

impl Reference {
    pub fn missing(&self) -> String {
        missing_object(&self.shown)
    }
}

/// DRF's message for a key, shown as the client sent it, that names no row.
pub fn missing_object(shown: &str) -> String {
    format!("Invalid pk \"{shown}\" - object does not exist.")
}

/// An integer as DRF's IntegerField reads one: a JSON integer, an integral float, or a string of
/// digits (form fields are always strings), optionally with a `.0` tail.
fn as_integer(value: &Value) -> Option<i64> {
    match value {
        Value::Number(n) => n.as_i64().or_else(|| {
            n.as_f64()
                .filter(|f| f.fract() == 0.0 && f.abs() < 9e15)
                .map(|f| f as i64)
        }),
        Value::String(s) => {
            let s = s.trim();
            let s = match s.split_once('.') {
                Some((whole, zeros)) if zeros.chars().all(|c| c == '0') => whole,
                _ => s,
            };
            s.parse().ok()
        }
        _ => None,
    }
}

/// Django's `parse_date`: `\d{4}-\d{1,2}-\d{1,2}`, and a real calendar day from year 1.
fn parse_date(s: &str) -> Option<NaiveDate> {
    let mut parts = s.split('-');
    let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some()
        || y.len() != 4
        || !(1..=2).contains(&m.len())
        || !(1..=2).contains(&d.len())
        || ![y, m, d]
            .iter()
            .all(|p| p.bytes().all(|b| b.is_ascii_digit()))
    {
        return None;
    }
    let year: i32 = y.parse().ok()?;
    if year < 1 {
        return None;
    }
    NaiveDate::from_ymd_opt(year, m.parse().ok()?, d.parse().ok()?)
}

pub use oauth_core::accounts::{
    is_valid_email, is_valid_username, password_problem, INVALID_USERNAME, PASSWORD_MAX_BYTES,
};

pub const INVALID_EMAIL: &str = "Enter a valid email address.";

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn map(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    fn errors(f: Fields<'_>) -> BTreeMap<String, Vec<String>> {
        match f.finish() {
            Err(ApiError::Validation(e)) => e,
            other => panic!("expected errors, got {other:?}"),
        }
    }

    #[test]
    fn required_fields_are_reported_unless_partial() {
        let data = map(json!({}));
        let mut f = Fields::new(&data, false);
        assert_eq!(f.text("name", true, Text::required(10)), None);
        assert_eq!(errors(f)["name"], vec![REQUIRED]);
        let mut f = Fields::new(&data, true);
        assert_eq!(f.text("name", true, Text::required(10)), None);
        assert!(f.finish().is_ok());
    }

    #[test]
    fn text_is_trimmed_checked_for_blank_length_and_type() {
        let data = map(
            json!({"a": "  x  ", "b": "   ", "c": "abcdef", "d": true, "e": 12, "f": null, "g": "a\u{0}b"}),
        );
        let mut f = Fields::new(&data, false);
        assert_eq!(f.text("a", true, Text::required(5)).as_deref(), Some("x"));
        f.text("b", true, Text::required(5));
        f.text("c", true, Text::required(5));
        f.text("d", true, Text::required(5));
        assert_eq!(f.text("e", true, Text::required(5)).as_deref(), Some("12"));
        f.text("f", true, Text::required(5));
        f.text("g", true, Text::required(5));
        let e = errors(f);
        assert_eq!(e["b"], vec!["This field may not be blank."]);
        assert_eq!(
            e["c"],
            vec!["Ensure this field has no more than 5 characters."]
        );
        assert_eq!(e["d"], vec!["Not a valid string."]);
        assert_eq!(e["f"], vec!["This field may not be null."]);
        assert_eq!(e["g"], vec!["Null characters are not allowed."]);
    }

    #[test]
    fn a_texts_format_is_checked_once_its_length_is_fine() {
        let data = map(json!({
            "a": "with space", "b": "ok.name", "c": "x@", "d": "", "e": "a@b.com",
            "f": format!("{} {}", "a".repeat(10), "b"),
        }));
        let mut f = Fields::new(&data, false);
        assert_eq!(f.text("a", true, Text::required(150).username()), None);
        assert_eq!(
            f.text("b", true, Text::required(150).username()).as_deref(),
            Some("ok.name")
        );
        assert_eq!(f.text("c", false, Text::blank_ok(254).email()), None);
        assert_eq!(
            f.text("d", false, Text::blank_ok(254).email()).as_deref(),
            Some("")
        );
        assert_eq!(
            f.text("e", false, Text::blank_ok(254).email()).as_deref(),
            Some("a@b.com")
        );
        f.text("f", true, Text::required(5).username());
        let e = errors(f);
        assert_eq!(e["a"], vec![INVALID_USERNAME]);
        assert_eq!(e["c"], vec![INVALID_EMAIL]);
        assert_eq!(
            e["f"],
            vec!["Ensure this field has no more than 5 characters."]
        );
        assert_eq!(e.len(), 3);
    }

    #[test]
    fn a_new_password_is_held_to_the_account_rule_and_a_current_one_only_to_its_length() {
        let long = "é".repeat(37);
        let data = map(
            json!({"a": "  short", "b": "  eight  ", "c": long, "d": "x", "e": "x".repeat(73)}),
        );
        let mut f = Fields::new(&data, false);
        assert_eq!(f.text("a", true, Text::new_password()), None);
        assert_eq!(
            f.text("b", true, Text::new_password()).as_deref(),
            Some("  eight  ")
        );
        assert_eq!(f.text("c", true, Text::new_password()), None);
        assert_eq!(
            f.text("d", true, Text::current_password()).as_deref(),
            Some("x")
        );
        f.text("e", true, Text::current_password());
        let e = errors(f);
        assert_eq!(e["a"], vec![oauth_core::accounts::PASSWORD_TOO_SHORT]);
        assert_eq!(e["c"], vec![oauth_core::accounts::PASSWORD_TOO_LONG]);
        assert_eq!(
            e["e"],
            vec!["Ensure this field has no more than 72 characters."]
        );
        assert_eq!(e.len(), 3);
    }

    #[test]
    fn integers_come_from_numbers_or_digit_strings_within_bounds() {
        let data =
            map(json!({"a": 3, "b": "4", "c": "4.0", "d": 6, "e": "x", "f": 2.5, "g": "-1"}));
        let mut f = Fields::new(&data, false);
        assert_eq!(f.integer("a", 0, 5), Some(3));
        assert_eq!(f.integer("b", 0, 5), Some(4));
        assert_eq!(f.integer("c", 0, 5), Some(4));
        f.integer("d", 0, 5);
        f.integer("e", 0, 5);
        f.integer("f", 0, 5);
        f.integer("g", 0, 5);
        let e = errors(f);
        assert_eq!(
            e["d"],
            vec!["Ensure this value is less than or equal to 5."]
        );
        assert_eq!(e["e"], vec!["A valid integer is required."]);
        assert_eq!(e["f"], vec!["A valid integer is required."]);
        assert_eq!(
            e["g"],
            vec!["Ensure this value is greater than or equal to 0."]
        );
    }

    #[test]
    fn dates_are_iso_calendar_days() {
        assert_eq!(
            parse_date("2021-06-15"),
            NaiveDate::from_ymd_opt(2021, 6, 15)
        );
        assert_eq!(parse_date("2021-6-5"), NaiveDate::from_ymd_opt(2021, 6, 5));
        for bad in [
            "2021-02-30",
            "15/06/2021",
            "2021-06-15T00:00",
            "0000-01-01",
            "+2021-01-01",
            "2021-06",
        ] {
            assert_eq!(parse_date(bad), None, "{bad}");
        }
    }

    #[test]
    fn references_keep_what_the_client_sent_for_the_message() {
        let data = map(json!({"a": 9, "b": "9", "c": "abc", "d": true, "e": 99999999999i64}));
        let mut f = Fields::new(&data, false);
        let a = f.reference("a").unwrap();
        assert_eq!(
            (a.id, a.missing()),
            (
                Some(9),
                "Invalid pk \"9\" - object does not exist.".to_string()
            )
        );
        assert_eq!(f.reference("b").unwrap().id, Some(9));
        assert!(f.reference("c").is_none());
        assert!(f.reference("d").is_none());
        assert_eq!(f.reference("e").unwrap().id, None);
        let e = errors(f);
        assert_eq!(
            e["c"],
            vec!["Incorrect type. Expected pk value, received str."]
        );
        assert_eq!(
            e["d"],
            vec!["Incorrect type. Expected pk value, received bool."]
        );
    }
}
