use diesel::prelude::*;

use crate::models::Group;
use crate::page::{Page, Window};
use crate::schema::{group_permissions, groups, permissions};
use crate::{DbConnection, StoreResult};

pub fn create(conn: &mut DbConnection, name: &str) -> StoreResult<Group> {
    Ok(diesel::insert_into(groups::table)
        .values(groups::name.eq(name))
        .returning(groups::all_columns)
        .get_result(conn)?)
}

pub fn find_by_name(conn: &mut DbConnection, name: &str) -> StoreResult<Option<Group>> {
    Ok(groups::table
        .filter(groups::name.eq(name))
        .select(Group::as_select())
        .first(conn)
        .optional()?)
}

pub fn list(conn: &mut DbConnection, window: Window) -> StoreResult<Page<Group>> {
    let count = groups::table.count().get_result(conn)?;
    let items = groups::table
        .order(groups::id)
        .offset(window.offset)
        .limit(window.limit)
        .select(Group::as_select())
        .load(conn)?;
    Ok(Page { items, count })
}

fn ensure_permission(conn: &mut DbConnection, codename: &str, name: &str) -> StoreResult<i32> {
    if let Some(id) = permissions::table
        .filter(permissions::codename.eq(codename))
        .select(permissions::id)
        .first(conn)
        .optional()?
    {
        return Ok(id);
    }
    Ok(diesel::insert_into(permissions::table)
        .values((
            permissions::codename.eq(codename),
            permissions::name.eq(name),
        ))
        .returning(permissions::id)
        .get_result(conn)?)
}

/// Creates the group and its permissions if missing and grants each permission once; running it
/// again changes nothing. Returns whether the group was new.
pub fn ensure_group_with_permissions(
    conn: &mut DbConnection,
    group: &str,
    codenames: &[String],
) -> StoreResult<bool> {
    conn.transaction(|conn| -> StoreResult<bool> {
        let (group_id, created) = match find_by_name(conn, group)? {
            Some(g) => (g.id, false),
            None => (create(conn, group)?.id, true),
        };
        for codename in codenames {
            let name = describe_permission(codename);
            let permission_id = ensure_permission(conn, codename, &name)?;
            let held = group_permissions::table
                .find((group_id, permission_id))
                .count()
                .get_result::<i64>(conn)?;
            if held == 0 {
                diesel::insert_into(group_permissions::table)
                    .values((
                        group_permissions::group_id.eq(group_id),
                        group_permissions::permission_id.eq(permission_id),
                    ))
                    .execute(conn)?;
            }
        }
        Ok(created)
    })
}

/// "add_album" -> "Can add album", as Django names them.
fn describe_permission(codename: &str) -> String {
    match codename.split_once('_') {
        Some((action, model)) => format!("Can {action} {model}"),
        None => codename.to_string(),
    }
}
