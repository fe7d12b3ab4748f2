//! Builders for the rows tests start from: users and OAuth clients, with the defaults most tests
//! want, so that each test states only what matters to it.

use auth_store::applications;
use auth_store::models::NewApplication;
use oauth_core::secrets::{sha256_hex, PasswordHasher};
use store::models::{NewUser, User};
use store::{users, DbConnection};

/// The password every seeded user has unless a test sets another.
pub const PASSWORD: &str = "correct horse";

/// A user to create: `username@example.com`, [`PASSWORD`], active.
#[must_use]
pub struct UserSeed {
    row: NewUser,
    password: String,
}

pub fn user(username: &str) -> UserSeed {
    UserSeed {
        row: NewUser {
            username: username.into(),
            email: format!("{username}@example.com"),
            first_name: String::new(),
            last_name: String::new(),
            password_hash: String::new(),
            is_active: true,
            is_superuser: false,
            date_joined: 0,
        },
        password: PASSWORD.into(),
    }
}

impl UserSeed {
    pub fn email(mut self, email: &str) -> Self {
        self.row.email = email.into();
        self
    }

    pub fn password(mut self, password: &str) -> Self {
        self.password = password.into();
        self
    }

    pub fn inactive(mut self) -> Self {
        self.row.is_active = false;
        self
    }

    /// Stores the user, its password hashed at bcrypt's lowest cost.
    pub fn create(mut self, conn: &mut DbConnection) -> User {
        self.row.password_hash = PasswordHasher::new(4)
            .and_then(|h| h.hash(&self.password))
            .expect("hash the password");
        users::create(conn, &self.row).expect("create the user")
    }
}

/// A user row to store directly, for tests of the queries themselves: no real hash (nothing
/// logs in with it), so no bcrypt work.
pub fn user_row(username: &str, email: &str) -> NewUser {
    NewUser {
        username: username.into(),
        email: email.into(),
        first_name: String::new(),
        last_name: String::new(),
        password_hash: "$2b$04$notarealhashnotarealhashnotarealhashnotarealhashnot".into(),
        is_active: true,
        is_superuser: false,
        date_joined: 0,
    }
}

/// A client to create. Confidential clients get the secret `<client_id>-secret-0123…`.
#[must_use]
pub struct ClientSeed {
    row: NewApplication,
    secret: Option<String>,
}

/// A client's credentials, as a test presents them.
#[derive(Debug, Clone)]
pub struct SeededClient {
    pub id: String,
    pub secret: Option<String>,
}

pub fn confidential_client(client_id: &str) -> ClientSeed {
    client(client_id, "confidential")
        .secret(&format!("{client_id}-secret-0123456789abcdef0123456789"))
}

pub fn public_client(client_id: &str) -> ClientSeed {
    client(client_id, "public")
}

fn client(client_id: &str, client_type: &str) -> ClientSeed {
    ClientSeed {
        row: NewApplication {
            client_id: client_id.into(),
            client_secret_hash: None,
            name: client_id.into(),
            client_type: client_type.into(),
            grant_types: "password refresh_token".into(),
            allowed_scopes: "read write".into(),
            default_scopes: "read".into(),
            can_introspect: false,
            owner_id: 0,
            created_at: 0,
            redirect_uris: String::new(),
            post_logout_redirect_uris: String::new(),
            skip_consent: false,
        },
        secret: None,
    }
}

impl ClientSeed {
    pub fn secret(mut self, secret: &str) -> Self {
        self.row.client_secret_hash = Some(sha256_hex(secret));
        self.secret = Some(secret.into());
        self
    }

    /// Space-separated grant types.
    pub fn grants(mut self, grants: &str) -> Self {
        self.row.grant_types = grants.into();
        self
    }

    /// Space-separated allowed scopes.
    pub fn scopes(mut self, scopes: &str) -> Self {
        self.row.allowed_scopes = scopes.into();
        self
    }

    pub fn default_scopes(mut self, scopes: &str) -> Self {
        self.row.default_scopes = scopes.into();
        self
    }

    pub fn may_introspect(mut self) -> Self {
        self.row.can_introspect = true;
        self
    }

    /// Space-separated redirect URIs, for the authorization code grant.
    pub fn redirect_uris(mut self, uris: &str) -> Self {
        self.row.redirect_uris = uris.into();
        self
    }

    pub fn post_logout_redirect_uris(mut self, uris: &str) -> Self {
        self.row.post_logout_redirect_uris = uris.into();
        self
    }

    pub fn skip_consent(mut self) -> Self {
        self.row.skip_consent = true;
        self
    }

    pub fn owned_by(mut self, user_id: i32) -> Self {
        self.row.owner_id = user_id;
        self
    }

    pub fn create(self, conn: &mut DbConnection) -> SeededClient {
        applications::create(conn, &self.row).expect("create the client");
        SeededClient {
            id: self.row.client_id,
            secret: self.secret,
        }
    }
}
