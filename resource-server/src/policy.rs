//! The five scope policies of django-oauth-toolkit, and Django-style model permissions.
//!
//! A policy only decides; the resource server turns a decision into the contract's 401 or 403.

use std::fmt;

use actix_web::http::Method;

use oauth_core::scopes::ScopeSet;

/// Per method, the alternatives a token may satisfy: each alternative is a list of scopes.
pub type OasRequirements = &'static [(&'static str, &'static [&'static [&'static str]])];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    /// No authentication at all (health checks, the OpenAPI document).
    Open,
    /// The token holds every listed scope.
    TokenHasScope(&'static [&'static str]),
    /// `read` for safe methods, `write` for others, plus every listed scope.
    TokenHasReadWriteScope(&'static [&'static str]),
    /// `<resource>:read` for safe methods, `<resource>:write` for others.
    TokenHasResourceScope(&'static str),
    /// A caller authenticated some other way passes; a token must hold every listed scope.
    IsAuthenticatedOrTokenHasScope(&'static [&'static str]),
    /// The token holds every scope of at least one alternative for the method; a method absent
    /// from the map is refused.
    TokenMatchesOasRequirements(OasRequirements),
}

/// Who is asking, as the authenticators saw it.
#[derive(Debug, Clone, Copy)]
pub enum Caller<'a> {
    Anonymous,
    /// A bearer token, with the scopes introspection reported.
    Token(&'a ScopeSet),
    /// Authenticated by something other than OAuth (a session, in Django).
    Other,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Allow,
    /// 401: no credentials.
    NotAuthenticated,
    /// 403 with `error="insufficient_scope"`: the scopes one would need, space-delimited.
    InsufficientScope(String),
    /// 403 without a scope hint: nothing this caller could hold would do.
    Refused,
}

pub fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

fn owned(scopes: &[&str]) -> Vec<String> {
    scopes.iter().map(|s| s.to_string()).collect()
}

impl Policy {
    /// The alternatives of scopes that satisfy this policy for `method`; an empty list means no
    /// scope is needed, and `None` that the method is refused whatever the token holds.
    pub fn requirements(&self, method: &Method) -> Option<Vec<Vec<String>>> {
        let rw = if is_safe(method) { "read" } else { "write" };
        match self {
            Self::Open => Some(vec![]),
            Self::TokenHasScope(required) | Self::IsAuthenticatedOrTokenHasScope(required) => {
                Some(vec![owned(required)])
            }
            Self::TokenHasReadWriteScope(extra) => {
                let mut all = vec![rw.to_string()];
                all.extend(owned(extra));
                Some(vec![all])
            }
            Self::TokenHasResourceScope(resource) => {
                let suffix = if is_safe(method) { "read" } else { "write" };
                Some(vec![vec![format!("{resource}:{suffix}")]])
            }
            Self::TokenMatchesOasRequirements(map) => map
                .iter()
                .find(|(m, _)| m.eq_ignore_ascii_case(method.as_str()))
                .map(|(_, alternatives)| alternatives.iter().map(|alt| owned(alt)).collect()),
        }
    }

    pub fn check(&self, method: &Method, caller: Caller<'_>) -> Decision {
        if *self == Self::Open {
            return Decision::Allow;
        }
        let scopes = match caller {
            Caller::Anonymous => return Decision::NotAuthenticated,
            Caller::Other if matches!(self, Self::IsAuthenticatedOrTokenHasScope(_)) => {
                return Decision::Allow
            }
            // The token policies need a token: django-oauth-toolkit refuses anything else.
            Caller::Other => return Decision::Refused,
            Caller::Token(scopes) => scopes,
        };
        let Some(alternatives) = self.requirements(method) else {
            return Decision::Refused;
        };
        if alternatives.iter().any(|alt| scopes.contains_all(alt)) {
            return Decision::Allow;
        }
        let hint = alternatives
            .first()
            .map(|alt| alt.join(" "))
            .unwrap_or_default();
        Decision::InsufficientScope(hint)
    }

    pub fn needs_authentication(&self) -> bool {
        *self != Self::Open
    }
}

