//! /users/ and /users/{id}/.

use crate::error::ApiError;
use actix_web::{web, HttpRequest, HttpResponse};
use oauth_core::audit::{self, Event};
use oauth_core::secrets::PasswordHasher;
use serde::Serialize;
use store::models::{NewUser, User, UserChanges};
use store::users::{self, LoginName, UserFilter, UserWriteError};
use store::Database;
use utoipa::openapi::schema::Schema;
use utoipa::ToSchema;

use super::{object_id, optional_filter};
use crate::body::Body;
use crate::database::{read, run};
use crate::enforcement::require_permission;
use oauth_core::accounts::{EMAIL_MAX_CHARS, USERNAME_MAX_CHARS};

use crate::fields::{Field, Fields, Text, REQUIRED};
use crate::pagination::{list_page, query_pairs};
use crate::principal::Principal;
use crate::schema::{input_body_schema, stored, FieldSchema, InputBody};

const USERNAME: Field<Text> =
    Field::required("username", Text::required(USERNAME_MAX_CHARS).username());
const PASSWORD: Field<Text> = Field::required("password", Text::new_password());
/// What users changing their own password send as well, so that a stolen token alone cannot
/// take the account over.
const CURRENT_PASSWORD: Field<Text> = Field::optional("current_password", Text::current_password());
const EMAIL: Field<Text> = Field::optional("email", Text::blank_ok(EMAIL_MAX_CHARS).email());
const FIRST_NAME: Field<Text> = Field::optional("first_name", Text::blank_ok(150));
const LAST_NAME: Field<Text> = Field::optional("last_name", Text::blank_ok(150));
const USERNAME_TAKEN: &str = "A user with that username already exists.";
const EMAIL_TAKEN: &str = "A user with that email already exists.";
/// Django's PasswordChangeForm message.
const CURRENT_PASSWORD_WRONG: &str =
    "Your old password was entered incorrectly. Please enter it again.";

/// The exact-match filters of the user list.
const BY_USERNAME: &str = "username";
const BY_EMAIL: &str = "email";
pub const FILTERS: &[&str] = &[BY_USERNAME, BY_EMAIL];

/// A user as the API shows one: never the password or its hash.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = User)]
pub struct UserBody {
    #[schema(read_only)]
    pub id: i32,
    #[schema(schema_with = shown_username)]
    pub username: String,
    #[schema(schema_with = shown_email)]
    pub email: String,
    #[schema(schema_with = shown_first_name)]
    pub first_name: String,
    #[schema(schema_with = shown_last_name)]
    pub last_name: String,
}

fn shown_username() -> Schema {
    stored(*USERNAME.rule())
}

fn shown_email() -> Schema {
    stored(*EMAIL.rule())
}

fn shown_first_name() -> Schema {
    stored(*FIRST_NAME.rule())
}

fn shown_last_name() -> Schema {
    stored(*LAST_NAME.rule())
}

impl From<User> for UserBody {
    fn from(u: User) -> Self {
        Self {
            id: u.id,
            username: u.username,
            email: u.email,
            first_name: u.first_name,
            last_name: u.last_name,
        }
    }
}

pub async fn list_users(
    req: HttpRequest,
    pool: web::Data<Database>,
) -> actix_web::Result<HttpResponse> {
    let query = query_pairs(&req);
    let filter = UserFilter {
        username: optional_filter(&query, BY_USERNAME)?,
        email: optional_filter(&query, BY_EMAIL)?,
    };
    list_page::<_, UserBody, _>(&req, &query, &pool, move |conn, window| {
        Ok(users::list(conn, &filter, window)?)
    })
    .await
}

/// What POST /users/ takes; `None` is a field left out (only the optional ones can be).
#[derive(Debug)]
pub struct UserCreate {
    username: Option<String>,
    password: Option<String>,
    email: Option<String>,
    first_name: Option<String>,
    last_name: Option<String>,
}

impl InputBody for UserCreate {
    const FIELDS: &'static [&'static dyn FieldSchema] =
        &[&USERNAME, &PASSWORD, &EMAIL, &FIRST_NAME, &LAST_NAME];

    fn read(f: &mut Fields<'_>) -> Self {
        Self {
            username: USERNAME.read(f),
            password: PASSWORD.read(f),
            email: EMAIL.read(f),
            first_name: FIRST_NAME.read(f),
            last_name: LAST_NAME.read(f),
        }
    }
}

/// What PATCH /users/{id}/ takes: a create's fields, each left as it is when left out, and the
/// current password, which users changing their own password must give.
#[derive(Debug)]
pub struct UserUpdate {
    fields: UserCreate,
    current_password: Option<String>,
}

impl InputBody for UserUpdate {
    const FIELDS: &'static [&'static dyn FieldSchema] = &[
        &USERNAME,
        &PASSWORD,
        &CURRENT_PASSWORD,
        &EMAIL,
        &FIRST_NAME,
        &LAST_NAME,
    ];

    fn read(f: &mut Fields<'_>) -> Self {
        Self {
            fields: UserCreate::read(f),
            current_password: CURRENT_PASSWORD.read(f),
        }
    }
}

input_body_schema!(UserCreate, UserUpdate);

/// bcrypt is slow on purpose, so it runs on the blocking pool.
async fn hash_password(
    hasher: &web::Data<PasswordHasher>,
    password: Option<String>,
) -> Result<Option<String>, ApiError> {
    let Some(password) = password else {
        return Ok(None);
    };
    let hasher = hasher.clone();
    let hash = web::block(move || hasher.hash(&password))
        .await
        .map_err(|_| anyhow::anyhow!("the password hash task was cancelled"))??;
    Ok(Some(hash))
}

