//! Every route, its handlers and its policy, declared once. The server mounts routes from this
//! table, `resource-server routes` prints it, and the OpenAPI document is generated from it, so
//! the three cannot disagree.

use crate::policy::{ModelPermission, Policy};
use actix_web::http::Method;
use actix_web::web;

use crate::error::DetailBody;
use crate::openapi;
use crate::pagination::PageBody;
use crate::schema::{Accepts, Component};
use http_service::health;
use utoipa::ToSchema;

use crate::docs;
use crate::routes::groups::{self, GroupBody, GroupCreate};
use crate::routes::music::{self, AlbumBody, AlbumInput, SongBody, SongInput};
use crate::routes::root::{self, ApiRootBody};
use crate::routes::users::{self, UserBody, UserCreate, UserUpdate};

/// One path, like one Django REST framework view.
#[derive(Debug)]
pub struct Route {
    pub path: &'static str,
    /// The view's policy: it applies to every method, including those the route does not
    /// serve, because Django REST framework checks permissions before it answers 405. That is
    /// how PATCH on /songs/{id}/ meets TokenMatchesOASRequirements and is refused with 403.
    pub policy: Policy,
    pub operations: &'static [Operation],
}

/// One method of a route and the handler serving it.
#[derive(Debug)]
pub struct Operation {
    pub method: Method,
    /// The handler's name, also the OpenAPI operationId.
    pub name: &'static str,
    pub summary: &'static str,
    /// Replaces the view's policy for this method (/groups/ checks GET and POST differently).
    pub policy: Option<Policy>,
    /// Django's DjangoModelPermissions for this method, checked after the token's scopes and
    /// before any object is looked up.
    pub model_permission: Option<ModelPermission>,
    /// The body the handler reads, for writes.
    pub accepts: Option<Accepts>,
    pub returns: Returns,
    pub handler: fn(actix_web::Route) -> actix_web::Route,
}

/// What a successful call answers, for the OpenAPI document.
#[derive(Debug, Clone, Copy)]
pub enum Returns {
    /// 200 with one object of this schema.
    One(Component),
    /// 201 with the created object.
    Created(Component),
    /// 200 with a page (a [`PageBody`]) of objects; the listed query parameters filter it.
    Page(Component, &'static [&'static str]),
    NoContent,
    /// 200 with a document of its own (health, the OpenAPI document).
    Document,
}

impl Operation {
    const fn with_policy(mut self, policy: Policy) -> Self {
        self.policy = Some(policy);
        self
    }

    const fn with_model_permission(mut self, permission: ModelPermission) -> Self {
        self.model_permission = Some(permission);
        self
    }
}

impl Route {
    pub fn operation(&self, method: &Method) -> Option<&'static Operation> {
        self.operations.iter().find(|op| op.method == *method)
    }

    /// The policy a request with `method` meets.
    pub fn policy_for(&self, method: &Method) -> Policy {
        self.operation(method)
            .and_then(|op| op.policy)
            .unwrap_or(self.policy)
    }
}

const USERS: Policy = Policy::TokenHasReadWriteScope(&[]);
const ALBUMS: Policy = Policy::TokenHasReadWriteScope(&["albums"]);
const SONGS: Policy = Policy::TokenHasResourceScope("music");
const SONG_DETAIL: Policy = Policy::TokenMatchesOasRequirements(&[
    ("GET", &[&["read"], &["music:read"]]),
    ("PUT", &[&["update"], &["music:write"]]),
    ("DELETE", &[&["delete"], &["music:write", "write"]]),
]);

const USER: Component = Component::of::<UserBody>();
const GROUP: Component = Component::of::<GroupBody>();
const ALBUM: Component = Component::of::<AlbumBody>();
const SONG: Component = Component::of::<SongBody>();
const API_ROOT: Component = Component::of::<ApiRootBody>();
/// What every refusal and most errors answer.
pub const DETAIL: Component = Component::of::<DetailBody>();

/// A page of `T`.
const fn page<T: ToSchema>() -> Component {
    Component::of::<PageBody<T>>()
}

/// An operation with the view's policy and no model permission; fields are set where they differ.
const fn op(
    method: Method,
    name: &'static str,
    summary: &'static str,
    accepts: Option<Accepts>,
    returns: Returns,
    handler: fn(actix_web::Route) -> actix_web::Route,
) -> Operation {
    Operation {
        method,
        name,
        summary,
        policy: None,
        model_permission: None,
        accepts,
        returns,
        handler,
    }
}

