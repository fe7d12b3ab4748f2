//! Handlers, one module per resource. Which policy guards each is declared in `route_table`.

pub mod groups;
pub mod music;
pub mod root;
pub mod users;

use crate::error::ApiError;

use crate::pagination::query_value;

/// An id from the path; anything that cannot be a row's id is simply not found.
pub fn object_id(raw: &str) -> Result<i32, ApiError> {
    raw.parse().map_err(|_| ApiError::NotFound)
}

/// A filter parameter; an empty value filters nothing, as django-filter treats it. A NUL
/// character is refused as Django's forms refuse it (PostgreSQL cannot compare text holding one).
pub fn optional_filter(query: &[(String, String)], name: &str) -> Result<Option<String>, ApiError> {
    match query_value(query, name).filter(|v| !v.is_empty()) {
        Some(v) if v.contains('\0') => Err(ApiError::field(name, NULL_CHARACTERS)),
        other => Ok(other.map(str::to_string)),
    }
}

pub const NULL_CHARACTERS: &str = "Null characters are not allowed.";

#[cfg(test)]
mod tests {
    use super::*;

    fn q(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn a_filter_with_a_nul_character_is_a_field_error() {
        let err = optional_filter(&q(&[("username", "tue\0")]), "username").unwrap_err();
        let ApiError::Validation(fields) = err else {
            panic!("not a field error")
        };
        assert_eq!(fields["username"], vec![NULL_CHARACTERS]);
        assert_eq!(
            optional_filter(&q(&[("username", "")]), "username").unwrap(),
            None
        );
        assert_eq!(
            optional_filter(&q(&[("username", "tue")]), "username").unwrap(),
            Some("tue".into())
        );
    }
}
