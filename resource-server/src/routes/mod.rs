//! Handlers, one module per resource. Which policy guards each is declared in `route_table`.

pub mod groups;
pub mod health;
pub mod music;
pub mod users;

use shared::error::ApiError;

use crate::pagination::query_value;

/// An id from the path; anything that cannot be a row's id is simply not found.
pub fn object_id(raw: &str) -> Result<i32, ApiError> {
    raw.parse().map_err(|_| ApiError::NotFound)
}

/// A filter parameter; an empty value filters nothing, as django-filter treats it.
pub fn optional_filter(query: &[(String, String)], name: &str) -> Option<String> {
    query_value(query, name)
        .filter(|v| !v.is_empty())
        .map(str::to_string)
}
