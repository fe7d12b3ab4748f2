//! One operation of the document: its security from the route's policy, its parameters, its
//! request body and the answers it can give.

use actix_web::http::Method;
use utoipa::openapi::path::{
    Operation, OperationBuilder, Parameter, ParameterBuilder, ParameterIn,
};
use utoipa::openapi::request_body::{RequestBody, RequestBodyBuilder};
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::{
    Content, RefOr, Required, ResponseBuilder, Responses, ResponsesBuilder, Schema,
    SecurityRequirement,
};

use super::{Schemas, OAUTH2};
use crate::body::MAX_BODY_BYTES;
use crate::error::NOT_FOUND;
use crate::pagination::{PAGE, PAGE_SIZE};
use crate::policy::Policy;
use crate::route_table::{Operation as RouteOperation, Returns, Route, DETAIL};
use crate::schema::NO_NUL;

/// What the write handlers read (`crate::body`).
const BODY_MEDIA_TYPES: [&str; 2] = ["application/json", "application/x-www-form-urlencoded"];
const JSON: &str = "application/json";

/// One security requirement per alternative of the policy; none for an open route, so that its
/// `security` is `[]` and overrides nothing else.
pub fn security(policy: Policy, method: &Method) -> Vec<SecurityRequirement> {
    if policy == Policy::Open {
        return Vec::new();
    }
    policy
        .requirements(method)
        .unwrap_or_default()
        .into_iter()
        .map(|scopes| SecurityRequirement::new(OAUTH2, scopes))
        .collect()
}

pub(super) fn operation(route: &Route, op: &RouteOperation, schemas: &mut Schemas) -> Operation {
    let policy = route.policy_for(&op.method);
    let mut description = format!("Policy: {policy}.");
    let codename = op.model_permission.and_then(|p| p.codename(&op.method));
    if let Some(codename) = &codename {
        description.push_str(&format!(
            " The token's user must also hold the `{codename}` permission."
        ));
    }
    let parameters = parameters(route, op);
    OperationBuilder::new()
        .operation_id(Some(op.name))
        .summary(Some(op.summary))
        .description(Some(description))
        .securities(Some(security(policy, &op.method)))
        .parameters((!parameters.is_empty()).then_some(parameters))
        .request_body(request_body(op, schemas))
        .responses(responses(op, policy, codename.is_some(), schemas))
        .build()
}

fn parameters(route: &Route, op: &RouteOperation) -> Vec<Parameter> {
    let mut parameters = Vec::new();
    if route.path.contains("{id}") {
        parameters.push(
            ParameterBuilder::new()
                .name("id")
                .parameter_in(ParameterIn::Path)
                .required(Required::True)
                .schema(Some(ObjectBuilder::new().schema_type(Type::Integer)))
                .build(),
        );
    }
    if let Returns::Page(_, filters) = op.returns {
        for name in [PAGE, PAGE_SIZE] {
            parameters.push(
                ParameterBuilder::new()
                    .name(name)
                    .parameter_in(ParameterIn::Query)
                    .schema(Some(
                        ObjectBuilder::new()
                            .schema_type(Type::Integer)
                            .minimum(Some(1)),
                    ))
                    .build(),
            );
        }
        for name in filters {
            parameters.push(
                ParameterBuilder::new()
                    .name(*name)
                    .parameter_in(ParameterIn::Query)
                    .description(Some("exact match"))
                    .schema(Some(
                        ObjectBuilder::new()
                            .schema_type(Type::String)
                            .pattern(Some(NO_NUL)),
                    ))
                    .build(),
            );
        }
    }
    parameters
}

fn request_body(op: &RouteOperation, schemas: &mut Schemas) -> Option<RequestBody> {
    let accepts = op.accepts?;
    // An empty PATCH body changes nothing and is answered 200, as in DRF.
    let partial = op.method == Method::PATCH;
    let schema = schemas.reference(if partial {
        accepts.patched
    } else {
        accepts.full
    });
    let mut body = RequestBodyBuilder::new().required(Some(if partial {
        Required::False
    } else {
        Required::True
    }));
    for media_type in BODY_MEDIA_TYPES {
        body = body.content(media_type, Content::new(Some(schema.clone())));
    }
    Some(body.build())
}

fn json(description: &str, schema: impl Into<RefOr<Schema>>) -> ResponseBuilder {
    ResponseBuilder::new()
        .description(description)
        .content(JSON, Content::new(Some(schema)))
}

fn responses(
    op: &RouteOperation,
    policy: Policy,
    model_permission: bool,
    schemas: &mut Schemas,
) -> Responses {
    let detail = schemas.reference(DETAIL);
    let detail = |description: &str| json(description, detail.clone());
    let mut r = ResponsesBuilder::new();
    r = match op.returns {
        Returns::One(c) => r.response("200", json("OK", schemas.reference(c))),
        Returns::Created(c) => r.response("201", json("Created", schemas.reference(c))),
        Returns::Page(c, _) => r.response("200", json("One page of the list", schemas.inline(c))),
        Returns::NoContent => r.response("204", ResponseBuilder::new().description("Deleted")),
        Returns::Document => r.response("200", ResponseBuilder::new().description("OK")),
    };
    if let Returns::Page(_, filters) = op.returns {
        if !filters.is_empty() {
            r = r.response(
                "400",
                ResponseBuilder::new().description(
                    "A filter holds a NUL character: the filter maps to a list of messages",
                ),
            );
        }
    }
    if op.accepts.is_some() {
        r = r
            .response(
                "400",
                ResponseBuilder::new()
                    .description("Field errors: each field maps to a list of messages"),
            )
            .response(
                "413",
                detail(&format!(
                    "The body is larger than {} KiB",
                    MAX_BODY_BYTES / 1024
                )),
            )
            .response("415", detail("Neither JSON nor form-encoded"));
    }
    if policy != Policy::Open {
        let forbidden = if model_permission {
            "The token lacks the scopes (WWW-Authenticate names them), or its user lacks the model permission"
        } else {
            "The token lacks the scopes (WWW-Authenticate names them)"
        };
        r = r
            .response(
                "401",
                detail("No bearer token, or one that is invalid, expired or revoked"),
            )
            .response("403", detail(forbidden))
            .response(
                "503",
                detail("The auth server cannot be asked about the token"),
            );
    }
    if matches!(op.returns, Returns::Page(..)) {
        r = r.response("404", detail("Invalid page."));
    } else if !matches!(op.returns, Returns::Document | Returns::Created(_)) {
        r = r.response("404", detail(NOT_FOUND));
    }
    r.build()
}