impl fmt::Display for Policy {
    /// As the routes listing shows it, e.g. `TokenHasReadWriteScope(albums)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Open => write!(f, "AllowAny"),
            Self::TokenHasScope(s) => write!(f, "TokenHasScope({})", s.join(" ")),
            Self::TokenHasReadWriteScope(s) => write!(f, "TokenHasReadWriteScope({})", s.join(" ")),
            Self::TokenHasResourceScope(r) => write!(f, "TokenHasResourceScope({r})"),
            Self::IsAuthenticatedOrTokenHasScope(s) => {
                write!(f, "IsAuthenticatedOrTokenHasScope({})", s.join(" "))
            }
            Self::TokenMatchesOasRequirements(map) => {
                write!(f, "TokenMatchesOASRequirements(")?;
                for (i, (method, alts)) in map.iter().enumerate() {
                    if i > 0 {
                        write!(f, "; ")?;
                    }
                    let alts: Vec<String> =
                        alts.iter().map(|a| format!("[{}]", a.join(", "))).collect();
                    write!(f, "{method}: {}", alts.join(" | "))?;
                }
                write!(f, ")")
            }
        }
    }
}

/// Django's DjangoModelPermissions: the permission codename a method needs on `model`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ModelPermission(pub &'static str);

impl ModelPermission {
    pub fn codename(&self, method: &Method) -> Option<String> {
        let action = match *method {
            Method::POST => "add",
            Method::PUT | Method::PATCH => "change",
            Method::DELETE => "delete",
            _ => return None,
        };
        Some(format!("{action}_{}", self.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(s: &str) -> ScopeSet {
        ScopeSet::parse(s).unwrap()
    }

    const SONG_DETAIL: Policy = Policy::TokenMatchesOasRequirements(&[
        ("GET", &[&["read"], &["music:read"]]),
        ("PUT", &[&["update"], &["music:write"]]),
        ("DELETE", &[&["delete"], &["music:write", "write"]]),
    ]);

    #[test]
    fn token_has_scope_needs_every_scope() {
        let p = Policy::TokenHasScope(&["groups", "read"]);
        assert_eq!(
            p.check(&Method::GET, Caller::Token(&token("groups read"))),
            Decision::Allow
        );
        assert_eq!(
            p.check(&Method::GET, Caller::Token(&token("groups"))),
            Decision::InsufficientScope("groups read".into())
        );
        assert_eq!(
            p.check(&Method::POST, Caller::Token(&token("groups read write"))),
            Decision::Allow
        );
    }

    #[test]
    fn no_credentials_is_not_authenticated_for_every_token_policy() {
        for p in [
            Policy::TokenHasScope(&["a"]),
            Policy::TokenHasReadWriteScope(&[]),
            Policy::TokenHasResourceScope("music"),
            Policy::IsAuthenticatedOrTokenHasScope(&["a"]),
            SONG_DETAIL,
        ] {
            assert_eq!(
                p.check(&Method::GET, Caller::Anonymous),
                Decision::NotAuthenticated,
                "{p}"
            );
        }
        assert_eq!(
            Policy::Open.check(&Method::GET, Caller::Anonymous),
            Decision::Allow
        );
    }

    #[test]
    fn read_write_scope_splits_safe_from_unsafe_methods() {
        let p = Policy::TokenHasReadWriteScope(&[]);
        let read = token("read");
        for m in [Method::GET, Method::HEAD, Method::OPTIONS] {
            assert_eq!(p.check(&m, Caller::Token(&read)), Decision::Allow);
        }
        for m in [Method::POST, Method::PUT, Method::PATCH, Method::DELETE] {
            assert_eq!(
                p.check(&m, Caller::Token(&read)),
                Decision::InsufficientScope("write".into())
            );
        }
        assert_eq!(
            p.check(&Method::POST, Caller::Token(&token("write"))),
            Decision::Allow
        );
        assert_eq!(
            p.check(&Method::GET, Caller::Token(&token("write"))),
            Decision::InsufficientScope("read".into())
        );
    }

    #[test]
    fn read_write_scope_also_needs_the_extra_scopes() {
        let p = Policy::TokenHasReadWriteScope(&["albums"]);
        assert_eq!(
            p.check(&Method::POST, Caller::Token(&token("read write"))),
            Decision::InsufficientScope("write albums".into())
        );
        assert_eq!(
            p.check(&Method::POST, Caller::Token(&token("write albums"))),
            Decision::Allow
        );
        assert_eq!(
            p.check(&Method::GET, Caller::Token(&token("read albums extra"))),
            Decision::Allow
        );
    }

    #[test]
    fn resource_scope_maps_methods_to_resource_read_or_write() {
        let p = Policy::TokenHasResourceScope("music");
        assert_eq!(
            p.check(&Method::GET, Caller::Token(&token("music:read"))),
            Decision::Allow
        );
        assert_eq!(
            p.check(&Method::POST, Caller::Token(&token("music:read"))),
            Decision::InsufficientScope("music:write".into())
        );
        assert_eq!(
            p.check(&Method::POST, Caller::Token(&token("music:write"))),
            Decision::Allow
        );
        assert_eq!(
            p.check(&Method::GET, Caller::Token(&token("read write"))),
            Decision::InsufficientScope("music:read".into())
        );
    }

    #[test]
    fn another_authenticator_passes_only_is_authenticated_or_token_has_scope() {
        let p = Policy::IsAuthenticatedOrTokenHasScope(&["groups"]);
        assert_eq!(p.check(&Method::POST, Caller::Other), Decision::Allow);
        assert_eq!(
            p.check(&Method::POST, Caller::Token(&token("groups"))),
            Decision::Allow
        );
        assert_eq!(
            p.check(&Method::POST, Caller::Token(&token("read"))),
            Decision::InsufficientScope("groups".into())
        );
        assert_eq!(
            Policy::TokenHasScope(&["groups"]).check(&Method::GET, Caller::Other),
            Decision::Refused
        );
    }

    #[test]
    fn oas_requirements_accept_any_one_alternative() {
        assert_eq!(
            SONG_DETAIL.check(&Method::GET, Caller::Token(&token("read"))),
            Decision::Allow
        );
        assert_eq!(
            SONG_DETAIL.check(&Method::GET, Caller::Token(&token("music:read"))),
            Decision::Allow
        );
        assert_eq!(
            SONG_DETAIL.check(&Method::PUT, Caller::Token(&token("update"))),
            Decision::Allow
        );
        assert_eq!(
            SONG_DETAIL.check(&Method::DELETE, Caller::Token(&token("music:write write"))),
            Decision::Allow
        );
        // Half of an alternative is not enough.
        assert_eq!(
            SONG_DETAIL.check(&Method::DELETE, Caller::Token(&token("music:write"))),
            Decision::InsufficientScope("delete".into())
        );
    }

    #[test]
    fn oas_requirements_refuse_a_method_absent_from_the_map() {
        let everything = token("read write update delete music:read music:write");
        assert_eq!(
            SONG_DETAIL.check(&Method::PATCH, Caller::Token(&everything)),
            Decision::Refused
        );
        assert_eq!(
            SONG_DETAIL.check(&Method::POST, Caller::Token(&everything)),
            Decision::Refused
        );
        assert_eq!(SONG_DETAIL.requirements(&Method::PATCH), None);
    }

    #[test]
    fn model_permissions_follow_django() {
        let p = ModelPermission("album");
        assert_eq!(p.codename(&Method::POST).as_deref(), Some("add_album"));
        assert_eq!(p.codename(&Method::PUT).as_deref(), Some("change_album"));
        assert_eq!(p.codename(&Method::PATCH).as_deref(), Some("change_album"));
        assert_eq!(p.codename(&Method::DELETE).as_deref(), Some("delete_album"));
        assert_eq!(p.codename(&Method::GET), None);
    }

    #[test]
    fn policies_describe_themselves_for_the_routes_listing() {
        assert_eq!(
            Policy::TokenHasReadWriteScope(&["albums"]).to_string(),
            "TokenHasReadWriteScope(albums)"
        );
        assert!(SONG_DETAIL
            .to_string()
            .contains("DELETE: [delete] | [music:write, write]"));
    }
}
