//! The OpenAPI 3.0 document, generated from the route table: each operation's `security` lists
//! one requirement per alternative its policy accepts, so the document states exactly what the
//! server enforces.

use crate::policy::Policy;
use actix_web::{web, HttpResponse};
use oauth_core::scopes::DEFAULT_SCOPES;
use serde_json::{json, Map, Value};

use crate::configuration::IntrospectionSettings;
use crate::route_table::{Operation, Returns, Route, ROUTES};

/// Built once at start; served as is.
#[derive(Debug, Clone)]
pub struct OpenApiDocument(pub Value);

impl OpenApiDocument {
    pub fn new(settings: &IntrospectionSettings) -> Self {
        Self(document(&format!(
            "{}/o/token/",
            settings.auth_server_origin()
        )))
    }
}

pub async fn openapi_document(doc: web::Data<OpenApiDocument>) -> HttpResponse {
    HttpResponse::Ok().json(&doc.0)
}

/// The whole document, with `token_url` as both flows' token endpoint.
pub fn document(token_url: &str) -> Value {
    let mut paths = Map::new();
    for route in ROUTES {
        let mut item = Map::new();
        for op in route.operations {
            item.insert(
                op.method.as_str().to_ascii_lowercase(),
                operation(route, op),
            );
        }
        paths.insert(route.path.to_string(), Value::Object(item));
    }
    let scopes: Map<String, Value> = DEFAULT_SCOPES
        .iter()
        .map(|(name, description)| (name.to_string(), json!(description)))
        .collect();
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": "Resource server",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Users, groups, albums and songs, guarded by OAuth 2.0 scopes. \
                            Send `Authorization: Bearer <token>`.",
        },
        "paths": paths,
        "components": {
            "securitySchemes": {
                "oauth2": {
                    "type": "oauth2",
                    "flows": {
                        "password": {"tokenUrl": token_url, "scopes": scopes},
                        "clientCredentials": {"tokenUrl": token_url, "scopes": scopes},
                    },
                },
            },
            "schemas": schemas(),
        },
    })
}

/// One security requirement object per alternative of the policy; none for an open route.
pub fn security(policy: Policy, method: &actix_web::http::Method) -> Value {
    if policy == Policy::Open {
        return json!([]);
    }
    let alternatives = policy.requirements(method).unwrap_or_default();
    Value::Array(
        alternatives
            .into_iter()
            .map(|scopes| json!({ "oauth2": scopes }))
            .collect(),
    )
}

fn operation(route: &Route, op: &Operation) -> Value {
    let policy = route.policy_for(&op.method);
    let mut description = format!("Policy: {policy}.");
    let codename = op.model_permission.and_then(|p| p.codename(&op.method));
    if let Some(codename) = &codename {
        description.push_str(&format!(
            " The token's user must also hold the `{codename}` permission."
        ));
    }
    let mut out = json!({
        "operationId": op.name,
        "summary": op.summary,
        "description": description,
        "security": security(policy, &op.method),
        "responses": responses(op, policy, codename.is_some()),
    });
    let mut parameters = Vec::new();
    if route.path.contains("{id}") {
        parameters.push(json!({
            "name": "id", "in": "path", "required": true, "schema": {"type": "integer"}
        }));
    }
    if let Returns::Page(_, filters) = op.returns {
        for name in ["page", "page_size"] {
            parameters.push(
                json!({"name": name, "in": "query", "schema": {"type": "integer", "minimum": 1}}),
            );
        }
        for name in filters {
            parameters.push(
                json!({"name": name, "in": "query", "description": "exact match",
                "schema": {"type": "string", "pattern": "^[^\\u0000]*$"}}),
            );
        }
    }
    if !parameters.is_empty() {
        out["parameters"] = Value::Array(parameters);
    }
    if let Some(schema) = op.accepts {
        let schema = if op.method == actix_web::http::Method::PATCH {
            format!("Patched{schema}")
        } else {
            schema.to_string()
        };
        let reference = json!({"$ref": format!("#/components/schemas/{schema}")});
        // An empty PATCH body changes nothing and is answered 200, as in DRF.
        let required = op.method != actix_web::http::Method::PATCH;
        out["requestBody"] = json!({
            "required": required,
            "content": {
                "application/json": {"schema": reference},
                "application/x-www-form-urlencoded": {"schema": reference},
            },
        });
    }
    out
}

