use diesel::prelude::*;

use crate::models::{Application, NewApplication};
use crate::schema::applications;
use store::{on_concrete_connection, DbConnection, StoreResult};

pub fn create(conn: &mut DbConnection, new: &NewApplication) -> StoreResult<Application> {
    Ok(diesel::insert_into(applications::table)
        .values(new)
        .returning(applications::all_columns)
        .get_result(conn)?)
}

pub fn find_by_client_id(
    conn: &mut DbConnection,
    client_id: &str,
) -> StoreResult<Option<Application>> {
    Ok(on_concrete_connection!(conn, |c| applications::table
        .filter(applications::client_id.eq(client_id))
        .select(Application::as_select())
        .get_result(c)
        .optional())?)
}

pub fn find(conn: &mut DbConnection, id: i32) -> StoreResult<Option<Application>> {
    Ok(applications::table
        .find(id)
        .select(Application::as_select())
        .first(conn)
        .optional()?)
}

pub fn list(conn: &mut DbConnection) -> StoreResult<Vec<Application>> {
    Ok(applications::table
        .order(applications::id)
        .select(Application::as_select())
        .load(conn)?)
}

pub fn set_secret_hash(conn: &mut DbConnection, client_id: &str, hash: &str) -> StoreResult<bool> {
    let changed = diesel::update(applications::table.filter(applications::client_id.eq(client_id)))
        .set(applications::client_secret_hash.eq(Some(hash)))
        .execute(conn)?;
    Ok(changed > 0)
}

/// Deletes the application; its tokens go with it (ON DELETE CASCADE).
pub fn delete_by_client_id(conn: &mut DbConnection, client_id: &str) -> StoreResult<bool> {
    let deleted = diesel::delete(applications::table.filter(applications::client_id.eq(client_id)))
        .execute(conn)?;
    Ok(deleted > 0)
}

/// Every client's registered redirect URIs, space-separated as stored; clients without any are
/// left out.
pub fn all_redirect_uris(conn: &mut DbConnection) -> StoreResult<Vec<String>> {
    Ok(applications::table
        .filter(applications::redirect_uris.ne(""))
        .select(applications::redirect_uris)
        .load(conn)?)
}
