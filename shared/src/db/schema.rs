//! The one schema both backends share (see `migrations/postgres` and `migrations/sqlite`).

diesel::table! {
    users (id) {
        id -> Integer,
        username -> Text,
        email -> Text,
        first_name -> Text,
        last_name -> Text,
        password_hash -> Text,
        is_active -> Bool,
        is_superuser -> Bool,
        date_joined -> BigInt,
    }
}

diesel::table! {
    groups (id) {
        id -> Integer,
        name -> Text,
    }
}

diesel::table! {
    permissions (id) {
        id -> Integer,
        codename -> Text,
        name -> Text,
    }
}

diesel::table! {
    user_groups (user_id, group_id) {
        user_id -> Integer,
        group_id -> Integer,
    }
}

diesel::table! {
    group_permissions (group_id, permission_id) {
        group_id -> Integer,
        permission_id -> Integer,
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
    }
}

diesel::table! {
    access_tokens (id) {
        id -> BigInt,
        token_hash -> Text,
        application_id -> Integer,
        user_id -> Nullable<Integer>,
        scope -> Text,
        issued_at -> BigInt,
        expires_at -> BigInt,
        revoked_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    refresh_tokens (id) {
        id -> BigInt,
        token_hash -> Text,
        access_token_id -> Nullable<BigInt>,
        application_id -> Integer,
        user_id -> Integer,
        family_id -> Text,
        scope -> Text,
        issued_at -> BigInt,
        expires_at -> BigInt,
        revoked_at -> Nullable<BigInt>,
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
    albums (id) {
        id -> Integer,
        artist_id -> Integer,
        name -> Text,
        release_date -> Date,
        num_stars -> Integer,
    }
}

diesel::table! {
    songs (id) {
        id -> Integer,
        album_id -> Integer,
        title -> Text,
        duration_seconds -> Integer,
    }
}

diesel::joinable!(user_groups -> users (user_id));
diesel::joinable!(user_groups -> groups (group_id));
diesel::joinable!(group_permissions -> groups (group_id));
diesel::joinable!(group_permissions -> permissions (permission_id));
diesel::joinable!(applications -> users (owner_id));
diesel::joinable!(access_tokens -> applications (application_id));
diesel::joinable!(refresh_tokens -> applications (application_id));
diesel::joinable!(albums -> users (artist_id));
diesel::joinable!(songs -> albums (album_id));

diesel::allow_tables_to_appear_in_same_query!(
    users,
    groups,
    permissions,
    user_groups,
    group_permissions,
    applications,
    access_tokens,
    refresh_tokens,
    login_failures,
    albums,
    songs,
);
