/// One page of a list: the rows and the total count before paging.
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub count: i64,
}

/// Offset and limit of a page; built by the caller from validated page numbers.
#[derive(Debug, Clone, Copy)]
pub struct Window {
    pub offset: i64,
    pub limit: i64,
}
