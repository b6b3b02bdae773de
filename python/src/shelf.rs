//! Things that are slow to make (GPU backends, thread pools, swscale converters) kept between
//! calls: a call takes one matching its key off the shelf, or makes one, and puts it back when
//! done, so that calls at the same time on several Python threads each hold their own.

use std::sync::Mutex;

pub struct Shelf<K, T> {
    items: Mutex<Vec<(K, T)>>,
    /// Items kept at most; one put back beyond that is dropped.
    keep: usize,
}

impl<K: PartialEq, T> Shelf<K, T> {
    pub const fn new(keep: usize) -> Self {
        Shelf {
            items: Mutex::new(Vec::new()),
            keep,
        }
    }

    /// An item kept under `key`, taken off the shelf.
    pub fn take(&self, key: &K) -> Option<T> {
        let mut items = self.items.lock().ok()?;
        let at = items.iter().position(|(k, _)| k == key)?;
        Some(items.swap_remove(at).1)
    }

    /// Keeps `item` under `key` for a later call, while the shelf has room.
    pub fn put(&self, key: K, item: T) {
        if let Ok(mut items) = self.items.lock() {
            if items.len() < self.keep {
                items.push((key, item));
            }
        }
    }
}
