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

use super::object_id;
use crate::body::Body;
use crate::database::{read, run};
use crate::fields::{missing_object, Fields, Reference, Text};
use crate::pagination::{list_page, query_pairs};

#[derive(Debug, Serialize)]
pub struct AlbumBody {
    pub id: i32,
    pub artist: i32,
    pub name: String,
    pub release_date: NaiveDate,
    pub num_stars: i32,
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

#[derive(Debug, Serialize)]
pub struct SongBody {
    pub id: i32,
    pub album: i32,
    pub title: String,
    pub duration_seconds: i32,
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
    field: &str,
    reference: &Option<Reference>,
    exists: impl FnOnce(i32) -> Result<bool, ApiError>,
) -> Result<(), ApiError> {
    if let Some(r) = reference {
        let found = match r.id {
            Some(id) => exists(id)?,
            None => false,
        };
        if !found {
            f.error(field, r.missing());
        }
    }
    Ok(())
}

/// A foreign key that vanished between the check and the write reads as the same field error.
fn missing_reference(field: &'static str, shown: String) -> impl FnOnce(StoreError) -> ApiError {
    move |e| e.on_foreign_key_violation(|| ApiError::field(field, missing_object(&shown)))
}

fn album_fields(
    conn: &mut DbConnection,
    data: &Map<String, Value>,
    current: Option<&Album>,
    write: Write,
) -> Result<(AlbumFields, String), ApiError> {
    let mut f = Fields::new(data, write == Write::Partial);
    let artist = f.reference("artist");
    let name = f.text("name", true, Text::required(100));
    let release_date = f.date("release_date");
    let num_stars = f.integer("num_stars", 0, 5);
    check_reference(&mut f, "artist", &artist, |id| {
        Ok(users::find(conn, id)?.is_some())
    })?;
    f.finish()?;
    let shown = artist.as_ref().map(|r| r.shown.clone()).unwrap_or_default();
    let fields = AlbumFields {
        artist_id: or_current(artist.and_then(|r| r.id), current.map(|a| a.artist_id))?,
        name: or_current(name, current.map(|a| a.name.clone()))?,
        release_date: or_current(release_date, current.map(|a| a.release_date))?,
        num_stars: or_current(
            num_stars.and_then(|n| i32::try_from(n).ok()),
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
    let album = f.reference("album");
    let title = f.text("title", true, Text::required(100));
    let duration = f.integer("duration_seconds", 0, i64::from(i32::MAX));
    check_reference(&mut f, "album", &album, |id| {
        Ok(music::find_album(conn, id)?.is_some())
    })?;
    f.finish()?;
    let shown = album.as_ref().map(|r| r.shown.clone()).unwrap_or_default();
    let fields = SongFields {
        album_id: or_current(album.and_then(|r| r.id), current.map(|s| s.album_id))?,
        title: or_current(title, current.map(|s| s.title.clone()))?,
        duration_seconds: or_current(
            duration.and_then(|n| i32::try_from(n).ok()),
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
        music::create_album(conn, &fields).map_err(missing_reference("artist", shown))
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
            .map_err(missing_reference("artist", shown))?
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
        music::create_song(conn, &fields).map_err(missing_reference("album", shown))
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
            .map_err(missing_reference("album", shown))?
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
