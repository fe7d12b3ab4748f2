//! The OpenAPI document, generated with utoipa from the route table: each operation's `security`
//! lists one requirement per alternative its policy accepts, so the document states exactly what
//! the server enforces, and each schema is that of the type which parses or renders the body.

mod operation;

use std::collections::BTreeMap;

use actix_web::http::header::ContentType;
use actix_web::http::Method;
use actix_web::{web, HttpResponse};
use oauth_core::scopes::DEFAULT_SCOPES;
use utoipa::openapi::security::{
    AuthorizationCode, ClientCredentials, Flow, OAuth2, Password, Scopes, SecurityScheme,
};
use utoipa::openapi::{
    ComponentsBuilder, HttpMethod, InfoBuilder, OpenApi, OpenApiBuilder, PathItem, PathsBuilder,
    Ref, RefOr, Schema,
};

use crate::configuration::DocsSettings;
use crate::route_table::ROUTES;
use crate::schema::Component;

pub use operation::security;

/// The name of the security scheme every operation's requirements refer to.
pub const OAUTH2: &str = "oauth2";

/// Built once at start; served as is.
#[derive(Debug, Clone)]
pub struct OpenApiDocument(web::Bytes);

impl OpenApiDocument {
    pub fn new(settings: &DocsSettings) -> Result<Self, serde_json::Error> {
        let document = document(&AuthEndpoints {
            authorization_url: settings.authorization_url(),
            token_url: settings.token_url(),
        });
        Ok(Self(serde_json::to_vec(&document)?.into()))
    }
}

/// The auth server's endpoints as a client of the API reaches them.
#[derive(Debug, Clone)]
pub struct AuthEndpoints {
    pub authorization_url: String,
    pub token_url: String,
}

pub async fn openapi_document(doc: web::Data<OpenApiDocument>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(ContentType::json())
        .body(doc.0.clone())
}

/// The whole document. Its `oauth2` scheme lists every flow the auth server offers a client of
/// this API: the authorization code (with PKCE: what the docs page signs in with), the password
/// grant and client credentials.
pub fn document(auth: &AuthEndpoints) -> OpenApi {
    let mut schemas = Schemas::default();
    let mut paths = PathsBuilder::new();
    for route in ROUTES {
        let mut item = PathItem::default();
        for op in route.operations {
            let Some(method) = http_method(&op.method) else {
                continue;
            };
            item.merge_operations(PathItem::new(
                method,
                operation::operation(route, op, &mut schemas),
            ));
        }
        paths = paths.path(route.path, item);
    }
    let scopes = || Scopes::from_iter(DEFAULT_SCOPES.iter().copied());
    let token_url = auth.token_url.as_str();
    let oauth2 = OAuth2::with_description(
        [
            Flow::AuthorizationCode(AuthorizationCode::new(
                auth.authorization_url.as_str(),
                token_url,
                scopes(),
            )),
            Flow::Password(Password::new(token_url, scopes())),
            Flow::ClientCredentials(ClientCredentials::new(token_url, scopes())),
        ],
        "The auth server's tokens. The authorization code flow requires PKCE (S256).",
    );
    OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("Resource server")
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some(
                    "Users, groups, albums and songs, guarded by OAuth 2.0 scopes. \
                     Send `Authorization: Bearer <token>`.",
                )),
        )
        .paths(paths)
        .components(Some(
            ComponentsBuilder::new()
                .schemas_from_iter(schemas.0)
                .security_scheme(OAUTH2, SecurityScheme::OAuth2(oauth2))
                .build(),
        ))
        .build()
}

/// The route table's methods are all ones OpenAPI names; any other has no place in a path item.
fn http_method(method: &Method) -> Option<HttpMethod> {
    Some(match *method {
        Method::GET => HttpMethod::Get,
        Method::POST => HttpMethod::Post,
        Method::PUT => HttpMethod::Put,
        Method::PATCH => HttpMethod::Patch,
        Method::DELETE => HttpMethod::Delete,
        Method::HEAD => HttpMethod::Head,
        Method::OPTIONS => HttpMethod::Options,
        Method::TRACE => HttpMethod::Trace,
        _ => return None,
    })
}

/// The schemas the operations refer to, each defined once under components.
#[derive(Default)]
struct Schemas(BTreeMap<String, RefOr<Schema>>);

impl Schemas {
    /// Defines `component` and the schemas it refers to; answers a reference to it.
    fn reference(&mut self, component: Component) -> Ref {
        let name = (component.name)().into_owned();
        self.0.entry(name.clone()).or_insert_with(component.schema);
        self.define_dependencies(component);
        Ref::from_schema_name(name)
    }

    /// The schema itself, to be written in place, with the schemas it refers to defined.
    fn inline(&mut self, component: Component) -> RefOr<Schema> {
        self.define_dependencies(component);
        (component.schema)()
    }

