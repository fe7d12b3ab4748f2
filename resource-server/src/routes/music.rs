//! /albums/, /songs/ and the legacy /create/album/ and /update/album/{id}/ paths, which share
//! these handlers.

use crate::error::ApiError;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::NaiveDate;
use serde::Serialize;
use serde_json::{Map, Value};
use store::models::{Album, AlbumFields, Song, SongFields};
use store::StoreError;
use store::{music, users, Database, DbConnection};
use utoipa::openapi::schema::Schema;
use utoipa::ToSchema;

use super::object_id;
use crate::body::Body;
use crate::database::{read, run};
use crate::fields::{missing_object, Date, Field, Fields, Integer, PrimaryKey, Reference, Text};
use crate::pagination::{list_page, query_pairs};
use crate::schema::{input_body_schema, FieldSchema, InputBody};

const ARTIST: Field<PrimaryKey> = Field::required("artist", PrimaryKey { of: "a user's id" });
const ALBUM_NAME: Field<Text> = Field::required("name", Text::required(100));
const RELEASE_DATE: Field<Date> = Field::required("release_date", Date);
const NUM_STARS: Field<Integer> = Field::required("num_stars", Integer { min: 0, max: 5 });

const ALBUM: Field<PrimaryKey> = Field::required(
    "album",
    PrimaryKey {
        of: "an album's id",
    },
);
const TITLE: Field<Text> = Field::required("title", Text::required(100));
/// The column is a 32-bit integer.
const DURATION: Field<Integer> = Field::required(
    "duration_seconds",
    Integer {
        min: 0,
        max: i32::MAX as i64,
    },
);

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Album)]
pub struct AlbumBody {
    #[schema(read_only)]
    pub id: i32,
    #[schema(schema_with = shown_artist)]
    pub artist: i32,
    #[schema(schema_with = shown_album_name)]
    pub name: String,
    pub release_date: NaiveDate,
    #[schema(schema_with = shown_num_stars)]
    pub num_stars: i32,
}

// Albums and songs are only ever written through the rules above, so what is shown meets them.
fn shown_artist() -> Schema {
    ARTIST.schema()
}

fn shown_album_name() -> Schema {
    ALBUM_NAME.schema()
}

fn shown_num_stars() -> Schema {
    NUM_STARS.schema()
}

impl From<Album> for AlbumBody {
    fn from(a: Album) -> Self {
        Self {
            id: a.id,
            artist: a.artist_id,
            name: a.name,
            release_date: a.release_date,
            num_stars: a.num_stars,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Song)]
pub struct SongBody {
    #[schema(read_only)]
    pub id: i32,
    #[schema(schema_with = shown_album)]
    pub album: i32,
    #[schema(schema_with = shown_title)]
    pub title: String,
    #[schema(schema_with = shown_duration)]
    pub duration_seconds: i32,
}

fn shown_album() -> Schema {
    ALBUM.schema()
}

fn shown_title() -> Schema {
    TITLE.schema()
}

fn shown_duration() -> Schema {
    DURATION.schema()
}

impl From<Song> for SongBody {
    fn from(s: Song) -> Self {
        Self {
            id: s.id,
            album: s.album_id,
            title: s.title,
            duration_seconds: s.duration_seconds,
        }
    }
}

/// What POST /albums/ and PUT take, and, none of it required, PATCH; `None` is a field left out.
#[derive(Debug)]
pub struct AlbumInput {
    artist: Option<Reference>,
    name: Option<String>,
    release_date: Option<NaiveDate>,
    num_stars: Option<i64>,
}

impl InputBody for AlbumInput {
    const FIELDS: &'static [&'static dyn FieldSchema] =
        &[&ARTIST, &ALBUM_NAME, &RELEASE_DATE, &NUM_STARS];

    fn read(f: &mut Fields<'_>) -> Self {
        Self {
            artist: ARTIST.read(f),
            name: ALBUM_NAME.read(f),
            release_date: RELEASE_DATE.read(f),
            num_stars: NUM_STARS.read(f),
        }
    }
}

/// What POST /songs/ and PUT take; `None` is a field left out.
#[derive(Debug)]
pub struct SongInput {
    album: Option<Reference>,
    title: Option<String>,
    duration_seconds: Option<i64>,
}

