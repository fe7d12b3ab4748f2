//! /groups/.

use crate::error::ApiError;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Serialize;
use store::models::Group;
use store::{groups, Database};
use utoipa::openapi::schema::Schema;
use utoipa::ToSchema;

use crate::body::Body;
use crate::database::run;
use crate::fields::{Field, Fields, Text};
use crate::pagination::{list_page, query_pairs};
use crate::schema::{input_body_schema, stored, FieldSchema, InputBody};

const NAME: Field<Text> = Field::required("name", Text::required(150));

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Group)]
pub struct GroupBody {
    #[schema(read_only)]
    pub id: i32,
    #[schema(schema_with = shown_name)]
    pub name: String,
}

fn shown_name() -> Schema {
    stored(*NAME.rule())
}

/// What POST /groups/ takes.
#[derive(Debug)]
pub struct GroupCreate {
    name: Option<String>,
}

impl InputBody for GroupCreate {
    const FIELDS: &'static [&'static dyn FieldSchema] = &[&NAME];

    fn read(f: &mut Fields<'_>) -> Self {
        Self { name: NAME.read(f) }
    }
}

input_body_schema!(GroupCreate);

impl From<Group> for GroupBody {
    fn from(g: Group) -> Self {
        Self {
            id: g.id,
            name: g.name,
        }
    }
}

pub async fn list_groups(
    req: HttpRequest,
    pool: web::Data<Database>,
) -> actix_web::Result<HttpResponse> {
    let query = query_pairs(&req);
    list_page::<_, GroupBody, _>(&req, &query, &pool, |conn, window| {
        Ok(groups::list(conn, window)?)
    })
    .await
}

pub async fn create_group(
    pool: web::Data<Database>,
    body: Body,
) -> actix_web::Result<HttpResponse> {
    let name = GroupCreate::validate(&body, false)?
        .name
        .unwrap_or_default();
    let group = run(&pool, move |conn| {
        groups::create(conn, &name).map_err(|e| {
            e.on_unique_violation(|| {
                ApiError::field(NAME.name(), "group with this name already exists.")
            })
        })
    })
    .await?;
    Ok(HttpResponse::Created().json(GroupBody::from(group)))
}
