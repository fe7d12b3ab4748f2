//! The tables both services own (see `migrations/postgres` and `migrations/sqlite`, which create
//! every table of the one database). The auth server's tables are declared in `auth-store`.

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
        credentials_version -> Integer,
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
diesel::joinable!(albums -> users (artist_id));
diesel::joinable!(songs -> albums (album_id));

diesel::allow_tables_to_appear_in_same_query!(
    users,
    groups,
    permissions,
    user_groups,
    group_permissions,
    albums,
    songs,
);