    fn define_dependencies(&mut self, component: Component) {
        let mut found = Vec::new();
        (component.dependencies)(&mut found);
        for (name, schema) in found {
            self.0.entry(name).or_insert(schema);
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use super::*;

    fn doc() -> Value {
        serde_json::to_value(document(&AuthEndpoints {
            authorization_url: "http://auth.example/o/authorize/".into(),
            token_url: "http://auth.example/o/token/".into(),
        }))
        .unwrap()
    }

    #[test]
    fn every_operation_of_the_table_is_documented_with_its_policys_scopes() {
        let doc = doc();
        let mut documented = 0;
        for route in ROUTES {
            for op in route.operations {
                let method = op.method.as_str().to_ascii_lowercase();
                let operation = &doc["paths"][route.path][&method];
                assert_eq!(operation["operationId"], op.name, "{method} {}", route.path);
                let policy = route.policy_for(&op.method);
                let expected: Vec<Value> = policy
                    .requirements(&op.method)
                    .unwrap_or_default()
                    .into_iter()
                    .map(|scopes| json!({ OAUTH2: scopes }))
                    .collect();
                assert_eq!(
                    operation["security"],
                    Value::Array(expected),
                    "{method} {}",
                    route.path
                );
                documented += 1;
            }
        }
        let in_document: usize = doc["paths"]
            .as_object()
            .unwrap()
            .values()
            .map(|item| item.as_object().unwrap().len())
            .sum();
        assert_eq!(
            in_document, documented,
            "the document has operations the table lacks"
        );
        assert_eq!(
            doc["paths"].as_object().unwrap().len(),
            ROUTES.len(),
            "one path item per route"
        );
    }

    #[test]
    fn alternatives_become_separate_requirements() {
        let doc = doc();
        assert_eq!(
            doc["paths"]["/songs/{id}/"]["delete"]["security"],
            json!([{"oauth2": ["delete"]}, {"oauth2": ["music:write", "write"]}])
        );
        assert_eq!(
            doc["paths"]["/albums/"]["post"]["security"],
            json!([{"oauth2": ["write", "albums"]}])
        );
        assert_eq!(doc["paths"]["/healthz"]["get"]["security"], json!([]));
    }

    #[test]
    fn every_flow_takes_the_auth_servers_token_url_and_every_scope() {
        let doc = doc();
        let oauth2 = &doc["components"]["securitySchemes"]["oauth2"];
        assert_eq!(oauth2["type"], "oauth2");
        assert_eq!(
            oauth2["flows"]["authorizationCode"]["authorizationUrl"],
            "http://auth.example/o/authorize/"
        );
        for flow in ["authorizationCode", "password", "clientCredentials"] {
            assert_eq!(
                oauth2["flows"][flow]["tokenUrl"],
                "http://auth.example/o/token/"
            );
            for (scope, description) in DEFAULT_SCOPES {
                assert_eq!(oauth2["flows"][flow]["scopes"][scope], *description);
            }
            assert_eq!(
                oauth2["flows"][flow]["scopes"].as_object().unwrap().len(),
                DEFAULT_SCOPES.len()
            );
        }
    }

    /// A scope an operation requires but the scheme does not declare could never be asked for.
    #[test]
    fn every_scope_an_operation_requires_is_declared() {
        let doc = doc();
        let declared =
            &doc["components"]["securitySchemes"]["oauth2"]["flows"]["authorizationCode"]["scopes"];
        for route in ROUTES {
            for op in route.operations {
                let alternatives = route
                    .policy_for(&op.method)
                    .requirements(&op.method)
                    .unwrap_or_default();
                for scope in alternatives.iter().flatten() {
                    assert!(
                        declared[scope].is_string(),
                        "{} {} requires {scope}, which the scheme does not declare",
                        op.method,
                        route.path
                    );
                }
            }
        }
    }

    #[test]
    fn a_blank_email_and_an_empty_patch_body_are_documented_as_valid() {
        let doc = doc();
        for schema in ["User", "UserCreate", "PatchedUserUpdate"] {
            let email = &doc["components"]["schemas"][schema]["properties"]["email"];
            assert_eq!(email["anyOf"][1], json!({"maxLength": 0}), "{schema}");
        }
        assert_eq!(
            doc["paths"]["/albums/{id}/"]["patch"]["requestBody"]["required"],
            false
        );
        assert_eq!(
            doc["paths"]["/albums/{id}/"]["put"]["requestBody"]["required"],
            true
        );
        assert!(doc["components"]["schemas"]["PatchedAlbumInput"]["required"].is_null());
        assert_eq!(
            doc["components"]["schemas"]["AlbumInput"]["required"],
            json!(["artist", "name", "release_date", "num_stars"])
        );
        assert!(doc["paths"]["/users/"]["get"]["responses"]["400"].is_object());
        assert!(doc["paths"]["/albums/"]["get"]["responses"]["400"].is_null());
    }

    #[test]
    fn the_schemas_are_those_of_today_by_name() {
        let doc = doc();
        let mut names: Vec<&str> = doc["components"]["schemas"]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        names.sort_unstable();
        assert_eq!(
            names,
            [
                "Album",
                "AlbumInput",
                "ApiRoot",
                "Detail",
                "Group",
                "GroupCreate",
                "PatchedAlbumInput",
                "PatchedUserUpdate",
                "Song",
                "SongInput",
                "User",
                "UserCreate",
            ]
        );
    }

    #[test]
    fn every_referenced_schema_exists() {
        let doc = doc();
        let text = doc.to_string();
        for piece in text.split("#/components/schemas/").skip(1) {
            let name: String = piece.chars().take_while(|c| *c != '"').collect();
            assert!(
                doc["components"]["schemas"].get(&name).is_some(),
                "{name} is referenced but not defined"
            );
        }
    }
}