impl InputBody for SongInput {
    const FIELDS: &'static [&'static dyn FieldSchema] = &[&ALBUM, &TITLE, &DURATION];

    fn read(f: &mut Fields<'_>) -> Self {
        Self {
            album: ALBUM.read(f),
            title: TITLE.read(f),
            duration_seconds: DURATION.read(f),
        }
    }
}

input_body_schema!(AlbumInput, SongInput);

/// Whether a write replaces every field (POST, PUT) or changes some (PATCH).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Write {
    Full,
    Partial,
}

/// The new value, or for a partial write the current one.
fn or_current<T>(new: Option<T>, current: Option<T>) -> Result<T, ApiError> {
    new.or(current).ok_or_else(|| {
        ApiError::Unexpected(anyhow::anyhow!("a validated full write is missing a field"))
    })
}

/// Checks that a referenced row exists, as DRF's PrimaryKeyRelatedField does while validating,
/// so its error joins the other field errors.
fn check_reference(
    f: &mut Fields<'_>,
    field: &Field<PrimaryKey>,
    reference: &Option<Reference>,
    exists: impl FnOnce(i32) -> Result<bool, ApiError>,
) -> Result<(), ApiError> {
    if let Some(r) = reference {
        let found = match r.id {
            Some(id) => exists(id)?,
            None => false,
        };
        if !found {
            f.error(field.name(), r.missing());
        }
    }
    Ok(())
}

/// A foreign key that vanished between the check and the write reads as the same field error.
fn missing_reference(
    field: &Field<PrimaryKey>,
    shown: String,
) -> impl FnOnce(StoreError) -> ApiError {
    let name = field.name();
    move |e| e.on_foreign_key_violation(|| ApiError::field(name, missing_object(&shown)))
}

fn album_fields(
    conn: &mut DbConnection,
    data: &Map<String, Value>,
    current: Option<&Album>,
    write: Write,
) -> Result<(AlbumFields, String), ApiError> {
    let mut f = Fields::new(data, write == Write::Partial);
    let input = AlbumInput::read(&mut f);
    check_reference(&mut f, &ARTIST, &input.artist, |id| {
        Ok(users::find(conn, id)?.is_some())
    })?;
    f.finish()?;
    let shown = input
        .artist
        .as_ref()
        .map(|r| r.shown.clone())
        .unwrap_or_default();
    let fields = AlbumFields {
        artist_id: or_current(
            input.artist.and_then(|r| r.id),
            current.map(|a| a.artist_id),
        )?,
        name: or_current(input.name, current.map(|a| a.name.clone()))?,
        release_date: or_current(input.release_date, current.map(|a| a.release_date))?,
        num_stars: or_current(
            input.num_stars.and_then(|n| i32::try_from(n).ok()),
            current.map(|a| a.num_stars),
        )?,
    };
    Ok((fields, shown))
}

fn song_fields(
    conn: &mut DbConnection,
    data: &Map<String, Value>,
    current: Option<&Song>,
    write: Write,
) -> Result<(SongFields, String), ApiError> {
    let mut f = Fields::new(data, write == Write::Partial);
    let input = SongInput::read(&mut f);
    check_reference(&mut f, &ALBUM, &input.album, |id| {
        Ok(music::find_album(conn, id)?.is_some())
    })?;
    f.finish()?;
    let shown = input
        .album
        .as_ref()
        .map(|r| r.shown.clone())
        .unwrap_or_default();
    let fields = SongFields {
        album_id: or_current(input.album.and_then(|r| r.id), current.map(|s| s.album_id))?,
        title: or_current(input.title, current.map(|s| s.title.clone()))?,
        duration_seconds: or_current(
            input.duration_seconds.and_then(|n| i32::try_from(n).ok()),
            current.map(|s| s.duration_seconds),
        )?,
    };
    Ok((fields, shown))
}

pub async fn list_albums(
    req: HttpRequest,
    pool: web::Data<Database>,
) -> actix_web::Result<HttpResponse> {
    let query = query_pairs(&req);
    list_page::<_, AlbumBody, _>(&req, &query, &pool, |conn, window| {
        Ok(music::list_albums(conn, window)?)
    })
    .await
}

