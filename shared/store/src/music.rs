use diesel::prelude::*;

use crate::models::{Album, AlbumFields, Song, SongFields};
use crate::page::{Page, Window};
use crate::schema::{albums, songs};
use crate::{DbConnection, StoreResult};

pub fn create_album(conn: &mut DbConnection, fields: &AlbumFields) -> StoreResult<Album> {
    Ok(diesel::insert_into(albums::table)
        .values(fields)
        .returning(albums::all_columns)
        .get_result(conn)?)
}

pub fn find_album(conn: &mut DbConnection, id: i32) -> StoreResult<Option<Album>> {
    Ok(albums::table
        .find(id)
        .select(Album::as_select())
        .first(conn)
        .optional()?)
}

pub fn list_albums(conn: &mut DbConnection, window: Window) -> StoreResult<Page<Album>> {
    let count = albums::table.count().get_result(conn)?;
    let items = albums::table
        .order(albums::id)
        .offset(window.offset)
        .limit(window.limit)
        .select(Album::as_select())
        .load(conn)?;
    Ok(Page { items, count })
}

pub fn update_album(
    conn: &mut DbConnection,
    id: i32,
    fields: &AlbumFields,
) -> StoreResult<Option<Album>> {
    Ok(diesel::update(albums::table.find(id))
        .set(fields)
        .returning(albums::all_columns)
        .get_result(conn)
        .optional()?)
}

pub fn delete_album(conn: &mut DbConnection, id: i32) -> StoreResult<bool> {
    Ok(diesel::delete(albums::table.find(id)).execute(conn)? > 0)
}

pub fn create_song(conn: &mut DbConnection, fields: &SongFields) -> StoreResult<Song> {
    Ok(diesel::insert_into(songs::table)
        .values(fields)
        .returning(songs::all_columns)
        .get_result(conn)?)
}

pub fn find_song(conn: &mut DbConnection, id: i32) -> StoreResult<Option<Song>> {
    Ok(songs::table
        .find(id)
        .select(Song::as_select())
        .first(conn)
        .optional()?)
}

pub fn list_songs(conn: &mut DbConnection, window: Window) -> StoreResult<Page<Song>> {
    let count = songs::table.count().get_result(conn)?;
    let items = songs::table
        .order(songs::id)
        .offset(window.offset)
        .limit(window.limit)
        .select(Song::as_select())
        .load(conn)?;
    Ok(Page { items, count })
}

pub fn update_song(
    conn: &mut DbConnection,
    id: i32,
    fields: &SongFields,
) -> StoreResult<Option<Song>> {
    Ok(diesel::update(songs::table.find(id))
        .set(fields)
        .returning(songs::all_columns)
        .get_result(conn)
        .optional()?)
}

pub fn delete_song(conn: &mut DbConnection, id: i32) -> StoreResult<bool> {
    Ok(diesel::delete(songs::table.find(id)).execute(conn)? > 0)
}
