//! The OpenAPI schemas of the write rules and of the bodies built from them. A body's schema is
//! made from the same [`Field`] declarations its handler validates with, so a field's name and
//! limits are written once.

use std::borrow::Cow;
use std::marker::PhantomData;

use utoipa::openapi::schema::{
    AnyOfBuilder, KnownFormat, ObjectBuilder, Schema, SchemaFormat, SchemaType, Type,
};
use utoipa::openapi::RefOr;
use utoipa::{PartialSchema, ToSchema};

use crate::body::Body;
use crate::error::ApiError;
use crate::fields::{Date, Field, Fields, Integer, PrimaryKey, Text, TextFormat};
use oauth_core::accounts::PASSWORD_MIN_CHARS;

/// No NUL character ("Null characters are not allowed.").
pub const NO_NUL: &str = "^[^\\u0000]*$";
/// Surrounding whitespace is trimmed, so a required text needs one character that is not
/// whitespace, as in DRF.
const NOT_BLANK: &str = "^[^\\u0000]*\\S[^\\u0000]*$";
/// An untrimmed required text (a password): any character but NUL, at least one.
const NOT_EMPTY: &str = "^[^\\u0000]+$";
const NEW_PASSWORD: &str = "At least 8 characters and at most 72 bytes in UTF-8 (bcrypt's \
    limit: a longer password is refused, never truncated). Kept exactly as sent, spaces included.";
const CURRENT_PASSWORD: &str = "The user's password now. Required with `password` when users \
    change their own password; not needed when a holder of `change_user` sets someone else's.";
/// Django's username charset; `\w` alone would be ASCII in ECMA-262, which is all a pattern can
/// state.
const USERNAME: &str = "^[\\w.@+-]+$";

/// How a rule reads as a schema: what a write must satisfy.
pub trait RuleSchema {
    fn schema(&self) -> Schema;
}

impl RuleSchema for Text {
    fn schema(&self) -> Schema {
        let string = ObjectBuilder::new()
            .schema_type(Type::String)
            .max_length(Some(self.max_chars))
            .min_length((!self.allow_blank).then_some(1));
        match self.format {
            TextFormat::Email => {
                let address = ObjectBuilder::new()
                    .schema_type(SchemaType::AnyValue)
                    .format(Some(SchemaFormat::KnownFormat(KnownFormat::Email)))
                    .max_length(Some(self.max_chars));
                let mut any_of = AnyOfBuilder::new().schema_type(Type::String).item(address);
                // An e-mail address may be left blank, as Django's User.email (blank=True).
                if self.allow_blank {
                    any_of = any_of.item(
                        ObjectBuilder::new()
                            .schema_type(SchemaType::AnyValue)
                            .max_length(Some(0)),
                    );
                }
                any_of.into()
            }
            TextFormat::Username => string.pattern(Some(USERNAME)).into(),
            // maxLength counts characters; the limit is in bytes, so it is only described.
            TextFormat::Password => ObjectBuilder::new()
                .schema_type(Type::String)
                .min_length(Some(PASSWORD_MIN_CHARS))
                .pattern(Some(NOT_EMPTY))
                .write_only(Some(true))
                .description(Some(NEW_PASSWORD))
                .into(),
            TextFormat::CurrentPassword => string
                .pattern(Some(NOT_EMPTY))
                .write_only(Some(true))
                .description(Some(CURRENT_PASSWORD))
                .into(),
            TextFormat::Free => {
                let pattern = match (self.allow_blank, self.trim) {
                    (true, _) => NO_NUL,
                    (false, true) => NOT_BLANK,
                    (false, false) => NOT_EMPTY,
                };
                string.pattern(Some(pattern)).into()
            }
        }
    }
}

/// What a shown text may hold: anything that fits its column, since a user or group may also have
/// been written by the auth server's command line rather than through these rules.
pub fn stored(text: Text) -> Schema {
    let format = match text.format {
        TextFormat::Email => TextFormat::Email,
        _ => TextFormat::Free,
    };
    Text {
        format,
        ..Text::blank_ok(text.max_chars)
    }
    .schema()
}

impl RuleSchema for Integer {
    fn schema(&self) -> Schema {
        ObjectBuilder::new()
            .schema_type(Type::Integer)
            .minimum(Some(self.min))
            .maximum(Some(self.max))
            .into()
    }
}

impl RuleSchema for Date {
    fn schema(&self) -> Schema {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Date)))
            .into()
    }
}

impl RuleSchema for PrimaryKey {
    fn schema(&self) -> Schema {
        ObjectBuilder::new()
            .schema_type(Type::Integer)
            .description(Some(self.of))
            .into()
    }
}

/// One field of a body as the document shows it.
pub trait FieldSchema: Sync {
    fn name(&self) -> &'static str;
    fn is_required(&self) -> bool;
    fn schema(&self) -> Schema;
}

impl<R: RuleSchema + Sync> FieldSchema for Field<R> {
    fn name(&self) -> &'static str {
        Field::name(self)
    }

    fn is_required(&self) -> bool {
        Field::is_required(self)
    }

    fn schema(&self) -> Schema {
        self.rule().schema()
    }
}

