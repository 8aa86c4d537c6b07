//! The client side of the List RPCs' paging: a listing that must see every
//! object follows `next_page_token` until it comes back empty.

use std::future::Future;

/// Every object of a paged listing. `list` is called with the page token to
/// send (empty first) and returns that page's objects and its
/// `next_page_token`.
pub async fn all_pages<T, E, F, Fut>(mut list: F) -> Result<Vec<T>, E>
where
    F: FnMut(String) -> Fut,
    Fut: Future<Output = Result<(Vec<T>, String), E>>,
{
    let mut all = Vec::new();
    let mut token = String::new();
    loop {
        let (items, next) = list(token).await?;
        all.extend(items);
        if next.is_empty() {
            return Ok(all);
        }
        token = next;
    }
}
