//! Django REST framework's PageNumberPagination: `?page=N&page_size=N`, answered as
//! `{"count", "next", "previous", "results"}` with absolute links that keep the other query
//! parameters.

use crate::error::ApiError;
use crate::error::DetailBody;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse, ResponseError};
use serde::Serialize;
use store::page::Window;
use store::{Database, DbConnection, Page};
use utoipa::openapi::schema::{ObjectBuilder, Schema, SchemaFormat, SchemaType, Type};
use utoipa::ToSchema;

use crate::database::run;

/// The query parameters that choose a page.
pub const PAGE: &str = "page";
pub const PAGE_SIZE: &str = "page_size";
pub const DEFAULT_PAGE_SIZE: i64 = 20;
pub const MAX_PAGE_SIZE: i64 = 100;

/// A page number that is not a positive whole number, or past the last page: 404, as DRF answers.
#[derive(Debug, thiserror::Error)]
#[error("invalid page")]
pub struct InvalidPage;

impl ResponseError for InvalidPage {
    fn status_code(&self) -> StatusCode {
        StatusCode::NOT_FOUND
    }

    fn error_response(&self) -> HttpResponse {
        HttpResponse::NotFound().json(DetailBody {
            detail: "Invalid page.".into(),
        })
    }
}

/// The query string, decoded in order; a malformed one reads as empty, as Django's QueryDict
/// drops what it cannot parse.
pub fn query_pairs(req: &HttpRequest) -> Vec<(String, String)> {
    serde_urlencoded::from_str(req.query_string()).unwrap_or_default()
}

/// The last value of a query parameter, like QueryDict.
pub fn query_value<'q>(query: &'q [(String, String)], name: &str) -> Option<&'q str> {
    query
        .iter()
        .rev()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    pub number: i64,
    pub size: i64,
}

impl PageRequest {
    /// A size that is not a positive number means the default; one above the maximum is cut to
    /// it. A page that is not a positive number is refused.
    pub fn from_query(query: &[(String, String)]) -> Result<Self, InvalidPage> {
        let size = query_value(query, PAGE_SIZE)
            .and_then(|s| s.trim().parse::<i64>().ok())
            .filter(|n| *n > 0)
            .map_or(DEFAULT_PAGE_SIZE, |n| n.min(MAX_PAGE_SIZE));
        let number = match query_value(query, PAGE) {
            None => 1,
            Some(raw) => raw
                .trim()
                .parse::<i64>()
                .ok()
                .filter(|n| *n >= 1)
                .ok_or(InvalidPage)?,
        };
        Ok(Self { number, size })
    }

    pub fn window(&self) -> Result<Window, InvalidPage> {
        let offset = (self.number - 1)
            .checked_mul(self.size)
            .ok_or(InvalidPage)?;
        Ok(Window {
            offset,
            limit: self.size,
        })
    }

    /// Pages there are for `count` rows; an empty list still has its first page.
    fn last_page(&self, count: i64) -> i64 {
        ((count + self.size - 1) / self.size).max(1)
    }

    /// The page as DRF shows it, or 404 when it lies past the last page.
    pub fn respond<T: Serialize>(
        &self,
        req: &HttpRequest,
        query: &[(String, String)],
        page: Page<T>,
    ) -> Result<HttpResponse, InvalidPage> {
        let last = self.last_page(page.count);
        if self.number > last {
            return Err(InvalidPage);
        }
        let next = (self.number < last).then(|| link(req, query, Some(self.number + 1)));
        let previous = (self.number > 1).then(|| {
            // DRF's link to the first page drops the parameter rather than saying page=1.
            let target = self.number - 1;
            link(req, query, (target > 1).then_some(target))
        });
        Ok(HttpResponse::Ok().json(PageBody {
            count: page.count,
            next,
            previous,
            results: page.items,
        }))
    }
}

/// A list view: reads `?page` and `?page_size`, fetches that window on a blocking thread and
/// answers with the page, each row shown as `B`.
pub async fn list_page<T, B, F>(
    req: &HttpRequest,
    query: &[(String, String)],
    pool: &web::Data<Database>,
    fetch: F,
) -> actix_web::Result<HttpResponse>
where
    T: Send + 'static,
    B: Serialize + From<T>,
    F: FnOnce(&mut DbConnection, Window) -> Result<Page<T>, ApiError> + Send + 'static,
{
    let page = PageRequest::from_query(query)?;
    let window = page.window()?;
    let found = run(pool, move |conn| fetch(conn, window)).await?;
    Ok(page.respond(
        req,
        query,
        Page {
            count: found.count,
            items: found.items.into_iter().map(B::from).collect(),
        },
    )?)
}

