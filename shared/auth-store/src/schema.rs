//! The auth server's own tables: clients, tokens, login failures and signing keys. Only the auth
//! server depends on this crate, so no other service can name these tables.

// The columns of `users` the token queries read (introspection's username, an owner's active
// flag). The store crate declares the whole table; a second, narrower declaration here is what
// lets these tables join it, since diesel's join impls must live in the crate of one of the
// tables. Both name the same table of the one schema.
diesel::table! {
    users (id) {
        id -> Integer,
        username -> Text,
        is_active -> Bool,
        credentials_version -> Integer,
    }
}

diesel::table! {
    applications (id) {
        id -> Integer,
        client_id -> Text,
        client_secret_hash -> Nullable<Text>,
        name -> Text,
        client_type -> Text,
        grant_types -> Text,
        allowed_scopes -> Text,
        default_scopes -> Text,
        can_introspect -> Bool,
        owner_id -> Integer,
        created_at -> BigInt,
        redirect_uris -> Text,
        post_logout_redirect_uris -> Text,
        skip_consent -> Bool,
    }
}

diesel::table! {
    access_tokens (token_hash) {
        issued_at -> BigInt,
        expires_at -> BigInt,
        revoked_at -> Nullable<BigInt>,
        application_id -> Integer,
        user_id -> Nullable<Integer>,
        credentials_version -> Integer,
        token_hash -> Binary,
        scope -> Text,
    }
}

diesel::table! {
    token_families (id) {
        id -> Text,
        application_id -> Integer,
        user_id -> Integer,
        credentials_version -> Integer,
        current_hash -> Nullable<Binary>,
        created_at -> BigInt,
        expires_at -> BigInt,
        revoked_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    refresh_tokens (id) {
        id -> BigInt,
        issued_at -> BigInt,
        expires_at -> BigInt,
        revoked_at -> Nullable<BigInt>,
        application_id -> Integer,
        user_id -> Integer,
        token_hash -> Binary,
        access_token_hash -> Nullable<Binary>,
        family_id -> Text,
        scope -> Text,
    }
}

diesel::table! {
    login_failures (id) {
        id -> BigInt,
        account -> Text,
        failed_at -> BigInt,
    }
}

diesel::table! {
    browser_sessions (id_hash) {
        id_hash -> Text,
        user_id -> Integer,
        credentials_version -> Integer,
        auth_time -> BigInt,
        created_at -> BigInt,
        expires_at -> BigInt,
    }
}

diesel::table! {
    authorization_codes (code_hash) {
        code_hash -> Binary,
        application_id -> Integer,
        user_id -> Integer,
        credentials_version -> Integer,
        redirect_uri -> Nullable<Text>,
        code_challenge -> Text,
        scope -> Text,
        nonce -> Nullable<Text>,
        auth_time -> BigInt,
        issued_at -> BigInt,
        expires_at -> BigInt,
        used_at -> Nullable<BigInt>,
        access_token_hash -> Nullable<Binary>,
        family_id -> Nullable<Text>,
    }
}

diesel::table! {
    consents (application_id, user_id) {
        application_id -> Integer,
        user_id -> Integer,
        scope -> Text,
        granted_at -> BigInt,
    }
}

diesel::table! {
    signing_keys (id) {
        id -> BigInt,
        kid -> Text,
        private_key_pem -> Text,
        created_at -> BigInt,
        retired_at -> Nullable<BigInt>,
    }
}

diesel::joinable!(applications -> users (owner_id));
diesel::joinable!(browser_sessions -> users (user_id));
diesel::joinable!(authorization_codes -> applications (application_id));
diesel::joinable!(consents -> applications (application_id));
diesel::joinable!(access_tokens -> applications (application_id));
diesel::joinable!(refresh_tokens -> applications (application_id));
diesel::joinable!(refresh_tokens -> token_families (family_id));
diesel::joinable!(token_families -> applications (application_id));

diesel::allow_tables_to_appear_in_same_query!(
    users,
    applications,
    access_tokens,
    refresh_tokens,
    token_families,
    login_failures,
    browser_sessions,
    authorization_codes,
    consents,
    signing_keys,
);
