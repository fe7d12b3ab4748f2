use diesel::prelude::*;

use crate::login_names::{self, clash_on_unique_violation, email_not_blank, lower};
use crate::models::{NewUser, User, UserChanges};
use crate::page::{Page, Window};
use crate::schema::{group_permissions, permissions, user_groups, users};
use crate::{DbConnection, StoreError, StoreResult};

pub use crate::login_names::{LoginName, LoginNameClash};

/// Why a user could not be written: one of their login names is another account's, or the
/// database failed.
#[derive(Debug, thiserror::Error)]
pub enum UserWriteError {
    #[error(transparent)]
    Clash(#[from] LoginNameClash),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<diesel::result::Error> for UserWriteError {
    fn from(e: diesel::result::Error) -> Self {
        Self::Store(e.into())
    }
}

impl UserWriteError {
    fn from_write(e: diesel::result::Error) -> Self {
        match clash_on_unique_violation(e.into()) {
            Ok(clash) => Self::Clash(clash),
            Err(other) => Self::Store(other),
        }
    }
}

pub fn create(conn: &mut DbConnection, new: &NewUser) -> Result<User, UserWriteError> {
    create_in_groups(conn, new, &[])
}

/// Creates a user who is in these groups from the start, in one transaction.
pub fn create_in_groups(
    conn: &mut DbConnection,
    new: &NewUser,
    group_ids: &[i32],
) -> Result<User, UserWriteError> {
    login_names::serialized(conn, |conn| {
        if let Some(clash) = login_names::clash(conn, None, Some(&new.username), Some(&new.email))?
        {
            return Err(clash.into());
        }
        let user: User = diesel::insert_into(users::table)
            .values(new)
            .returning(users::all_columns)
            .get_result(conn)
            .map_err(UserWriteError::from_write)?;
        for group_id in group_ids {
            add_to_group(conn, user.id, *group_id)?;
        }
        Ok(user)
    })
}

pub fn find(conn: &mut DbConnection, id: i32) -> StoreResult<Option<User>> {
    Ok(on_concrete_connection!(conn, |c| users::table
        .find(id)
        .select(User::as_select())
        .get_result(c)
        .optional())?)
}

pub fn find_by_username(conn: &mut DbConnection, username: &str) -> StoreResult<Option<User>> {
    Ok(users::table
        .filter(users::username.eq(username))
        .select(User::as_select())
        .first(conn)
        .optional()?)
}

/// The account a login names: an exact username first, else a case-insensitive e-mail. The
/// rules of `login_names` make that at most one account.
pub fn find_by_login(conn: &mut DbConnection, login: &str) -> StoreResult<Option<User>> {
    if let Some(user) = find_by_username(conn, login)? {
        return Ok(Some(user));
    }
    if !login.contains('@') {
        return Ok(None);
    }
    // Both sides lowered by the database, as its unique index lowers e-mails.
    Ok(users::table
        .filter(email_not_blank())
        .filter(lower(users::email).eq(lower(login)))
        .select(User::as_select())
        .get_result(conn)
        .optional()?)
}

#[derive(Debug, Default, Clone)]
pub struct UserFilter {
    pub username: Option<String>,
    pub email: Option<String>,
}

pub fn list(
    conn: &mut DbConnection,
    filter: &UserFilter,
    window: Window,
) -> StoreResult<Page<User>> {
    let query = || {
        let mut q = users::table.into_boxed();
        if let Some(username) = &filter.username {
            q = q.filter(users::username.eq(username.clone()));
        }
        if let Some(email) = &filter.email {
            q = q.filter(users::email.eq(email.clone()));
        }
        q
    };
    let count = query().count().get_result(conn)?;
    let items = query()
        .order(users::id)
        .offset(window.offset)
        .limit(window.limit)
        .select(User::as_select())
        .load(conn)?;
    Ok(Page { items, count })
}

/// `None` when there is no such user. Setting a login name to what this user has already is no
/// clash.
pub fn update(
    conn: &mut DbConnection,
    id: i32,
    changes: &UserChanges,
) -> Result<Option<User>, UserWriteError> {
    let nothing_to_change = changes.username.is_none()
        && changes.email.is_none()
        && changes.first_name.is_none()
        && changes.last_name.is_none()
        && changes.password_hash.is_none();
    if nothing_to_change {
        return Ok(find(conn, id)?);
    }
    login_names::serialized(conn, |conn| {
        let (username, email) = (changes.username.as_deref(), changes.email.as_deref());
        if let Some(clash) = login_names::clash(conn, Some(id), username, email)? {
            return Err(clash.into());
        }
        let target = users::table.find(id);
        let updated = if changes.password_hash.is_some() {
            // A new password ends every session opened with the old one, in the same statement.
            diesel::update(target)
                .set((
                    changes,
                    users::credentials_version.eq(users::credentials_version + 1),
                ))
                .returning(users::all_columns)
                .get_result(conn)
        } else {
            diesel::update(target)
                .set(changes)
                .returning(users::all_columns)
                .get_result(conn)
        };
        updated.optional().map_err(UserWriteError::from_write)
    })
}

/// Activates or deactivates the user named `username`; deactivating ends every session they have.
/// `None` when there is no such user.
pub fn set_active(
    conn: &mut DbConnection,
    username: &str,
    active: bool,
) -> StoreResult<Option<User>> {
    let target = users::table.filter(users::username.eq(username));
    let updated = if active {
        diesel::update(target)
            .set(users::is_active.eq(true))
            .returning(users::all_columns)
            .get_result(conn)
    } else {
        diesel::update(target)
            .set((
                users::is_active.eq(false),
                users::credentials_version.eq(users::credentials_version + 1),
            ))
            .returning(users::all_columns)
            .get_result(conn)
    };
    Ok(updated.optional()?)
}

/// Replaces the stored hash of the same password (a new bcrypt cost), unless the password was
/// changed meanwhile: sessions stay, as the password is the same.
pub fn upgrade_password_hash(
    conn: &mut DbConnection,
    id: i32,
    old_hash: &str,
    new_hash: &str,
) -> StoreResult<bool> {
    let updated = diesel::update(
        users::table
            .find(id)
            .filter(users::password_hash.eq(old_hash)),
    )
    .set(users::password_hash.eq(new_hash))
    .execute(conn)?;
    Ok(updated == 1)
}

pub fn delete(conn: &mut DbConnection, id: i32) -> StoreResult<bool> {
    Ok(diesel::delete(users::table.find(id)).execute(conn)? > 0)
}

pub fn add_to_group(conn: &mut DbConnection, user_id: i32, group_id: i32) -> StoreResult<()> {
    let already = user_groups::table
        .find((user_id, group_id))
        .count()
        .get_result::<i64>(conn)?;
    if already == 0 {
        diesel::insert_into(user_groups::table)
            .values((
                user_groups::user_id.eq(user_id),
                user_groups::group_id.eq(group_id),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Django's `has_perm`: superusers hold every permission, others what their groups grant.
pub fn has_permission(conn: &mut DbConnection, user_id: i32, codename: &str) -> StoreResult<bool> {
    let Some((active, superuser)) = users::table
        .find(user_id)
        .select((users::is_active, users::is_superuser))
        .first::<(bool, bool)>(conn)
        .optional()?
    else {
        return Ok(false);
    };
    if !active {
        return Ok(false);
    }
    if superuser {
        return Ok(true);
    }
    let held = user_groups::table
        .inner_join(
            group_permissions::table.on(group_permissions::group_id.eq(user_groups::group_id)),
        )
        .inner_join(permissions::table.on(permissions::id.eq(group_permissions::permission_id)))
        .filter(user_groups::user_id.eq(user_id))
        .filter(permissions::codename.eq(codename))
        .count()
        .get_result::<i64>(conn)?;
    Ok(held > 0)
}