/// One page of a list.
// Not a named component: the document writes it out in each list's answer, for its item type.
#[derive(Serialize, ToSchema)]
pub struct PageBody<T> {
    count: i64,
    #[schema(schema_with = link_schema)]
    next: Option<String>,
    #[schema(schema_with = link_schema)]
    previous: Option<String>,
    results: Vec<T>,
}

/// An absolute URL, or null at either end of the list.
fn link_schema() -> Schema {
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
        .format(Some(SchemaFormat::Custom("uri".into())))
        .into()
}

/// The request's absolute URL with `page` set to `page`, or removed when `None`.
fn link(req: &HttpRequest, query: &[(String, String)], page: Option<i64>) -> String {
    let mut pairs: Vec<(String, String)> = Vec::with_capacity(query.len() + 1);
    let mut placed = false;
    for (k, v) in query {
        if k == PAGE {
            if let (Some(n), false) = (page, placed) {
                pairs.push((k.clone(), n.to_string()));
                placed = true;
            }
        } else {
            pairs.push((k.clone(), v.clone()));
        }
    }
    if let (Some(n), false) = (page, placed) {
        pairs.push((PAGE.into(), n.to_string()));
    }
    let info = req.connection_info();
    let mut url = format!("{}://{}{}", info.scheme(), info.host(), req.path());
    if !pairs.is_empty() {
        url.push('?');
        url.push_str(&serde_urlencoded::to_string(&pairs).unwrap_or_default());
    }
    url
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    fn q(s: &str) -> Vec<(String, String)> {
        serde_urlencoded::from_str(s).unwrap()
    }

    #[test]
    fn sizes_default_clamp_and_ignore_nonsense() {
        for (query, size) in [
            ("", 20),
            ("page_size=5", 5),
            ("page_size=101", 100),
            ("page_size=0", 20),
            ("page_size=-3", 20),
            ("page_size=abc", 20),
        ] {
            assert_eq!(
                PageRequest::from_query(&q(query)).unwrap().size,
                size,
                "{query}"
            );
        }
    }

    #[test]
    fn page_numbers_must_be_positive_whole_numbers() {
        for bad in ["page=0", "page=-1", "page=abc", "page=", "page=1.5"] {
            assert!(PageRequest::from_query(&q(bad)).is_err(), "{bad}");
        }
        let huge = PageRequest::from_query(&q("page=9223372036854775807&page_size=100")).unwrap();
        assert!(huge.window().is_err());
    }

    #[test]
    fn links_keep_other_parameters_and_drop_page_for_the_first() {
        let req = TestRequest::get()
            .uri("/users/?username=a%20b&page=2&page_size=1")
            .insert_header(("host", "api.example.com"))
            .to_http_request();
        let query = query_pairs(&req);
        let page = PageRequest::from_query(&query).unwrap();
        let resp = page
            .respond(
                &req,
                &query,
                Page {
                    items: vec![1],
                    count: 3,
                },
            )
            .unwrap();
        let body = actix_web::body::to_bytes(resp.into_body());
        let body: serde_json::Value = serde_json::from_slice(
            &futures_util::FutureExt::now_or_never(body)
                .unwrap()
                .unwrap(),
        )
        .unwrap();
        assert_eq!(
            body["next"],
            "http://api.example.com/users/?username=a+b&page=3&page_size=1"
        );
        assert_eq!(
            body["previous"],
            "http://api.example.com/users/?username=a+b&page_size=1"
        );
    }

    #[test]
    fn past_the_last_page_is_invalid_but_an_empty_first_page_is_not() {
        let req = TestRequest::get().uri("/albums/").to_http_request();
        let first = PageRequest {
            number: 1,
            size: 20,
        };
        assert!(first
            .respond(
                &req,
                &[],
                Page::<i32> {
                    items: vec![],
                    count: 0
                }
            )
            .is_ok());
        let second = PageRequest {
            number: 2,
            size: 20,
        };
        assert!(second
            .respond(
                &req,
                &[],
                Page::<i32> {
                    items: vec![],
                    count: 20
                }
            )
            .is_err());
    }
}
