//! The resource server over real HTTP, with a real auth server (or a stand-in for failure
//! modes) and a real database, on SQLite and on PostgreSQL.

mod albums;
mod authentication;
mod bodies;
mod cli;
mod docs;
mod docs_in_chromium;
mod faults;
mod groups;
mod health;
mod helpers;
mod hostile;
mod introspection;
mod observability;
mod openapi;
mod pagination;
mod sessions;
mod songs;
mod users;
