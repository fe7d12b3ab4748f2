//! Rows as the database holds them. Wire shapes live with the services, so no hash ever leaves
//! through a `Serialize` derived here.

use chrono::NaiveDate;
use diesel::prelude::*;

use crate::schema::*;

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = users)]
pub struct User {
    pub id: i32,
    pub username: String,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub password_hash: String,
    pub is_active: bool,
    pub is_superuser: bool,
    pub date_joined: i64,
    /// Bumped by every password change and deactivation: tokens issued under an older value are
    /// dead.
    pub credentials_version: i32,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = users)]
pub struct NewUser {
    pub username: String,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub password_hash: String,
    pub is_active: bool,
    pub is_superuser: bool,
    pub date_joined: i64,
}

/// A partial update: `None` leaves the column as it is.
#[derive(Debug, Clone, Default, AsChangeset)]
#[diesel(table_name = users)]
pub struct UserChanges {
    pub username: Option<String>,
    pub email: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub password_hash: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = groups)]
pub struct Group {
    pub id: i32,
    pub name: String,
}

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = albums)]
pub struct Album {
    pub id: i32,
    pub artist_id: i32,
    pub name: String,
    pub release_date: NaiveDate,
    pub num_stars: i32,
}

#[derive(Debug, Clone, Insertable, AsChangeset)]
#[diesel(table_name = albums)]
pub struct AlbumFields {
    pub artist_id: i32,
    pub name: String,
    pub release_date: NaiveDate,
    pub num_stars: i32,
}

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = songs)]
pub struct Song {
    pub id: i32,
    pub album_id: i32,
    pub title: String,
    pub duration_seconds: i32,
}

#[derive(Debug, Clone, Insertable, AsChangeset)]
#[diesel(table_name = songs)]
pub struct SongFields {
    pub album_id: i32,
    pub title: String,
    pub duration_seconds: i32,
}