/// A write body: the fields it is read from, in the order the document lists them.
pub trait InputBody: ToSchema + Sized {
    const FIELDS: &'static [&'static dyn FieldSchema];

    /// Reads every field of [`Self::FIELDS`], collecting errors in `fields`.
    fn read(fields: &mut Fields<'_>) -> Self;

    /// Reads a body that needs no check beyond its fields' own; `partial` for a PATCH.
    fn validate(body: &Body, partial: bool) -> Result<Self, ApiError> {
        let mut fields = Fields::new(&body.0, partial);
        let input = Self::read(&mut fields);
        fields.finish()?;
        Ok(input)
    }
}

/// The body's fields as an object; a partial write (PATCH) requires none of them.
pub fn object(fields: &[&dyn FieldSchema], partial: bool) -> RefOr<Schema> {
    let mut object = ObjectBuilder::new().schema_type(Type::Object);
    for field in fields {
        object = object.property(field.name(), field.schema());
        if field.is_required() && !partial {
            object = object.required(field.name());
        }
    }
    object.into()
}

/// `ToSchema` for an input body: the object of its fields, named after the type.
macro_rules! input_body_schema {
    ($($body:ty),+ $(,)?) => {$(
        impl utoipa::PartialSchema for $body {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                $crate::schema::object(<$body as $crate::schema::InputBody>::FIELDS, false)
            }
        }

        impl utoipa::ToSchema for $body {}
    )+};
}
pub(crate) use input_body_schema;

/// What a PATCH takes: the fields of `T`, none of them required (an empty body changes nothing,
/// as in DRF). Named `Patched<T's name>`, as drf-spectacular names it.
pub struct Patched<T>(PhantomData<T>);

impl<T: InputBody> PartialSchema for Patched<T> {
    fn schema() -> RefOr<Schema> {
        object(T::FIELDS, true)
    }
}

impl<T: InputBody> ToSchema for Patched<T> {
    fn name() -> Cow<'static, str> {
        format!("Patched{}", T::name()).into()
    }
}

/// A schema the document defines once, under components, and refers to by name.
#[derive(Debug, Clone, Copy)]
pub struct Component {
    pub name: fn() -> Cow<'static, str>,
    pub schema: fn() -> RefOr<Schema>,
    /// Adds the schemas this one refers to.
    pub dependencies: fn(&mut Vec<(String, RefOr<Schema>)>),
}

impl Component {
    pub const fn of<T: ToSchema>() -> Self {
        Self {
            name: T::name,
            schema: T::schema,
            dependencies: T::schemas,
        }
    }
}

/// The schema of a write body: what a full write takes, and what a PATCH takes.
#[derive(Debug, Clone, Copy)]
pub struct Accepts {
    pub full: Component,
    pub patched: Component,
}

