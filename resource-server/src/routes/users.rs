//! /users/ and /users/{id}/.

use crate::error::ApiError;
use actix_web::{web, HttpRequest, HttpResponse};
use oauth_core::secrets::PasswordHasher;
use serde::Serialize;
use store::models::{NewUser, User, UserChanges};
use store::users::{self, UserFilter};
use store::{Database, StoreError};

use super::{object_id, optional_filter};
use crate::body::Body;
use crate::database::{read, run};
use crate::enforcement::require_permission;
use oauth_core::accounts::{
    is_valid_email, is_valid_username, INVALID_USERNAME, USERNAME_MAX_CHARS,
};

use crate::fields::{Fields, Text};
use crate::pagination::{list_page, query_pairs};
use crate::principal::Principal;

const USERNAME: Text = Text::required(USERNAME_MAX_CHARS);
/// Django's password column holds 128 characters; bcrypt reads the first 72 bytes.
const PASSWORD: Text = Text::required(128).untrimmed();
const EMAIL: Text = Text::blank_ok(254);
const NAME: Text = Text::blank_ok(150);
const USERNAME_TAKEN: &str = "A user with that username already exists.";

/// A user as the API shows one: never the password or its hash.
#[derive(Debug, Serialize)]
pub struct UserBody {
    pub id: i32,
    pub username: String,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
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
        username: optional_filter(&query, "username")?,
        email: optional_filter(&query, "email")?,
    };
    list_page::<_, UserBody, _>(&req, &query, &pool, move |conn, window| {
        Ok(users::list(conn, &filter, window)?)
    })
    .await
}

/// The validated fields of a create or a change; `None` leaves a field as it is.
#[derive(Default)]
struct UserInput {
    username: Option<String>,
    password: Option<String>,
    email: Option<String>,
    first_name: Option<String>,
    last_name: Option<String>,
}

fn validate(body: &Body, partial: bool) -> Result<UserInput, ApiError> {
    let mut f = Fields::new(&body.0, partial);
    let username = f.text("username", true, USERNAME);
    if username.as_deref().is_some_and(|u| !is_valid_username(u)) {
        f.error("username", INVALID_USERNAME);
    }
    let password = f.text("password", true, PASSWORD);
    let email = f.text("email", false, EMAIL);
    if email
        .as_deref()
        .is_some_and(|e| !e.is_empty() && !is_valid_email(e))
    {
        f.error("email", "Enter a valid email address.");
    }
    let first_name = f.text("first_name", false, NAME);
    let last_name = f.text("last_name", false, NAME);
    f.finish()?;
    Ok(UserInput {
        username,
        password,
        email,
        first_name,
        last_name,
    })
}

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

fn username_taken(e: StoreError) -> ApiError {
    e.on_unique_violation(|| ApiError::field("username", USERNAME_TAKEN))
}

pub async fn create_user(
    pool: web::Data<Database>,
    hasher: web::Data<PasswordHasher>,
    body: Body,
) -> actix_web::Result<HttpResponse> {
    let input = validate(&body, false)?;
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
        users::create(conn, &new).map_err(username_taken)
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
/// is validated (400).
pub async fn update_user(
    principal: Principal,
    pool: web::Data<Database>,
    hasher: web::Data<PasswordHasher>,
    id: web::Path<String>,
    body: Body,
) -> actix_web::Result<HttpResponse> {
    let id = object_id(&id)?;
    run(&pool, move |conn| {
        users::find(conn, id)?.ok_or(ApiError::NotFound)?;
        Ok(())
    })
    .await?;
    if principal.user_id() != Some(id) {
        require_permission(&pool, principal.user_id(), "change_user".into()).await?;
    }
    let input = validate(&body, true)?;
    let changes = UserChanges {
        username: input.username,
        email: input.email,
        first_name: input.first_name,
        last_name: input.last_name,
        password_hash: hash_password(&hasher, input.password).await?,
    };
    let user = run(&pool, move |conn| {
        users::update(conn, id, &changes).map_err(username_taken)
    })
    .await?
    .ok_or(ApiError::NotFound)?;
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