pub static ROUTES: &[Route] = &[
    Route {
        path: "/users/",
        policy: USERS,
        operations: &[
            op(
                Method::GET,
                "list_users",
                "List users, optionally filtered by exact username or e-mail",
                None,
                Returns::Page(page::<UserBody>(), users::FILTERS),
                |r| r.to(users::list_users),
            ),
            op(
                Method::POST,
                "create_user",
                "Create a user; the password is stored as a bcrypt hash",
                Some(Accepts::of::<UserCreate>()),
                Returns::Created(USER),
                |r| r.to(users::create_user),
            ),
        ],
    },
    Route {
        path: "/users/{id}/",
        policy: USERS,
        operations: &[
            op(
                Method::GET,
                "get_user",
                "Show one user",
                None,
                Returns::One(USER),
                |r| r.to(users::get_user),
            ),
            op(
                Method::PATCH,
                "update_user",
                "Change a user: allowed to the user themselves or to holders of change_user",
                Some(Accepts::of::<UserUpdate>()),
                Returns::One(USER),
                |r| r.to(users::update_user),
            ),
            op(
                Method::DELETE,
                "delete_user",
                "Delete a user",
                None,
                Returns::NoContent,
                |r| r.to(users::delete_user),
            )
            .with_model_permission(ModelPermission("user")),
        ],
    },
    Route {
        path: "/groups/",
        policy: Policy::TokenHasScope(&["groups"]),
        operations: &[
            op(
                Method::GET,
                "list_groups",
                "List groups",
                None,
                Returns::Page(page::<GroupBody>(), &[]),
                |r| r.to(groups::list_groups),
            ),
            op(
                Method::POST,
                "create_group",
                "Create a group",
                Some(Accepts::of::<GroupCreate>()),
                Returns::Created(GROUP),
                |r| r.to(groups::create_group),
            )
            .with_policy(Policy::IsAuthenticatedOrTokenHasScope(&["groups"]))
            .with_model_permission(ModelPermission("group")),
        ],
    },
    Route {
        path: "/albums/",
        policy: ALBUMS,
        operations: &[
            op(
                Method::GET,
                "list_albums",
                "List albums",
                None,
                Returns::Page(page::<AlbumBody>(), &[]),
                |r| r.to(music::list_albums),
            ),
            op(
                Method::POST,
                "create_album",
                "Create an album",
                Some(Accepts::of::<AlbumInput>()),
                Returns::Created(ALBUM),
                |r| r.to(music::create_album),
            ),
        ],
    },
    Route {
        path: "/albums/{id}/",
        policy: ALBUMS,
        operations: &[
            op(
                Method::GET,
                "get_album",
                "Show one album",
                None,
                Returns::One(ALBUM),
                |r| r.to(music::get_album),
            ),
            op(
                Method::PUT,
                "replace_album",
                "Replace an album: every field is required",
                Some(Accepts::of::<AlbumInput>()),
                Returns::One(ALBUM),
                |r| r.to(music::replace_album),
            ),
            op(
                Method::PATCH,
                "update_album",
                "Change some fields of an album",
                Some(Accepts::of::<AlbumInput>()),
                Returns::One(ALBUM),
                |r| r.to(music::update_album),
            ),
            op(
                Method::DELETE,
                "delete_album",
                "Delete an album and its songs",
                None,
                Returns::NoContent,
                |r| r.to(music::delete_album),
            ),
        ],
    },
    Route {
        path: "/create/album/",
        policy: ALBUMS,
        operations: &[op(
            Method::POST,
            "create_album_legacy",
            "Create an album (same as POST /albums/)",
            Some(Accepts::of::<AlbumInput>()),
            Returns::Created(ALBUM),
            |r| r.to(music::create_album),
        )],
    },
    Route {
        path: "/update/album/{id}/",
        policy: ALBUMS,
        operations: &[
            op(
                Method::PUT,
                "replace_album_legacy",
                "Replace an album (same as PUT /albums/{id}/)",
                Some(Accepts::of::<AlbumInput>()),
                Returns::One(ALBUM),
                |r| r.to(music::replace_album),
            ),
            op(
                Method::PATCH,
                "update_album_legacy",
                "Change an album (same as PATCH /albums/{id}/)",
                Some(Accepts::of::<AlbumInput>()),
                Returns::One(ALBUM),
                |r| r.to(music::update_album),
            ),
        ],
    },
    Route {
        path: "/songs/",
        policy: SONGS,
        operations: &[
            op(
                Method::GET,
                "list_songs",
                "List songs",
                None,
                Returns::Page(page::<SongBody>(), &[]),
                |r| r.to(music::list_songs),
            ),
            op(
                Method::POST,
                "create_song",
                "Create a song",
                Some(Accepts::of::<SongInput>()),
                Returns::Created(SONG),
                |r| r.to(music::create_song),
            ),
        ],
    },
    Route {
        path: "/songs/{id}/",
        policy: SONG_DETAIL,
        operations: &[
            op(
                Method::GET,
                "get_song",
                "Show one song",
                None,
                Returns::One(SONG),
                |r| r.to(music::get_song),
            ),
            op(
                Method::PUT,
                "replace_song",
                "Replace a song: every field is required",
                Some(Accepts::of::<SongInput>()),
                Returns::One(SONG),
                |r| r.to(music::replace_song),
            ),
            op(
                Method::DELETE,
                "delete_song",
                "Delete a song",
                None,
                Returns::NoContent,
                |r| r.to(music::delete_song),
            ),
        ],
    },
    Route {
        path: "/healthz",
        policy: Policy::Open,
        operations: &[op(
            Method::GET,
            "healthz",
            "The process serves",
            None,
            Returns::Document,
            |r| r.to(health::healthz),
        )],
    },
    Route {
        path: "/readyz",
        policy: Policy::Open,
        operations: &[op(
            Method::GET,
            "readyz",
            "The database and the auth server answer",
            None,
            Returns::Document,
            |r| r.to(health::readyz),
        )],
    },
    Route {
        path: "/",
        policy: Policy::Open,
        operations: &[op(
            Method::GET,
            "api_root",
            "Links to the documentation, the OpenAPI document and the health checks (HTML for a \
             browser)",
            None,
            Returns::One(API_ROOT),
            |r| r.to(root::api_root),
        )],
    },
    Route {
        path: "/docs/",
        policy: Policy::Open,
        operations: &[op(
            Method::GET,
            "api_docs",
            "Interactive documentation (Swagger UI, an HTML page)",
            None,
            Returns::Document,
            |r| r.to(docs::docs_page),
        )],
    },
    Route {
        path: "/openapi.json",
        policy: Policy::Open,
        operations: &[op(
            Method::GET,
            "openapi_document",
            "This API's OpenAPI 3.0 document",
            None,
            Returns::Document,
            |r| r.to(openapi::openapi_document),
        )],
    },
];