pub async fn create_album(
    pool: web::Data<Database>,
    body: Body,
) -> actix_web::Result<HttpResponse> {
    let album = run(&pool, move |conn| {
        let (fields, shown) = album_fields(conn, &body.0, None, Write::Full)?;
        music::create_album(conn, &fields).map_err(missing_reference(&ARTIST, shown))
    })
    .await?;
    Ok(HttpResponse::Created().json(AlbumBody::from(album)))
}

pub async fn get_album(
    pool: web::Data<Database>,
    id: web::Path<String>,
) -> actix_web::Result<HttpResponse> {
    let id = object_id(&id)?;
    let album = read(&pool, move |conn| Ok(music::find_album(conn, id)?))
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(HttpResponse::Ok().json(AlbumBody::from(album)))
}

async fn write_album(
    pool: web::Data<Database>,
    id: &str,
    body: Body,
    write: Write,
) -> actix_web::Result<HttpResponse> {
    let id = object_id(id)?;
    let album = run(&pool, move |conn| {
        let current = music::find_album(conn, id)?.ok_or(ApiError::NotFound)?;
        let (fields, shown) = album_fields(conn, &body.0, Some(&current), write)?;
        music::update_album(conn, id, &fields)
            .map_err(missing_reference(&ARTIST, shown))?
            .ok_or(ApiError::NotFound)
    })
    .await?;
    Ok(HttpResponse::Ok().json(AlbumBody::from(album)))
}

pub async fn replace_album(
    pool: web::Data<Database>,
    id: web::Path<String>,
    body: Body,
) -> actix_web::Result<HttpResponse> {
    write_album(pool, &id, body, Write::Full).await
}

pub async fn update_album(
    pool: web::Data<Database>,
    id: web::Path<String>,
    body: Body,
) -> actix_web::Result<HttpResponse> {
    write_album(pool, &id, body, Write::Partial).await
}

pub async fn delete_album(
    pool: web::Data<Database>,
    id: web::Path<String>,
) -> actix_web::Result<HttpResponse> {
    let id = object_id(&id)?;
    if run(&pool, move |conn| Ok(music::delete_album(conn, id)?)).await? {
        Ok(HttpResponse::NoContent().finish())
    } else {
        Err(ApiError::NotFound.into())
    }
}

pub async fn list_songs(
    req: HttpRequest,
    pool: web::Data<Database>,
) -> actix_web::Result<HttpResponse> {
    let query = query_pairs(&req);
    list_page::<_, SongBody, _>(&req, &query, &pool, |conn, window| {
        Ok(music::list_songs(conn, window)?)
    })
    .await
}

pub async fn create_song(pool: web::Data<Database>, body: Body) -> actix_web::Result<HttpResponse> {
    let song = run(&pool, move |conn| {
        let (fields, shown) = song_fields(conn, &body.0, None, Write::Full)?;
        music::create_song(conn, &fields).map_err(missing_reference(&ALBUM, shown))
    })
    .await?;
    Ok(HttpResponse::Created().json(SongBody::from(song)))
}

pub async fn get_song(
    pool: web::Data<Database>,
    id: web::Path<String>,
) -> actix_web::Result<HttpResponse> {
    let id = object_id(&id)?;
    let song = read(&pool, move |conn| Ok(music::find_song(conn, id)?))
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(HttpResponse::Ok().json(SongBody::from(song)))
}

/// PUT only: the song detail's policy has no PATCH.
pub async fn replace_song(
    pool: web::Data<Database>,
    id: web::Path<String>,
    body: Body,
) -> actix_web::Result<HttpResponse> {
    let id = object_id(&id)?;
    let song = run(&pool, move |conn| {
        let current = music::find_song(conn, id)?.ok_or(ApiError::NotFound)?;
        let (fields, shown) = song_fields(conn, &body.0, Some(&current), Write::Full)?;
        music::update_song(conn, id, &fields)
            .map_err(missing_reference(&ALBUM, shown))?
            .ok_or(ApiError::NotFound)
    })
    .await?;
    Ok(HttpResponse::Ok().json(SongBody::from(song)))
}

pub async fn delete_song(
    pool: web::Data<Database>,
    id: web::Path<String>,
) -> actix_web::Result<HttpResponse> {
    let id = object_id(&id)?;
    if run(&pool, move |conn| Ok(music::delete_song(conn, id)?)).await? {
        Ok(HttpResponse::NoContent().finish())
    } else {
        Err(ApiError::NotFound.into())
    }
}