impl Accepts {
    pub const fn of<T: InputBody>() -> Self {
        Self {
            full: Component::of::<T>(),
            patched: Component::of::<Patched<T>>(),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use serde_json::{json, to_value, Value};

    use super::*;
    use crate::routes::groups::GroupCreate;
    use crate::routes::music::{AlbumInput, SongInput};
    use crate::routes::users::{UserCreate, UserUpdate};

    fn value(schema: impl serde::Serialize) -> Value {
        to_value(schema).unwrap()
    }

    /// The field errors validation finds in `body`.
    fn errors<T: InputBody>(body: Value, partial: bool) -> BTreeMap<String, Vec<String>> {
        let data = body.as_object().cloned().unwrap_or_default();
        let mut fields = Fields::new(&data, partial);
        T::read(&mut fields);
        match fields.finish() {
            Ok(()) => BTreeMap::new(),
            Err(ApiError::Validation(errors)) => errors,
            Err(other) => panic!("not a field error: {other}"),
        }
    }

    /// A property's maxLength, also when it is one of `anyOf`'s alternatives (an e-mail).
    fn max_length(property: &Value) -> Option<u64> {
        property["maxLength"].as_u64().or_else(|| {
            property["anyOf"]
                .as_array()?
                .iter()
                .filter_map(|alternative| alternative["maxLength"].as_u64())
                .max()
        })
    }

    /// What the schema of `T` says is what validating a `T` enforces: the same fields, the same
    /// required ones, and the same limits.
    fn schema_matches_validation<T: InputBody>() {
        let schema = value(T::schema());
        let name = T::name();
        let properties = schema["properties"].as_object().unwrap();
        let documented: BTreeSet<&str> = properties.keys().map(String::as_str).collect();

        let required: BTreeSet<String> = schema["required"]
            .as_array()
            .map(|names| {
                names
                    .iter()
                    .map(|n| n.as_str().unwrap().to_string())
                    .collect()
            })
            .unwrap_or_default();
        let missing: BTreeSet<String> = errors::<T>(json!({}), false).into_keys().collect();
        assert_eq!(missing, required, "{name}: required fields");
        assert!(
            value(Patched::<T>::schema())["required"].is_null(),
            "{name}: a PATCH requires nothing"
        );
        assert_eq!(errors::<T>(json!({}), true), BTreeMap::new(), "{name}");

        let nulls: serde_json::Map<String, Value> = documented
            .iter()
            .map(|f| (f.to_string(), Value::Null))
            .collect();
        let read: BTreeSet<String> = errors::<T>(Value::Object(nulls), true)
            .into_keys()
            .collect();
        let documented_owned: BTreeSet<String> = documented.iter().map(|f| f.to_string()).collect();
        assert_eq!(read, documented_owned, "{name}: fields read and documented");

        for (field, property) in properties {
            if let Some(max) = max_length(property) {
                let too_long = format!("Ensure this field has no more than {max} characters.");
                let at = |len: u64| {
                    let text = "a".repeat(usize::try_from(len).unwrap());
                    errors::<T>(json!({ field: text }), true)
                        .remove(field)
                        .unwrap_or_default()
                };
                assert_eq!(at(max + 1), vec![too_long.clone()], "{name}.{field}");
                assert!(!at(max).contains(&too_long), "{name}.{field}");
            }
            if let Some(min) = property["minLength"].as_u64().filter(|min| *min > 1) {
                let at = |len: u64| {
                    let text = "a".repeat(usize::try_from(len).unwrap());
                    errors::<T>(json!({ field: text }), true).contains_key(field)
                };
                assert!(at(min - 1), "{name}.{field}: shorter than minLength");
                assert!(!at(min), "{name}.{field}: exactly minLength");
            }
            if let Some(max) = property["maximum"].as_i64() {
                let above = errors::<T>(json!({ field: max + 1 }), true);
                assert_eq!(
                    above[field],
                    vec![format!("Ensure this value is less than or equal to {max}.")],
                    "{name}.{field}"
                );
                assert!(!errors::<T>(json!({ field: max }), true).contains_key(field));
            }
            if let Some(min) = property["minimum"].as_i64() {
                let below = errors::<T>(json!({ field: min - 1 }), true);
                assert_eq!(
                    below[field],
                    vec![format!(
                        "Ensure this value is greater than or equal to {min}."
                    )],
                    "{name}.{field}"
                );
                assert!(!errors::<T>(json!({ field: min }), true).contains_key(field));
            }
        }
    }

    #[test]
    fn every_input_bodys_schema_is_what_its_validation_enforces() {
        schema_matches_validation::<UserCreate>();
        schema_matches_validation::<UserUpdate>();
        schema_matches_validation::<GroupCreate>();
        schema_matches_validation::<AlbumInput>();
        schema_matches_validation::<SongInput>();
    }

    #[test]
    fn a_patched_body_is_named_after_its_full_form() {
        assert_eq!(Patched::<AlbumInput>::name(), "PatchedAlbumInput");
        assert_eq!(Patched::<UserUpdate>::name(), "PatchedUserUpdate");
        assert_eq!(UserCreate::name(), "UserCreate");
    }

    #[test]
    fn text_rules_state_their_limits_and_blankness() {
        assert_eq!(
            value(Text::required(100).schema()),
            json!({"type": "string", "minLength": 1, "maxLength": 100, "pattern": NOT_BLANK})
        );
        assert_eq!(
            value(Text::blank_ok(150).schema()),
            json!({"type": "string", "maxLength": 150, "pattern": NO_NUL})
        );
        assert_eq!(
            value(Text::new_password().schema()),
            json!({"type": "string", "minLength": 8, "pattern": NOT_EMPTY,
                "writeOnly": true, "description": NEW_PASSWORD})
        );
        assert_eq!(
            value(Text::current_password().schema()),
            json!({"type": "string", "minLength": 1, "maxLength": 72, "pattern": NOT_EMPTY,
                "writeOnly": true, "description": CURRENT_PASSWORD})
        );
        assert_eq!(
            value(Text::required(150).username().schema()),
            json!({"type": "string", "minLength": 1, "maxLength": 150, "pattern": USERNAME})
        );
    }

    #[test]
    fn a_blank_email_is_valid_and_a_shown_one_may_be_blank_too() {
        let email = value(Text::blank_ok(254).email().schema());
        assert_eq!(email["type"], "string");
        assert_eq!(
            email["anyOf"][0],
            json!({"format": "email", "maxLength": 254})
        );
        assert_eq!(email["anyOf"][1], json!({"maxLength": 0}));
        assert_eq!(value(stored(Text::blank_ok(254).email())), email);
        assert_eq!(
            value(stored(Text::required(150).username())),
            json!({"type": "string", "maxLength": 150, "pattern": NO_NUL})
        );
    }

    #[test]
    fn other_rules() {
        assert_eq!(
            value(Integer { min: 0, max: 5 }.schema()),
            json!({"type": "integer", "minimum": 0, "maximum": 5})
        );
        assert_eq!(
            value(Date.schema()),
            json!({"type": "string", "format": "date"})
        );
        assert_eq!(
            value(PrimaryKey { of: "a user's id" }.schema()),
            json!({"type": "integer", "description": "a user's id"})
        );
    }
}
