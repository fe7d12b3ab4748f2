//! The resource server: users, groups, albums and songs behind django-oauth-toolkit's scope
//! policies, with bearer tokens checked by introspection at the auth server.

pub mod body;
pub mod configuration;
pub mod database;
pub mod docs;
pub mod enforcement;
pub mod error;
pub mod fields;
pub mod introspection;
pub mod metrics;
pub mod name_lookup;
pub mod openapi;
pub mod pagination;
pub mod policy;
pub mod principal;
pub mod route_table;
pub mod routes;
pub mod schema;
pub mod startup;