/// Users changing their own password prove they know the current one: missing or wrong, it is
/// an error on `current_password`. bcrypt runs on the blocking pool.
async fn check_current_password(
    hasher: &web::Data<PasswordHasher>,
    given: Option<String>,
    stored_hash: String,
) -> Result<(), ApiError> {
    let Some(given) = given else {
        return Err(ApiError::field(CURRENT_PASSWORD.name(), REQUIRED));
    };
    let hasher = hasher.clone();
    let matches = web::block(move || hasher.verify(&given, Some(&stored_hash)))
        .await
        .map_err(|_| anyhow::anyhow!("the password check task was cancelled"))?;
    if matches {
        Ok(())
    } else {
        Err(ApiError::field(
            CURRENT_PASSWORD.name(),
            CURRENT_PASSWORD_WRONG,
        ))
    }
}

/// A password set by its owner is a change; set by someone else, a reset.
fn password_change_record(user_id: i32, actor: Option<i32>) -> audit::Record {
    let event = if actor == Some(user_id) {
        Event::PasswordChanged
    } else {
        Event::PasswordReset
    };
    audit::record(event)
        .field("user_id", user_id)
        .optional("by", actor)
}

/// A login name another account answers to is an error on the field that set it.
fn login_name_taken(e: UserWriteError) -> ApiError {
    match e {
        UserWriteError::Clash(clash) => ApiError::Validation(
            clash
                .taken
                .iter()
                .map(|name| match name {
                    LoginName::Username => (USERNAME.name(), USERNAME_TAKEN),
                    LoginName::Email => (EMAIL.name(), EMAIL_TAKEN),
                })
                .map(|(field, message)| (field.to_string(), vec![message.to_string()]))
                .collect(),
        ),
        UserWriteError::Store(e) => e.into(),
    }
}

pub async fn create_user(
    pool: web::Data<Database>,
    hasher: web::Data<PasswordHasher>,
    body: Body,
) -> actix_web::Result<HttpResponse> {
    let input = UserCreate::validate(&body, false)?;
    let password_hash = hash_password(&hasher, input.password)
        .await?
        .unwrap_or_default();
    let new = NewUser {
        username: input.username.unwrap_or_default(),
        email: input.email.unwrap_or_default(),
        first_name: input.first_name.unwrap_or_default(),
        last_name: input.last_name.unwrap_or_default(),
        password_hash,
        is_active: true,
        is_superuser: false,
        date_joined: oauth_core::time::now(),
    };
    let user = run(&pool, move |conn| {
        users::create(conn, &new).map_err(login_name_taken)
    })
    .await?;
    Ok(HttpResponse::Created().json(UserBody::from(user)))
}

pub async fn get_user(
    pool: web::Data<Database>,
    id: web::Path<String>,
) -> actix_web::Result<HttpResponse> {
    let id = object_id(&id)?;
    let user = read(&pool, move |conn| Ok(users::find(conn, id)?))
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(HttpResponse::Ok().json(UserBody::from(user)))
}

/// Only the user themselves, or a holder of `change_user`, may change a user. As in Django REST
/// framework the object is looked up first (404), then this rule applies (403), then the body
/// is validated (400), and users setting their own password must give the current one (400).
pub async fn update_user(
    principal: Principal,
    pool: web::Data<Database>,
    hasher: web::Data<PasswordHasher>,
    id: web::Path<String>,
    body: Body,
) -> actix_web::Result<HttpResponse> {
    let id = object_id(&id)?;
    let stored = run(&pool, move |conn| {
        users::find(conn, id)?.ok_or(ApiError::NotFound)
    })
    .await?;
    let actor = principal.user_id();
    if actor != Some(id) {
        require_permission(&pool, actor, "change_user".into()).await?;
    }
    let UserUpdate {
        fields: input,
        current_password,
    } = UserUpdate::validate(&body, true)?;
    let sets_password = input.password.is_some();
    if sets_password && actor == Some(id) {
        check_current_password(&hasher, current_password, stored.password_hash).await?;
    }
    let changes = UserChanges {
        username: input.username,
        email: input.email,
        first_name: input.first_name,
        last_name: input.last_name,
        password_hash: hash_password(&hasher, input.password).await?,
    };
    let user = run(&pool, move |conn| {
        users::update(conn, id, &changes).map_err(login_name_taken)
    })
    .await?
    .ok_or(ApiError::NotFound)?;
    if sets_password {
        password_change_record(id, actor).emit();
    }
    Ok(HttpResponse::Ok().json(UserBody::from(user)))
}

/// `delete_user` was checked by the route's model permission before this runs.
pub async fn delete_user(
    pool: web::Data<Database>,
    id: web::Path<String>,
) -> actix_web::Result<HttpResponse> {
    let id = object_id(&id)?;
    let deleted = run(&pool, move |conn| Ok(users::delete(conn, id)?)).await?;
    if deleted {
        Ok(HttpResponse::NoContent().finish())
    } else {
        Err(ApiError::NotFound.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_set_by_its_owner_is_a_change_and_by_another_a_reset() {
        assert_eq!(
            password_change_record(3, Some(3)).line(),
            "event=password.change user_id=3 by=3"
        );
        assert_eq!(
            password_change_record(3, Some(1)).line(),
            "event=password.reset user_id=3 by=1"
        );
    }
}