fn schema_ref(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

fn detail(description: &str) -> Value {
    json!({
        "description": description,
        "content": {"application/json": {"schema": schema_ref("Detail")}},
    })
}

fn responses(op: &Operation, policy: Policy, model_permission: bool) -> Value {
    let mut r = Map::new();
    let ok = |description: &str, schema: Value| json!({"description": description, "content": {"application/json": {"schema": schema}}});
    match op.returns {
        Returns::One(s) => r.insert("200".into(), ok("OK", schema_ref(s))),
        Returns::Created(s) => r.insert("201".into(), ok("Created", schema_ref(s))),
        Returns::Page(s, _) => r.insert(
            "200".into(),
            ok(
                "One page of the list",
                json!({
                    "type": "object",
                    "properties": {
                        "count": {"type": "integer"},
                        "next": {"type": "string", "format": "uri", "nullable": true},
                        "previous": {"type": "string", "format": "uri", "nullable": true},
                        "results": {"type": "array", "items": schema_ref(s)},
                    },
                }),
            ),
        ),
        Returns::NoContent => r.insert("204".into(), json!({"description": "Deleted"})),
        Returns::Document => r.insert("200".into(), json!({"description": "OK"})),
    };
    if let Returns::Page(_, filters) = op.returns {
        if !filters.is_empty() {
            r.insert(
                "400".into(),
                json!({"description": "A filter holds a NUL character: the filter maps to a list of messages"}),
            );
        }
    }
    if op.accepts.is_some() {
        r.insert(
            "400".into(),
            json!({"description": "Field errors: each field maps to a list of messages"}),
        );
        r.insert("413".into(), detail("The body is larger than 64 KiB"));
        r.insert("415".into(), detail("Neither JSON nor form-encoded"));
    }
    if policy != Policy::Open {
        r.insert(
            "401".into(),
            detail("No bearer token, or one that is invalid, expired or revoked"),
        );
        let forbidden = if model_permission {
            "The token lacks the scopes (WWW-Authenticate names them), or its user lacks the model permission"
        } else {
            "The token lacks the scopes (WWW-Authenticate names them)"
        };
        r.insert("403".into(), detail(forbidden));
        r.insert(
            "503".into(),
            detail("The auth server cannot be asked about the token"),
        );
    }
    if matches!(op.returns, Returns::Page(..)) {
        r.insert("404".into(), detail("Invalid page."));
    } else if !matches!(op.returns, Returns::Document | Returns::Created(_)) {
        r.insert("404".into(), detail("Not found."));
    }
    Value::Object(r)
}

fn schemas() -> Value {
    // Text never holds NUL ("Null characters are not allowed."); surrounding whitespace is
    // trimmed, so a required text needs one character that is not whitespace, as in DRF.
    let string = |max: u32| json!({"type": "string", "maxLength": max, "pattern": "^[^\\u0000]*$"});
    let nonblank = |max: u32| {
        json!({"type": "string", "minLength": 1, "maxLength": max,
            "pattern": "^[^\\u0000]*\\S[^\\u0000]*$"})
    };
    // An e-mail address may be left blank, as Django's User.email (blank=True).
    let email = json!({
        "type": "string",
        "maxLength": 254,
        "anyOf": [{"format": "email"}, {"maxLength": 0}],
    });
    let mut schemas = json!({
        "Detail": {
            "type": "object",
            "properties": {"detail": {"type": "string"}},
            "required": ["detail"],
        },
        "User": {
            "type": "object",
            "properties": {
                "id": {"type": "integer", "readOnly": true},
                "username": string(150),
                "email": email.clone(),
                "first_name": string(150),
                "last_name": string(150),
            },
        },
        "UserCreate": {
            "type": "object",
            "properties": {
                "username": {"type": "string", "minLength": 1, "maxLength": 150, "pattern": "^[\\w.@+-]+$"},
                "password": {"type": "string", "minLength": 1, "maxLength": 128, "writeOnly": true,
                    "pattern": "^[^\\u0000]+$"},
                "email": email.clone(),
                "first_name": string(150),
                "last_name": string(150),
            },
            "required": ["username", "password"],
        },
        "Group": {
            "type": "object",
            "properties": {"id": {"type": "integer", "readOnly": true}, "name": string(150)},
        },
        "GroupCreate": {
            "type": "object",
            "properties": {"name": nonblank(150)},
            "required": ["name"],
        },
        "Album": {
            "type": "object",
            "properties": {
                "id": {"type": "integer", "readOnly": true},
                "artist": {"type": "integer", "description": "a user's id"},
                "name": nonblank(100),
                "release_date": {"type": "string", "format": "date"},
                "num_stars": {"type": "integer", "minimum": 0, "maximum": 5},
            },
        },
        "Song": {
            "type": "object",
            "properties": {
                "id": {"type": "integer", "readOnly": true},
                "album": {"type": "integer", "description": "an album's id"},
                "title": nonblank(100),
                "duration_seconds": {"type": "integer", "minimum": 0, "maximum": i32::MAX},
            },
        },
    });
    let input = |name: &str, required: &[&str]| {
        let mut s = schemas[name].clone();
        if let Some(props) = s["properties"].as_object_mut() {
            props.remove("id");
        }
        s["required"] = json!(required);
        s
    };
    let album_input = input("Album", &["artist", "name", "release_date", "num_stars"]);
    let song_input = input("Song", &["album", "title", "duration_seconds"]);
    schemas["AlbumInput"] = album_input;
    schemas["SongInput"] = song_input;
    // What a PATCH takes: the same fields, none of them required.
    for name in ["UserCreate", "AlbumInput", "SongInput"] {
        let mut patched = schemas[name].clone();
        if let Some(obj) = patched.as_object_mut() {
            obj.remove("required");
        }
        let patched_name = if name == "UserCreate" {
            "PatchedUserUpdate".to_string()
        } else {
            format!("Patched{name}")
        };
        schemas[patched_name] = patched;
    }
    schemas
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_operation_of_the_table_is_documented_with_its_security() {
        let doc = document("http://auth.example/o/token/");
        for route in ROUTES {
            for op in route.operations {
                let operation = &doc["paths"][route.path][op.method.as_str().to_ascii_lowercase()];
                assert_eq!(operation["operationId"], op.name);
                assert!(operation["security"].is_array(), "{}", op.name);
            }
        }
    }

    #[test]
    fn alternatives_become_separate_requirements() {
        let doc = document("http://auth.example/o/token/");
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
    fn a_blank_email_and_an_empty_patch_body_are_documented_as_valid() {
        let doc = document("http://auth.example/o/token/");
        for schema in ["User", "UserCreate"] {
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
        assert!(doc["paths"]["/users/"]["get"]["responses"]["400"].is_object());
        assert!(doc["paths"]["/albums/"]["get"]["responses"]["400"].is_null());
    }

    #[test]
    fn every_referenced_schema_exists() {
        let doc = document("http://auth.example/o/token/");
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
