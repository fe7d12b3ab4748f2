//! Write bodies: `application/x-www-form-urlencoded` (what `curl -d` sends) or
//! `application/json`, read up to a size limit into one map of fields, so that validation treats
//! both alike. Unknown fields are simply never read.

use crate::error::ApiError;
use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpMessage, HttpRequest};
use futures_util::future::LocalBoxFuture;
use http_service::body::{declared_length, read_body, BodyError};
use serde_json::{Map, Value};

/// Far above any valid write to this API.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// The fields of a write request.
#[derive(Debug, Default, Clone)]
pub struct Body(pub Map<String, Value>);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Json,
    Form,
    /// No `Content-Type`: acceptable only with an empty body, as Django REST framework does.
    Unstated,
}

fn format_of(req: &HttpRequest) -> Result<Format, ApiError> {
    let unsupported = || {
        let raw = req
            .headers()
            .get(actix_web::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        ApiError::UnsupportedMediaType(raw.chars().take(100).collect())
    };
    let mime = match req.mime_type() {
        Ok(Some(mime)) => mime,
        Ok(None) => return Ok(Format::Unstated),
        Err(_) => return Err(unsupported()),
    };
    match (
        mime.type_().as_str(),
        mime.subtype().as_str(),
        mime.suffix(),
    ) {
        ("application", "json", _) => Ok(Format::Json),
        ("application", _, Some(suffix)) if suffix == "json" => Ok(Format::Json),
        ("application", "x-www-form-urlencoded", _) => Ok(Format::Form),
        _ => Err(unsupported()),
    }
}

impl FromRequest for Body {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let format = format_of(req);
        let declared = declared_length(req);
        let mut payload = payload.take();
        Box::pin(async move {
            let format = format?;
            let bytes = read_body(&mut payload, declared, MAX_BODY_BYTES)
                .await
                .map_err(|e| match e {
                    BodyError::TooLarge => ApiError::PayloadTooLarge,
                    BodyError::Unreadable => ApiError::BadRequest("Malformed request body.".into()),
                    BodyError::TimedOut => {
                        ApiError::BadRequest("Request body was not received in time.".into())
                    }
                })?;
            parse(format, &bytes).map(Body)
        })
    }
}

fn parse(format: Format, bytes: &[u8]) -> Result<Map<String, Value>, ApiError> {
    // An empty body is no fields, whatever it claims to be, as in Django REST framework.
    if bytes.is_empty() {
        return Ok(Map::new());
    }
    match format {
        Format::Unstated => Err(ApiError::UnsupportedMediaType(String::new())),
        Format::Json => parse_json(bytes),
        Format::Form => parse_form(bytes),
    }
}

fn parse_json(bytes: &[u8]) -> Result<Map<String, Value>, ApiError> {
    let value: Value = serde_json::from_slice(bytes)
        .map_err(|e| ApiError::BadRequest(format!("JSON parse error - {e}")))?;
    match value {
        Value::Object(map) => Ok(map),
        other => Err(ApiError::field(
            "non_field_errors",
            format!(
                "Invalid data. Expected a dictionary, but got {}.",
                python_type_name(&other)
            ),
        )),
    }
}

/// A repeated key keeps its last value, as Django's QueryDict does.
fn parse_form(bytes: &[u8]) -> Result<Map<String, Value>, ApiError> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(bytes)
        .map_err(|_| ApiError::BadRequest("Malformed form data.".into()))?;
    Ok(pairs
        .into_iter()
        .map(|(k, v)| (k, Value::String(v)))
        .collect())
}

/// The type names Django REST framework's messages use.
pub fn python_type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "NoneType",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_f64() => "float",
        Value::Number(_) => "int",
        Value::String(_) => "str",
        Value::Array(_) => "list",
        Value::Object(_) => "dict",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_fields_become_strings_and_the_last_repeat_wins() {
        let map = parse(Format::Form, b"name=a+b&num_stars=3&name=c%26d").unwrap();
        assert_eq!(map["name"], "c&d");
        assert_eq!(map["num_stars"], "3");
    }

    #[test]
    fn json_must_be_an_object() {
        let err = parse(Format::Json, b"[1]").unwrap_err();
        let ApiError::Validation(fields) = err else {
            panic!("not a validation error")
        };
        assert_eq!(
            fields["non_field_errors"],
            vec!["Invalid data. Expected a dictionary, but got list."]
        );
        assert!(matches!(
            parse(Format::Json, b"{not json"),
            Err(ApiError::BadRequest(_))
        ));
    }

    #[test]
    fn an_empty_body_needs_no_content_type() {
        assert!(parse(Format::Unstated, b"").unwrap().is_empty());
        assert!(parse(Format::Json, b"").unwrap().is_empty());
        assert!(matches!(
            parse(Format::Unstated, b"a=b"),
            Err(ApiError::UnsupportedMediaType(_))
        ));
    }
}