/// Mounts every route of the table, each wrapped in its policy's enforcement.
pub fn mount(cfg: &mut web::ServiceConfig) {
    for route in ROUTES {
        cfg.service(crate::enforcement::resource(route));
    }
}

/// Methods a view might be asked for; those a route does not serve are listed when its policy
/// refuses them outright (403 rather than 405).
const COMMON_METHODS: [Method; 5] = [
    Method::GET,
    Method::POST,
    Method::PUT,
    Method::PATCH,
    Method::DELETE,
];

/// The table as `resource-server routes` prints it, one line per path and method, in the
/// manner of django-extensions' show_urls: path, method, handler, policy.
pub fn listing() -> String {
    let mut rows: Vec<[String; 4]> = Vec::new();
    for route in ROUTES {
        for op in route.operations {
            let mut policy = route.policy_for(&op.method).to_string();
            if let Some(codename) = op.model_permission.and_then(|p| p.codename(&op.method)) {
                policy.push_str(&format!(" + ModelPermission({codename})"));
            }
            rows.push([
                route.path.to_string(),
                op.method.to_string(),
                op.name.to_string(),
                policy,
            ]);
        }
        let refused: Vec<&str> = COMMON_METHODS
            .iter()
            .filter(|m| route.operation(m).is_none() && route.policy.requirements(m).is_none())
            .map(Method::as_str)
            .collect();
        if !refused.is_empty() {
            rows.push([
                route.path.to_string(),
                refused.join(","),
                "(refused: 403)".to_string(),
                route.policy.to_string(),
            ]);
        }
    }
    let widths: Vec<usize> = (0..3)
        .map(|i| rows.iter().map(|r| r[i].len()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for [path, method, name, policy] in &rows {
        out.push_str(&format!(
            "{path:<w0$}  {method:<w1$}  {name:<w2$}  {policy}\n",
            w0 = widths[0],
            w1 = widths[1],
            w2 = widths[2],
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn each_path_and_method_is_declared_once() {
        let mut seen = HashSet::new();
        for route in ROUTES {
            for op in route.operations {
                assert!(
                    seen.insert((route.path, op.method.clone())),
                    "{} {} twice",
                    op.method,
                    route.path
                );
            }
        }
    }

    #[test]
    fn every_served_method_is_allowed_by_some_scopes() {
        for route in ROUTES {
            for op in route.operations {
                assert!(
                    route
                        .policy_for(&op.method)
                        .requirements(&op.method)
                        .is_some(),
                    "{} {} can never pass its policy",
                    op.method,
                    route.path
                );
            }
        }
    }

    #[test]
    fn song_detail_refuses_patch_and_post_through_its_policy() {
        let route = ROUTES.iter().find(|r| r.path == "/songs/{id}/").unwrap();
        assert!(route.operation(&Method::PATCH).is_none());
        assert_eq!(
            route
                .policy_for(&Method::PATCH)
                .requirements(&Method::PATCH),
            None
        );
        assert_eq!(
            route.policy_for(&Method::POST).requirements(&Method::POST),
            None
        );
    }

    #[test]
    fn the_listing_shows_policies_and_model_permissions() {
        let listing = listing();
        assert!(
            listing.contains("IsAuthenticatedOrTokenHasScope(groups) + ModelPermission(add_group)")
        );
        assert!(listing.contains("ModelPermission(delete_user)"));
        assert!(listing.contains("POST,PATCH  (refused: 403)"));
        assert_eq!(
            listing.lines().count(),
            ROUTES.iter().map(|r| r.operations.len()).sum::<usize>() + 1
        );
    }
}
