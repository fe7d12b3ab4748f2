//! /groups/.

use crate::error::ApiError;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Serialize;
use store::models::Group;
use store::{groups, Database};

use crate::body::Body;
use crate::database::run;
use crate::fields::{Fields, Text};
use crate::pagination::{list_page, query_pairs};

#[derive(Debug, Serialize)]
pub struct GroupBody {
    pub id: i32,
    pub name: String,
}

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
    let mut f = Fields::new(&body.0, false);
    let name = f.text("name", true, Text::required(150));
    f.finish()?;
    let name = name.unwrap_or_default();
    let group = run(&pool, move |conn| {
        groups::create(conn, &name).map_err(|e| {
            e.on_unique_violation(|| {
                ApiError::field("name", "group with this name already exists.")
            })
        })
    })
    .await?;
    Ok(HttpResponse::Created().json(GroupBody::from(group)))
}
