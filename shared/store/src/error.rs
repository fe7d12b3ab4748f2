//! How the database layer fails, split by what a service should answer: the database is away
//! (503), or something is wrong with the query or the code (500). Each service maps this one type
//! to its own wire errors with one `From` impl.

/// A failure of the database layer, split by whether retrying later could help.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database cannot be reached (pool timeout, connection lost): answer 503.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error(transparent)]
    Query(diesel::result::Error),
    /// The data-access code panicked, or its blocking task was cancelled: answer 500.
    #[error("a database task panicked or was cancelled")]
    Panicked,
}

impl StoreError {
    pub fn is_unique_violation(&self) -> bool {
        self.violates(diesel::result::DatabaseErrorKind::UniqueViolation)
    }

    pub fn is_foreign_key_violation(&self) -> bool {
        self.violates(diesel::result::DatabaseErrorKind::ForeignKeyViolation)
    }

    /// A write that broke a unique key is `conflict()` (a field error, a CLI message); any other
    /// failure keeps its meaning.
    pub fn on_unique_violation<E: From<Self>>(self, conflict: impl FnOnce() -> E) -> E {
        if self.is_unique_violation() {
            conflict()
        } else {
            self.into()
        }
    }

    /// A write whose referenced row vanished is `missing()`; any other failure keeps its meaning.
    pub fn on_foreign_key_violation<E: From<Self>>(self, missing: impl FnOnce() -> E) -> E {
        if self.is_foreign_key_violation() {
            missing()
        } else {
            self.into()
        }
    }

    /// The same failure for another caller of a batch that failed as a whole. diesel's errors
    /// cannot be cloned; a query error keeps its message and stays a 500.
    pub fn for_another(&self) -> Self {
        match self {
            Self::Unavailable(message) => Self::Unavailable(message.clone()),
            Self::Query(e) => Self::Query(diesel::result::Error::QueryBuilderError(
                e.to_string().into(),
            )),
            Self::Panicked => Self::Panicked,
        }
    }

    fn violates(&self, kind: diesel::result::DatabaseErrorKind) -> bool {
        matches!(self, Self::Query(diesel::result::Error::DatabaseError(k, _)) if *k == kind)
    }
}

impl From<diesel::result::Error> for StoreError {
    fn from(e: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind, Error};
        match e {
            Error::DatabaseError(
                DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
                info,
            ) => Self::Unavailable(info.message().to_string()),
            // SQLite reports a writer that waited out busy_timeout as "database is locked".
            Error::DatabaseError(_, ref info) if info.message().contains("database is locked") => {
                Self::Unavailable(info.message().to_string())
            }
            // A COMMIT that failed and could not be rolled back either: what matters is why the
            // commit failed, typically a connection lost at that very moment.
            Error::RollbackErrorOnCommit { commit_error, .. } => Self::from(*commit_error),
            // Diesel gives up on a connection whose rollback failed, which in practice means the
            // connection is gone; the pool discards it and the next request gets a fresh one.
            Error::BrokenTransactionManager => {
                Self::Unavailable("the connection broke during a transaction".into())
            }
            other => Self::Query(other),
        }
    }
}

impl From<r2d2::Error> for StoreError {
    fn from(e: r2d2::Error) -> Self {
        Self::Unavailable(e.to_string())
    }
}

/// What every query of the store returns.
pub type StoreResult<T> = Result<T, StoreError>;

#[cfg(test)]
mod tests {
    use diesel::result::{DatabaseErrorKind, Error};

    use super::*;

    #[test]
    fn a_connection_lost_at_commit_is_unavailable_not_a_query_error() {
        let lost = Error::RollbackErrorOnCommit {
            rollback_error: Box::new(Error::BrokenTransactionManager),
            commit_error: Box::new(Error::DatabaseError(
                DatabaseErrorKind::ClosedConnection,
                Box::new("server closed the connection unexpectedly".to_string()),
            )),
        };
        assert!(matches!(StoreError::from(lost), StoreError::Unavailable(_)));
        assert!(matches!(
            StoreError::from(Error::BrokenTransactionManager),
            StoreError::Unavailable(_)
        ));
        let constraint = Error::RollbackErrorOnCommit {
            rollback_error: Box::new(Error::BrokenTransactionManager),
            commit_error: Box::new(Error::DatabaseError(
                DatabaseErrorKind::SerializationFailure,
                Box::new("could not serialize".to_string()),
            )),
        };
        assert!(matches!(StoreError::from(constraint), StoreError::Query(_)));
    }
}
